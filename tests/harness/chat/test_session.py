"""The chat session: exchanges, signals committed on return, sentiment tags, bad input."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import torch

from harness.chat.inputs import MAX_MESSAGE_BYTES
from harness.chat.session import ChatSession
from harness.errors import DataError, ProfileError
from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.profile import Profile


def second_connection(profile: Profile) -> sqlite3.Connection:
    """Open the profile database on a connection of its own (as another process would)."""
    conn = sqlite3.connect(profile.path / "profile.db")
    conn.row_factory = sqlite3.Row
    return conn


def exchange(session: ChatSession, text: str = "hello") -> str:
    """Send a message, drain the reply, return the reply's id."""
    session.send(text)
    "".join(session.reply())
    assert session.last_reply_id
    return session.last_reply_id


def test_send_and_streamed_reply_are_stored(session: ChatSession) -> None:
    """The user message and the streamed reply (exactly the pieces shown) are stored."""
    mid = session.send("hello there")
    pieces = list(session.reply())
    msgs = session.open_conversation(session.conversation_id)
    assert [m["id"] for m in msgs] == [mid, session.last_reply_id]
    assert msgs[1]["role"] == "assistant" and msgs[1]["text"] == "".join(pieces)
    assert "seed gru" in session.model_label


def test_every_signal_is_committed_when_the_call_returns(
    session: ChatSession, profile: Profile
) -> None:
    """A second connection sees each rating, tag and correction right after the call."""
    rid = exchange(session)
    other = second_connection(profile)
    session.rate(rid, 1)
    rows = other.execute("SELECT value FROM ratings WHERE message_id=?", [rid]).fetchall()
    assert [r[0] for r in rows] == [1]
    session.tag(rid, "funny")
    tags = other.execute("SELECT tag, source FROM tags WHERE message_id=?", [rid]).fetchall()
    assert [tuple(t) for t in tags] == [("funny", "user")]
    eid = session.correct(rid, "Hi!")
    row = other.execute("SELECT source, message_id, answer FROM examples WHERE id=?",
                        [eid]).fetchone()
    assert row["source"] == "chat" and row["message_id"] == rid and "Hi!" in row["answer"]
    other.close()


def test_sentiment_of_next_message_tags_previous_reply(profile: Profile) -> None:
    """The next message's sentiment tags the previous reply (source 'sentiment', with score)."""
    scores = {"thanks, great answer": 0.8, "that is awful": -0.7}
    with ChatSession(profile, sentiment=lambda t: scores.get(t, 0.0)) as session:
        session.sampling = session.sampling.__class__(temperature=0.0, max_tokens=8)
        first = exchange(session, "hi")
        second = exchange(session, "thanks, great answer")
        session.send("that is awful")
        tags = {m["id"]: m["tags"] for m in session.open_conversation(session.conversation_id)}
    assert tags[first] == [{"tag": "positive", "source": "sentiment", "score": 0.8}]
    assert tags[second] == [{"tag": "negative", "source": "sentiment", "score": -0.7}]


def test_a_megabyte_paste_is_truncated_with_a_notice(session: ChatSession) -> None:
    """1 MB of text is cut to 64 KB at a character boundary, with a notice; replies still work."""
    mid = session.send("é" * 500_000)  # 1 MB of two-byte characters
    assert session.last_notice and "truncated" in session.last_notice
    "".join(session.reply())
    msg = session.open_conversation(session.conversation_id)[0]
    assert msg["id"] == mid and msg["notice"] == session.last_notice
    assert len(msg["text"].encode()) <= MAX_MESSAGE_BYTES and set(msg["text"]) == {"é"}


def test_binary_garbage_is_stored_literally(session: ChatSession) -> None:
    """Undecodable bytes become U+FFFD; control characters and NULs are kept as they are."""
    raw = bytes(range(256)).decode("utf-8", errors="surrogateescape")
    session.send(raw)
    "".join(session.reply())
    text = session.open_conversation(session.conversation_id)[0]["text"]
    assert text == bytes(range(256)).decode("utf-8", errors="replace")
    assert "\x00" in text and "\x1b" in text and "\ufffd" in text
    assert session.conversations("garbage") == []


