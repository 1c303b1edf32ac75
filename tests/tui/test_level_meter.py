"""/record shows a live level meter fed by the recording callback (a simulated input stream at
the sounddevice boundary, paced in real time), Esc ends it early, and it goes away after."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from media_helpers import DIGITS, label_app, notes
from tui_helpers import SIZE, rows, until

from harness.data.ingest import add_paths
from harness.profile import Profile
from modalities.audio_record import Level
from tests.modalities.test_audio_meter import PacedSoundDevice
from tui.widgets.level_meter import LevelMeter, meter_text


def test_meter_text_shows_dbfs_peak_and_time_left() -> None:
    """A 0.5-amplitude sine reads -9 dBFS RMS, peak -6 dBFS; louder fills more of the bar."""
    quiet = meter_text(Level(rms=0.05, peak=0.1, seconds=0.5, limit=2.0), 2.0).plain
    loud = meter_text(Level(rms=0.5 / np.sqrt(2), peak=0.5, seconds=1.5, limit=2.0), 2.0).plain
    assert "-9 dBFS · peak -6 dBFS · 0.5 s left" in loud
    assert "-26 dBFS · peak -20 dBFS · 1.5 s left" in quiet
    assert loud.count("█") > quiet.count("█") > 0
    silent = meter_text(Level(rms=0.0, peak=0.0, seconds=0.1, limit=1.0), 1.0).plain
    assert "█" not in silent and "-60 dBFS" in silent
    assert "waiting for sound" in meter_text(None, 3.0).plain


@pytest.fixture
def spoken(tmp_path: Path, shared_data: Path) -> str:
    """A spoken-digits profile holding 40 real FSDD recordings; return its name."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for wav in sorted((shared_data / "fsdd" / "recordings").glob("*_jackson_1*.wav"))[:40]:
        shutil.copy(wav, folder / wav.name)
    with Profile.create("s", "spoken-digits") as prof:
        add_paths(prof, [folder])
    return "s"


async def test_record_shows_a_live_meter_then_sends(spoken: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """While /record 1 runs a meter shows the simulated input's level and the seconds left,
    counting down; when it ends the meter is gone and the 1 s clip is answered with a digit."""
    import modalities.audio_record as audio_record

    fake = PacedSoundDevice(blocks=200)
    monkeypatch.setattr(audio_record, "require_microphone", lambda: (fake, "fake mic"))
    app = label_app(spoken)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=30)
        box = app.chat.chat_input
        box.load_text("/record 1")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.chat.query(LevelMeter)))
        meter = app.chat.query_one(LevelMeter)
        seen: list[str] = []
        while app.chat.query(LevelMeter):
            if "dBFS" in meter.plain and meter.plain not in seen:
                seen.append(meter.plain)
            await pilot.pause(0.05)
        assert len(seen) >= 3, seen
        assert all("-9 dBFS · peak -6 dBFS" in s for s in seen)
        left = [float(s.split(" s left")[0].rsplit("· ", 1)[1]) for s in seen]
        assert left == sorted(left, reverse=True) and left[0] > left[-1]
        assert meter.readings == 20  # one reading per 50 ms block of the 1 s clip
        await until(pilot, lambda: not app.chat.generating and bool(
            rows(app, "SELECT id FROM messages WHERE role = 'assistant'")))
        user = rows(app, "SELECT text FROM messages WHERE role = 'user'")
        assert [u["text"] for u in user] == ["[audio: recording 1.0 s]"]
        reply = rows(app, "SELECT text FROM messages WHERE role = 'assistant'")[0]["text"]
        assert reply in DIGITS


async def test_escape_ends_a_recording_early(spoken: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Esc during /record 10 stops it: the meter goes and the shorter clip is sent."""
    import modalities.audio_record as audio_record

    fake = PacedSoundDevice(blocks=400)
    monkeypatch.setattr(audio_record, "require_microphone", lambda: (fake, "fake mic"))
    app = label_app(spoken)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=30)
        app.chat.chat_input.load_text("/record 10")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.chat.query(LevelMeter)))
        meter = app.chat.query_one(LevelMeter)
        await until(pilot, lambda: meter.readings >= 6)
        started = time.monotonic()
        await pilot.press("escape")
        await until(pilot, lambda: not app.chat.query(LevelMeter), timeout=5)
        assert time.monotonic() - started < 2.0
        await until(pilot, lambda: bool(rows(app, "SELECT id FROM messages")))
        text = rows(app, "SELECT text FROM messages WHERE role = 'user'")[0]["text"]
        seconds = float(text.removeprefix("[audio: recording ").removesuffix(" s]"))
        assert 0.2 < seconds < 3.0
        assert app.chat.recording is None


async def test_no_microphone_says_so_and_leaves_no_meter(spoken: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Where PortAudio sees no input device /record says so; the meter is taken away."""
    from modalities import audio_device

    monkeypatch.setattr(audio_device, "input_devices", lambda sd: [])
    app = label_app(spoken)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.ready.is_set, timeout=30)
        app.chat.chat_input.load_text("/record 2")
        await pilot.press("enter")
        await until(pilot, lambda: any("no microphone" in n or "PortAudio" in n
                                       for n in notes(app)))
        await until(pilot, lambda: not app.chat.query(LevelMeter))
        assert app.chat.status.message == "no recording was made"
        assert app.chat.recording is None
        assert rows(app, "SELECT count(*) AS n FROM messages")[0]["n"] == 0
