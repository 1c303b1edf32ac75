"""The arena: a population of game graphs that self-play, train, compete and evolve.

Each generation (see `Arena.generation`): the population's self-play games (half of them by
the champion, whose games are the strongest data) fill a shared replay buffer; every graph
trains its policy and value heads on it; every graph is scored against the fixed opponents
(its fitness) and plays a round-robin tournament inside the population (its Elo); the worst
non-champion is replaced by a mutated child of a parent picked by tournament, which inherits
the parent's weights (harness.evolve.mutations). With a profile, individuals, checkpoints and
ratings are stored (tables `individuals` and `game_ratings`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from harness.games.base import Game
from harness.games.mcts import MCTSConfig, MCTSPlayer
from harness.games.net import GraphEvaluator, seed_genome
from harness.games.players import Player
from harness.games.pool import (
    Job,
    ScoreJob,
    SelfPlayPool,
    TrainJob,
    run_score,
    run_train,
    split_games,
    weights_of,
)
from harness.games.selfplay import Replay
from harness.games.tournament import (
    ELO_START,
    Standings,
    fixed_opponents,
    round_robin,
)
from harness.graph.build import Graph
from harness.ids import new_id


@dataclass(frozen=True)
class ArenaSettings:
    """How an arena run spends its time."""

    population: int = 4
    families: tuple[str, ...] = ("mlp", "gru", "transformer", "cnn", "random")
    budget: int = 8_000  # parameters of a seed
    max_params: int = 50_000
    simulations: int = 50  # MCTS simulations per self-play move
    selfplay_decisive: bool = True  # decisive-move checks in self-play (cost ~1/5 of its games/min)
    play_simulations: int = 400  # per move in `insitu play`, verification and the bench
    play_endgame: bool = True  # in play, keep to the moves the game's endgame solver proves best
    score_simulations: int | None = None  # per move vs the fixed opponents (None: as play)
    tournament_simulations: int | None = None  # per move in the round robin (None: play / 4)
    selfplay_games: int = 24  # per generation, over the whole population
    value_q: float = 0.0  # share of the root's search value in the value target (rest: result)
    train_steps: int = 300  # per individual and generation
    batch: int = 64
    lr: float | None = 1e-2  # None: each genome's own learning rate
    eval_games: int = 10  # per fixed opponent, alternating sides
    depths: tuple[int, ...] = (2,)  # alpha-beta opponents
    replay: int = 20_000
    seed: int = 0
    workers: int = 0  # self-play processes (0: in the arena's own process)
    stem: str = "text"  # "board": seeds read the board through 3x3 convolutions
    final_games: int = 0  # per fixed opponent and member in the finals that crown (0: none)
    final_simulations: int | None = None  # per move in the finals (None: play / 8)
    final_share: float = 0.2  # share of a timed run kept for the finals

    def search_share(self) -> float:
        """Return the share of a timed run for generations (the rest is the finals')."""
        return 1.0 - (self.final_share if self.final_games else 0.0)

    def play_config(self, simulations: int | None = None, solvers: bool = True) -> MCTSConfig:
        """Return the search settings of a champion in play: `play_simulations` (or
        `simulations`) and, with `solvers`, the endgame solver when `play_endgame`."""
        return MCTSConfig(simulations=simulations or self.play_simulations,
                          endgame=solvers and self.play_endgame)  # fmt: skip

    @classmethod
    def for_game(cls, game: Game, **overrides: Any) -> ArenaSettings:
        """Return the defaults of a game (connect-four: bigger graphs, depths 2 and 4, 128
        self-play games a generation, the families that learn it fastest per second, 3,200
        simulations a move in play and 50 in tournaments; finals, when `final_games` is set, at
        400 simulations a move in the last fifth of a timed run)."""
        base = cls()
        if game.name == "connect4":
            base = replace(base, budget=30_000, max_params=200_000, depths=(2, 4), eval_games=6,
                           selfplay_games=128, simulations=64, play_simulations=3200,
                           score_simulations=64, tournament_simulations=50,
                           families=("transformer", "mlp", "cnn"),
                           final_simulations=400)  # fmt: skip
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class Contestant:
    """One individual of the arena: its graph, lineage and latest scores."""

    id: str
    graph: Graph
    birth: int
    operator: str = "seed"
    parents: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    fitness: float | None = None
    checkpoint: str = ""

    @property
    def family(self) -> str:
        """Return the seed family of the graph."""
        return self.graph.family


@dataclass
class ArenaResult:
    """What a run did: generations, time, the champion and the final table rows."""

    run_id: str
    game: str
    generations: int
    seconds: float
    champion: str | None
    champion_checkpoint: str | None
    rows: list[dict[str, Any]]
    stopped: str = "goal"

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-able data."""
        return dict(self.__dict__)


Report = Callable[[int, list[dict[str, Any]]], None]


class Arena:
    """Evolves and self-plays a population of graphs at one game."""

    def __init__(self, game: Game, settings: ArenaSettings | None = None, store: Any = None,
                 on_generation: Report | None = None) -> None:  # fmt: skip
        self.game = game
        self.settings = settings or ArenaSettings.for_game(game)
        self.rng = random.Random(self.settings.seed)
        self.gen = torch.Generator().manual_seed(self.settings.seed)
        self.replay = Replay(self.settings.replay)
        self.standings = Standings()
        self.members: list[Contestant] = []
        self.births = 0
        self.generation = 0
        self.champion: Contestant | None = None
        self.run_id = new_id()
        self.store = store  # harness.games.persist.ArenaStore, or None
        self.on_generation = on_generation
        self.opponents = fixed_opponents(game, self.settings.depths)
        self.pool = SelfPlayPool(self.settings.workers)
        self.seconds: dict[str, float] = {}  # time spent per phase (selfplay, train, ...)

    def close(self) -> None:
        """Stop the self-play worker processes (a later generation starts them again)."""
        self.pool.close()

    # ------------------------------------------------------------------------------ players
    def player(self, c: Contestant, simulations: int | None = None,
               solvers: bool | None = None) -> Player:  # fmt: skip
        """Return an MCTS player guided by a contestant's graph (at play strength by default:
        `play_simulations` and, where the game has one, the endgame solver)."""
        on = simulations is None if solvers is None else solvers
        return MCTSPlayer(GraphEvaluator(c.graph, self.game),
                          self.settings.play_config(simulations, on), name=c.id[-6:])

    def _add(self, graph: Graph, operator: str, parents: list[str]) -> Contestant:
        """Add a new contestant (stored when the arena has a store)."""
        c = Contestant(new_id(), graph, self.births, operator, parents)
        self.births += 1
        self.members.append(c)
        if parents:
            self.standings.ratings[c.id] = self.standings.rating(parents[0])
        if self.store is not None:
            self.store.add(self, c)
        return c

    def seed(self) -> None:
        """Create the seed population: one graph per family, cycling through the families."""
        s = self.settings
        for i in range(s.population):
            family = s.families[i % len(s.families)]
            genome = seed_genome(self.game, family, s.budget, self.rng, s.stem)
            graph = Graph(genome, device="cpu", generator=self.gen)
            self._add(graph, "seed", [])

    # ------------------------------------------------------------------------------ one generation
    def generation_step(self, deadline: float | None = None) -> bool:
        """Run one generation; return False when the deadline stopped it early.

        1. Seed the population, or (after the first generation) replace the worst
           non-champion with a mutated child of a tournament-picked parent (`breed`).
        2. Self-play: half of the games by the champion (or the first graph), the rest spread
           over the others, played side by side in the worker processes (`SelfPlayPool`);
           every sample goes into the shared replay buffer.
        3. Train every graph on the replay buffer (each in a worker).
        4. Score every graph against the fixed opponents (fitness; each in a worker).
        5. Round-robin tournament inside the population (Elo).
        6. Crown the champion (fitness, then Elo); store and report.
        """
        s = self.settings
        if not self.members:
            self.seed()
        elif self.generation > 0:
            self.breed()

        def late() -> bool:
            """Return whether the deadline has passed."""
            return deadline is not None and time.monotonic() >= deadline

        clock = time.monotonic()

        def lap(phase: str) -> None:
            """Add the time since the last lap to a phase's total."""
            nonlocal clock
            now = time.monotonic()
            self.seconds[phase] = self.seconds.get(phase, 0.0) + now - clock
            clock = now

        lead = self.champion or self.members[0]
        order = [lead] + [m for m in self.members if m is not lead]
        cfg = MCTSConfig(simulations=s.simulations, decisive=s.selfplay_decisive)
        jobs = [Job.of(self.game.name, order[m].graph, n, cfg, self.rng.getrandbits(31),
                       s.value_q)
                for m, n in split_games(s.selfplay_games, len(order), max(1, s.workers))]
        for games in self.pool.run(jobs):
            for samples in games:
                self.replay.add(samples)
        lap("selfplay")
        if late() and self.generation > 0:
            return False  # the first generation still trains and scores what it has
        drawn = tuple(self.replay.samples)
        trained = self.pool.map(run_train, [
            TrainJob(self.game.name, m.graph.genome, weights_of(m.graph), drawn, s.train_steps,
                     s.batch, s.lr, self.rng.getrandbits(31)) for m in self.members])
        for m, weights in zip(self.members, trained, strict=True):
            m.graph.load_state_dict(weights)
        lap("train")
        todo = [m for m in self.members if not (late() and m.fitness is not None)]
        scores = self.pool.map(run_score, [  # members scored late keep their last scores
            ScoreJob(self.game.name, m.graph.genome, weights_of(m.graph), s.depths, s.eval_games,
                     s.score_simulations or s.play_simulations, self.rng.getrandbits(31))
            for m in todo])
        for m, metrics in zip(todo, scores, strict=True):
            m.metrics, m.fitness = metrics, metrics["fitness"]
        lap("score")
        if not late():
            sims = s.tournament_simulations or max(8, s.play_simulations // 4)
            players = {m.id: self.player(m, sims) for m in self.members}
            round_robin(self.game, players, self.standings, self.rng)
        lap("tournament")
        self.champion = max(self.members, key=self._rank)
        rows = self.rows()
        if self.store is not None:
            self.store.save_generation(self)
        if self.on_generation is not None:
            self.on_generation(self.generation, rows)
        self.generation += 1
        return True

    def _rank(self, c: Contestant) -> tuple[float, float, float, int]:
        """Return the key that orders contestants: final fitness (after the finals), fitness,
        Elo, then the younger."""
        return (c.metrics.get("final_fitness", -1.0),
                c.fitness if c.fitness is not None else -1.0, self.standings.rating(c.id),
                c.birth)  # fmt: skip

    def finals(self) -> bool:
        """Crown the champion by a longer match of every member against the fixed opponents;
        return whether the finals were played.

        1. Score every member (each in a worker) with `final_games` games per fixed opponent
           at `final_simulations` a move, with the endgame solver as in play.
        2. Keep each member's scores as `final_*` metrics; the best final fitness is champion
           (ties: fitness, Elo, then the younger); store and report as after a generation.
        """
        s = self.settings
        if not s.final_games or len(self.members) < 2:
            return False
        start = time.monotonic()
        sims = s.final_simulations or max(8, s.play_simulations // 8)
        scores = self.pool.map(run_score, [
            ScoreJob(self.game.name, m.graph.genome, weights_of(m.graph), s.depths,
                     s.final_games, sims, self.rng.getrandbits(31), endgame=s.play_endgame)
            for m in self.members])
        for m, metrics in zip(self.members, scores, strict=True):
            m.metrics.update({f"final_{k}": v for k, v in metrics.items()})
        self.champion = max(self.members, key=self._rank)
        self.seconds["finals"] = self.seconds.get("finals", 0.0) + time.monotonic() - start
        if self.store is not None:
            self.store.save_generation(self)
        if self.on_generation is not None:
            self.on_generation(self.generation - 1, self.rows())
        return True

    def breed(self) -> Contestant | None:
        """Replace the worst non-champion by a mutated child of a tournament-picked parent."""
        from harness.evolve.mutations import mutate, operator_names

        if len(self.members) < 2:
            return None
        ranked = sorted(self.members, key=self._rank)
        worst = next(m for m in ranked if m is not self.champion)
        picks = self.rng.sample(self.members, min(3, len(self.members)))
        parent = max(picks, key=self._rank)
        weights = {"insert_node": 1.0, "change_op": 1.0, "widen": 1.0, "prune": 0.5,
                   "add_connection": 0.5, "remove_node": 0.5, "change_hyper": 1.0}  # fmt: skip
        child, ops = mutate(parent.graph, self.rng, self.gen, weights, self.rng.randint(1, 2),
                            self.settings.max_params)  # fmt: skip
        if not ops:
            return None
        self.members.remove(worst)
        if self.store is not None:
            self.store.retire(worst)
        return self._add(child, operator_names(ops), [parent.id])

    def rows(self) -> list[dict[str, Any]]:
        """Return the table rows, best first."""
        out = []
        for rank, m in enumerate(sorted(self.members, key=self._rank, reverse=True), 1):
            rec = self.standings.records.get(m.id)
            out.append({
                "rank": rank, "id": m.id, "family": m.family, "params": m.graph.num_parameters(),
                "elo": round(self.standings.ratings.get(m.id, ELO_START), 1),
                "wins": rec.wins if rec else 0, "draws": rec.draws if rec else 0,
                "losses": rec.losses if rec else 0, "fitness": m.fitness,
                "metrics": dict(m.metrics), "operator": m.operator,
                "champion": m is self.champion, "checkpoint": m.checkpoint,
            })  # fmt: skip
        return out

    # ------------------------------------------------------------------------------ the loop
    def run(self, seconds: float | None = None, generations: int | None = None) -> ArenaResult:
        """Run generations until the time or generation budget is spent (less `final_share` of
        the time, kept for the `finals` that crown the champion); return the result."""
        start = time.monotonic()
        deadline = None if seconds is None else start + seconds * self.settings.search_share()
        stopped = "goal"
        done = 0
        try:
            while True:
                if generations is not None and done >= generations:
                    break
                if deadline is not None and time.monotonic() >= deadline and done > 0:
                    stopped = "deadline"
                    break
                if not self.generation_step(deadline):
                    stopped = "deadline"
                    break
                done += 1
            if done:
                self.finals()
        except KeyboardInterrupt:
            stopped = "interrupted"
        finally:
            self.close()
        champ = self.champion
        return ArenaResult(self.run_id, self.game.name, done, round(time.monotonic() - start, 2),
                           champ.id if champ else None, champ.checkpoint if champ else None,
                           self.rows(), stopped)  # fmt: skip
