"""Bias injection (seed 002): zero-impact adapters and a control input on any graph.

- `add_adapters(rank, generator)` puts a LoRA pair with a zero up-projection on every TLinear;
- `add_control(size)` adds a control vector input (recent rating/sentiment averages, time since
  the last exchange, decayed) projected through zero-init weights into the stem output;
- `adapters_enabled = False` (or `with graph.frozen_reference():`) switches both off: the frozen
  reference; `fold_adapters()` consolidates the LoRA pairs into the base weights and resets them.

All of these leave the graph's outputs unchanged at birth.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from harness.errors import GenomeError
from harness.graph import tether

CONTROL_SIZE = 8


class AdaptersMixin(nn.Module):
    """Adapter and control-input methods of `Graph` (expects `width` and a `control` slot)."""

    width: int
    control: nn.Parameter | None
    _adapters_enabled: bool

    def _init_adapters(self) -> None:
        """Set up the empty adapter state; call once in the graph's __init__."""
        self.control = None
        self._adapters_enabled = True

    # --------------------------------------------------------------------------- control input
    @property
    def control_size(self) -> int:
        """Return the size of the control vector (0 without a control input)."""
        return 0 if self.control is None else int(self.control.shape[1])

    def add_control(self, size: int = CONTROL_SIZE) -> None:
        """Add a control input of `size` floats through zero-init weights (zero impact)."""
        if size < 1:
            raise GenomeError(f"the control size must be >= 1, got {size}", "pass a size >= 1")
        if self.control is not None:
            raise GenomeError("this graph already has a control input", "reuse it")
        ref = next(self.parameters())
        self.control = nn.Parameter(torch.zeros(self.width, size, device=ref.device))  # [D, C]

    def control_bias(self, control: torch.Tensor | None) -> torch.Tensor | None:
        """Return the control vector's contribution [B, D], or None when absent or switched off."""
        if control is None or self.control is None or not self._adapters_enabled:
            return None
        if control.shape[-1] != self.control.shape[1]:
            raise GenomeError(
                f"the control vector has {control.shape[-1]} values, the graph expects "
                f"{self.control.shape[1]}",
                "build the control vector with the profile's online-learning settings",
            )
        return control.to(self.control) @ self.control.t()  # [B, C] @ [C, D] -> [B, D]

    # --------------------------------------------------------------------------- LoRA adapters
    def add_adapters(self, rank: int = 4, generator: torch.Generator | None = None) -> int:
        """Add a zero-impact LoRA pair to every TLinear; return how many were added."""
        return tether.add_adapters(self, rank, generator)

    @property
    def adapter_rank(self) -> int:
        """Return the largest adapter rank in the graph (0 without adapters)."""
        return max((lin.adapter_rank for _, lin in tether.tethered_linears(self)), default=0)

    @property
    def adapters_enabled(self) -> bool:
        """Return whether adapters and the control input are switched on."""
        return self._adapters_enabled

    @adapters_enabled.setter
    def adapters_enabled(self, enabled: bool) -> None:
        self._adapters_enabled = bool(enabled)
        tether.set_adapters_enabled(self, bool(enabled))

    @contextmanager
    def frozen_reference(self) -> Iterator[None]:
        """Switch adapters and control off inside the block: the graph as it was before them."""
        before = self._adapters_enabled
        self.adapters_enabled = False
        try:
            yield
        finally:
            self.adapters_enabled = before

    def adapter_parameters(self) -> list[nn.Parameter]:
        """Return what online learning trains: the LoRA pairs and the control weights."""
        params = tether.adapter_parameters(self)
        return params + ([self.control] if self.control is not None else [])

    def fold_adapters(self) -> None:
        """Fold every LoRA pair into its base weights and reset it to zero impact."""
        tether.fold_adapters(self)

    def remove_adapters(self) -> None:
        """Drop every LoRA pair without folding it."""
        for _, lin in tether.tethered_linears(self):
            lin.remove_adapter()
