"""Exact connect-four endgames: a bitboard negamax that returns win, draw or loss.

The search follows Pascal Pons's solver (http://blog.gamesolver.org): the position is two
integers (the mover's discs and all discs, see `connect4.bitboards`), a move is one addition,
wins one move away are found with `threat_bits`, moves the opponent must answer are forced,
moves that would let the opponent win on top are never tried, columns are tried centre
first, and a transposition table keeps the bounds already proven. Values are only the
game-theoretic result for the player to move (+1, 0, -1), so each search is a narrow window.

A full connect-four board is out of reach in Python, but later in a game the tree is small:
with 26 empty cells a position is usually solved in under a second, with 30 in 1-10 s
(100,000-250,000 positions a second; the transposition table kept between calls makes the
next moves of the same game cheap). The search stops after `node_limit` positions and
answers None (the caller then keeps its guess).
"""

from __future__ import annotations

from harness.games.base import State
from harness.games.connect4 import (
    BOARD,
    BOTTOM,
    CENTRE_FIRST,
    COLS,
    HEIGHT,
    ROWS,
    bitboards,
    threat_bits,
)

#: The cells of each column.
COLUMN = [((1 << ROWS) - 1) << (c * HEIGHT) for c in range(COLS)]
CELLS = ROWS * COLS


class OutOfNodes(Exception):
    """The search reached its node limit."""


class EndgameSolver:
    """Solves connect-four positions exactly, keeping a transposition table between calls."""

    def __init__(self, node_limit: int = 2_000_000, table_limit: int = 1_000_000) -> None:
        self.node_limit = node_limit
        self.table_limit = table_limit
        self.table: dict[int, tuple[int, int]] = {}  # position key -> (lower, upper) bound
        self.nodes = 0

    def values(self, state: State) -> dict[int, int] | None:
        """Return the exact result of every legal move for the player to move (+1 win, 0
        draw, -1 loss), or None when the search needs more than `node_limit` positions."""
        if state.over:
            return {}
        ones, twos = bitboards(state.cells)
        mine, mask = (ones, ones | twos) if state.player == 1 else (twos, ones | twos)
        left = CELLS - state.moves
        self.nodes = 0
        if len(self.table) > self.table_limit:
            self.table.clear()
        out = {}
        try:
            for col in CENTRE_FIRST:
                move = (mask + BOTTOM) & BOARD & COLUMN[col]
                if not move:
                    continue
                if threat_bits(mine, mask) & move:
                    out[col] = 1
                    continue
                out[col] = -self._solve(mine ^ mask, mask | move, left - 1)
        except OutOfNodes:
            return None
        return out

    def value(self, state: State) -> int | None:
        """Return the exact result for the player to move, or None past the node limit."""
        if state.over:
            return int(state.winner == state.player) - int(state.winner not in (0, state.player))
        moves = self.values(state)
        return None if moves is None else max(moves.values())

    def _solve(self, mine: int, mask: int, left: int) -> int:
        """Return the result for the mover, narrowing the window until it is decided."""
        if self._negamax(mine, mask, left, 0, 1) >= 1:  # is it a win?
            return 1
        return 0 if self._negamax(mine, mask, left, -1, 0) >= 0 else -1

    def _negamax(self, mine: int, mask: int, left: int, alpha: int, beta: int) -> int:
        """Return the value of the position for the mover within (alpha, beta) (fail-hard).

        1. A draw when the board is full; a win when a move completes four.
        2. A move that the opponent's threat forces is the only move; two such moves lose.
        3. Never play directly under an opponent's winning cell; no move left loses.
        4. Look up the proven bounds of the position; try the columns centre first,
           negating the child's value; store the bound the search proved.
        """
        if left == 0:
            return 0
        possible = (mask + BOTTOM) & BOARD
        if threat_bits(mine, mask) & possible:
            return 1
        self.nodes += 1
        if self.nodes > self.node_limit:
            raise OutOfNodes
        theirs = threat_bits(mine ^ mask, mask)
        forced = possible & theirs
        if forced:
            if forced & (forced - 1):
                return -1
            possible = forced
        possible &= ~(theirs >> 1)
        if not possible:
            return -1
        if left <= 1:
            return 0
        key = mine + mask
        lower, upper = self.table.get(key, (-1, 1))
        alpha, beta = max(alpha, lower), min(beta, upper)
        if alpha >= beta:
            return alpha
        start_alpha, best = alpha, -1
        moves = [possible & COLUMN[col] for col in CENTRE_FIRST if possible & COLUMN[col]]
        if len(moves) > 1:  # the moves that make the most winning cells first (stable sort)
            moves.sort(key=lambda m: -threat_bits(mine | m, mask | m).bit_count())
        for move in moves:
            v = -self._negamax(mine ^ mask, mask | move, left - 1, -beta, -alpha)
            if v > best:
                best = v
            if v >= beta:
                self.table[key] = (v, upper)
                return v
            if v > alpha:
                alpha = v
        if best <= start_alpha:
            self.table[key] = (lower, best)  # fail low: the value is at most best
        else:
            self.table[key] = (best, best)
        return best
