"""Mutation operators: always valid genomes, growth stays function-preserving, bounds hold."""

from __future__ import annotations

import random

import pytest
import torch

from harness.evolve.genes import remove_node, renumber
from harness.evolve.mutations import MUTATIONS, ChangeOp, mutate
from harness.genome import add_node, new_genome, validate
from harness.graph.build import Graph
from harness.graph.seeds import FAMILIES, random_topology, seed

GROWTH = ("insert_node", "widen", "add_connection", "change_hyper")


def _graph(genome: dict, seed_: int = 0) -> Graph:
    return Graph(genome, device="cpu", generator=torch.Generator().manual_seed(seed_)).eval()


def _perturb(graph: Graph, seed_: int = 1) -> None:
    """Give zero-initialised residual scales and gates non-zero values, so every path counts."""
    gen = torch.Generator().manual_seed(seed_)
    with torch.no_grad():
        for name, p in graph.named_parameters():
            if name.endswith(".scale") or name.endswith(".alpha"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.25)


def _genomes(count: int, rng: random.Random) -> list[dict]:
    """Return family seeds and random topologies, renumbered to distinct innovation ranges."""
    out = []
    for k in range(count):
        g = random_topology(6000, rng) if k % 2 else seed(FAMILIES[k % len(FAMILIES)], 6000)
        out.append(renumber(g, 1 + 100 * k))
    return out


def _tokens() -> torch.Tensor:
    return torch.randint(0, 256, (2, 10), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_operator_yields_a_valid_genome(name):
    """Each operator, applied many times to random graphs, gives a valid genome that builds."""
    rng = random.Random(sorted(MUTATIONS).index(name))
    applied = 0
    for k, genome in enumerate(_genomes(12, rng)):
        graph = _graph(genome, k)
        for _ in range(3):
            out = MUTATIONS[name].apply(graph, rng, torch.Generator().manual_seed(k))
            if out is None:
                continue
            applied += 1
            assert validate(out.genome) is out.genome or validate(out.genome)
            assert out.graph.genome == out.genome
            assert out.op.name == name
            with torch.no_grad():
                assert out.graph(_tokens()).shape == (2, 10, 264)
            graph = out.graph
    assert applied >= 10


@pytest.mark.parametrize("name", GROWTH)
def test_growth_through_the_wrappers_is_function_preserving(name):
    """Insert, widen, cross-connect and hyper-parameter changes leave the outputs unchanged."""
    rng = random.Random(7)
    for k, genome in enumerate(_genomes(6, rng)):
        graph = _graph(genome, k)
        _perturb(graph, k)
        out = MUTATIONS[name].apply(graph, rng, torch.Generator().manual_seed(k))
        if out is None:
            continue
        with torch.no_grad():
            diff = (graph(_tokens()) - out.graph(_tokens())).abs().max().item()
        assert diff < 1e-5, (name, k, diff)


def test_change_op_renews_only_that_node():
    """Changing a node's op gives it new weights; every other tensor is inherited."""
    graph = _graph(renumber(seed("transformer", 8000, depth=2), 1))
    rng = random.Random(3)
    out = ChangeOp().apply(graph, rng, torch.Generator().manual_seed(0))
    assert out is not None
    changed = out.op.nodes[0]
    old, new = graph.state_dict(), out.graph.state_dict()
    for name, value in new.items():
        if name.startswith(f"blocks.{changed}.unit."):
            continue
        assert torch.equal(old[name], value), name
    assert out.genome["nodes"][[n["id"] for n in out.genome["nodes"]].index(changed)]["op"] == \
        out.op.detail["to"]


def test_remove_node_rewires_and_drops_a_dead_branch():
    """Removing a merge node rewires its readers to its first input and drops the other branch."""
    g = new_genome(16)
    a = add_node(g, "mlp", [0], {"hidden": 8})
    b = add_node(g, "gru", [0], {"hidden": 8})
    m = add_node(g, "add", [a, b])
    c = add_node(g, "mlp", [m], {"hidden": 8})
    validate(g)
    out, removed = remove_node(g, m)
    assert removed == [m, b]
    assert [n["inputs"] for n in out["nodes"] if n["id"] == c] == [[a]]
    assert out["output"] == c


def test_mutate_respects_the_parameter_bound_and_is_deterministic():
    """mutate() skips any step above the bound, and the same rng gives the same child."""
    genome = renumber(seed("gru", 6000), 1)
    graph = _graph(genome)
    bound = graph.num_parameters() + 200
    weights = {n: 1.0 for n in MUTATIONS}
    results = []
    for _ in range(2):
        child, ops = mutate(graph, random.Random(11), torch.Generator().manual_seed(5), weights,
                            3, max_params=bound)
        assert child.num_parameters() <= bound
        results.append((child.genome, [op.to_dict() for op in ops]))
    assert results[0] == results[1]


def test_operators_leave_frozen_nodes_alone():
    """Remove, change-op, widen, prune and add-connection never touch a frozen node's weights."""
    from harness.bundle.grow import mark_frozen

    genome = mark_frozen(seed("mlp", 6000))
    add_node(genome, "gru", [genome["output"]], {"hidden": 8}, residual=True, scale=0.5)
    graph = _graph(genome)
    frozen_ids = {n["id"] for n in genome["nodes"] if n.get("frozen")}
    for name in ("remove_node", "change_op", "widen", "prune", "add_connection"):
        for k in range(12):
            grown = MUTATIONS[name].apply(graph, random.Random(k), torch.Generator().manual_seed(k))
            if grown is None:
                continue
            if name != "add_connection":  # a frozen node may still be a connection's source
                assert not set(grown.op.nodes) & frozen_ids, (name, k)
            kept = {n["id"]: n for n in grown.genome["nodes"]}
            for node in genome["nodes"]:
                if node.get("frozen"):
                    assert kept[node["id"]]["args"] == node["args"], (name, k)
                    assert kept[node["id"]]["inputs"] == node["inputs"], (name, k)
    only_frozen = _graph(mark_frozen(seed("mlp", 6000)))
    for name in ("remove_node", "change_op", "widen", "prune", "add_connection"):
        assert MUTATIONS[name].apply(only_frozen, random.Random(0),
                                     torch.Generator().manual_seed(0)) is None, name
