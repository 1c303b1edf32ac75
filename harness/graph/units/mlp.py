"""`mlp`: a per-token two-layer perceptron `D -> H -> D` (the MLP family)."""

from __future__ import annotations

from typing import Any

import torch

from harness.graph.native.program import Program
from harness.graph.tether import TLinear
from harness.graph.unit import State, Unit
from harness.graph.units.base import activation, check_size
from harness.graph.units.resize import prune_pair, widen_pair


class MLP(Unit):
    """Per-token MLP: `out(act(inp(x)))`; widening is Net2Net (function-preserving)."""

    name = "mlp"

    def __init__(self, dim: int, hidden: int | None = None, act: str = "gelu",
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(dim)
        self.hidden = check_size(self.name, "hidden", 4 * dim if hidden is None else hidden)
        self.act_name = act
        self.act = activation(act)
        self.inp = TLinear(dim, self.hidden, generator=generator)
        self.out = TLinear(self.hidden, dim, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh MLP of width `dim`."""
        return {"hidden": 4 * dim, "act": "gelu"}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"hidden": self.hidden, "act": self.act_name}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Apply the MLP to every position."""
        h = self.act(self.inp(xs[0]))  # [B, T, H]
        return self.out(h)  # [B, T, D]

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Apply the MLP to one position (stateless)."""
        h = self.act(self.inp(xs[0]))  # [B, H]
        return self.out(h), state  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the step natively: two linears around the activation."""
        h = p.act(p.linear(xs[0], self.inp), self.hidden, self.act_name)  # [H]
        return p.linear(h, self.out)  # [D]

    @property
    def inner_size(self) -> int | None:
        """Return the hidden size."""
        return self.hidden

    def widen(self, new_size: int, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Grow to `new_size` inner units by Net2Net splitting; outputs are unchanged."""
        widen_pair(self.inp, self.out, new_size, generator)
        self.hidden = new_size
        return self.args()

    def prune(self, keep: int) -> dict[str, Any]:
        """Keep the `keep` most important inner units (tether-weighted magnitude)."""
        prune_pair(self.inp, self.out, keep)
        self.hidden = keep
        return self.args()
