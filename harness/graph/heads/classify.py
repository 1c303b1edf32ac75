"""`classify` head: one label out of a task's named classes, pooled over the sequence."""

from __future__ import annotations

from typing import Any

import torch

from harness.errors import GenomeError
from harness.graph.heads.base import Head, check_pool, pool
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size


class ClassifyHead(Head):
    """Mean-pool (default) or take the last position, norm, then `D -> classes` logits.

    Mean pooling is the default because it works for every graph, including per-token (MLP)
    graphs whose last position sees only the last token; `pool="last"` suits recurrent ones.
    """

    name = "classify"

    def __init__(
        self,
        dim: int,
        classes: int = 2,
        labels: list[str] | None = None,
        pool: str = "mean",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        self.classes = check_size(self.name, "classes", classes)
        if labels is not None and len(labels) != self.classes:
            raise GenomeError(
                f"the classify head has {self.classes} classes but {len(labels)} labels",
                "give one label name per class (or drop 'labels')",
            )
        self.labels = list(labels) if labels is not None else None
        self.pool = check_pool(self.name, pool)
        self.proj = TLinear(dim, self.classes, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh two-class head."""
        return {"classes": 2, "pool": "mean"}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        out: dict[str, Any] = {"classes": self.classes, "pool": self.pool}
        if self.labels is not None:
            out["labels"] = list(self.labels)
        return out

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Return class logits [B, C] from features [B, T, D] (mask [B, T]: real positions)."""
        return self.proj(self.norm(pool(x, self.pool, mask)))  # [B, C]
