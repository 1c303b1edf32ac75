"""Writes and reads of profile records; each write returns only once it is committed."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.ids import new_id
from harness.store.db import Store
from harness.store.files import atomic_write_bytes

RATING_VALUES = (-1, 1)


def _json(value: Any) -> str | None:
    """Return compact JSON for a value, or None for None."""
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


def add_conversation(store: Store, title: str = "") -> str:
    """Create a conversation and return its id."""
    now = time.time()
    cid = new_id()
    with store.write() as db:
        db.table("conversations").insert(
            {"id": cid, "title": title, "created_at": now, "updated_at": now}
        )
    return cid


def add_message(
    store: Store,
    conversation_id: str,
    role: str,
    text: str,
    parts: list[dict[str, Any]] | None = None,
    individual_id: str | None = None,
    attachments: list[str] | None = None,
) -> str:
    """Append a message (and its attachment links) to a conversation; return its id."""
    if role not in ("user", "assistant", "system"):
        raise DataError(f"unknown message role '{role}'", "use user, assistant or system")
    mid = new_id()
    now = time.time()
    with store.write() as db:
        db.table("messages").insert(
            {
                "id": mid,
                "conversation_id": conversation_id,
                "role": role,
                "text": text,
                "parts": _json(parts),
                "individual_id": individual_id,
                "created_at": now,
            }
        )
        for pos, sha in enumerate(attachments or []):
            link = {"message_id": mid, "position": pos, "sha256": sha}
            db.table("message_attachments").insert(link)
        db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", [now, conversation_id]
        )
    return mid


def add_rating(store: Store, message_id: str, value: int, source: str = "user") -> str:
    """Store a thumbs up (+1) or down (-1) on a message; return the rating id."""
    if value not in RATING_VALUES:
        raise DataError(f"a rating is +1 or -1, not {value!r}", "rate with 👍 (+1) or 👎 (-1)")
    rid = new_id()
    with store.write() as db:
        db.table("ratings").insert(
            {
                "id": rid,
                "message_id": message_id,
                "value": value,
                "source": source,
                "created_at": time.time(),
            }
        )
    return rid


def add_tag(
    store: Store, message_id: str, tag: str, source: str = "user", score: float | None = None
) -> str:
    """Attach a tag to a message, with its source (user, sentiment, teacher); return its id."""
    tag = tag.strip()
    if not tag:
        raise DataError("a tag cannot be empty", "type a word or pick one of the default tags")
    tid = new_id()
    with store.write() as db:
        db.table("tags").insert(
            {
                "id": tid,
                "message_id": message_id,
                "tag": tag,
                "source": source,
                "score": score,
                "created_at": time.time(),
            }
        )
    return tid


def add_event(
    store: Store, kind: str, payload: dict[str, Any] | None = None, individual_id: str | None = None
) -> str:
    """Record an event (training, mutation, merge, champion change ...); return its id."""
    eid = new_id()
    with store.write() as db:
        db.table("events").insert(
            {
                "id": eid,
                "kind": kind,
                "individual_id": individual_id,
                "payload": _json(payload),
                "created_at": time.time(),
            }
        )
    return eid


def put_attachment(store: Store, folder: Path, data: bytes, kind: str, mime: str = "") -> str:
    """Store bytes content-addressed under `folder` (written atomically); return the sha256."""
    sha = hashlib.sha256(data).hexdigest()
    rel = Path(sha[:2]) / sha
    target = Path(folder) / rel
    if not target.exists() or target.stat().st_size != len(data):
        atomic_write_bytes(target, data)
    with store.write() as db:
        db.table("attachments").insert(
            {
                "sha256": sha,
                "kind": kind,
                "mime": mime,
                "size": len(data),
                "path": str(rel),
                "created_at": time.time(),
            },
            ignore=True,
        )
    return sha


def get_setting(store: Store, key: str, default: Any = None) -> Any:
    """Return a profile setting (JSON value), or `default`."""
    rows = store.query("SELECT value FROM settings WHERE key = ?", [key])
    return json.loads(rows[0]["value"]) if rows else default


def set_setting(store: Store, key: str, value: Any) -> None:
    """Set a profile setting to a JSON-able value."""
    with store.write() as db:
        db.table("settings").upsert({"key": key, "value": json.dumps(value)}, pk="key")
