"""`gate`: a merge node `x0 + sum_i g_i * x_i` whose gates can start at zero (a silent link).

With `init=0` (the default) a new cross-connection through a gate leaves the graph's outputs
unchanged at birth. `kind="scalar"` learns one gate per channel; `kind="sigmoid"` scales it by
an input-dependent `sigmoid(W x0 + b)` read from the main input.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from harness.errors import GenomeError
from harness.graph.native.program import Program
from harness.graph.tether import TLinear
from harness.graph.unit import State
from harness.graph.units.base import FixedUnit, check_size

KINDS = ("scalar", "sigmoid")


class Gate(FixedUnit):
    """Main input plus gated side inputs; the gates start at `init` (0 = zero impact)."""

    name = "gate"
    merge = True

    def __init__(
        self,
        dim: int,
        inputs: int = 2,
        init: float = 0.0,
        kind: str = "scalar",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        self.inputs = check_size(self.name, "inputs", inputs, minimum=2)
        if kind not in KINDS:
            raise GenomeError(
                f"unknown gate kind '{kind}' (known: {', '.join(KINDS)})",
                "set the node's 'kind' argument to 'scalar' or 'sigmoid'",
            )
        self.kind = kind
        self.init = float(init)
        self.alpha = nn.Parameter(torch.full((self.inputs - 1, dim), self.init))  # [n-1, D]
        side = (self.inputs - 1) * dim
        self.sel = TLinear(dim, side, generator=generator) if kind == "sigmoid" else None

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh two-input, zero-impact gate."""
        return {"inputs": 2, "init": 0.0, "kind": "scalar"}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"inputs": self.inputs, "init": self.init, "kind": self.kind}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] each -> [B, T, D]
        """Add the gated side inputs to the main input."""
        if len(xs) != self.inputs:
            raise GenomeError(
                f"a gate node built for {self.inputs} inputs got {len(xs)}",
                "set the node's 'inputs' argument to its number of input ids",
            )
        x0 = xs[0]
        g = self.alpha  # [n-1, D]
        if self.sel is not None:
            s = torch.sigmoid(self.sel(x0))  # [..., (n-1)*D]
            g = g * s.unflatten(-1, (self.inputs - 1, self.dim))  # [..., n-1, D]
        out = x0
        for i, x in enumerate(xs[1:]):
            out = out + g[..., i, :] * x  # [..., D]
        return out

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Gate one token of each input."""
        return self.forward(*xs), state  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the gating natively: one gated addition per side input, in order."""
        n = (self.inputs - 1) * self.dim
        sel = -1 if self.sel is None else p.act(p.linear(xs[0], self.sel), n, "sigmoid")  # [n]
        alpha = p.const(self.alpha)  # [(inputs-1)*D]
        out = xs[0]
        for i, x in enumerate(xs[1:]):
            y = p.scratch(self.dim)
            gate = -1 if sel < 0 else sel + i * self.dim
            p.emit("gate", y, out, x, alpha + i * self.dim, gate, self.dim)
            out = y
        return out

    def add_input(self, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Accept one more side input behind a zero gate (outputs unchanged); return new args."""
        with torch.no_grad():
            grown = torch.cat([self.alpha, torch.zeros(1, self.dim).to(self.alpha)], dim=0)
        self.alpha = nn.Parameter(grown, requires_grad=self.alpha.requires_grad)
        if self.sel is not None:
            n = (self.inputs - 1) * self.dim
            self.sel.take_rows(
                torch.cat([torch.arange(n), torch.zeros(self.dim, dtype=torch.long)])
            )
            self.sel.init_rows(torch.arange(n, n + self.dim), generator)
        self.inputs += 1
        return self.args()

    def flops_per_token(self) -> int:
        """Return the gating multiply-adds (plus the selector's, if any)."""
        return 2 * (self.inputs - 1) * self.dim + super().flops_per_token()
