"""The `fitness` task: any Python callable scores a built graph (non-differentiable is fine).

The task's `fitness` setting names the callable as "module:function" (dotted attributes allowed
after the colon). It is called as `function(graph)` and returns a number (the objective
"fitness") or a dict of named objectives; larger is better. Any error inside it, or a result of
another type, becomes a DataError that names the callable.
"""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.config import TaskConfig
from harness.errors import ConfigError, DataError
from harness.tasks.base import ScoredTask

if TYPE_CHECKING:
    from harness.graph.build import Graph


def resolve(spec: str) -> Callable[..., Any]:
    """Import "module:function" and return the callable, or raise ConfigError saying why."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"the fitness callable {spec!r} is not of the form 'module:function'",
                          "set the task's fitness = \"package.module:function\"")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(f"cannot import the module of the fitness callable {spec!r}: {exc}",
                          "install the package or fix the module name") from exc
    for name in attr.split("."):
        if not hasattr(obj, name):
            raise ConfigError(f"the fitness callable {spec!r} does not exist ({name!r} missing)",
                              "check the function's name")
        obj = getattr(obj, name)
    if not callable(obj):
        raise ConfigError(f"the fitness target {spec!r} is not callable", "name a function")
    return obj  # type: ignore[no-any-return]


def objectives(spec: str, value: Any) -> dict[str, float]:
    """Return a callable's result as named float objectives, or raise DataError naming it."""
    items = value.items() if isinstance(value, dict) else [("fitness", value)]
    out = {}
    for key, v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(float(v)):
            raise DataError(
                f"the fitness callable {spec} returned {value!r}; expected a number or a dict "
                "of numbers",
                "return a float (higher is better) or {'objective': float, ...}",
            )
        out[str(key)] = float(v)
    return out


class FitnessTask(ScoredTask):
    """Scores graphs with a user's callable named in the task's config."""

    kind = "fitness"

    def __init__(self, config: TaskConfig) -> None:
        super().__init__(config)
        if not config.fitness:
            raise ConfigError(f"the fitness task {config.name} names no callable",
                              "set fitness = \"module:function\" in the task's config")
        self.spec = config.fitness
        self.function = resolve(self.spec)

    def score(self, graph: Graph, rng: random.Random) -> dict[str, float]:
        """Call the user's function on the graph and return its objectives."""
        try:
            value = self.function(graph)
        except Exception as exc:
            raise DataError(f"the fitness callable {self.spec} failed: "
                            f"{type(exc).__name__}: {exc}",
                            f"fix {self.spec} (it is called as function(graph))") from exc
        return objectives(self.spec, value)
