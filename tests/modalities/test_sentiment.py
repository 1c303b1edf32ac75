"""Sentiment scores (VADER, offline): the sign follows the text, bounded, and feeds the chat."""

from __future__ import annotations

from harness.chat.session import ChatSession
from harness.graph.generate import Sampling
from harness.profile import Profile
from modalities.sentiment import analyzer, score


def test_sign_and_bounds() -> None:
    """Praise scores positive, complaints negative, blank text 0; always within [-1, 1]."""
    assert score("thanks, that was a great answer!") > 0.5
    assert score("that is wrong and useless, terrible") < -0.5
    assert score("") == 0.0 and score("   ") == 0.0
    huge = score("good " * 200_000)
    assert -1.0 <= huge <= 1.0 and analyzer() is analyzer()


def test_session_tags_previous_reply_with_vader() -> None:
    """Passed into a chat session, the scorer tags the previous reply with source 'sentiment'."""
    with Profile.create("s", "chat") as prof, ChatSession(prof, sentiment=score) as session:
        session.send("hello")
        "".join(session.reply(sampling=Sampling(temperature=0.0, max_tokens=5)))
        rid = session.last_reply_id
        session.send("I love it, thank you!")
        rows = prof.store.query("SELECT tag, source, score FROM tags WHERE message_id=?", [rid])
    assert rows and rows[0]["tag"] == "positive" and rows[0]["source"] == "sentiment"
    assert rows[0]["score"] > 0.5
