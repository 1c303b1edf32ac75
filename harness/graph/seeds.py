"""Seed individuals: one constructor per family, and random topologies, sized to a budget.

Every seed is a stack of pre-norm residual blocks of its family's units on the stems the task
needs, read by the task heads (which normalise their input themselves). Its width (and, for big
budgets, depth) is searched so that the parameter count lands close to the budget.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from harness import registry
from harness.errors import GenomeError
from harness.genome import Genome, add_node, new_genome

#: The units of one block of each family, in order.
FAMILY_BLOCKS: dict[str, tuple[str, ...]] = {
    "mlp": ("mlp",),
    "cnn": ("conv",),
    "rnn": ("rnn",),
    "gru": ("gru",),
    "lstm": ("lstm",),
    "rwkv": ("rwkv",),
    "ssm": ("ssm",),
    "transformer": ("attention", "mlp"),
}
FAMILIES = tuple(FAMILY_BLOCKS)
RANDOM_OPS = ("mlp", "conv", "rnn", "gru", "lstm", "rwkv", "ssm", "attention", "norm")
WIDTH_STEP = 8
MAX_WIDTH = 2048
DEFAULT_HEADS: dict[str, dict[str, Any]] = {"chat": {"op": "lm", "args": {}}}


def depth_for(budget: int) -> int:
    """Return the number of blocks for a parameter budget (1 below 30k, then 2, 3, ...)."""
    if budget < 30_000:
        return 1
    depth = 2
    while budget >= 400_000 * 2 ** (depth - 2) and depth < 8:
        depth += 1
    return depth


StemArgs = dict[str, dict[str, Any]]


def _stems(modalities: Sequence[str], stem_args: StemArgs | None = None) -> StemArgs:
    """Return the stems of the modalities: defaults, then `stem_args[modality]` over them.

    A modality's stem op is its own name unless its stem_args name another `op` that reads the
    same modality (games: {"text": {"op": "board", ...}}).
    """
    out = {}
    for m in modalities:
        spec = dict((stem_args or {}).get(m, {}))
        op = spec.pop("op", m)
        if op not in registry.stems:
            raise GenomeError(f"no stem '{op}' for modality '{m}'", "use text, image or audio")
        cls = registry.stems.get(op)
        if cls.modality != m:
            raise GenomeError(f"stem '{op}' reads {cls.modality}, not {m}",
                              f"pick a stem whose modality is {m}")  # fmt: skip
        out[m] = {"op": op, "args": {**cls.default_args(8), **spec}}
    return out


def norm_kind() -> str:
    """Return the default kind of the `norm` unit (used for pre-norms)."""
    return str(registry.units.get("norm").default_args(8).get("kind", "rms"))


def _heads(heads: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Return the heads with every op argument filled in from the head's defaults."""
    out = {}
    for task, spec in (heads or DEFAULT_HEADS).items():
        defaults = registry.heads.get(spec["op"]).default_args(8)
        out[task] = {**spec, "args": {**defaults, **spec.get("args", {})}}
    return out


def count_parameters(genome: Genome) -> int:
    """Return the number of parameters of the graph a genome builds (built on the CPU)."""
    from harness.graph.build import Graph

    return Graph(genome, device="cpu").num_parameters()


def fit_width(make: Callable[[int], Genome], budget: int) -> Genome:
    """Return make(width) for the width (a multiple of 8) whose parameter count is nearest budget.

    1. Double the width until the count exceeds the budget (counts grow with width).
    2. Binary-search the largest width at most the budget between the last two doublings.
    3. Compare it with the next width up and keep the closer of the two.
    """
    if budget < 1:
        raise GenomeError(f"the parameter budget must be positive, got {budget}", "raise it")
    counts: dict[int, int] = {}

    def count(steps: int) -> int:
        if steps not in counts:
            counts[steps] = count_parameters(make(steps * WIDTH_STEP))
        return counts[steps]

    limit = MAX_WIDTH // WIDTH_STEP
    lo = 1
    if count(lo) > budget:
        return make(WIDTH_STEP)
    hi = 2
    while hi < limit and count(hi) <= budget:
        lo, hi = hi, min(2 * hi, limit)
    if count(hi) <= budget:
        return make(hi * WIDTH_STEP)
    while hi - lo > 1:  # invariant: count(lo) <= budget < count(hi)
        mid = (lo + hi) // 2
        if count(mid) <= budget:
            lo = mid
        else:
            hi = mid
    best = lo if budget - count(lo) <= count(hi) - budget else hi
    return make(best * WIDTH_STEP)


