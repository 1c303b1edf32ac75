"""`text` stem: byte-token embeddings (256 bytes + specials), one D-vector per token."""

from __future__ import annotations

from typing import Any

import torch

from harness.errors import DataError
from harness.graph.native.program import Program
from harness.graph.stems.base import Stem
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size

VOCAB_SIZE = 264  # 256 byte values + 8 specials (harness/vocab.py)


class TextStem(Stem):
    """Token embedding held in a TLinear whose rows are the token vectors ([V, D])."""

    name = "text"
    modality = "text"

    def __init__(
        self, dim: int, vocab_size: int = VOCAB_SIZE, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(dim)
        self.vocab_size = check_size(self.name, "vocab_size", vocab_size)
        self.embed = TLinear(dim, self.vocab_size, bias=False, generator=generator, std=1.0)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh text stem."""
        return {"vocab_size": VOCAB_SIZE}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"vocab_size": self.vocab_size}

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T] long -> [B, T, D]
        """Embed a batch of token sequences."""
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.vocab_size):
            raise DataError(
                f"token ids must lie in [0, {self.vocab_size}), got {int(x.min())}..{int(x.max())}",
                "encode text with harness.vocab (bytes 0-255 plus its specials)",
            )
        return self.embed.effective_weight()[x]  # [B, T, D]

    def step(self, tokens: torch.Tensor) -> torch.Tensor:  # [B] long -> [B, D]
        """Embed one token per sequence (no range check: the fast path)."""
        return self.embed.effective_weight()[tokens]  # [B, D]

    def lower(self, p: Program) -> None:
        """Emit the token lookup into the program's input slot."""
        with torch.no_grad():
            table = p.const(self.embed.effective_weight())  # [V, D]
        p.emit("embed", p.input, table, self.dim, self.vocab_size)

    def example(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return random token ids [batch, 7]."""
        return torch.randint(0, self.vocab_size, (batch, 7), generator=generator)

    def flops_per_token(self) -> int:
        """Return D: an embedding lookup costs a copy, not a product."""
        return self.dim
