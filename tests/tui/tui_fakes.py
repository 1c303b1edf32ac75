"""A scripted chat session for UI tests: fixed replies, real rows in the profile's store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.profile import Profile
from harness.store import records


@dataclass
class Report:
    """A learning report like harness.online's LearnReport."""

    signal: str
    message_id: str
    steps: int
    millis: float
    loss_before: float | None
    loss_after: float | None


class ScriptedSession:
    """Replies with fixed text piece by piece; stores messages and signals like the real one."""

    model_label = "scripted-1k"

    def __init__(self, profile: Profile, *, device: Any = None, seed: int = 0,
                 sentiment: Callable[[str], float] | None = None,
                 on_learned: Callable[[Report], None] | None = None,
                 replies: list[str] | None = None, delay: float = 0.0,
                 fail: bool = False, gate: threading.Event | None = None) -> None:
        self.profile = profile
        self.store = profile.store
        self.sentiment = sentiment
        self.on_learned = on_learned
        self.replies = replies or ["Hello! I am a [bold]tiny[/bold] model."]
        self.delay = delay
        self.fail = fail
        self.gate = gate
        self.turn = 0
        self.conversation_id = records.add_conversation(self.store, "")
        self.last_reply_id: str | None = None
        self.closed = False

    def new_conversation(self) -> str:
        """Start a new conversation."""
        self.conversation_id = records.add_conversation(self.store, "")
        self.last_reply_id = None
        return self.conversation_id

    def conversations(self, query: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Return conversations whose messages contain the query."""
        rows = self.store.query(
            "SELECT c.id, c.title, c.created_at, c.updated_at, "
            "(SELECT text FROM messages m WHERE m.conversation_id = c.id ORDER BY created_at "
            "LIMIT 1) AS preview, (SELECT count(*) FROM messages m WHERE m.conversation_id = "
            "c.id) AS messages FROM conversations c WHERE EXISTS (SELECT 1 FROM messages m WHERE "
            "m.conversation_id = c.id) ORDER BY c.updated_at DESC LIMIT ?", [limit])
        if query:
            rows = [r for r in rows if self.store.query(
                "SELECT 1 FROM messages WHERE conversation_id = ? AND text LIKE ?",
                [r["id"], f"%{query}%"])]
        return rows

    def open_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """Switch to a conversation and return its messages."""
        self.conversation_id = conversation_id
        rows = self.store.query("SELECT id, role, text, created_at FROM messages WHERE "
                                "conversation_id = ? ORDER BY created_at", [conversation_id])
        for r in rows:
            rating = self.store.query("SELECT value FROM ratings WHERE message_id = ? ORDER BY "
                                      "created_at DESC LIMIT 1", [r["id"]])
            r["rating"] = rating[0]["value"] if rating else None
            r["tags"] = [t["tag"] for t in self.store.query(
                "SELECT tag FROM tags WHERE message_id = ?", [r["id"]])]
        return rows

    def send(self, text: str, parts: list[Any] | None = None) -> str:
        """Store the person's message (and the sentiment of it on the previous reply)."""
        if self.sentiment is not None and self.last_reply_id:
            score = self.sentiment(text)
            tag = "positive" if score > 0.05 else "negative" if score < -0.05 else "neutral"
            records.add_tag(self.store, self.last_reply_id, tag, "sentiment", score)
        return records.add_message(self.store, self.conversation_id, "user", text)

    def reply(self, stop: threading.Event | None = None) -> Iterator[str]:
        """Stream the next scripted reply word by word."""
        text = self.replies[self.turn % len(self.replies)]
        self.turn += 1
        if self.fail:
            raise RuntimeError("the model exploded (scripted)")
        shown = ""
        for word in text.split(" "):
            if stop is not None and stop.is_set():
                break
            piece = word if not shown else " " + word
            shown += piece
            if self.delay:
                time.sleep(self.delay)
            yield piece
            if self.gate is not None:
                self.gate.wait(10)
        self.last_reply_id = records.add_message(self.store, self.conversation_id, "assistant",
                                                 shown)

    def _learn(self, signal: str, message_id: str) -> None:
        """Report a pretend learning step."""
        if self.on_learned is not None:
            self.on_learned(Report(signal, message_id, 3, 12.0, 2.5, 2.25))

    def rate(self, message_id: str, value: int) -> None:
        """Store a rating."""
        records.add_rating(self.store, message_id, value)
        self._learn("up" if value > 0 else "down", message_id)

    def tag(self, message_id: str, tag: str) -> None:
        """Store a tag."""
        records.add_tag(self.store, message_id, tag)

    def correct(self, message_id: str, text: str) -> str:
        """Store a correction as a message-linked example-like tag."""
        cid = records.add_message(self.store, self.conversation_id, "system", text)
        records.add_tag(self.store, message_id, "corrected")
        self._learn("correct", message_id)
        return cid

    def close(self) -> None:
        """Nothing to release."""
        self.closed = True
