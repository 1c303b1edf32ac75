"""`norm`: per-token LayerNorm (default: one fused kernel, fastest on CPU) or RMSNorm."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import GenomeError
from harness.graph.native.program import Program
from harness.graph.unit import State
from harness.graph.units.base import FixedUnit

KINDS = ("layer", "rms")


class Norm(FixedUnit):
    """Normalise each token's features: `kind` is 'layer' (gain and bias) or 'rms' (gain)."""

    name = "norm"

    def __init__(
        self,
        dim: int,
        kind: str = "layer",
        eps: float = 1e-5,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        if kind not in KINDS:
            raise GenomeError(
                f"unknown norm kind '{kind}' (known: {', '.join(KINDS)})",
                "set the node's 'kind' argument to 'rms' or 'layer'",
            )
        self.kind = kind
        self.eps = float(eps)
        self.gain = nn.Parameter(torch.ones(dim))
        self.shift = nn.Parameter(torch.zeros(dim)) if kind == "layer" else None

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh norm."""
        return {"kind": "layer", "eps": 1e-5}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"kind": self.kind, "eps": self.eps}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Normalise every token."""
        x = xs[0]
        if self.kind == "layer":
            return F.layer_norm(x, (self.dim,), self.gain, self.shift, self.eps)
        return F.rms_norm(x, (self.dim,), self.gain, self.eps)

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Normalise one token (stateless)."""
        return self.forward(xs[0]), state  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the normalisation natively."""
        if self.kind == "layer":
            return p.layernorm(xs[0], self.gain, self.shift, self.eps)
        y = p.scratch(self.dim)
        p.emit("rmsnorm", y, xs[0], p.const(self.gain), self.dim, p.scalar(self.eps))
        return y

    def flops_per_token(self) -> int:
        """Return a few operations per feature."""
        return 4 * self.dim
