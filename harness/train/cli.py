"""`insitu eval`: the profile's champion measured on data the profile has never seen."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import click

from harness.cliutil import counted, json_option, open_profile, profile_option, table
from harness.errors import CheckpointError, DataError
from harness.profile import Profile
from harness.store.population import individuals


def champion(profile: Profile) -> dict[str, Any]:
    """Return the profile's current champion individual, or raise naming `insitu evolve`."""
    rows = individuals(profile.store, status="champion")
    if not rows:
        raise DataError(f"profile '{profile.name}' has no champion yet",
                        f"evolve one first with `insitu evolve -p {profile.name}`")
    return rows[-1]


def checkpoint_path(profile: Profile, row: dict[str, Any]) -> Path:
    """Return the champion's checkpoint file, or raise naming `insitu evolve`."""
    path = profile.checkpoint_file(row.get("checkpoint"))
    if path is None:
        raise CheckpointError(f"the champion {row['id']} has no checkpoint file",
                              f"run `insitu evolve -p {profile.name}` to train a new one")
    return path


def _already_held(profile: Profile, task: str, hashes: list[str]) -> dict[str, int]:
    """Return how many of the examples (by stored hash) the task holds, per split."""
    held = {"train": 0, "heldout": 0}
    for lo in range(0, len(hashes), 500):
        chunk = hashes[lo : lo + 500]
        rows = profile.store.query(
            f"SELECT split, count(*) AS n FROM examples WHERE task = ? AND hash IN "
            f"({', '.join('?' * len(chunk))}) GROUP BY split", [task, *chunk])  # fmt: skip
        for r in rows:
            held[str(r["split"])] = held.get(str(r["split"]), 0) + int(r["n"])
    return held


def _fmt(value: float) -> str:
    """Format a metric for the table."""
    return "n/a" if math.isnan(value) else f"{value:.4f}"


@click.command("eval")
@profile_option
@click.option("--task", "task_name", required=True, help="The task to measure the champion on.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--budget", type=int, default=None,
              help="Measure at most this many bytes (text) or examples (label).")
@click.option("--progressive", is_flag=True,
              help="Also measure predict-then-learn bits per byte (text tasks).")
@json_option
def eval_cmd(profile: str, task_name: str, paths: tuple[Path, ...], budget: int | None,
             progressive: bool, as_json: bool) -> None:  # fmt: skip
    """Measure the champion on your own test files (text, JSONL, image or audio folders)."""
    from harness.data.ingest import read_paths, stored_hash
    from harness.graph.checkpoint import load
    from harness.modality import ModalitySpec
    from harness.tasks import TaskData, build_task

    with open_profile(profile) as prof:
        config = prof.config.task(task_name)
        row = champion(prof)
        graph = load(checkpoint_path(prof, row), device="cpu")
        spec = ModalitySpec.from_model_config(prof.config.model)
        examples, reports = read_paths(list(paths), config)
        held = _already_held(prof, task_name, [stored_hash(ex) for ex in examples])
    if task_name not in graph.heads and config.kind in ("text", "label"):
        raise DataError(f"the champion has no head for task '{task_name}'",
                        f"evolve a champion for it with `insitu evolve -p {profile} "
                        f"--task {task_name}`")
    if not examples:
        reasons = "; ".join(f"{r.path}: {r.rejected or 'no examples'}" for r in reports)
        raise DataError(f"no examples were read for task '{task_name}' ({reasons})",
                        "give files the task's importers read")
    if config.kind == "label":
        labels = graph.genome["heads"][task_name].get("args", {}).get("labels")
        if not (labels or config.classes):
            raise DataError(f"the champion's head for '{task_name}' names no classes",
                            "list the classes in the task's config (classes = [...])")
        config = dataclasses.replace(config, classes=list(labels or config.classes))
    task = build_task(config, TaskData(heldout=examples), spec)
    wanted = ["bpb", "exact"] + (["progressive_bpb"] if progressive else [])
    metrics = task.evaluate(graph, "heldout", budget, wanted)
    if as_json:
        click.echo(json.dumps({
            "profile": profile, "task": task_name, "examples": len(examples),
            "already_in_profile": held, "champion": {"id": row["id"], "family": row.get("family"),
                         "params": graph.num_parameters()},
            "files": [r.__dict__ for r in reports], "metrics": metrics,
        }, indent=2))  # fmt: skip
        return
    unseen = "" if held["train"] or held["heldout"] else "unseen "
    click.echo(f"champion {row['id']} ({row.get('family')}, {graph.num_parameters():,} "
               f"parameters) on {counted(len(examples), unseen + 'example')} of task "
               f"'{task_name}'")
    if held["train"]:
        n = held["train"]
        click.echo(f"  note: {n} of them {'is' if n == 1 else 'are'} in the profile's training "
                   "data, so the champion may have learned them; test on files you never added")
    if held["heldout"]:
        n = held["heldout"]
        click.echo(f"  note: {n} of them {'is one' if n == 1 else 'are'} of the profile's "
                   "held-out examples, which evolution already scored")
    for r in reports:
        if r.rejected:
            click.echo(f"  skipped {r.path}: {r.rejected}")
    click.echo(table([[k, _fmt(v)] for k, v in metrics.items()], ["metric", "value"]))
