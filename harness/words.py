"""Words for people: a count with its noun in the right number."""

from __future__ import annotations


def plural(noun: str) -> str:
    """Return the plural of an English noun: "units", "benches", "processes", "modalities"."""
    if noun.endswith(("s", "sh", "ch", "x", "z")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return noun[:-1] + "ies"
    return noun + "s"


def counted(n: int, noun: str) -> str:
    """Return "1 unit", "12 units", "3 modalities": a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else plural(noun)}"
