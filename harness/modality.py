"""The modality interface: decode a file into a `Part`, and encode parts into a stem's tensor.

Modalities live in the `modalities` package (or a third-party one) and register under the
`insitu.modalities` entry-point group; the harness finds them with `get_modality(name)` and never
imports pillow or sounddevice itself. Stem inputs by modality:

- text:  byte tokens, int64 `[B, T]`, right-padded with PAD;
- image: float32 `[B, C, H, W]` in [0, 1], `C = image_channels`, `H = W = image_size`;
- audio: log-mel frames, float32 `[B, F, M]`, `M = n_mels`, `F` = frames of the longest clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from harness.errors import ConfigError, DataError
from harness.registry import modalities
from harness.types import Part

if TYPE_CHECKING:
    import torch

    from harness.config import ModelConfig

IMAGE_FITS = ("pad", "crop")
MEL_NORMS = ("mean", "none")


@dataclass(frozen=True)
class ModalitySpec:
    """What the stems expect: image grid and channels, audio rate and log-mel framing."""

    image_size: int = 28
    image_channels: int = 1
    #: "pad": fit the whole image in the grid, pad with its border colour; "crop": fill and crop.
    image_fit: str = "pad"
    sample_rate: int = 8000
    n_mels: int = 32
    win_ms: float = 25.0
    hop_ms: float = 10.0
    #: "mean": subtract each clip's mean log-mel per band (helps across speakers); "none": raw.
    mel_norm: str = "mean"
    #: With "mean": the share of the clip's mean taken off (below 1 keeps some of each band's
    #: level over the clip, which tells words apart; all of it removes more of the voice).
    mel_mean: float = 1.0
    #: Longer clips are cut to this many seconds before framing.
    max_seconds: float = 30.0

    def __post_init__(self) -> None:
        problems = []
        if self.image_size <= 0:
            problems.append(f"image_size must be above 0 (got {self.image_size})")
        if self.image_channels not in (1, 3):
            problems.append(f"image_channels must be 1 or 3 (got {self.image_channels})")
        if self.image_fit not in IMAGE_FITS:
            problems.append(f"image_fit must be one of {IMAGE_FITS} (got {self.image_fit!r})")
        if self.sample_rate < 1000:
            problems.append(f"sample_rate must be at least 1000 Hz (got {self.sample_rate})")
        if self.n_mels <= 0 or self.n_mels > self.n_fft // 2 + 1:
            problems.append(f"n_mels must be 1..{self.n_fft // 2 + 1} (got {self.n_mels})")
        if not 0 < self.hop_ms <= self.win_ms:
            problems.append(f"hop_ms must be above 0 and at most win_ms (got {self.hop_ms})")
        if self.mel_norm not in MEL_NORMS:
            problems.append(f"mel_norm must be one of {MEL_NORMS} (got {self.mel_norm!r})")
        if not 0 <= self.mel_mean <= 1:
            problems.append(f"mel_mean must be from 0 to 1 (got {self.mel_mean})")
        if self.max_seconds <= 0:
            problems.append(f"max_seconds must be above 0 (got {self.max_seconds})")
        if problems:
            raise ConfigError("bad modality settings: " + "; ".join(problems),
                              "fix the [model] settings of the profile")

    @classmethod
    def from_model_config(cls, cfg: ModelConfig, **overrides: Any) -> ModalitySpec:
        """Return the spec of a profile's [model] settings (keyword arguments override them)."""
        spec = cls(image_size=cfg.image_size, image_channels=cfg.image_channels,
                   sample_rate=cfg.sample_rate, n_mels=cfg.n_mels, mel_mean=cfg.mel_mean)
        return replace(spec, **overrides) if overrides else spec

    @property
    def win_length(self) -> int:
        """Analysis window length in samples."""
        return max(2, round(self.sample_rate * self.win_ms / 1000))

    @property
    def hop_length(self) -> int:
        """Hop between log-mel frames in samples."""
        return max(1, round(self.sample_rate * self.hop_ms / 1000))

    @property
    def n_fft(self) -> int:
        """FFT size: the window length rounded up to a power of two."""
        return 1 << math.ceil(math.log2(self.win_length))

    def frames(self, n_samples: int) -> int:
        """Return the number of log-mel frames of a clip of `n_samples` (at `sample_rate`)."""
        n = min(n_samples, int(self.max_seconds * self.sample_rate))
        return 1 + n // self.hop_length


@runtime_checkable
class Modality(Protocol):
    """What every modality implements: decode files into parts, encode parts for a stem."""

    #: The registry name, also the stem that takes this modality's tensors.
    name: str
    #: The part kinds this modality encodes.
    kinds: tuple[str, ...]
    #: File name suffixes (lower case, with the dot) this modality reads.
    suffixes: tuple[str, ...]

    def load(self, source: Path | bytes) -> Part:
        """Decode a file (a path or its bytes) into a validated Part, or raise DataError."""
        ...

    def to_tensor(self, parts: list[Part], spec: ModalitySpec) -> torch.Tensor:
        """Encode a batch of parts into the stem's input tensor (shapes in the module doc)."""
        ...

    def item_shape(self, part: Part, spec: ModalitySpec) -> tuple[int, ...]:
        """Return the shape of one part's encoding, without the batch axis."""
        ...

    def describe(self, part: Part) -> str:
        """Return a short human description of a part (for chat lines and summaries)."""
        ...

    def sample(self) -> bytes:
        """Return a tiny valid file of this modality (for self-tests and `insitu doctor`)."""
        ...


def get_modality(name: str) -> Modality:
    """Return the registered modality `name` (an instance; classes are instantiated)."""
    obj = modalities.get(name)
    return obj() if isinstance(obj, type) else obj


def modality_for(path: Path) -> Modality:
    """Return the registered modality that reads files with `path`'s suffix, or raise DataError."""
    suffix = Path(path).suffix.lower()
    known: list[str] = []
    for name in modalities.names():
        mod = get_modality(name)
        if suffix in mod.suffixes:
            return mod
        known += mod.suffixes
    raise DataError(f"{path}: insitu does not know how to read '{suffix or 'no suffix'}' files",
                    f"use one of: {', '.join(sorted(set(known)))}")
