"""Generation and training take turns on one model: a reply never sees adapters change mid-way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ModelGate:
    """Replies (any number at once) exclude training steps; a waiting reply goes first.

    Unlike a lock, the gate may be entered in one thread and left in another (a reply generator
    can be created by one thread and drained by another).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._waiting = 0
        self._training = False

    @contextmanager
    def generating(self) -> Iterator[None]:
        """Hold the model for reading (a reply, a likelihood) until the block ends."""
        with self._cond:
            self._waiting += 1
            try:
                self._cond.wait_for(lambda: not self._training)
            finally:
                self._waiting -= 1
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def training(self) -> Iterator[None]:
        """Hold the model for one training step (or a model swap) until the block ends."""
        with self._cond:
            self._cond.wait_for(lambda: not (self._training or self._readers or self._waiting))
            self._training = True
        try:
            yield
        finally:
            with self._cond:
                self._training = False
                self._cond.notify_all()

    @property
    def reply_wanted(self) -> bool:
        """Return True while a reply is generated or waits to start (training should pause)."""
        return bool(self._readers or self._waiting)
