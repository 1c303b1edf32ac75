"""How quickly the chat screen answers a key press: key event to the redrawn screen, in ms."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from textual import events

from harness.bench.chat import percentile
from harness.paths import scratch_home
from harness.profile import Profile
from tui.app import InsituApp
from tui.session_api import SessionFactory

TEXT = "the quick brown fox jumps over the lazy dog 0123456789 "
#: The pause between presses (a fast typist), so each press meets an idle-ish app.
GAP_S = 0.02


@dataclass(frozen=True)
class LatencyResult:
    """Key-press-to-screen-update latencies of one run (milliseconds)."""

    presses: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_ms: float
    model: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict."""
        return asdict(self)


@contextlib.contextmanager
def _scratch_home() -> Iterator[str]:
    """Point INSITU_HOME at a temporary folder holding a fresh `bench` profile."""
    with scratch_home("insitu-bench-"):
        Profile.create("bench").close()
        yield "bench"


async def _press_and_wait(app: InsituApp, key: str, char: str) -> float:
    """Send one key like a terminal would; return seconds until the screen was redrawn."""
    box = app.chat.chat_input
    before = box.text
    drawn = asyncio.Event()
    started = time.perf_counter()
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)  # type: ignore[union-attr]
    while box.text == before:
        await asyncio.sleep(0.0002)
    app.call_after_refresh(drawn.set)
    await drawn.wait()
    return time.perf_counter() - started


async def _measure(profile: str, presses: int, factory: SessionFactory | None,
                   size: tuple[int, int], ready_timeout: float) -> LatencyResult:
    """Open the app headless, wait for the model, type `presses` characters."""
    app = InsituApp(profile, session_factory=factory)
    timings: list[float] = []
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + ready_timeout
        while not app.ready.is_set() and time.monotonic() < deadline:
            await pilot.pause(0.05)
        app.chat.chat_input.focus()
        await pilot.pause()
        for i in range(presses):
            char = TEXT[i % len(TEXT)]
            key = "space" if char == " " else char
            timings.append(await _press_and_wait(app, key, char))
            await asyncio.sleep(GAP_S)
        label = app.session.model_label if app.session is not None else "(no model)"
    ms = [t * 1000 for t in timings]
    return LatencyResult(presses=len(ms), p50_ms=percentile(ms, 50), p95_ms=percentile(ms, 95),
                         max_ms=max(ms), mean_ms=statistics.fmean(ms), model=label)


def measure_keypress_latency(
    profile: str | None = None,
    presses: int = 50,
    *,
    session_factory: SessionFactory | None = None,
    size: tuple[int, int] = (120, 40),
    ready_timeout: float = 180.0,
    background: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> LatencyResult:
    """Type `presses` characters into the chat's message box and time each redraw.

    1. Open the app headless (Textual's Pilot) on `profile`, or on a fresh throwaway profile
       in a temporary INSITU_HOME when none is given; wait until its model is loaded.
    2. Optionally enter `background()` first (e.g. a context that runs the evolution worker),
       so the numbers show the UI under load.
    3. For each press: send the key event as a terminal would, wait until the message box has
       the character and the screen has been redrawn; pause briefly like a fast typist.
    """
    with contextlib.ExitStack() as stack:
        name = profile if profile is not None else stack.enter_context(_scratch_home())
        if background is not None:
            stack.enter_context(background())
        return asyncio.run(_measure(name, presses, session_factory, size, ready_timeout))
