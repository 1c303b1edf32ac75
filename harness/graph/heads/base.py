"""The common base of heads: normalise the features, pool over time if needed, project."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import GenomeError

POOLS = ("last", "mean", "max", "meanmax")


class Head(nn.Module):
    """Base class of heads: a LayerNorm with a learned gain (no bias), then a projection."""

    name: ClassVar[str] = ""

    def __init__(self, dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.dim = dim
        self.gain = nn.Parameter(torch.ones(dim))

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments a genome stores for a fresh head of width `dim`."""
        return {}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {}

    def norm(self, x: torch.Tensor) -> torch.Tensor:  # [..., D] -> [..., D]
        """Normalise the features (LayerNorm: one fused kernel) with the head's gain."""
        return F.layer_norm(x, (self.dim,), self.gain, None, 1e-5)


def check_pool(head: str, pool: str) -> str:
    """Return `pool` if known, else raise GenomeError."""
    if pool not in POOLS:
        raise GenomeError(
            f"unknown pooling '{pool}' for head '{head}' (known: {', '.join(POOLS)})",
            f"set the head's 'pool' argument to one of: {', '.join(POOLS)}",
        )
    return pool


def pool(x: torch.Tensor, how: str, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Pool [B, T, D] over time -> [B, D]: the 'last' real position, the 'mean' or the 'max'
    of the real ones, or 'meanmax' (mean plus max, which keeps a short loud event visible).

    `mask` [B, T] marks real positions (True); without it every position is real. A [B, D]
    input is returned as is.
    """
    if x.dim() == 2:
        return x
    if how == "meanmax":
        return pool(x, "mean", mask) + pool(x, "max", mask)  # [B, D]
    if mask is None:
        if how == "max":
            return x.amax(dim=1)  # [B, D]
        return x[:, -1] if how == "last" else x.mean(dim=1)  # [B, D]
    m = mask.to(x.dtype)  # [B, T]
    if how == "mean":
        return (x * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp_min(1.0)  # [B, D]
    if how == "max":
        hidden = (~mask.bool())[..., None]  # [B, T, 1] padding positions
        return x.masked_fill(hidden, float("-inf")).amax(dim=1).nan_to_num(0.0, 0.0, 0.0)  # [B, D]
    steps = torch.arange(x.shape[1], device=x.device)  # [T]
    last = (mask.long() * (steps + 1)).argmax(dim=1)  # [B] index of the last real position
    return x[torch.arange(x.shape[0], device=x.device), last]  # [B, D]
