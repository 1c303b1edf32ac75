"""Tic-tac-toe on a 3x3 board: actions 0-8 are the cells, row-major; typed as 1-9."""

from __future__ import annotations

from typing import ClassVar

from harness.games.base import Game, State, lines_through

LINES = lines_through(3, 3, 3)
#: The 8 symmetries of the square as cell permutations: new[i] = old[perm[i]].
_ROT = (6, 3, 0, 7, 4, 1, 8, 5, 2)
_FLIP = (2, 1, 0, 5, 4, 3, 8, 7, 6)


def _compose(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Return the permutation applying `b` then `a` (new[i] = old[b[a[i]]])."""
    return tuple(b[a[i]] for i in range(9))


def _symmetries() -> list[tuple[int, ...]]:
    """Return the 8 rotations and reflections of the board."""
    perms = [tuple(range(9))]
    for _ in range(3):
        perms.append(_compose(_ROT, perms[-1]))
    return perms + [_compose(_FLIP, p) for p in perms]


SYMMETRIES = _symmetries()


class TicTacToe(Game):
    """Three in a row wins; a full board without one is a draw."""

    name: ClassVar[str] = "tictactoe"
    rows: ClassVar[int] = 3
    cols: ClassVar[int] = 3
    actions: ClassVar[int] = 9

    def legal(self, state: State) -> list[int]:
        """Return the empty cells (none once the game is over)."""
        if state.over:
            return []
        return [i for i, c in enumerate(state.cells) if c == 0]

    def apply(self, state: State, action: int) -> State:
        """Place the mover's mark on an empty cell and decide the winner."""
        self.check(state, action)
        return self.step(state, action)

    def step(self, state: State, action: int) -> State:
        """Place a mark on a cell known to be empty and decide the winner."""
        cells = list(state.cells)
        cells[action] = state.player
        winner = None
        if any(all(cells[i] == state.player for i in line) for line in LINES if action in line):
            winner = state.player
        elif all(cells):
            winner = 0
        return State(tuple(cells), 3 - state.player, winner, state.moves + 1)

    def heuristic(self, state: State) -> float:
        """Return (own open lines - opponent open lines) / 8 for the player to move."""
        me, score = state.player, 0
        for line in LINES:
            marks = {state.cells[i] for i in line} - {0}
            if marks == {me}:
                score += 1
            elif marks == {3 - me}:
                score -= 1
        return score / 8.0

    def symmetries(self, state: State, policy: list[float]) -> list[tuple[State, list[float]]]:
        """Return the 8 rotated/reflected copies of the state and its policy."""
        out = []
        for p in SYMMETRIES:
            cells = tuple(state.cells[p[i]] for i in range(9))
            out.append((State(cells, state.player, state.winner, state.moves),
                        [policy[p[i]] for i in range(9)]))  # fmt: skip
        return out
