"""Phases with gates and growth/pruning cycles (seed 000).

An individual first works on the `recall` phase (exact recall of its training data); once its
recall passes the gate it advances to `generalise` (held-out bits per byte or accuracy), and it
stays there only while recall holds (a lower `hold` level); otherwise it falls back. A child
starts in its parent's phase. Generations alternate between a growth stage and a pruning stage
of `length` generations each, which weights the mutation operators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .fitness import TaskMetric


@dataclass(frozen=True)
class Gate:
    """Leave a phase when `metric` reaches `advance` for every task; later phases need `hold`."""

    metric: TaskMetric
    advance: float
    hold: float

    def reached(self, metrics: Mapping[str, float], level: float) -> bool:
        """Return whether every measured task is at `level` or better (True if none is measured)."""
        for spec, v in self.metric.specs(metrics).values():
            if not (v >= level if spec.higher_is_better else v <= level):
                return False
        return True

    def value(self, metrics: Mapping[str, float]) -> float | None:
        """Return the worst measured per-task value of the gate metric (for events)."""
        found = self.metric.specs(metrics)
        return min((v for _, v in found.values()), default=None)


@dataclass(frozen=True)
class Phase:
    """One phase: what fitness optimises in it, and the gate that leads out of it."""

    name: str
    quality: TaskMetric
    gate: Gate | None = None


@dataclass(frozen=True)
class Transition:
    """A phase change of one individual after an evaluation."""

    kind: str  # phase_advanced | gate_failed
    before: str
    after: str
    metric: str
    value: float | None


@dataclass(frozen=True)
class PhaseSchedule:
    """The ordered phases and the rule that moves an individual between them."""

    phases: tuple[Phase, ...]

    def index(self, name: str | None) -> int:
        """Return the position of a phase (0 for an unknown or missing name)."""
        for i, p in enumerate(self.phases):
            if p.name == name:
                return i
        return 0

    def first(self) -> str:
        """Return the name of the first phase."""
        return self.phases[0].name

    def update(
        self, phase: str | None, metrics: Mapping[str, float]
    ) -> tuple[str, Transition | None]:
        """Return the phase after an evaluation and the transition, if any.

        1. If an earlier phase's gate no longer holds, fall back to that phase (gate_failed).
        2. Otherwise advance through every gate the metrics now pass (phase_advanced).
        """
        i = self.index(phase)
        for j in range(i):
            gate = self.phases[j].gate
            if gate is not None and not gate.reached(metrics, gate.hold):
                t = Transition("gate_failed", self.phases[i].name, self.phases[j].name,
                               gate.metric.label(), gate.value(metrics))  # fmt: skip
                return self.phases[j].name, t
        k = i
        while k + 1 < len(self.phases):
            gate = self.phases[k].gate
            if gate is None or not gate.reached(metrics, gate.advance):
                break
            k += 1
        if k == i:
            return self.phases[i].name, None
        gate = self.phases[i].gate
        assert gate is not None
        t = Transition("phase_advanced", self.phases[i].name, self.phases[k].name,
                       gate.metric.label(), gate.value(metrics))  # fmt: skip
        return self.phases[k].name, t

    def quality(self, phase: str | None, metrics: Mapping[str, float]) -> float | None:
        """Return the quality score of the metrics in a phase (higher is better)."""
        return self.phases[self.index(phase)].quality.score(metrics)


#: Mutation weights of the growth and the pruning stage of a cycle.
GROW_WEIGHTS = {"insert_node": 3.0, "widen": 3.0, "add_connection": 2.0, "change_op": 2.0,
                "change_hyper": 2.0, "prune": 0.5, "remove_node": 0.5}  # fmt: skip
PRUNE_WEIGHTS = {"prune": 4.0, "remove_node": 3.0, "change_op": 1.0, "change_hyper": 2.0,
                 "insert_node": 0.5, "widen": 0.5, "add_connection": 0.5}  # fmt: skip


@dataclass(frozen=True)
class Cycle:
    """Alternating growth and pruning stages of `length` generations each."""

    length: int = 3
    grow: dict[str, float] = field(default_factory=lambda: dict(GROW_WEIGHTS))
    prune: dict[str, float] = field(default_factory=lambda: dict(PRUNE_WEIGHTS))

    def stage(self, generation: int) -> str:
        """Return 'grow' or 'prune' for a generation (generation 1 starts a growth stage)."""
        return "grow" if ((max(generation, 1) - 1) // max(self.length, 1)) % 2 == 0 else "prune"

    def weights(self, generation: int) -> dict[str, float]:
        """Return the mutation weights of a generation's stage."""
        return dict(self.grow if self.stage(generation) == "grow" else self.prune)
