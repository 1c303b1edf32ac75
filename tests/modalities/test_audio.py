"""Audio files: real spoken digits, espeak-ng speech, resampling, log-mel frames and bad wavs."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from harness.errors import DataError
from harness.modality import ModalitySpec
from harness.store.db import Store
from harness.types import Part
from modalities.audio import (
    AudioModality,
    load_stored_audio,
    log_mel,
    resample,
    store_audio,
    wav_bytes,
    write_wav,
)

AUD = AudioModality()


def pcm16(path: Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit mono wav with the standard library, independently of the code under test."""
    with wave.open(str(path)) as w:
        raw, rate = w.readframes(w.getnframes()), w.getframerate()
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0, rate


def make_wav(samples: np.ndarray, rate: int, width: int, channels: int = 1) -> bytes:
    """Write integer PCM with `wave` at a sample width of 1-4 bytes; samples are [N, channels]."""
    x = np.clip(samples, -1, 1 - 1e-9)
    if width == 1:
        raw = np.rint(x * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        v = np.rint(x * 2**23).astype(np.int32)
        raw = np.stack([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF], -1).astype(np.uint8).tobytes()
    else:
        raw = np.rint(x * 2 ** (8 * width - 1)).astype(f"<i{width}").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return buf.getvalue()


def float_wav(samples: np.ndarray, rate: int) -> bytes:
    """Return a 32-bit float mono wav (format 3), which the `wave` module cannot read."""
    data = samples.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data))
    return b"RIFF" + struct.pack("<I", len(body) + len(data)) + body + data


def test_spoken_digits_load_as_float_mono_8k(fsdd: Path) -> None:
    """FSDD wavs load as float32 mono at 8 kHz, sample for sample equal to their 16-bit PCM."""
    for name in ("0_george_0.wav", "7_jackson_12.wav", "9_yweweler_49.wav"):
        part = AUD.load(fsdd / name)
        ref, rate = pcm16(fsdd / name)
        assert part.sample_rate == rate == 8000
        assert part.audio is not None and part.audio.dtype == np.float32
        assert np.array_equal(part.audio, ref)
    assert AUD.describe(part).endswith("s at 8000 Hz")


def test_resample_8k_to_16k_and_back(fsdd: Path) -> None:
    """A spoken digit resampled 8k -> 16k -> 8k keeps its length and is nearly unchanged."""
    part = AUD.load(fsdd / "3_theo_7.wav")
    assert part.audio is not None
    up = resample(part.audio, 8000, 16000)
    assert len(up) == 2 * len(part.audio) and up.dtype == np.float32
    back = resample(up, 16000, 8000)
    assert len(back) == len(part.audio)
    err = back[100:-100] - part.audio[100:-100]
    snr = 10 * np.log10(np.sum(part.audio[100:-100] ** 2) / np.sum(err**2))
    assert snr > 30, f"round trip SNR {snr:.1f} dB"  # only the top 5% of the band is cut


def test_resampling_filters_out_what_cannot_be_kept() -> None:
    """16k -> 8k keeps a 3 kHz tone and removes a 6 kHz one (no aliasing to 2 kHz)."""
    t = np.arange(16000) / 16000.0
    kept = resample(np.sin(2 * np.pi * 3000 * t).astype(np.float32), 16000, 8000)
    gone = resample(np.sin(2 * np.pi * 6000 * t).astype(np.float32), 16000, 8000)
    assert 0.69 < np.sqrt(np.mean(kept[200:-200] ** 2)) < 0.72  # a sine's RMS is 0.707
    assert np.sqrt(np.mean(gone[200:-200] ** 2)) < 1e-3


def test_item_shape_counts_the_frames_to_tensor_gives_at_any_rate() -> None:
    """The frame count read from a clip's length equals the frames of its resampled log-mels,
    for rates above, below and equal to the spec's, odd lengths, and clips cut at max_seconds."""
    from harness.modality import ModalitySpec

    rng = np.random.default_rng(0)
    spec = ModalitySpec(sample_rate=8000, n_mels=16, max_seconds=1.0)
    for rate in (8000, 16000, 22050, 44100, 11025, 6000):
        for n in (1, 57, 999, int(rng.integers(100, 30000)), 3 * rate):
            part = Part.of_audio(rng.standard_normal(n).astype(np.float32) * 0.1, rate)
            assert AUD.item_shape(part, spec) == tuple(AUD.to_tensor([part], spec).shape[1:]), (
                rate, n)


