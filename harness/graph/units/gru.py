"""`gru`: a gated recurrent unit written with TLinear (PyTorch's gate convention)."""

from __future__ import annotations

import torch

from harness.graph.native.program import Program
from harness.graph.unit import State
from harness.graph.units.recurrent import Recurrent


class GRU(Recurrent):
    """GRU: reset, update and candidate gates; `h' = (1 - z) * n + z * h`."""

    name = "gru"
    gates = 3
    states = ("h",)
    fused = "gru"
    scan = "gru"

    def cell(self, gx: torch.Tensor, gh: torch.Tensor, state: State) -> State:
        """Return the next hidden state, [B, H]."""
        h = self.hidden
        rz = torch.sigmoid(gx[:, : 2 * h] + gh[:, : 2 * h])  # [B, 2H]: reset, update
        n = torch.tanh(torch.addcmul(gx[:, 2 * h :], rz[:, :h], gh[:, 2 * h :]))  # [B, H]
        return {"h": torch.lerp(n, state["h"], rz[:, h:])}  # (1 - z) * n + z * h, [B, H]

    def lower_cell(self, p: Program, gx: int, gh: int, states: list[int]) -> None:
        """Emit the GRU cell natively."""
        p.emit("gru", states[0], gx, gh, self.hidden)
