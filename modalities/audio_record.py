"""Live audio: push-to-talk and fixed-length recording with a level meter, and playback.

Everything goes through sounddevice, found by modalities.audio_device; where PortAudio or a
device is missing, these functions raise AudioUnavailable with what to do instead. The `sd`
arguments take a sounddevice-like module (the default is the real one, after checking for a
microphone); tests pass a simulated input stream there.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import DataError
from harness.types import Part
from modalities.audio_device import AudioUnavailable, load_sounddevice, require_microphone

#: The longest recording, in seconds; push-to-talk stops by itself here.
MAX_RECORD_SECONDS = 60.0
#: Seconds of audio per callback block (the level meter updates this often).
BLOCK_SECONDS = 0.05
DEFAULT_RATE = 16000
#: The quietest level a meter shows, in dBFS (silence and anything below read as this).
FLOOR_DBFS = -60.0


def rms(block: np.ndarray) -> float:
    """Return the root-mean-square level of a block of samples (0 for an empty block)."""
    return float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if len(block) else 0.0


def dbfs(level: float) -> float:
    """Return a linear level (1.0 = full scale) in dBFS, never below FLOOR_DBFS."""
    return max(FLOOR_DBFS, 20.0 * math.log10(level)) if level > 0 else FLOOR_DBFS


@dataclass(frozen=True)
class Level:
    """What a level meter shows after one block: its RMS and peak, and the time recorded."""

    rms: float
    peak: float
    seconds: float
    limit: float

    @property
    def rms_dbfs(self) -> float:
        """Return the block's RMS level in dBFS."""
        return dbfs(self.rms)

    @property
    def peak_dbfs(self) -> float:
        """Return the block's peak level in dBFS."""
        return dbfs(self.peak)

    @property
    def remaining(self) -> float:
        """Return the seconds left before the recording stops by itself."""
        return max(0.0, self.limit - self.seconds)


