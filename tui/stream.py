"""Streamed reply text handed from the generating thread to the UI without blocking either."""

from __future__ import annotations

import threading
from collections.abc import Callable


class PieceBuffer:
    """Pieces pile up here; the UI takes them all at once whenever it gets to it.

    The generating thread never waits for the screen: `push` only signals the UI (through
    `wake`, e.g. a thread-safe post_message) when the buffer was empty, so a slow screen gets
    one update for many pieces and a slow model gets one update per piece.
    """

    def __init__(self, wake: Callable[[], object]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._pieces: list[str] = []

    def push(self, piece: str) -> None:
        """Add a piece (from the generating thread); wake the UI if it was not already."""
        with self._lock:
            first = not self._pieces
            self._pieces.append(piece)
        if first:
            self._wake()

    def take(self) -> str:
        """Return and clear everything pushed so far (on the UI thread)."""
        with self._lock:
            text = "".join(self._pieces)
            self._pieces.clear()
        return text
