"""Task kinds, registered by kind: what a graph is trained and measured on.

`load_task(profile, name)` builds a profile's task from its stored examples once per process
(per data version); `build_task(config, data, spec)` builds one from examples in memory (the
`insitu eval` path and tests). New kinds register with `register_kind`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.config import TaskConfig
from harness.errors import ConfigError
from harness.modality import ModalitySpec
from harness.profile import Profile
from harness.tasks.base import Batch, ScoredTask, Task, no_examples
from harness.tasks.data import TaskData, cached, load_data, model_config, task_config

Factory = Callable[[TaskConfig, TaskData, ModalitySpec], Task]


def _text(config: TaskConfig, data: TaskData, spec: ModalitySpec) -> Task:
    from harness.tasks.text import TextTask

    return TextTask(config, data)


def _label(config: TaskConfig, data: TaskData, spec: ModalitySpec) -> Task:
    from harness.tasks.label import LabelTask

    return LabelTask(config, data, spec)


def _fitness(config: TaskConfig, data: TaskData, spec: ModalitySpec) -> Task:
    from harness.tasks.fitness import FitnessTask

    return FitnessTask(config)


def _game(config: TaskConfig, data: TaskData, spec: ModalitySpec) -> Task:
    """Build a game task (scored by play against fixed opponents)."""
    from harness.tasks.game import GameTask

    return GameTask(config)


KINDS: dict[str, Factory] = {
    "text": _text,
    "label": _label,
    "fitness": _fitness,
    "game": _game,
}


def register_kind(kind: str, factory: Factory) -> Factory:
    """Register (or replace) the factory of a task kind; return it."""
    KINDS[kind] = factory
    return factory


def build_task(config: TaskConfig, data: TaskData, spec: ModalitySpec | None = None) -> Task:
    """Build a task of the config's kind from examples in memory."""
    if config.kind not in KINDS:
        raise ConfigError(f"task {config.name} has the unknown kind '{config.kind}'",
                          f"use one of: {', '.join(KINDS)}")
    return KINDS[config.kind](config, data, spec or ModalitySpec())


def load_task(profile: Profile, name: str | None = None) -> Task:
    """Return a profile's task built from its stored examples (once per process and version)."""
    config = task_config(profile, name)
    spec = ModalitySpec.from_model_config(model_config(profile))

    def build() -> Task:
        """Read the examples and build the task (once per data version)."""
        data = load_data(profile, config.name) if config.kind in ("text", "label") else TaskData()
        if config.kind in ("text", "label") and not data.train:
            raise no_examples(config.name)
        return build_task(config, data, spec)

    return cached(profile, config.name, config.kind, build)  # type: ignore[no-any-return]


def load_tasks(profile: Profile, names: Sequence[str]) -> list[Task]:
    """Return several of a profile's tasks (all of them for an empty list)."""
    return [load_task(profile, n) for n in (names or [t.name for t in profile.config.tasks])]


__all__ = [
    "KINDS",
    "Batch",
    "ScoredTask",
    "Task",
    "TaskData",
    "build_task",
    "load_task",
    "load_tasks",
    "register_kind",
]
