"""Near-duplicate detection: character n-gram Jaccard similarity of normalised text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from harness.store.db import Store
from harness.store.examples import iter_examples
from harness.types import Part

DEFAULT_THRESHOLD = 0.85
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Return text folded for comparison: NFKC, case-folded, punctuation and spacing collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """Return the set of character n-grams of normalised text (the text itself if shorter)."""
    t = normalise(text)
    if len(t) <= n:
        return frozenset([t])
    return frozenset(t[i : i + n] for i in range(len(t) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Return |a & b| / |a | b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def parts_text(parts: Iterable[Part] | None) -> str:
    """Return the text of the text, label and bytes parts of a prompt or answer."""
    out = []
    for p in parts or []:
        if p.text is not None:
            out.append(p.text)
        elif p.label is not None:
            out.append(p.label)
    return "\n".join(out)


class Deduper:
    """Remembers pairs and tells whether a new one is a near-duplicate of any of them."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, n: int = 3) -> None:
        self.threshold = threshold
        self.n = n
        self._sets: list[frozenset[str]] = []

    def __len__(self) -> int:
        return len(self._sets)

    def _key(self, prompt: str, answer: str) -> frozenset[str]:
        return shingles(f"{prompt}\n{answer}", self.n)

    def add(self, prompt: str, answer: str) -> None:
        """Remember a pair."""
        self._sets.append(self._key(prompt, answer))

    def is_near(self, prompt: str, answer: str) -> bool:
        """Return True if the pair's similarity to a remembered one reaches the threshold."""
        key = self._key(prompt, answer)
        size, t = len(key), self.threshold
        for other in self._sets:
            small, big = sorted((size, len(other)))
            if big and small / big < t:  # Jaccard cannot reach t with sizes this far apart
                continue
            if jaccard(key, other) >= t:
                return True
        return False

    @classmethod
    def of_task(cls, store: Store, task: str, threshold: float = DEFAULT_THRESHOLD) -> Deduper:
        """Return a deduper holding every example of a task (all splits)."""
        d = cls(threshold)
        for ex in iter_examples(store, task):
            d.add(parts_text(ex.prompt), parts_text(ex.answer))
        return d
