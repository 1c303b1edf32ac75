"""The incumbent: a champion from outside any run (shipped with a template, or imported from a
friend's bundle) joins a new run's seeds, so evolution starts from it instead of only from
untrained seeds.

It is used when its genome already reads and answers every task of the run (a stem per
modality, a head per task); a friend's graph that must grow into a new task is grown with
`insitu bundle grow` instead. Its node ids are kept (the fresh seeds are numbered after them),
so its weights carry over exactly; a copy of its checkpoint is the slot's init checkpoint (the
ledger deletes init checkpoints once a slot is integrated).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.genome import Genome
from harness.paths import stored_checkpoint
from harness.store.db import Store

from .seeding import TaskPlan


@dataclass(frozen=True)
class Incumbent:
    """A champion from outside the runs: its id, genome and checkpoint file."""

    id: str
    genome: Genome
    checkpoint: Path


def fits(genome: Genome, plan: TaskPlan) -> bool:
    """Return True if the genome has a head for every task and a stem for every modality."""
    heads = genome.get("heads") or {}
    stems = genome.get("stems") or {}
    if any(t not in heads or heads[t].get("op") != plan.heads[t].get("op") for t in plan.tasks):
        return False
    return all(m in stems for m in plan.modalities)


def find_incumbent(store: Store, root: Path, plan: TaskPlan) -> Incumbent | None:
    """Return the newest champion outside every run that fits the tasks, or None."""
    rows = store.query(
        "SELECT i.id, i.checkpoint, g.json FROM individuals i JOIN genomes g ON g.id = "
        "i.genome_id WHERE i.status = 'champion' AND i.run_id IS NULL AND i.checkpoint IS NOT "
        "NULL ORDER BY i.id DESC")  # fmt: skip
    for row in rows:
        path = stored_checkpoint(root, row["checkpoint"])
        genome = json.loads(row["json"])
        if path is not None and fits(genome, plan):
            return Incumbent(str(row["id"]), genome, path)
    return None


def incumbent_plan(inc: Incumbent, root: Path, init_rel: str, out_rel: str, seed: int,
                   phase: str) -> dict[str, Any]:  # fmt: skip
    """Copy the incumbent's checkpoint to `init_rel` and return its seed slot's plan."""
    from harness.genome import content_hash
    from harness.graph.seeds import count_parameters

    (root / init_rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(inc.checkpoint, root / init_rel)
    genome = {**inc.genome, "parents": [inc.id]}
    return {
        "kind": "seed", "genome": genome, "params": count_parameters(genome),
        "family": genome.get("family", "?"), "init_checkpoint": init_rel,
        "out_checkpoint": out_rel, "seed": seed, "phase": phase, "operator": "incumbent",
        "records": [], "parents": [{"id": inc.id, "role": "parent", "operator": "incumbent"}],
        "genome_id": content_hash(genome),
    }  # fmt: skip
