"""The chat session as the app sees it: harness.chat.session.ChatSession fits this protocol."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol


class LearnReportLike(Protocol):
    """What one online-learning step reports (harness.online's LearnReport)."""

    signal: str
    message_id: str
    steps: int
    millis: float
    loss_before: float | None
    loss_after: float | None


class SessionLike(Protocol):
    """The headless chat core the app drives."""

    model_label: str
    last_reply_id: str | None

    @property
    def conversation_id(self) -> str:
        """Return the current conversation's id."""
        ...

    def new_conversation(self) -> str:
        """Start a conversation and return its id."""
        ...

    def conversations(self, query: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Return past conversations, newest first, optionally matching a search."""
        ...

    def open_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """Switch to a conversation and return its messages."""
        ...

    def send(self, text: str, parts: list[Any] | None = None) -> str:
        """Store the person's message (with image/audio parts) and return its id."""
        ...

    def reply(self, stop: threading.Event | None = None) -> Iterator[str]:
        """Stream the model's reply as text pieces."""
        ...

    def rate(self, message_id: str, value: int) -> None:
        """Store a rating (+1 or -1); committed when it returns."""
        ...

    def tag(self, message_id: str, tag: str) -> None:
        """Tag a reply."""
        ...

    def correct(self, message_id: str, text: str) -> str:
        """Store the reply that should have been given; return its id."""
        ...

    def close(self) -> None:
        """Release the model and the store."""
        ...


#: Builds a session for an open profile; the app passes sentiment and on_learned.
SessionFactory = Callable[..., SessionLike]
