"""Evolution: a population of micro-graphs competes, mutates, merges and improves on the data.

Regularized evolution with weight inheritance (DESIGN.md section 4): seeds of every family and
random topologies, tournament selection, function-preserving growth, pruning, crossover aligned
by innovation number with tether merging, aging, a Pareto front, phases with gates, reporters,
and an exact resume from the profile store. `run` is the entry point for scripts and benchmarks.
Names are imported on first use, so `insitu leaderboard` and `--help` never load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Engine": "engine", "run": "engine", "Member": "member", "Outcome": "member",
    "EvalSpec": "pool", "Evaluator": "pool", "InlineEvaluator": "pool",
    "PoolEvaluator": "pool", "ConsoleReporter": "reporters", "JsonlReporter": "reporters",
    "Progress": "reporters", "Reporter": "reporters", "StoreReporter": "reporters",
    "Settings": "settings", "Strategies": "settings", "Summary": "summary",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'harness.evolve' has no attribute '{name}'")
    return getattr(importlib.import_module(f"harness.evolve.{_EXPORTS[name]}"), name)
