"""`policy` head: logits over a game's actions, read at the last position."""

from __future__ import annotations

from typing import Any

import torch

from harness.graph.heads.base import Head, check_pool, pool
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size


class PolicyHead(Head):
    """Last position (or mean), norm, then `D -> actions`; illegal actions get -inf."""

    name = "policy"

    def __init__(
        self,
        dim: int,
        actions: int = 9,
        pool: str = "last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        self.actions = check_size(self.name, "actions", actions)
        self.pool = check_pool(self.name, pool)
        self.proj = TLinear(dim, self.actions, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh policy head (nine actions: tic-tac-toe)."""
        return {"actions": 9, "pool": "last"}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"actions": self.actions, "pool": self.pool}

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        legal: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return action logits [B, A] from [B, T, D]; `legal` [B, A] bool masks illegal moves."""
        logits = self.proj(self.norm(pool(x, self.pool, mask)))  # [B, A]
        if legal is not None:
            logits = logits.masked_fill(~legal.bool(), float("-inf"))
        return logits
