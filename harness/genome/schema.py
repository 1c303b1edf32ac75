"""The genome layout (format version 2) and constructors; plain JSON data, no torch.

A genome is a dict:

    {
      "format": "insitu.genome", "version": 2,
      "family": "transformer",          # seed family it descends from, or "random"
      "width": 64,                      # model width D shared by every node
      "context": 256,                   # training context length in tokens
      "stems": {"text": {"op": "text", "args": {...}}, "image": {...}},   # by modality
      "nodes": [                        # the body DAG; node 0 is the (implicit) stem output
        {"id": 1, "op": "attention", "args": {...}, "inputs": [0],
         "residual": true,              # output = x + scale * op(norm(x))
         "scale": 1.0,                  # initial value of the learnable residual scale
         "prenorm": "rms"}              # null, or the kind of a `norm` unit applied first
      ],
      "output": 1,                      # the node the heads read
      "heads": {"chat": {"op": "lm", "args": {...}}},   # by task name; optional "input": id
      "train": {"lr": 3e-3, "weight_decay": 0.01, "batch": 16, "clip": 1.0,
                "warmup": 0, "beta1": 0.9, "beta2": 0.99},
      "parents": [],                    # ids of the individuals it was bred from
      "next_innovation": 2              # the next free node id (NEAT innovation number)
    }
"""

from __future__ import annotations

import copy
from typing import Any

FORMAT = "insitu.genome"
VERSION = 2
INPUT = 0  # the implicit node holding the stem output
MERGE_OPS = frozenset({"add", "concat", "gate"})
FAMILIES = ("mlp", "cnn", "rnn", "gru", "lstm", "rwkv", "ssm", "transformer", "random")

Genome = dict[str, Any]
Node = dict[str, Any]

DEFAULT_TRAIN: dict[str, Any] = {
    "lr": 3e-3,
    "weight_decay": 0.01,
    "batch": 16,
    "clip": 1.0,
    "warmup": 0,
    "beta1": 0.9,
    "beta2": 0.99,
}


def make_node(
    node_id: int,
    op: str,
    inputs: list[int],
    args: dict[str, Any] | None = None,
    residual: bool = False,
    scale: float = 1.0,
    prenorm: str | None = None,
) -> Node:
    """Return a body node dict."""
    return {
        "id": int(node_id),
        "op": op,
        "args": dict(args or {}),
        "inputs": [int(i) for i in inputs],
        "residual": bool(residual),
        "scale": float(scale),
        "prenorm": prenorm or None,
    }


def new_genome(
    width: int,
    family: str = "random",
    context: int = 256,
    stems: dict[str, dict[str, Any]] | None = None,
    heads: dict[str, dict[str, Any]] | None = None,
    train: dict[str, Any] | None = None,
) -> Genome:
    """Return a genome with no body nodes (output = the stem output); add nodes with add_node."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "family": family,
        "width": int(width),
        "context": int(context),
        "stems": copy.deepcopy(stems or {"text": {"op": "text", "args": {}}}),
        "nodes": [],
        "output": INPUT,
        "heads": copy.deepcopy(heads or {"chat": {"op": "lm", "args": {}}}),
        "train": {**DEFAULT_TRAIN, **(train or {})},
        "parents": [],
        "next_innovation": 1,
    }


def node_map(genome: Genome) -> dict[int, Node]:
    """Return the body nodes by id."""
    return {int(n["id"]): n for n in genome["nodes"]}


def get_node(genome: Genome, node_id: int) -> Node:
    """Return the body node with `node_id` (KeyError if absent)."""
    for n in genome["nodes"]:
        if int(n["id"]) == node_id:
            return n
    raise KeyError(node_id)


def add_node(
    genome: Genome,
    op: str,
    inputs: list[int],
    args: dict[str, Any] | None = None,
    residual: bool = False,
    scale: float = 1.0,
    prenorm: str | None = None,
    set_output: bool = True,
) -> int:
    """Append a node in place with the next innovation number; return its id."""
    node_id = int(genome["next_innovation"])
    genome["next_innovation"] = node_id + 1
    genome["nodes"].append(make_node(node_id, op, inputs, args, residual, scale, prenorm))
    if set_output:
        genome["output"] = node_id
    return node_id


def consumers(genome: Genome, node_id: int) -> list[int]:
    """Return the ids of the nodes that read `node_id`."""
    return [int(n["id"]) for n in genome["nodes"] if node_id in n["inputs"]]


def rewire(genome: Genome, old: int, new: int, skip: int | None = None) -> None:
    """Point every reader of `old` (nodes except `skip`, the output, head inputs) at `new`."""
    for n in genome["nodes"]:
        if int(n["id"]) != skip:
            n["inputs"] = [new if i == old else i for i in n["inputs"]]
    if genome["output"] == old:
        genome["output"] = new
    for head in genome["heads"].values():
        if head.get("input") == old:
            head["input"] = new


def topo_order(genome: Genome) -> list[int]:
    """Return the body node ids in a deterministic topological order (raises ValueError on a cycle).

    1. Count, for every node, its inputs that are body nodes (the stem output is always ready).
    2. Repeatedly take the smallest-id ready node, then release the nodes that read it.
    3. Nodes never released sit on a cycle.
    """
    nodes = node_map(genome)
    pending = {i: sum(1 for j in n["inputs"] if j in nodes) for i, n in nodes.items()}
    readers: dict[int, list[int]] = {i: [] for i in nodes}
    for i, n in nodes.items():
        for j in n["inputs"]:
            if j in nodes:
                readers[j].append(i)
    ready = sorted(i for i, c in pending.items() if c == 0)
    order: list[int] = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for r in readers[i]:
            pending[r] -= 1
            if pending[r] == 0:
                ready.append(r)
        ready.sort()
    if len(order) != len(nodes):
        stuck = sorted(set(nodes) - set(order))
        raise ValueError(f"the body has a cycle through nodes {stuck}")
    return order


def live_nodes(genome: Genome) -> set[int]:
    """Return the ids of body nodes that the output or a head depends on."""
    nodes = node_map(genome)
    todo = [int(genome["output"])] + [
        int(h["input"]) for h in genome["heads"].values() if h.get("input") is not None
    ]
    seen: set[int] = set()
    while todo:
        i = todo.pop()
        if i in seen or i not in nodes:
            continue
        seen.add(i)
        todo.extend(nodes[i]["inputs"])
    return seen
