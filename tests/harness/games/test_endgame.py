"""Connect-four endgame solver: exact against brute force, bounded, and kept to by players."""

from __future__ import annotations

import random

from harness.games import ConnectFour, TicTacToe
from harness.games.base import State
from harness.games.c4endgame import EndgameSolver
from harness.games.mcts import MCTSConfig, MCTSPlayer, UniformEvaluator

#: A game of a champion against alpha-beta depth 2: after these 17 moves (25 empty cells)
#: only column 4 wins for the player to move (O); the champion played column 6 and drew.
MISSED_WIN = "44323465334226546"
#: A game of a 10-minute champion (X, first to move) against alpha-beta depth 2: after these
#: 12 moves (30 empty cells) only column 1 keeps the draw; the champion played column 2 and
#: lost ten moves later. A depth-limited search of 24 plies does not prove those losses.
LOST_AT_30 = "444544555521"


def play(game: ConnectFour, moves: str) -> State:
    """Return the state after moves typed as column numbers 1-7."""
    s = game.initial()
    for ch in moves:
        s = game.apply(s, int(ch) - 1)
    return s


def brute(game: ConnectFour, s: State, memo: dict[State, float]) -> float:
    """Return the exact result for the player to move by plain minimax over every move."""
    if s.over:
        return game.result(s, s.player)
    if s not in memo:
        memo[s] = max(-brute(game, game.apply(s, a), memo) for a in game.legal(s))
    return memo[s]


def random_position(game: ConnectFour, empty: int, rng: random.Random) -> State:
    """Return an unfinished position with `empty` empty cells reached by random moves."""
    while True:
        s = game.initial()
        while not s.over and 42 - s.moves > empty:
            s = game.apply(s, rng.choice(game.legal(s)))
        if not s.over:
            return s


def test_endgame_values_match_brute_force_minimax() -> None:
    """Every legal move's solved result equals plain minimax on 40 positions of 9 empty cells."""
    game, rng, solver = ConnectFour(), random.Random(1), EndgameSolver()
    results = set()
    for _ in range(40):
        s = random_position(game, 9, rng)
        memo: dict[State, float] = {}
        expected = {a: int(-brute(game, game.apply(s, a), memo)) for a in game.legal(s)}
        assert solver.values(s) == expected
        assert solver.value(s) == max(expected.values())
        results |= set(expected.values())
    assert results == {-1, 0, 1}  # wins, draws and losses were all checked


def test_solve_answers_only_small_endgames_and_respects_its_node_limit() -> None:
    """`solve` is None early in the game and past the node limit; finished games have none."""
    game = ConnectFour()
    assert game.solve(game.initial()) is None
    assert game.solve(play(game, "44454455552")) is None  # 31 empty: past its reach
    s = play(game, MISSED_WIN)
    values = game.solve(s)
    assert values is not None and values[3] == 1
    assert [a for a, v in values.items() if v == 1] == [3]
    assert EndgameSolver(node_limit=10).values(s) is None
    assert TicTacToe().solve(TicTacToe().initial()) is None


def test_a_player_with_the_endgame_solver_plays_the_only_winning_move() -> None:
    """With `endgame`, an unguided MCTS player takes the one winning column; without, the
    same search plays a move that does not win."""
    game = ConnectFour()
    s = play(game, MISSED_WIN)
    solved = MCTSPlayer(UniformEvaluator(game), MCTSConfig(simulations=50, endgame=True))
    plain = MCTSPlayer(UniformEvaluator(game), MCTSConfig(simulations=50))
    assert solved.choose(game, s, random.Random(0)) == 3
    assert solved.choose_many(game, [s, s], random.Random(0)) == [3, 3]
    assert game.solve(s)[plain.choose(game, s, random.Random(0))] < 1  # type: ignore[index]


def test_the_solver_reaches_30_empty_cells_and_keeps_the_player_off_a_losing_move() -> None:
    """At 30 empty cells the solver proves that only column 1 holds (the others lose to a
    bottom-row threat), and a player with it plays column 1 where the plain search does not."""
    game = ConnectFour()
    s = play(game, LOST_AT_30)
    assert game.solve(s) == {0: 0, 1: -1, 2: -1, 3: -1, 4: -1, 5: -1, 6: -1}
    solved = MCTSPlayer(UniformEvaluator(game), MCTSConfig(simulations=50, endgame=True))
    assert solved.choose(game, s, random.Random(0)) == 0


def test_in_a_drawn_endgame_the_player_sets_the_most_traps() -> None:
    """Among drawing moves the player picks one that leaves the opponent the most losing
    replies (counted here by brute force), so a fallible opponent gets chances to go wrong."""
    game, rng = ConnectFour(), random.Random(7)
    player = MCTSPlayer(UniformEvaluator(game), MCTSConfig(simulations=20, endgame=True))
    checked = 0
    while checked < 3:
        s = random_position(game, 10, rng)
        memo: dict[State, float] = {}
        value = {a: -brute(game, game.apply(s, a), memo) for a in game.legal(s)}
        draws = [a for a, v in value.items() if v == 0]
        if max(value.values()) != 0 or len(draws) < 2:
            continue
        traps = {}
        for a in draws:
            after = game.apply(s, a)
            traps[a] = sum(-brute(game, game.apply(after, r), memo) < 0 for r in game.legal(after))
        if len(set(traps.values())) < 2:
            continue
        assert traps[player.choose(game, s, random.Random(0))] == max(traps.values())
        checked += 1
