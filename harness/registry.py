"""One plugin registry: units, stems, heads, modalities, teachers, tasks, commands by name.

Built-in plugins are declared as entry points in pyproject.toml, exactly like third-party ones
(in the style of the `llm` CLI). A registry loads its entry-point group lazily on first use;
`register` adds an object at run time (tests, notebooks).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from harness.errors import PluginError

T = TypeVar("T")

GROUPS = {
    "unit": "insitu.units",
    "stem": "insitu.stems",
    "head": "insitu.heads",
    "modality": "insitu.modalities",
    "teacher": "insitu.teachers",
    "command": "insitu.commands",
    "check": "insitu.checks",
    "importer": "insitu.importers",
    "plotter": "insitu.plotters",
    "bench": "insitu.benches",
    "task": "insitu.tasks",
    "fitness": "insitu.fitness",
}


class Registry(Generic[T]):
    """Named plugins of one kind, loaded from an entry-point group."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._loaded = False
        self._errors: dict[str, str] = {}
        self._declared: frozenset[str] | None = None

    def _load(self) -> None:
        """Load every entry point of the group once; remember the ones that fail to import."""
        if self._loaded:
            return
        self._loaded = True
        for ep in entry_points(group=self.group):
            if ep.name in self._items:
                continue
            try:
                self._items[ep.name] = ep.load()
            except Exception as exc:  # a broken plugin must not break the others
                self._errors[ep.name] = f"{type(exc).__name__}: {exc}"

    def register(self, name: str, obj: T) -> T:
        """Add or replace a plugin at run time and return it."""
        self._load()
        self._items[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Remove a plugin added at run time (no error if absent)."""
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        """Return the plugin called `name`, or raise PluginError naming the known ones."""
        self._load()
        if name in self._items:
            return self._items[name]
        if name in self._errors:
            raise PluginError(
                f"the {self.kind} '{name}' failed to load: {self._errors[name]}",
                "reinstall the package that provides it (`insitu doctor` lists plugins)",
            )
        known = ", ".join(sorted(self._items)) or "none"
        raise PluginError(
            f"unknown {self.kind} '{name}' (known: {known})",
            f"check the spelling, or install a plugin that registers it under '{self.group}'",
        )

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def names(self) -> list[str]:
        """Return the registered names, sorted."""
        self._load()
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        """Iterate over (name, plugin) pairs, sorted by name."""
        self._load()
        for name in sorted(self._items):
            yield name, self._items[name]

    def declared_names(self) -> set[str]:
        """Return entry-point names plus run-time registrations, importing no plugin."""
        if self._declared is None:
            self._declared = frozenset(ep.name for ep in entry_points(group=self.group))
        return set(self._declared) | set(self._items)

    def loaded(self) -> dict[str, T]:
        """Return the plugins already imported or registered, without loading the others."""
        return dict(self._items)

    def errors(self) -> dict[str, str]:
        """Return the plugins that failed to load, with the reason."""
        self._load()
        return dict(self._errors)


units: Registry[Any] = Registry("unit", GROUPS["unit"])
stems: Registry[Any] = Registry("stem", GROUPS["stem"])
heads: Registry[Any] = Registry("head", GROUPS["head"])
modalities: Registry[Any] = Registry("modality", GROUPS["modality"])
teachers: Registry[Any] = Registry("teacher", GROUPS["teacher"])
commands: Registry[Any] = Registry("command", GROUPS["command"])
checks: Registry[Any] = Registry("check", GROUPS["check"])
importers: Registry[Any] = Registry("importer", GROUPS["importer"])
plotters: Registry[Any] = Registry("plotter", GROUPS["plotter"])
#: `insitu bench NAME` subcommands that live outside harness.bench (click commands)
benches: Registry[Any] = Registry("bench", GROUPS["bench"])
#: task kinds that live outside harness: factories `(config, data, spec) -> Task`
tasks: Registry[Any] = Registry("task kind", GROUPS["task"])
#: named fitness functions: `function(graph) -> number | dict of numbers`
fitness: Registry[Any] = Registry("fitness function", GROUPS["fitness"])

ALL = [units, stems, heads, modalities, teachers, commands, checks, importers, plotters, benches,
       tasks, fitness]
