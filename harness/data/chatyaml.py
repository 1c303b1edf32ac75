"""Chit-chat YAML (chatterbot corpus): each conversation's consecutive turns become pairs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import yaml

from harness.config import TaskConfig
from harness.data.importer import FileReport, Record
from harness.data.textfile import read_text_file
from harness.errors import DataError
from harness.types import Example, Part


class ChatYamlImporter:
    """YAML with `conversations: [[turn, reply, ...], ...]`."""

    name: ClassVar[str] = "yaml"
    kinds: ClassVar[tuple[str, ...]] = ("text",)

    def accepts(self, path: Path) -> bool:
        """Accept .yml / .yaml files."""
        return path.is_file() and path.suffix.lower() in (".yml", ".yaml")

    def read(self, path: Path, task: TaskConfig, report: FileReport) -> Iterator[Record]:
        """Yield (turn -> next turn) pairs of every conversation."""
        try:
            doc = yaml.safe_load(read_text_file(path))
        except yaml.YAMLError as exc:
            raise DataError(f"{path} is not valid YAML: {exc}", "fix the YAML syntax") from exc
        convs = doc.get("conversations") if isinstance(doc, dict) else None
        if not isinstance(convs, list):
            raise DataError(f"{path} has no 'conversations' list",
                            "use the chatterbot layout: conversations: [[question, answer], ...]")
        for i, conv in enumerate(convs):
            turns = [str(t) for t in conv] if isinstance(conv, list) else []
            if len(turns) < 2:
                report.problems.append(f"conversation {i + 1}: fewer than two turns")
                continue
            for prompt, answer in zip(turns, turns[1:], strict=False):
                ex = Example([Part.of_text(prompt)], [Part.of_text(answer)], task=task.name,
                             source="corpus")
                yield Record(ex, key=prompt)
