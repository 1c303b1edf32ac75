"""`concat`: a merge node that concatenates its inputs and projects back to D."""

from __future__ import annotations

from typing import Any

import torch

from harness.errors import GenomeError
from harness.graph.native.program import Program
from harness.graph.tether import TLinear
from harness.graph.unit import State
from harness.graph.units.base import FixedUnit, check_size


class Concat(FixedUnit):
    """Concatenate `inputs` sequences and project `inputs*D -> D` with a TLinear."""

    name = "concat"
    merge = True

    def __init__(self, dim: int, inputs: int = 2, generator: torch.Generator | None = None) -> None:
        super().__init__(dim)
        self.inputs = check_size(self.name, "inputs", inputs)
        self.proj = TLinear(self.inputs * dim, dim, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh two-input concat."""
        return {"inputs": 2}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"inputs": self.inputs}

    def _check(self, xs: tuple[torch.Tensor, ...]) -> None:
        """Raise GenomeError unless there are exactly `inputs` inputs."""
        if len(xs) != self.inputs:
            raise GenomeError(
                f"a concat node built for {self.inputs} inputs got {len(xs)}",
                "set the node's 'inputs' argument to its number of input ids",
            )

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] each -> [B, T, D]
        """Concatenate the features of every position and project them."""
        self._check(xs)
        return self.proj(torch.cat(xs, dim=-1))  # [B, T, D]

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Concatenate and project one token of each input."""
        self._check(xs)
        return self.proj(torch.cat(xs, dim=-1)), state  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the step natively: copy the inputs side by side, then project."""
        joined = p.scratch(self.inputs * self.dim)  # [n*D]
        for i, x in enumerate(xs):
            p.emit("copy", joined + i * self.dim, x, self.dim)
        return p.linear(joined, self.proj)  # [D]

    def add_input(self, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Accept one more input, read through zero weights (outputs unchanged); return new args."""
        index = torch.cat(
            [torch.arange(self.inputs * self.dim), torch.zeros(self.dim, dtype=torch.long)]
        )
        self.proj.take_cols(index)
        self.proj.zero_cols(torch.arange(self.inputs * self.dim, (self.inputs + 1) * self.dim))
        self.inputs += 1
        return self.args()
