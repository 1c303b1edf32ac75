"""`insitu evolve --fitness SPEC` (or `--task NAME` of a scored kind): evolve graphs on a score.

The task is a user's fitness callable ("module:function" or a name under `insitu.fitness`), or a
profile task of a scored kind (`fitness`, or a plugin kind such as `judge`). Graphs are bred by
`evolve_scored` (mutation only, weights inherited) from seeds of the profile's families (and its
current champion, when it has one). Every scored individual is an `individuals` row of the run
(genome, lineage, objectives; a failed one has status `failed` and an `evaluation_failed` event
with the reason); at the end the surviving population's checkpoints are written under
`checkpoints/scored/<run>/` and the best individual becomes the profile's champion.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.config import TaskConfig
from harness.errors import ConfigError, InsituError
from harness.genome import canonical_json, content_hash
from harness.ids import new_id
from harness.profile import Profile
from harness.store.population import Parent, add_individual, put_genome
from harness.store.records import add_event
from harness.tasks.base import ScoredTask
from harness.tasks.scored import Scored, ScoredRun, evolve_scored

#: Task kinds the gradient engine trains; every other kind is evolved here (games: the arena).
TRAINED_KINDS = ("text", "label")


@dataclass(frozen=True)
class Budget:
    """How long a scored run goes, and how big and seeded it is."""

    generations: int | None = None
    seconds: float | None = None
    population: int | None = None
    seed: int | None = None
    time_limit: float | None = None  # fitness callables: seconds per graph


def scored_task_name(profile: Profile, tasks: Sequence[str]) -> str | None:
    """Return the scored task `insitu evolve` should run here, or None for the gradient engine.

    Chosen tasks (or, without --task, all of the profile's) that are all text or label go to
    the engine; one task of a scored kind comes here; a mix, several scored ones or a game task
    is an error that says what to run instead.
    """
    configs = [profile.config.task(t) for t in tasks] if tasks else list(profile.config.tasks)
    scored = [c for c in configs if c.kind not in TRAINED_KINDS]
    if not scored or not tasks and len(scored) < len(configs):
        return None  # the profile's trained tasks evolve by default; scored ones on request
    games = [c for c in scored if c.kind == "game"]
    if games:
        raise ConfigError(f"task '{games[0].name}' is a game: its graphs evolve by self-play",
                          f"run `insitu arena -p {profile.name} --game {games[0].game}`")
    if len(configs) > 1:
        raise ConfigError("a scored task evolves on its own, not together with other tasks",
                          f"pass one task: --task {scored[0].name}")
    return scored[0].name


def engine_tasks(profile: Profile, tasks: Sequence[str]) -> list[str]:
    """Return the tasks the gradient engine evolves: as given, or the trained ones of a mix."""
    if tasks:
        return list(tasks)
    trained = [t.name for t in profile.config.tasks if t.kind in TRAINED_KINDS]
    return [] if len(trained) == len(profile.config.tasks) else trained


def build_scored(profile: Profile, fitness: str | None, task: str | None,
                 time_limit: float | None = None) -> ScoredTask:  # fmt: skip
    """Return the scored task of a run; a callable that does not exist at all is refused here."""
    from harness.tasks import load_task
    from harness.tasks.fitness import FitnessTask, check_exists

    if fitness is not None:
        check_exists(fitness)
        config = TaskConfig(name=task or "fitness", kind="fitness", fitness=fitness)
        return FitnessTask(config, time_limit, strict=False)
    if task is None:
        raise ConfigError("no scored task to evolve", "pass --fitness module:function or --task")
    config = profile.config.task(task)
    if config.kind == "fitness":
        if config.fitness:
            check_exists(config.fitness)
        return FitnessTask(config, time_limit, strict=False)
    built = load_task(profile, task)
    if not isinstance(built, ScoredTask):
        raise ConfigError(f"task '{task}' is a {config.kind} task, not a scored one",
                          f"evolve it with `insitu evolve -p {profile.name} --task {task}`")
    return built


def seed_graphs(profile: Profile, task: ScoredTask, count: int,
                rng: random.Random) -> tuple[list[Any], str | None]:  # fmt: skip
    """Return the seeds (the champion if any, then a graph per family) and the champion's id."""
    import torch

    from harness.graph.build import Graph
    from harness.graph.seeds import random_topology, seed

    model = profile.config.model
    head = task.head()
    heads = {task.name: head} if head else None
    gen = torch.Generator().manual_seed(rng.getrandbits(63))
    graphs: list[Any] = []
    incumbent, champion = _champion_graph(profile)
    if champion is not None and champion.num_parameters() <= model.max_params:
        graphs.append(champion)
    else:
        incumbent = None
    families = list(model.families) or ["mlp"]
    i = 0
    while len(graphs) < count:
        family = families[i % len(families)]
        i += 1
        if family == "random":
            genome = random_topology(model.min_params, rng, heads, context=model.context)
        else:
            genome = seed(family, model.min_params, heads, context=model.context)
        graphs.append(Graph(genome, device="cpu", generator=gen))
    return graphs, incumbent


def _champion_graph(profile: Profile) -> tuple[str | None, Any]:
    """Return the profile's newest champion (id, graph), or Nones (none, or it does not load)."""
    from harness.chat.model import champion_row
    from harness.graph import checkpoint

    row = champion_row(profile)
    if row is None:
        return None, None
    path = profile.checkpoint_path(row["checkpoint"])
    try:
        return str(row["id"]), checkpoint.load(
            path, device="cpu")
    except InsituError:
        return None, None


class ScoredRecorder:
    """Writes a scored run into the profile: individuals, lineage, failures, the champion."""

    def __init__(self, profile: Profile, task: ScoredTask, seeds: int,
                 incumbent: str | None = None) -> None:  # fmt: skip
        self.profile = profile
        self.task = task
        self.seeds = seeds
        self.incumbent = incumbent  # the champion that seeds birth 0, kept as its parent
        self.run_id = new_id()
        self.ids: dict[str, bool] = {}  # id -> failed

    def add(self, ind: Scored) -> None:
        """Store one scored individual (a failed one with its reason as an event)."""
        store = self.profile.store
        genome = ind.graph.genome
        gid = content_hash(genome)
        metrics: dict[str, Any] = {**ind.objectives, "seconds": round(ind.seconds, 4),
                                   "params": ind.graph.num_parameters()}
        parents = [Parent(ind.parent, "parent", ind.operator)] if ind.parent else []
        operator = ind.operator
        if ind.birth == 0 and self.incumbent:
            parents, operator = [Parent(self.incumbent, "parent", "incumbent")], "incumbent"
        if not ind.error:
            metrics.setdefault("fitness", ind.fitness)  # the scalar that selection used
        with store.write():
            put_genome(store, gid, canonical_json(genome), ind.graph.family,
                       ind.graph.num_parameters())  # fmt: skip
            add_individual(
                store, gid, generation=max(0, ind.birth - self.seeds + 1), metrics=metrics,
                fitness=None if ind.error else ind.fitness, individual_id=ind.id,
                status="failed" if ind.error else "alive",
                parents=parents,
                extra={"run_id": self.run_id, "birth": ind.birth, "phase": "scored",
                       "operator": operator},
            )  # fmt: skip
            if ind.error:
                add_event(store, "evaluation_failed", {"run_id": self.run_id, "task":
                          self.task.name, "error": ind.error}, ind.id)  # fmt: skip
        self.ids[ind.id] = bool(ind.error)

    def finish(self, run: ScoredRun) -> str | None:
        """Save the survivors' checkpoints, set every status, crown the best; return its path."""
        from harness.graph import checkpoint

        root = self.profile.path
        alive = {m.id: m for m in run.population if not m.error}
        paths: dict[str, tuple[str, str]] = {}
        for iid, m in alive.items():
            where = f"checkpoints/scored/{self.run_id}/{iid}.safetensors"
            (root / where).parent.mkdir(parents=True, exist_ok=True)
            checkpoint.save(m.graph, root / where)
            paths[iid] = (where, hashlib.sha256((root / where).read_bytes()).hexdigest())
        champion = run.best.id if run.best.id in alive else None
        with self.profile.store.write() as db:
            for iid, failed in self.ids.items():
                if failed:
                    continue
                status = "champion" if iid == champion else "alive" if iid in alive else "dead"
                rel, sha = paths.get(iid, (None, None))
                db.execute(
                    "UPDATE individuals SET status = ?, checkpoint = COALESCE(?, checkpoint), "
                    "checkpoint_sha256 = COALESCE(?, checkpoint_sha256), died_at = CASE WHEN "
                    "? = 'dead' THEN ? ELSE died_at END WHERE id = ?",
                    [status, rel, sha, status, time.time(), iid],
                )  # fmt: skip
            if champion is not None:
                add_event(self.profile.store, "champion", {
                    "run_id": self.run_id, "task": self.task.name, "fitness": run.best.fitness,
                    "objectives": run.best.objectives, "family": run.best.graph.family,
                }, champion)  # fmt: skip
        return paths[champion][0] if champion else None


#: Called with (run so far, the individual just bred) after each generation.
Progress = Callable[[ScoredRun, Scored], None]


def run_scored(profile: Profile, task: ScoredTask, budget: Budget,
               progress: Progress | None = None) -> dict[str, Any]:  # fmt: skip
    """Evolve graphs on a scored task, store the run and its champion; return the summary."""
    import torch

    torch.set_num_threads(1)
    evo = profile.config.evolution
    seed = evo.seed if budget.seed is None else budget.seed
    population = budget.population or evo.population
    rng = random.Random(seed)
    seeds, incumbent = seed_graphs(profile, task, population, rng)
    recorder = ScoredRecorder(profile, task, len(seeds), incumbent)
    start = time.monotonic()
    run = evolve_scored(task, seeds, budget.generations, rng, population=population,
                        max_params=profile.config.model.max_params,
                        tournament=evo.tournament, seconds=budget.seconds,
                        on_scored=recorder.add, on_generation=progress)  # fmt: skip
    checkpoint = recorder.finish(run)
    best = run.best
    return {
        "run_id": recorder.run_id, "task": task.name, "kind": task.kind,
        "generations": run.generation, "individuals": run.births,
        "seconds": round(time.monotonic() - start, 2), "stopped": run.stopped,
        "champion": None if checkpoint is None else {
            "id": best.id, "fitness": best.fitness, "objectives": best.objectives,
            "family": best.graph.family, "params": best.graph.num_parameters(),
            "operator": best.operator, "checkpoint": checkpoint,
        },
        "history": [_finite(v) for v in run.history],
        "failures": [{"birth": b, "error": e} for b, e in run.failures],
    }  # fmt: skip


def _finite(value: float) -> float | None:
    """Return a fitness for JSON: None for the worst (-inf)."""
    return value if math.isfinite(value) else None


class Table:
    """The live table of a scored run: new bests and failures always, other rows every 0.5 s."""

    HEADER = f"{'gen':>5}  {'best':>10}  {'child':>10}  {'params':>8}  {'failed':>6}  made by"

    def __init__(self, echo: Callable[[str], None], every: float = 0.5) -> None:
        self.echo = echo
        self.every = every
        self.started = False
        self.shown = 0.0  # when the last row was printed
        self.best = -math.inf

    def __call__(self, run: ScoredRun, child: Scored) -> None:
        """Print the row of one generation (and the header and the seeds before the first)."""
        now = time.monotonic()
        news = child.error is not None or run.best.fitness > self.best
        if self.started and not news and now - self.shown < self.every:
            return
        self.shown, self.best = now, run.best.fitness
        if not self.started:
            self.echo(self.HEADER)
            self.started = True
            before = len(run.failures) - (1 if child.error else 0)
            self.echo(f"{0:>5}  {_fmt(run.history[0]):>10}  {'':>10}  {'':>8}  {before:>6}  "
                      "seeds")  # fmt: skip
        note = child.operator[:28]
        if child.error:
            note += f"  ! failed: {child.error}"
        self.echo(f"{run.generation:>5}  {_fmt(run.best.fitness):>10}  {_fmt(child.fitness):>10}"
                  f"  {child.graph.num_parameters():>8,}  {len(run.failures):>6}  {note}")


def _fmt(value: float | None) -> str:
    """Return a fitness with 4 decimals ('worst' for a failure)."""
    return "worst" if value is None or not math.isfinite(value) else f"{value:.4f}"


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Return the final report: budget, champion, and every distinct failure reason."""
    state = {"goal": "done", "deadline": "time is up", "interrupted": "interrupted"}
    lines = [f"run {result['run_id']} on {result['task']} ({result['kind']}): "
             f"{result['generations']} generations, {result['individuals']} individuals in "
             f"{result['seconds']:.1f} s ({state.get(result['stopped'], result['stopped'])})"]
    champ = result["champion"]
    if champ is None:
        lines.append("no champion: every individual failed (see the reasons below)")
    else:
        others = {k: v for k, v in champ["objectives"].items() if k != "fitness"}
        objectives = "".join(f", {k} {v:.4f}" for k, v in others.items())
        lines.append(f"champion {champ['id']} ({champ['family']}, {champ['params']:,} params): "
                     f"fitness {champ['fitness']:.4f}{objectives}")
        lines.append(f"  stored as the profile's champion: {champ['checkpoint']}")
    if result["failures"]:
        reasons: dict[str, int] = {}
        for f in result["failures"]:
            reasons[f["error"]] = reasons.get(f["error"], 0) + 1
        lines.append(f"{len(result['failures'])} individuals failed (worst fitness):")
        lines.extend(f"  {n} x {why}" for why, n in reasons.items())
    return lines


def quiet_scoring_log() -> logging.Handler:
    """Keep the scoring log's warnings out of the terminal (the table shows them); undo later."""
    handler = logging.NullHandler()
    logging.getLogger("insitu.scored").addHandler(handler)
    return handler

