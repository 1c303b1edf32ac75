"""Recording and playback: the no-device path, limits, and a simulated sounddevice input stream."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from harness.errors import DataError
from harness.types import Part
from modalities import audio_device
from modalities.audio import MAX_RECORD_SECONDS, Recorder, play, record
from modalities.audio_device import AudioUnavailable


class FakeStream:
    """A sounddevice.InputStream stand-in: a thread feeds sine blocks to the callback."""

    def __init__(self, sd: FakeSoundDevice, samplerate: int, channels: int, dtype: str,
                 blocksize: int, callback: Any) -> None:
        assert channels == 1 and dtype == "float32"
        self.sd, self.rate, self.block, self.callback = sd, samplerate, blocksize, callback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.closed = False

    #: deliver each block after its own duration (real time) instead of as fast as possible
    paced = False

    def _run(self) -> None:
        """Deliver `sd.blocks` blocks (or until stopped) of a 0.5-amplitude 440 Hz sine."""
        n = 0
        for _ in range(self.sd.blocks):
            stopped = self._stop.wait(self.block / self.rate) if self.paced else self._stop.is_set()
            if stopped:
                return
            t = (n + np.arange(self.block)) / self.rate
            data = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None]  # [block, 1]
            self.callback(data, self.block, None, None)
            n += self.block
        self.sd.drained.set()

    def start(self) -> None:
        """Start delivering blocks."""
        if self.sd.refuse:
            raise RuntimeError("Invalid sample rate [PaErrorCode -9997]")
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering blocks."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def close(self) -> None:
        """Release the stream."""
        self.closed = True


class FakeSoundDevice:
    """The part of the sounddevice module the recorder uses, with a simulated microphone."""

    def __init__(self, blocks: int = 1000, refuse: bool = False) -> None:
        self.blocks, self.refuse = blocks, refuse
        self.drained = threading.Event()
        self.streams: list[FakeStream] = []

    def InputStream(self, **kw: Any) -> FakeStream:  # noqa: N802 - sounddevice's name
        """Open a simulated input stream."""
        stream = FakeStream(self, **kw)
        self.streams.append(stream)
        return stream

    def query_devices(self) -> list[dict[str, Any]]:
        """List one input device and no output device."""
        return [{"name": "fake mic", "max_input_channels": 1, "max_output_channels": 0}]


@pytest.fixture
def no_microphone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make PortAudio report no input device, whatever this machine has."""
    monkeypatch.setattr(audio_device, "input_devices", lambda sd: [])


def test_recording_without_a_microphone_says_what_to_do(no_microphone: None) -> None:
    """record() and Recorder.start() raise AudioUnavailable suggesting a mic or /audio PATH."""
    with pytest.raises(AudioUnavailable) as err:
        record(1.0)
    text = str(err.value)
    assert "microphone" in text or "PortAudio" in text
    assert "/audio" in text or "install" in text
    with pytest.raises(AudioUnavailable):
        Recorder().start()


def test_zero_and_overlong_recordings_are_refused_before_opening_a_device() -> None:
    """A 0-second and a 10-minute recording each raise DataError with the limit."""
    with pytest.raises(DataError, match="0-second recording has no audio"):
        record(0)
    with pytest.raises(DataError, match=f"at most {MAX_RECORD_SECONDS:.0f} s") as err:
        record(600)
    assert "/audio PATH" in str(err.value)


def test_fixed_length_recording_from_a_simulated_stream() -> None:
    """record(0.5) at 16 kHz returns 8000 samples and reports RMS levels near 0.35."""
    sd, levels = FakeSoundDevice(), list[float]()
    part = record(0.5, rate=16000, on_level=levels.append, sd=sd)
    assert part.kind == "audio" and part.sample_rate == 16000
    assert part.audio is not None and part.audio.shape == (8000,)
    assert len(levels) == 10 and all(abs(v - 0.5 / np.sqrt(2)) < 0.02 for v in levels)
    assert sd.streams[0].closed


def test_push_to_talk_stops_at_its_limit_with_a_notice() -> None:
    """A Recorder held past max_seconds keeps exactly that much and says it was capped."""
    sd = FakeSoundDevice(blocks=40)  # 2 s of blocks offered
    rec = Recorder(rate=8000, max_seconds=1.0, sd=sd)
    rec.start()
    assert rec.recording
    assert rec.wait(5.0)
    part = rec.stop()
    assert not rec.recording and rec.capped
    assert part.audio is not None and len(part.audio) == 8000
    assert "1 s limit" in rec.notice


def test_push_to_talk_short_press_keeps_what_was_said() -> None:
    """Stopping after the stream ran dry returns every delivered sample and no notice."""
    sd = FakeSoundDevice(blocks=6)
    rec = Recorder(rate=8000, sd=sd)
    rec.start()
    assert sd.drained.wait(5.0)
    part = rec.stop()
    assert part.audio is not None and len(part.audio) == 6 * 400
    assert rec.notice == "" and rec.seconds == pytest.approx(0.3)


def test_nothing_recorded_is_a_clear_error() -> None:
    """Releasing push-to-talk before any sound arrives raises DataError."""
    rec = Recorder(rate=8000, sd=FakeSoundDevice(blocks=0))
    rec.start()
    with pytest.raises(DataError, match="nothing was recorded"):
        rec.stop()


def test_a_device_that_refuses_to_open_is_audio_unavailable() -> None:
    """A stream that fails to start raises AudioUnavailable naming the rate."""
    with pytest.raises(AudioUnavailable, match="could not be opened at 44100 Hz"):
        Recorder(rate=44100, sd=FakeSoundDevice(refuse=True)).start()


def test_playback_without_an_output_device_says_so() -> None:
    """play() raises AudioUnavailable when no output device exists."""
    part = Part.of_audio(np.zeros(800, dtype=np.float32), 8000)
    with pytest.raises(AudioUnavailable, match="no speaker or headphones"):
        play(part, sd=FakeSoundDevice())
