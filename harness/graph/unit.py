"""The contract every learning unit, stem and head follows.

A unit maps one or more causal sequences `[B, T, D] -> [B, T, D]` (merge units take several
inputs, other units exactly one). It has two paths that must agree to float32 precision:

- `forward(*xs)`: the parallel path used in training, over whole sequences;
- `step(state, *xs_t)`: one time step `[B, D] -> [B, D]` carrying `state` (RNN hidden state,
  SSM/RWKV state, attention KV cache, conv ring buffer) for token-by-token generation.

Weights live in `TLinear` modules (harness/graph/tether.py), which carry the tether buffer
(`W' = W * T`, seed 001) and an optional zero-impact LoRA adapter (seed 002), so tethers,
pruning, compatibility, adapters and consolidation work the same in every unit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from harness.graph.native.program import NotLowerable, Program

State = dict[str, torch.Tensor]


class Unit(nn.Module):
    """Base class of learning units; subclasses set `name` and implement both paths."""

    name: ClassVar[str] = ""
    #: True for merge nodes (`add`, `concat`, `gate`), which take two or more inputs.
    merge: ClassVar[bool] = False

    def __init__(self, dim: int, **args: Any) -> None:
        super().__init__()
        self.dim = dim

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments a genome stores for a fresh unit of width `dim`."""
        return {}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # xs: [B, T, D] each -> [B, T, D]
        """Run the parallel (training) path over whole sequences."""
        raise NotImplementedError

    def init_state(self, batch: int, device: torch.device | None = None) -> State:
        """Return the empty state for `batch` sequences (an empty dict if stateless)."""
        return {}

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Run one time step: xs are [B, D] each; return ([B, D], new state)."""
        raise NotImplementedError

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the step path on a native program (harness/graph/native); return the output slot."""
        raise NotLowerable(f"unit '{self.name}'")

    def flops_per_token(self) -> int:
        """Return the approximate multiply-adds per token of the step path."""
        return sum(p.numel() for p in self.parameters() if p.dim() >= 2)
