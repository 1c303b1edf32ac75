"""Crossover aligns relatives by innovation number and merges only compatible units."""

from __future__ import annotations

import random

import torch

from harness.evolve.crossover import child_genome, crossover
from harness.evolve.genes import align, renumber
from harness.evolve.mutations import InsertNode
from harness.graph.build import Graph
from harness.graph.seeds import seed


def _graph(genome: dict, seed_: int = 0) -> Graph:
    return Graph(genome, device="cpu", generator=torch.Generator().manual_seed(seed_)).eval()


def _relatives() -> tuple[Graph, Graph]:
    """Return a parent and a child that grew one node (shared genes 1..n, one excess gene)."""
    parent = _graph(renumber(seed("transformer", 8000, depth=2), 1))
    out = InsertNode().apply(parent, random.Random(0), torch.Generator().manual_seed(1))
    assert out is not None
    return parent, out.graph


def test_renumber_keeps_the_function():
    """Renumbering node ids changes no output (weights follow their nodes)."""
    g = seed("gru", 6000, depth=2)
    a = _graph(g)
    b_genome = renumber(g, 50)
    assert [n["id"] for n in b_genome["nodes"]] == [50, 51]
    b = Graph(b_genome, device="cpu")
    b.load_state_dict({k.replace("blocks.1.", "blocks.50.").replace("blocks.2.", "blocks.51."): v
                       for k, v in a.state_dict().items()})
    toks = torch.randint(0, 256, (1, 8), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(a(toks), b.eval()(toks))


def test_relatives_align_by_innovation_number():
    """A parent and its grown child match on the parent's genes; the new node is excess."""
    parent, child = _relatives()
    al = align(child.genome, parent.genome)
    assert al.matching == sorted(n["id"] for n in parent.genome["nodes"])
    assert al.excess == [max(n["id"] for n in child.genome["nodes"])]
    assert al.disjoint == []
    unrelated = renumber(seed("gru", 6000), 100)
    assert align(parent.genome, unrelated).matching == []


def test_child_has_the_fitter_structure_and_matching_genes_from_either():
    """The child keeps the fitter parent's nodes; matching genes may come from the other."""
    parent, child = _relatives()
    g, taken = child_genome(child.genome, parent.genome, random.Random(2))
    assert [n["id"] for n in g["nodes"]] == [n["id"] for n in child.genome["nodes"]]
    assert set(taken) <= set(align(child.genome, parent.genome).matching)


def test_compatible_units_are_averaged_and_incompatible_ones_drift_apart():
    """Equal-spec genes with compatible weights are averaged; opposite weights keep the fitter's."""
    parent, child = _relatives()
    other = _graph(parent.genome, 9)  # the same design with other weights
    with torch.no_grad():
        for name, p in other.named_parameters():  # node 1 points the opposite way: cosine -1
            if name.startswith("blocks.1.") and p.dim() == 2:
                p.copy_(-child.state_dict()[name])
            elif name.startswith("blocks.2.") and p.dim() == 2:  # node 2: nearly the same
                p.copy_(child.state_dict()[name] * 1.01)
    out = crossover(child, other, random.Random(0), torch.Generator().manual_seed(0), 0.5)
    assert "node:1" in out.drifted and "node:2" in out.merged
    assert out.compatibility["node:1"] < -0.99
    sd, a, b = out.graph.state_dict(), child.state_dict(), other.state_dict()
    w = "blocks.2.unit.out.weight"
    assert torch.allclose(sd[w], (a[w] + b[w]) / 2)
    w1 = next(k for k in sd if k.startswith("blocks.1.") and sd[k].dim() == 2)
    assert torch.equal(sd[w1], a[w1])  # drifted apart: the fitter parent's unit
    new = max(n["id"] for n in child.genome["nodes"])
    for k, v in sd.items():  # the excess gene comes from the fitter parent
        if k.startswith(f"blocks.{new}."):
            assert torch.equal(v, a[k])
    assert out.op.name == "crossover" and out.op.detail["threshold"] == 0.5
