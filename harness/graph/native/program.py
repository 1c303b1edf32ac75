"""A lowered step program: the instructions and the float32 arena the native engine runs on.

Units lower themselves (`Unit.lower`) by allocating arena slots (weights, scratch, state) and
emitting instructions on a `Program`; the opcodes and their operands are those of engine.c.
Every slot is an offset into one flat arena, laid out in allocation order with the attention KV
caches among the states, so one C call advances the whole graph by a token.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from harness.errors import GenomeError
from harness.graph.tether import TLinear

#: int64 words per instruction (opcode plus operands), as in engine.c
WIDTH = 12
NONE = -1

OPS = {
    "embed": 1, "linear": 2, "act": 3, "layernorm": 4, "rmsnorm": 5, "add": 6, "sub": 7,
    "mul": 8, "addcmul": 9, "addscaled": 10, "copy": 11, "shiftin": 12, "gru": 13, "lstm": 14,
    "wkv": 15, "ssm": 16, "attn": 17, "gate": 18,
}  # fmt: skip
ACTS = {"gelu": 0, "relu": 1, "silu": 2, "tanh": 3, "sigmoid": 4, "softplus": 5, "sqrelu": 6}


class NotLowerable(GenomeError):
    """A part of the graph has no native lowering; generation uses the PyTorch step path."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} has no native step lowering",
            "generation uses the PyTorch step path; add a `lower` method to run it natively",
        )


class Program:
    """Arena layout plus instruction list for one graph's step; `capacity` bounds KV caches."""

    def __init__(self, dim: int, capacity: int) -> None:
        self.dim = dim
        self.capacity = capacity
        self.size = 0
        self.code: list[list[int]] = []
        self._init: list[tuple[int, torch.Tensor | float]] = []
        self.input = self.scratch(dim)  # the stem vector of the current position
        self.logits = NONE
        self.vocab = 0

    # ------------------------------------------------------------------------ allocation
    def _alloc(self, n: int, fill: torch.Tensor | float = 0.0) -> int:
        """Reserve `n` floats filled with `fill`; return their offset."""
        if n < 1:
            raise GenomeError(f"cannot allocate {n} floats", "check the unit's sizes")
        off = self.size
        self.size += n
        if not isinstance(fill, float) or fill != 0.0:
            self._init.append((off, fill))
        return off

    def const(self, t: torch.Tensor) -> int:
        """Copy a tensor (any shape, flattened row-major) into the arena; return its offset."""
        flat = t.detach().to("cpu", torch.float32).reshape(-1)
        return self._alloc(flat.numel(), flat)

    def weight_t(self, linear: TLinear) -> tuple[int, int]:
        """Place a TLinear's effective weight transposed [in, out]; return (weight, bias) slots."""
        wt = linear.effective_weight_t()  # [in, out], tethers and adapters applied
        return self.const(wt), NONE if linear.bias is None else self.const(linear.bias)

    def scalar(self, value: float) -> int:
        """Place one float; return its offset."""
        return self._alloc(1, float(value)) if value != 0.0 else self._alloc(1)

    def scratch(self, n: int) -> int:
        """Reserve a zeroed scratch buffer of `n` floats."""
        return self._alloc(n)

    def state(self, n: int, fill: float = 0.0) -> int:
        """Reserve a state buffer of `n` floats starting at `fill` (kept across steps)."""
        return self._alloc(n, float(fill))

    # ------------------------------------------------------------------------ instructions
    def emit(self, op: str, *operands: int) -> None:
        """Append one instruction."""
        if len(operands) >= WIDTH:
            raise GenomeError(f"too many operands for '{op}'", "this is a bug in a lowering")
        self.code.append([OPS[op], *(int(x) for x in operands)])

    def linear(self, x: int, linear: TLinear) -> int:
        """Emit `y = x @ W_eff^T + b` for a TLinear; return y's slot."""
        w, b = self.weight_t(linear)
        nin, nout = linear.in_features, linear.out_features
        y = self.scratch(nout)
        self.emit("linear", y, x, w, b, nin, nout)
        return y

    def act(self, x: int, n: int, kind: str) -> int:
        """Emit an activation into a new buffer; return its slot."""
        if kind not in ACTS:
            raise NotLowerable(f"activation '{kind}'")
        y = self.scratch(n)
        self.emit("act", y, x, n, ACTS[kind])
        return y

    def binary(self, op: str, a: int, b: int, n: int) -> int:
        """Emit `add`, `sub` or `mul` of two buffers into a new one; return its slot."""
        y = self.scratch(n)
        self.emit(op, y, a, b, n)
        return y

    def addcmul(self, a: int, b: int, c: int, n: int) -> int:
        """Emit `a + b * c` into a new buffer; return its slot."""
        y = self.scratch(n)
        self.emit("addcmul", y, a, b, c, n)
        return y

    def layernorm(self, x: int, gain: torch.Tensor, shift: torch.Tensor | None, eps: float) -> int:
        """Emit a LayerNorm (shift None: gain only); return its slot."""
        n = gain.numel()
        y = self.scratch(n)
        s = NONE if shift is None else self.const(shift)
        self.emit("layernorm", y, x, self.const(gain), s, n, self.scalar(eps))
        return y

    # ------------------------------------------------------------------------ output
    def finish(self, logits: int, vocab: int) -> None:
        """Mark the slot holding the head's logits."""
        self.logits, self.vocab = logits, vocab

    def arena(self) -> torch.Tensor:
        """Return a fresh arena: zeros, weights and initial states in place."""
        out = torch.zeros(self.size, dtype=torch.float32)
        for off, fill in self._init:
            if isinstance(fill, torch.Tensor):
                out[off : off + fill.numel()] = fill
            else:
                out[off] = fill
        return out

    def packed(self) -> torch.Tensor:
        """Return the instructions as an int64 tensor [count, WIDTH] (unused operands -1)."""
        rows = [row + [NONE] * (WIDTH - len(row)) for row in self.code]
        return torch.tensor(rows, dtype=torch.int64).reshape(-1, WIDTH)


Lowering = Callable[[Program, list[int]], int]
