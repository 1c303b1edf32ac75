"""Audio: wav files -> float32 mono parts -> log-mel frames [B, F, M] for the audio stem.

Wav files are read with the standard library (8/16/24/32-bit PCM, plus 32/64-bit float and
WAVE_FORMAT_EXTENSIBLE through a small RIFF reader), stereo is mixed down to mono. When the
optional `soundfile` package is importable it also reads FLAC and Ogg. Parts keep the file's own
rate; `to_tensor` resamples to the task's rate (modalities.audio_dsp) before framing. Recording and
playback live in modalities.audio_record and are re-exported here.
"""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np
import torch

from harness.errors import DataError
from harness.modality import ModalitySpec
from harness.store.db import Store
from harness.store.files import atomic_write_bytes
from harness.store.records import put_attachment
from harness.types import Part
from modalities.audio_dsp import log_mel, log_mel_and_silence, resample
from modalities.audio_record import MAX_RECORD_SECONDS, Recorder, play, record
from modalities.common import read_source, source_name

try:  # optional: more formats (FLAC, Ogg) when the package is installed
    import soundfile
except (ImportError, OSError):  # OSError: the package is there but libsndfile is missing
    soundfile = None

__all__ = ["MAX_RECORD_SECONDS", "AudioModality", "Recorder", "decode_audio", "log_mel", "play",
           "record", "resample", "store_audio", "wav_bytes", "write_wav"]

#: Files longer than this are refused (cut them first).
MAX_FILE_SECONDS = 600.0
MAX_AUDIO_BYTES = 256 * 2**20
PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
CONVERT = "convert it to a 16-bit PCM wav, e.g. `ffmpeg -i IN -ac 1 -c:a pcm_s16le OUT.wav`"


def _pcm_to_float(raw: bytes, width: int, fmt: int, name: str) -> np.ndarray:
    """Return float32 samples in [-1, 1] from little-endian PCM or float bytes."""
    if fmt == FLOAT and width in (4, 8):
        return np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float32)
    if fmt != PCM or width not in (1, 2, 3, 4):
        kind = "float" if fmt == FLOAT else "PCM" if fmt == PCM else f"format {fmt}"
        raise DataError(f"{name} uses {8 * width}-bit {kind} samples, which insitu cannot read",
                        "use 8, 16, 24 or 32-bit PCM: " + CONVERT)
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)  # [N, 3]
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)  # sign-extend 24-bit
        return v.astype(np.float32) / float(1 << 23)
    return (np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2.0**31).astype(np.float32)


def _riff_read(data: bytes, name: str) -> tuple[bytes, int, int, int, int, int]:
    """Parse RIFF chunks: return (data bytes, channels, width, rate, format, declared frames)."""
    pos, fmt_chunk, payload, declared = 12, None, None, 0
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt_chunk = body
        elif cid == b"data":
            payload, declared = body, size
            break
        pos += 8 + size + (size & 1)
    if fmt_chunk is None or len(fmt_chunk) < 16 or payload is None:
        raise DataError(f"the wav {name} has a broken header (no fmt or data chunk)",
                        "re-export it, or " + CONVERT)
    fmt, channels, rate, _, align, bits = struct.unpack("<HHIIHH", fmt_chunk[:16])
    if fmt == EXTENSIBLE and len(fmt_chunk) >= 26:
        fmt = struct.unpack("<H", fmt_chunk[24:26])[0]  # the sub-format GUID starts with it
    width = (bits + 7) // 8
    if channels < 1 or rate < 1 or width < 1:
        raise DataError(f"the wav {name} has a broken header ({channels} channels, {rate} Hz)",
                        "re-export it, or " + CONVERT)
    return payload, channels, width, rate, fmt, declared // max(1, channels * width)


def _read_wav(data: bytes, name: str) -> tuple[np.ndarray, int]:
    """Decode a RIFF/WAVE file into float32 mono and its rate, or raise DataError."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            channels, width, rate, n = (w.getnchannels(), w.getsampwidth(), w.getframerate(),
                                        w.getnframes())
            raw, fmt = w.readframes(n), PCM
    except wave.Error as exc:
        if "unknown format" not in str(exc):
            raise DataError(f"the wav {name} has a broken header: {exc}",
                            "re-export it, or " + CONVERT) from exc
        raw, channels, width, rate, fmt, n = _riff_read(data, name)
    except (EOFError, struct.error) as exc:
        raise DataError(f"the wav {name} has a broken or cut-off header",
                        "re-export it, or " + CONVERT) from exc
    if n == 0:
        raise DataError(f"the wav {name} has no audio (0 samples)",
                        "record or export a clip with sound in it")
    frame = channels * width
    if len(raw) < n * frame:
        raise DataError(
            f"the wav {name} is truncated: its header promises {n / rate:.2f} s, the file holds "
            f"{len(raw) // frame / rate:.2f} s",
            "re-export or re-record it (the file was cut off while copying or recording)",
        )
    samples = _pcm_to_float(raw[: n * frame], width, fmt, name).reshape(-1, channels)  # [N, C]
    return samples.mean(axis=1, dtype=np.float32), rate


def decode_audio(data: bytes, name: str = "(given as bytes)") -> tuple[np.ndarray, int]:
    """Decode audio bytes into (float32 mono [N], rate); wav always, FLAC/Ogg with soundfile."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        audio, rate = _read_wav(data, name)
    elif soundfile is not None and data[:4] in (b"fLaC", b"OggS"):
        try:
            arr, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except Exception as exc:
            raise DataError(f"{name} cannot be decoded: {exc}", CONVERT) from exc
        audio = arr.mean(axis=1).astype(np.float32)
    else:
        raise DataError(f"{name} is not a wav file (it has no RIFF/WAVE header)",
                        "give a .wav recording, or " + CONVERT)
    if len(audio) == 0:
        raise DataError(f"{name} has no audio (0 samples)", "record or export a clip with sound")
    if len(audio) > MAX_FILE_SECONDS * rate:
        raise DataError(f"{name} is {len(audio) / rate / 60:.1f} minutes long; insitu reads at "
                        f"most {MAX_FILE_SECONDS / 60:.0f} minutes",
                        "cut it into shorter clips (e.g. `ffmpeg -i IN -f segment -segment_time 30 "
                        "OUT%03d.wav`)")
    if not np.isfinite(audio).all():
        raise DataError(f"{name} holds invalid samples (NaN or infinity)", CONVERT)
    return audio, int(rate)


