"""Arena, game task, tournaments and the `arena` / `play` commands on tiny budgets."""

from __future__ import annotations

import json
import random

import pytest
import torch
from click.testing import CliRunner

from harness.cli import cli
from harness.config import TaskConfig
from harness.errors import ConfigError, EvolutionError
from harness.games import TicTacToe, get_game
from harness.games.arena import Arena, ArenaSettings
from harness.games.net import seed_genome
from harness.games.persist import ArenaStore, champion_row, ratings
from harness.games.players import PerfectPlayer, RandomPlayer
from harness.games.tournament import Standings, against, elo_update, expected, round_robin
from harness.graph.build import Graph
from harness.profile import Profile
from harness.tasks import build_task
from harness.tasks.data import TaskData

TINY = {"population": 3, "families": ("mlp", "gru", "random"), "budget": 2000,
        "simulations": 8, "play_simulations": 12, "selfplay_games": 2, "train_steps": 5,
        "batch": 16, "eval_games": 2}  # fmt: skip


def test_elo_is_zero_sum_and_favours_the_winner() -> None:
    """An Elo update moves both ratings by the same amount, more for an upset."""
    a, b = elo_update(1000.0, 1000.0, 1.0)
    assert a > 1000.0 > b and abs((a - 1000.0) - (1000.0 - b)) < 1e-9
    upset, _ = elo_update(900.0, 1100.0, 1.0)
    assert upset - 900.0 > a - 1000.0
    assert abs(expected(1000.0, 1000.0) - 0.5) < 1e-12


def test_round_robin_ranks_perfect_over_random() -> None:
    """In a round robin, the perfect player ends rated above two random players."""
    game = TicTacToe()
    players = {"perfect": PerfectPlayer(game), "r1": RandomPlayer(), "r2": RandomPlayer()}
    standings = Standings()
    round_robin(game, players, standings, random.Random(0), rounds=4)
    assert standings.rating("perfect") > max(standings.rating("r1"), standings.rating("r2"))
    assert standings.records["perfect"].losses == 0
    assert standings.records["perfect"].games == 16


def test_game_task_scores_a_graph_against_fixed_opponents() -> None:
    """The game task kind builds and scores a graph vs random, alpha-beta 2 and perfect play."""
    task = build_task(TaskConfig("ttt", kind="game", game="tictactoe"), TaskData())
    assert task.kind == "game" and not task.trainable
    task.games, task.simulations = 2, 8  # type: ignore[attr-defined]
    graph = Graph(seed_genome(TicTacToe(), "mlp", 2000, random.Random(0)), device="cpu",
                  generator=torch.Generator().manual_seed(0))  # fmt: skip
    metrics = task.evaluate(graph)
    for name in ("vs_random", "vs_alphabeta2", "vs_perfect", "fitness"):
        assert 0.0 <= metrics[name] <= 1.0
    assert metrics["vs_perfect_wins"] == 0  # nobody beats the perfect player
    with pytest.raises(ConfigError, match="unknown game"):
        build_task(TaskConfig("x", kind="game", game="go"), TaskData())


def test_arena_evolves_stores_and_crowns_a_champion() -> None:
    """Two arena generations store individuals, ratings and one champion with a checkpoint."""
    game = TicTacToe()
    seen: list[int] = []
    with Profile.create("ttt", "tictactoe") as prof:
        arena = Arena(game, ArenaSettings.for_game(game, **TINY), ArenaStore(prof),
                      lambda g, rows: seen.append(g))  # fmt: skip
        result = arena.run(generations=2)
        assert result.generations == 2 and seen == [0, 1]
        assert result.champion is not None
        rows = ratings(prof.store, "tictactoe", arena.run_id)
        assert len(rows) >= 3
        champ = champion_row(prof.store, "tictactoe")
        assert champ["individual_id"] == result.champion
        assert (prof.path / champ["checkpoint"]).is_file()
        statuses = {r["status"] for r in prof.store.query(
            "SELECT status FROM individuals WHERE run_id = ?", [arena.run_id])}  # fmt: skip
        assert "champion" in statuses
        assert arena.births == 4  # three seeds and one child bred after the first generation
        child = prof.store.query("SELECT operator FROM individuals WHERE birth = 3 AND run_id = ?",
                                 [arena.run_id])  # fmt: skip
        assert child and child[0]["operator"] != "seed"


