"""`audio` stem: log-mel frames projected to D-vectors, `stride` frames per vector."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from harness.errors import DataError
from harness.graph.stems.base import Stem
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size


class AudioStem(Stem):
    """Stack `stride` consecutive log-mel frames and project them: [B, F, M] -> [B, F/stride, D].

    A ragged tail is padded by repeating the last frame, so F' = ceil(F / stride).
    """

    name = "audio"
    modality = "audio"

    def __init__(
        self, dim: int, mels: int = 40, stride: int = 4, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(dim)
        self.mels = check_size(self.name, "mels", mels)
        self.stride = check_size(self.name, "stride", stride)
        self.proj = TLinear(self.stride * self.mels, dim, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh audio stem."""
        return {"mels": 40, "stride": 4}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"mels": self.mels, "stride": self.stride}

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, F, M] -> [B, F', D]
        """Encode a batch of log-mel spectrograms."""
        if x.dim() != 3 or x.shape[2] != self.mels or x.shape[1] < 1:
            raise DataError(
                f"the audio stem expects [B, frames, {self.mels}] log-mels, got {tuple(x.shape)}",
                "encode audio with the audio modality using the stem's number of mels",
            )
        b, f, m = x.shape
        pad = -f % self.stride
        if pad:
            x = F.pad(x.transpose(1, 2), (0, pad), mode="replicate").transpose(1, 2)  # [B, F+p, M]
        x = x.float().reshape(b, -1, self.stride * m)  # [B, F', stride*M]
        return self.proj(x)  # [B, F', D]

    def example(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return random log-mels [batch, 10, mels]."""
        return torch.randn(batch, 10, self.mels, generator=generator)
