"""`lm` head: next-token logits over the byte vocabulary."""

from __future__ import annotations

from typing import Any

import torch

from harness.graph.heads.base import Head
from harness.graph.native.program import Program
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size

VOCAB_SIZE = 264  # 256 byte values + 8 specials (harness/vocab.py)


class LMHead(Head):
    """norm then a TLinear `D -> vocab_size`; works on [B, T, D] and on one step [B, D]."""

    name = "lm"

    def __init__(
        self, dim: int, vocab_size: int = VOCAB_SIZE, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(dim)
        self.vocab_size = check_size(self.name, "vocab_size", vocab_size)
        self.proj = TLinear(dim, self.vocab_size, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh lm head."""
        return {"vocab_size": VOCAB_SIZE}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"vocab_size": self.vocab_size}

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [..., D] -> [..., V]
        """Return logits for every position."""
        return self.proj(self.norm(x))  # [..., V]

    def lower(self, p: Program, x: int) -> int:
        """Emit the head natively; return the logits slot."""
        return p.linear(p.layernorm(x, self.gain, None, 1e-5), self.proj)  # [V]

    def step(self, x: torch.Tensor) -> torch.Tensor:  # [B, D] -> [B, V]
        """Return logits for one step."""
        return self.proj(self.norm(x))  # [B, V]
