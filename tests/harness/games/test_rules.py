"""Game rules: tic-tac-toe against a brute-force checker, connect-four wins, draws and errors."""

from __future__ import annotations

import random

import pytest

from harness.errors import ConfigError
from harness.games import ConnectFour, IllegalMove, State, TicTacToe, get_game
from harness.games.solver import AlphaBeta, Solver
from harness.vocab import BOS, SEP


def brute_winner(cells: tuple[int, ...]) -> int | None:
    """Return the winner of a 3x3 board by checking its 8 lines by hand (0 draw, None open)."""
    lines = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8),
             (2, 4, 6)]  # fmt: skip
    for a, b, c in lines:
        if cells[a] and cells[a] == cells[b] == cells[c]:
            return cells[a]
    return 0 if all(cells) else None


def brute_value(cells: list[int], player: int) -> int:
    """Return the minimax value for `player` to move on a raw board (no memo, no game code)."""
    w = brute_winner(tuple(cells))
    if w is not None:
        return 0 if w == 0 else (1 if w == player else -1)
    best = -2
    for i in range(9):
        if cells[i] == 0:
            cells[i] = player
            best = max(best, -brute_value(cells, 3 - player))
            cells[i] = 0
    return best


def reachable(game: TicTacToe) -> set[State]:
    """Return every state reachable from the empty board by legal moves."""
    seen, todo = set(), [game.initial()]
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        todo.extend(game.apply(s, a) for a in game.legal(s))
    return seen


def test_every_tictactoe_terminal_state_matches_brute_force() -> None:
    """Every reachable tic-tac-toe state's outcome equals a hand-written line check."""
    game = TicTacToe()
    states = reachable(game)
    assert len(states) == 5478  # the known number of legal positions
    terminal = [s for s in states if s.over]
    assert len(terminal) == 958  # the known number of terminal positions
    for s in states:
        assert s.winner == brute_winner(s.cells)
        assert (game.legal(s) == []) == s.over


def test_solver_matches_brute_force_minimax() -> None:
    """The memoised solver agrees with plain minimax on the root and on every state of 3+ moves."""
    game = TicTacToe()
    solver = Solver(game)
    assert solver.value(game.initial()) == 0 == brute_value([0] * 9, 1)
    for s in reachable(game):
        if s.moves >= 3:
            assert solver.value(s) == brute_value(list(s.cells), s.player), s


def test_tictactoe_illegal_moves_raise_clear_errors() -> None:
    """Occupied cells, out-of-range moves and moves after the end raise IllegalMove with hints."""
    game = TicTacToe()
    s = game.apply(game.initial(), 4)
    with pytest.raises(IllegalMove, match="not legal") as err:
        game.apply(s, 4)
    assert "legal moves" in (err.value.hint or "")
    with pytest.raises(IllegalMove):
        game.apply(s, 9)
    done = s
    for a in (0, 2, 1, 6):  # O 0, X 2, O 1, X 6: X wins on the diagonal 2-4-6
        done = game.apply(done, a)
    assert done.winner == 1
    with pytest.raises(IllegalMove, match="over"):
        game.apply(done, 8)
    with pytest.raises(IllegalMove, match="not a legal move"):
        game.parse_move("x", s)
    assert game.parse_move(" 1 ", s) == 0


def play(game: ConnectFour, columns: list[int]) -> State:
    """Return the state after dropping discs in the given columns (0-based)."""
    s = game.initial()
    for c in columns:
        s = game.apply(s, c)
    return s


@pytest.mark.parametrize(
    ("moves", "direction"),
    [
        ([0, 0, 1, 1, 2, 2, 3], "horizontal"),
        ([0, 1, 0, 1, 0, 1, 0], "vertical"),
        ([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], "diagonal up-right"),
        ([6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3], "diagonal up-left"),
    ],
)
def test_connect4_wins_in_all_directions(moves: list[int], direction: str) -> None:
    """Four in a row wins in each of the 4 directions, and not a move earlier."""
    game = ConnectFour()
    before = play(game, moves[:-1])
    assert before.winner is None, direction
    after = game.apply(before, moves[-1])
    assert after.winner == 1, direction
    assert game.legal(after) == []


def test_connect4_full_board_is_a_draw() -> None:
    """Filling the board in a pattern with no four in a row ends in a draw."""
    game = ConnectFour()
    order = [0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5, 4, 5, 6]
    s = play(game, order)
    order = [6, 1, 0, 1, 0, 1, 0, 3, 2, 3, 2, 3, 2, 5, 4, 5, 4, 5, 4, 6, 6, 6, 6]
    for c in order:
        s = game.apply(s, c)
    assert all(s.cells)
    assert s.winner == 0
    assert game.result(s, 1) == game.result(s, 2) == 0


