"""Audio signal processing with torch: band-limited resampling and log-mel frames."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from harness.errors import DataError
from harness.modality import ModalitySpec

#: Zero crossings of the windowed-sinc filter on each side (more = sharper, slower).
ZERO_CROSSINGS = 24
#: Pass band edge as a fraction of the lower Nyquist frequency.
ROLLOFF = 0.945
#: Kaiser window shape (about 90 dB stop-band attenuation).
KAISER_BETA = 10.0
#: Above this many filter taps (odd rate pairs such as 44100 -> 8001) use FFT resampling.
MAX_KERNEL = 2_000_000
#: Floor added to mel power before the log, so silence stays finite.
LOG_FLOOR = 1e-6


@functools.lru_cache(maxsize=16)
def _sinc_kernel(orig: int, new: int) -> tuple[torch.Tensor, int]:
    """Return the polyphase kernels [new, 1, K] for orig -> new (reduced) and the input pad."""
    cutoff = min(orig, new) * ROLLOFF  # in units where the input rate is `orig`
    width = math.ceil(ZERO_CROSSINGS * orig / cutoff)
    idx = torch.arange(-width, width + orig, dtype=torch.float64) / orig  # [K]
    t = torch.arange(0, -new, -1, dtype=torch.float64)[:, None] / new + idx  # [new, K]
    t = (t * cutoff).clamp(-ZERO_CROSSINGS, ZERO_CROSSINGS)
    window = torch.special.i0(KAISER_BETA * torch.sqrt(1 - (t / ZERO_CROSSINGS) ** 2))
    window = window / torch.special.i0(torch.tensor(KAISER_BETA, dtype=torch.float64))
    arg = t * math.pi
    sinc = torch.where(arg == 0, torch.ones_like(arg), torch.sin(arg) / arg)
    kernels = sinc * window * (cutoff / orig)  # [new, K]
    return kernels[:, None, :].float(), width


def _fft_resample(x: np.ndarray, n_out: int) -> np.ndarray:
    """Resample by cutting or zero-padding the spectrum (for rate pairs with a huge period)."""
    spec = np.fft.rfft(x.astype(np.float64))
    out = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    keep = min(len(spec), len(out))
    out[:keep] = spec[:keep]
    return np.fft.irfft(out, n_out) * (n_out / len(x))


def resample(audio: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Return float32 mono audio resampled from orig_rate to new_rate (Kaiser windowed sinc)."""
    if orig_rate <= 0 or new_rate <= 0:
        raise DataError(f"cannot resample from {orig_rate} Hz to {new_rate} Hz",
                        "sample rates must be positive")
    x = np.asarray(audio, dtype=np.float32)
    if orig_rate == new_rate or len(x) == 0:
        return x.copy()
    g = math.gcd(int(orig_rate), int(new_rate))
    orig, new = int(orig_rate) // g, int(new_rate) // g
    n_out = math.ceil(len(x) * new / orig)
    taps = 2 * math.ceil(ZERO_CROSSINGS * orig / (min(orig, new) * ROLLOFF)) + orig
    if new * taps > MAX_KERNEL:
        return _fft_resample(x, n_out).astype(np.float32)
    kernels, width = _sinc_kernel(orig, new)
    wav = F.pad(torch.from_numpy(x)[None, None], (width, width + orig))  # [1, 1, N + pad]
    out = F.conv1d(wav, kernels, stride=orig)  # [1, new, N / orig]
    out = out[0].transpose(0, 1).reshape(-1)[:n_out]  # [n_out]
    return out.numpy().astype(np.float32, copy=False)


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """HTK mel scale."""
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    """Inverse of the HTK mel scale."""
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


@functools.lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    """Return triangular mel filters [M, n_fft // 2 + 1] from 0 Hz to Nyquist (HTK scale)."""
    bins = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)  # [K] bin centre frequencies
    edges = _mel_to_hz(np.linspace(0.0, _hz_to_mel(np.array(sample_rate / 2)), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # [M, 1] each
    up = (bins[None] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - bins[None]) / np.maximum(hi - mid, 1e-9)
    fb = np.clip(np.minimum(up, down), 0.0, None)  # [M, K]
    return torch.from_numpy(fb.astype(np.float32))


def log_mel_and_silence(audio: np.ndarray, spec: ModalitySpec) -> tuple[torch.Tensor, torch.Tensor]:
    """Return log-mel frames [F, M] and the value [M] a frame of digital silence would take."""
    n_max = int(spec.max_seconds * spec.sample_rate)
    x = torch.from_numpy(np.ascontiguousarray(audio[:n_max], dtype=np.float32))  # [N]
    if x.numel() == 0:
        raise DataError("cannot compute log-mel frames of empty audio", "give a non-empty clip")
    window = torch.hann_window(spec.win_length)
    stft = torch.stft(x, spec.n_fft, hop_length=spec.hop_length, win_length=spec.win_length,
                      window=window, center=True, pad_mode="constant",
                      return_complex=True)  # [K, F]
    power = stft.real.square() + stft.imag.square()  # [K, F]
    mel = mel_filterbank(spec.sample_rate, spec.n_fft, spec.n_mels) @ power  # [M, F]
    frames = torch.log(mel + LOG_FLOOR).transpose(0, 1).contiguous()  # [F, M]
    silence = torch.full((spec.n_mels,), math.log(LOG_FLOOR))  # [M]
    if spec.mel_norm == "mean":
        mean = frames.mean(dim=0) * spec.mel_mean  # [M] (the share of the mean taken off)
        frames, silence = frames - mean, silence - mean  # [F, M], [M]
    return frames, silence


def log_mel(audio: np.ndarray, spec: ModalitySpec) -> torch.Tensor:
    """Return log-mel frames float32 [F, M] of mono audio already at spec.sample_rate."""
    return log_mel_and_silence(audio, spec)[0]
