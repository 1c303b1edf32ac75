"""Tests of growth: insertion, widening, cross-connections and fresh adapters change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness.errors import GenomeError
from harness.genome import load_genome
from harness.graph import growth
from harness.graph.seeds import seed

from .helpers import build, perturb, stepwise, tokens

TOL = 1e-6
FIXTURES = Path(__file__).parent / "fixtures"


def _graph(family: str = "transformer"):
    g = build(seed(family, 10_000, depth=2))
    perturb(g)
    return g


def _same(a, b, toks) -> float:
    with torch.no_grad():
        return (a(toks) - b(toks)).abs().max().item()


@pytest.mark.parametrize("op", ["mlp", "attention", "gru", "ssm", "rwkv", "conv"])
def test_insert_node_is_function_preserving(op):
    """A node inserted as a zero-init residual leaves the outputs unchanged."""
    g = _graph()
    out = growth.insert_node(g, after=2, op=op, generator=torch.Generator().manual_seed(0))
    new_id = out.op.nodes[0]
    assert out.op.name == "insert_node" and out.genome["next_innovation"] == new_id + 1
    assert out.genome == out.graph.genome
    assert [n["inputs"] for n in out.genome["nodes"] if n["id"] == 3] == [[new_id]]
    assert _same(g, out.graph, tokens()) < TOL
    assert len(g.genome["nodes"]) + 1 == len(out.genome["nodes"])  # the input graph is untouched


@pytest.mark.parametrize(
    ("family", "node"),
    [
        ("transformer", 1),
        ("transformer", 2),
        ("mlp", 1),
        ("gru", 1),
        ("lstm", 2),
        ("cnn", 1),
        ("rnn", 1),
    ],
)
def test_widen_is_function_preserving(family, node):
    """Net2Net widening leaves the outputs unchanged and records the new size."""
    g = _graph(family)
    unit = g.blocks[str(node)].unit
    out = growth.widen(g, node, unit.inner_size + 3, torch.Generator().manual_seed(0))
    assert out.op.detail["to"] == unit.inner_size + 3
    assert out.graph.blocks[str(node)].unit.inner_size == unit.inner_size + 3
    assert _same(g, out.graph, tokens()) < TOL


def test_add_connection_is_function_preserving():
    """A cross-connection through a zero-init gate leaves the outputs unchanged."""
    g = _graph()
    out = growth.add_connection(g, src=1, dst=3)
    gate = out.op.nodes[0]
    assert out.graph.genome["nodes"][-1]["op"] == "gate"
    assert [n["inputs"] for n in out.genome["nodes"] if n["id"] == 4] == [[gate]]
    assert _same(g, out.graph, tokens()) < TOL
    with torch.no_grad():  # the grown graph still streams exactly
        toks = tokens(1, 6)
        assert (out.graph(toks) - stepwise(out.graph, toks)).abs().max().item() < 1e-5


def test_add_connection_refuses_a_cycle():
    """Connecting a node into one it feeds would make a cycle: a clear GenomeError."""
    g = _graph()
    with pytest.raises(GenomeError, match="does not depend on the destination"):
        growth.add_connection(g, src=3, dst=1)


def test_prune_shrinks_and_records():
    """Pruning keeps the most important channels; the graph still runs and streams."""
    g = _graph("mlp")
    out = growth.prune(g, 1, 16)
    assert out.genome["nodes"][0]["args"]["hidden"] == 16
    toks = tokens(1, 6)
    with torch.no_grad():
        assert out.graph(toks).shape == (1, 6, 264)
        assert (out.graph(toks) - stepwise(out.graph, toks)).abs().max().item() < 1e-5
    assert out.op.to_dict() == {"name": "prune", "nodes": [1], "detail": out.op.detail}


def test_resizing_a_unit_without_inner_size_is_refused():
    """A norm node has nothing to widen."""
    g = build(load_genome(FIXTURES / "genome_v2.json"))
    with pytest.raises(GenomeError, match="no inner size"):
        growth.widen(g, 6, 10)


def test_fresh_adapters_change_nothing_and_fold_exactly():
    """New adapters are zero-impact; trained ones switch off for the reference and fold exactly."""
    g = _graph("lstm")
    toks = tokens()
    with torch.no_grad():
        before = g(toks)
        assert g.add_adapters(2, torch.Generator().manual_seed(0)) > 0
        assert (g(toks) - before).abs().max().item() < TOL
        for p in g.adapter_parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
        adapted = g(toks)
        assert (adapted - before).abs().max().item() > 1e-4
        with g.frozen_reference():
            assert (g(toks) - before).abs().max().item() < TOL
        g.fold_adapters()
        assert (g(toks) - adapted).abs().max().item() < 1e-5
        g.remove_adapters()
        assert (g(toks) - adapted).abs().max().item() < 1e-5
