"""`insitu bench tictactoe|connect4`: self-play and MCTS speed, and how fast the arena learns.

Rows: self-play games per minute and MCTS simulations per second, each measured in `threads`
worker processes of one torch thread (the harness's way of using cores) on a seed graph;
then an arena run of `--minutes`: for tic-tac-toe, the arena time until the first champion
that never loses to the perfect solver over `--games` games as each side (checked after
every generation; checking time is not counted); for connect-four, the champion's win rate
against alpha-beta depth 2 and 4 at the end: from the empty board (the target's measure; only
alpha-beta's random choice among equal moves varies the games, so they follow a few lines),
and from OPENING random moves, each opening played once with each colour. The champion
plays as `insitu play` does (`play_simulations`, and the endgame solver from 30 empty cells);
the "search only" columns replay the empty-board games without the solver. The series are
played side by side in `--threads` processes after the arena (`records`).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import random
import time
from typing import Any

import click

from harness.cliutil import json_option

SPEED_SECONDS = 10.0
#: Random moves before the paired-opening games against alpha-beta.
OPENING = 2
#: Games (or search roots) played side by side per process in the speed rows.
BATCH = 32


def _worker(game_name: str, what: str, seconds: float, seed: int, cached: bool) -> int:
    """Count simulations (or self-play games) done in `seconds` in this process.

    Self-play gives every game a fresh cached evaluator (as the arena does); the cached MCTS row
    keeps one evaluator for all searches (as a match does); the other evaluates every leaf.
    """
    import torch

    torch.set_num_threads(1)
    from harness.games import get_game
    from harness.games.arena import ArenaSettings
    from harness.games.batched import search_many, self_play_many
    from harness.games.mcts import MCTSConfig, search
    from harness.games.net import GraphEvaluator, seed_genome
    from harness.graph.build import Graph

    game = get_game(game_name)
    s = ArenaSettings.for_game(game)
    rng = random.Random(seed)
    graph = Graph(seed_genome(game, "mlp", s.budget, rng), device="cpu")
    cfg = MCTSConfig(simulations=s.simulations, decisive=s.selfplay_decisive)  # as self-play
    count = 0
    end = time.monotonic() + seconds
    shared = GraphEvaluator(graph, game)  # cached: one evaluator for every search, as in a match
    while time.monotonic() < end:
        evaluator = shared if cached else GraphEvaluator(graph, game, cache=False)
        if what == "games":  # as the arena plays them: BATCH games side by side
            count += len(self_play_many(game, GraphEvaluator(graph, game).batch, cfg, rng, BATCH))
        elif what == "batched":
            roots = [game.random_state(rng, game.rows * game.cols // 2) for _ in range(BATCH)]
            search_many(game, roots, evaluator.batch, cfg, rng, noise=True)
            count += cfg.simulations * BATCH
        else:
            state = game.random_state(rng, game.rows * game.cols // 2)
            search(game, state, evaluator, cfg, rng, noise=True)
            count += cfg.simulations
    return count


def speed(game: str, what: str, threads: int, seconds: float, cached: bool = True) -> float:
    """Return games per minute or simulations per second summed over `threads` processes."""
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(threads, mp_context=ctx) as pool:
        jobs = [pool.submit(_worker, game, what, seconds, i, cached) for i in range(threads)]
        total = sum(j.result() for j in jobs)
    return total * 60.0 / seconds if what == "games" else total / seconds  # batched: sims/s


def _never_loses(arena: Any, games: int) -> int:
    """Return the champion's losses to the perfect solver over `games` games as each side."""
    from harness.games.players import PerfectPlayer, play_game

    perfect = PerfectPlayer(arena.game)
    player = arena.player(arena.champion)
    rng = random.Random(777)
    losses = 0
    for k in range(2 * games):
        if k % 2 == 0:
            r, _ = play_game(arena.game, player, perfect, rng)
        else:
            r, _ = play_game(arena.game, perfect, player, rng)
            r = -r
        if r < 0:
            losses += 1
            break  # one loss decides it: move on to the next generation
    return losses


def _record(job: tuple[Any, ...]) -> list[int]:
    """Return [wins, draws, losses] of one champion-vs-alpha-beta series (a worker job)."""
    from harness.games import get_game
    from harness.games.mcts import MCTSPlayer
    from harness.games.net import GraphEvaluator
    from harness.games.players import AlphaBetaPlayer
    from harness.games.pool import rebuild
    from harness.games.tournament import against

    name, genome, weights, config, depth, games, seed, opening = job
    game = get_game(name)
    player = MCTSPlayer(GraphEvaluator(rebuild(genome, weights), game), config)
    rec = against(game, player, AlphaBetaPlayer(game, depth), games, random.Random(seed),
                  opening=opening)  # fmt: skip
    return [rec.wins, rec.draws, rec.losses]


