"""`conv`: a causal 1-D convolution over the last `kernel` tokens (the CNN family on sequences)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from harness.graph.native.program import Program
from harness.graph.tether import TLinear
from harness.graph.unit import State, Unit
from harness.graph.units.base import activation, check_size
from harness.graph.units.resize import prune_pair, widen_pair


class Conv(Unit):
    """Causal conv `D*kernel -> channels`, activation, pointwise projection back to D.

    The kernel is a TLinear over the flattened window `[x_{t-k+1}, ..., x_t]` (oldest first,
    zeros before the start), so the step path keeps a ring buffer of the last k-1 inputs.
    """

    name = "conv"

    def __init__(self, dim: int, kernel: int = 4, channels: int | None = None, act: str = "gelu",
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(dim)
        self.kernel = check_size(self.name, "kernel", kernel)
        self.channels = check_size(self.name, "channels", dim if channels is None else channels)
        self.act_name = act
        self.act = activation(act)
        self.inp = TLinear(self.kernel * dim, self.channels, generator=generator)
        self.out = TLinear(self.channels, dim, generator=generator)

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh conv of width `dim`."""
        return {"kernel": 4, "channels": dim, "act": "gelu"}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"kernel": self.kernel, "channels": self.channels, "act": self.act_name}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Convolve every causal window of the sequence."""
        x = xs[0]
        b, t, d = x.shape
        xp = F.pad(x, (0, 0, self.kernel - 1, 0))  # [B, T+k-1, D]
        win = xp.unfold(1, self.kernel, 1).transpose(-1, -2).reshape(b, t, self.kernel * d)
        h = self.act(self.inp(win))  # [B, T, C]
        return self.out(h)  # [B, T, D]

    def init_state(self, batch: int, device: torch.device | None = None) -> State:
        """Return a zero buffer of the last k-1 inputs, [B, k-1, D]."""
        w = self.out.weight
        buf = torch.zeros(
            batch, self.kernel - 1, self.dim, device=device or w.device, dtype=w.dtype
        )
        return {"buf": buf}

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Convolve the window ending at this token and shift the buffer."""
        x = xs[0]  # [B, D]
        win = torch.cat([state["buf"], x[:, None]], dim=1)  # [B, k, D]
        h = self.act(self.inp(win.reshape(x.shape[0], -1)))  # [B, C]
        return self.out(h), {"buf": win[:, 1:]}  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the step natively: shift the token into a k-token window, then the two linears."""
        window = p.state(self.kernel * self.dim)  # [k*D], oldest token first
        p.emit("shiftin", window, xs[0], self.kernel * self.dim, self.dim)
        h = p.act(p.linear(window, self.inp), self.channels, self.act_name)  # [C]
        return p.linear(h, self.out)  # [D]

    @property
    def inner_size(self) -> int | None:
        """Return the number of conv channels."""
        return self.channels

    def widen(self, new_size: int, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Grow to `new_size` inner units by Net2Net splitting; outputs are unchanged."""
        widen_pair(self.inp, self.out, new_size, generator)
        self.channels = new_size
        return self.args()

    def prune(self, keep: int) -> dict[str, Any]:
        """Keep the `keep` most important inner units (tether-weighted magnitude)."""
        prune_pair(self.inp, self.out, keep)
        self.channels = keep
        return self.args()
