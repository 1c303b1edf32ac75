"""Gate sets: a few held-out probe examples per task and a graph's metrics on them.

A bundle carries, per task, `gates/TASK.jsonl` (examples, media as attachment references under
`gates/attachments/`) and `gates/TASK.metrics.json` (the champion's metrics on exactly those
examples). After an import the gate set lives in the profile's `bundle/` folder, so a graph grown
from the imported one can be measured on the old skill at any time.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config import ModelConfig, TaskConfig
from harness.errors import InsituError
from harness.modality import ModalitySpec
from harness.store.db import Store
from harness.types import Example

if TYPE_CHECKING:
    from harness.graph.build import Graph

#: Probe examples per task in a gate set.
GATE_SIZE = 64
#: The metric that summarises a gate per task kind (higher is better for accuracy only).
GATE_METRIC = {"label": "accuracy", "text": "bpb"}


def pick_gate(store: Store, task: str, size: int = GATE_SIZE) -> list[Example]:
    """Return up to `size` held-out examples of a task (training ones when none are held out)."""
    from harness.store.examples import iter_examples

    out: list[Example] = []
    for split in ("heldout", "train"):
        for ex in iter_examples(store, task, split):
            out.append(ex)
            if len(out) >= size:
                return out
        if out:
            return out
    return out


def attachments_of(examples: list[Example]) -> list[str]:
    """Return the sha256 of every attachment the examples reference, in first-seen order."""
    shas: dict[str, None] = {}
    for ex in examples:
        for part in [*ex.prompt, *(ex.answer or [])]:
            if part.attachment:
                shas[part.attachment] = None
    return list(shas)


def dumps_examples(examples: list[Example]) -> bytes:
    """Return examples as JSON lines (media left as attachment references)."""
    return "".join(json.dumps(ex.to_dict(inline=False), sort_keys=True) + "\n"
                   for ex in examples).encode("utf-8")  # fmt: skip


def loads_examples(data: bytes, what: str) -> list[Example]:
    """Return the examples of a JSON-lines gate file."""
    try:
        return [Example.from_dict(json.loads(line)) for line in data.decode("utf-8").splitlines()
                if line.strip()]  # fmt: skip
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        from .format import BundleError

        raise BundleError(f"{what} holds an unreadable example: {exc}",
                          "the bundle is damaged; ask for it again") from None


def gate_config(config: TaskConfig, genome: dict[str, Any]) -> TaskConfig:
    """Return the task config with the classes of the graph's head (so labels map the same)."""
    head = genome.get("heads", {}).get(config.name, {})
    labels = head.get("args", {}).get("labels")
    if config.kind == "label" and labels:
        return dataclasses.replace(config, classes=list(labels))
    return config


def gate_metrics(graph: Graph, config: TaskConfig, examples: list[Example],
                 attachments: Path | None, model: ModelConfig) -> dict[str, float]:  # fmt: skip
    """Return the graph's metrics on a gate set (accuracy/xent for labels, bpb for text)."""
    from harness.tasks import TaskData, build_task

    if not examples or config.name not in graph.genome.get("heads", {}):
        return {}
    cfg = gate_config(config, graph.genome)
    data = TaskData(train=examples, heldout=examples, attachments=attachments)
    try:
        task = build_task(cfg, data, ModalitySpec.from_model_config(model))
        metrics = ["bpb"] if cfg.kind == "text" else None
        was_training = graph.training
        out = task.evaluate(graph, "heldout", None, metrics)
        graph.train(was_training)
    except InsituError:
        return {}
    return {k: float(v) for k, v in out.items()}


def gate_score(metrics: dict[str, float], kind: str) -> float | None:
    """Return the gate's summary metric as higher-is-better (negated bpb), or None."""
    name = GATE_METRIC.get(kind)
    if name is None or name not in metrics:
        return None
    return metrics[name] if name == "accuracy" else -metrics[name]
