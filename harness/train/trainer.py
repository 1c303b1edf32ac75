"""One trainer for every task kind and multi-head graphs.

AdamW with the genome's hyper-parameters (lr, weight_decay on matrices only, beta1/beta2, linear
warmup over `warmup` steps, then cosine decay to `FINAL_LR` of the peak over the budget),
gradient clipping, budgets in steps and/or seconds, deterministic under a seed (batches come from
a seeded torch.Generator, choices from a random.Random; no global random state), optional
training of the adapters only or freezing of named parameters. A graph with heads for several
tasks trains on mixed batches: every step takes one sub-batch of each trainable task and sums
their mean losses. `evaluate` measures every task; scored tasks play one round with the
trainer's random.Random. Thread counts are the caller's business (workers call
torch.set_num_threads).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch

from harness.errors import ConfigError, DataError, GenomeError
from harness.graph.block import resolve_device
from harness.graph.build import Graph
from harness.tasks.base import Batch, ScoredTask, Task

FINAL_LR = 0.1  # the cosine schedule ends at this fraction of the peak learning rate
SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class Budget:
    """How long to train: steps, seconds, or both (whichever is reached first)."""

    steps: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.steps < 0 or self.seconds < 0 or (self.steps == 0 and self.seconds <= 0):
            raise ConfigError(
                f"a training budget of {self.steps} steps and {self.seconds:g} seconds "
                "trains nothing",
                "give a number of steps or of seconds above 0",
            )

    def progress(self, step: int, elapsed: float) -> float:
        """Return the fraction of the budget used, in [0, 1]."""
        parts = []
        if self.steps:
            parts.append(step / self.steps)
        if self.seconds:
            parts.append(elapsed / self.seconds)
        return min(1.0, max(parts))


@dataclass
class Progress:
    """What a progress callback receives every N steps."""

    step: int
    seconds: float
    loss: float  # mean training loss since the previous report
    lr: float
    losses: dict[str, float] = field(default_factory=dict)  # by task, latest step


@dataclass
class TrainResult:
    """What a training run did."""

    steps: int
    seconds: float
    losses: list[float]  # the total loss of every step
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        """Return the mean loss of the last tenth of the steps (nan without steps)."""
        if not self.losses:
            return float("nan")
        tail = self.losses[-max(1, len(self.losses) // 10) :]
        return sum(tail) / len(tail)


def select_parameters(
    graph: Graph, params: str = "all", freeze: Sequence[str] = ()
) -> list[tuple[str, torch.nn.Parameter]]:
    """Return the (name, parameter) pairs to train: all or adapters, minus frozen name prefixes."""
    if params not in ("all", "adapters"):
        raise ConfigError(f"unknown parameter set '{params}'", "use 'all' or 'adapters'")
    named = list(graph.named_parameters())
    if params == "adapters":
        wanted = {id(p) for p in graph.adapter_parameters()}
        named = [(n, p) for n, p in named if id(p) in wanted]
        if not named:
            raise GenomeError("the graph has no adapters to train",
                              "add them first with graph.add_adapters()")
    chosen = [(n, p) for n, p in named if not any(n.startswith(f) for f in freeze)]
    if not chosen:
        raise ConfigError("every parameter is frozen: nothing to train", "freeze fewer names")
    return chosen


class Trainer:
    """Trains a graph on its tasks (device None: CUDA when available); `run` may continue."""

    def __init__(
        self,
        graph: Graph,
        tasks: Sequence[Task],
        *,
        generator: torch.Generator,
        rng: random.Random,
        batch_size: int | None = None,
        device: str | torch.device | None = None,
        params: str = "all",
        freeze: Sequence[str] = (),
        lr: float | None = None,
        schedule: str = "cosine",
        callback: Callable[[Progress], object] | None = None,
        every: int = 50,
    ) -> None:
        self.tasks = [t for t in tasks if t.trainable]
        if not self.tasks:
            raise DataError("none of the tasks can be trained (they only score graphs)",
                            "add a text or label task")
        missing = [t.name for t in self.tasks if t.name not in graph.heads]
        if missing:
            word = "task" if len(missing) == 1 else "tasks"
            raise GenomeError(f"the graph has no head for {word} {', '.join(missing)}",
                              "add each task's head to the genome (Task.head())")
        if schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule '{schedule}'", f"use {', '.join(SCHEDULES)}")
        self.graph = graph.to(resolve_device(device))
        self.device = self.graph.device
        self.rng = rng
        self.generator = generator
        hp = graph.genome["train"]
        self.batch_size = int(batch_size or hp.get("batch", 16))
        self.base_lr = float(lr if lr is not None else hp["lr"])
        self.warmup = int(hp.get("warmup", 0))
        self.clip = float(hp.get("clip", 1.0))
        self.schedule = schedule
        self.callback, self.every = callback, max(1, every)
        self.named = select_parameters(graph, params, freeze)
        self.params = [p for _, p in self.named]
        decay = [p for p in self.params if p.dim() >= 2]
        rest = [p for p in self.params if p.dim() < 2]
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": float(hp.get("weight_decay", 0.0))},
             {"params": rest, "weight_decay": 0.0}],
            lr=self.base_lr,
            betas=(float(hp.get("beta1", 0.9)), float(hp.get("beta2", 0.99))),
        )  # fmt: skip
        context = int(graph.genome["context"])
        share = max(1, self.batch_size // len(self.tasks))
        self.streams: list[tuple[Task, Iterator[Batch]]] = [
            (t, t.batches(generator, share, context)) for t in self.tasks
        ]
        self.step = 0

    def lr_at(self, progress: float) -> float:
        """Return the learning rate at this step and fraction of the budget."""
        if self.warmup and self.step < self.warmup:
            return self.base_lr * (self.step + 1) / self.warmup
        if self.schedule == "constant":
            return self.base_lr
        return self.base_lr * (FINAL_LR + (1 - FINAL_LR) * 0.5 * (1 + math.cos(math.pi * progress)))

    def run(self, budget: Budget) -> TrainResult:
        """Train until the budget is spent; return the steps, time and losses.

        1. Set the learning rate from warmup and the cosine schedule over the budget's progress.
        2. Take one sub-batch of every trainable task; sum their losses; back-propagate.
        3. Clip the gradient norm, step AdamW, report progress every `every` steps.
        """
        graph, trainable = self.graph, {id(p) for p in self.params}
        saved = {id(p): p.requires_grad for p in graph.parameters()}
        for p in graph.parameters():
            p.requires_grad_(id(p) in trainable)
        graph.train()
        losses: list[float] = []
        start = time.perf_counter()
        window: list[float] = []
        try:
            steps = 0
            while True:
                elapsed = time.perf_counter() - start
                if (budget.steps and steps >= budget.steps) or (
                    budget.seconds and elapsed >= budget.seconds
                ):
                    break
                lr = self.lr_at(budget.progress(steps, elapsed))
                for group in self.opt.param_groups:
                    group["lr"] = lr
                by_task = {}
                total: torch.Tensor | None = None
                for task, stream in self.streams:
                    loss = task.loss(graph, next(stream).to(self.device))
                    by_task[task.name] = float(loss.detach())
                    total = loss if total is None else total + loss
                assert total is not None
                if not torch.isfinite(total):
                    raise DataError(f"the training loss became {float(total)} at step "
                                    f"{self.step}", "lower the learning rate or clip harder")
                self.opt.zero_grad(set_to_none=True)
                total.backward()
                if self.clip > 0:
                    torch.nn.utils.clip_grad_norm_(self.params, self.clip)
                self.opt.step()
                steps += 1
                self.step += 1
                losses.append(float(total.detach()))
                window.append(losses[-1])
                if self.callback and self.step % self.every == 0:
                    self.callback(Progress(self.step, time.perf_counter() - start,
                                           sum(window) / len(window), lr, by_task))  # fmt: skip
                    window = []
        finally:
            for p in graph.parameters():
                p.requires_grad_(saved.get(id(p), True))
            graph.eval()
        return TrainResult(steps, time.perf_counter() - start, losses)

    def evaluate(self, tasks: Sequence[Task] | None = None, split: str = "heldout",
                 budget: int | None = None,
                 metrics: Sequence[str] | None = None) -> dict[str, float]:  # fmt: skip
        """Return the metrics of the trained graph on its tasks (or the given ones)."""
        return evaluate(self.graph, tasks or self.tasks, split, budget, metrics, self.rng)


def evaluate(
    graph: Graph,
    tasks: Sequence[Task],
    split: str = "heldout",
    budget: int | None = None,
    metrics: Sequence[str] | None = None,
    rng: random.Random | None = None,
) -> dict[str, float]:
    """Return every task's metrics: unprefixed for the first task, `task/metric` for all."""
    out: dict[str, float] = {}
    for i, task in enumerate(tasks):
        if isinstance(task, ScoredTask) and rng is not None:
            values = task.score(graph, rng)
        else:
            values = task.evaluate(graph, split, budget, metrics)
        for key, value in values.items():
            out[f"{task.name}/{key}"] = value
            if i == 0:
                out[key] = value
    return out


def train(
    graph: Graph,
    tasks: Sequence[Task],
    budget: Budget,
    *,
    seed: int = 0,
    evaluate_split: str | None = "heldout",
    eval_budget: int | None = None,
    **options: object,
) -> TrainResult:
    """Train with generators seeded by `seed`, then evaluate on a split (None: skip)."""
    trainer = Trainer(graph, tasks, generator=torch.Generator().manual_seed(seed),
                      rng=random.Random(seed), **options)  # type: ignore[arg-type]
    result = trainer.run(budget)
    if evaluate_split:
        result.metrics = trainer.evaluate(tasks, evaluate_split, eval_budget)
    return result
