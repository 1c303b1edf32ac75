"""Read what teachers answer: JSON pairs (schema-checked), 'Q: ... A: ...' text, judge scores."""

from __future__ import annotations

import json
import re
from typing import Any

from teachers.base import Malformed

MAX_CHARS = 2000
PAIR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pairs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"prompt": {"type": "string"}, "answer": {"type": "string"}},
                "required": ["prompt", "answer"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["pairs"],
    "additionalProperties": False,
}
SCORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
    "additionalProperties": False,
}
PROMPT_KEYS = ("prompt", "question", "q", "input", "user", "instruction")
ANSWER_KEYS = ("answer", "response", "a", "output", "assistant", "reply", "completion")
_Q = r"(?:q|question|prompt|user|input)"
_A = r"(?:a|answer|response|assistant|output|reply)"
_LABEL = re.compile(rf"^\s*(?:[-*]\s*|\d+[.)]\s*)?\**\s*({_Q}|{_A})\s*\**\s*[:：]\**\s*(.*)$", re.I)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)


def extract_json(text: str) -> Any | None:
    """Return the first JSON value in text: the whole text, a ``` fence, or an embedded object."""
    candidates = [text.strip(), *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for c in candidates:
        try:
            return json.loads(c)
        except ValueError:
            pass
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                return decoder.raw_decode(text, i)[0]
            except ValueError:
                continue
    return None


def _pick(item: dict[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = {str(k).lower(): v for k, v in item.items()}
    return next((lowered[k] for k in keys if k in lowered), None)


def _json_pairs(data: Any) -> list[tuple[Any, Any]] | None:
    """Return raw (prompt, answer) items from parsed JSON, or None if it holds no pair list."""
    if isinstance(data, dict):
        items = data.get("pairs", data.get("examples", data.get("data")))
        if items is None and (_pick(data, PROMPT_KEYS) is not None):
            items = [data]
    else:
        items = data
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append((_pick(item, PROMPT_KEYS), _pick(item, ANSWER_KEYS)))
        elif isinstance(item, list) and len(item) == 2:
            out.append((item[0], item[1]))
        else:
            out.append((None, None))
    return out


def _text_pairs(text: str) -> list[tuple[Any, Any]]:
    """Return pairs written as labelled lines ('Q: ...' / 'A: ...', answers may span lines)."""
    out: list[tuple[Any, Any]] = []
    prompt: list[str] | None = None
    answer: list[str] | None = None

    def flush() -> None:
        if prompt is not None and answer is not None:
            out.append(("\n".join(prompt).strip(), "\n".join(answer).strip()))

    for line in text.splitlines():
        m = _LABEL.match(line)
        if m and re.fullmatch(_Q, m.group(1), re.I):
            flush()
            prompt, answer = [m.group(2)], None
        elif m and prompt is not None:
            answer = [m.group(2)]
        elif answer is not None:
            answer.append(line)
        elif prompt is not None:
            prompt.append(line)
    flush()
    return out


def valid_pair(prompt: Any, answer: Any) -> tuple[str, str] | None:
    """Return the stripped pair if both sides are non-empty strings of at most MAX_CHARS."""
    if not isinstance(prompt, str) or not isinstance(answer, str):
        return None
    p, a = prompt.strip(), answer.strip()
    if not p or not a or len(p) > MAX_CHARS or len(a) > MAX_CHARS:
        return None
    return p, a


def parse_pairs(text: str) -> tuple[list[tuple[str, str]], int]:
    """Return (valid pairs, rejected count) from a reply; raise Malformed when none is valid."""
    raw = _json_pairs(extract_json(text))
    if not raw:
        raw = _text_pairs(text)
    pairs = [p for p in (valid_pair(a, b) for a, b in raw) if p is not None]
    if not pairs:
        preview = " ".join(text.split())[:80]
        raise Malformed(f"no prompt/answer pairs in the answer ({preview!r})",
                        "use a model that follows instructions, or add a micro-model teacher "
                        "with --mode distill")  # fmt: skip
    return pairs, len(raw) - len(pairs)


_SCORE = re.compile(r"score\W{0,5}([-+]?\d+(?:\.\d+)?)", re.I)
_RATIO = re.compile(r"([-+]?\d+(?:\.\d+)?)\s*(?:/|out of)\s*(\d+)", re.I)
_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\b")


def parse_score(text: str, low: float, high: float) -> tuple[float, str]:
    """Return (score, reason) from a judge's reply; raise Malformed if no score in range."""
    data = extract_json(text)
    score: Any = None
    reason = ""
    if isinstance(data, dict):
        score, reason = data.get("score"), str(data.get("reason") or "")
    if not isinstance(score, (int, float)) or isinstance(score, bool):
        m = _SCORE.search(text) or _RATIO.search(text) or _NUMBER.search(text)
        score = float(m.group(1)) if m else None
        reason = reason or " ".join(text.split())[:300]
    if score is None or not low <= float(score) <= high:
        preview = " ".join(text.split())[:80]
        raise Malformed(f"no score from {low:g} to {high:g} in the answer ({preview!r})")
    return float(score), reason
