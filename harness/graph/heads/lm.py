"""`lm` head: next-token logits over the byte vocabulary, optionally mixed with a count memory.

With `memory` = k > 0 the head also holds an order-k count memory (harness/graph/memory.py) of
the text its task trained on, and one more output, the trust w: the next-token distribution is
log_softmax(logits[:V] + softplus(logits[V]) * log p_memory), a product of experts in which the
graph learns what the counts miss (a sentinel mixture was tried first: the memory took all the
mass and the graph stopped learning, docs/memory.md). Graph.forward_tasks and Graph.read_head
then return log-probabilities, which every caller can use as logits. The memory's counts are
saved with the weights.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from harness.graph.heads.base import Head
from harness.graph.memory import NgramMemory, check_order
from harness.graph.native.program import NotLowerable, Program
from harness.graph.tether import TLinear
from harness.graph.units.base import check_size

VOCAB_SIZE = 264  # 256 byte values + 8 specials (harness/vocab.py)
TRUST_OFFSET = 0.5413  # softplus(0.5413) = 1: a fresh head takes the memory's log-odds as is


class LMHead(Head):
    """norm then a TLinear `D -> vocab_size`; works on [B, T, D] and on one step [B, D]."""

    name = "lm"

    def __init__(
        self,
        dim: int,
        vocab_size: int = VOCAB_SIZE,
        memory: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        self.vocab_size = check_size(self.name, "vocab_size", vocab_size)
        self.memory = NgramMemory(check_order(memory), self.vocab_size) if memory else None
        extra = 1 if self.memory is not None else 0
        self.proj = TLinear(dim, self.vocab_size + extra, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh lm head."""
        return {"vocab_size": VOCAB_SIZE}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        if self.memory is None:
            return {"vocab_size": self.vocab_size}
        return {"vocab_size": self.vocab_size, "memory": self.memory.order}

    @property
    def order(self) -> int:
        """Return the memory's order (0: no memory)."""
        return 0 if self.memory is None else self.memory.order

    def mix(self, logits: torch.Tensor, tokens: torch.Tensor,
            targets: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """Return log-probabilities [B, T, V] from logits [B, T, V+1] after tokens [B, T].

        With `targets` the memory leaves each target's own occurrence out (training on text
        it counted).
        """
        if self.memory is None:
            return logits
        return self.combine(logits, self.memory.probs(tokens, targets))

    def combine(self, logits: torch.Tensor, mem: torch.Tensor) -> torch.Tensor:
        """Return log_softmax(logits[:V] + w * log mem), w = softplus(logits[V] + offset)."""
        # w starts near 1 (softplus(0.5413) = 1): the graph first learns what the counts miss
        trust = F.softplus(logits[..., -1:] + TRUST_OFFSET)  # [..., 1]
        mem = mem.to(logits.device).clamp_min(1e-30).log()  # [..., V]
        return F.log_softmax(logits[..., :-1] + trust * mem, dim=-1)  # [..., V]

    def _save_to_state_dict(self, destination, prefix, keep_vars):  # type: ignore[no-untyped-def]
        """Save the weights, then the memory's counts as `memory.*` tensors."""
        super()._save_to_state_dict(destination, prefix, keep_vars)
        if self.memory is not None:
            for name, value in self.memory.tensors().items():
                destination[f"{prefix}memory.{name}"] = value

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,  # type: ignore[no-untyped-def]
                              missing_keys, unexpected_keys, error_msgs):  # fmt: skip
        """Load the weights, then the memory's counts (absent in a checkpoint: no counts)."""
        mine = {k[len(prefix) + len("memory."):]: v for k, v in state_dict.items()
                if k.startswith(f"{prefix}memory.")}  # fmt: skip
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)  # fmt: skip
        for key in [k for k in unexpected_keys if k.startswith(f"{prefix}memory.")]:
            unexpected_keys.remove(key)
        if self.memory is not None and mine:
            self.memory.load_tensors(mine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [..., D] -> [..., V (+1)]
        """Return logits for every position (and the trust logit, with a memory)."""
        return self.proj(self.norm(x))  # [..., V (+1)]

    def lower(self, p: Program, x: int) -> int:
        """Emit the head natively; return the logits slot."""
        if self.memory is not None:
            raise NotLowerable("an lm head with a count memory")
        return p.linear(p.layernorm(x, self.gain, None, 1e-5), self.proj)  # [V]

    def step(self, x: torch.Tensor) -> torch.Tensor:  # [B, D] -> [B, V (+1)]
        """Return logits for one step (and the trust logit, with a memory)."""
        return self.proj(self.norm(x))  # [B, V (+1)]
