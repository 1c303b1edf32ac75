"""The `fitness` task: any Python callable scores a built graph (non-differentiable is fine).

The task's `fitness` setting names the callable as "module:function" (dotted attributes allowed
after the colon) or as a plain NAME registered under the `insitu.fitness` entry-point group.
It is called as `function(graph)` and returns a number (the objective "fitness") or a dict of
named objectives; larger is better. Any error inside it, a result of another type or NaN, or a
call that runs past the time limit (the task's `time_limit` seconds, default 60) becomes a
DataError that names the callable; evolution records that individual as failed (the worst
fitness) with the message, and goes on. A callable that cannot be imported is a ConfigError
when the task is built (or, with `strict=False`, at each scoring); `check_exists` tells a
module or name that does not exist at all apart, before any work starts.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import random
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.config import TaskConfig
from harness.errors import ConfigError, DataError, PluginError
from harness.tasks.base import ScoredTask

if TYPE_CHECKING:
    from harness.graph.build import Graph

#: Seconds a fitness callable may run on one graph before it counts as failed.
DEFAULT_TIME_LIMIT = 60.0


class _Timeout(Exception):
    """Raised inside a call that ran past its time limit."""


def call_with_limit(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
    """Return fn(*args), raising TimeoutError if it runs longer than `seconds`.

    In the main thread a SIGALRM interval timer interrupts the call (pure-Python loops and
    sleeps stop at once); elsewhere the call runs in a daemon thread that is abandoned when late.
    """
    if seconds <= 0:
        return fn(*args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):

        def alarm(signum: int, frame: Any) -> None:
            """Interrupt the late call."""
            raise _Timeout

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args)
        except _Timeout:
            raise TimeoutError(f"took longer than {seconds:g} s") from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box: dict[str, Any] = {}

    def target() -> None:
        """Run the call, keeping its result or error."""
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="insitu-fitness")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"took longer than {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _named(spec: str) -> Callable[..., Any]:
    """Return the fitness function registered as `spec`, or raise ConfigError saying why."""
    from harness import registry

    try:
        obj = registry.fitness.get(spec)
    except PluginError as exc:
        raise ConfigError(f"the fitness callable {spec!r} is not usable: {exc.message}",
                          exc.hint or "name it as 'module:function'") from exc  # fmt: skip
    if not callable(obj):
        raise ConfigError(f"the fitness plugin {spec!r} is not callable",
                          f"register a function under '{registry.fitness.group}'")  # fmt: skip
    return obj  # type: ignore[no-any-return]


def check_exists(spec: str) -> None:
    """Raise ConfigError if `spec` names a module or plugin that does not exist at all.

    A module that exists but fails to import, or lacks the function, is left to scoring (each
    individual then fails with the reason); nothing is imported here.
    """
    from harness import registry

    spec = spec.strip()
    module_name, colon, attr = spec.partition(":")
    if not colon:
        if spec not in registry.fitness.declared_names():
            names = ", ".join(sorted(registry.fitness.declared_names())) or "none"
            raise ConfigError(
                f"no fitness function is called {spec!r} (named ones: {names})",
                "pass --fitness module:function (the module on PYTHONPATH), or a named one",
            )
        return
    if not module_name or not attr:
        raise ConfigError(f"the fitness callable {spec!r} is not of the form 'module:function'",
                          "pass --fitness package.module:function")  # fmt: skip
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):  # a missing parent package, or a bad name
        found = None
    if found is None:
        raise ConfigError(
            f"there is no module {module_name!r} for the fitness callable {spec!r}",
            f"put the folder holding {module_name.split('.')[0]}.py on PYTHONPATH (or install "
            "its package), then run the command again",
        )


def resolve(spec: str) -> Callable[..., Any]:
    """Return the callable of "module:function" or of a NAME under `insitu.fitness`."""
    module_name, colon, attr = spec.partition(":")
    if not colon and module_name and "." not in module_name:
        return _named(module_name)
    if not module_name or not attr:
        raise ConfigError(
            f"the fitness callable {spec!r} is not of the form 'module:function'",
            'set the task\'s fitness = "package.module:function" (or a named function)',
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"cannot import the module of the fitness callable {spec!r}: {exc}",
            "install the package or fix the module name",
        ) from exc
    for name in attr.split("."):
        if not hasattr(obj, name):
            raise ConfigError(
                f"the fitness callable {spec!r} does not exist ({name!r} missing)",
                "check the function's name",
            )
        obj = getattr(obj, name)
    if not callable(obj):
        raise ConfigError(f"the fitness target {spec!r} is not callable", "name a function")
    return obj  # type: ignore[no-any-return]


def objectives(spec: str, value: Any) -> dict[str, float]:
    """Return a callable's result as named float objectives, or raise DataError naming it."""
    items = value.items() if isinstance(value, dict) else [("fitness", value)]
    out = {}
    for key, v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            raise DataError(
                f"the fitness callable {spec} returned {value!r}; expected a number or a dict "
                "of finite numbers (not NaN)",
                "return a float (higher is better) or {'objective': float, ...}",
            )
        out[str(key)] = float(v)
    return out


class FitnessTask(ScoredTask):
    """Scores graphs with a user's callable named in the task's config."""

    kind = "fitness"

    def __init__(self, config: TaskConfig, time_limit: float | None = None,
                 strict: bool = True) -> None:  # fmt: skip
        super().__init__(config)
        if not config.fitness:
            raise ConfigError(
                f"the fitness task {config.name} names no callable",
                'set fitness = "module:function" in the task\'s config',
            )
        self.spec = config.fitness.strip()
        limit = time_limit if time_limit is not None else config.time_limit or DEFAULT_TIME_LIMIT
        self.time_limit = float(limit)  # 0 given here: no limit
        self.function: Callable[..., Any] | None = resolve(self.spec) if strict else None

    def score(self, graph: Graph, rng: random.Random) -> dict[str, float]:
        """Call the user's function on the graph (within the time limit); return its objectives."""
        function = self.function or resolve(self.spec)
        try:
            value = call_with_limit(function, (graph,), self.time_limit)
        except TimeoutError as exc:
            raise DataError(
                f"the fitness callable {self.spec} {exc} on one graph",
                "make it faster, or raise the task's time limit",
            ) from exc
        except Exception as exc:
            raise DataError(
                f"the fitness callable {self.spec} failed: {type(exc).__name__}: {exc}",
                f"fix {self.spec} (it is called as function(graph))",
            ) from exc
        return objectives(self.spec, value)
