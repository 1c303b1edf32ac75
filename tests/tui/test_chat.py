"""Pilot tests of the chat screen on a scripted session: streaming, signals, keys, bad input."""

from __future__ import annotations

import threading
import time

from textual import events
from tui_helpers import SIZE, make_app, ready, rows, send, type_text, until

from tui.widgets.message import MessageView


async def test_typed_message_streams_a_reply(profile_name: str) -> None:
    """Typing a message and Enter shows it, then the reply arrives piece by piece."""
    gate = threading.Event()
    app = make_app(replies=["one two three"], gate=gate)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_text(pilot, "hello model")
        await pilot.press("enter")
        reply = app.chat.conversation.last_reply()
        assert reply is not None
        await until(pilot, lambda: reply.text == "one")
        assert reply.streaming and app.chat.generating
        gate.set()
        await until(pilot, lambda: not reply.streaming)
        assert reply.text == "one two three"
        assert app.chat.chat_input.text == ""
        stored = rows(app, "SELECT role, text FROM messages ORDER BY created_at")
        assert [(r["role"], r["text"]) for r in stored] == [
            ("user", "hello model"), ("assistant", "one two three")]


async def test_rate_up_and_down_are_stored(profile_name: str) -> None:
    """+ and - on a selected reply store +1 then -1, shown as saved after the commit."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "rate me")
        await pilot.press("tab")
        reply = app.focused
        assert isinstance(reply, MessageView) and reply.is_reply
        await pilot.press("plus")
        await until(pilot, lambda: reply.rating == 1)
        await pilot.press("minus")
        await until(pilot, lambda: reply.rating == -1)
        values = [r["value"] for r in rows(
            app, "SELECT value FROM ratings WHERE message_id = ? ORDER BY created_at",
            [reply.message_id])]
        assert values == [1, -1]
        assert "learned from" in app.chat.status.message


async def test_thumb_buttons_are_clickable(profile_name: str) -> None:
    """Clicking 👍 under a reply stores a rating."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "click me")
        reply = app.chat.conversation.last_reply()
        assert reply is not None
        await pilot.click(".rate-up")
        await until(pilot, lambda: reply.rating == 1)
        assert rows(app, "SELECT value FROM ratings")[0]["value"] == 1


async def test_tag_default_and_free_text(profile_name: str) -> None:
    """t opens the tag dialog; 1 picks 'funny', a typed word is stored as typed."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "tag me")
        await pilot.press("tab", "t")
        await until(pilot, lambda: app.screen.__class__.__name__ == "TagModal")
        await pilot.press("1")
        reply = app.chat.conversation.last_reply()
        assert reply is not None
        await until(pilot, lambda: reply.tags == ["funny"])
        reply.focus()
        await pilot.press("t")
        await until(pilot, lambda: app.screen.__class__.__name__ == "TagModal")
        await type_text(pilot, "[b]odd[/b]")
        await pilot.press("enter")
        await until(pilot, lambda: len(reply.tags) == 2)
        tags = [r["tag"] for r in rows(app, "SELECT tag FROM tags WHERE source = 'user' "
                                       "ORDER BY created_at")]
        assert tags == ["funny", "[b]odd[/b]"]


async def test_correction_is_stored(profile_name: str) -> None:
    """c opens the correction dialog; Enter saves the reply it should have been."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "what is my cat called?")
        await pilot.press("tab", "c")
        await until(pilot, lambda: app.screen.__class__.__name__ == "CorrectModal")
        await type_text(pilot, "Miso")
        await pilot.press("ctrl+j")
        await type_text(pilot, "the cat")
        await pilot.press("enter")
        reply = app.chat.conversation.last_reply()
        assert reply is not None
        await until(pilot, lambda: reply.correction is not None)
        assert reply.correction == "Miso\nthe cat"
        assert rows(app, "SELECT text FROM messages WHERE role = 'system'")[0]["text"] == \
            "Miso\nthe cat"


