"""One body node of a graph (`Block`), plugin construction and device choice."""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from harness import registry
from harness.errors import GenomeError
from harness.graph.unit import State


def one_position(head: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a head without a step method to one position: [B, D] -> [B, ...]."""
    return cast(torch.Tensor, head(x[:, None])[:, 0])


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Return `device`, or CUDA when available and None/'auto' was given, else the CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def make_plugin(
    kind: str, op: str, width: int, args: dict[str, Any], gen: torch.Generator | None
) -> Any:
    """Instantiate a registered unit/stem/head, turning bad arguments into a GenomeError."""
    cls = getattr(registry, kind + "s").get(op)
    try:
        return cls(width, **args, generator=gen)
    except TypeError as exc:
        raise GenomeError(
            f"bad arguments for {kind} '{op}': {exc}", f"fix the {kind}'s args in the genome"
        ) from exc


class Block(nn.Module):
    """One body node: a unit with optional pre-norm and learnable residual scale."""

    unit: Any
    norm: Any
    scale: nn.Parameter | None

    def __init__(self, node: dict[str, Any], width: int, gen: torch.Generator | None) -> None:
        super().__init__()
        self.node_id = int(node["id"])
        self.inputs: list[int] = [int(i) for i in node["inputs"]]
        self.unit = make_plugin("unit", node["op"], width, node.get("args", {}), gen)
        kind = node.get("prenorm")
        self.norm = make_plugin("unit", "norm", width, {"kind": kind}, gen) if kind else None
        self.residual = bool(node.get("residual"))
        self.scale = (
            nn.Parameter(torch.tensor(float(node.get("scale", 1.0)))) if self.residual else None
        )

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # [B, T, D] each -> [B, T, D]
        """Run the parallel path of the node."""
        if self.norm is None and not self.residual:
            return self.unit(*xs)
        x = xs[0]
        h = self.unit(self.norm(x) if self.norm is not None else x)  # [B, T, D]
        return torch.addcmul(x, h, self.scale) if self.scale is not None else h

    def step(self, state: State, *xs: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Run one step of the node: xs [B, D] each -> [B, D]."""
        if self.norm is None and not self.residual:
            return self.unit.step(state, *xs)
        x = xs[0]
        h = self.norm.step({}, x)[0] if self.norm is not None else x  # [B, D]
        y, state = self.unit.step(state, h)  # [B, D]
        return (torch.addcmul(x, y, self.scale) if self.scale is not None else y), state
