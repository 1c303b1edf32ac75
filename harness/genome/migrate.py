"""Migration of older genome format versions to the current one, one version at a time.

Format version 1 (insitu 0.0.x) was a simpler layout: one text stem, one head, `dim` for the
width, `layers` with a single `input` (merge layers listed `inputs`), hyper-parameters at the top
level and `next_id` for the innovation counter:

    {"format": "insitu.genome", "version": 1, "family": "mlp", "dim": 64, "context": 128,
     "stem": {"op": "text", "args": {}},
     "layers": [{"id": 1, "op": "mlp", "args": {}, "input": 0, "residual": true, "norm": true}],
     # "norm": true meant an RMSNorm before the op
     "output": 1, "head": {"task": "chat", "op": "lm", "args": {}},
     "lr": 0.003, "batch": 16, "weight_decay": 0.0, "parents": [], "next_id": 2}

Version 2 is described in harness/genome/schema.py. Shipped migrations are never edited.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from harness import __version__
from harness.errors import GenomeError
from harness.genome.schema import DEFAULT_TRAIN, FORMAT, VERSION, Genome, make_node


def _v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    """Migrate a version-1 genome to version 2."""
    try:
        nodes = []
        for layer in old.get("layers", []):
            inputs = layer["inputs"] if "inputs" in layer else [layer["input"]]
            nodes.append(
                make_node(
                    layer["id"],
                    layer["op"],
                    inputs,
                    layer.get("args", {}),
                    residual=bool(layer.get("residual", False)),
                    scale=float(layer.get("scale", 1.0)),
                    prenorm="rms" if layer.get("norm") else None,  # v1 norms were RMSNorm
                )
            )
        head = dict(old["head"])
        task = head.pop("task", "chat")
        train = dict(DEFAULT_TRAIN)
        for key in ("lr", "batch", "weight_decay", "clip"):
            if key in old:
                train[key] = old[key]
        next_id = old.get("next_id") or 1 + max([n["id"] for n in nodes], default=0)
        return {
            "format": FORMAT,
            "version": 2,
            "family": old.get("family", "random"),
            "width": old["dim"],
            "context": old.get("context", 256),
            "stems": {"text": {"op": old["stem"]["op"], "args": old["stem"].get("args", {})}},
            "nodes": nodes,
            "output": old["output"],
            "heads": {task: {"op": head["op"], "args": head.get("args", {})}},
            "train": train,
            "parents": list(old.get("parents", [])),
            "next_innovation": next_id,
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise GenomeError(
            f"cannot migrate a version-1 genome: missing or bad field {exc}",
            "the file is damaged; restore it from a bundle or a backup",
        ) from exc


#: MIGRATIONS[v] turns a version-v genome into a version-(v+1) genome.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> Genome:
    """Return a current-version copy of a genome of any supported version.

    1. Check the format name and that the version is an integer.
    2. Refuse a version newer than this insitu reads, naming the upgrade.
    3. Apply MIGRATIONS[v] for v = version .. VERSION-1 in turn.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise GenomeError(
            f"not a genome: format is {got!r}, expected '{FORMAT}'",
            "pass a genome JSON file or a checkpoint",
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise GenomeError(f"the genome has no valid version ({version!r})", "the file is damaged")
    if version > VERSION:
        needs = data.get("requires")
        need = f"; it needs insitu >= {needs}" if needs else ""
        raise GenomeError(
            f"this genome is format version {version}, newer than insitu {__version__} "
            f"reads (up to version {VERSION}){need}",
            "upgrade insitu (pip install -U insitu) to open it",
        )
    out = copy.deepcopy(data)
    while out["version"] < VERSION:
        out = MIGRATIONS[out["version"]](out)
    return out
