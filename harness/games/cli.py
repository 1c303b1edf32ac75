"""`insitu arena` (evolve and self-play a population at a game) and `insitu play` (the champion)."""

from __future__ import annotations

import json
import random
import sys
from typing import Any

import click

from harness.cliutil import json_option, open_profile, profile_option, table
from harness.errors import ConfigError, InsituError
from harness.games import GAMES

#: The default length of an arena session.
DEFAULT_MINUTES = 5.0


def _game_name(prof: Any, game: str | None) -> str:
    """Return the game to use: --game, else the profile's first game task's game."""
    if game:
        return game
    for task in prof.config.tasks:
        if task.kind == "game" and task.game:
            return str(task.game)
    raise ConfigError(f"profile '{prof.name}' has no game task, and no --game was given",
                      f"pass --game {'|'.join(GAMES)}")  # fmt: skip


def _fmt(value: float | None, pct: bool = True) -> str:
    """Return a score as a percentage (or '-')."""
    return "-" if value is None else (f"{100 * value:.0f}%" if pct else f"{value:.3f}")


def arena_table(rows: list[dict[str, Any]], opponents: list[str]) -> str:
    """Return the live arena table: Elo, tournament record and scores vs the fixed opponents."""
    out = []
    finals = any("final_fitness" in r["metrics"] for r in rows)
    for r in rows:
        m = r["metrics"]
        vs = [f"{_fmt(m.get(f'vs_{o}'))} ({int(m.get(f'vs_{o}_losses', 0))}L)" for o in opponents]
        final = [_fmt(m.get("final_fitness"), pct=False)] if finals else []
        out.append([
            str(r["rank"]), r["id"][-8:], "*" if r["champion"] else "", r["family"],
            f"{r['params']:,}", f"{r['elo']:.0f}", f"{r['wins']}-{r['draws']}-{r['losses']}",
            *vs, _fmt(r["fitness"], pct=False), *final, r["operator"][:24],
        ])  # fmt: skip
    header = ["#", "id", "champ", "family", "params", "elo", "w-d-l", *[f"vs {o}" for o in
              opponents], "fitness", *(["finals"] if finals else []), "made by"]  # fmt: skip
    return table(out, header)


@click.command()
@profile_option
@click.option("--game", type=click.Choice(sorted(GAMES)), help="Game (default: the profile's).")
@click.option("--minutes", type=float, help=f"Wall-time budget (default {DEFAULT_MINUTES:g}).")
@click.option("--generations", type=int, help="Generations instead of a time budget.")
@click.option("--population", type=int, help="Population size (default 4).")
@click.option("--seed", type=int, help="Seed of the run (default: the profile's).")
@click.option(
    "--verify",
    "verify",
    type=int,
    default=0,
    show_default=True,
    help="Afterwards, play the champion N games as each side vs the strongest "
    "fixed opponent and report its losses.",
)
@click.option("--selfplay-games", type=int, help="Self-play games per generation.")
@click.option("--simulations", type=int, help="MCTS simulations per move when scored and played.")
@click.option("--eval-games", type=int, help="Games per fixed opponent when scored.")
@click.option("--stem", type=click.Choice(["text", "board"]), default=None,
              help="How seeds read the board: token embeddings (text, the default) or 3x3 "
              "convolutions over it (board).")
@click.option("--finals", "final_games", type=click.IntRange(0), default=None,
              help="Keep the last fifth of a timed run for finals: every member plays N games "
              "per fixed opponent with the endgame solver (connect-four: 400 simulations a "
              "move, tic-tac-toe: an eighth of --simulations) and the best is champion "
              "(default 0: no finals).")
@click.option("--workers", type=click.IntRange(0), default=2, show_default=True,
              help="Worker processes for self-play, training and scoring (0: none).")
