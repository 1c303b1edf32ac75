"""Champions shipped with templates: `profiles/<template>.champion.safetensors`.

A new profile made from a template that ships a champion starts from it instead of from an
untrained seed: the checkpoint is copied into the profile's `checkpoints/` and recorded as the
profile's champion (its genome, parameters and the metrics the pre-training measured, read from
the checkpoint's metadata), so the first reply is already sensible. `INSITU_BLANK_PROFILES=1`
(or `insitu profile create --blank`) skips this: tests and the pre-training script itself start
from seeds.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import CheckpointError
from harness.store.db import Store
from harness.store.population import add_individual, put_genome
from harness.store.records import add_event

SUFFIX = ".champion.safetensors"
FILE = "shipped-champion.safetensors"
BLANK_ENV = "INSITU_BLANK_PROFILES"
#: metadata key of the pre-training's measured metrics (JSON) in a shipped checkpoint
METRICS_KEY = "metrics"


def blank_by_default() -> bool:
    """Return True when $INSITU_BLANK_PROFILES asks for profiles without shipped champions."""
    return os.environ.get(BLANK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def template_champion(template: str) -> Path | None:
    """Return the champion checkpoint shipped beside a template (name or .toml path), or None."""
    path = Path(template)
    if path.suffix == ".toml":
        candidate = path.with_name(path.stem + SUFFIX)
        return candidate if candidate.is_file() else None
    entry = resources.files("profiles").joinpath(template + SUFFIX)
    return Path(str(entry)) if entry.is_file() else None


def _header(path: Path) -> dict[str, Any]:
    """Return the safetensors header of a checkpoint (no torch needed)."""
    bad = CheckpointError(f"the shipped champion {path.name} is damaged",
                          "reinstall insitu, or create the profile with --blank")  # fmt: skip
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise bad
        (size,) = struct.unpack("<Q", raw)
        try:
            header = json.loads(fh.read(size))
        except ValueError:
            raise bad from None
    if not isinstance(header, dict) or "genome" not in (header.get("__metadata__") or {}):
        raise bad
    return header


def install(store: Store, root: Path, source: Path, template: str) -> str:
    """Copy a shipped champion into a profile folder and record it; return the individual id.

    1. Read genome and metrics from the checkpoint header; count parameters from tensor shapes.
    2. Copy the file into `<root>/checkpoints/`, then record genome, individual and an event.
    """
    header = _header(source)
    meta = header["__metadata__"]
    genome_json = meta["genome"]
    genome = json.loads(genome_json)
    params = int(meta.get("params", "0") or 0)
    for name, info in header.items() if not params else ():
        if name == "__metadata__" or ".adapter" in name or "tether" in name:
            continue
        count = 1
        for dim in info.get("shape", []):
            count *= int(dim)
        params += count
    metrics = json.loads(meta.get(METRICS_KEY, "{}") or "{}")
    shutil.copyfile(source, root / "checkpoints" / FILE)
    from harness.genome import content_hash

    gid = put_genome(store, content_hash(genome), genome_json, str(genome.get("family", "?")),
                     params)  # fmt: skip
    iid = add_individual(store, gid, checkpoint=FILE, status="champion", metrics=metrics,
                         extra={"operator": "shipped"})  # fmt: skip
    add_event(store, "champion", {"individual": iid, "source": f"shipped with template "
                                  f"'{template}'", "metrics": metrics})  # fmt: skip
    return iid
