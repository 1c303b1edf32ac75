"""Past conversations: listing, full-text search (SQLite FTS5) and reading one back."""

from __future__ import annotations

import re
from typing import Any

from harness.errors import DataError
from harness.store.db import Store

_WORD = re.compile(r"\w+", re.UNICODE)
SEARCH_ROWS = 500


def fts_query(text: str) -> str:
    """Return an FTS5 query matching every word of `text` as a prefix (no FTS syntax leaks)."""
    return " ".join(f'"{w}"*' for w in _WORD.findall(text))


def _summaries(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return conversation rows with message counts and a preview, by id."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = store.query(
        "SELECT c.id, c.title, c.created_at, c.updated_at, "
        "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS messages, "
        "(SELECT substr(m.text, 1, 80) FROM messages m WHERE m.conversation_id = c.id "
        " AND m.role = 'user' ORDER BY m.id LIMIT 1) AS preview "
        f"FROM conversations c WHERE c.id IN ({marks})", ids,
    )
    return {r["id"]: r for r in rows}


def list_conversations(store: Store, query: str | None = None, limit: int = 50) -> list[dict]:
    """Return conversations, newest first; with a query, those whose messages match it.

    Each dict has id, title, created_at, updated_at, messages (count) and preview; search
    results add `snippet` (the best match, with [brackets] around the hits), best match first.
    """
    if not query or not query.strip():
        rows = store.query(
            "SELECT c.id FROM conversations c WHERE EXISTS "
            "(SELECT 1 FROM messages m WHERE m.conversation_id = c.id) "
            "ORDER BY c.updated_at DESC, c.id DESC LIMIT ?", [limit],
        )
        found = _summaries(store, [r["id"] for r in rows])
        return [found[r["id"]] for r in rows]
    match = fts_query(query)
    if not match:
        return []
    hits = store.query(
        "SELECT m.conversation_id AS cid, snippet(messages_fts, 0, '[', ']', '…', 10) AS snippet "
        "FROM messages_fts f JOIN messages m ON m.id = f.message_id "
        "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?", [match, SEARCH_ROWS],
    )
    best: dict[str, str] = {}
    for hit in hits:
        best.setdefault(hit["cid"], hit["snippet"])
    ids = list(best)[:limit]
    found = _summaries(store, ids)
    return [{**found[i], "snippet": best[i]} for i in ids if i in found]


def conversation_messages(store: Store, conversation_id: str) -> list[dict[str, Any]]:
    """Return a conversation's messages: id, role, text, created_at, notice, rating, tags."""
    if not store.query("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]):
        raise DataError(f"no conversation '{conversation_id}'",
                        "pick one from the history list (conversations())")
    rows = store.query(
        "SELECT m.id, m.role, m.text, m.created_at, m.notice, "
        "(SELECT r.value FROM ratings r WHERE r.message_id = m.id ORDER BY r.id DESC LIMIT 1) "
        "AS rating FROM messages m WHERE m.conversation_id = ? ORDER BY m.id", [conversation_id],
    )
    tags: dict[str, list[dict[str, Any]]] = {}
    for t in store.query(
        "SELECT t.message_id, t.tag, t.source, t.score FROM tags t JOIN messages m "
        "ON m.id = t.message_id WHERE m.conversation_id = ? ORDER BY t.id", [conversation_id],
    ):
        tags.setdefault(t.pop("message_id"), []).append(t)
    return [{**r, "text": r["text"] or "", "tags": tags.get(r["id"], [])} for r in rows]


def get_message(store: Store, message_id: str) -> dict[str, Any]:
    """Return a message with the text of the user message before it (`prompt`), or raise."""
    rows = store.query(
        "SELECT m.*, (SELECT u.text FROM messages u WHERE u.conversation_id = m.conversation_id "
        "AND u.role = 'user' AND u.id < m.id ORDER BY u.id DESC LIMIT 1) AS prompt "
        "FROM messages m WHERE m.id = ?", [message_id],
    )
    if not rows:
        raise DataError(f"no message '{message_id}'",
                        "use the message id printed by `insitu ask` or shown in the chat")
    return rows[0]
