"""What every task kind implements: batches for the trainer, metrics, and the scored-task hook.

A `Task` is built from a `TaskConfig` and its examples (loaded once per process, see data.py).
Trainable tasks (`text`, `label`) hand the trainer `Batch`es drawn from the training split only
and compute a weighted loss with their head; every task measures a graph with `evaluate`.
A `ScoredTask` (games, judges, user fitness callables) has no batches: it scores a whole graph.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from harness.config import TaskConfig
from harness.errors import DataError
from harness.profile import profile_flag

if TYPE_CHECKING:
    from harness.graph.build import Graph

SPLITS = ("train", "heldout")


@dataclass
class Batch:
    """One batch of one task: the graph's inputs, the targets and their loss weights."""

    task: str
    tokens: torch.Tensor | None  # [B, T] long, PAD-padded (None: media only)
    targets: torch.Tensor  # [B, T] next tokens (token heads) or [B] class ids
    weights: torch.Tensor  # same shape as targets: loss weight of each target (0 = ignore)
    images: torch.Tensor | None = None  # [B, C, S, S] floats in [0, 1]
    audio: torch.Tensor | None = None  # [B, F, M] log-mels
    mask: torch.Tensor | None = None  # [B, T] real (non-padding) tokens, for pooled heads
    meta: dict[str, Any] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> Batch:
        """Return the batch with every tensor on `device`."""
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            """Return t on the device (None stays None)."""
            return None if t is None else t.to(device, non_blocking=True)

        return replace(
            self, tokens=move(self.tokens), targets=self.targets.to(device),
            weights=self.weights.to(device), images=move(self.images), audio=move(self.audio),
            mask=move(self.mask),
        )  # fmt: skip

    @property
    def size(self) -> int:
        """Return the number of sequences (or examples) in the batch."""
        return int(self.targets.shape[0])


class Task:
    """Base of task kinds: a named objective on a profile's examples."""

    kind: ClassVar[str] = ""
    #: False for tasks that only score graphs (no batches, no loss).
    trainable: ClassVar[bool] = True

    def __init__(self, config: TaskConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        """Return the task's name (also the name of its head in a genome)."""
        return self.config.name

    def head(self) -> dict[str, Any] | None:
        """Return the genome head spec this task trains and reads (None: no head of its own)."""
        return None

    def stems(self) -> dict[str, dict[str, Any]]:
        """Return the stems (by modality) a graph needs to read this task's inputs."""
        return {"text": {"op": "text", "args": {}}}

    def batches(
        self, generator: torch.Generator, batch_size: int, context: int
    ) -> Iterator[Batch]:
        """Yield training batches forever, drawn with `generator` from the training split."""
        raise DataError(f"task '{self.name}' ({self.kind}) has nothing to train on",
                        "train graphs on text or label tasks; this task only scores them")

    def loss(self, graph: Graph, batch: Batch) -> torch.Tensor:
        """Return the weighted mean loss of the graph on a batch (a scalar with gradient)."""
        raise NotImplementedError

    def evaluate(
        self,
        graph: Graph,
        split: str = "heldout",
        budget: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """Return this task's metrics of the graph on a split (bounded by `budget`)."""
        raise NotImplementedError

    def size(self, split: str = "train") -> int:
        """Return how many examples (or bytes, for a corpus) the split holds."""
        return 0


class ScoredTask(Task):
    """A task measured by scoring a whole graph: games, judges, user fitness functions."""

    trainable: ClassVar[bool] = False

    def score(self, graph: Graph, rng: random.Random) -> dict[str, float]:
        """Return the graph's objectives (higher is better unless the name says otherwise)."""
        raise NotImplementedError

    def evaluate(
        self,
        graph: Graph,
        split: str = "heldout",
        budget: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """Return the scores of one scoring round with a fixed seed (splits do not apply)."""
        return self.score(graph, random.Random(0))


def check_split(split: str) -> str:
    """Return `split` if it is a known split, else raise DataError."""
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}'", f"use one of: {', '.join(SPLITS)}")
    return split


def no_examples(task: str, profile: str | None = None) -> DataError:
    """Return the error for a task without training examples (of `profile`, when known)."""
    return DataError(
        f"task {task} has no training examples",
        f"add some with `insitu data add{profile_flag(profile)} PATH --task {task}`",
    )
