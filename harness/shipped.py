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
from importlib import resources
from pathlib import Path

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


def _metadata(path: Path) -> dict[str, str]:
    """Return a shipped checkpoint's metadata (header only), or a clear CheckpointError."""
    from harness.graph.checkpoint import read_metadata

    try:
        return read_metadata(path)
    except CheckpointError as exc:
        raise CheckpointError(f"the shipped champion {path.name} is damaged ({exc.message})",
                              "reinstall insitu, or create the profile with --blank") from None


def install(store: Store, root: Path, source: Path, template: str) -> str:
    """Copy a shipped champion into a profile folder and record it; return the individual id.

    1. Read genome, parameters and metrics from the checkpoint's metadata.
    2. Copy the file into `<root>/checkpoints/`, then record genome, individual and an event.
    """
    meta = _metadata(source)
    genome_json = meta["genome"]
    genome = json.loads(genome_json)
    params = int(meta.get("params", "0") or 0)
    if not params:  # a checkpoint written without `insitu graph export`: count its weights
        from harness.graph.checkpoint import load

        params = load(source, device="cpu").num_parameters()
    metrics = json.loads(meta.get(METRICS_KEY, "{}") or "{}")
    shutil.copyfile(source, root / "checkpoints" / FILE)
    from harness.genome import content_hash

    gid = put_genome(store, content_hash(genome), genome_json, str(genome.get("family", "?")),
                     params)  # fmt: skip
    iid = add_individual(store, gid, checkpoint=f"checkpoints/{FILE}", status="champion",
                         metrics=metrics, extra={"operator": "shipped"})  # fmt: skip
    add_event(store, "champion", {"individual": iid, "source": f"shipped with template "
                                  f"'{template}'", "metrics": metrics})  # fmt: skip
    return iid
