"""Small shared builders for the graph tests (tiny sizes, fixed seeds)."""

from __future__ import annotations

import torch

from harness.genome import Genome
from harness.graph.build import Graph


def build(genome: Genome, seed: int = 0) -> Graph:
    """Build a graph on the CPU with seeded weights, in eval mode."""
    return Graph(genome, device="cpu", generator=torch.Generator().manual_seed(seed)).eval()


def tokens(batch: int = 2, length: int = 12, seed: int = 0) -> torch.Tensor:
    """Return random byte tokens [B, T]."""
    return torch.randint(0, 256, (batch, length), generator=torch.Generator().manual_seed(seed))


def stepwise(graph: Graph, toks: torch.Tensor, control: torch.Tensor | None = None) -> torch.Tensor:
    """Run the step path over toks [B, T] and stack the logits -> [B, T, V]."""
    state = graph.init_state(toks.shape[0], control)
    return torch.stack([graph.step(state, toks[:, t]) for t in range(toks.shape[1])], dim=1)


def perturb(graph: Graph, seed: int = 1) -> None:
    """Give zero-initialised gates and residual scales non-zero values, so every path counts."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in graph.named_parameters():
            if name.endswith(".scale") or name.endswith(".alpha"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.25)
