"""Population seeding: one individual per allowed family plus random topologies, sized to the data.

The parameter budget grows with the amount of training data (about `params_per_unit` parameters
per byte of text, or per pixel/frame-stack of media), clamped to the profile's
[min_params, max_params]. Heads come from the tasks: `lm` for text tasks, `classify` with the
task's classes for label tasks.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.config import ModelConfig, ProfileConfig, TaskConfig
from harness.errors import ConfigError, DataError
from harness.genome import Genome
from harness.graph.seeds import FAMILIES as SEED_FAMILIES
from harness.graph.seeds import count_parameters, random_topology, seed
from harness.profile import profile_flag
from harness.store.db import Store

#: Parameters per unit of training data (a byte of text, or a pixel / mel frame of media).
PARAMS_PER_UNIT = 1.0
SUPPORTED_KINDS = ("text", "label")


@dataclass(frozen=True)
class TaskPlan:
    """What the seeds need to know about the tasks: heads, stems, budget and data size."""

    tasks: list[str]
    heads: dict[str, dict[str, Any]]
    modalities: list[str]
    kinds: dict[str, str]
    data_units: int
    budget: int


def _label_names(store: Store, task: str) -> list[str]:
    """Return the distinct label names in a task's answers, sorted."""
    labels: set[str] = set()
    for row in store.query("SELECT answer FROM examples WHERE task = ? AND answer IS NOT NULL",
                           [task]):  # fmt: skip
        for part in json.loads(row["answer"]):
            if part.get("kind") == "label" and part.get("label") is not None:
                labels.add(str(part["label"]))
    return sorted(labels)


def _units(store: Store, task: TaskConfig, model: ModelConfig, profile: str | None = None) -> int:
    """Return the amount of training data of a task in budget units."""
    rows = store.query(
        "SELECT count(*) AS n, coalesce(sum(length(prompt) + coalesce(length(answer), 0)), 0) "
        "AS size FROM examples WHERE task = ? AND split = 'train'",
        [task.name],
    )[0]
    if not rows["n"]:
        raise DataError(
            f"task '{task.name}' has no training examples",
            f"add data with `insitu data add{profile_flag(profile)} PATH --task {task.name}`",
        )
    if task.modality == "image":
        return int(rows["n"]) * model.image_size * model.image_size * model.image_channels
    if task.modality == "audio":
        return int(rows["n"]) * model.n_mels * 32
    return int(rows["size"])  # JSON text: about one byte per byte of text


def plan_tasks(config: ProfileConfig, store: Store, tasks: Sequence[str] | None,
               profile: str | None = None) -> TaskPlan:  # fmt: skip
    """Return the heads, stems and parameter budget for evolving `tasks` (default: every task).

    1. Resolve the tasks; only text and label tasks can evolve yet.
    2. Give each task its head: `lm` for text, `classify` with its classes for labels.
    3. Size the budget by the training data, clamped to the profile's min/max parameters.
    """
    chosen = [config.task(t) for t in tasks] if tasks else list(config.tasks)
    heads: dict[str, dict[str, Any]] = {}
    modalities: list[str] = []
    units = 0
    for t in chosen:
        if t.kind not in SUPPORTED_KINDS:
            raise ConfigError(
                f"task '{t.name}' is a {t.kind} task, which evolution cannot train yet",
                f"evolve a text or label task with --task (kinds: {', '.join(SUPPORTED_KINDS)})",
            )
        units += _units(store, t, config.model, profile)
        if t.kind == "text":
            heads[t.name] = {"op": "lm", "args": {"memory": t.memory} if t.memory else {}}
        else:
            labels = list(t.classes) or _label_names(store, t.name)
            if len(labels) < 2:
                raise DataError(
                    f"task '{t.name}' has {len(labels)} class(es); a classifier needs two or more",
                    "add examples of at least two labels, or list the classes in the template",
                )
            args: dict[str, Any] = {"classes": len(labels), "labels": labels}
            if t.pool != "mean":
                args["pool"] = t.pool
            heads[t.name] = {"op": "classify", "args": args}
        for m in (t.modality, "text") if t.kind == "text" else (t.modality,):
            if m not in modalities:
                modalities.append(m)
    model = config.model
    budget = int(min(max(units * PARAMS_PER_UNIT, model.min_params), model.max_params))
    kinds = {t.name: t.kind for t in chosen}
    return TaskPlan([t.name for t in chosen], heads, modalities, kinds, units, budget)


def stem_args(model: ModelConfig) -> dict[str, dict[str, Any]]:
    """Return the media stems' arguments from the profile (channels, grid, width, mel bands)."""
    audio: dict[str, Any] = {"mels": model.n_mels, "stride": model.audio_stride}
    if model.audio_convs:
        audio.update(convs=model.audio_convs, channels=model.audio_channels)
    return {"image": {"channels": model.image_channels, "grid": model.image_grid,
                      "width": model.image_width},
            "audio": audio}  # fmt: skip


def _fit(make: Any, budget: int, bound: int) -> Genome:
    """Return make(budget), shrinking the budget until the genome is within `bound` parameters."""
    target = budget
    for _ in range(6):
        genome = make(target)
        params = count_parameters(genome)
        if params <= bound:
            return genome
        target = max(1, int(target * bound / params * 0.9))
    return genome


def seed_genomes(
    plan: TaskPlan, model: ModelConfig, population: int, rng: random.Random, bound: int,
    train: dict[str, Any] | None = None,
) -> list[Genome]:  # fmt: skip
    """Return the seed genomes: each allowed family at the budget, then random topologies.

    1. One seed per family in the profile's `families` (the family's stack at the budget).
    2. Random topologies (if `random` is allowed) fill the population up, at log-uniform budgets
       between min_params and the budget; without `random`, families repeat at such budgets.
    """
    families = [f for f in model.families if f in SEED_FAMILIES]
    allow_random = "random" in model.families
    if not families and not allow_random:
        raise ConfigError("model.families allows no family", "list at least one family")
    kw: dict[str, Any] = {"heads": plan.heads, "modalities": plan.modalities,
                          "context": model.context, "stem_args": stem_args(model)}  # fmt: skip
    out = [_fit(lambda b, f=f: seed(f, b, **kw), plan.budget, bound) for f in families]
    extra = max(population - len(out), 1 if allow_random else 0)
    low = math.log(min(model.min_params, plan.budget))
    for k in range(extra):
        b = int(math.exp(rng.uniform(low, math.log(plan.budget))))
        if allow_random:
            out.append(_fit(lambda b: random_topology(b, rng, **kw), b, bound))
        else:
            fam = families[k % len(families)]
            out.append(_fit(lambda b, f=fam: seed(f, b, **kw), b, bound))
    for g in out:
        g["train"].update(train or {})
    return out
