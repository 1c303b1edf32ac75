"""Game-tree search: a perfect solver (memoised negamax) and a depth-limited alpha-beta search.

Values are from the view of the player to move: +1 a win, -1 a loss, 0 a draw. Terminal
values are scaled by how soon they come (a win now beats a win later), so searchers prefer
quick wins and slow losses; `sign` keeps only the game-theoretic result.
"""

from __future__ import annotations

import math

from harness.games.base import Game, State

WIN = 1000.0


def terminal_value(game: Game, state: State, depth_left: int = 0) -> float:
    """Return a finished state's value for the player to move (quicker results weigh more)."""
    return game.result(state, state.player) * (WIN + depth_left)


class Solver:
    """Perfect play by memoised negamax over the whole tree (tic-tac-toe: 5,478 states)."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self.memo: dict[State, float] = {}

    def value(self, state: State) -> float:
        """Return the exact value for the player to move: +1 win, 0 draw, -1 loss."""
        return _sign(self._negamax(state))

    def _negamax(self, state: State) -> float:
        """Return the distance-weighted value of `state` (memoised)."""
        if state in self.memo:
            return self.memo[state]
        if state.over:
            v = terminal_value(self.game, state, self.game.rows * self.game.cols - state.moves)
        else:
            v = max(-self._negamax(self.game.apply(state, a)) for a in self.game.legal(state))
        self.memo[state] = v
        return v

    def move_values(self, state: State) -> dict[int, float]:
        """Return each legal move's exact value for the mover (+1 win, 0 draw, -1 loss)."""
        return {a: -self.value(self.game.apply(state, a)) for a in self.game.legal(state)}

    def best_moves(self, state: State) -> list[int]:
        """Return every move that keeps the best game-theoretic result."""
        values = self.move_values(state)
        best = max(values.values())
        return [a for a, v in values.items() if v == best]


def _sign(v: float) -> float:
    """Return the game-theoretic result of a scaled value."""
    return 0.0 if v == 0 else math.copysign(1.0, v)


class AlphaBeta:
    """Depth-limited negamax with alpha-beta pruning and the game's heuristic at the horizon."""

    def __init__(self, game: Game, depth: int, order: tuple[int, ...] | None = None) -> None:
        self.game = game
        self.depth = depth
        self.order = order
        self.nodes = 0

    def _moves(self, state: State) -> list[int]:
        """Return the legal moves in search order."""
        legal = self.game.legal(state)
        if self.order is None:
            return legal
        return [a for a in self.order if a in legal]

    def search(self, state: State, depth: int, alpha: float, beta: float) -> float:
        """Return the value of `state` for the player to move, searched `depth` plies deep."""
        self.nodes += 1
        if state.over:
            return terminal_value(self.game, state, depth)
        if depth == 0:
            return self.game.heuristic(state)
        best = -math.inf
        for a in self._moves(state):
            v = -self.search(self.game.apply(state, a), depth - 1, -beta, -alpha)
            if v > best:
                best = v
            alpha = max(alpha, v)
            if alpha >= beta:
                break
        return best

    def move_values(self, state: State) -> dict[int, float]:
        """Return each legal move's value for the mover, exact for every best move.

        1. Search the first move with a full window to get a bound.
        2. Search each later move with the window just below the best value so far, so a move
           that ties the best gets its exact value and worse moves are cut early.
        """
        out: dict[int, float] = {}
        best = -math.inf
        for a in self._moves(state):
            child = self.game.apply(state, a)
            lower = best - 1e-6 if best > -math.inf else -math.inf
            v = -self.search(child, self.depth - 1, -math.inf, -lower)
            out[a] = v
            best = max(best, v)
        return out

    def best_moves(self, state: State) -> list[int]:
        """Return the moves of the best value (ties kept, for a random choice among them)."""
        values = self.move_values(state)
        best = max(values.values())
        return [a for a, v in values.items() if v >= best - 1e-9]
