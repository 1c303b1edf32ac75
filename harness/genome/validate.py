"""Genome validation with errors that say what is wrong and what to do; no torch import."""

from __future__ import annotations

import math
import re
from typing import Any

from harness import registry
from harness.errors import GenomeError, InsituError
from harness.genome.schema import FORMAT, INPUT, MERGE_OPS, VERSION, Genome, live_nodes, topo_order
from harness.words import counted

#: Integer op arguments that are sizes and must be >= 1.
SIZE_ARGS = frozenset(
    "hidden heads kernel state layers inner inner_size rank channels patch vocab_size classes "
    "actions mels stride head_size size expand blocks".split()
)
#: Built-in units that are not merge nodes (known without importing them).
BUILTIN_UNITS = frozenset("mlp conv rnn gru lstm rwkv ssm attention norm".split())
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KIND_GROUPS = {"unit": registry.units, "stem": registry.stems, "head": registry.heads}


def known_names(kind: str) -> set[str]:
    """Return the unit/stem/head names declared as entry points or registered at run time."""
    # entry-point names are read without importing the plugins: validation never imports torch
    return _KIND_GROUPS[kind].declared_names()


def merge_ops() -> set[str]:
    """Return the names of merge ops: the built-in ones plus loaded plugins flagged `merge`."""
    ops = set(MERGE_OPS)
    for name, obj in registry.units.loaded().items():
        if getattr(obj, "merge", False):
            ops.add(name)
    return ops


def is_merge(op: str, merges: set[str]) -> bool:
    """Return whether `op` is a merge op (a third-party op is imported to ask; built-ins never)."""
    if op in merges or op in BUILTIN_UNITS or op in registry.units.loaded():
        return op in merges
    try:
        return bool(getattr(registry.units.get(op), "merge", False))
    except InsituError:
        return False  # unknown ops are reported by the op check


def _fail(message: str, hint: str) -> GenomeError:
    return GenomeError(f"invalid genome: {message}", hint)


