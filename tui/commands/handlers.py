"""What each slash command does; slow ones run in worker threads and report back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import DataError
from harness.profile import list_profiles
from harness.words import counted
from tui import features
from tui.commands.optional import do_export, do_import, do_teach
from tui.evolution import unavailable_message, worker_available
from tui.pasted import Pasted, media_kind
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.screens.population import PopulationScreen
from tui.widgets.attachment import AttachmentView

if TYPE_CHECKING:
    from tui.app import InsituApp

DEFAULT_RECORD_S = 5.0


def add_summary(reports: list[Any]) -> str:
    """Return one line per file: added, duplicates, held out, or why it was rejected."""
    lines = []
    for r in reports:
        name = Path(r.path).name or r.path
        if r.rejected:
            lines.append(f"{name}: rejected: {r.rejected}")
            continue
        line = f"{name}: {r.added} added, {r.duplicates} duplicates, {r.heldout} held out"
        if r.problems:
            line += f", {len(r.problems)} problems (first: {r.problems[0]})"
        lines.append(line)
    return "\n".join(lines)


def mark_corrections(profile: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark the replies that have a stored correction (an example linked to the message)."""
    ids = [r["id"] for r in rows if r.get("role") == "assistant"]
    if profile is None or not ids:
        return rows
    marks = ",".join("?" * len(ids))
    found = {r["message_id"] for r in profile.store.query(
        f"SELECT DISTINCT message_id FROM examples WHERE message_id IN ({marks})", ids)}
    for r in rows:
        if r["id"] in found:
            r["correction"] = r.get("correction") or "(stored)"
    return rows


