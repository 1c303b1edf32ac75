"""JSONL files of prompt/response pairs or chat messages; broken lines reported by number."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from harness.config import TaskConfig
from harness.data.importer import FileReport, Record
from harness.data.textfile import read_text_file
from harness.types import Example, Part

PROMPT_KEYS = ("prompt", "input", "question", "instruction", "user")
ANSWER_KEYS = ("response", "completion", "output", "answer", "assistant")


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        if isinstance(obj.get(k), str):
            return str(obj[k])
    return None


def pairs_from_messages(messages: list[Any]) -> list[tuple[str, str]]:
    """Return (user, assistant) pairs from a list of {role, content} chat messages."""
    pairs = []
    last_user: str | None = None
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            continue
        if m.get("role") == "user":
            last_user = m["content"]
        elif m.get("role") == "assistant" and last_user is not None:
            pairs.append((last_user, m["content"]))
            last_user = None
    return pairs


class JsonlImporter:
    """One JSON object per line: {prompt, response}-style pairs or {messages: [...]}."""

    name: ClassVar[str] = "jsonl"
    kinds: ClassVar[tuple[str, ...]] = ("text",)

    def accepts(self, path: Path) -> bool:
        """Accept .jsonl / .ndjson files."""
        return path.is_file() and path.suffix.lower() in (".jsonl", ".ndjson")

    def read(self, path: Path, task: TaskConfig, report: FileReport) -> Iterator[Record]:
        """Yield a pair example per good line; report bad lines and keep going."""
        for lineno, line in enumerate(read_text_file(path).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                report.problems.append(f"line {lineno}: not JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                kind = type(obj).__name__
                report.problems.append(f"line {lineno}: expected an object, got {kind}")
                continue
            if isinstance(obj.get("messages"), list):
                pairs = pairs_from_messages(obj["messages"])
            else:
                p, a = _first(obj, PROMPT_KEYS), _first(obj, ANSWER_KEYS)
                pairs = [(p, a)] if p is not None and a is not None else []
            if not pairs:
                report.problems.append(
                    f"line {lineno}: no prompt/response pair (use keys prompt+response, "
                    "or messages with user and assistant roles)")
                continue
            for prompt, answer in pairs:
                ex = Example([Part.of_text(prompt)], [Part.of_text(answer)], task=task.name,
                             source="corpus")
                yield Record(ex, key=prompt)
