"""Every slash command and key binding on one page."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from tui.commands import COMMANDS

KEYS = (
    ("Enter / Ctrl+S", "send the message"),
    ("Shift+Enter / Ctrl+J", "new line in the message"),
    ("Up / Down", "previous / next sent message (at the first / last line)"),
    ("Esc", "stop the reply or the recording; back to the message box"),
    ("Tab / Shift+Tab", "select the latest reply / move between replies"),
    ("Up / Down (on a reply)", "previous / next reply"),
    ("+ / -", "rate the selected reply 👍 / 👎 (or click them)"),
    ("t / c", "tag / correct the selected reply"),
    ("i", "back to the message box"),
    ("Ctrl+N  F2  F3", "new chat, history, population"),
    ("Ctrl+P", "command palette (every slash command)"),
    ("F1 / Ctrl+Q", "this help / quit"),
)


def help_table() -> Table:
    """Return the commands and keys as a rich table."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for command in COMMANDS:
        table.add_row(command.usage, command.help)
    table.add_row("PATH [TEXT]", "paste or drop a picture's or wav's path to attach it")
    table.add_row("//text", "send a message that starts with '/'")
    table.add_row("", "")
    for keys, what in KEYS:
        table.add_row(keys, what)
    return table


class HelpScreen(ModalScreen[None]):
    """Commands and keys; any of Esc, q or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1", "close", "close", key_display="esc")]

    def compose(self) -> ComposeResult:
        """The commands and keys table."""
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("insitu: commands and keys", classes="dialog-title")
            yield Static(help_table())
        yield Footer(compact=True)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
