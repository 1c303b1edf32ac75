"""While recording: the live input level as a bar (RMS, peak marked) and the seconds left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from modalities.audio_record import Level

#: How often the meter redraws (seconds); the audio thread only stores the latest reading.
REFRESH_S = 0.1
#: The bar spans this range of dBFS (quieter reads as an empty bar).
FLOOR_DBFS = -60.0
#: Levels from GOOD_DBFS up are green, from LOUD_DBFS yellow, from CLIP_DBFS red (clipping).
GOOD_DBFS = -20.0
LOUD_DBFS = -9.0
CLIP_DBFS = -3.0


def fraction(db: float) -> float:
    """Return where a dBFS level sits on the bar, 0 (floor) to 1 (full scale)."""
    return min(1.0, max(0.0, (db - FLOOR_DBFS) / -FLOOR_DBFS))


def level_style(db: float) -> str:
    """Return the bar colour: dim green when quiet, green, yellow when loud, red near clipping."""
    if db >= CLIP_DBFS:
        return "bold red"
    if db >= LOUD_DBFS:
        return "yellow"
    return "green" if db >= GOOD_DBFS else "green dim"


def meter_text(level: Level | None, seconds: float, width: int = 30) -> Text:
    """Return e.g. '● rec ████████▌····│····  -9 dBFS · peak -6 dBFS · 0.6 s left · Esc stops'."""
    text = Text("● rec ", style="bold red")
    if level is None:
        text.append("·" * width, style="dim")
        text.append(f"  waiting for sound… · {seconds:.1f} s left · Esc stops", style="dim")
        return text
    rms_db, peak_db = level.rms_dbfs, level.peak_dbfs
    filled = round(fraction(rms_db) * width)
    peak_at = min(width - 1, round(fraction(peak_db) * width))
    for i in range(width):
        if i < filled:
            text.append("█", style=level_style(rms_db))
        elif i == peak_at:
            text.append("│", style=level_style(peak_db))
        else:
            text.append("·", style="dim")
    text.append(f"  {rms_db:.0f} dBFS · peak {peak_db:.0f} dBFS · "
                f"{level.remaining:.1f} s left · Esc stops")
    return text


class LevelMeter(Static):
    """One line above the message box while a recording runs; removed when it ends."""

    DEFAULT_CSS = """
    LevelMeter {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, seconds: float, width: int = 30, id: str | None = None) -> None:
        super().__init__(meter_text(None, seconds, width), id=id)
        self.seconds = seconds
        self.bar_width = width
        #: The newest reading, written by the audio thread (a plain reference swap).
        self.latest: Level | None = None
        self.readings = 0
        self._shown: Level | None = None
        self.plain = meter_text(None, seconds, width).plain

    def on_mount(self) -> None:
        """Redraw a few times a second."""
        self.set_interval(REFRESH_S, self.redraw)

    def feed(self, level: Level) -> None:
        """Keep the latest reading (called from the audio thread; never blocks it)."""
        self.latest = level
        self.readings += 1

    def redraw(self) -> None:
        """Show the latest reading, if it is new."""
        level = self.latest
        if level is None or level is self._shown:
            return
        self._shown = level
        text = meter_text(level, self.seconds, self.bar_width)
        self.plain = text.plain
        self.update(text)
