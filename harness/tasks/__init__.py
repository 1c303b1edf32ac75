"""Task kinds, registered by kind: what a graph is trained and measured on.

`load_task(profile, name)` builds a profile's task from its stored examples once per process
(per data version); `build_task(config, data, spec)` builds one from examples in memory (the
`insitu eval` path and tests). New kinds register with `register_kind` (in-process) or as an
entry point under `insitu.tasks` (a factory `(config, data, spec) -> Task`, e.g. the teachers'
`judge` kind), which harness finds without importing the package that provides it.
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


def factory(kind: str, task: str = "") -> Factory:
    """Return the factory of a task kind: built in, or a plugin under `insitu.tasks`."""
    from harness import registry

    if kind in KINDS:
        return KINDS[kind]
    if kind in registry.tasks.declared_names():
        found: Factory = registry.tasks.get(kind)  # a PluginError says why it failed to load
        return found
    known = ", ".join(sorted(set(KINDS) | registry.tasks.declared_names()))
    raise ConfigError(f"task {task or '?'} has the unknown kind '{kind}'",
                      f"use one of: {known} (or install the plugin that provides it)")


def build_task(config: TaskConfig, data: TaskData, spec: ModalitySpec | None = None) -> Task:
    """Build a task of the config's kind from examples in memory."""
    task = factory(config.kind, config.name)(config, data, spec or ModalitySpec())
    if not isinstance(task, Task):
        raise ConfigError(f"the factory of task kind '{config.kind}' returned "
                          f"{type(task).__name__}, not a Task",
                          "fix the plugin: it must return a harness.tasks.Task")  # fmt: skip
    return task


def load_task(profile: Profile, name: str | None = None) -> Task:
    """Return a profile's task built from its stored examples (once per process and version)."""
    config = task_config(profile, name)
    spec = ModalitySpec.from_model_config(model_config(profile))

    def build() -> Task:
        """Read the examples and build the task (once per data version)."""
        if config.kind in ("fitness", "game"):
            data = TaskData(profile=profile.path)
        else:  # text, label and plugin kinds read the task's examples (plugins may have none)
            data = load_data(profile, config.name)
        if config.kind in ("text", "label") and not data.train:
            raise no_examples(config.name, profile.name)
        return build_task(config, data, spec)

    # the task's settings and the features are part of the key: a changed config builds anew
    key = f"{config.kind}:{config!r}:{spec!r}"
    return cached(profile, config.name, key, build)  # type: ignore[no-any-return]


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
    "factory",
    "load_task",
    "load_tasks",
    "register_kind",
]
