"""Evolution on a scored task without gradients: regularized evolution by mutation.

For objectives no loss can express (a user's fitness callable, a judge, a game score), graphs
are bred by the mutation operators of harness.evolve.mutations (weights inherited) and kept
by score alone. An individual whose scoring fails (an error, NaN, a call past the time limit,
a callable that cannot be imported) gets the worst fitness, its reason is logged and kept in
the result, and the run goes on.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from harness.errors import InsituError
from harness.graph.build import Graph
from harness.ids import new_id
from harness.tasks.base import ScoredTask

log = logging.getLogger("insitu.scored")
WORST = -math.inf
#: Mutation weights of the search (structure and hyper-parameters alike).
WEIGHTS = {"insert_node": 1.0, "change_op": 1.0, "widen": 0.5, "prune": 0.5,
           "add_connection": 0.5, "remove_node": 0.5, "change_hyper": 0.5}  # fmt: skip


@dataclass
class Scored:
    """One individual: its graph, scalar fitness, objectives, and why scoring failed (if so)."""

    graph: Graph
    birth: int
    fitness: float = WORST
    objectives: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    operator: str = "seed"
    parent: str | None = None  # the id of the individual it was mutated from
    id: str = field(default_factory=new_id)
    seconds: float = 0.0  # how long scoring took


@dataclass
class ScoredRun:
    """The result: the best individual, the best fitness after each generation, failures."""

    best: Scored
    history: list[float]
    failures: list[tuple[int, str]]
    population: list[Scored]
    stopped: str = "goal"  # goal | deadline | interrupted
    births: int = 0

    @property
    def generation(self) -> int:
        """Return the number of children bred so far (0: only the seeds)."""
        return len(self.history) - 1


#: Called with every scored individual (seeds and children), e.g. to store it.
OnScored = Callable[[Scored], None]
#: Called after every generation with the run so far and the child it bred.
OnGeneration = Callable[[ScoredRun, Scored], None]


def scalar(objectives: dict[str, float], objective: str) -> float:
    """Return the objective to maximise: `objective` if present, else the mean of all."""
    if objective in objectives:
        return objectives[objective]
    return sum(objectives.values()) / len(objectives) if objectives else WORST


def score(task: ScoredTask, ind: Scored, rng: random.Random, objective: str) -> Scored:
    """Score an individual; a failure gives the worst fitness and logs the reason."""
    start = time.perf_counter()
    try:
        ind.objectives = task.score(ind.graph, rng)
        ind.fitness = scalar(ind.objectives, objective)
        if math.isnan(ind.fitness):
            raise ValueError("the fitness is NaN")
    except (InsituError, ValueError) as exc:
        ind.fitness, ind.objectives = WORST, {}
        ind.error = getattr(exc, "message", None) or str(exc)
        log.warning("individual %d gets the worst fitness: %s", ind.birth, ind.error)
    ind.seconds = time.perf_counter() - start
    return ind


def evolve_scored(
    task: ScoredTask,
    seeds: Sequence[Graph],
    generations: int | None,
    rng: random.Random,
    population: int | None = None,
    objective: str = "fitness",
    max_params: int | None = None,
    tournament: int = 3,
    seconds: float | None = None,
    on_scored: OnScored | None = None,
    on_generation: OnGeneration | None = None,
) -> ScoredRun:
    """Evolve graphs on a scored task for `generations` children; return the best and history.

    1. Score every seed (failures get the worst fitness; the reason is logged and kept).
    2. For each generation (until `generations` children, or `seconds` of wall time, or
       Ctrl-C): pick a parent by tournament, mutate it 1-2 times (inheriting weights), score
       the child and add it; remove the oldest beyond the population size (aging), but never
       the best so far.
    3. Record the best fitness after each generation.
    """
    from harness.evolve.mutations import mutate, operator_names

    if generations is None and seconds is None:
        raise ValueError("evolve_scored needs a budget: generations or seconds")
    deadline = None if seconds is None else time.monotonic() + seconds
    gen = torch.Generator().manual_seed(rng.getrandbits(63))

    def scored(ind: Scored) -> Scored:
        """Score one individual and hand it to `on_scored`."""
        score(task, ind, rng, objective)
        if on_scored is not None:
            on_scored(ind)
        return ind

    members: list[Scored] = []
    for i, g in enumerate(seeds):
        members.append(scored(Scored(g, i)))  # a Ctrl-C here leaves nothing to report: raise
    size = population or len(members)
    best = max(members, key=lambda m: (m.fitness, -m.birth))
    failures = [(m.birth, m.error) for m in members if m.error]
    run = ScoredRun(best, [best.fitness], failures, members, births=len(members))
    try:
        while generations is None or run.generation < generations:
            if deadline is not None and time.monotonic() >= deadline:
                run.stopped = "deadline"
                break
            picks = rng.sample(members, min(tournament, len(members)))
            parent = max(picks, key=lambda m: m.fitness)
            graph, ops = mutate(parent.graph, rng, gen, WEIGHTS, rng.randint(1, 2), max_params)
            child = scored(Scored(graph, run.births, operator=operator_names(ops) or "copy",
                                  parent=parent.id))  # fmt: skip
            run.births += 1
            if child.error:
                failures.append((child.birth, child.error))
            members.append(child)
            if child.fitness > run.best.fitness:
                run.best = child
            while len(members) > size:
                oldest = min((m for m in members if m is not run.best), key=lambda m: m.birth)
                members.remove(oldest)
            run.history.append(run.best.fitness)
            if on_generation is not None:
                on_generation(run, child)
    except KeyboardInterrupt:
        run.stopped = "interrupted"
    return run
