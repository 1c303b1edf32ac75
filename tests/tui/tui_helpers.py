"""Helpers for driving the chat app with Pilot: a scripted app, waiting, typing, querying."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tui_fakes import ScriptedSession

from harness.profile import Profile
from tui.app import InsituApp

SIZE = (120, 40)


def scripted(**options: Any) -> Callable[..., ScriptedSession]:
    """Return a session factory that builds ScriptedSession with `options`."""
    made: list[ScriptedSession] = []

    def factory(profile: Profile, **kwargs: Any) -> ScriptedSession:
        session = ScriptedSession(profile, **kwargs, **options)
        made.append(session)
        return session

    factory.made = made  # type: ignore[attr-defined]
    return factory


def make_app(name: str = "ui", **options: Any) -> InsituApp:
    """Return an app on profile `name` with a scripted session (sentiment off unless given)."""
    sentiment = options.pop("sentiment", None)
    evolve = options.pop("evolve", False)  # no background worker unless a test asks for one
    return InsituApp(name, session_factory=scripted(**options), sentiment=sentiment,
                     use_default_sentiment=False, evolve=evolve)


async def until(pilot: Any, predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Let the app run until `predicate()` is true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)
    await pilot.pause()


async def ready(pilot: Any) -> InsituApp:
    """Wait until the profile and its session are open."""
    app = pilot.app
    await until(pilot, app.ready.is_set)
    return app  # type: ignore[no-any-return]


async def type_text(pilot: Any, text: str) -> None:
    """Type text into the focused widget, key by key."""
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def send(pilot: Any, text: str) -> None:
    """Put text in the message box, press Enter and wait for the reply to end."""
    app = pilot.app
    box = app.chat.chat_input
    box.focus()
    box.load_text(text)
    await pilot.press("enter")
    await until(pilot, lambda: not app.chat.generating)
    await app.workers.wait_for_complete()
    await pilot.pause()


def rows(app: InsituApp, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Query the open profile's SQLite database."""
    assert app.profile is not None
    return app.profile.store.query(sql, params or [])
