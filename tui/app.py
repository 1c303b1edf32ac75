"""The insitu chat app: one profile, one session, the chat screen and its commands."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message

from harness.errors import InsituError
from harness.profile import Profile
from tui.commands import SlashError, parse
from tui.commands.handlers import Handlers
from tui.evolution import EvolutionControl, worker_available
from tui.palette import SlashCommands
from tui.screens.chat import ChatScreen
from tui.serial import SerialRunner
from tui.session_api import LearnReportLike, SessionFactory, SessionLike
from tui.widgets.message import DOWN, UP, MessageView


def default_session_factory(profile: Profile, **kwargs: Any) -> SessionLike:
    """Build the real chat session (harness.chat.session.ChatSession)."""
    from harness.chat.session import ChatSession

    return ChatSession(profile, **kwargs)


def default_sentiment() -> Callable[[str], float] | None:
    """Return modalities.sentiment.score (VADER), or None where it is not installed."""
    try:
        from modalities.sentiment import score
    except ImportError:
        return None
    return score


#: How often the app checks the worker and the session's model (seconds).
TICK_S = 2.0
#: Look for a newer champion every this many ticks (the worker stores champions as it finds them).
CHAMPION_EVERY_TICKS = 3
#: The activity file is touched at most this often while the person types or a reply streams.
ACTIVE_EVERY_S = 1.0
ACTIVE_FILE = "ui-active"


class InsituApp(App[None]):
    """Chat with your own micro-model; rate, tag and correct it as it learns."""

    CSS_PATH = "styles.tcss"
    TITLE = "insitu"
    COMMANDS = App.COMMANDS | {SlashCommands}
    BINDINGS = [
        Binding("ctrl+n", "slash('/new')", "new", key_display="^n"),
        Binding("f1", "slash('/help')", "help", key_display="F1"),
        Binding("f2", "slash('/history')", "history", key_display="F2"),
        Binding("f3", "slash('/population')", "population", key_display="F3"),
        Binding("ctrl+q", "quit", "quit", key_display="^q", priority=True),
    ]

    class Learned(Message):
        """The session finished an online-learning step (posted from its worker thread)."""

        def __init__(self, report: LearnReportLike) -> None:
            super().__init__()
            self.report = report

    def __init__(self, profile_name: str = "default", *,
                 session_factory: SessionFactory | None = None, seed: int = 0,
                 device: str | None = None, sentiment: Callable[[str], float] | None = None,
                 use_default_sentiment: bool = True, evolve: bool = True) -> None:
        super().__init__()
        self.profile_name = profile_name
        self.session_factory = session_factory or default_session_factory
        self.seed = seed
        self.device = device
        self.sentiment = sentiment if sentiment or not use_default_sentiment \
            else default_sentiment()
        self.profile: Profile | None = None
        self.session: SessionLike | None = None
        self.evolution = EvolutionControl()
        self.auto_evolve = evolve
        self.handlers = Handlers(self)
        self.runner: SerialRunner | None = None
        self.ready = threading.Event()
        self._active_at = 0.0
        self._label = ""
        self._ticks = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def on_mount(self) -> None:
        """Show the chat and open the profile."""
        self.runner = SerialRunner(self.call_from_thread)
        await self.push_screen(ChatScreen())
        self.open_profile(self.profile_name)
        self.set_interval(TICK_S, self._tick)

    @property
    def chat(self) -> ChatScreen:
        """Return the chat screen (under any screen pushed over it)."""
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                return screen
        raise LookupError("the chat screen is not open")

    def open_profile(self, name: str) -> None:
        """Open a profile and its session (in a thread); the old one stays until it works."""
        self.ready.clear()
        self.chat.status.say(f"opening profile '{name}' and loading its model…", "dim")
        self._open(name)

    @work(thread=True, exclusive=True, group="profile")
    def _open(self, name: str) -> None:
        """Open the profile and build its session off the UI thread."""
        profile: Profile | None = None
        try:
            profile = Profile.open(name)
            session = self.session_factory(profile, device=self.device, seed=self.seed,
                                           sentiment=self.sentiment, on_learned=self._learned)
            if self.sentiment is not None:
                self.sentiment("warm up")  # VADER reads its lexicon on first use (~1-2 s)
        except Exception as exc:  # a missing profile or a model that fails to load
            if profile is not None:
                profile.close()
            self.call_from_thread(self._open_failed, name, exc)
            return
        self.call_from_thread(self._opened, profile, session)

    def _opened(self, profile: Profile, session: SessionLike) -> None:
        """Swap in the new profile and session."""
        old_session, old_profile = self.session, self.profile
        self.profile, self.session, self.profile_name = profile, session, profile.name
        self._close(old_session, old_profile)
        self.sub_title = f"{profile.name} · {session.model_label}"
        self._label = session.model_label
        self.chat.show_messages([], session.model_label)
        self.chat.status.say(f"profile '{profile.name}' · model {session.model_label} · "
                             "type a message and press Enter", "dim")
        self._follow_worker(profile)
        self.ready.set()

    def _follow_worker(self, profile: Profile) -> None:
        """Run idle evolution on the open profile (where this build has the worker)."""
        if not self.auto_evolve or not worker_available():
            return
        if self.evolution.running and self.evolution.profile != profile.name:
            self.evolution.stop()
        if not self.evolution.running:
            try:
                self.evolution.start(profile.name, profile.path / "logs")
            except OSError as exc:
                self.show_error(exc, "the evolution worker did not start")

    def _open_failed(self, name: str, exc: BaseException) -> None:
        """Keep the current profile (if any) and say what went wrong."""
        self.show_error(exc, f"cannot open profile '{name}'")
        if self.session is None:
            self.chat.status.say(f"no model loaded: profile '{name}' did not open; try "
                                 "/profile NAME", "red")
        else:
            self.chat.status.say(f"still on profile '{self.profile_name}'", "yellow")
        self.ready.set()

    def _close(self, session: SessionLike | None, profile: Profile | None) -> None:
        """Close a session and its profile, reporting (not raising) failures."""
        for thing in (session, profile):
            if thing is None:
                continue
            try:
                thing.close()
            except Exception as exc:  # closing must never take the app down
                self.show_error(exc, "closing the previous profile failed")

    def on_unmount(self) -> None:
        """Stop a reply and a recording, finish pending signal writes, stop evolution, close
        the session."""
        try:
            stops = [self.chat.stop_event, self.chat.recording]
        except LookupError:
            stops = []
        for stop in stops:
            if stop is not None:
                stop.set()
        if self.runner is not None:
            self.runner.close()
        if self.evolution.running:
            self.evolution.stop()
        self._close(self.session, self.profile)
        self.session, self.profile = None, None

    # -- the worker, the model and activity -----------------------------------------------
    def _tick(self) -> None:
        """Notice a crashed worker and a change of champion."""
        code = self.evolution.crashed()
        if code is not None:
            self.evolution.process = None
            self.notify(f"the evolution worker stopped by itself (exit code {code}; log: "
                        f"{self.evolution.log}); the chat keeps working. Restart it with "
                        "/evolve start", title="evolution", severity="error", timeout=15,
                        markup=False)
        session = self.session
        self._ticks += 1
        if session is not None and self._ticks % CHAMPION_EVERY_TICKS == 0:
            self.run_worker(self._refresh_champion, thread=True, group="champion",
                            exclusive=True, exit_on_error=False)
        if session is not None and self.profile is not None and session.model_label != self._label:
            self._label = session.model_label
            self.sub_title = f"{self.profile.name} · {session.model_label}"
            self.notify(f"now chatting with {session.model_label}", title="new champion",
                        markup=False)

    def _refresh_champion(self) -> None:
        """Load a newer champion found by the worker (in a thread; takes effect between replies)."""
        session = self.session
        if session is not None and hasattr(session, "refresh_champion"):
            session.refresh_champion()

    def mark_active(self) -> None:
        """Touch <profile>/ui-active (at most once a second) so the worker can pause."""
        now = time.monotonic()
        if self.profile is None or now - self._active_at < ACTIVE_EVERY_S:
            return
        self._active_at = now
        try:
            (self.profile.path / ACTIVE_FILE).touch()
        except OSError:  # a read-only profile folder only costs the worker's politeness
            pass

    # -- errors and learning reports -------------------------------------------------------
    def show_error(self, exc: BaseException, context: str) -> None:
        """Notify an error with its next step; never raise."""
        if isinstance(exc, InsituError):
            text = exc.message + (f"\n→ {exc.hint}" if exc.hint else "")
        else:
            text = f"{type(exc).__name__}: {exc}"
        self.notify(text, title=context, severity="error", timeout=10, markup=False)

    def _learned(self, report: LearnReportLike) -> None:
        """Receive a learning report from any thread."""
        self.post_message(self.Learned(report))

    def on_insitu_app_learned(self, event: Learned) -> None:
        """Show what the model just learned."""
        try:
            self.chat.status.learned(event.report)
        except LookupError:
            pass

    # -- signals on replies (committed in order, off the UI thread) ------------------------
    def _submit(self, job: Callable[[], Any], done: Callable[[Any], None], what: str) -> None:
        """Queue a signal write; failures become notifications."""
        if self.runner is None:
            return
        self.runner.submit(job, done, lambda exc: self.show_error(exc, f"{what} was not saved"))

    def rate(self, view: MessageView, value: int) -> None:
        """Save a 👍/👎; the reply shows it as saved only once the store committed it."""
        session, mid = self.session, view.message_id
        if session is None or mid is None or self.runner is None:
            return
        view.set_pending(value)
        self.chat.status.say(f"saving {UP if value > 0 else DOWN}; the model learns from it…",
                             "dim")

        def done(_result: Any) -> None:
            view.set_rating(value)

        def failed(exc: BaseException) -> None:
            view.set_pending(None)
            self.show_error(exc, "the rating was not saved")

        self.runner.submit(lambda: session.rate(mid, value), done, failed)

    def tag(self, view: MessageView, tag: str) -> None:
        """Save a tag on a reply."""
        session, mid = self.session, view.message_id
        if session is None or mid is None:
            return
        self._submit(lambda: session.tag(mid, tag), lambda _r: view.add_tag(tag), "the tag")

    def correct(self, view: MessageView, text: str) -> None:
        """Save the reply it should have been."""
        session, mid = self.session, view.message_id
        if session is None or mid is None:
            return

        def done(_result: Any) -> None:
            view.set_correction(text)

        self.chat.status.say("saving the correction; the model learns from it…", "dim")
        self._submit(lambda: session.correct(mid, text), done, "the correction")

    def show_auto_tags(self, reply_id: str) -> None:
        """Show the sentiment tags the session stored on a reply."""
        view = self.chat.find_reply(reply_id)
        if view is None or self.profile is None:
            return
        rows = self.profile.store.query(
            "SELECT tag, score FROM tags WHERE message_id = ? AND source = 'sentiment'",
            [reply_id])
        for row in rows:
            if row["tag"] not in view.auto_tags:
                view.add_tag(str(row["tag"]), auto=True)

    # -- commands --------------------------------------------------------------------------
    def run_slash(self, text: str) -> None:
        """Run a slash command; a mistake becomes a notification."""
        try:
            command, args = parse(text)
            getattr(self.handlers, f"do_{command.name}")(args)
        except SlashError as exc:
            self.show_error(exc, "command")
        except Exception as exc:  # a failing command must not close the chat
            self.show_error(exc, f"{text.split()[0]} failed")

    def action_slash(self, text: str) -> None:
        """Run a slash command from a key binding."""
        self.run_slash(text)

    def prefill(self, text: str) -> None:
        """Put text in the message box for the person to finish (palette commands)."""
        while not isinstance(self.screen, ChatScreen):
            self.pop_screen()
        box = self.chat.chat_input
        box.load_text(text)
        box.move_cursor(box.document.end)
        box.focus()
