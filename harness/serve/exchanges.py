"""What `insitu serve` writes to the profile: exchanges, ratings, tags and corrections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import DataError
from harness.store.examples import add_examples, example_hash
from harness.store.records import add_conversation, add_message, add_rating, add_tag
from harness.types import Example, Part

if TYPE_CHECKING:
    from harness.profile import Profile

UP = ("up", "+1", "1", "👍", "good", "yes")
DOWN = ("down", "-1", "👎", "bad", "no")


class NotFound(DataError):
    """A message or conversation named in a request does not exist."""


@dataclass(frozen=True)
class Exchange:
    """The ids of one stored exchange."""

    conversation_id: str
    user_message_id: str
    message_id: str


def conversation_exists(profile: Profile, conversation_id: str) -> bool:
    """Return True if the profile has this conversation."""
    rows = profile.store.query("SELECT 1 FROM conversations WHERE id = ?", [conversation_id])
    return bool(rows)


def record_exchange(
    profile: Profile, conversation_id: str | None, prompt: str, reply: str, individual_id: str
) -> Exchange:
    """Store a user message and the reply in one transaction (a new conversation if none)."""
    with profile.store.write():
        cid = conversation_id
        if cid is None or not conversation_exists(profile, cid):
            cid = add_conversation(profile.store, title="serve: " + prompt[:40])
        uid = add_message(profile.store, cid, "user", prompt)
        mid = add_message(profile.store, cid, "assistant", reply, individual_id=individual_id)
    return Exchange(cid, uid, mid)


def rating_value(value: Any) -> int:
    """Return +1 or -1 for up|down|+1|-1 (and 1, -1, 👍, 👎), else raise DataError."""
    text = str(value).strip().lower()
    if text in UP:
        return 1
    if text in DOWN:
        return -1
    raise DataError(f"a rating value is up, down, +1 or -1, not {value!r}",
                    'send {"message_id": ..., "value": "up"}')


def get_message(profile: Profile, message_id: str) -> dict[str, Any]:
    """Return a stored message row, or raise NotFound."""
    rows = profile.store.query("SELECT * FROM messages WHERE id = ?", [message_id])
    if not rows:
        raise NotFound(f"no message '{message_id}' in profile '{profile.name}'",
                       "use the message_id returned in the `insitu` field of a completion")
    return rows[0]


def prompt_of(profile: Profile, message: dict[str, Any]) -> str:
    """Return the text of the user message just before `message` in its conversation."""
    rows = profile.store.query(
        "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' "
        "AND id < ? ORDER BY id DESC LIMIT 1",
        [message["conversation_id"], message["id"]],
    )
    return str(rows[0]["text"] or "") if rows else ""


def _text_task(profile: Profile) -> str:
    """Return the name of the profile's first text task (corrections train it)."""
    for task in profile.config.tasks:
        if task.kind == "text":
            return task.name
    raise DataError(f"profile '{profile.name}' has no text task for corrections",
                    "add a text task to the profile's configuration")


def rate(
    profile: Profile,
    message_id: str,
    value: Any = None,
    tag: str | None = None,
    correction: str | None = None,
) -> dict[str, Any]:
    """Store a rating, a tag and/or a correction of a reply in one transaction.

    The rating lands like a chat rating (source `user`); a correction becomes a training
    example of the profile's text task (prompt: the user message before the reply).
    """
    if value is None and not tag and not correction:
        raise DataError("a rating needs a value, a tag or a correction",
                        'send {"message_id": ..., "value": "up"}')
    score = None if value is None else rating_value(value)
    msg = get_message(profile, message_id)
    if msg["role"] != "assistant":
        raise DataError(f"message '{message_id}' is a {msg['role']} message",
                        "rate the assistant's reply (its message_id)")
    out: dict[str, Any] = {"message_id": message_id}
    with profile.store.write():
        if score is not None:
            out["rating_id"] = add_rating(profile.store, message_id, score, source="user")
        if tag:
            out["tag_id"] = add_tag(profile.store, message_id, tag, source="user")
        if correction and correction.strip():
            ex = Example(prompt=[Part.of_text(prompt_of(profile, msg))],
                         answer=[Part.of_text(correction.strip())],
                         task=_text_task(profile), source="chat")
            added, _ = add_examples(profile.store, [(ex, "train")],
                                    provenance={"via": "serve", "correction_of": message_id},
                                    message_id=message_id)
            out["correction_added"] = bool(added)
            rows = profile.store.query("SELECT id FROM examples WHERE task = ? AND hash = ?",
                                       [ex.task, example_hash(ex)])  # fmt: skip
            out["example_id"] = str(rows[0]["id"]) if rows else None
    return out