class Handlers:
    """The slash commands of one app."""

    def __init__(self, app: InsituApp) -> None:
        self.app = app

    # -- helpers ---------------------------------------------------------------------------
    def background(self, job: Callable[[], Any], done: Callable[[Any], None], what: str,
                   failed: Callable[[], None] | None = None) -> None:
        """Run `job` in a thread; `done(result)` runs on the UI thread, errors are notified."""
        app = self.app

        def run() -> None:
            try:
                result = job()
            except Exception as exc:  # shown, never raised into the UI
                app.call_from_thread(app.show_error, exc, f"{what} failed")
                if failed is not None:
                    app.call_from_thread(failed)
                return
            app.call_from_thread(done, result)

        app.run_worker(run, thread=True, group="commands", name=what)

    def say(self, text: str, severity: str = "information", timeout: float = 6) -> None:
        """Notify plain text."""
        self.app.notify(text, severity=severity, timeout=timeout, markup=False)  # type: ignore[arg-type]

    def need_profile(self) -> bool:
        """Return True if a profile is open, else say so."""
        if self.app.profile is None or self.app.session is None:
            self.say("no profile is open; open one with /profile NAME", "warning")
            return False
        return True

    # -- conversations ---------------------------------------------------------------------
    def do_new(self, args: list[str]) -> None:
        """Start a new conversation (stopping a reply in progress)."""
        if self.need_profile():
            self.app.chat.after_reply(self._new)

    def _new(self) -> None:
        """Start the new conversation once no reply is running."""
        session = self.app.session
        if session is not None:
            session.new_conversation()
            self.app.chat.show_messages([], session.model_label)
            self.app.chat.status.say("new conversation", "dim")

    def do_history(self, args: list[str]) -> None:
        """List past conversations; the chosen one is reopened."""
        if self.need_profile():
            self.app.push_screen(HistoryScreen(), self._reopen)

    def _reopen(self, conversation_id: str | None) -> None:
        """Load and show a conversation chosen in the history."""
        session = self.app.session
        if not conversation_id or session is None:
            return

        def load() -> list[dict[str, Any]]:
            rows = session.open_conversation(conversation_id)
            return mark_corrections(self.app.profile, rows)

        def go() -> None:
            self.background(load,
                            lambda rows: self.app.chat.show_messages(rows, session.model_label),
                            "reopening the conversation")

        self.app.chat.after_reply(go)

    def do_profile(self, args: list[str]) -> None:
        """Switch profile, or list the profiles."""
        if not args:
            names = ", ".join(list_profiles()) or "none yet"
            self.say(f"profile '{self.app.profile_name}' is open; profiles: {names}\n"
                     "switch with /profile NAME")
            return
        name = args[0]
        self.app.chat.after_reply(lambda: self.app.open_profile(name))

    # -- data and media --------------------------------------------------------------------
    def do_add(self, args: list[str]) -> None:
        """Add data files to the profile's first task."""
        if not self.need_profile():
            return
        from harness.data.ingest import add_paths

        profile = self.app.profile
        paths = [Path(a).expanduser() for a in args]
        self.say(f"adding {counted(len(paths), 'path')}…", timeout=3)
        self.background(lambda: add_paths(profile, paths),  # type: ignore[arg-type]
                        lambda reports: self.say(add_summary(reports), timeout=12),
                        "/add")

    def do_image(self, args: list[str]) -> None:
        """Attach a picture: shown in the chat and sent to the model through its image stem."""
        self.attach(Path(args[0]).expanduser(), " ".join(args[1:]), "image")

    def do_audio(self, args: list[str]) -> None:
        """Attach a recording: shown in the chat and sent to the model through its audio stem."""
        self.attach(Path(args[0]).expanduser(), " ".join(args[1:]), "audio")

    def attach(self, path: Path, caption: str, kind: str,
               on_sent: Callable[[], None] | None = None,
               on_end: Callable[[], None] | None = None) -> None:  # fmt: skip
        """Load a picture or a wav in a thread, then show and send it (`on_sent` runs once it
        was sent, `on_end` in every case); a file that cannot be read is a notification naming
        what to do."""
        if kind == "image":
            from modalities.image import ImageModality

            load: Callable[[Path], Any] = ImageModality().load
        else:
            from modalities.audio import AudioModality

            load = AudioModality().load

        def end() -> None:
            """Tell the caller the file was read or refused."""
            if on_end is not None:
                on_end()

        def sent(part: Any) -> None:
            """Show and send the loaded part."""
            end()
            if self._send_media(part, path.name, kind, caption) and on_sent is not None:
                on_sent()

        self.background(lambda: load(path), sent, f"/{kind}", failed=end)

    def attach_pasted(self, pasted: Pasted, on_sent: Callable[[], None],
                      on_end: Callable[[], None] | None = None) -> None:  # fmt: skip
        """Attach a file whose path was pasted into the message box, as /image or /audio would."""
        self.attach(pasted.path, pasted.caption, media_kind(pasted.path), on_sent, on_end)

    def do_record(self, args: list[str]) -> None:
        """Record from the microphone with a level meter and send the clip (says plainly when
        audio is unavailable). Esc ends it early; the meter goes away when it ends.

        A length over the recorder's limit is capped to it with a notice; 0 s is refused.
        """
        try:
            seconds = float(args[0]) if args else DEFAULT_RECORD_S
        except ValueError as exc:
            raise DataError(f"'{args[0]}' is not a number of seconds",
                            "usage: /record [SECONDS], e.g. /record 5") from exc
        from modalities.audio import MAX_RECORD_SECONDS, record

        if not seconds > 0:
            raise DataError(f"a {seconds:g}-second recording has no audio",
                            "give a length above 0, e.g. /record 3")
        chat = self.app.chat
        if chat.recording is not None:
            raise DataError("a recording is already running",
                            "wait for it to end, or press Esc to stop it")
        if seconds > MAX_RECORD_SECONDS:
            self.say(f"recordings last at most {MAX_RECORD_SECONDS:.0f} s; recording "
                     f"{MAX_RECORD_SECONDS:.0f} s instead of {seconds:g} s (attach longer clips "
                     "with /audio PATH)", "warning", timeout=10)
            seconds = MAX_RECORD_SECONDS
        stop = threading.Event()
        meter = chat.start_recording(seconds, stop)
        chat.status.say(f"recording {seconds:g} s… (Esc stops early)", "yellow")

        def done(part: Any) -> None:
            """Take the meter away and send the clip."""
            chat.end_recording(meter)
            self._send_media(part, "recording", "audio", "")

        def failed() -> None:
            """Take the meter away and say nothing was recorded."""
            chat.end_recording(meter)
            chat.status.say("no recording was made", "red")

        self.background(lambda: record(seconds, on_meter=meter.feed, stop=stop), done,
                        "/record", failed=failed)

    def _send_media(self, part: Any, name: str, kind: str, caption: str) -> bool:
        """Show the attachment and send it with its caption (a label profile answers its label;
        a text model reads the caption or a marker); return False if it was not sent."""
        if kind == "image":
            h, w = part.image.shape[:2]
            marker = f"[image: {name} {w}x{h}]"
        else:
            seconds = len(part.audio) / part.sample_rate if part.sample_rate else 0.0
            marker = f"[audio: {name} {seconds:.1f} s]"
        text = f"{marker} {caption}".strip()
        return self.app.chat.send(text, attachments=[AttachmentView(part, name)], parts=[part])

    # -- evolution -------------------------------------------------------------------------
    def do_evolve(self, args: list[str]) -> None:
        """Start or stop the idle-evolution worker."""
        if not worker_available():
            self.say(unavailable_message(), "warning", timeout=10)
            return
        if not self.need_profile():
            return
        evo = self.app.evolution
        want = args[0].lower() if args else ("stop" if evo.running else "start")
        if want not in ("start", "stop"):
            raise DataError(f"/evolve {want}?", "usage: /evolve [start|stop]")
        if want == "stop":
            self.say(evo.stop())
        else:
            assert self.app.profile is not None
            self.say(evo.start(self.app.profile_name, self.app.profile.path / "logs"))

    def do_population(self, args: list[str]) -> None:
        """Show the champion, leaderboard and recent events."""
        if self.need_profile():
            self.app.push_screen(PopulationScreen())

    # -- bundles and teachers (wired when their packages exist) ----------------------------
    def do_export(self, args: list[str]) -> None:
        """Export the profile as a bundle."""
        do_export(self, args)

    def do_import(self, args: list[str]) -> None:
        """Import a bundle as a new profile."""
        do_import(self, args)

    def do_teach(self, args: list[str]) -> None:
        """Have a teacher write training pairs."""
        do_teach(self, args)

    # -- the rest --------------------------------------------------------------------------
    def do_help(self, args: list[str]) -> None:
        """Show commands and keys."""
        self.app.push_screen(HelpScreen())

    def do_quit(self, args: list[str]) -> None:
        """Leave the app."""
        self.app.exit()

    @staticmethod
    def has(part: str) -> bool:
        """Return True if an optional part is installed."""
        names = {"bundles": features.BUNDLE_MODULES, "teachers": features.TEACH_MODULES,
                 "worker": features.WORKER_MODULES}[part]
        return features.find(names) is not None
