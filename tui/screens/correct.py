"""Write the reply the model should have given; it becomes a supervised example."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from tui.literal import literal
from tui.widgets.message_box import MessageBox


class CorrectModal(ModalScreen[str | None]):
    """Returns the corrected reply, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "cancel", key_display="esc")]

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    def compose(self) -> ComposeResult:
        """The reply as it was, and a box for what it should have been."""
        with Vertical(id="correct-dialog", classes="dialog"):
            yield Label("The reply was:", classes="dialog-title")
            with VerticalScroll(id="correct-was"):
                yield Static(literal(self.reply), classes="was")
            yield Label("The reply should have been:  (Enter saves · Ctrl+J new line · Esc)")
            yield MessageBox(id="correct-input")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Focus the text box."""
        self.query_one(MessageBox).focus()

    def on_message_box_submitted(self, event: MessageBox.Submitted) -> None:
        """Return the correction (an empty box asks for text)."""
        event.stop()
        if not event.text.strip():
            self.notify("type the reply it should have been, or press Esc",
                        severity="warning")
            return
        self.dismiss(event.text)

    def action_cancel(self) -> None:
        """Close without correcting."""
        self.dismiss(None)
