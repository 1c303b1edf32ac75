"""The scrolling conversation: follows new text unless the person scrolled up."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget

from tui.widgets.message import MessageView


class ConversationView(VerticalScroll):
    """Holds the messages of one conversation, oldest first."""

    can_focus = False

    def on_mount(self) -> None:
        """Start anchored to the bottom."""
        self.anchor()

    def add(self, *widgets: Widget) -> None:
        """Append widgets and follow them (scrolling back to the bottom re-anchors)."""
        self.mount_all(widgets)

    def follow(self) -> None:
        """Jump to the newest message and keep following (after the person sends)."""
        self.anchor()

    def clear(self) -> None:
        """Remove every message."""
        self.remove_children()
        self.anchor()

    def replies(self) -> list[MessageView]:
        """Return the model's messages, oldest first."""
        return [m for m in self.query(MessageView) if m.is_reply]

    def last_reply(self) -> MessageView | None:
        """Return the newest reply, if any."""
        replies = self.replies()
        return replies[-1] if replies else None

    def neighbour(self, view: MessageView, step: int) -> MessageView | None:
        """Return the reply `step` places from `view`, or None past either end."""
        replies = self.replies()
        if view not in replies:
            return None
        index = replies.index(view) + step
        return replies[index] if 0 <= index < len(replies) else None