def records(arena: Any, games: int, workers: int) -> dict[str, Any]:
    """Return the champion's records and win rates against alpha-beta depth 2 and 4.

    Each series (empty board; `OPENING` random moves; empty board with the search alone,
    when the champion plays with solvers) has its own seeded generator, so the series are
    played side by side in `workers` processes (0: in this one) with the same results.
    """
    from harness.games.pool import SelfPlayPool, weights_of

    champ, s = arena.champion, arena.settings
    genome, weights = champ.graph.genome, weights_of(champ.graph)
    series = {}
    for depth in (2, 4):
        series[f"ab{depth}"] = (s.play_config(), depth, 5, 0)
        series[f"ab{depth}_openings"] = (s.play_config(), depth, 6, OPENING)
        if s.play_endgame:
            series[f"ab{depth}_search"] = (s.play_config(solvers=False), depth, 5, 0)
    jobs = [(arena.game.name, genome, weights, cfg, depth, games, seed, opening)
            for cfg, depth, seed, opening in series.values()]  # fmt: skip
    pool = SelfPlayPool(workers)
    try:
        done = pool.map(_record, jobs)
    finally:
        pool.close()
    out: dict[str, Any] = {}
    for key, (wins, draws, losses) in zip(series, done, strict=True):
        out[f"win_rate_{key}"] = wins / max(wins + draws + losses, 1)
        out[f"record_{key}"] = [wins, draws, losses]
    return out


def learn(game_name: str, minutes: float, games: int, seed: int, progress: Any,
          population: int | None = None, workers: int = 0,
          finals: int = 0) -> dict[str, Any]:  # fmt: skip
    """Run an arena for `minutes` (with `finals` games per fixed opponent in its last fifth);
    return when (arena seconds) its champion first never lost."""
    import torch

    from harness.games import get_game
    from harness.games.arena import Arena, ArenaSettings

    torch.set_num_threads(1)  # micro-graphs: one intra-op thread (parallelism is processes)
    game = get_game(game_name)
    arena = Arena(game, ArenaSettings.for_game(game, seed=seed, population=population,
                                               workers=workers, final_games=finals))  # fmt: skip
    spent, first, generations = 0.0, None, 0
    search = minutes * 60 * arena.settings.search_share()  # the rest is the finals'
    try:
        while spent < search:
            start = time.monotonic()
            arena.generation_step(deadline=start + search - spent)
            spent += time.monotonic() - start
            generations += 1
            if game.name == "tictactoe":
                losses = _never_loses(arena, games)
                progress(f"generation {generations - 1}: {spent:.0f} s, champion "
                         f"{'never lost' if not losses else 'lost'}")  # fmt: skip
                if not losses:
                    first = spent
                    break
            else:
                progress(f"generation {generations - 1}: {spent:.0f} s")
        if first is None and generations:
            start = time.monotonic()
            if arena.finals():
                spent += time.monotonic() - start
                progress(f"finals: {spent:.0f} s")
    finally:
        arena.close()
    out: dict[str, Any] = {"arena_s": spent, "generations": generations,
                           "first_never_loses_s": first,
                           "phase_s": {k: round(v, 1) for k, v in arena.seconds.items()},
                           "finals": [{"id": r["id"], "family": r["family"],
                                       "champion": r["champion"], "fitness": r["fitness"],
                                       "final_fitness": r["metrics"].get("final_fitness")}
                                      for r in arena.rows() if "final_fitness" in r["metrics"]],
                           }  # fmt: skip
    if game.name == "connect4" and arena.champion is not None:
        out.update(records(arena, games, workers))
    return out


