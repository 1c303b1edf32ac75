"""Shared pieces of the built-in units: activations and the base of units without an inner size."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from harness.errors import GenomeError
from harness.graph.unit import Unit

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": partial(F.gelu, approximate="tanh"),  # the tanh form: several times faster on CPU
    "relu": F.relu,
    "silu": F.silu,
    "tanh": torch.tanh,
}


def activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the activation function called `name`, or raise GenomeError listing the known ones."""
    if name not in ACTIVATIONS:
        raise GenomeError(
            f"unknown activation '{name}' (known: {', '.join(sorted(ACTIVATIONS))})",
            "fix the unit's 'act' argument in the genome",
        )
    return ACTIVATIONS[name]


def check_size(unit: str, what: str, value: int, minimum: int = 1) -> int:
    """Return `value` if it is an int >= minimum, else raise GenomeError saying what to fix."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise GenomeError(
            f"unit '{unit}' needs an integer '{what}' >= {minimum}, got {value!r}",
            f"fix the '{what}' argument of this node in the genome",
        )
    return value


class FixedUnit(Unit):
    """A unit with no inner size: it cannot be widened or pruned."""

    @property
    def inner_size(self) -> int | None:
        """Return None: this unit has no inner size."""
        return None

    def widen(self, new_size: int, generator: torch.Generator | None = None) -> dict[str, Any]:
        """Raise NotImplementedError: there is no inner size to widen."""
        raise NotImplementedError(f"unit '{self.name}' has no inner size to widen")

    def prune(self, keep: int) -> dict[str, Any]:
        """Raise NotImplementedError: there is no inner size to prune."""
        raise NotImplementedError(f"unit '{self.name}' has no inner size to prune")
