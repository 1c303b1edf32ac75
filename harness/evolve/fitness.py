"""Multi-objective fitness: task quality vs parameters vs speed, the Pareto front and a scalar.

Quality is read from an evaluation's metrics per task (`TaskMetric`: held-out bits per byte
for text, accuracy for labels) as a score where higher is better (bits are negated). Size and
speed are minimised. The scalar fitness used by selection subtracts the person's size pressure
times log10(parameters) and half of it times log10(speed), so a ten times bigger graph must
gain `size_pressure` in quality to win.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The metric naming how much the gate sets of imported tasks got worse (0: kept).
GATE_DROP = "gate_drop"
#: Quality lost per unit of gate drop (accuracy points or bits per byte).
GATE_WEIGHT = 10.0


def gate_drop(before: Mapping[str, float], after: Mapping[str, float]) -> float:
    """Return the summed loss of gate score (higher-is-better scores per task), never below 0."""
    return sum(max(0.0, before[t] - after[t]) if t in after else 1.0 for t in before)


@dataclass(frozen=True)
class MetricSpec:
    """One metric by name and direction."""

    name: str
    higher_is_better: bool = True

    def value(self, metrics: Mapping[str, float], task: str | None = None) -> float | None:
        """Return the metric of `task` (`<task>/<name>`, else the plain `<name>`), or None."""
        for key in ([f"{task}/{self.name}", f"{task}.{self.name}"] if task else []) + [self.name]:
            if key in metrics and _finite(metrics[key]):
                return float(metrics[key])
        return None

    def score(self, metrics: Mapping[str, float], task: str | None = None) -> float | None:
        """Return the metric as a score where higher is better (None when absent)."""
        v = self.value(metrics, task)
        if v is None:
            return None
        return v if self.higher_is_better else -v


@dataclass(frozen=True)
class TaskMetric:
    """A metric over a run's tasks: per task kind, the first of its specs that was measured."""

    by_kind: Mapping[str, tuple[MetricSpec, ...]]
    tasks: Mapping[str, str]  # task name -> kind

    def specs(self, metrics: Mapping[str, float]) -> dict[str, tuple[MetricSpec, float]]:
        """Return, per task, the spec that was measured and its value."""
        out = {}
        for task, kind in self.tasks.items():
            for spec in self.by_kind.get(kind, ()):
                v = spec.value(metrics, task)
                if v is not None:
                    out[task] = (spec, v)
                    break
        return out

    def score(self, metrics: Mapping[str, float]) -> float | None:
        """Return the mean per-task score (higher is better), or None when nothing was measured.

        A measured `gate_drop` (how much an imported skill's gate set got worse) is subtracted
        GATE_WEIGHT times, so a graph grown from a friend's keeps the old skill.
        """
        found = self.specs(metrics)
        if not found:
            return None
        scores = [v if s.higher_is_better else -v for s, v in found.values()]
        drop = metrics.get(GATE_DROP)
        penalty = GATE_WEIGHT * float(drop) if drop is not None and _finite(drop) else 0.0
        return sum(scores) / len(scores) - penalty

    def label(self) -> str:
        """Return the names of the metrics, for tables and plots."""
        names: list[str] = []
        for kind in dict.fromkeys(self.tasks.values()):
            for spec in self.by_kind.get(kind, ())[:1]:
                names.append(spec.name)
        return "/".join(dict.fromkeys(names)) or "quality"


def _finite(v: object) -> bool:
    """Return whether `v` is a finite real number."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Objectives:
    """The objectives of one individual: quality (maximised), params and speed (minimised)."""

    quality: float
    params: int
    speed: float

    def dominates(self, other: Objectives) -> bool:
        """Return whether this is no worse in every objective and better in at least one."""
        no_worse = (self.quality >= other.quality and self.params <= other.params
                    and self.speed <= other.speed)  # fmt: skip
        better = (self.quality > other.quality or self.params < other.params
                  or self.speed < other.speed)  # fmt: skip
        return no_worse and better


def pareto_front(objectives: Sequence[Objectives]) -> list[int]:
    """Return the indices of the non-dominated entries, in their original order."""
    return [
        i for i, a in enumerate(objectives)
        if not any(b.dominates(a) for j, b in enumerate(objectives) if j != i)
    ]  # fmt: skip


@dataclass(frozen=True)
class FitnessRule:
    """Turns objectives into the scalar that selection compares (higher is better)."""

    size_pressure: float = 0.1
    speed_pressure: float | None = None  # default: half the size pressure

    def scalar(self, obj: Objectives) -> float:
        """Return quality - size_pressure*log10(params) - speed_pressure*log10(speed)."""
        speed_p = self.size_pressure / 2 if self.speed_pressure is None else self.speed_pressure
        size = math.log10(max(obj.params, 1))
        speed = math.log10(max(obj.speed, 1.0))
        return obj.quality - self.size_pressure * size - speed_p * speed
