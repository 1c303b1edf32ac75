"""Sentiment of a message (VADER, offline lexicon): the weak signal the chat tags replies with."""

from __future__ import annotations

import functools
import threading
from typing import Any

#: only the first characters of a long message are scored (VADER is linear but not free)
MAX_CHARS = 4000
_lock = threading.Lock()


@functools.cache
def analyzer() -> Any:
    """Return the shared VADER analyser (its lexicon is read once, from the package)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score(text: str) -> float:
    """Return VADER's compound score of `text` in [-1, 1] (0 for empty text)."""
    if not text or not text.strip():
        return 0.0
    with _lock:  # the first call builds the analyser; VADER itself keeps no per-call state
        vader = analyzer()
    return float(vader.polarity_scores(text[:MAX_CHARS])["compound"])
