"""Function-preserving growth of a graph, and pruning by tether; each op returns a record.

Every operation copies the graph (weights inherited), edits the copy and its genome, and leaves
the input graph untouched. Insertion (zero-init residual), widening (Net2Net) and a new
cross-connection (zero-init gate) leave the outputs unchanged; pruning removes the least
important inner channels and changes them a little.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import torch

from harness import registry
from harness.errors import GenomeError
from harness.genome import Genome, get_node, make_node, merge_ops, rewire
from harness.graph.block import Block
from harness.graph.build import Graph


@dataclass(frozen=True)
class GrowthOp:
    """What an operation did: its name, the node ids it touched and its details (for lineage)."""

    name: str
    nodes: list[int]
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict of the record."""
        return {"name": self.name, "nodes": list(self.nodes), "detail": dict(self.detail)}


@dataclass(frozen=True)
class Grown:
    """The result of a growth operation: the new genome, the new graph and the record."""

    genome: Genome
    graph: Graph
    op: GrowthOp


def _copy(graph: Graph) -> tuple[Graph, Genome]:
    """Return a deep copy of the graph and an editable copy of its genome."""
    return copy.deepcopy(graph), copy.deepcopy(graph.genome)


def _node(genome: Genome, node_id: int) -> dict[str, Any]:
    """Return a body node or raise a GenomeError naming the existing ids."""
    try:
        return get_node(genome, node_id)
    except KeyError:
        ids = [n["id"] for n in genome["nodes"]]
        msg = f"there is no node {node_id} (nodes: {ids})"
        raise GenomeError(msg, "pick an existing node id") from None


def insert_node(
    graph: Graph,
    after: int,
    op: str,
    args: dict[str, Any] | None = None,
    prenorm: str | None = "layer",
    generator: torch.Generator | None = None,
) -> Grown:
    """Insert `op` as a zero-init residual node reading `after` (0 = the stem output)."""
    if op in merge_ops():
        raise GenomeError(f"'{op}' is a merge node", "use add_connection to merge two nodes")
    new, genome = _copy(graph)
    if after != 0:
        _node(genome, after)
    if args is None:
        args = registry.units.get(op).default_args(new.width)
    node_id = int(genome["next_innovation"])
    genome["next_innovation"] = node_id + 1
    spec = make_node(node_id, op, [after], args, residual=True, scale=0.0, prenorm=prenorm)
    rewire(genome, after, node_id)
    genome["nodes"].append(spec)
    block = Block(spec, new.width, generator)
    new.adopt(genome, {node_id: block})
    return Grown(new.genome, new, GrowthOp("insert_node", [node_id, after], {"op": op}))


def add_connection(
    graph: Graph, src: int, dst: int, generator: torch.Generator | None = None
) -> Grown:
    """Add `src` into the output of `dst` through a new zero-init `gate` node."""
    if src == dst:
        raise GenomeError("a cross-connection needs two different nodes", "pick another source")
    new, genome = _copy(graph)
    for i in (src, dst):
        if i != 0:
            _node(genome, i)
    node_id = int(genome["next_innovation"])
    genome["next_innovation"] = node_id + 1
    args = {"inputs": 2, "init": 0.0, "kind": "scalar"}
    spec = make_node(node_id, "gate", [dst, src], args)
    rewire(genome, dst, node_id)
    genome["nodes"].append(spec)
    try:
        new.adopt(genome, {node_id: Block(spec, new.width, generator)})
    except GenomeError as exc:
        raise GenomeError(
            f"cannot connect node {src} into node {dst}: {exc.message}",
            "pick a source that does not depend on the destination",
        ) from None
    return Grown(new.genome, new, GrowthOp("add_connection", [node_id, src, dst]))


def _resize(graph: Graph, node_id: int, how: str, size: int, gen: torch.Generator | None) -> Grown:
    """Widen or prune the unit of `node_id` to `size` and record its new args."""
    new, genome = _copy(graph)
    spec = _node(genome, node_id)
    unit = new.block(node_id).unit
    old = getattr(unit, "inner_size", None)
    if old is None:
        raise GenomeError(
            f"node {node_id} ('{spec['op']}') has no inner size to {how}", "pick another node"
        )
    with torch.no_grad():
        spec["args"] = unit.widen(size, gen) if how == "widen" else unit.prune(size)
    new.adopt(genome)
    detail = {"op": spec["op"], "from": int(old), "to": int(size)}
    return Grown(new.genome, new, GrowthOp(how, [node_id], detail))


def widen(
    graph: Graph, node_id: int, new_size: int, generator: torch.Generator | None = None
) -> Grown:
    """Widen a unit's inner size to `new_size` (Net2Net: outputs unchanged)."""
    return _resize(graph, node_id, "widen", new_size, generator)


def prune(graph: Graph, node_id: int, keep: int) -> Grown:
    """Keep the `keep` most important inner channels of a unit (by tether-weighted magnitude)."""
    return _resize(graph, node_id, "prune", keep, None)
