"""Example fitness functions, registered by name under the `insitu.fitness` entry points.

`insitu evolve -p P --fitness variety` (or `fitness = "variety"` in a task) uses `variety`.
Each takes the built graph (`harness.graph.build.Graph`) and returns a number; larger is better.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.graph.build import Graph

#: Parameters that cost one point of `variety`.
SIZE_PENALTY = 100_000


def variety(graph: Graph) -> float:
    """Return the distinct unit kinds in the body minus a small size penalty (no gradient)."""
    kinds = {node["op"] for node in graph.genome["nodes"]}
    return len(kinds) - graph.num_parameters() / SIZE_PENALTY
