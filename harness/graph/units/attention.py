"""`attention`: causal multi-head self-attention with rotary position embeddings (RoPE).

The step path keeps a KV cache per head; its length is the position of the next token, which
RoPE needs. Both paths read the same cos/sin table, so they agree to float precision.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from harness.errors import GenomeError
from harness.graph.native.program import Program
from harness.graph.tether import TLinear
from harness.graph.unit import State, Unit
from harness.graph.units.base import check_size
from harness.graph.units.resize import complement, keep_top


def head_rows(heads: torch.Tensor, total: int, head_dim: int, blocks: int) -> torch.Tensor:
    """Return the rows of `heads` in a matrix of `blocks` stacked blocks of total*head_dim rows."""
    per = (heads[:, None] * head_dim + torch.arange(head_dim)).flatten()  # [h*hd]
    return torch.cat([per + g * total * head_dim for g in range(blocks)])


class Attention(Unit):
    """Causal multi-head attention; `heads` is the inner size (widen adds zero-output heads)."""

    name = "attention"

    def __init__(
        self,
        dim: int,
        heads: int | None = None,
        head_dim: int | None = None,
        rope_base: float = 10000.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(dim)
        defaults = self.default_args(dim)
        self.heads = check_size(self.name, "heads", defaults["heads"] if heads is None else heads)
        hd = defaults["head_dim"] if head_dim is None else head_dim
        self.head_dim = check_size(self.name, "head_dim", hd, minimum=2)
        if self.head_dim % 2:
            raise GenomeError(
                f"attention needs an even head_dim for rotary embeddings, got {self.head_dim}",
                "set the node's 'head_dim' argument to an even number",
            )
        self.rope_base = float(rope_base)
        inner = self.heads * self.head_dim
        self.qkv = TLinear(dim, 3 * inner, bias=False, generator=generator)
        self.out = TLinear(inner, dim, generator=generator)
        self._rope: tuple[torch.Tensor, ...] | None = None

    @classmethod
    def default_args(cls, dim: int) -> dict[str, Any]:
        """Return the op arguments of a fresh attention unit of width `dim` (16-wide heads)."""
        head_dim = 16 if dim >= 16 else max(2, dim + dim % 2)
        return {"heads": max(1, dim // head_dim), "head_dim": head_dim, "rope_base": 10000.0}

    def args(self) -> dict[str, Any]:
        """Return the current op arguments."""
        return {"heads": self.heads, "head_dim": self.head_dim, "rope_base": self.rope_base}

    def _table(self, length: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return (cos, signed sin) [L, hd] and rotation matrices [L, hd, hd] for [0, length).

        Cached and grown by doubling; built outside inference mode so autograd can use it.
        """
        rope = self._rope
        if rope is None or rope[0].shape[0] < length or rope[0].device != like.device:
            size = max(256, 2 * length)
            hd = self.head_dim
            with torch.inference_mode(False):
                inv = self.rope_base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
                ang = torch.arange(size, dtype=torch.float64)[:, None] * inv  # [L, hd/2]
                cos = torch.cat([ang.cos(), ang.cos()], dim=-1)  # [L, hd]
                sin = torch.cat([-ang.sin(), ang.sin()], dim=-1)  # [L, hd]
                swap = torch.arange(hd).roll(hd // 2)  # the partner of each feature
                mats = torch.diag_embed(cos)  # [L, hd, hd]: out[e] = x[e] cos[e] ...
                mats[:, swap, torch.arange(hd)] = sin  # ... + x[swap[e]] sin[e]
                rope = tuple(t.to(like.device, torch.float32) for t in (cos, sin, mats))
                self._rope = rope
        if like.dtype != torch.float32:
            return tuple(t.to(like.dtype) for t in rope)
        return rope

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Rotate the pairs (x1, x2) of the two halves of the last dim: x [..., hd]."""
        swapped = x.unflatten(-1, (2, -1)).flip(-2).flatten(-2)  # [..., hd]: (x2, x1)
        return torch.addcmul(x * cos, swapped, sin)  # (x1 cos - x2 sin, x2 cos + x1 sin)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Attend causally over the whole sequence."""
        x = xs[0]
        b, t, _ = x.shape
        qkv = self.qkv(x).view(b, t, 3, self.heads, self.head_dim)  # [B, T, 3, H, hd]
        qkv = qkv.permute(2, 0, 3, 1, 4)  # [3, B, H, T, hd]
        cos, sin, _ = self._table(t, x)
        qk = self._rotate(qkv[:2], cos[:t], sin[:t])  # [2, B, H, T, hd]
        o = F.scaled_dot_product_attention(qk[0], qk[1], qkv[2], is_causal=True)  # [B, H, T, hd]
        return self.out(o.transpose(1, 2).reshape(b, t, -1))  # [B, T, D]

    def init_state(self, batch: int, device: torch.device | None = None) -> State:
        """Return an empty KV cache, [B, H, 0, hd] each."""
        w = self.out.weight
        dev = device or w.device
        empty = torch.zeros(batch, self.heads, 0, self.head_dim, device=dev, dtype=w.dtype)
        return {"k": empty, "v": empty.clone()}

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Attend from one new token over the KV cache (its length is the position)."""
        x = xs[0]  # [B, D]
        b = x.shape[0]
        pos = state["k"].shape[2]
        h, hd = self.heads, self.head_dim
        qkv = self.qkv(x)  # [B, 3*H*hd]
        rot = self._table(pos + 1, x)[2][pos]  # [hd, hd]
        qk = (qkv[:, : 2 * h * hd].reshape(-1, hd) @ rot).view(b, 2, h, 1, hd)  # [B, 2, H, 1, hd]
        v = qkv[:, 2 * h * hd :].view(b, h, 1, hd)  # [B, H, 1, hd]
        ks = torch.cat([state["k"], qk[:, 1]], dim=2)  # [B, H, L+1, hd]
        vs = torch.cat([state["v"], v], dim=2)  # [B, H, L+1, hd]
        o = F.scaled_dot_product_attention(qk[:, 0], ks, vs)  # [B, H, 1, hd]
        return self.out(o.view(b, -1)), {"k": ks, "v": vs}  # [B, D]

    def lower(self, p: Program, xs: list[int]) -> int:
        """Emit the step natively: rotary q and k, a KV cache of `p.capacity` positions."""
        h, hd = self.heads, self.head_dim
        qkv = p.linear(xs[0], self.qkv)  # [3*H*hd]
        keys, vals = p.state(h * p.capacity * hd), p.state(h * p.capacity * hd)  # [H, L, hd]
        o = p.scratch(h * hd)
        p.emit("attn", o, qkv, keys, vals, h, hd, p.capacity, p.scalar(self.rope_base))
        return p.linear(o, self.out)  # [D]

    def flops_per_token(self) -> int:
        """Return the projections' multiply-adds plus a nominal 64-token attention span."""
        return super().flops_per_token() + 2 * 64 * self.heads * self.head_dim

    @property
    def inner_size(self) -> int | None:
        """Return the number of heads."""
        return self.heads

    def widen(self, new_size: int, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Add heads with fresh q, k, v rows and zero output columns; outputs are unchanged."""
        h, hd = self.heads, self.head_dim
        if new_size < h:
            raise GenomeError(f"cannot widen from {h} to {new_size} heads", "use prune()")
        m = torch.cat([torch.arange(h), torch.zeros(new_size - h, dtype=torch.long)])  # [H']
        self.qkv.take_rows(head_rows(m, h, hd, 3))
        self.out.take_cols(head_rows(m, h, hd, 1))
        new = torch.arange(h, new_size)
        self.qkv.init_rows(head_rows(new, new_size, hd, 3), generator)
        self.out.zero_cols(head_rows(new, new_size, hd, 1))
        self.heads = new_size
        return self.args()

    def prune(self, keep: int) -> dict[str, Any]:
        """Keep the `keep` heads whose q, k, v rows and output columns weigh most."""
        h, hd = self.heads, self.head_dim
        score = self.qkv.row_importance().view(3, h, hd).sum((0, 2))  # [H]
        score = score + self.out.col_importance().view(h, hd).sum(1)  # [H]
        kept = keep_top(score, keep)
        gone = complement(kept, h)
        self.qkv.cut_rows(head_rows(gone, h, hd, 3))
        self.out.cut_cols(head_rows(gone, h, hd, 1))
        self.qkv.take_rows(head_rows(kept, h, hd, 3))
        self.out.take_cols(head_rows(kept, h, hd, 1))
        self.heads = keep
        return self.args()
