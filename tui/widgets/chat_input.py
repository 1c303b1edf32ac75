"""The chat's message box: a MessageBox that recalls sent messages with Up/Down."""

from __future__ import annotations

import re

from textual import events
from textual.binding import Binding

from tui.widgets.message_box import MessageBox

#: Pastes longer than this stay out of the editor (a placeholder stands in) so typing stays fast.
LARGE_PASTE = 10_000
_TOKEN = re.compile(r"\[paste #(\d+): [\d,]+ characters\]")


class ChatInput(MessageBox):
    """Up at the first line and Down at the last line walk through what was sent."""

    RECALL = Binding.Group("history", compact=True)
    BINDINGS = [
        Binding("up", "cursor_up", "history", key_display="↑", group=RECALL),
        Binding("down", "cursor_down", "history", key_display="↓", group=RECALL),
    ]

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.sent: list[str] = []
        self._index: int | None = None
        self._draft = ""
        self.pastes: dict[int, str] = {}

    async def _on_paste(self, event: events.Paste) -> None:
        """Keep a very large paste aside behind a placeholder; TextArea's own handler (which
        Textual calls after this one) inserts the others."""
        if len(event.text) <= LARGE_PASTE:
            return
        event.stop()
        event.prevent_default()
        number = len(self.pastes) + 1
        self.pastes[number] = event.text
        start, end = self.selection
        self.replace(f"[paste #{number}: {len(event.text):,} characters]", start, end,
                     maintain_selection_offset=False)
        self.focus()

    @property
    def message(self) -> str:
        """Return the text to send: placeholders replaced by what was pasted."""
        return _TOKEN.sub(lambda m: self.pastes.get(int(m.group(1)), m.group(0)), self.text)

    def action_submit(self) -> None:
        """Remember the text (placeholders and all), then post the full message."""
        text = self.text
        if text.strip() and (not self.sent or self.sent[-1] != text):
            self.sent.append(text)
        self._index = None
        self._draft = ""
        self.post_message(self.Submitted(self, self.message))

    def action_cursor_up(self, select: bool = False) -> None:
        """Move up a line, or recall the previous message from the first line."""
        if not select and self.cursor_location[0] == 0 and self.sent:
            self._recall(-1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        """Move down a line, or recall the next message from the last line."""
        last = self.document.line_count - 1
        if not select and self._index is not None and self.cursor_location[0] == last:
            self._recall(1)
            return
        super().action_cursor_down(select)

    def _recall(self, step: int) -> None:
        """Show the entry `step` away; past the newest comes back the unsent draft."""
        if self._index is None:
            if step > 0:
                return
            self._draft = self.text
            self._index = len(self.sent)
        self._index = max(0, min(len(self.sent), self._index + step))
        if self._index == len(self.sent):
            text, self._index = self._draft, None
        else:
            text = self.sent[self._index]
        self.load_text(text)
        self.move_cursor(self.document.end)