@json_option
def arena(
    profile: str, game: str | None, minutes: float | None, generations: int | None,
    population: int | None, seed: int | None, verify: int, selfplay_games: int | None,
    simulations: int | None, eval_games: int | None, stem: str | None,
    final_games: int | None, workers: int, as_json: bool,
) -> None:  # fmt: skip
    """Evolve and self-play a population at a game, with a live table of Elo and results."""
    import torch

    from harness.games import get_game
    from harness.games.arena import Arena, ArenaSettings
    from harness.games.persist import ArenaStore

    if minutes is not None and generations is not None:
        raise ConfigError("--minutes and --generations both given", "pass only one of them")
    if minutes is not None and minutes <= 0 or generations is not None and generations <= 0:
        raise ConfigError("the arena needs a budget above 0", "pass --minutes or --generations > 0")
    if minutes is None and generations is None:
        minutes = DEFAULT_MINUTES
    torch.set_num_threads(1)
    live = sys.stdout.isatty() and not as_json
    with open_profile(profile) as prof:
        g = get_game(_game_name(prof, game))
        evo = prof.config.evolution
        settings = ArenaSettings.for_game(
            g, population=population,
            seed=evo.seed if seed is None else seed,
            families=tuple(f for f in prof.config.model.families) or None,
            max_params=prof.config.model.max_params, selfplay_games=selfplay_games,
            play_simulations=simulations, score_simulations=simulations,
            eval_games=eval_games, workers=workers, stem=stem, final_games=final_games,
        )  # fmt: skip
        names: list[str] = []

        def report(generation: int, rows: list[dict[str, Any]]) -> None:
            """Print the table after each generation (redrawn in place on a terminal)."""
            if as_json:
                return
            if live:
                click.echo("\x1b[H\x1b[2J", nl=False)
            finals = any("final_fitness" in r["metrics"] for r in rows)
            click.echo(f"{g.name} arena, generation {generation}{' (finals)' if finals else ''}")
            click.echo(arena_table(rows, names))

        runner = Arena(g, settings, ArenaStore(prof), report)
        names.extend(o.name for o in runner.opponents)
        result = runner.run(seconds=None if minutes is None else minutes * 60,
                            generations=generations)  # fmt: skip
        out = result.to_dict()
        if verify > 0 and runner.champion is not None:
            out["verify"] = _verify(runner, verify)
    if as_json:
        click.echo(json.dumps(out, indent=2, default=str))
        return
    click.echo(f"run {result.run_id}: {result.generations} generations in {result.seconds:.0f} s"
               f" ({result.stopped}); champion {result.champion}")  # fmt: skip
    if "verify" in out:
        v = out["verify"]
        click.echo(f"champion vs {v['opponent']}: as first {v['first']}, as second "
                   f"{v['second']} (wins-draws-losses); losses {v['losses']}")  # fmt: skip


def _verify(runner: Any, games: int) -> dict[str, Any]:
    """Play the champion `games` games as each side vs the last fixed opponent; return records."""
    from harness.games.players import play_game

    opponent = runner.opponents[-1]
    player = runner.player(runner.champion)
    rng = random.Random(12345)
    out: dict[str, Any] = {"opponent": opponent.name, "games_per_side": games}
    losses = 0
    for side in ("first", "second"):
        rec = [0, 0, 0]
        for _ in range(games):
            if side == "first":
                r, _ = play_game(runner.game, player, opponent, rng)
            else:
                r, _ = play_game(runner.game, opponent, player, rng)
                r = -r
            rec[0 if r > 0 else (2 if r < 0 else 1)] += 1
        losses += rec[2]
        out[side] = "-".join(map(str, rec))
    out["losses"] = losses
    return out


@click.command()
@profile_option
@click.option("--game", type=click.Choice(sorted(GAMES)), help="Game (default: the profile's).")
@click.option("--second", is_flag=True, help="Let the champion move first.")
@click.option(
    "--simulations",
    type=int,
    help="The champion's MCTS simulations per move (default: the arena's, 400 for tic-tac-toe).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of tie-breaks.")
def play(profile: str, game: str | None, second: bool, simulations: int | None, seed: int) -> None:
    """Play against the profile's champion in the terminal (moves read from stdin; q quits)."""
    from pathlib import Path

    import torch

    from harness.games import get_game
    from harness.games.arena import ArenaSettings
    from harness.games.mcts import MCTSPlayer
    from harness.games.net import GraphEvaluator
    from harness.games.persist import champion_row, check_encoding
    from harness.graph import checkpoint

    torch.set_num_threads(1)
    with open_profile(profile) as prof:
        g = get_game(_game_name(prof, game))
        row = champion_row(prof.store, g.name, prof.name)
        check_encoding(Path(prof.path) / row["checkpoint"], g, prof.name)
        graph = checkpoint.load(Path(prof.path) / row["checkpoint"], device="cpu")
    settings = ArenaSettings.for_game(g)
    bot = MCTSPlayer(GraphEvaluator(graph, g), settings.play_config(simulations))
    rng = random.Random(seed)
    me = 2 if second else 1
    state = g.initial()
    click.echo(f"{g.name} vs the champion {row['individual_id'][-8:]} (Elo {row['elo']:.0f}); "
               f"you are {g.symbols[me]}. Type a move number, or q to quit.")  # fmt: skip
    while not state.over:
        if state.player != me:
            move = bot.choose(g, state, rng)
            click.echo(f"champion plays {g.move_name(move)}")
            state = g.apply(state, move)
            continue
        click.echo(g.render(state))
        click.echo(f"your move ({', '.join(g.move_name(a) for a in g.legal(state))}): ", nl=False)
        line = sys.stdin.readline()
        if not line or line.strip().lower() in ("q", "quit", "exit"):
            click.echo("\ngame abandoned")
            return
        try:
            state = g.apply(state, g.parse_move(line, state))
        except InsituError as exc:
            click.echo(f"error: {exc.message}")
            if exc.hint:
                click.echo(f"  -> {exc.hint}")
    click.echo(g.render(state))
    result = g.result(state, me)
    click.echo({1.0: "you win!", 0.0: "a draw.", -1.0: "the champion wins."}[result])
