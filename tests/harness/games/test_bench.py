"""`insitu bench tictactoe|connect4` on a tiny budget: table, JSON and bad options."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from harness.bench.cli import bench
from harness.errors import ConfigError


@pytest.mark.slow
def test_tictactoe_bench_json() -> None:
    """A tiny tic-tac-toe bench reports speeds, arena generations and the target line."""
    out = CliRunner().invoke(bench, ["tictactoe", "--minutes", "0.02", "--games", "1",
                                     "--threads", "1", "--speed-seconds", "1", "--population", "2",
                                     "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    report = json.loads(out.output[out.output.index("{") :])
    rows = {c["name"]: c for c in report["contenders"]}
    assert rows["self-play"]["metrics"]["games_per_min"] > 0
    assert rows["mcts (graph per sim)"]["metrics"]["sims_per_s"] > 0
    assert rows["mcts (cached evals)"]["metrics"]["sims_per_s"] > 0
    assert rows["arena"]["metrics"]["generations"] >= 1
    assert report["targets"] and "perfect solver" in report["targets"][0]["description"]
    assert report["settings"]["load_avg_1m"] >= 0


def test_bench_rejects_bad_options() -> None:
    """Non-positive budgets are refused before anything runs."""
    out = CliRunner().invoke(bench, ["connect4", "--minutes", "0"])
    assert isinstance(out.exception, ConfigError)


@pytest.mark.slow
def test_connect4_records_are_the_same_in_worker_processes() -> None:
    """The champion's series against alpha-beta give the same records in 2 processes as in
    this one, with and without the endgame solver, each over the games asked for."""
    from harness.games import ConnectFour
    from harness.games.arena import Arena, ArenaSettings
    from harness.games.bench import records

    game = ConnectFour()
    arena = Arena(game, ArenaSettings.for_game(game, population=1, budget=2000,
                                               play_simulations=4))  # fmt: skip
    arena.seed()
    arena.champion = arena.members[0]
    alone = records(arena, 2, 0)
    assert records(arena, 2, 2) == alone
    for key in ("ab2", "ab4", "ab2_openings", "ab4_openings", "ab2_search", "ab4_search"):
        assert sum(alone[f"record_{key}"]) == 2
        assert alone[f"win_rate_{key}"] == alone[f"record_{key}"][0] / 2