async def test_escape_stops_a_reply(profile_name: str) -> None:
    """Esc while the reply streams sets the stop event; the reply ends early and is kept."""
    gate = threading.Event()
    app = make_app(replies=["one two three four"], gate=gate)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_text(pilot, "go")
        await pilot.press("enter")
        reply = app.chat.conversation.last_reply()
        assert reply is not None
        await until(pilot, lambda: reply.text == "one")
        await pilot.press("escape")
        assert app.chat.stop_event is not None and app.chat.stop_event.is_set()
        gate.set()
        await until(pilot, lambda: not reply.streaming)
        assert reply.stopped and reply.text.startswith("one")
        assert reply.text != "one two three four"
        assert reply.message_id is not None


async def test_markup_in_text_is_shown_literally(profile_name: str) -> None:
    """Square-bracket markup typed by the person or written by the model is not interpreted."""
    app = make_app(replies=["[red]not red[/red] [link=x]y[/link]"])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "[bold]not bold[/bold] [@click=app.quit]q[/]")
        views = list(app.chat.conversation.query(MessageView))
        bodies = [str(v.query_one(".message-body").render()) for v in views]
        assert bodies[0] == "[bold]not bold[/bold] [@click=app.quit]q[/]"
        assert bodies[1] == "[red]not red[/red] [link=x]y[/link]"
        assert app.is_running


async def test_empty_message_is_not_sent(profile_name: str) -> None:
    """Enter on an empty or blank box sends nothing and says why."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await type_text(pilot, "   ")
        await pilot.press("enter")
        await pilot.pause()
        assert not list(app.chat.conversation.query(MessageView))
        assert rows(app, "SELECT count(*) AS n FROM messages")[0]["n"] == 0
        assert any("empty" in n.message for n in app._notifications)


async def test_one_megabyte_paste(profile_name: str) -> None:
    """A 1 MB paste waits behind a placeholder, is stored whole and shown cut."""
    app = make_app()
    big = ("lorem ipsum dolor sit amet\n" * 40_000)[:1_000_000]
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_text(pilot, "look: ")
        app.post_message(events.Paste(big))
        box = app.chat.chat_input
        await until(pilot, lambda: "[paste #1: 1,000,000 characters]" in box.text)
        started = time.perf_counter()
        await type_text(pilot, " ok")
        assert time.perf_counter() - started < 2.0
        assert box.message == "look: " + big + " ok"
        await pilot.press("enter")
        await until(pilot, lambda: not app.chat.generating)
        user = next(iter(app.chat.conversation.query(MessageView)))
        assert len(str(user.query_one(".message-body").render())) < 10_000
        stored = rows(app, "SELECT length(text) AS n FROM messages WHERE role = 'user'")
        assert stored[0]["n"] == 1_000_009


async def test_binary_garbage_is_shown_safely(profile_name: str) -> None:
    """Control bytes and escape sequences are stored as sent and drawn as visible symbols."""
    app = make_app()
    garbage = "".join(chr(c) for c in range(0, 32)) + "\x1b[31mred\x7f\x9b\ufffd"
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        box = app.chat.chat_input
        box.load_text(garbage)
        typed = box.text  # the editor keeps every character but normalises line breaks
        assert "\x00\x01" in typed and "\x1b[31mred\x7f\x9b" in typed
        await pilot.press("enter")
        await until(pilot, lambda: not app.chat.generating)
        user = next(iter(app.chat.conversation.query(MessageView)))
        shown = str(user.query_one(".message-body").render())
        assert "\x1b" not in shown and "\x00" not in shown and "␛[31mred" in shown
        assert rows(app, "SELECT text FROM messages WHERE role = 'user'")[0]["text"] == typed


async def test_newline_keys_and_history(profile_name: str) -> None:
    """Ctrl+J adds a line without sending; Up recalls what was sent, Down returns the draft."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        box = app.chat.chat_input
        await type_text(pilot, "first")
        await pilot.press("ctrl+j")
        await type_text(pilot, "line")
        assert box.text == "first\nline" and not app.chat.generating
        await pilot.press("enter")
        await until(pilot, lambda: not app.chat.generating)
        await send(pilot, "second")
        await type_text(pilot, "draft")
        await pilot.press("up")
        assert box.text == "second"
        await pilot.press("up")
        assert box.text == "first\nline"
        await pilot.press("down")
        assert box.text == "second"
        await pilot.press("down")
        assert box.text == "draft"


