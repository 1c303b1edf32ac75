"""Pick a tag for a reply: a default (keys 1-4) or a word typed freely."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label

DEFAULT_TAGS = ("funny", "wrong", "helpful", "rude")


class TagModal(ModalScreen[str | None]):
    """Returns the chosen tag, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel", key_display="esc"),
        *(Binding(str(i), f"pick({i - 1})", tag, show=True)
          for i, tag in enumerate(DEFAULT_TAGS, 1)),
    ]

    def compose(self) -> ComposeResult:
        """Default tag buttons and a free-text field."""
        with Vertical(id="tag-dialog", classes="dialog"):
            yield Label("Tag this reply", classes="dialog-title")
            with Horizontal(id="tag-defaults"):
                for i, tag in enumerate(DEFAULT_TAGS, 1):
                    yield Button(f"{i} {tag}", id=f"tag-{tag}", compact=True)
            yield Input(placeholder="or type a tag and press Enter", id="tag-input",
                        max_length=64)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Focus the free-text field (digits 1-4 pick a default while it is empty)."""
        self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Let a lone digit 1-4 pick a default tag."""
        if event.value in ("1", "2", "3", "4"):
            self.action_pick(int(event.value) - 1)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return the typed tag (an empty field does nothing)."""
        tag = event.value.strip()
        if tag:
            self.dismiss(tag)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Return the clicked default."""
        if event.button.id and event.button.id.startswith("tag-"):
            self.dismiss(event.button.id.removeprefix("tag-"))

    def action_pick(self, index: int) -> None:
        """Return default tag number `index`."""
        self.dismiss(DEFAULT_TAGS[index])

    def action_cancel(self) -> None:
        """Close without tagging."""
        self.dismiss(None)
