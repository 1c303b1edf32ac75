"""What each slash command does; slow ones run in worker threads and report back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import DataError
from harness.profile import list_profiles
from tui import features
from tui.commands.optional import do_export, do_import, do_teach
from tui.evolution import unavailable_message, worker_available
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
        self.say(f"adding {len(paths)} path(s)…", timeout=3)
        self.background(lambda: add_paths(profile, paths),  # type: ignore[arg-type]
                        lambda reports: self.say(add_summary(reports), timeout=12),
                        "/add")

    def do_image(self, args: list[str]) -> None:
        """Attach a picture: shown in the chat and sent to the model through its image stem."""
        from modalities.image import ImageModality

        path = Path(args[0]).expanduser()
        caption = " ".join(args[1:])
        self.background(lambda: ImageModality().load(path),
                        lambda part: self._send_media(part, path.name, "image", caption),
                        "/image")

    def do_audio(self, args: list[str]) -> None:
        """Attach a recording: shown in the chat and sent to the model through its audio stem."""
        from modalities.audio import AudioModality

        path = Path(args[0]).expanduser()
        caption = " ".join(args[1:])
        self.background(lambda: AudioModality().load(path),
                        lambda part: self._send_media(part, path.name, "audio", caption),
                        "/audio")

    def do_record(self, args: list[str]) -> None:
        """Record from the microphone and send the clip (says plainly when audio is unavailable).

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
        if seconds > MAX_RECORD_SECONDS:
            self.say(f"recordings last at most {MAX_RECORD_SECONDS:.0f} s; recording "
                     f"{MAX_RECORD_SECONDS:.0f} s instead of {seconds:g} s (attach longer clips "
                     "with /audio PATH)", "warning", timeout=10)
            seconds = MAX_RECORD_SECONDS
        status = self.app.chat.status
        status.say(f"recording {seconds:g} s…", "yellow")
        self.background(lambda: record(seconds),
                        lambda part: self._send_media(part, "recording", "audio", ""),
                        "/record", failed=lambda: status.say("no recording was made", "red"))

    def _send_media(self, part: Any, name: str, kind: str, caption: str) -> None:
        """Show the attachment and send it with its caption (a label profile answers its label;
        a text model reads the caption or a marker)."""
        if kind == "image":
            h, w = part.image.shape[:2]
            marker = f"[image: {name} {w}x{h}]"
        else:
            seconds = len(part.audio) / part.sample_rate if part.sample_rate else 0.0
            marker = f"[audio: {name} {seconds:.1f} s]"
        text = f"{marker} {caption}".strip()
        self.app.chat.send(text, attachments=[AttachmentView(part, name)], parts=[part])

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
