"""`rwkv`: an RWKV-4 block (time-mix with the WKV recurrence, then channel-mix) without norms.

The unit returns the block's update: with `a = TM(x)`, `h = x + a`, it returns `a + CM(h)`, so
`x + rwkv(x)` is the usual residual RWKV block. The WKV recurrence uses the numerically stable
form that carries a running maximum exponent `pp` beside the numerator `aa` and denominator `bb`:

    wkv_t = (sum_{i<t} e^{(t-1-i) w + k_i} v_i + e^{u + k_t} v_t)
          / (sum_{i<t} e^{(t-1-i) w + k_i}     + e^{u + k_t})

The step path runs that recurrence; the parallel path runs the same arithmetic in `wkv_scan`
(scan.py), a loop without autograd with a hand-written backward pass.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.graph.native.program import Program
from harness.graph.tether import TLinear
from harness.graph.unit import State, Unit
from harness.graph.units.base import check_size
from harness.graph.units.resize import prune_pair, widen_pair
from harness.graph.units.scan import NEG, wkv_scan


def wkv_step(
    k: torch.Tensor, v: torch.Tensor, w: torch.Tensor, u: torch.Tensor, state: State
) -> tuple[torch.Tensor, State]:
    """Advance the stable WKV recurrence by one token: k, v [B, D]; w, u [D]."""
    aa, bb, pp = state["aa"], state["bb"], state["pp"]  # [B, D] each
    ww = u + k  # [B, D]
    p = torch.maximum(pp, ww)
    e1, e2 = torch.exp(pp - p), torch.exp(ww - p)
    out = torch.addcmul(e2 * v, e1, aa) / torch.addcmul(e2, e1, bb)  # [B, D]
    ww = pp + w
    p = torch.maximum(ww, k)
    e1, e2 = torch.exp(ww - p), torch.exp(k - p)
    return out, {"aa": torch.addcmul(e2 * v, e1, aa), "bb": torch.addcmul(e2, e1, bb), "pp": p}


class RWKV(Unit):
    """RWKV-4 time-mix (token shift, WKV, receptance gate) plus channel-mix (squared ReLU)."""

    name = "rwkv"

    def __init__(
        self, dim: int, hidden: int | None = None, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(dim)
        self.hidden = check_size(self.name, "hidden", 4 * dim if hidden is None else hidden)
        ramp = torch.arange(dim, dtype=torch.float32) / max(dim - 1, 1)  # [D] in [0, 1]
        self.mix_k = nn.Parameter(0.3 + 0.6 * ramp)
        self.mix_v = nn.Parameter(0.2 + 0.6 * ramp)
        self.mix_r = nn.Parameter(0.5 + 0.3 * ramp)
        self.time_decay = nn.Parameter(-4.0 + 5.0 * ramp)  # w = -exp(time_decay)
        self.time_first = nn.Parameter(torch.full((dim,), -1.2) + 0.3 * ramp)  # u
        self.key = TLinear(dim, dim, bias=False, generator=generator)
        self.value = TLinear(dim, dim, bias=False, generator=generator)
        self.receptance = TLinear(dim, dim, bias=False, generator=generator)
        self.output = TLinear(dim, dim, bias=False, generator=generator)
        self.cmix_k = nn.Parameter(0.4 + 0.5 * ramp)
        self.cmix_r = nn.Parameter(0.4 + 0.5 * ramp)
        self.ckey = TLinear(dim, self.hidden, bias=False, generator=generator)
        self.cvalue = TLinear(self.hidden, dim, bias=False, generator=generator)
        self.creceptance = TLinear(dim, dim, bias=False, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh RWKV block of width `dim`."""
        return {"hidden": 4 * dim}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"hidden": self.hidden}

    def _time_in(self, x: torch.Tensor, xx: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return k, v and the receptance gate from the token and the shifted token."""
        dx = x - xx  # [..., D]
        k = self.key(torch.addcmul(xx, self.mix_k, dx))  # [..., D]
        v = self.value(torch.addcmul(xx, self.mix_v, dx))  # [..., D]
        r = torch.sigmoid(self.receptance(torch.addcmul(xx, self.mix_r, dx)))  # [..., D]
        return k, v, r

    def _channel(self, h: torch.Tensor, hh: torch.Tensor) -> torch.Tensor:
        """Apply channel-mix to h with its shifted copy hh."""
        dh = h - hh  # [..., D]
        k = torch.square(torch.relu(self.ckey(torch.addcmul(hh, self.cmix_k, dh))))  # [..., F]
        r = torch.sigmoid(self.creceptance(torch.addcmul(hh, self.cmix_r, dh)))  # [..., D]
        return r * self.cvalue(k)  # [..., D]

    def init_state(self, batch: int, device: torch.device | None = None) -> State:
        """Return the previous tokens (zeros) and the empty WKV state, [B, D] each."""
        w = self.output.weight
        z = torch.zeros(batch, self.dim, device=device or w.device, dtype=w.dtype)
        return {"x": z, "h": z.clone(), "aa": z.clone(), "bb": z.clone(), "pp": z + NEG}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Run the block over the whole sequence (WKV by its scan)."""
        x = xs[0]
        xx = F.pad(x, (0, 0, 1, -1))  # [B, T, D] previous tokens
        k, v, r = self._time_in(x, xx)  # [B, T, D] each
        w, u = -torch.exp(self.time_decay), self.time_first  # [D]
        a = self.output(r * wkv_scan(k, v, w, u))  # [B, T, D]
        h = x + a  # [B, T, D]
        hh = F.pad(h, (0, 0, 1, -1))  # [B, T, D]
        return a + self._channel(h, hh)  # [B, T, D]

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Advance the block by one token."""
        x = xs[0]  # [B, D]
        k, v, r = self._time_in(x, state["x"])  # [B, D] each
        w, u = -torch.exp(self.time_decay), self.time_first  # [D]
        o, wkv = wkv_step(k, v, w, u, state)
        a = self.output(r * o)  # [B, D]
        h = x + a  # [B, D]
        y = a + self._channel(h, state["h"])  # [B, D]
        return y, {"x": x, "h": h, **wkv}

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the block natively: time-mix with the WKV state, then channel-mix."""
        d, x = self.dim, xs[0]
        prev_x, prev_h = p.state(d), p.state(d)  # the previous token and block state, [D]
        aa, bb, pp = p.state(d), p.state(d), p.state(d, NEG)  # the WKV state, [D] each
        dx = p.binary("sub", x, prev_x, d)
        k = p.linear(p.addcmul(prev_x, p.const(self.mix_k), dx, d), self.key)  # [D]
        v = p.linear(p.addcmul(prev_x, p.const(self.mix_v), dx, d), self.value)  # [D]
        r = p.act(p.linear(p.addcmul(prev_x, p.const(self.mix_r), dx, d), self.receptance),
                  d, "sigmoid")  # fmt: skip
        o = p.scratch(d)
        w, u = p.const(-torch.exp(self.time_decay)), p.const(self.time_first)  # [D] each
        p.emit("wkv", o, k, v, w, u, aa, bb, pp, d)
        a = p.linear(p.binary("mul", r, o, d), self.output)  # [D]
        h = p.binary("add", x, a, d)  # [D]
        dh = p.binary("sub", h, prev_h, d)
        ck = p.linear(p.addcmul(prev_h, p.const(self.cmix_k), dh, d), self.ckey)  # [F]
        ck = p.act(ck, self.hidden, "sqrelu")
        cr = p.linear(p.addcmul(prev_h, p.const(self.cmix_r), dh, d), self.creceptance)  # [D]
        cr = p.act(cr, d, "sigmoid")
        y = p.addcmul(a, cr, p.linear(ck, self.cvalue), d)  # a + r * cvalue(k), [D]
        p.emit("copy", prev_x, x, d)
        p.emit("copy", prev_h, h, d)
        return y

    @property
    def inner_size(self) -> int | None:
        """Return the channel-mix hidden size."""
        return self.hidden

    def widen(self, new_size: int, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Grow the channel-mix hidden layer by Net2Net splitting; outputs are unchanged."""
        widen_pair(self.ckey, self.cvalue, new_size, generator)
        self.hidden = new_size
        return self.args()

    def prune(self, keep: int) -> dict[str, Any]:
        """Keep the `keep` most important channel-mix hidden units."""
        prune_pair(self.ckey, self.cvalue, keep)
        self.hidden = keep
        return self.args()
