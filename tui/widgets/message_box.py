"""A multi-line text box: Enter sends, Ctrl+J or Shift+Enter adds a line, Ctrl+S also sends."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter", "newline")


class MessageBox(TextArea):
    """A TextArea that posts `Submitted` on Enter (a paste with newlines stays text)."""

    SEND = Binding.Group("send", compact=True)
    NEWLINE = Binding.Group("new line", compact=True)
    BINDINGS = [
        Binding("enter", "submit", "send", key_display="⏎", group=SEND),
        Binding("ctrl+s", "submit_key", "send", key_display="^s", group=SEND),
        Binding("ctrl+j", "newline", "new line", key_display="^j", group=NEWLINE),
        Binding("shift+enter,alt+enter", "newline_key", "new line", key_display="⇧⏎",
                group=NEWLINE),
    ]

    class Submitted(Message):
        """The person sent the text in the box."""

        def __init__(self, box: MessageBox, text: str) -> None:
            super().__init__()
            self.box = box
            self.text = text

        @property
        def control(self) -> MessageBox:
            """Return the box that sent it."""
            return self.box

    def __init__(self, *, placeholder: str = "", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, tab_behavior="focus", soft_wrap=True,
                         show_line_numbers=False, placeholder=placeholder)

    async def _on_key(self, event: events.Key) -> None:
        """Send on Enter, add a line on Ctrl+J / Shift+Enter; other keys edit as usual."""
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        """Post the text (the screen decides whether to clear the box)."""
        self.post_message(self.Submitted(self, self.text))

    def action_submit_key(self) -> None:
        """Send (the fallback key for terminals where Enter is taken)."""
        self.action_submit()

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def action_newline_key(self) -> None:
        """Insert a line break (Shift+Enter where the terminal reports it)."""
        self.action_newline()

    def clear_text(self) -> None:
        """Empty the box."""
        self.load_text("")