def run_bench(
    game: str, minutes: float, games: int, threads: int, seed: int, speed_seconds: float,
    progress: Any, population: int | None = None, finals: int = 0,
) -> Any:  # fmt: skip
    """Measure speed and learning of one game; return a BenchReport."""
    import os

    from harness.bench.report import BenchReport, Column, Contender, Target

    rows = []
    load = os.getloadavg()[0]
    for name, what, cached in (("self-play", "games", True), ("mcts (cached evals)", "sims", True),
                               ("mcts (graph per sim)", "sims", False),
                               (f"mcts ({BATCH} roots batched)", "batched", False)):  # fmt: skip
        progress(f"measuring {name} on {threads} processes for {speed_seconds:g} s")
        start = time.monotonic()
        value = speed(game, what, threads, speed_seconds, cached)
        key = "games_per_min" if what == "games" else "sims_per_s"
        note = f"{threads} procs x 1 thread"
        rows.append(Contender(name, "insitu", wall_s=time.monotonic() - start,
                              metrics={key: value}, notes=note))  # fmt: skip
    progress(f"arena for up to {minutes:g} min")
    start = time.monotonic()
    learned = learn(game, minutes, games, seed, progress, population, threads, finals)
    metrics: dict[str, float | None] = {"generations": float(learned["generations"])}
    if learned.get("first_never_loses_s") is not None:
        metrics["first_never_loses_s"] = learned["first_never_loses_s"]
    for d in (2, 4):
        for key in (f"win_rate_ab{d}", f"win_rate_ab{d}_openings", f"win_rate_ab{d}_search"):
            if key in learned:
                metrics[key] = learned[key]
    rows.append(Contender("arena", "insitu", wall_s=time.monotonic() - start, metrics=metrics,
                          notes=f"{learned['arena_s']:.0f} s of arena time, {threads} workers; "
                          + ", ".join(f"{k} {v:.0f} s" for k, v in learned["phase_s"].items()),
                          details={"phase_s": learned["phase_s"], "finals": learned["finals"],
                                   **{k: v for k, v in learned.items()
                                      if k.startswith("record_")}}))  # fmt: skip
    columns = [Column("games/min", "games_per_min", "{:.1f}"), Column("sims/s", "sims_per_s",
               "{:.0f}"), Column("generations", "generations", "{:.0f}")]  # fmt: skip
    targets = []
    if game == "tictactoe":
        columns.append(Column("s to never-losing champion", "first_never_loses_s", "{:.0f}"))
        first = learned.get("first_never_loses_s")
        targets.append(Target(f"champion never loses vs the perfect solver ({games} games as "
                              f"each side) within 5 min of arena",
                              first is not None and first <= 300))  # fmt: skip
    else:
        columns += [Column("vs ab2 %", "win_rate_ab2", "{:.0f}", 100.0),
                    Column("vs ab4 %", "win_rate_ab4", "{:.0f}", 100.0),
                    Column(f"vs ab2 % ({OPENING}-move openings)", "win_rate_ab2_openings",
                           "{:.0f}", 100.0),
                    Column(f"vs ab4 % ({OPENING}-move openings)", "win_rate_ab4_openings",
                           "{:.0f}", 100.0),
                    Column("vs ab2 % (search only)", "win_rate_ab2_search", "{:.0f}", 100.0),
                    Column("vs ab4 % (search only)", "win_rate_ab4_search", "{:.0f}",
                           100.0)]  # fmt: skip
        targets += [
            Target(
                "win rate > 90% vs alpha-beta depth 2 after 10 min",
                learned.get("win_rate_ab2", 0) > 0.9 if minutes >= 10 else None,
            ),
            Target(
                "win rate > 50% vs alpha-beta depth 4 after 10 min",
                learned.get("win_rate_ab4", 0) > 0.5 if minutes >= 10 else None,
            ),
        ]
    settings = {"game": game, "minutes": minutes, "games": games, "threads": threads,
                "seed": seed, "population": population or "default", "finals": finals,
                "load_avg_1m": round(load, 2)}  # fmt: skip
    return BenchReport(game, settings, rows, columns, targets, flops_unit="move")


def _command(game: str, minutes: float, games: int) -> click.Command:
    """Return the click command of one game's benchmark."""

    @click.command(game)
    @click.option(
        "--minutes", type=float, default=minutes, show_default=True, help="Arena time budget."
    )
    @click.option(
        "--games",
        type=int,
        default=games,
        show_default=True,
        help="Games per side when checking the champion.",
    )
    @click.option(
        "--threads", type=int, default=2, show_default=True, help="Processes for the speed rows."
    )
    @click.option(
        "--speed-seconds",
        type=float,
        default=SPEED_SECONDS,
        show_default=True,
        help="Seconds of each speed measurement.",
    )
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--population", type=int, help="Arena population (default: the game's).")
    @click.option("--finals", type=click.IntRange(0), default=0, show_default=True,
                  help="Finals games per fixed opponent in the last fifth (as `insitu arena`).")
    @json_option
    def command(minutes: float, games: int, threads: int, speed_seconds: float, seed: int,
                population: int | None, finals: int, as_json: bool) -> None:  # fmt: skip
        """Self-play games/min, MCTS simulations/s, and how fast the arena learns the game."""
        import json

        from harness.errors import ConfigError

        if minutes <= 0 or games <= 0 or threads <= 0 or speed_seconds <= 0:
            raise ConfigError("--minutes, --games, --threads and --speed-seconds must be > 0",
                              "pass positive values")  # fmt: skip
        report = run_bench(game, minutes, games, threads, seed, speed_seconds,
                           lambda line: click.echo(f"... {line}", err=True),
                           population, finals)  # fmt: skip
        click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.render())

    return command


tictactoe = _command("tictactoe", 5.0, 100)
connect4 = _command("connect4", 10.0, 20)