def _check_int(value: Any, what: str, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _fail(f"{what} must be an integer >= {low}, got {value!r}", "fix the size")


def _check_args(args: Any, where: str, width: int, op: str) -> None:
    if not isinstance(args, dict):
        raise _fail(f"{where} args must be an object, got {type(args).__name__}", "use {}")
    for key, value in args.items():
        if key in SIZE_ARGS and not isinstance(value, list):
            _check_int(value, f"{where} arg '{key}'")
        if isinstance(value, float) and not math.isfinite(value):
            raise _fail(f"{where} arg '{key}' is {value}", "use a finite number")


def _check_ops(
    table: Any, kind: str, names: set[str], width: int, allow_empty: bool = False
) -> None:
    if not isinstance(table, dict) or (not table and not allow_empty):
        raise _fail(f"'{kind}s' must be a non-empty object", f"add at least one {kind}")
    for key, spec in table.items():
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            raise _fail(
                f"{kind} name {key!r} must be letters, digits, '_' or '-'", "rename the task"
            )
        if not isinstance(spec, dict) or "op" not in spec:
            raise _fail(f"{kind} '{key}' needs an 'op'", f'e.g. {{"op": "{key}"}}')
        if spec["op"] not in names:
            raise _fail(
                f"unknown {kind} op '{spec['op']}' in {kind} '{key}' "
                f"(known: {', '.join(sorted(names)) or 'none'})",
                f"install the plugin that provides it, or use a known {kind}",
            )
        _check_args(spec.get("args", {}), f"{kind} '{key}'", width, spec["op"])


def validate(genome: Genome, check_ops: bool = True) -> Genome:
    """Check a version-2 genome and return it; raise GenomeError naming the first problem.

    1. Check the header (format, version) and the sizes (width, context, hyper-parameters).
    2. Check stems and heads: known ops, argument sizes.
    3. Check every node: unique id below next_innovation, known op, input count (merge nodes
       take >= 2, others exactly 1), inputs that exist, residual only on single-input nodes.
    4. Check the output and head inputs exist, the DAG has no cycle and no node is dead.
    """
    if not isinstance(genome, dict):
        raise _fail(f"expected an object, got {type(genome).__name__}", "load a genome JSON file")
    if genome.get("format") != FORMAT:
        raise _fail(f"format is {genome.get('format')!r}, not '{FORMAT}'", "is this a genome?")
    if genome.get("version") != VERSION:
        raise _fail(
            f"version {genome.get('version')!r} is not {VERSION}",
            "load it with harness.genome.load_genome, which migrates older versions",
        )
    required = ("width", "context", "stems", "nodes", "output", "heads", "train")
    for key in (*required, "next_innovation"):
        if key not in genome:
            raise _fail(f"missing field '{key}'", "write genomes with harness.genome.new_genome")
    width = genome["width"]
    _check_int(width, "width")
    _check_int(genome["context"], "context")
    train = genome["train"]
    if not isinstance(train, dict):
        raise _fail("'train' must be an object", 'e.g. {"lr": 0.003, "batch": 16}')
    for key in ("lr", "weight_decay", "clip"):
        value = train.get(key, 0.0)
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise _fail(f"train.{key} must be a finite number >= 0, got {value!r}", "fix it")
    _check_int(train.get("batch", 1), "train.batch")
    if not isinstance(genome.get("parents", []), list):
        raise _fail("'parents' must be a list of ids", "use []")
    if not isinstance(genome.get("family", ""), str):
        raise _fail("'family' must be a string", 'e.g. "transformer"')

    unit_names = known_names("unit") if check_ops else set()
    stem_names = known_names("stem") if check_ops else set()
    head_names = known_names("head") if check_ops else set()
    if check_ops:
        _check_ops(genome["stems"], "stem", stem_names, width)
        _check_ops(genome["heads"], "head", head_names, width)
    merges = merge_ops()

    nodes = genome["nodes"]
    if not isinstance(nodes, list):
        raise _fail("'nodes' must be a list", "use [] for a body-less genome")
    ids: set[int] = set()
    nxt = genome["next_innovation"]
    _check_int(nxt, "next_innovation")
    for n in nodes:
        if not isinstance(n, dict) or not isinstance(n.get("id"), int) or isinstance(n["id"], bool):
            raise _fail(f"a node needs an integer 'id': {n!r}", "number nodes from 1")
        nid = n["id"]
        if nid <= INPUT or nid in ids:
            raise _fail(f"node id {nid} is duplicated or < 1", "give every node a fresh id")
        if nid >= nxt:
            raise _fail(
                f"node id {nid} is not below next_innovation {nxt}",
                "set next_innovation above every node id",
            )
        ids.add(nid)
    for n in nodes:
        nid, op = n["id"], n.get("op")
        if not isinstance(op, str):
            raise _fail(f"node {nid} has no op", "set 'op' to a unit name")
        if check_ops and op not in unit_names:
            raise _fail(
                f"node {nid} uses unknown op '{op}' (known: {', '.join(sorted(unit_names))})",
                "install the plugin that provides it, or change the op",
            )
        _check_args(n.get("args", {}), f"node {nid}", width, op)
        merge = is_merge(op, merges) if check_ops else op in merges
        inputs = n.get("inputs")
        if not isinstance(inputs, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in inputs
        ):
            raise _fail(f"node {nid} inputs must be a list of node ids", "e.g. [0]")
        if merge and len(inputs) < 2:
            raise _fail(
                f"merge node {nid} ('{op}') has {counted(len(inputs), 'input')}; it needs at "
                "least 2",
                "give it two or more inputs, or use a non-merge op",
            )
        if not merge and len(inputs) != 1:
            raise _fail(
                f"node {nid} ('{op}') has {len(inputs)} inputs; a non-merge node takes exactly 1",
                "insert an 'add', 'concat' or 'gate' node to merge several inputs",
            )
        declared = n.get("args", {}).get("inputs")
        if merge and isinstance(declared, int) and declared != len(inputs):
            raise _fail(
                f"merge node {nid} declares {declared} inputs but lists {len(inputs)}",
                "set its 'inputs' argument to the number of input ids",
            )
        for i in inputs:
            if i != INPUT and i not in ids:
                raise _fail(f"node {nid} reads node {i}, which does not exist", "fix its inputs")
        prenorm = n.get("prenorm")
        if prenorm is not None and (not isinstance(prenorm, str) or not prenorm):
            raise _fail(
                f"node {nid} prenorm must be null or a norm kind, got {prenorm!r}",
                'use null, "rms" or "layer"',
            )
        if (n.get("residual") or prenorm) and merge:
            raise _fail(
                f"merge node {nid} cannot be residual or have a prenorm", "set them to false/null"
            )
        scale = n.get("scale", 1.0)
        if not isinstance(scale, int | float) or not math.isfinite(scale):
            raise _fail(f"node {nid} scale must be a finite number, got {scale!r}", "use 1.0")
    targets = [("output", genome["output"])] + [
        (f"head '{k}' input", h["input"]) for k, h in genome["heads"].items() if "input" in h
    ]
    for what, target in targets:
        if (
            not isinstance(target, int)
            or isinstance(target, bool)
            or (target != INPUT and target not in ids)
        ):
            raise _fail(f"the {what} {target!r} is not a node", "point it at an existing node id")
    try:
        topo_order(genome)
    except ValueError as exc:
        raise _fail(str(exc), "remove an edge so the body flows one way") from None
    dead = sorted(ids - live_nodes(genome))
    if dead:
        raise _fail(
            f"nodes {dead} feed neither the output nor a head",
            "remove them or connect them to the output",
        )
    return genome