def test_connect4_illegal_moves_raise_clear_errors() -> None:
    """A full column, a column off the board and a non-number raise IllegalMove saying why."""
    game = ConnectFour()
    s = play(game, [0, 0, 0, 0, 0, 0])
    with pytest.raises(IllegalMove, match="column 1 is full"):
        game.apply(s, 0)
    with pytest.raises(IllegalMove, match="does not exist"):
        game.apply(s, 7)
    with pytest.raises(IllegalMove, match="action number"):
        game.apply(s, "3")  # type: ignore[arg-type]
    with pytest.raises(IllegalMove, match="type one of"):
        game.parse_move("1", s)
    assert game.parse_move("7", s) == 6


def test_encoding_is_from_the_movers_view() -> None:
    """Tokens name the cell and whether it holds the mover's or the opponent's piece."""
    game = TicTacToe()
    s = game.apply(game.initial(), 4)  # X in the centre, O to move
    tokens = game.encode(s)
    assert tokens[0] == BOS and tokens[-1] == SEP and len(tokens) == 11
    assert tokens[1 + 4] == 3 * 4 + 2  # the opponent's mark
    assert tokens[1 + 0] == 0
    t = game.apply(s, 0)  # X to move: the centre is now its own
    assert game.encode(t)[1 + 4] == 3 * 4 + 1


def test_connect4_encoding_marks_the_cells_that_would_win() -> None:
    """Connect-four tokens mark empty cells that complete four, for the mover and the opponent,
    and agree with trying a disc in every empty cell."""
    game = ConnectFour()
    s = play(game, [3, 3, 4, 4, 5])  # X has 3 on the bottom row, O to move
    tokens = game.encode(s)
    assert len(tokens) == 44 and tokens[0] == BOS and tokens[-1] == SEP
    bottom = 5 * 7
    assert tokens[1 + bottom + 2] == 6 * (bottom + 2) + 4  # the opponent's (X's) winning cells
    assert tokens[1 + bottom + 6] == 6 * (bottom + 6) + 4
    assert tokens[1 + bottom + 3] == 6 * (bottom + 3) + 2  # X's disc, seen by O
    rng = random.Random(4)
    for _ in range(100):
        s = game.random_state(rng, 30)
        for i, cell in enumerate(s.cells):
            code = game.encode(s)[1 + i] - 6 * i
            if cell:
                assert code == (1 if cell == s.player else 2)
                continue
            wins = [p for p in (s.player, 3 - s.player) if _completes(s.cells, i, p)]
            assert code == {(): 0, (s.player,): 3, (3 - s.player,): 4}.get(tuple(wins), 5)


def _completes(cells: tuple[int, ...], cell: int, player: int) -> bool:
    """Return whether a disc of `player` at `cell` makes four in a row (ignoring gravity)."""
    filled = list(cells)
    filled[cell] = player
    r, c = divmod(cell, 7)
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        for start in range(-3, 1):
            line = [(r + (start + k) * dr, c + (start + k) * dc) for k in range(4)]
            if all(0 <= y < 6 and 0 <= x < 7 and filled[y * 7 + x] == player for y, x in line):
                return True
    return False


def test_symmetries_keep_values() -> None:
    """Every rotation/reflection of a tic-tac-toe position has the same solver value."""
    game = TicTacToe()
    solver = Solver(game)
    rng = random.Random(3)
    for _ in range(20):
        s = game.random_state(rng, 6)
        values = {solver.value(t) for t, _ in game.symmetries(s, [0.0] * 9)}
        assert len(values) == 1


def test_alphabeta_finds_a_connect4_win_and_block() -> None:
    """Depth-2 alpha-beta takes a win in one and blocks the opponent's four."""
    game = ConnectFour()
    win = play(game, [0, 6, 1, 6, 2, 5])  # X has 0,1,2 on the bottom row
    assert AlphaBeta(game, 2).best_moves(win) == [3]
    block = play(game, [0, 6, 1, 6, 5, 6])  # O threatens column 6; X must block
    assert AlphaBeta(game, 2).best_moves(block) == [6]


def test_unknown_game_names_the_games() -> None:
    """get_game with a bad name lists the known games."""
    assert isinstance(get_game("tictactoe"), TicTacToe)
    with pytest.raises(ConfigError, match="unknown game"):
        get_game("chess")