def seed(
    family: str,
    budget: int,
    heads: dict[str, dict[str, Any]] | None = None,
    modalities: Sequence[str] = ("text",),
    context: int = 256,
    train: dict[str, Any] | None = None,
    depth: int | None = None,
    stem_args: StemArgs | None = None,
) -> Genome:
    """Return the seed genome of `family` with about `budget` parameters and the given heads."""
    if family not in FAMILY_BLOCKS:
        raise GenomeError(
            f"unknown family '{family}' (known: {', '.join(FAMILIES)}, random)",
            "pick one of the seed families",
        )
    blocks = FAMILY_BLOCKS[family]
    layers = depth or depth_for(budget)

    def make(width: int) -> Genome:
        g = new_genome(width, family, context, _stems(modalities, stem_args), _heads(heads), train)
        last = 0
        for _ in range(layers):
            for op in blocks:
                args = dict(registry.units.get(op).default_args(width))
                if "act" in args:
                    args["act"] = "silu"  # as good as gelu here, and exact gelu is slow on CPU
                last = add_node(g, op, [last], args, residual=True, prenorm=norm_kind())
        return g

    return fit_width(make, budget)


def _skeleton(rng: random.Random) -> list[tuple[str, list[int], dict[str, Any]]]:
    """Draw a random DAG shape: (op, inputs as indices into the list + 1, 0 = stem), knobs.

    1. Draw 2-6 units; each reads the latest node (70%) or a random earlier one.
    2. After a unit, with 30% chance merge two distinct earlier nodes (add, concat or gate).
    3. Merge every node that nobody reads into one final node, so that no node is dead.
    """
    nodes: list[tuple[str, list[int], dict[str, Any]]] = []
    for _ in range(rng.randint(2, 6)):
        n = len(nodes)
        src = n if rng.random() < 0.7 else rng.randint(0, n)
        knobs = {"mult": rng.choice([1, 2, 4]), "kernel": rng.choice([2, 3, 4]),
                 "state": rng.choice([4, 8, 16]), "act": rng.choice(["gelu", "relu", "silu"]),
                 "residual": rng.random() < 0.7,
                 "prenorm": rng.choice(["rms", "layer"]) if rng.random() < 0.6 else None,
                 "kind": rng.choice(["rms", "layer"])}  # fmt: skip
        nodes.append((rng.choice(RANDOM_OPS), [src], knobs))
        if len(nodes) >= 2 and rng.random() < 0.3:
            a, b = rng.sample(range(len(nodes) + 1), 2)
            nodes.append(_merge(rng, [a, b]))
    read = {i for _, ins, _ in nodes for i in ins}
    open_ = [i for i in range(1, len(nodes) + 1) if i not in read]
    if len(open_) > 1:
        nodes.append(_merge(rng, open_))
    return nodes


def _merge(rng: random.Random, inputs: list[int]) -> tuple[str, list[int], dict[str, Any]]:
    """Return a random merge node over `inputs`."""
    op = rng.choice(["add", "concat", "gate"])
    knobs = {"init": round(rng.uniform(0.2, 1.0), 3), "kind": rng.choice(["scalar", "sigmoid"])}
    return op, inputs, knobs


def _args(op: str, width: int, n_inputs: int, k: dict[str, Any]) -> dict[str, Any]:
    """Return op arguments for a skeleton node at `width`."""
    args = dict(registry.units.get(op).default_args(width))
    if op in ("mlp", "rwkv"):
        args["hidden"] = k["mult"] * width
    if op in ("rnn", "gru", "lstm"):
        args["hidden"] = max(4, width * k["mult"] // 2)
    if op == "conv":
        args.update(kernel=k["kernel"], channels=k["mult"] * width // 2)
    if op in ("mlp", "conv"):
        args["act"] = k["act"]
    if op == "ssm":
        args["state"] = k["state"]
    if op == "norm":
        args["kind"] = k["kind"]
    if op == "concat":
        args["inputs"] = n_inputs
    if op == "gate":
        args.update(inputs=n_inputs, init=k["init"], kind=k["kind"])
    return args


def random_topology(
    budget: int,
    generator: random.Random,
    heads: dict[str, dict[str, Any]] | None = None,
    modalities: Sequence[str] = ("text",),
    context: int = 256,
    stem_args: StemArgs | None = None,
) -> Genome:
    """Return a random DAG of units and merge nodes with about `budget` parameters."""
    skeleton = _skeleton(generator)

    def make(width: int) -> Genome:
        g = new_genome(width, "random", context, _stems(modalities, stem_args), _heads(heads))
        for op, inputs, k in skeleton:
            merge = op in ("add", "concat", "gate")
            add_node(
                g, op, list(inputs), _args(op, width, len(inputs), k),
                residual=not merge and k["residual"], prenorm=None if merge else k["prenorm"],
            )  # fmt: skip
        return g

    return fit_width(make, budget)