def test_play_without_a_champion_says_what_to_do() -> None:
    """`insitu play` without a champion names the arena command for that very profile."""
    with Profile.create("empty", "tictactoe") as prof:
        with pytest.raises(EvolutionError, match="no tictactoe champion"):
            champion_row(prof.store, "tictactoe")
    out = CliRunner().invoke(cli, ["play", "-p", "empty"])
    assert isinstance(out.exception, EvolutionError)
    assert "`insitu arena -p empty --game tictactoe`" in (out.exception.hint or "")


@pytest.mark.parametrize("stem", ["text", "board"])
def test_arena_and_play_commands(stem: str) -> None:
    """`insitu arena` prints the live table and a champion (whose seeds read the board through
    the chosen stem); `insitu play` plays that champion and handles bad input."""
    Profile.create("ttt", "tictactoe").close()
    runner = CliRunner()
    out = runner.invoke(cli, ["arena", "-p", "ttt", "--generations", "1", "--population", "2",
                              "--selfplay-games", "2", "--simulations", "8", "--eval-games",
                              "2", "--stem", stem])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "elo" in out.output and "vs perfect" in out.output and "champion" in out.output
    with Profile.open("ttt") as prof:
        champ = champion_row(prof.store, "tictactoe")
        row = prof.store.query("SELECT g.json FROM individuals i JOIN genomes g "
                               "ON g.id = i.genome_id WHERE i.id = ?",
                               [champ["individual_id"]])  # fmt: skip
        genome = json.loads(row[0]["json"])
    assert genome["stems"]["text"]["op"] == stem
    if stem == "board":
        assert genome["stems"]["text"]["args"]["rows"] == 3
    moves = "x\n10\n5\n5\n1\n3\n7\n9\n2\n4\n6\n8\n"
    out = runner.invoke(cli, ["play", "-p", "ttt", "--simulations", "8"], input=moves)
    assert out.exit_code == 0, out.output
    assert "error: 'x' is not a legal move" in out.output
    assert "-> type one of: 1, 2, 3, 4, 5, 6, 7, 8, 9" in out.output
    assert "'10' is not a legal move" in out.output
    assert "champion plays" in out.output
    assert out.output.rstrip().endswith(("you win!", "a draw.", "the champion wins.",
                                         "game abandoned"))  # fmt: skip


def test_arena_command_rejects_bad_budgets() -> None:
    """A zero budget or both budgets at once are refused with a next step."""
    Profile.create("ttt", "tictactoe").close()
    out = CliRunner().invoke(cli, ["arena", "-p", "ttt", "--minutes", "0"])
    assert isinstance(out.exception, ConfigError)
    out = CliRunner().invoke(cli, ["arena", "-p", "ttt", "--minutes", "1", "--generations", "1"])
    assert isinstance(out.exception, ConfigError)


def test_play_refuses_a_champion_of_an_older_board_encoding() -> None:
    """A connect-four champion saved before the threat encoding (no encoding tag) is refused by
    `insitu play` with the step to take; the champion the arena saves now plays."""
    from pathlib import Path

    from harness.games import ConnectFour
    from harness.graph import checkpoint

    Profile.create("c4", "tictactoe").close()
    runner = CliRunner()
    out = runner.invoke(cli, ["arena", "-p", "c4", "--game", "connect4", "--generations", "1",
                              "--population", "2", "--selfplay-games", "2", "--simulations", "4",
                              "--eval-games", "2", "--workers", "0"])  # fmt: skip
    assert out.exit_code == 0, out.output
    with Profile.open("c4") as prof:
        path = Path(prof.path) / champion_row(prof.store, "connect4")["checkpoint"]
    assert checkpoint.read_metadata(path)["encoding"] == ConnectFour.encoding
    out = runner.invoke(cli, ["play", "-p", "c4", "--game", "connect4", "--simulations", "4"],
                        input="q\n")  # fmt: skip
    assert out.exit_code == 0 and "game abandoned" in out.output, out.output
    checkpoint.save(checkpoint.load(path, device="cpu"), path)  # as older versions saved it
    out = runner.invoke(cli, ["play", "-p", "c4", "--game", "connect4"], input="q\n")
    assert isinstance(out.exception, EvolutionError)
    assert "'cells' board encoding" in out.exception.message
    assert "insitu arena -p c4 --game connect4" in (out.exception.hint or "")


