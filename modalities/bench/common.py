"""Shared parts of the media benchmarks: the evolved insitu contender on a label task, and
timed training of a plain torch baseline, both scored on test sets they never saw."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from harness.bench.report import Contender
from harness.bench.sandbox import Progress, evolve, sandbox_home
from harness.modality import ModalitySpec
from harness.profile import Profile
from harness.store.examples import add_examples, hash_split
from harness.store.records import set_setting
from harness.types import Example

EVAL_BATCH = 512


@dataclass(frozen=True)
class MediaConfig:
    """What one media benchmark run measures."""

    seconds: float
    threads: int = 2
    seed: int = 0
    contenders: tuple[str, ...] = ()
    limit: int | None = None
    workers: int | None = None
    keep: bool = False
    #: Overrides of the template's [model] settings for the insitu contender.
    model: dict[str, Any] = field(default_factory=dict)


def evolve_label(template: str, task: str, train: list[Example], test: list[Example],
                 cfg: MediaConfig, progress: Progress, flops: Callable[[Any], int | None]
                 ) -> Contender:  # fmt: skip
    """Evolve a temporary profile of `template` on `train` for cfg.seconds; score on `test`.

    1. Create the profile in a throw-away home, apply cfg.model overrides.
    2. Store the training examples (a stable hash split holds a tenth out for selection).
    3. Run the engine for the budget; measure the champion on the test examples.
    """
    from harness.tasks import build_task
    from harness.tasks.data import TaskData

    workers = cfg.threads if cfg.workers is None else cfg.workers
    with sandbox_home(cfg.keep, progress):
        with Profile.create(f"bench-{task}", template) as profile:
            config = profile.config.to_dict()
            config["model"].update(cfg.model)
            set_setting(profile.store, "config", config)
        with Profile.open(f"bench-{task}", create_default=False) as profile:
            fraction = profile.config.task(task).heldout_fraction
            rows = [(ex, hash_split(f"{task}-{i}", fraction)) for i, ex in enumerate(train)]
            add_examples(profile.store, rows, provenance={"bench": task})
            found = evolve(profile, [task], cfg.seconds, workers, cfg.seed, progress)
            progress("insitu: scoring the champion on the test set")
            spec = ModalitySpec.from_model_config(profile.config.model)
            built = build_task(profile.config.task(task), TaskData(train=train[:64], heldout=test),
                               spec)
            metrics = built.evaluate(found.graph, "heldout")
    graph, summary = found.graph, found.summary
    return Contender(
        name="insitu", kind="evolved", parameters=graph.num_parameters(), flops=flops(graph),
        wall_s=found.wall_s, metrics={"test_accuracy": metrics.get("accuracy")},
        notes=(f"{graph.family} champion, {len(graph.genome['nodes'])} nodes, width "
               f"{graph.width}; {summary['evaluations']} evaluations"),
        details={"workers": workers, "champion": found.champion,
                 "evaluations": summary["evaluations"], "genome": graph.genome},
    )  # fmt: skip


def train_timed(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, seconds: float,
                seed: int, lr: float = 2e-3, batch: int = 64) -> int:
    """Train a classifier with Adam on (x, y) until `seconds` pass; return the steps taken.

    1. Draw a random batch with a seeded generator.
    2. Take an Adam step on the cross-entropy; a cosine decay ends at the deadline.
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    steps = 0
    model.train()
    while (elapsed := time.perf_counter() - start) < seconds:
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + torch.cos(torch.tensor(elapsed / seconds * 3.14159)))
        idx = torch.randint(0, len(y), (batch,), generator=gen)  # [B]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    model.eval()
    return steps


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Return the accuracy of a classifier on (x, y)."""
    model.eval()
    right = 0
    for lo in range(0, len(y), EVAL_BATCH):
        right += int((model(x[lo:lo + EVAL_BATCH]).argmax(-1) == y[lo:lo + EVAL_BATCH]).sum())
    return right / max(1, len(y))


def baseline(name: str, model: torch.nn.Module, data: tuple[torch.Tensor, ...], seconds: float,
             seed: int, about: str, lr: float = 2e-3) -> Contender:  # fmt: skip
    """Train a torch baseline for `seconds` and return its row of the table."""
    x_train, y_train, x_test, y_test = data
    start = time.perf_counter()
    steps = train_timed(model, x_train, y_train, seconds, seed, lr)
    wall = time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters())
    return Contender(name=name, kind="baseline", parameters=params, wall_s=wall,
                     metrics={"test_accuracy": accuracy(model, x_test, y_test)},
                     notes=f"{about}; {steps} Adam steps")  # fmt: skip
