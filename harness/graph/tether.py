"""Tethered linear layers: every weight matrix of a unit, stem or head lives in a `TLinear`.

A `TLinear` holds a weight `W` [out, in], an optional bias [out], and a `tether` buffer `T`
[out, in] of ones. Its effective weight is `(W + s * B @ A) * T`:

- tethers modulate the weights multiplicatively (seed 001); pruning writes zeros into them, which
  also silences any adapter on the pruned entries, so folding an adapter stays exact;
- the optional LoRA pair (`lora_a` [r, in], `lora_b` [out, r], seed 002) starts at zero impact
  (`lora_b` is zero); `adapters_enabled = False` gives the frozen reference; `fold_adapter`
  consolidates it into `W` and resets it to zero impact.

With autograd off (generation) the effective weight is cached and rebuilt only when a source
tensor changes (tracked by tensor identity and `_version`, which every in-place edit under
`torch.no_grad()` bumps). Editing `.data` directly bypasses that: call `invalidate()` after it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import GenomeError


class TLinear(nn.Module):
    """A linear layer with a multiplicative tether buffer and an optional zero-impact adapter."""

    tether: torch.Tensor
    lora_a: nn.Parameter | None
    lora_b: nn.Parameter | None

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        generator: torch.Generator | None = None,
        std: float | None = None,
    ) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise GenomeError(
                f"a linear layer needs positive sizes, got in={in_features} out={out_features}",
                "check the unit's width arguments in the genome",
            )
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias: nn.Parameter | None
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias", None)
        self.register_buffer("tether", torch.ones(out_features, in_features))
        self.register_parameter("lora_a", None)
        self.register_parameter("lora_b", None)
        self.lora_scale = 1.0
        self.adapters_enabled = True
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self._cache_key: tuple[object, ...] | None = None
        self._cache_src: tuple[object, ...] | None = None
        self.reset_parameters(generator, std)

    def reset_parameters(
        self, generator: torch.Generator | None = None, std: float | None = None
    ) -> None:
        """Draw the weight uniformly with bound 1/sqrt(in) (or normal with `std`); bias to zero."""
        with torch.no_grad():
            self.weight.copy_(_draw(tuple(self.weight.shape), std, generator))
            if self.bias is not None:
                self.bias.zero_()
        self.invalidate()

    # ----------------------------------------------------------------------------- weights
    def tethered_weight(self) -> torch.Tensor:
        """Return `W * T` without any adapter (what compatibility compares)."""
        return self.weight * self.tether  # [out, in]

    def _build(self) -> torch.Tensor:
        """Compute the effective weight `(W + s * B @ A) * T` (autograd-tracked)."""
        w: torch.Tensor = self.weight
        if self.adapters_enabled and self.lora_a is not None and self.lora_b is not None:
            w = w + (self.lora_b @ self.lora_a) * self.lora_scale  # [out, in]
        return w * self.tether  # [out, in]

    def effective_weight(self) -> torch.Tensor:
        """Return the effective weight [out, in], cached while autograd is off."""
        if torch.is_grad_enabled():
            return self._build()
        return self._cached()[0]

    def _cached(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the cached (weight [out, in], its contiguous transpose), rebuilt if stale."""
        p = self._parameters
        w, t, a, b = p["weight"], self._buffers["tether"], p["lora_a"], p["lora_b"]
        assert w is not None and t is not None
        key = (
            w._version, t._version, self.adapters_enabled,
            -1 if a is None else a._version, -1 if b is None else b._version,
        )  # fmt: skip
        src = self._cache_src
        if (
            src is None or key != self._cache_key
            or src[0] is not w or src[1] is not t or src[2] is not a or src[3] is not b
        ):  # fmt: skip
            eff = self._build()
            self._cache = (eff, eff.t().contiguous())
            self._cache_key = key
            self._cache_src = (w, t, a, b)
        assert self._cache is not None
        return self._cache

    def effective_weight_t(self) -> torch.Tensor:
        """Return the effective weight transposed, [in, out] contiguous (no autograd; cached)."""
        with torch.no_grad():
            return self._cached()[1]

    def invalidate(self) -> None:
        """Drop the cached effective weight (needed only after editing `.data` directly)."""
        self._cache = None
        self._cache_key = None
        self._cache_src = None

    def __getstate__(self) -> dict[str, object]:
        """Pickle and deep-copy without the inference cache (it is rebuilt on demand)."""
        state = dict(self.__dict__)
        state.update(_cache=None, _cache_key=None, _cache_src=None)
        return state

    def _apply(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.invalidate()
        return super()._apply(fn, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [..., in] -> [..., out]
        """Apply the effective weight and bias (a cached fast path when autograd is off)."""
        bias = self._parameters["bias"]
        if torch.is_grad_enabled():
            return F.linear(x, self._build(), bias)
        w, wt = self._cached()
        if x.dim() == 2:  # one step: [B, in] @ [in, out]
            return torch.mm(x, wt) if bias is None else torch.addmm(bias, x, wt)
        return F.linear(x, w, bias)

    def extra_repr(self) -> str:
        """Return the sizes and adapter rank for the module's repr."""
        rank = 0 if self.lora_a is None else self.lora_a.shape[0]
        bias = self.bias is not None
        return f"in={self.in_features}, out={self.out_features}, bias={bias}, lora={rank}"

    # ----------------------------------------------------------------------------- adapters
    @property
    def adapter_rank(self) -> int:
        """Return the adapter rank (0 when there is no adapter)."""
        return 0 if self.lora_a is None else int(self.lora_a.shape[0])

    def add_adapter(
        self, rank: int, generator: torch.Generator | None = None, scale: float = 1.0
    ) -> None:
        """Add a zero-impact LoRA pair: `lora_a` small random, `lora_b` zero."""
        if rank < 1:
            raise GenomeError(f"adapter rank must be >= 1, got {rank}", "pass a positive rank")
        if self.lora_a is not None:
            raise GenomeError(
                "this layer already has an adapter",
                "fold_adapter() or remove_adapter() before adding another",
            )
        w = self.weight
        a = _draw((rank, self.in_features), 1.0 / math.sqrt(self.in_features), generator)
        self.lora_a = nn.Parameter(a.to(w))  # [r, in]
        self.lora_b = nn.Parameter(
            torch.zeros(self.out_features, rank, device=w.device, dtype=w.dtype)
        )
        self.lora_scale = float(scale)
        self.invalidate()

    def fold_adapter(self) -> None:
        """Fold `s * B @ A` into the weight and reset the adapter to zero impact (consolidation)."""
        if self.lora_a is None or self.lora_b is None:
            return
        with torch.no_grad():
            self.weight.add_((self.lora_b @ self.lora_a) * self.lora_scale)  # [out, in]
            self.lora_b.zero_()
        self.invalidate()

    def remove_adapter(self) -> None:
        """Drop the adapter without folding it."""
        self.lora_a = None
        self.lora_b = None
        self.invalidate()

    # ----------------------------------------------------------------------------- reshaping
    def _replace(self, name: str, value: torch.Tensor) -> None:
        """Swap a parameter or buffer for a reshaped copy, keeping requires_grad."""
        old = getattr(self, name)
        if isinstance(old, nn.Parameter):
            setattr(
                self, name, nn.Parameter(value.detach().clone(), requires_grad=old.requires_grad)
            )
        else:
            setattr(self, name, value.detach().clone())

    def take_rows(self, index: torch.Tensor) -> None:
        """Keep or repeat output rows: row i of the result is old row `index[i]` (dupes allowed)."""
        index = index.to(self.weight.device).long()
        with torch.no_grad():
            self._replace("weight", self.weight[index])
            self._replace("tether", self.tether[index])
            if self.bias is not None:
                self._replace("bias", self.bias[index])
            if self.lora_b is not None:
                self._replace("lora_b", self.lora_b[index])
        self.out_features = int(index.numel())
        self.invalidate()

    def take_cols(self, index: torch.Tensor, scale: torch.Tensor | None = None) -> None:
        """Keep or repeat input columns, optionally scaling each new column (Net2Net splits)."""
        index = index.to(self.weight.device).long()
        with torch.no_grad():
            w = self.weight[:, index]  # [out, in']
            a = None if self.lora_a is None else self.lora_a[:, index]  # [r, in']
            if scale is not None:
                s = scale.to(w)
                w = w * s
                a = None if a is None else a * s
            self._replace("weight", w)
            self._replace("tether", self.tether[:, index])
            if a is not None:
                self._replace("lora_a", a)
        self.in_features = int(index.numel())
        self.invalidate()

    def init_rows(self, rows: torch.Tensor, generator: torch.Generator | None = None,
                  std: float | None = None) -> None:  # fmt: skip
        """Re-draw the given output rows (fresh weights, tether 1, bias 0, no adapter effect)."""
        rows = rows.to(self.weight.device).long()
        n = int(rows.numel())
        if n == 0:
            return
        fresh = _draw((n, self.in_features), std, generator)  # [n, in]
        with torch.no_grad():
            self.weight[rows] = fresh.to(self.weight)
            self.tether[rows] = 1.0
            if self.bias is not None:
                self.bias[rows] = 0.0
            if self.lora_b is not None:
                self.lora_b[rows] = 0.0
        self.invalidate()

    def zero_cols(self, cols: torch.Tensor) -> None:
        """Zero the weights of the given input columns (tether 1): those inputs have no effect."""
        cols = cols.to(self.weight.device).long()
        with torch.no_grad():
            self.weight[:, cols] = 0.0
            self.tether[:, cols] = 1.0
            if self.lora_a is not None:
                self.lora_a[:, cols] = 0.0
        self.invalidate()

    def zero_rows(self, rows: torch.Tensor) -> None:
        """Zero the weights and bias of the given output rows (tether 1): those outputs read 0."""
        rows = rows.to(self.weight.device).long()
        with torch.no_grad():
            self.weight[rows] = 0.0
            self.tether[rows] = 1.0
            if self.bias is not None:
                self.bias[rows] = 0.0
            if self.lora_b is not None:
                self.lora_b[rows] = 0.0
        self.invalidate()

    def cut_rows(self, rows: torch.Tensor) -> None:
        """Write zeros into the tethers of the given output rows (soft pruning)."""
        with torch.no_grad():
            self.tether[rows.to(self.tether.device).long()] = 0.0
        self.invalidate()

    def cut_cols(self, cols: torch.Tensor) -> None:
        """Write zeros into the tethers of the given input columns (soft pruning)."""
        with torch.no_grad():
            self.tether[:, cols.to(self.tether.device).long()] = 0.0
        self.invalidate()

    def row_importance(self) -> torch.Tensor:
        """Return the tether-weighted magnitude of each output row, [out]."""
        return self.tethered_weight().detach().abs().sum(dim=1)

    def col_importance(self) -> torch.Tensor:
        """Return the tether-weighted magnitude of each input column, [in]."""
        return self.tethered_weight().detach().abs().sum(dim=0)


# --------------------------------------------------------------------------------- helpers
def gen_device(generator: torch.Generator | None) -> torch.device:
    """Return the device random numbers from `generator` must be drawn on (CPU if None)."""
    return generator.device if generator is not None else torch.device("cpu")


def _draw(
    shape: tuple[int, ...], std: float | None, generator: torch.Generator | None
) -> torch.Tensor:
    """Draw float32 weights on the generator's device: uniform +-1/sqrt(in), or normal(0, std)."""
    out = torch.empty(shape, device=gen_device(generator))
    if std is None:
        bound = 1.0 / math.sqrt(shape[-1])
        return out.uniform_(-bound, bound, generator=generator)
    return out.normal_(0.0, std, generator=generator)


def tethered_linears(module: nn.Module) -> Iterator[tuple[str, TLinear]]:
    """Iterate over (qualified name, TLinear) for every tethered linear inside `module`."""
    for name, sub in module.named_modules():
        if isinstance(sub, TLinear):
            yield name, sub


def add_adapters(module: nn.Module, rank: int, generator: torch.Generator | None = None) -> int:
    """Add a zero-impact adapter to every TLinear without one; return how many were added."""
    count = 0
    for _, lin in tethered_linears(module):
        if lin.lora_a is None:
            lin.add_adapter(min(rank, lin.in_features, lin.out_features), generator)
            count += 1
    return count


def set_adapters_enabled(module: nn.Module, enabled: bool) -> None:
    """Switch every adapter inside `module` on or off (off gives the frozen reference)."""
    for _, lin in tethered_linears(module):
        lin.adapters_enabled = enabled


def adapter_parameters(module: nn.Module) -> list[nn.Parameter]:
    """Return the adapter parameters inside `module` (what online learning trains)."""
    out: list[nn.Parameter] = []
    for _, lin in tethered_linears(module):
        if lin.lora_a is not None and lin.lora_b is not None:
            out += [lin.lora_a, lin.lora_b]
    return out


def fold_adapters(module: nn.Module) -> None:
    """Fold every adapter inside `module` into its base weights (consolidation)."""
    for _, lin in tethered_linears(module):
        lin.fold_adapter()


def compatibility(a: TLinear, b: TLinear) -> float:
    """Return the cosine of the tethered weights of two aligned layers, in [-1, 1]."""
    if a.weight.shape != b.weight.shape:
        raise GenomeError(
            f"cannot compare layers of shapes {tuple(a.weight.shape)} and {tuple(b.weight.shape)}",
            "align units by innovation number and compare only units of equal sizes",
        )
    wa = a.tethered_weight().detach().flatten().double()
    wb = b.tethered_weight().detach().flatten().double().to(wa.device)
    na, nb = wa.norm(), wb.norm()
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    return float((wa @ wb) / (na * nb))


def unit_compatibility(u1: nn.Module, u2: nn.Module) -> float:
    """Return the mean compatibility over the aligned TLinears of two units (1.0 if none)."""
    l1 = dict(tethered_linears(u1))
    l2 = dict(tethered_linears(u2))
    if l1.keys() != l2.keys():
        raise GenomeError(
            f"units differ in their layers: {sorted(l1)} vs {sorted(l2)}",
            "compare only units of the same op (same op name and arguments)",
        )
    if not l1:
        return 1.0
    return sum(compatibility(l1[k], l2[k]) for k in l1) / len(l1)