async def test_ctrl_s_sends(profile_name: str) -> None:
    """Ctrl+S is a fallback send key."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_text(pilot, "via ctrl s")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.chat.conversation.last_reply() is not None)
        await until(pilot, lambda: not app.chat.generating)
        assert rows(app, "SELECT text FROM messages WHERE role = 'user'")[0]["text"] == \
            "via ctrl s"


async def test_generation_error_is_a_notification(profile_name: str) -> None:
    """A reply that fails shows an error notification; the app keeps running."""
    app = make_app(fail=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "break")
        assert app.is_running
        assert any("exploded" in n.message for n in app._notifications)
        assert "failed" in app.chat.status.message


async def test_failed_reply_offers_no_rating(profile_name: str) -> None:
    """A failed reply says so, hides its 👍/👎 bar, and + on it explains instead of saving."""
    app = make_app(fail=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "break")
        await until(pilot, lambda: not app.chat.generating)
        reply = app.chat.conversation.last_reply()
        assert reply is not None and reply.failed
        assert "the reply failed" in str(reply._body())
        assert not any(bar.display for bar in reply.query(".message-actions"))
        await pilot.press("tab", "plus")
        await pilot.pause()
        assert any("nothing to rate" in n.message for n in app._notifications)
        assert rows(app, "SELECT count(*) AS n FROM ratings")[0]["n"] == 0


async def test_arrow_keys_move_between_replies(profile_name: str) -> None:
    """On a reply, Up/Down move to the neighbouring replies; Down past the last types again."""
    app = make_app(replies=["a", "b"])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "1")
        await send(pilot, "2")
        first, second = app.chat.conversation.replies()
        await pilot.press("tab")
        assert app.focused is second
        await pilot.press("up")
        assert app.focused is first
        await pilot.press("down", "down")
        assert app.focused is app.chat.chat_input


async def test_sentiment_of_next_message_tags_previous_reply(profile_name: str) -> None:
    """The session's sentiment tag on the previous reply shows under it."""
    app = make_app(sentiment=lambda text: 0.8 if "love" in text else 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "hi")
        await send(pilot, "I love that answer")
        first = app.chat.conversation.replies()[0]
        await until(pilot, lambda: first.auto_tags == ["positive"])


async def test_view_follows_new_text_unless_scrolled_up(profile_name: str) -> None:
    """New text keeps the view at the bottom; after scrolling up it stays put until sending."""
    gate = threading.Event()
    long_reply = " ".join(["line\n"] * 12)
    app = make_app(replies=[long_reply])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        view = app.chat.conversation
        gate.set()
        for i in range(3):
            await send(pilot, f"message {i}")
        await until(pilot, lambda: view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y)
        app.session_factory.made[0].gate = gate  # type: ignore[attr-defined]
        gate.clear()
        app.chat.chat_input.load_text("one more")
        await pilot.press("enter")
        await until(pilot, lambda: app.chat.conversation.last_reply().text == "line\n")
        view.release_anchor()  # what a mouse wheel or scrollbar drag does
        view.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        gate.set()
        await until(pilot, lambda: not app.chat.generating)
        assert view.scroll_y == 0  # the person's place is kept
        await send(pilot, "and now?")
        await until(pilot, lambda: view.scroll_y == view.max_scroll_y)
