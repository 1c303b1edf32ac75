"""Engine settings (the profile's configuration plus overrides) and the pluggable strategies."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.config import ProfileConfig
from harness.errors import ConfigError

from .fitness import FitnessRule, MetricSpec, TaskMetric
from .phases import Cycle, Gate, Phase, PhaseSchedule
from .selection import Aging, ChampionRule, Tournament

if TYPE_CHECKING:  # the operators import torch; leaderboards and plots do not need it
    from .mutations import Mutation

#: Per task kind, the metrics of each phase (the first one measured counts; without a held-out
#: split yet, the held-out quality falls back to the training measurement).
RECALL_QUALITY = {
    "text": (MetricSpec("train_bpb", False), MetricSpec("recall", True)),
    "label": (MetricSpec("train_accuracy", True), MetricSpec("train_xent", False)),
}
RECALL_GATE = {
    "text": (MetricSpec("recall", True),),
    "label": (MetricSpec("train_accuracy", True),),
}
HELDOUT_QUALITY = {
    "text": (MetricSpec("heldout_bpb", False), MetricSpec("train_bpb", False)),
    "label": (MetricSpec("accuracy", True), MetricSpec("train_accuracy", True)),
}
#: Per task kind, what breaks a tie of held-out quality between would-be champions.
HELDOUT_TIEBREAK = {
    "label": (MetricSpec("heldout_xent", False), MetricSpec("train_xent", False)),
}
#: Held-out qualities this close to the best are a tie for the champion (label accuracy: one
#: point; text quality has no tie-break score, so it is compared as measured).
CHAMPION_MARGIN = 0.01


@dataclass
class Settings:
    """Everything that shapes a run; stored with the run so that a resumed run is the same run."""

    population: int = 8
    tournament: int = 3
    offspring: int = 0  # children per generation; 0: half the population (at least 1)
    train_seconds: float = 20.0
    train_steps: int = 0
    size_pressure: float = 0.1
    seed: int = 0
    crossover_rate: float = 0.25
    merge_threshold: float = 0.5
    cycle_length: int = 3
    recall_gate: float = 0.9
    recall_hold: float = 0.8
    min_params: int = 5_000
    max_params: int = 200_000
    memory_mb: int = 2048  # per worker: RSS bound, and the parameter bound derived from it
    mutations_min: int = 1
    mutations_max: int = 3
    seed_train: dict[str, Any] = field(default_factory=dict)  # seeds' hyper-parameters (lr ...)
    polish: float = 0.0  # share of a timed session spent training the best members on, unchanged

    @classmethod
    def from_config(cls, config: ProfileConfig, **overrides: Any) -> Settings:
        """Return settings from a profile's [evolution] and [model] tables plus overrides."""
        evo, model = config.evolution, config.model
        base = cls(
            population=evo.population,
            tournament=evo.tournament,
            train_seconds=evo.train_seconds,
            train_steps=evo.train_steps,
            size_pressure=evo.size_pressure,
            seed=evo.seed,
            polish=evo.polish,
            seed_train=dict(evo.seed_train),
            min_params=model.min_params,
            max_params=model.max_params,
        )
        return base.replace(**{k: v for k, v in overrides.items() if v is not None})

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed (unknown names raise ConfigError)."""
        names = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            known = ", ".join(sorted(names))
            raise ConfigError(f"unknown evolution settings {bad}", f"known: {known}")
        return dataclasses.replace(self, **changes)

    def check(self) -> Settings:
        """Raise ConfigError for settings no run can use (a training budget of 0, ...)."""
        if self.train_seconds <= 0 and self.train_steps <= 0:
            raise ConfigError(
                "the training budget per individual is 0 (train_seconds and train_steps)",
                "set evolution.train_seconds or train_steps above 0 in the profile",
            )
        if not 0.0 <= self.polish < 1.0:
            raise ConfigError(f"polish must be a share of the session in [0, 1), got "
                              f"{self.polish}", "use e.g. 0.5 (half the time), or 0 for none")
        if self.population < 2:
            raise ConfigError("evolution needs a population of at least 2", "raise population")
        return self

    @property
    def children(self) -> int:
        """Return how many children each generation breeds."""
        return self.offspring if self.offspring > 0 else max(1, self.population // 2)

    @property
    def param_bound(self) -> int:
        """Return the largest parameter count a candidate may have (profile and memory bounds)."""
        # about 64 bytes per parameter: weights, tethers, gradients, Adam moments, activations
        by_memory = max(1, (self.memory_mb - 512) * 2**20 // 64)
        return int(min(self.max_params, by_memory))

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-able data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        """Return settings from stored data (unknown keys, from newer versions, are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def schedule_for(tasks: Mapping[str, str], settings: Settings) -> PhaseSchedule:
    """Return the phases of a run over `tasks` (name -> kind): recall, then generalise."""
    recall = Phase(
        "recall",
        TaskMetric(RECALL_QUALITY, dict(tasks)),
        Gate(TaskMetric(RECALL_GATE, dict(tasks)), settings.recall_gate, settings.recall_hold),
    )
    generalise = Phase("generalise", TaskMetric(HELDOUT_QUALITY, dict(tasks)))
    return PhaseSchedule((recall, generalise))


@dataclass
class Strategies:
    """The pluggable strategies of a run; each has one small interface."""

    selection: Tournament
    aging: Aging
    champion: ChampionRule
    fitness: FitnessRule
    phases: PhaseSchedule
    cycle: Cycle
    mutations: dict[str, Mutation]

    @classmethod
    def default(
        cls, tasks: Mapping[str, str], settings: Settings, breeding: bool = True
    ) -> Strategies:
        """Return the built-in strategies (no mutation operators, nor torch, unless breeding)."""
        operators: dict[str, Mutation] = {}
        if breeding:
            from .mutations import MUTATIONS

            operators = dict(MUTATIONS)
        return cls(
            selection=Tournament(settings.tournament),
            aging=Aging(),
            champion=ChampionRule(TaskMetric(HELDOUT_TIEBREAK, dict(tasks)), CHAMPION_MARGIN),
            fitness=FitnessRule(settings.size_pressure),
            phases=schedule_for(tasks, settings),
            cycle=Cycle(settings.cycle_length),
            mutations=operators,
        )