def test_empty_message_and_bad_signals_are_clear_errors(session: ChatSession) -> None:
    """Empty text, replying to nothing, or rating a missing/user message raise DataError."""
    for text in ("", "   \n\t"):
        with pytest.raises(DataError, match="empty"):
            session.send(text)
    with pytest.raises(DataError, match="no message to reply"):
        list(session.reply())
    mid = session.send("hi")
    with pytest.raises(DataError, match="user message"):
        session.rate(mid, 1)
    with pytest.raises(DataError, match="no message"):
        session.rate("NOPE", 1)
    rid = exchange(session)
    with pytest.raises(DataError, match=r"\+1 or -1"):
        session.rate(rid, 0)
    with pytest.raises(DataError, match="empty"):
        session.correct(rid, " ")


def test_missing_profile_is_a_clear_error() -> None:
    """Opening a session on a profile that does not exist names it and how to create it."""
    with pytest.raises(ProfileError, match="no profile 'nobody'") as err:
        ChatSession.open("nobody")
    assert err.value.hint and "insitu profile create nobody" in err.value.hint


def test_history_search_finds_a_past_conversation(session: ChatSession) -> None:
    """FTS finds the conversation holding a word (also by prefix); odd syntax is harmless."""
    exchange(session, "my cat is called Miso")
    cat = session.conversation_id
    session.new_conversation()
    exchange(session, "the weather in Lisbon")
    assert [c["id"] for c in session.conversations("miso")] == [cat]
    assert [c["id"] for c in session.conversations("Lisb")] == [session.conversation_id]
    assert session.conversations('cat ("*') and session.conversations("zebra") == []
    listed = session.conversations()
    assert [c["id"] for c in listed][1] == cat and listed[1]["messages"] == 2
    msgs = session.open_conversation(cat)
    assert session.conversation_id == cat and msgs[0]["text"] == "my cat is called Miso"
    with pytest.raises(DataError):
        session.open_conversation("missing")


def test_stop_ends_the_reply_and_stores_it(session: ChatSession) -> None:
    """A stop event or an abandoned stream ends the reply; the part shown is stored, marked."""
    session.send("hello")
    stop = threading.Event()
    got = []
    for piece in session.reply(stop):
        got.append(piece)
        stop.set()
    msg = session.open_conversation(session.conversation_id)[-1]
    assert len(got) == 1 and msg["text"] == got[0] and msg["notice"] == "stopped"
    session.send("again")
    abandoned = session.reply()
    first = next(abandoned)
    abandoned.close()  # the consumer stops iterating: stored as stopped, the model is free again
    msg = session.open_conversation(session.conversation_id)[-1]
    assert msg["text"] == first and msg["notice"] == "stopped"
    assert not session.learner.gate.reply_wanted


def test_learning_survives_a_restart(profile: Profile) -> None:
    """Adapters learned in one session are loaded by the next one on the same profile."""
    with ChatSession(profile) as first:
        rid = exchange(first, "hello")
        first.correct(rid, "Hi, I am here.")
        assert first.wait_learned(120)
        learned = first.likelihood("hello", "Hi, I am here.")
    with ChatSession(profile) as second:
        assert second.likelihood("hello", "Hi, I am here.") == pytest.approx(learned, abs=1e-4)
        with second.graph.frozen_reference():
            assert second.likelihood("hello", "Hi, I am here.") < learned - 0.5


def test_switch_model_between_replies(session: ChatSession) -> None:
    """A new graph serves the next reply, with zero-impact adapters and a new label."""
    exchange(session)
    g = Graph(seed("lstm", 8_000, heads={"chat": {"op": "lm", "args": {}}}, context=384),
              generator=torch.Generator().manual_seed(1))
    session.switch_model(g, individual_id="01TESTCHAMPION")
    assert session.graph is g and g.adapter_rank > 0 and g.control_size == 8
    assert session.model_label.startswith("lstm") and "champion 01TESTCHAM" in session.model_label
    exchange(session)
