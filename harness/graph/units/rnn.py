"""`rnn`: an Elman recurrence `h' = tanh(W x + U h)` (the RNN family)."""

from __future__ import annotations

import torch

from harness.graph.native.program import ACTS, Program
from harness.graph.unit import State
from harness.graph.units.recurrent import Recurrent


class RNN(Recurrent):
    """Elman tanh RNN with a hidden size `hidden` and an output projection back to D."""

    name = "rnn"
    gates = 1
    states = ("h",)
    fused = "rnn_tanh"
    scan = "rnn"

    def cell(self, gx: torch.Tensor, gh: torch.Tensor, state: State) -> State:
        """Return the next hidden state, [B, H]."""
        return {"h": torch.tanh(gx + gh)}  # [B, H]

    def lower_cell(self, p: Program, gx: int, gh: int, states: list[int]) -> None:
        """Emit `h = tanh(gx + gh)` natively."""
        total = p.binary("add", gx, gh, self.hidden)  # [H]
        p.emit("act", states[0], total, self.hidden, ACTS["tanh"])
