"""`ssm`: a selective diagonal state-space layer (S4D-real decay, Mamba-style B, C and dt).

Per channel d and state n, with `A = -exp(A_log)` (negative real):

    h_t[d, n] = exp(dt_t[d] * A[d, n]) * h_{t-1}[d, n] + dt_t[d] * B_t[n] * u_t[d]
    y_t[d]    = sum_n C_t[n] * h_t[d, n] + skip[d] * u_t[d]

with `u = silu(in_u(x))`, `dt = softplus(dt(x))`, `B, C = bc(x)`, and the output
`out(y * silu(z))` gated by a second input branch `z`. The parallel path runs the state
recurrence with `selective_scan` (a loop without autograd and a hand-written backward pass), with
the same arithmetic as the step path.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import GenomeError
from harness.graph.native.program import Program
from harness.graph.tether import TLinear, gen_device
from harness.graph.unit import State, Unit
from harness.graph.units.base import check_size
from harness.graph.units.resize import blocks, complement, keep_top
from harness.graph.units.scan import selective_scan


class SSM(Unit):
    """Selective diagonal SSM with `state` dims per channel; widening adds dims with zero C."""

    name = "ssm"

    def __init__(self, dim: int, state: int = 16, generator: torch.Generator | None = None) -> None:
        super().__init__(dim)
        self.state = check_size(self.name, "state", state)
        self.inp = TLinear(dim, 2 * dim, generator=generator)  # -> u, z
        self.bc = TLinear(dim, 2 * self.state, bias=False, generator=generator)  # -> B, C
        self.dt = TLinear(dim, dim, generator=generator)
        self.out = TLinear(dim, dim, generator=generator)
        lo, hi = math.log(1e-3), math.log(1e-1)
        u = torch.rand(dim, generator=generator, device=gen_device(generator)).cpu()  # [D]
        dt0 = torch.exp(u * (hi - lo) + lo)  # [D] in [1e-3, 1e-1]
        with torch.no_grad():
            bias = self.dt.bias
            assert bias is not None
            bias.copy_(dt0 + torch.log(-torch.expm1(-dt0)))  # softplus^-1(dt0)
        a = torch.arange(1, self.state + 1, dtype=torch.float32)  # [N]
        self.A_log = nn.Parameter(torch.log(a).repeat(dim, 1))  # [D, N]
        self.skip = nn.Parameter(torch.ones(dim))

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh SSM of width `dim`."""
        return {"state": 16}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"state": self.state}

    def _inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return u, z, dt [..., D] and B, C [..., N] for the tokens x [..., D]."""
        u, z = self.inp(x).chunk(2, dim=-1)  # [..., D] each
        b, c = self.bc(x).chunk(2, dim=-1)  # [..., N] each
        dt = F.softplus(self.dt(x))  # [..., D]
        return F.silu(u), z, dt, b, c

    def init_state(self, batch: int, device: torch.device | None = None) -> State:
        """Return the zero state, [B, D, N]."""
        w = self.out.weight
        dev = device or w.device
        return {"h": torch.zeros(batch, self.dim, self.state, device=dev, dtype=w.dtype)}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Scan the state over the whole sequence (time-major, hand-written backward pass)."""
        x = xs[0].transpose(0, 1).contiguous()  # [T, B, D]
        u, z, dt, b, c = self._inputs(x)  # [T, B, D] x3, [T, B, N] x2
        a = -torch.exp(self.A_log)  # [D, N]
        y = selective_scan(dt, a, dt * u, b, c) + self.skip * u  # [T, B, D]
        return self.out((y * F.silu(z)).transpose(0, 1))  # [B, T, D]

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Advance the state by one token."""
        u, z, dt, b, c = self._inputs(xs[0])  # [B, D] x3, [B, N] x2
        a = -torch.exp(self.A_log)  # [D, N]
        decay = torch.exp(dt[..., None] * a)  # [B, D, N]
        drive = (dt * u)[..., None] * b[:, None, :]  # [B, D, N]
        h = decay * state["h"] + drive  # [B, D, N]
        y = (h * c[:, None, :]).sum(-1) + self.skip * u  # [B, D]
        return self.out(y * F.silu(z)), {"h": h}  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the step natively: input branches, the state update, the gated output."""
        d, n, x = self.dim, self.state, xs[0]
        uz = p.linear(x, self.inp)  # [2D]: u, z
        u = p.act(uz, d, "silu")  # [D]
        bc = p.linear(x, self.bc)  # [2N]: B, C
        dt = p.act(p.linear(x, self.dt), d, "softplus")  # [D]
        h = p.state(d * n)  # [D, N]
        y = p.scratch(d)
        p.emit("ssm", y, u, dt, bc, p.const(-torch.exp(self.A_log)), h, p.const(self.skip), d, n)
        gated = p.binary("mul", y, p.act(uz + d, d, "silu"), d)  # y * silu(z), [D]
        return p.linear(gated, self.out)  # [D]

    @property
    def inner_size(self) -> int | None:
        """Return the number of state dims per channel."""
        return self.state

    def widen(self, new_size: int, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Add state dims with fresh B rows and zero C rows, so outputs are unchanged."""
        n = self.state
        if new_size < n:
            raise GenomeError(f"cannot widen from {n} to {new_size}", "use prune() to shrink")
        m = torch.cat([torch.arange(n), torch.zeros(new_size - n, dtype=torch.long)])  # [N']
        self.bc.take_rows(blocks(m, n, 2))
        new = torch.arange(n, new_size)
        self.bc.init_rows(new, generator)  # fresh B rows
        self.bc.zero_rows(new + new_size)  # zero C rows: the new dims are not read yet
        extra = torch.log(torch.arange(n + 1, new_size + 1, dtype=torch.float32))  # [N'-N]
        with torch.no_grad():
            grown = torch.cat([self.A_log, extra.to(self.A_log).repeat(self.dim, 1)], dim=1)
        self.A_log = nn.Parameter(grown, requires_grad=self.A_log.requires_grad)
        self.state = new_size
        return self.args()

    def prune(self, keep: int) -> dict[str, Any]:
        """Keep the `keep` state dims whose B and C rows weigh most (tether-weighted)."""
        n = self.state
        kept = keep_top(self.bc.row_importance().view(2, n).sum(0), keep)  # [keep]
        self.bc.cut_rows(blocks(complement(kept, n), n, 2))
        self.bc.take_rows(blocks(kept, n, 2))
        with torch.no_grad():
            shrunk = self.A_log[:, kept]  # [D, keep]
        self.A_log = nn.Parameter(shrunk.clone(), requires_grad=self.A_log.requires_grad)
        self.state = keep
        return self.args()
