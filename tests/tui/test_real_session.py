"""The app on the real ChatSession: every signal a person gives lands in the profile's SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from tui_helpers import SIZE, rows, send, type_text, until

from harness.profile import Profile
from tui.app import InsituApp, default_session_factory

pytest.importorskip("harness.chat.session")


def recording_factory(pieces: list[str]) -> Any:
    """Return a factory of real sessions whose streamed pieces are also kept in `pieces`."""

    def factory(profile: Profile, **kwargs: Any) -> Any:
        session = default_session_factory(profile, **kwargs)
        reply = session.reply

        def recorded(stop: Any = None) -> Any:
            for piece in reply(stop):
                pieces.append(piece)
                yield piece

        session.reply = recorded  # type: ignore[method-assign]
        return session

    return factory


@pytest.mark.slow
async def test_real_session_signals_reach_the_database(profile_name: str) -> None:
    """Type, see the reply stream, rate up and down, tag, correct, reply: all stored."""
    pieces: list[str] = []
    app = InsituApp(profile_name, session_factory=recording_factory(pieces), seed=0, evolve=False,
                    sentiment=lambda text: 0.9 if "thanks" in text else -0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=120)
        assert app.session is not None, [n.message for n in app._notifications]
        await send(pilot, "hello little model")
        reply = app.chat.conversation.last_reply()
        assert reply is not None and reply.message_id is not None
        assert len(pieces) > 1 and reply.text == "".join(pieces)
        stored = rows(app, "SELECT text FROM messages WHERE id = ?", [reply.message_id])
        assert stored[0]["text"] == reply.text
        await pilot.press("tab", "plus")
        await until(pilot, lambda: reply.rating == 1)
        await pilot.press("minus")
        await until(pilot, lambda: reply.rating == -1)
        await pilot.press("t", "3")
        await until(pilot, lambda: reply.tags == ["helpful"])
        await pilot.press("c")
        await until(pilot, lambda: type(app.screen).__name__ == "CorrectModal")
        await type_text(pilot, "Hello! I am your model.")
        await pilot.press("enter")
        await until(pilot, lambda: reply.correction is not None)
        await send(pilot, "thanks, that is better")
        await until(pilot, lambda: reply.auto_tags == ["positive"])
        mid = reply.message_id
        ratings = rows(app, "SELECT value, source FROM ratings WHERE message_id = ? "
                       "ORDER BY id", [mid])
        assert [(r["value"], r["source"]) for r in ratings] == [(1, "user"), (-1, "user")]
        tags = rows(app, "SELECT tag, source FROM tags WHERE message_id = ? ORDER BY id", [mid])
        assert [(t["tag"], t["source"]) for t in tags] == [("helpful", "user"),
                                                           ("positive", "sentiment")]
        examples = rows(app, "SELECT answer, source FROM examples WHERE message_id = ?", [mid])
        assert len(examples) == 1 and "Hello! I am your model." in examples[0]["answer"]
        assert app.session.wait_learned(60)  # type: ignore[attr-defined]
        await until(pilot, lambda: "learned from" in app.chat.status.message
                    or "noted" in app.chat.status.message)
