"""Gene-level genome edits for evolution (plain dicts, no torch): renumbering, alignment, removal.

A gene is a body node, identified by its innovation number (its id). Evolution keeps one
population-wide innovation counter, so two genomes share an id only when both inherited that
node from a common ancestor: aligning two relatives by id lines up their common genes, as NEAT
does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from harness.errors import GenomeError
from harness.genome import INPUT, Genome, live_nodes, node_map, rewire, topo_order, validate


def renumber(genome: Genome, start: int) -> Genome:
    """Return a copy whose node ids are start, start+1, ... in topological order."""
    g = copy.deepcopy(genome)
    order = topo_order(g)
    new = {old: start + k for k, old in enumerate(order)}
    new[INPUT] = INPUT
    nodes = node_map(g)
    g["nodes"] = []
    for old in order:
        n = nodes[old]
        n["id"] = new[old]
        n["inputs"] = [new[i] for i in n["inputs"]]
        g["nodes"].append(n)
    g["output"] = new[int(g["output"])]
    for head in g["heads"].values():
        if head.get("input") is not None:
            head["input"] = new[int(head["input"])]
    g["next_innovation"] = start + len(order)
    return g


@dataclass(frozen=True)
class Alignment:
    """Two genomes' genes lined up by innovation number (NEAT terms)."""

    matching: list[int]  # ids in both
    disjoint: list[int]  # ids in one only, within the other's id range
    excess: list[int]  # ids in one only, beyond the other's largest id

    @property
    def shared_fraction(self) -> float:
        """Return the fraction of all genes that match (0 for unrelated genomes)."""
        total = len(self.matching) + len(self.disjoint) + len(self.excess)
        return len(self.matching) / total if total else 0.0


def align(a: Genome, b: Genome) -> Alignment:
    """Line up the body genes of two genomes by innovation number."""
    ia, ib = set(node_map(a)), set(node_map(b))
    top_a, top_b = max(ia, default=0), max(ib, default=0)
    only = sorted(ia ^ ib)
    matching = sorted(ia & ib)
    disjoint = [i for i in only if i <= (top_b if i in ia else top_a)]
    excess = [i for i in only if i not in disjoint]
    return Alignment(matching, disjoint, excess)


def same_spec(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Return whether two nodes (or stems/heads) have the same op and arguments (same shapes)."""
    keys = ("op", "args", "residual", "prenorm")
    return all(a.get(k) == b.get(k) for k in keys)


def upstream(genome: Genome, node_id: int) -> set[int]:
    """Return the ids that `node_id` reads directly or indirectly (the stem output 0 included)."""
    nodes = node_map(genome)
    seen: set[int] = set()
    todo = list(nodes[node_id]["inputs"]) if node_id in nodes else []
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        if i in nodes:
            todo.extend(nodes[i]["inputs"])
    return seen


def drop_dead(genome: Genome) -> list[int]:
    """Remove, in place, the nodes that feed neither the output nor a head; return their ids."""
    live = live_nodes(genome)
    dead = sorted(int(n["id"]) for n in genome["nodes"] if int(n["id"]) not in live)
    genome["nodes"] = [n for n in genome["nodes"] if int(n["id"]) in live]
    return dead


def remove_node(genome: Genome, node_id: int) -> tuple[Genome, list[int]]:
    """Return a copy without `node_id` (its readers read its first input) and the ids removed.

    1. Point every reader of the node (and the output or a head input) at its first input.
    2. Drop the node, then every node left feeding nothing (a branch only it merged).
    3. Validate; the stem output stays, so the body may become empty (an embedding-to-head model).
    """
    g = copy.deepcopy(genome)
    nodes = node_map(g)
    if node_id not in nodes:
        raise GenomeError(f"there is no node {node_id} to remove", "pick an existing node id")
    source = int(nodes[node_id]["inputs"][0])
    rewire(g, node_id, source)
    g["nodes"] = [n for n in g["nodes"] if int(n["id"]) != node_id]
    removed = [node_id, *drop_dead(g)]
    return validate(g), removed


def change_op(genome: Genome, node_id: int, op: str, args: dict[str, Any]) -> Genome:
    """Return a copy in which `node_id` runs `op` with `args` (same inputs, residual and norm)."""
    g = copy.deepcopy(genome)
    node = node_map(g).get(node_id)
    if node is None:
        raise GenomeError(f"there is no node {node_id}", "pick an existing node id")
    node["op"] = op
    node["args"] = dict(args)
    return validate(g)
