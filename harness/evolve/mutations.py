"""Mutation operators: each edits a copy of a graph and returns a valid genome with its weights.

Every operator is a class with one method, `apply(graph, rng, gen) -> Grown | None` (None when it
does not apply to this graph). Growth (insert, widen, cross-connection) goes through
harness.graph.growth and is function-preserving; the others inherit every tensor whose shape
still fits. `kind` places an operator in the growth or the pruning half of a cycle.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from harness import registry
from harness.errors import GenomeError
from harness.genome import INPUT, live_nodes, merge_ops, node_map, validate
from harness.graph import growth
from harness.graph.build import Graph
from harness.graph.growth import Grown, GrowthOp
from harness.graph.seeds import norm_kind

from .genes import change_op, remove_node, upstream
from .inherit import rebuild

#: Units a mutation may insert or switch a node to.
UNIT_OPS = ("mlp", "conv", "rnn", "gru", "lstm", "rwkv", "ssm", "attention")
#: Hyper-parameter ranges: (low, high) for lr and batch; choices for weight decay and clip.
LR_RANGE = (1e-4, 3e-2)
BATCH_RANGE = (4, 128)
WEIGHT_DECAYS = (0.0, 0.001, 0.01, 0.05, 0.1)
CLIPS = (0.5, 1.0, 2.0, 5.0)


def unit_args(op: str, width: int) -> dict[str, Any]:
    """Return the default arguments of a unit at `width` (silu activations, as the seeds use)."""
    args = dict(registry.units.get(op).default_args(width))
    if "act" in args:
        args["act"] = "silu"
    return args


def body_ids(graph: Graph) -> list[int]:
    """Return the live body node ids of a graph, sorted."""
    return sorted(live_nodes(graph.genome))


def changeable_ids(graph: Graph) -> list[int]:
    """Return the live body nodes whose weights may change (not marked frozen), sorted."""
    frozen = {n["id"] for n in graph.genome["nodes"] if n.get("frozen")}
    return [i for i in body_ids(graph) if i not in frozen]


class Mutation:
    """One mutation operator; subclasses set `name`, `kind` and implement `apply`."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "neutral"  # grow | shrink | neutral

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Return the mutated copy of `graph`, or None when the operator does not apply."""
        raise NotImplementedError


class InsertNode(Mutation):
    """Insert a unit as a zero-init residual node after a random node (function-preserving)."""

    name = "insert_node"
    kind = "grow"

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Insert a random unit after the stem output or a random live node."""
        after = rng.choice([INPUT, *body_ids(graph)])
        op = rng.choice(UNIT_OPS)
        return growth.insert_node(graph, after, op, unit_args(op, graph.width), norm_kind(), gen)


class RemoveNode(Mutation):
    """Remove a node, rewiring its readers to its input (and dropping what only it read)."""

    name = "remove_node"
    kind = "shrink"

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Remove a random node (never a frozen one) when at least two remain."""
        ids = changeable_ids(graph)
        if len(body_ids(graph)) < 2 or not ids:
            return None
        node_id = rng.choice(ids)
        op = node_map(graph.genome)[node_id]["op"]
        genome, removed = remove_node(graph.genome, node_id)
        child = rebuild(graph, genome, gen)
        return Grown(child.genome, child, GrowthOp(self.name, removed, {"op": op}))


class ChangeOp(Mutation):
    """Switch a non-merge node to another unit; only that node gets new weights."""

    name = "change_op"
    kind = "neutral"

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Give a random non-merge, non-frozen node a different unit op."""
        merges = merge_ops()
        nodes = node_map(graph.genome)
        ids = [i for i in changeable_ids(graph) if nodes[i]["op"] not in merges]
        if not ids:
            return None
        node_id = rng.choice(ids)
        old = nodes[node_id]["op"]
        op = rng.choice([o for o in UNIT_OPS if o != old])
        genome = change_op(graph.genome, node_id, op, unit_args(op, graph.width))
        child = rebuild(graph, genome, gen, fresh=[node_id])
        return Grown(child.genome, child, GrowthOp(self.name, [node_id], {"from": old, "to": op}))


def _sized(graph: Graph, minimum: int) -> list[int]:
    """Return the live, non-frozen nodes whose unit has an inner size of at least `minimum`."""
    out = []
    for i in changeable_ids(graph):
        size = getattr(graph.block(i).unit, "inner_size", None)
        if size is not None and size >= minimum:
            out.append(i)
    return out