def wav_bytes(audio: np.ndarray, rate: int) -> bytes:
    """Return a 16-bit PCM mono wav of float audio (clipped to [-1, 1])."""
    pcm = np.rint(np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0) * 32767.0)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


def write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """Write float audio as a 16-bit PCM mono wav, atomically (a crash leaves no partial file)."""
    atomic_write_bytes(Path(path), wav_bytes(audio, rate))


def _audio_of(part: Part) -> tuple[np.ndarray, int]:
    """Return (samples, rate) of an audio part, or raise DataError."""
    if part.kind != "audio" or part.audio is None or not part.sample_rate:
        what = "a stored attachment" if part.attachment else f"a {part.kind} part"
        raise DataError(f"expected audio with its samples, got {what}",
                        "load it with modalities.audio (load_stored_audio for attachments)")
    return part.audio, int(part.sample_rate)


def store_audio(store: Store, folder: Path, part: Part) -> str:
    """Save the part as a content-addressed 16-bit wav attachment; return its sha256."""
    audio, rate = _audio_of(part)
    sha = put_attachment(store, folder, wav_bytes(audio, rate), kind="audio", mime="audio/wav")
    part.attachment = sha
    return sha


def load_stored_audio(folder: Path, sha: str) -> Part:
    """Load an audio attachment saved by `store_audio` back into a part."""
    part = AudioModality().load(Path(folder) / sha[:2] / sha)
    part.attachment = sha
    return part


class AudioModality:
    """Audio as float32 mono parts, encoded as log-mel frames float32 [B, F, M]."""

    name = "audio"
    kinds: tuple[str, ...] = ("audio",)
    suffixes: tuple[str, ...] = (".wav", ".wave") + ((".flac", ".ogg") if soundfile else ())

    def load(self, source: Path | bytes) -> Part:
        """Decode an audio file (path or bytes) into a part, or raise DataError naming the file."""
        data = read_source(source, MAX_AUDIO_BYTES, "an audio")
        audio, rate = decode_audio(data, source_name(source))
        return Part.of_audio(audio, rate)

    def file_bytes(self, part: Part) -> tuple[bytes, str]:
        """Return the part as a stored attachment file: 16-bit PCM wav bytes and its mime type."""
        audio, rate = _audio_of(part)
        return wav_bytes(audio, rate), "audio/wav"

    def at_rate(self, part: Part, spec: ModalitySpec) -> np.ndarray:
        """Return the part's samples resampled to spec.sample_rate (cut to spec.max_seconds)."""
        audio, rate = _audio_of(part)
        audio = audio[: int(spec.max_seconds * rate) + 1]
        return resample(audio, rate, spec.sample_rate)[: int(spec.max_seconds * spec.sample_rate)]

    def item_shape(self, part: Part, spec: ModalitySpec) -> tuple[int, ...]:
        """Return (F, M): frames of the clip at the spec's rate, and mel bands (counted from the
        sample count as `at_rate` sizes its output, without resampling)."""
        audio, rate = _audio_of(part)
        n = min(len(audio), int(spec.max_seconds * rate) + 1)
        if rate != spec.sample_rate:
            n = -(-n * spec.sample_rate // rate)  # ceil(n * new / old), as resample() sizes it
        return (spec.frames(min(n, int(spec.max_seconds * spec.sample_rate))), spec.n_mels)

    def to_tensor(self, parts: list[Part], spec: ModalitySpec) -> torch.Tensor:
        """Log-mel frames of each clip, padded at the end with silence: float32 [B, F, M]."""
        if not parts:
            raise DataError("no audio parts to encode", "pass at least one part")
        items = [log_mel_and_silence(self.at_rate(p, spec), spec) for p in parts]
        width = max(frames.shape[0] for frames, _ in items)
        out = torch.empty(len(items), width, spec.n_mels)  # [B, F, M]
        for i, (frames, silence) in enumerate(items):
            out[i, : frames.shape[0]] = frames
            out[i, frames.shape[0]:] = silence
        return out

    def describe(self, part: Part) -> str:
        """Return e.g. 'audio 0.52 s at 8000 Hz'."""
        audio, rate = _audio_of(part)
        return f"audio {len(audio) / rate:.2f} s at {rate} Hz"

    def sample(self) -> bytes:
        """Return a 0.25 s 440 Hz tone as an 8 kHz wav."""
        t = np.arange(2000) / 8000.0
        return wav_bytes(0.3 * np.sin(2 * np.pi * 440.0 * t), 8000)
