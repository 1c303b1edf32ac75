"""One line under the conversation: what the model just learned, or what is happening."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.session_api import LearnReportLike

SIGNAL_LABELS = {
    "up": "👍", "down": "👎", "rating+": "👍", "rating-": "👎", "correct": "a correction",
    "correction": "a correction", "tag": "a tag", "sentiment": "your mood", "exchange": "the chat",
}


def learned_text(report: LearnReportLike) -> str:
    """Return e.g. 'learned from 👍 in 80 ms (3 steps, loss 2.31 → 2.05)'."""
    what = SIGNAL_LABELS.get(str(report.signal), str(report.signal))
    if not report.steps:
        return f"noted {what}"
    steps = "1 step" if report.steps == 1 else f"{report.steps} steps"
    line = f"learned from {what} in {report.millis:.0f} ms ({steps}"
    if report.loss_before is not None and report.loss_after is not None:
        line += f", loss {report.loss_before:.2f} → {report.loss_after:.2f}"
    return line + ")"


class StatusLine(Static):
    """Shows the latest learning report or a short state message."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)
        self.message = ""

    def say(self, message: str, style: str = "") -> None:
        """Show a plain message."""
        self.message = message
        self.update(Text(message, style=style))

    def learned(self, report: LearnReportLike) -> None:
        """Show a learning report (a plain exchange that changed nothing is not news)."""
        if report.signal == "exchange" and not report.steps:
            return
        self.say(learned_text(report), "green")