class Widen(Mutation):
    """Widen a unit's inner size by 25-100% (Net2Net, function-preserving)."""

    name = "widen"
    kind = "grow"

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Widen a random resizable node."""
        ids = _sized(graph, 1)
        if not ids:
            return None
        node_id = rng.choice(ids)
        size = int(graph.block(node_id).unit.inner_size)
        new = max(size + 1, math.ceil(size * rng.uniform(1.25, 2.0)))
        return growth.widen(graph, node_id, new, gen)


class Prune(Mutation):
    """Keep the 50-90% most important inner channels of a unit (by tether-weighted magnitude)."""

    name = "prune"
    kind = "shrink"

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Prune a random node with at least two inner channels."""
        ids = _sized(graph, 2)
        if not ids:
            return None
        node_id = rng.choice(ids)
        size = int(graph.block(node_id).unit.inner_size)
        keep = min(size - 1, max(1, math.floor(size * rng.uniform(0.5, 0.9))))
        return growth.prune(graph, node_id, keep)


class AddConnection(Mutation):
    """Add a cross-connection from one node into another through a zero-init gate."""

    name = "add_connection"
    kind = "grow"

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Connect a random source into a random non-frozen node that does not feed it."""
        ids = body_ids(graph)
        above = {i: upstream(graph.genome, i) for i in ids}  # what each node reads
        # src must not read dst, or the new edge would close a cycle
        candidates = [(s, d) for d in changeable_ids(graph) for s in [INPUT, *ids]
                      if s != d and (s == INPUT or d not in above[s])]  # fmt: skip
        if not candidates:
            return None
        src, dst = rng.choice(candidates)
        return growth.add_connection(graph, src, dst, gen)


class ChangeHyper(Mutation):
    """Change one training hyper-parameter: learning rate, weight decay, batch or clipping."""

    name = "change_hyper"
    kind = "neutral"

    def apply(self, graph: Graph, rng: random.Random, gen: torch.Generator) -> Grown | None:
        """Perturb one of lr (x 0.5-2), weight_decay, batch (x2 or /2) or clip."""
        genome = copy.deepcopy(graph.genome)
        train = genome["train"]
        key = rng.choice(["lr", "weight_decay", "batch", "clip"])
        old = train.get(key)
        if key == "lr":
            value: float | int = min(max(float(old or 3e-3) * 2 ** rng.uniform(-1, 1),
                                         LR_RANGE[0]), LR_RANGE[1])  # fmt: skip
            value = float(f"{value:.3g}")
        elif key == "batch":
            factor = rng.choice([0.5, 2.0])
            value = int(min(max(int(old or 16) * factor, BATCH_RANGE[0]), BATCH_RANGE[1]))
        elif key == "weight_decay":
            value = rng.choice([v for v in WEIGHT_DECAYS if v != old])
        else:
            value = rng.choice([v for v in CLIPS if v != old])
        train[key] = value
        child = copy.deepcopy(graph)
        child.adopt(validate(genome))
        return Grown(child.genome, child, GrowthOp(self.name, [], {"key": key, "from": old,
                                                                    "to": value}))


#: The built-in operators by name.
MUTATIONS: dict[str, Mutation] = {
    m.name: m
    for m in (InsertNode(), RemoveNode(), ChangeOp(), Widen(), Prune(), AddConnection(),
              ChangeHyper())
}  # fmt: skip


def mutate(
    graph: Graph,
    rng: random.Random,
    gen: torch.Generator,
    weights: dict[str, float],
    count: int,
    max_params: int | None = None,
    operators: dict[str, Mutation] | None = None,
    tries: int = 12,
) -> tuple[Graph, list[GrowthOp]]:
    """Apply `count` mutations drawn by weight; skip any that fails or exceeds `max_params`.

    1. Draw an operator by weight (seeded `rng`); apply it to the current graph.
    2. Keep the result if it applies, validates and stays within the parameter bound.
    3. Stop after `count` kept mutations or `tries` draws; return the graph and the records.
    """
    ops = operators or MUTATIONS
    names = [n for n in sorted(weights) if weights[n] > 0 and n in ops]
    if not names:
        raise GenomeError("no mutation operator has a positive weight", "give one a weight > 0")
    records: list[GrowthOp] = []
    current = graph
    for _ in range(tries):
        if len(records) >= count:
            break
        name = rng.choices(names, weights=[weights[n] for n in names])[0]
        try:
            out = ops[name].apply(current, rng, gen)
        except GenomeError:
            out = None
        if out is None:
            continue
        if max_params is not None and out.graph.num_parameters() > max_params:
            continue
        current = out.graph
        records.append(out.op)
    return current, records


def operator_names(records: Sequence[GrowthOp]) -> str:
    """Return the operator label of a child: its records' names joined by '+'."""
    return "+".join(r.name for r in records)
