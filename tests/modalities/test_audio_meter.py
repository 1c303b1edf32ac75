"""The recorder's level readings for a meter, and ending a fixed-length recording early,
with the simulated sounddevice input stream."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from harness.errors import DataError
from modalities.audio_record import FLOOR_DBFS, Level, dbfs, record
from tests.modalities.test_audio_record import FakeSoundDevice, FakeStream


class PacedStream(FakeStream):
    """A simulated input stream that delivers its sine blocks at the speed of real audio."""

    paced = True


class PacedSoundDevice(FakeSoundDevice):
    """A simulated microphone whose stream runs in real time."""

    def InputStream(self, **kw: Any) -> PacedStream:  # noqa: N802 - sounddevice's name
        """Open a paced simulated input stream."""
        stream = PacedStream(self, **kw)
        self.streams.append(stream)
        return stream


def test_dbfs_of_full_scale_half_and_silence() -> None:
    """Full scale is 0 dBFS, half is about -6, silence and tiny levels read as the floor."""
    assert dbfs(1.0) == 0.0
    assert dbfs(0.5) == pytest.approx(-6.02, abs=0.01)
    assert dbfs(0.0) == FLOOR_DBFS and dbfs(1e-9) == FLOOR_DBFS


def test_meter_readings_follow_the_recording() -> None:
    """Each 50 ms block gives a Level: RMS -9 dBFS and peak about -6 dBFS for a 0.5 sine, time
    recorded rising to the limit and the time left falling to 0."""
    levels: list[Level] = []
    part = record(0.5, rate=16000, sd=FakeSoundDevice(), on_meter=levels.append)
    assert part.audio is not None and len(part.audio) == 8000
    assert len(levels) == 10
    assert all(abs(lv.rms_dbfs - dbfs(0.5 / np.sqrt(2))) < 0.2 for lv in levels)
    assert all(-6.5 < lv.peak_dbfs <= -6.0 for lv in levels)
    assert [round(lv.seconds, 2) for lv in levels] == [round(0.05 * (i + 1), 2) for i in range(10)]
    assert levels[0].limit == 0.5 and levels[-1].remaining == 0.0


def test_stop_ends_a_fixed_length_recording_early() -> None:
    """Setting `stop` once a few blocks arrived returns the audio so far, not an error."""
    stop = threading.Event()
    seen: list[Level] = []

    def meter(level: Level) -> None:
        """Keep the reading; stop after the fourth."""
        seen.append(level)
        if len(seen) == 4:
            stop.set()

    sd = PacedSoundDevice(blocks=600)
    part = record(30.0, rate=8000, sd=sd, on_meter=meter, stop=stop)
    assert part.audio is not None
    assert 4 * 400 <= len(part.audio) <= 8 * 400
    assert sd.streams[0].closed


def test_stop_before_any_sound_is_nothing_recorded() -> None:
    """A recording stopped before its first block says nothing was recorded."""
    stop = threading.Event()
    stop.set()
    with pytest.raises(DataError, match="nothing was recorded"):
        record(5.0, rate=8000, sd=FakeSoundDevice(blocks=0), stop=stop)
