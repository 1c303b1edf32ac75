"""The common base of stems: modules that turn one modality's encoded input into D-vectors."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn


class Stem(nn.Module):
    """Base class of stems: subclasses set `name` and `modality` and implement `forward`."""

    name: ClassVar[str] = ""
    #: the modality whose encoded tensors this stem reads ("text", "image", "audio")
    modality: ClassVar[str] = ""

    def __init__(self, dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.dim = dim

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments a genome stores for a fresh stem of width `dim`."""
        return {}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # -> [B, N, D]
        """Encode a batch of inputs into sequences of D-vectors."""
        raise NotImplementedError

    def example(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return a random valid input batch (for the shared stem tests and benchmarks)."""
        raise NotImplementedError

    def output_mask(self, mask: torch.Tensor) -> torch.Tensor | None:
        """Return the real output positions [B, N] of inputs whose real steps are `mask` [B, F]
        (clips padded to one length); None when every output position is real."""
        return None

    def flops_per_token(self) -> int:
        """Return the approximate multiply-adds per output vector."""
        return sum(p.numel() for p in self.parameters() if p.dim() >= 2)
