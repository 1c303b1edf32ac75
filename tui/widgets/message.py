"""One message of the conversation; replies can be focused, rated, tagged and corrected."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from tui.literal import literal, shown
from tui.widgets.rate_button import RateButton

CURSOR = "▌"
UP, DOWN = "👍", "👎"


class MessageView(Vertical):
    """A message: who, what (shown literally) and, for replies, its rating bar."""

    MOVE = Binding.Group("replies", compact=True)
    BINDINGS = [
        Binding("plus,equals_sign", "rate(1)", "good", key_display="+"),
        Binding("minus,underscore", "rate(-1)", "bad", key_display="-"),
        Binding("t", "signal('tag')", "tag"),
        Binding("c", "signal('correct')", "correct"),
        Binding("up,k", "neighbour(-1)", "replies", key_display="↑", group=MOVE),
        Binding("down,j", "neighbour(1)", "replies", key_display="↓", group=MOVE),
        Binding("i", "signal('type')", "type"),
    ]

    class Signal(Message):
        """The person rated (up/down), or asked to tag or correct a reply."""

        def __init__(self, view: MessageView, action: str) -> None:
            super().__init__()
            self.view = view
            self.action = action

    def __init__(self, role: str, text: str = "", *, message_id: str | None = None,
                 label: str = "", streaming: bool = False) -> None:
        super().__init__(classes=f"message {role}")
        self.role = role
        self.text = text
        self.message_id = message_id
        self.label = label or ("you" if role == "user" else "model")
        self.streaming = streaming
        self.stopped = False
        self.failed = False
        self.rating: int | None = None
        self.pending: int | None = None
        self.tags: list[str] = []
        self.auto_tags: list[str] = []
        self.correction: str | None = None
        self.can_focus = role == "assistant"
        self._body_widget: Static | None = None
        self._state_widget: Static | None = None

    @property
    def is_reply(self) -> bool:
        """Return True for the model's messages."""
        return self.role == "assistant"

    def compose(self) -> ComposeResult:
        """Who, the text and, for a reply, its buttons and state."""
        yield Static(Text(self.label, style="bold"), classes="message-head")
        self._body_widget = Static(self._body(), classes="message-body")
        yield self._body_widget
        if self.is_reply:
            self._state_widget = Static(self._state(), markup=False, classes="message-state")
            with Horizontal(classes="message-actions"):
                yield RateButton(UP, "up", "rate this reply good (+)")
                yield RateButton(DOWN, "down", "rate this reply bad (-)")
                yield RateButton("tag", "tag", "tag this reply (t)")
                yield RateButton("correct", "correct", "write the reply it should have been (c)")
                yield self._state_widget

    def _body(self) -> Text:
        """Return the text shown: literal, with a cursor while streaming."""
        body = literal(self.text)
        if self.streaming:
            body.append(CURSOR, style="blink")
        elif self.failed:
            body.append(("  " if self.text else "") + "(the reply failed: send your message again)",
                        style="dim italic")
        elif self.stopped:
            body.append("  (stopped)", style="dim italic")
        elif not self.text and self.is_reply:
            body.append("(no reply)", style="dim italic")
        return body

    def _state(self) -> str:
        """Return the rating, tags and correction line of a reply."""
        parts: list[str] = []
        if self.pending is not None:
            parts.append(f"saving {UP if self.pending > 0 else DOWN}…")
        elif self.rating is not None:
            parts.append(f"saved {UP if self.rating > 0 else DOWN}")
        if self.tags:
            parts.append("tags: " + ", ".join(shown(t, 40) for t in self.tags))
        if self.auto_tags:
            parts.append("mood: " + ", ".join(self.auto_tags))
        if self.correction is not None:
            parts.append("corrected ✓")
        return "  ·  ".join(parts)

    def _refresh_parts(self) -> None:
        """Redraw the body and the state line (when mounted)."""
        if self._body_widget is None:
            return
        self._body_widget.update(self._body())
        if self._state_widget is not None:
            self._state_widget.update(self._state())

    # -- updates from the screen -----------------------------------------------------------
    def append(self, piece: str) -> None:
        """Add streamed text."""
        self.text += piece
        self._refresh_parts()

    def finish(self, message_id: str | None, stopped: bool = False, failed: bool = False) -> None:
        """End streaming: the reply now has its id and can be rated (a failed one cannot)."""
        self.streaming = False
        self.stopped = stopped
        self.failed = failed and message_id is None
        self.message_id = message_id
        if self.failed:
            for actions in self.query(".message-actions"):
                actions.display = False
        self._refresh_parts()

    def set_pending(self, value: int | None) -> None:
        """Show that a rating is being saved."""
        self.pending = value
        self._refresh_parts()

    def set_rating(self, value: int) -> None:
        """Show a rating as saved (only call once the store committed it)."""
        self.pending = None
        self.rating = value
        self._refresh_parts()

    def add_tag(self, tag: str, auto: bool = False) -> None:
        """Show a saved tag."""
        (self.auto_tags if auto else self.tags).append(tag)
        self._refresh_parts()

    def set_correction(self, text: str) -> None:
        """Show that a correction was saved."""
        self.correction = text
        self._refresh_parts()

    # -- actions ---------------------------------------------------------------------------
    def action_rate(self, value: int) -> None:
        """Rate this reply up (+1) or down (-1)."""
        self.post_message(self.Signal(self, "up" if value > 0 else "down"))

    def action_signal(self, action: str) -> None:
        """Ask to tag or correct this reply, or to go back to typing."""
        if action == "type":
            self._move(0)
        else:
            self.post_message(self.Signal(self, action))

    def action_neighbour(self, step: int) -> None:
        """Move to the previous or next reply."""
        self._move(step)

    def _move(self, step: int) -> None:
        """Move focus now: to the reply `step` away, or back to typing (0 or past the end)."""
        move_from = getattr(self.screen, "move_from", None)
        if move_from is not None:
            move_from(self, step)
        elif step:
            self.screen.focus_next() if step > 0 else self.screen.focus_previous()

    def on_rate_button_pressed(self, event: RateButton.Pressed) -> None:
        """Turn a click on 👍/👎/tag/correct into a signal."""
        event.stop()
        self.focus()
        self.post_message(self.Signal(self, event.action))