def test_log_mel_shape_and_finite(fsdd: Path) -> None:
    """Log-mel frames are [1 + N // hop, n_mels] and finite, for one clip and for a batch."""
    spec = ModalitySpec(sample_rate=8000, n_mels=32)
    short, long = AUD.load(fsdd / "1_lucas_3.wav"), AUD.load(fsdd / "5_nicolas_20.wav")
    assert short.audio is not None and long.audio is not None
    frames = log_mel(short.audio, spec)  # [F, M]
    assert frames.shape == (1 + len(short.audio) // spec.hop_length, 32)
    assert bool(frames.isfinite().all())
    batch = AUD.to_tensor([short, long], spec)  # [2, F, 32]
    f_long = AUD.item_shape(long, spec)[0]
    f_short = AUD.item_shape(short, spec)[0]
    assert batch.shape == (2, max(f_long, f_short), 32) and bool(batch.isfinite().all())
    assert np.allclose(batch[0, :f_short].numpy(), frames.numpy(), atol=1e-5)


def test_mel_mean_takes_off_that_share_of_each_band_mean(fsdd: Path) -> None:
    """mel_mean = 1 centres every band over the clip, 0 keeps the raw log-mels, 0.7 keeps 30%
    of each band's mean; the profile's [model] mel_mean reaches the spec; bad values are refused."""
    from harness.config import ModelConfig
    from harness.errors import ConfigError

    clip = AUD.load(fsdd / "7_theo_3.wav")
    assert clip.audio is not None
    raw = log_mel(clip.audio, ModalitySpec(mel_norm="none"))  # [F, M]
    full = log_mel(clip.audio, ModalitySpec())
    part = log_mel(clip.audio, ModalitySpec(mel_mean=0.7))
    assert np.allclose(full.mean(0).numpy(), 0.0, atol=1e-4)
    assert np.allclose(log_mel(clip.audio, ModalitySpec(mel_mean=0.0)).numpy(), raw.numpy())
    assert np.allclose(part.numpy(), (raw - 0.7 * raw.mean(0)).numpy(), atol=1e-4)
    assert np.allclose(part.mean(0).numpy(), 0.3 * raw.mean(0).numpy(), atol=1e-4)
    spec = ModalitySpec.from_model_config(ModelConfig(mel_mean=0.7))
    assert spec.mel_mean == 0.7
    with pytest.raises(ConfigError, match="mel_mean must be from 0 to 1"):
        ModalitySpec(mel_mean=1.5)


def test_log_mel_at_16k_from_8k_files(fsdd: Path) -> None:
    """A task at 16 kHz resamples 8 kHz clips before framing: twice the samples per 10 ms hop."""
    part = AUD.load(fsdd / "2_george_5.wav")
    assert part.audio is not None
    spec = ModalitySpec(sample_rate=16000, n_mels=40)
    t = AUD.to_tensor([part], spec)  # [1, F, 40]
    assert t.shape == (1, 1 + 2 * len(part.audio) // spec.hop_length, 40)
    assert bool(t.isfinite().all())


def test_espeak_speech_loads_at_22050_and_resamples_to_8k(tmp_path: Path) -> None:
    """Speech synthesised by espeak-ng loads at 22050 Hz and resamples to 8 kHz for a task."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it where apt exists)")
    out = tmp_path / "seven.wav"
    subprocess.run([espeak, "-w", str(out), "seven"], check=True, capture_output=True, timeout=60)
    part = AUD.load(out)
    assert part.sample_rate == 22050 and part.audio is not None
    assert 0.2 < len(part.audio) / 22050 < 3.0 and np.abs(part.audio).max() > 0.05
    low = resample(part.audio, 22050, 8000)
    assert abs(len(low) - len(part.audio) * 8000 / 22050) <= 1
    t = AUD.to_tensor([part], ModalitySpec(sample_rate=8000))  # [1, F, 32]
    assert t.shape == (1, 1 + len(low) // 80, 32) and bool(t.isfinite().all())


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_pcm_widths_and_stereo_mix_to_mono(width: int) -> None:
    """8/16/24/32-bit PCM, stereo, read back as the mono average within the format's step."""
    rng = np.random.default_rng(0)
    left = rng.uniform(-0.5, 0.5, 400)
    stereo = np.stack([left, -0.5 * left], axis=1)  # [N, 2]
    part = AUD.load(make_wav(stereo, 11025, width, channels=2))
    assert part.sample_rate == 11025 and part.audio is not None and len(part.audio) == 400
    step = max(2.0 / 2 ** (8 * width - 1), 1e-7)  # float32 resolution limits 32-bit PCM
    assert np.abs(part.audio - 0.25 * left).max() < step


def test_float_wav_reads_through_the_riff_fallback() -> None:
    """A 32-bit float wav (format 3, unknown to `wave`) loads with its exact samples."""
    x = np.linspace(-0.9, 0.9, 321, dtype=np.float32)
    part = AUD.load(float_wav(x, 16000))
    assert part.sample_rate == 16000 and part.audio is not None
    assert np.array_equal(part.audio, x)


def test_write_wav_round_trip(tmp_path: Path, fsdd: Path) -> None:
    """write_wav writes a 16-bit wav atomically that loads back within one PCM step."""
    part = AUD.load(fsdd / "4_lucas_9.wav")
    assert part.audio is not None
    path = tmp_path / "sub" / "copy.wav"
    write_wav(path, part.audio, 8000)
    back = AUD.load(path)
    assert back.sample_rate == 8000 and back.audio is not None
    assert np.abs(back.audio - part.audio).max() <= 1 / 32767 + 1e-7
    assert [p.name for p in path.parent.iterdir()] == ["copy.wav"]  # no temp file left


def test_store_audio_is_content_addressed(tmp_path: Path, fsdd: Path) -> None:
    """Storing a clip saves one wav attachment that loads back as the same samples."""
    part = AUD.load(fsdd / "6_theo_30.wav")
    folder = tmp_path / "attachments"
    with Store(tmp_path / "p.db", create=True) as store:
        sha = store_audio(store, folder, part)
        assert sha == store_audio(store, folder, AUD.load(fsdd / "6_theo_30.wav"))
        assert store.query("SELECT kind, mime FROM attachments") == [
            {"kind": "audio", "mime": "audio/wav"}]
    back = load_stored_audio(folder, sha)
    assert back.attachment == sha and back.audio is not None and part.audio is not None
    assert np.array_equal(back.audio, part.audio)


def test_a_text_file_named_wav_is_a_clear_error(tmp_path: Path) -> None:
    """A text file renamed .wav raises DataError naming it and saying how to convert."""
    path = tmp_path / "song.wav"
    path.write_text("la la la\n" * 20)
    with pytest.raises(DataError, match="is not a wav file") as err:
        AUD.load(path)
    assert str(path) in str(err.value) and "ffmpeg" in str(err.value)


def test_broken_header_is_a_clear_error(tmp_path: Path, fsdd: Path) -> None:
    """A wav whose header is cut or garbled raises DataError about the header."""
    data = (fsdd / "8_jackson_1.wav").read_bytes()
    path = tmp_path / "broken.wav"
    path.write_bytes(data[:30])
    with pytest.raises(DataError, match="header"):
        AUD.load(path)
    path.write_bytes(data[:12] + b"junk" + data[16:])
    with pytest.raises(DataError, match="broken header") as err:
        AUD.load(path)
    assert str(path) in str(err.value)


def test_empty_wav_is_a_clear_error(tmp_path: Path) -> None:
    """A valid wav with zero samples raises DataError saying it has no audio."""
    path = tmp_path / "empty.wav"
    path.write_bytes(wav_bytes(np.zeros(0, dtype=np.float32), 8000))
    with pytest.raises(DataError, match="no audio .0 samples."):
        AUD.load(path)


def test_truncated_wav_is_a_clear_error(tmp_path: Path, fsdd: Path) -> None:
    """A spoken digit cut in the middle raises DataError with both lengths."""
    data = (fsdd / "9_nicolas_2.wav").read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="is truncated: its header promises") as err:
        AUD.load(path)
    assert "re-export or re-record" in str(err.value)


def test_unsupported_encoding_is_a_clear_error() -> None:
    """A 16-bit float wav (format 3, width 2) raises DataError naming the supported widths."""
    data = bytearray(float_wav(np.zeros(10, dtype=np.float32), 8000))
    struct.pack_into("<HH", data, 32, 2, 16)  # block align 2, 16 bits per sample
    with pytest.raises(DataError, match="16-bit float samples"):
        AUD.load(bytes(data))


def test_non_audio_part_is_refused() -> None:
    """Encoding a text part as audio raises DataError."""
    with pytest.raises(DataError, match="expected audio"):
        AUD.to_tensor([Part.of_text("seven")], ModalitySpec())
