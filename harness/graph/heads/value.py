"""`value` head: a game position's value in [-1, 1], read at the last position."""

from __future__ import annotations

from typing import Any

import torch

from harness.graph.heads.base import Head, check_pool, pool
from harness.graph.tether import TLinear


class ValueHead(Head):
    """Last position (or mean), norm, then `tanh(D -> 1)` -> [B]."""

    name = "value"

    def __init__(
        self, dim: int, pool: str = "last", generator: torch.Generator | None = None
    ) -> None:
        super().__init__(dim)
        self.pool = check_pool(self.name, pool)
        self.proj = TLinear(dim, 1, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh value head."""
        return {"pool": "last"}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"pool": self.pool}

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Return values [B] in [-1, 1] from features [B, T, D] (or [B, D])."""
        return torch.tanh(self.proj(self.norm(pool(x, self.pool, mask)))[..., 0])  # [B]
