"""The engine's view of one evaluated individual, and the results it gets from an evaluation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from harness.genome import Genome


class JobOutcome(Protocol):
    """What an evaluation returns (harness.train.job.JobResult has these attributes)."""

    metrics: dict[str, float]
    checkpoint: str
    checkpoint_sha256: str
    params: int
    flops_per_token: int
    latency_us_per_token: float
    train_seconds: float
    steps: int
    error: str | None


@dataclass
class Outcome:
    """A plain JobOutcome: for failures the engine records and for evaluators in tests."""

    metrics: dict[str, float] = field(default_factory=dict)
    checkpoint: str = ""
    checkpoint_sha256: str = ""
    params: int = 0
    flops_per_token: int = 0
    latency_us_per_token: float = 0.0
    train_seconds: float = 0.0
    steps: int = 0
    error: str | None = None


@dataclass
class Member:
    """An individual of the population with everything selection, aging and the front need."""

    id: str
    genome: Genome
    genome_id: str
    birth: int
    generation: int
    phase: str
    metrics: dict[str, float]
    params: int
    flops: int
    latency_us: float
    checkpoint: str  # relative to the profile folder
    checkpoint_sha256: str = ""
    status: str = "alive"
    fitness: float | None = None
    quality: float | None = None  # the phase's quality score (higher is better)
    final_quality: float | None = None  # the last phase's quality score (held-out)
    phase_rank: int = 0
    operator: str = ""
    parents: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        """Return the seed family the individual descends from."""
        return str(self.genome.get("family", "random"))

    def rank(self) -> tuple[int, float]:
        """Return the selection key: later phase first, then higher fitness."""
        return (self.phase_rank, float("-inf") if self.fitness is None else self.fitness)

    def row(self) -> dict[str, Any]:
        """Return a JSON-able summary (no genome)."""
        out = asdict(self)
        out.pop("genome")
        out["family"] = self.family
        out["nodes"] = len(self.genome.get("nodes", []))
        return out
