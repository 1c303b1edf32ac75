"""What this installation can do yet: optional parts are looked up at run time, never assumed."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

#: Where each optional part is expected, and the issue that delivers it.
WORKER_MODULES = ("harness.worker", "harness.evolve.worker")
BUNDLE_MODULES = ("harness.bundle", "harness.bundles")
TEACH_MODULES = ("teachers.synth",)
ISSUES = {"worker": 5, "bundles": 8, "teachers": 7}


def find(names: tuple[str, ...]) -> str | None:
    """Return the first importable module name of `names`, or None."""
    for name in names:
        try:
            if importlib.util.find_spec(name) is not None:
                return name
        except (ImportError, ValueError):  # a missing parent package
            continue
    return None


def load(names: tuple[str, ...]) -> ModuleType | None:
    """Import and return the first available module of `names`, or None."""
    name = find(names)
    return importlib.import_module(name) if name else None


def cli_command(name: str) -> bool:
    """Return True if `insitu NAME` exists (built in or registered by a plugin)."""
    from harness import registry
    from harness.cli import cli

    return name in cli.commands or name in registry.commands.declared_names()


def missing(part: str, what: str) -> str:
    """Return the sentence shown when an optional part is not installed yet."""
    return f"{what} arrives with the {part} (issue {ISSUES[part]}); it is not in this build yet"
