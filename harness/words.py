"""Words for people: a count with its noun in the right number."""

from __future__ import annotations

#: plurals that are not the noun plus "s"
PLURALS = {"modality": "modalities", "bench": "benches", "input device": "input devices"}


def counted(n: int, noun: str) -> str:
    """Return "1 unit", "12 units", "3 modalities": a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else PLURALS.get(noun, noun + 's')}"