def test_board_stem_reads_connect_four_threat_codes() -> None:
    """A board-stem seed for connect-four reads its 6 cell codes and evaluates positions."""
    from harness.games import ConnectFour
    from harness.games.net import GraphEvaluator

    game = ConnectFour()
    genome = seed_genome(game, "mlp", 8000, random.Random(0), stem="board")
    assert genome["stems"]["text"]["args"]["codes"] == 6
    evaluator = GraphEvaluator(Graph(genome, device="cpu"), game)
    states = [game.random_state(random.Random(k), 20) for k in range(5)]
    for priors, value in evaluator.batch(states):
        assert abs(sum(priors) - 1.0) < 1e-4 and -1.0 <= value <= 1.0


def test_paired_openings_give_each_colour_the_same_start() -> None:
    """`against` with openings starts each pair of games from one random position, once with
    each player first; without, every game starts from the empty board."""
    from harness.games.players import Player

    class Recorder(Player):
        """A random player that notes the positions in which it moves first."""

        def __init__(self, seen: list[tuple[int, ...]]) -> None:
            self.seen = seen

        def choose(self, game, state, rng):  # type: ignore[no-untyped-def]
            if state.moves <= 2:
                self.seen.append((state.moves, *state.cells))
            return rng.choice(game.legal(state))

    game = TicTacToe()
    seen: list[tuple[int, ...]] = []
    rec = against(game, Recorder(seen), Recorder(seen), 8, random.Random(0), opening=2)
    assert rec.games == 8
    firsts = [s for s in seen if s[0] == 2]
    assert len(firsts) == 8 and all(sum(c > 0 for c in s[1:]) == 2 for s in firsts)
    assert all(firsts.count(s) % 2 == 0 for s in firsts)  # every opening twice
    assert len(set(firsts)) > 1
    seen.clear()
    against(game, Recorder(seen), Recorder(seen), 4, random.Random(0))
    assert [s[0] for s in seen if s[0] == 0] == [0, 0, 0, 0]


def test_champions_play_with_the_endgame_solver_and_tournaments_search_alone() -> None:
    """At play strength a contestant keeps to the endgame solver; tournament players do not."""
    from harness.games import ConnectFour

    game = ConnectFour()
    arena = Arena(game, ArenaSettings.for_game(game, population=1, budget=2000))
    arena.seed()
    member = arena.members[0]
    config = arena.player(member).config  # type: ignore[attr-defined]
    assert config.endgame and config.simulations == arena.settings.play_simulations
    assert not arena.player(member, 50).config.endgame  # type: ignore[attr-defined]
    assert not arena.player(member, solvers=False).config.endgame  # type: ignore[attr-defined]
    off = Arena(game, ArenaSettings.for_game(game, population=1, budget=2000, play_endgame=False))
    off.seed()
    assert not off.player(off.members[0]).config.endgame  # type: ignore[attr-defined]


def test_finals_score_every_member_again_and_crown_the_best() -> None:
    """With final games, a run ends in finals: every member gets final scores, the best final
    fitness is the stored champion, and the callback sees the finals table."""
    game = TicTacToe()
    seen: list[list[dict]] = []
    with Profile.create("ttt", "tictactoe") as prof:
        settings = ArenaSettings.for_game(game, **TINY, final_games=2, final_simulations=6)
        arena = Arena(game, settings, ArenaStore(prof), lambda g, rows: seen.append(rows))
        result = arena.run(generations=1)
        assert len(seen) == 2 and all("final_fitness" in r["metrics"] for r in seen[-1])
        best = max(r["metrics"]["final_fitness"] for r in result.rows)
        (champ,) = [r for r in result.rows if r["champion"]]
        assert champ["metrics"]["final_fitness"] == best and champ["rank"] == 1
        assert champion_row(prof.store, "tictactoe")["individual_id"] == result.champion
        assert "finals" in arena.seconds
    plain = Arena(game, ArenaSettings.for_game(game, **TINY))
    assert not plain.finals()  # tic-tac-toe plays no finals by default
    assert ArenaSettings.for_game(get_game("connect4")).final_games == 0  # opt-in
    assert settings.search_share() == pytest.approx(0.8) and plain.settings.search_share() == 1.0


def test_arena_command_plays_finals_when_asked() -> None:
    """`insitu arena --finals N` ends with the finals table (a `finals` column) after the
    generation's table."""
    Profile.create("ttt", "tictactoe").close()
    args = ["arena", "-p", "ttt", "--generations", "1", "--population", "2", "--selfplay-games",
            "2", "--simulations", "8", "--eval-games", "2", "--finals", "1", "--workers", "0"]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    before, finals = out.output.split("generation 0 (finals)")
    assert "arena, generation 0" in before and " finals " not in before
    assert " finals " in finals.splitlines()[1] and "champion" in finals
