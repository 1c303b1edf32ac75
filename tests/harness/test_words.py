"""Counts read as English: the noun takes the number's form."""

from __future__ import annotations

import pytest

from harness.words import counted


@pytest.mark.parametrize(("n", "noun", "words"), [
    (1, "check", "1 check"), (12, "unit", "12 units"), (3, "modality", "3 modalities"),
    (8, "bench", "8 benches"), (2, "evaluation process", "2 evaluation processes"),
    (2, "input device", "2 input devices"), (2, "key", "2 keys"), (0, "entry", "0 entries"),
    (4, "box", "4 boxes"), (1, "request", "1 request"),
])  # fmt: skip
def test_counted_puts_the_noun_in_the_right_number(n: int, noun: str, words: str) -> None:
    """One noun stays singular; others take s, es or ies by the usual rules."""
    assert counted(n, noun) == words