class Recorder:
    """Push-to-talk recording from the default microphone: start(), then stop() -> audio part."""

    def __init__(
        self,
        rate: int = DEFAULT_RATE,
        on_level: Callable[[float], None] | None = None,
        max_seconds: float = MAX_RECORD_SECONDS,
        sd: Any = None,
        on_meter: Callable[[Level], None] | None = None,
    ) -> None:
        if not 0 < max_seconds <= MAX_RECORD_SECONDS:
            raise DataError(f"a recording can last at most {MAX_RECORD_SECONDS:.0f} s "
                            f"({max_seconds:g} s was asked)",
                            "record in shorter pieces, or attach a longer wav with /audio PATH")
        self.rate = int(rate)
        #: Called from the audio thread with each block's RMS level (marshal it to the UI thread).
        self.on_level = on_level
        #: Called from the audio thread with each block's Level (a UI meter keeps the latest).
        self.on_meter = on_meter
        self.max_seconds = float(max_seconds)
        self.level = 0.0
        self.device = ""
        self._sd = sd
        self._stream: Any = None
        self._blocks: list[np.ndarray] = []
        self._count = 0
        self._limit = max(1, int(round(self.max_seconds * self.rate)))
        self._lock = threading.Lock()
        self._full = threading.Event()

    @property
    def recording(self) -> bool:
        """Return True between start() and stop()."""
        return self._stream is not None

    @property
    def seconds(self) -> float:
        """Return how many seconds have been captured so far."""
        return self._count / self.rate

    @property
    def capped(self) -> bool:
        """Return True if the recording reached its length limit and stopped capturing."""
        return self._full.is_set()

    @property
    def notice(self) -> str:
        """Return a message for the person when the limit cut the recording, else ''."""
        if not self.capped:
            return ""
        return f"the recording stopped at the {self.max_seconds:.0f} s limit"

    def start(self) -> None:
        """Open the microphone and start capturing, or raise AudioUnavailable."""
        if self._stream is not None:
            raise DataError("already recording", "stop the current recording first")
        if self._sd is None:
            sd, self.device = require_microphone()
        else:
            sd, self.device = self._sd, "the given input"
        self._blocks, self._count, self.level = [], 0, 0.0
        self._full.clear()
        try:
            stream = sd.InputStream(samplerate=self.rate, channels=1, dtype="float32",
                                    blocksize=max(1, int(self.rate * BLOCK_SECONDS)),
                                    callback=self._callback)
            stream.start()
        except Exception as exc:  # PortAudioError and friends: the device refused to open
            raise AudioUnavailable(
                f"the microphone '{self.device}' could not be opened at {self.rate} Hz: {exc}",
                "close other programs that use it, check it is not muted, or attach a wav "
                "with /audio PATH",
            ) from exc
        self._stream = stream

    def _callback(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        """Collect one block from the audio thread and report its level."""
        block = np.asarray(indata, dtype=np.float32).reshape(frames, -1).mean(axis=1)  # [frames]
        with self._lock:
            room = self._limit - self._count
            block = block[: max(0, room)]
            if len(block):
                self._blocks.append(block.copy())
                self._count += len(block)
            if self._count >= self._limit:
                self._full.set()
            count = self._count
        self.level = rms(block)
        if not len(block):
            return
        if self.on_level is not None:
            self.on_level(self.level)
        if self.on_meter is not None:
            peak = float(np.max(np.abs(block)))
            self.on_meter(Level(self.level, peak, count / self.rate, self.max_seconds))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the length limit is reached; return False on timeout."""
        return self._full.wait(timeout)

    def stop(self) -> Part:
        """Stop capturing and return the audio part, or raise DataError if nothing was heard."""
        stream, self._stream = self._stream, None
        if stream is None:
            raise DataError("not recording", "start a recording first")
        try:
            stream.stop()
        finally:
            stream.close()
        with self._lock:
            blocks, count = self._blocks, self._count
            self._blocks = []
        if count == 0:
            raise DataError("nothing was recorded (0 seconds of audio)",
                            "hold the record key a little longer, and check the microphone is on")
        return Part.of_audio(np.concatenate(blocks).astype(np.float32), self.rate)


def record(
    seconds: float,
    rate: int = DEFAULT_RATE,
    on_level: Callable[[float], None] | None = None,
    sd: Any = None,
    on_meter: Callable[[Level], None] | None = None,
    stop: threading.Event | None = None,
) -> Part:
    """Record `seconds` from the microphone (less if `stop` is set first) and return the part.

    1. Open the input stream (AudioUnavailable where there is no microphone).
    2. Wait until the length is reached or `stop` is set, checking every block.
    3. Close the stream and return what was captured; a stream that went quiet before the
       length (and was not stopped) raises AudioUnavailable.
    """
    if seconds <= 0:
        raise DataError(f"a {seconds:g}-second recording has no audio", "ask for 1 second or more")
    recorder = Recorder(rate, on_level, max_seconds=seconds, sd=sd, on_meter=on_meter)
    recorder.start()
    deadline = time.monotonic() + seconds + 5.0
    stopped = False
    try:
        while not recorder.wait(BLOCK_SECONDS):
            stopped = stop is not None and stop.is_set()
            if stopped or time.monotonic() > deadline:
                break
    finally:
        part = recorder.stop()
    if not recorder.capped and not stopped:
        raise AudioUnavailable(
            f"the microphone stopped sending sound after {recorder.seconds:.1f} of {seconds:g} s",
            "check the microphone's connection, or attach a wav with /audio PATH",
        )
    return part


def play(part: Part, blocking: bool = True, sd: Any = None) -> None:
    """Play an audio part on the default output device, or raise AudioUnavailable."""
    if part.audio is None or not part.sample_rate:
        raise DataError("there is no audio to play in this part", "play an audio part")
    sd = sd if sd is not None else load_sounddevice()
    try:
        outputs = [d for d in sd.query_devices() if d.get("max_output_channels", 0) > 0]
    except Exception:  # PortAudio may fail to enumerate on headless machines
        outputs = []
    if not outputs:
        raise AudioUnavailable("no speaker or headphones were found, so audio cannot be played",
                               "connect an output device; everything else works without one")
    try:
        sd.play(part.audio, int(part.sample_rate))
        if blocking:
            sd.wait()
    except Exception as exc:
        raise AudioUnavailable(f"audio playback failed: {exc}",
                               "check the output device; everything else works without it") from exc
