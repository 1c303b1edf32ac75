"""The shared body of the `rnn`, `gru` and `lstm` units: gated recurrences written with TLinear.

Each unit projects the input to `G` stacked gate blocks of size `H` (`inp`, [G*H, D]), adds the
recurrent projection of the previous hidden state (`rec`, [G*H, H]), runs its cell, and projects
the hidden state back to `D` (`out`, [D, H]). The parallel path runs on the tethered effective
weights, so gradients reach the weights, tethers and adapters: through PyTorch's fused kernels
(`torch._VF.rnn_tanh`, `gru`, `lstm`, whose gate orders the cells below share), except on the
CPU for a unit whose `scan` (scan.py: a loop without autograd and a hand-written backward pass)
measured faster there (rnn, gru). A unit with neither loops over time with its own cell under
autograd. The step path runs the cell, and the paths agree to float precision.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar, cast

import torch
import torch.nn.functional as F

from harness.graph.native.program import NotLowerable, Program
from harness.graph.tether import TLinear
from harness.graph.unit import State, Unit
from harness.graph.units.base import check_size
from harness.graph.units.resize import (
    blocks,
    complement,
    keep_top,
    split_scales,
    widen_mapping,
)
from harness.graph.units.scan import gru_scan, rnn_scan


class Recurrent(Unit):
    """Base of the recurrent units: subclasses set `gates` and `states` and implement `cell`."""

    #: number of stacked gate blocks in `inp` and `rec`
    gates: ClassVar[int] = 1
    #: names of the state tensors carried between steps, each [B, H]
    states: ClassVar[tuple[str, ...]] = ("h",)
    #: the `torch._VF` kernel computing the same cell over a sequence (None: none)
    fused: ClassVar[str | None] = None
    #: the scan.py scan used on the CPU instead of the fused kernel ("rnn", "gru" or None)
    scan: ClassVar[str | None] = None

    def __init__(self, dim: int, hidden: int | None = None,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(dim)
        self.hidden = check_size(self.name, "hidden", dim if hidden is None else hidden)
        g, h = self.gates, self.hidden
        self.inp = TLinear(dim, g * h, generator=generator)
        self.rec = TLinear(h, g * h, bias=self.name == "gru", generator=generator)
        self.out = TLinear(h, dim, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh recurrent unit of width `dim`."""
        return {"hidden": dim}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"hidden": self.hidden}

    def cell(self, gx: torch.Tensor, gh: torch.Tensor, state: State) -> State:
        """Advance the state one step from the input gates gx and recurrent gates gh, [B, G*H]."""
        raise NotImplementedError

    def init_state(self, batch: int, device: torch.device | None = None) -> State:
        """Return zero hidden (and cell) states, [B, H] each."""
        w = self.out.weight
        return {k: torch.zeros(batch, self.hidden, device=device or w.device, dtype=w.dtype)
                for k in self.states}  # fmt: skip

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Run the recurrence over the whole sequence (scan on CPU, fused kernel on CUDA)."""
        x = xs[0]
        if self.scan is not None and not x.is_cuda:
            h = self._scan(x)  # [B, T, H]
        elif self.fused is not None:
            h = self._fused(x)  # [B, T, H]
        else:
            h = self._loop(x)  # [B, T, H]
        return self.out(h)  # [B, T, D]

    def _scan(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, H]
        """Run the cell's scan with its hand-written backward pass."""
        gx = self.inp(x)  # [B, T, G*H]
        w, b = self.rec.effective_weight(), self.rec.bias  # [G*H, H], [G*H] | None
        if self.scan == "gru":
            return gru_scan(gx, w, b)
        if b is not None:
            gx = gx + b  # [B, T, G*H]
        return rnn_scan(gx, w)

    def _fused(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, H]
        """Run torch's fused kernel with the tethered (and adapted) effective weights."""
        w_ih, w_hh = self.inp.effective_weight(), self.rec.effective_weight()  # [G*H, D], [G*H, H]
        zeros = torch.zeros(w_ih.shape[0], device=x.device, dtype=x.dtype)  # [G*H]
        b_ih: torch.Tensor = zeros if self.inp.bias is None else self.inp.bias
        b_hh: torch.Tensor = zeros if self.rec.bias is None else self.rec.bias
        h0 = torch.zeros(1, x.shape[0], self.hidden, device=x.device, dtype=x.dtype)  # [1, B, H]
        hx: Any = (h0, h0) if len(self.states) == 2 else h0
        kernel = getattr(torch._VF, str(self.fused))
        with warnings.catch_warnings():  # cuDNN asks for one flat weight buffer; ours are views
            warnings.filterwarnings("ignore", message="RNN module weights are not part")
            out = kernel(x.contiguous(), hx, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0,
                         torch.is_grad_enabled(), False, True)  # fmt: skip
        return cast(torch.Tensor, out[0])  # [B, T, H]

    def _loop(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, H]
        """Run the cell over time in Python (for cells without a fused kernel)."""
        gx = self.inp(x)  # [B, T, G*H]
        w_rec, b_rec = self.rec.effective_weight(), self.rec.bias  # [G*H, H], [G*H] | None
        state = self.init_state(x.shape[0], x.device)
        hs = []
        for t in range(x.shape[1]):
            gh = F.linear(state["h"], w_rec, b_rec)  # [B, G*H]
            state = self.cell(gx[:, t], gh, state)
            hs.append(state["h"])
        return torch.stack(hs, dim=1)  # [B, T, H]

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Advance the recurrence by one token."""
        gx = self.inp(xs[0])  # [B, G*H]
        gh = self.rec(state["h"])  # [B, G*H]
        state = self.cell(gx, gh, state)
        return self.out(state["h"]), state  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the step natively: gates from the input and the previous state, cell, output."""
        states = [p.state(self.hidden) for _ in self.states]  # [H] each, updated in place
        gx = p.linear(xs[0], self.inp)  # [G*H]
        gh = p.linear(states[0], self.rec)  # [G*H] from the previous h
        self.lower_cell(p, gx, gh, states)
        return p.linear(states[0], self.out)  # [D]

    def lower_cell(self, p: Program, gx: int, gh: int, states: list[int]) -> None:
        """Emit the cell, writing the new states over `states` (h first)."""
        raise NotLowerable(f"the cell of unit '{self.name}'")

    @property
    def inner_size(self) -> int | None:
        """Return the hidden size."""
        return self.hidden

    def widen(self, new_size: int, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Grow the hidden state to `new_size` by Net2Net splitting; outputs are unchanged.

        A copy k of hidden unit j gets j's incoming rows in every gate, and j's outgoing columns
        (recurrent and output) are split between j and k, so by induction over time h_k = h_j
        and every sum that read h_j reads the same total.
        """
        m = widen_mapping(self.hidden, new_size, generator)  # [H']
        scale = split_scales(m, generator)  # [H']
        rows = blocks(m, self.hidden, self.gates)  # [G*H']
        self.inp.take_rows(rows)
        self.rec.take_rows(rows)
        self.rec.take_cols(m, scale)
        self.out.take_cols(m, scale)
        self.hidden = new_size
        return self.args()

    def prune(self, keep: int) -> dict[str, Any]:
        """Keep the `keep` most important hidden units (tether-weighted magnitude)."""
        g, h = self.gates, self.hidden
        score = (
            self.inp.row_importance().view(g, h).sum(0)
            + self.rec.row_importance().view(g, h).sum(0)
            + self.rec.col_importance()
            + self.out.col_importance()
        )  # [H]
        kept = keep_top(score, keep)
        gone = complement(kept, h)
        self.inp.cut_rows(blocks(gone, h, g))
        self.rec.cut_rows(blocks(gone, h, g))
        self.rec.cut_cols(gone)
        self.out.cut_cols(gone)
        self.inp.take_rows(blocks(kept, h, g))
        self.rec.take_rows(blocks(kept, h, g))
        self.rec.take_cols(kept)
        self.out.take_cols(kept)
        self.hidden = keep
        return self.args()
