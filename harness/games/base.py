"""The game interface: immutable states, legal moves, outcomes and the token encoding for graphs.

A `State` is a frozen value (board cells, the player to move, the winner once decided), so
states are dictionary keys for solvers and MCTS caches. Players are 1 and 2; cells hold 0
(empty), 1 or 2. `encode` turns a state into byte tokens for the graph's text stem, seen from
the player to move: `BOS`, one token per cell (`3 * cell + {0 empty, 1 own, 2 opponent}`), `SEP`.
A token names its cell, so even per-token graphs (MLPs, mean-pooled) know where each piece is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from harness.errors import DataError
from harness.vocab import BOS, SEP


class IllegalMove(DataError):
    """A move that the rules do not allow in this position (or that cannot be parsed)."""


@dataclass(frozen=True)
class State:
    """One position: cells (row-major), the player to move, the winner (0 draw) once decided."""

    cells: tuple[int, ...]
    player: int = 1
    winner: int | None = None
    moves: int = 0

    @property
    def over(self) -> bool:
        """Return whether the game has ended."""
        return self.winner is not None


class Game:
    """Base of two-player, zero-sum, perfect-information board games on a grid."""

    name: ClassVar[str] = ""
    rows: ClassVar[int] = 0
    cols: ClassVar[int] = 0
    actions: ClassVar[int] = 0  # size of the policy head
    symbols: ClassVar[tuple[str, str, str]] = (".", "X", "O")
    #: Move ordering for search (None: the order of `legal`).
    search_order: ClassVar[tuple[int, ...] | None] = None
    #: Codes per cell in `encode` (cell token = codes * cell + code) and the encoding's name,
    #: stored with arena checkpoints so a graph never reads tokens it was not trained on.
    codes: ClassVar[int] = 3
    encoding: ClassVar[str] = "cells"

    def initial(self) -> State:
        """Return the empty board with player 1 to move."""
        return State(tuple([0] * (self.rows * self.cols)))

    def legal(self, state: State) -> list[int]:
        """Return the legal actions of the player to move (none once the game is over)."""
        raise NotImplementedError

    def apply(self, state: State, action: int) -> State:
        """Return the state after `action`; raise IllegalMove for a move the rules forbid."""
        raise NotImplementedError

    def step(self, state: State, action: int) -> State:
        """Return the state after a move known to be legal (search's fast path; no checks)."""
        return self.apply(state, action)

    def check(self, state: State, action: int) -> None:
        """Raise IllegalMove unless `action` is legal in `state`."""
        if state.over:
            raise IllegalMove(f"the {self.name} game is over; no more moves",
                              "start a new game")  # fmt: skip
        if isinstance(action, bool) or not isinstance(action, int):
            raise IllegalMove(f"a move is an action number, not {action!r}",
                              f"pass an int in 0..{self.actions - 1}")  # fmt: skip
        if action not in self.legal(state):
            raise IllegalMove(
                f"move {self.move_name(action)} is not legal here",
                f"legal moves: {', '.join(self.move_name(a) for a in self.legal(state))}",
            )

    def result(self, state: State, player: int) -> float:
        """Return +1 if `player` won, -1 if they lost, 0 for a draw or an unfinished game."""
        if not state.winner:
            return 0.0
        return 1.0 if state.winner == player else -1.0

    def heuristic(self, state: State) -> float:
        """Return a quick estimate in (-1, 1) of the position for the player to move."""
        return 0.0

    def solve(self, state: State) -> dict[int, int] | None:
        """Return the exact result (+1, 0, -1 for the player to move) of every legal move when
        the game has an endgame solver and the position is within its reach, else None."""
        return None

    def winning_moves(self, state: State, player: int) -> int:
        """Return how many moves would win at once for `player` if it were their turn."""
        turn = State(state.cells, player, state.winner, state.moves)
        return sum(self.step(turn, a).winner == player for a in self.legal(turn))

    def encode(self, state: State) -> list[int]:
        """Return the byte tokens the graph reads, from the view of the player to move."""
        me = state.player
        own = [0 if c == 0 else (1 if c == me else 2) for c in state.cells]
        return [BOS, *(3 * i + v for i, v in enumerate(own)), SEP]

    def symmetries(self, state: State, policy: list[float]) -> list[tuple[State, list[float]]]:
        """Return equivalent (state, policy) pairs (the identity at least) for augmentation."""
        return [(state, list(policy))]

    def move_name(self, action: int) -> str:
        """Return how a person types the action."""
        return str(action + 1)

    def parse_move(self, text: str, state: State) -> int:
        """Return the action a person typed, raising IllegalMove with the legal moves if bad."""
        names = {self.move_name(a): a for a in self.legal(state)}
        key = text.strip().lower()
        if key in names:
            return names[key]
        legal = ", ".join(names) or "none (the game is over)"
        raise IllegalMove(f"{text.strip()!r} is not a legal move", f"type one of: {legal}")

    def render(self, state: State) -> str:
        """Return the board as text, one row per line."""
        lines = []
        for r in range(self.rows):
            row = state.cells[r * self.cols : (r + 1) * self.cols]
            lines.append(" ".join(self.symbols[c] for c in row))
        return "\n".join(lines)

    def random_state(self, rng: random.Random, max_moves: int) -> State:
        """Return a position reached by up to `max_moves` random legal moves (not finished)."""
        state = self.initial()
        for _ in range(rng.randint(0, max_moves)):
            nxt = self.apply(state, rng.choice(self.legal(state)))
            if nxt.over:
                break
            state = nxt
        return state


def lines_through(rows: int, cols: int, length: int) -> list[tuple[int, ...]]:
    """Return every straight line of `length` cells (rows, columns, both diagonals)."""
    out = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                end_r, end_c = r + dr * (length - 1), c + dc * (length - 1)
                if 0 <= end_r < rows and 0 <= end_c < cols:
                    out.append(tuple((r + dr * k) * cols + c + dc * k for k in range(length)))
    return out
