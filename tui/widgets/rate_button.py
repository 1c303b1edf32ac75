"""A small clickable label under a reply: 👍, 👎, tag or correct."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Static


class RateButton(Static):
    """A one-line clickable label; clicking posts `Pressed` with its action name."""

    class Pressed(Message):
        """A reply button was clicked."""

        def __init__(self, button: RateButton) -> None:
            super().__init__()
            self.button = button

        @property
        def action(self) -> str:
            """Return what the button does: up, down, tag or correct."""
            return self.button.action

    def __init__(self, label: str, action: str, tooltip: str = "") -> None:
        super().__init__(label, markup=False, classes=f"rate-button rate-{action}")
        self.action = action
        if tooltip:
            self.tooltip = tooltip

    def on_click(self, event: events.Click) -> None:
        """Post `Pressed` for the reply to handle."""
        event.stop()
        self.post_message(self.Pressed(self))
