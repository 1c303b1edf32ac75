"""Weight inheritance: a child graph takes its parents' tensors wherever names and shapes allow.

State-dict names carry the innovation number of their node (`blocks.<id>.…`), the stem's modality
(`stems.<m>.…`) or the head's task (`heads.<task>.…`), so a tensor with the same name and shape
belongs to the same gene in parent and child.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from harness.genome import Genome
from harness.graph.build import Graph
from harness.graph.tether import tethered_linears

StateDict = dict[str, torch.Tensor]


def gene_of(name: str) -> str:
    """Return the gene of a state-dict entry: 'node:<id>', 'stem:<m>', 'head:<t>' or 'other'."""
    parts = name.split(".")
    if len(parts) >= 2 and parts[0] == "blocks":
        return f"node:{parts[1]}"
    if len(parts) >= 2 and parts[0] == "stems":
        return f"stem:{parts[1]}"
    if len(parts) >= 2 and parts[0] == "heads":
        return f"head:{parts[1]}"
    return "other"


def graph_genes(genome: Genome) -> list[str]:
    """Return every gene of a genome: its nodes, stems and heads."""
    return (
        [f"node:{n['id']}" for n in genome["nodes"]]
        + [f"stem:{m}" for m in genome["stems"]]
        + [f"head:{t}" for t in genome["heads"]]
    )


def copy_matching(
    child: Graph, source: StateDict, keep: Callable[[str], bool] | None = None
) -> list[str]:
    """Copy every tensor of `source` whose name and shape match the child's; return the names."""
    own = child.state_dict()
    copied = []
    with torch.no_grad():
        for name, value in source.items():
            if name in own and own[name].shape == value.shape and (keep is None or keep(name)):
                own[name].copy_(value.to(own[name]))
                copied.append(name)
    _invalidate(child)
    return copied


def rebuild(
    parent: Graph,
    genome: Genome,
    generator: torch.Generator | None = None,
    fresh: Iterable[int] = (),
) -> Graph:
    """Build `genome` with fresh weights, then inherit the parent's tensors except `fresh` nodes."""
    child = Graph(genome, device="cpu", generator=generator)
    skip = {f"node:{i}" for i in fresh}
    copy_matching(child, parent.state_dict(), lambda name: gene_of(name) not in skip)
    return child.train(parent.training)


def _invalidate(graph: Graph) -> None:
    """Drop every cached effective weight after in-place copies."""
    for _, lin in tethered_linears(graph):
        lin.invalidate()
