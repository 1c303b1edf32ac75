"""`lstm`: a long short-term memory unit written with TLinear."""

from __future__ import annotations

import torch

from harness.graph.native.program import Program
from harness.graph.unit import State
from harness.graph.units.recurrent import Recurrent


class LSTM(Recurrent):
    """LSTM with input, forget, cell and output gates; the forget bias starts at 1."""

    name = "lstm"
    gates = 4
    states = ("h", "c")
    fused = "lstm"

    def __init__(self, dim: int, hidden: int | None = None,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(dim, hidden, generator=generator)
        bias = self.inp.bias
        assert bias is not None
        with torch.no_grad():
            bias[self.hidden : 2 * self.hidden] = 1.0

    def cell(self, gx: torch.Tensor, gh: torch.Tensor, state: State) -> State:
        """Return the next hidden and cell states, [B, H] each."""
        h = self.hidden
        gates = gx + gh  # [B, 4H]: input, forget, cell, output
        s = torch.sigmoid(gates)  # [B, 4H]
        g = torch.tanh(gates[:, 2 * h : 3 * h])  # [B, H]
        c = torch.addcmul(s[:, h : 2 * h] * state["c"], s[:, :h], g)  # [B, H]
        return {"h": s[:, 3 * h :] * torch.tanh(c), "c": c}  # [B, H] each

    def lower_cell(self, p: Program, gx: int, gh: int, states: list[int]) -> None:
        """Emit the LSTM cell natively (h and c in place)."""
        p.emit("lstm", states[0], states[1], gx, gh, self.hidden)
