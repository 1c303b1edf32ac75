"""Slash commands whose packages arrive with later issues: bundles (8) and teachers (7)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import DataError
from tui import features

if TYPE_CHECKING:
    from tui.commands.handlers import Handlers

#: Function names a bundle module may offer, in the order they are tried.
EXPORT_NAMES = ("export_bundle", "export_profile", "export")
IMPORT_NAMES = ("import_bundle", "import_profile")
#: Cells of the status-line progress bar of /export and /import.
BAR_WIDTH = 20


def _bundle_function(names: tuple[str, ...]) -> Any:
    """Return the bundle module's export or import function, or None."""
    module = features.load(features.BUNDLE_MODULES)
    if module is None:
        return None
    return next((getattr(module, n) for n in names if callable(getattr(module, n, None))), None)


def _unwired(h: Handlers, verb: str) -> None:
    """Say that bundles are not in this build, or where to run them instead."""
    if features.find(features.BUNDLE_MODULES) is None:
        h.say(features.missing("bundles", f"/{verb}"), "warning", timeout=10)
    else:
        h.say(f"bundles are installed but the chat cannot call them yet; run `insitu {verb}` "
              "in a terminal", "warning", timeout=10)


def _progress(h: Handlers, verb: str) -> Any:
    """Return a (fraction, message) callback that shows a progress bar in the status line."""
    app = h.app

    def report(fraction: float, message: str) -> None:
        """Draw the bar from the worker thread (through the app's thread-safe call)."""
        filled = max(0, min(BAR_WIDTH, round(fraction * BAR_WIDTH)))
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        app.call_from_thread(app.chat.status.say,
                             f"{verb} {bar} {fraction:4.0%} {message}", "yellow")

    return report


def do_export(h: Handlers, args: list[str]) -> None:
    """Export the open profile to PATH (default NAME.insitu in the current folder)."""
    fn = _bundle_function(EXPORT_NAMES)
    if fn is None:
        _unwired(h, "export")
        return
    if not h.need_profile():
        return
    profile = h.app.profile
    target = Path(args[0]).expanduser() if args else Path(f"{h.app.profile_name}.insitu")
    progress = _progress(h, "exporting")

    def done(result: Any) -> None:
        """Report where the bundle went and what it holds."""
        path = getattr(result, "path", None) or result or target
        h.app.chat.status.say(f"exported to {path}", "green")
        h.say(f"exported to {path} (champion, tasks, gate sets; no conversations, no keys)")

    h.background(lambda: fn(profile, target, progress=progress), done, "/export",
                 failed=lambda: h.app.chat.status.say("export failed; nothing was written",
                                                      "red"))


def do_import(h: Handlers, args: list[str]) -> None:
    """Import a bundle as a new profile, then offer to switch to it."""
    fn = _bundle_function(IMPORT_NAMES)
    if fn is None:
        _unwired(h, "import")
        return
    if not args:
        raise DataError("/import needs a bundle path", "usage: /import PATH [NAME]")
    source = Path(args[0]).expanduser()
    name = args[1] if len(args) > 1 else None
    progress = _progress(h, "importing")

    def done(result: Any) -> None:
        """Close the imported profile and offer to switch to it."""
        made = getattr(result, "name", None) or result
        if hasattr(result, "close"):
            result.close()
        h.app.chat.status.say(f"imported {source.name} as '{made}'", "green")
        h.say(f"imported {source.name} as profile '{made}'; switch with /profile {made}")

    h.background(lambda: fn(source, name, progress=progress), done, "/import",
                 failed=lambda: h.app.chat.status.say("import refused; no profile was created",
                                                      "red"))


def do_teach(h: Handlers, args: list[str]) -> None:
    """Have the profile's first teacher write N pairs (default 20) about an optional topic."""
    if features.find(features.TEACH_MODULES) is None:
        h.say(features.missing("teachers", "/teach"), "warning", timeout=10)
        return
    if not h.need_profile():
        return
    n = 20
    if args and args[0].isdigit():
        n, args = int(args[0]), args[1:]
    if n < 1:
        raise DataError("/teach needs at least 1 pair", "usage: /teach [N] [TOPIC]")
    topic = " ".join(args) or None
    profile = h.app.profile

    def job() -> Any:
        from teachers import config as tconfig
        from teachers.synth import synthesize

        teacher = tconfig.build(tconfig.get(profile, None))  # type: ignore[arg-type]
        try:
            return synthesize(profile, teacher, None, n, topic)  # type: ignore[arg-type]
        finally:
            teacher.close()

    h.say(f"asking the teacher for {n} pairs{' about ' + topic if topic else ''}…", timeout=4)
    h.background(job, lambda report: h.say(report.summary(), timeout=12), "/teach")
