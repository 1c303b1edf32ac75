"""Snapshot tests of the main screens (fixed size, scripted replies, fixed times in UTC)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tui_helpers import make_app, ready, send, until

from harness.store.population import Parent, add_individual, put_genome
from harness.store.records import add_conversation, add_message

SIZE = (120, 40)
T0 = 1_767_268_800.0  # 2026-01-01 12:00 UTC


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Show every time in UTC so snapshots do not depend on the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


async def steady(pilot: Any) -> None:
    """Stop cursors blinking, so a snapshot does not depend on when it is taken."""
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            widget.cursor_blink = False
    await pilot.pause()


def _fix_times(app: Any) -> None:
    """Give every stored row a fixed time, so dates in the history are the same each run."""
    with app.profile.store.write() as db:
        db.execute("UPDATE conversations SET created_at = ?, updated_at = ? + rowid * 60",
                   [T0, T0])


def test_chat_screen(snap_compare: Any, profile_name: str) -> None:
    """The chat after one exchange, with the reply rated 👍 and tagged."""

    async def run_before(pilot: Any) -> None:
        app = await ready(pilot)
        await send(pilot, "Hello, [b]model[/b]! What is my cat called?")
        await pilot.press("tab", "plus")
        reply = app.chat.conversation.last_reply()
        await until(pilot, lambda: reply.rating == 1)
        app.tag(reply, "funny")
        await until(pilot, lambda: reply.tags == ["funny"])
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_history_screen(snap_compare: Any, profile_name: str) -> None:
    """The history list with two past conversations."""

    async def run_before(pilot: Any) -> None:
        app = await ready(pilot)
        store = app.profile.store
        for words in ("the zebra crossing", "a recipe for soup"):
            cid = add_conversation(store, words)
            add_message(store, cid, "user", f"tell me about {words}")
            add_message(store, cid, "assistant", "I know little yet.")
        _fix_times(app)
        await pilot.press("f2")
        options = app.screen.query_one("OptionList")
        await until(pilot, lambda: options.option_count == 2)
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_population_screen_empty(snap_compare: Any, profile_name: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile where no evolution has run says so (as in a build without the worker)."""
    import tui.screens.population as population

    monkeypatch.setattr(population, "worker_available", lambda: False)
    monkeypatch.setattr(population.features, "cli_command", lambda name: False)

    async def run_before(pilot: Any) -> None:
        app = await ready(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: app.screen.state is not None)
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_population_screen_with_individuals(snap_compare: Any, profile_name: str) -> None:
    """The champion, leaderboard and events of a small stored population."""

    async def run_before(pilot: Any) -> None:
        app = await ready(pilot)
        store = app.profile.store
        ids: list[str] = []
        for i, (family, fit) in enumerate([("gru", 0.61), ("rwkv", 0.72), ("ssm", 0.55)]):
            gid = put_genome(store, f"g{i}", "{}", family, 10_000 * (i + 1))
            parents = [Parent(ids[-1], operator="widen")] if ids else []
            ids.append(add_individual(store, gid, fitness=fit, generation=i, parents=parents,
                                      individual_id=f"ind{i:07d}",
                                      status="champion" if family == "rwkv" else "alive",
                                      extra={"phase": "compress"}))
        with store.write() as db:
            for n, (kind, who) in enumerate([("mutation", ids[1]), ("champion", ids[1]),
                                             ("merge", ids[2])]):
                db.execute("INSERT INTO events (id, kind, individual_id, payload, created_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           [f"ev{n}", kind, who, '{"op": "widen", "gain": 0.125}', T0 + n])
        await pilot.press("f3")
        await until(pilot, lambda: app.screen.state is not None)
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare: Any, profile_name: str) -> None:
    """The help page lists every command and key."""

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press("f1")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_tag_dialog(snap_compare: Any, profile_name: str) -> None:
    """The tag dialog over a reply."""

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await send(pilot, "tag this")
        await pilot.press("tab", "t")
        await pilot.pause()
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)

