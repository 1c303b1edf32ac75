"""The arena's worker processes: self-play (a batch of games of one graph played side by side),
training on the replay samples, and scoring against the fixed opponents.

Micro-graphs run fastest on one intra-op thread per process, so an arena gets its parallelism
from processes: `SelfPlayPool` keeps `workers` spawned processes (one torch thread each) for
the whole run and hands each a job: the graph (genome and weights, rebuilt in the worker), what
to do (games and search settings; samples and steps; opponents) and a seed. With
`workers = 0` the same jobs run in the calling process. Results come back in job order, so
a seeded run gives the same results either way.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

from harness.games.mcts import MCTSConfig
from harness.games.selfplay import Sample
from harness.graph.build import Graph

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """Games of one graph: its genome and weights, how many, the search, the seed."""

    game: str
    genome: dict[str, Any]
    weights: dict[str, torch.Tensor]
    games: int
    config: MCTSConfig
    seed: int
    q_weight: float = 0.0  # share of the search value in the value target (see self_play_many)

    @classmethod
    def of(cls, game: str, graph: Graph, games: int, config: MCTSConfig, seed: int,
           q_weight: float = 0.0) -> Job:  # fmt: skip
        """Return the job of `games` self-play games of a graph (weights copied to the CPU)."""
        return cls(game, graph.genome, weights_of(graph), games, config, seed, q_weight)


def rebuild(genome: dict[str, Any], weights: dict[str, torch.Tensor]) -> Graph:
    """Return the CPU graph of a genome with the weights a job carried."""
    graph = Graph(genome, device="cpu")
    graph.load_state_dict(weights)
    return graph


def run_job(job: Job) -> list[list[Sample]]:
    """Play a job's games side by side; return each game's samples."""
    from harness.games import get_game
    from harness.games.batched import self_play_many
    from harness.games.net import GraphEvaluator

    game = get_game(job.game)
    graph = rebuild(job.genome, job.weights)
    evaluator = GraphEvaluator(graph, game)
    return self_play_many(game, evaluator.batch, job.config, random.Random(job.seed), job.games,
                          q_weight=job.q_weight)  # fmt: skip


@dataclass(frozen=True)
class TrainJob:
    """Training of one graph on replay samples: its genome and weights, the steps, the seed."""

    game: str
    genome: dict[str, Any]
    weights: dict[str, torch.Tensor]
    samples: tuple[Sample, ...]
    steps: int
    batch: int
    lr: float | None
    seed: int


def run_train(job: TrainJob) -> dict[str, torch.Tensor]:
    """Train a job's graph on its samples (see selfplay.train); return the new weights."""
    from harness.games import get_game
    from harness.games.selfplay import Replay, train

    graph = rebuild(job.genome, job.weights)
    replay = Replay(max(1, len(job.samples)))
    replay.add(job.samples)
    train(graph, get_game(job.game), replay, job.steps, random.Random(job.seed), job.batch,
          job.lr)  # fmt: skip
    return {k: v.detach().cpu() for k, v in graph.state_dict().items()}


@dataclass(frozen=True)
class ScoreJob:
    """Scoring of one graph (MCTS) against the fixed opponents."""

    game: str
    genome: dict[str, Any]
    weights: dict[str, torch.Tensor]
    depths: tuple[int, ...]
    games: int
    simulations: int
    seed: int
    endgame: bool = False  # keep to the endgame solver's proven moves, as in play


def run_score(job: ScoreJob) -> dict[str, float]:
    """Return a job's graph's scores against the fixed opponents (tournament.score_against)."""
    from harness.games import get_game
    from harness.games.mcts import MCTSPlayer
    from harness.games.net import GraphEvaluator
    from harness.games.tournament import fixed_opponents, score_against

    game = get_game(job.game)
    graph = rebuild(job.genome, job.weights)
    player = MCTSPlayer(GraphEvaluator(graph, game), MCTSConfig(simulations=job.simulations,
                                                               endgame=job.endgame))
    return score_against(game, player, fixed_opponents(game, job.depths), job.games,
                         random.Random(job.seed))  # fmt: skip


def weights_of(graph: Graph) -> dict[str, torch.Tensor]:
    """Return a CPU copy of a graph's weights (what a job carries to a worker)."""
    return {k: v.detach().cpu().clone() for k, v in graph.state_dict().items()}


def _init_worker() -> None:
    """Give a worker one torch thread (parallelism comes from processes)."""
    torch.set_num_threads(1)


class SelfPlayPool:
    """Runs self-play jobs in `workers` processes (0: in this process)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(0, int(workers))
        self._pool: cf.ProcessPoolExecutor | None = None

    def run(self, jobs: list[Job]) -> list[list[list[Sample]]]:
        """Return the samples of every self-play job, in job order."""
        return self.map(run_job, jobs)

    def map(self, fn: Callable[[Any], T], jobs: Sequence[Any]) -> list[T]:
        """Return fn(job) of every job, in job order, computed in the workers."""
        if self.workers == 0 or len(jobs) < 2:
            return [fn(j) for j in jobs]
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx,
                                                initializer=_init_worker)  # fmt: skip
        return list(self._pool.map(fn, jobs))

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def split_games(total: int, members: int, parts: int) -> list[tuple[int, int]]:
    """Return (member index, games) jobs: half of `total` for member 0 (the lead), the rest
    spread over the others, each member's share cut into up to `parts` jobs of similar size."""
    if members <= 1:
        shares = [total]
    else:
        lead = (total + 1) // 2
        rest = total - lead
        shares = [lead] + [rest // (members - 1) + (1 if i < rest % (members - 1) else 0)
                           for i in range(members - 1)]  # fmt: skip
    jobs = []
    for m, share in enumerate(shares):
        cuts = max(1, min(parts, share))
        for k in range(cuts):
            n = share // cuts + (1 if k < share % cuts else 0)
            if n:
                jobs.append((m, n))
    return jobs
