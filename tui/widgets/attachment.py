"""An attached picture drawn with half-blocks, or a line describing an attached recording."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from harness.types import Part
from modalities.render import halfblocks


def describe_audio(part: Part, name: str) -> str:
    """Return e.g. '🔊 hello.wav · 2.4 s · 16000 Hz'."""
    rate = part.sample_rate or 0
    seconds = len(part.audio) / rate if part.audio is not None and rate else 0.0
    return f"🔊 {name} · {seconds:.1f} s · {rate} Hz"


class AttachmentView(Static):
    """Shows one attachment inside a message."""

    def __init__(self, part: Part, name: str, width: int = 32) -> None:
        if part.kind == "image":
            h, w = part.image.shape[:2] if part.image is not None else (0, 0)
            caption = Text(f"\n🖼 {name} · {w}x{h}", style="dim")
            body = Text.assemble(halfblocks(part, width=min(width, max(1, w))), caption)
        else:
            body = Text(describe_audio(part, name), style="dim")
        super().__init__(body, classes="attachment")
        self.part = part
        self.name_shown = name
