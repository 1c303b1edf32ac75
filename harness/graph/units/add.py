"""`add`: a merge node that sums its inputs."""

from __future__ import annotations

from typing import Any

import torch

from harness.errors import GenomeError
from harness.graph.native.program import Program
from harness.graph.unit import State
from harness.graph.units.base import FixedUnit


class Add(FixedUnit):
    """Sum of two or more inputs (no weights)."""

    name = "add"
    merge = True

    def __init__(self, dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__(dim)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return no op arguments: `add` takes any number of inputs."""
        return {}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments (none)."""
        return {}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] each -> [B, T, D]
        """Sum the inputs."""
        if not xs:
            raise GenomeError("an add node got no inputs", "give the node at least one input id")
        total = xs[0]
        for x in xs[1:]:
            total = total + x  # [B, T, D]
        return total

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Sum one token of each input."""
        return self.forward(*xs), state  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the sum natively, input by input as the PyTorch path adds them."""
        total = xs[0]
        for x in xs[1:]:
            total = p.binary("add", total, x, self.dim)
        return total

    def flops_per_token(self) -> int:
        """Return one addition per feature."""
        return self.dim
