"""Connect-four on 6 rows x 7 columns: actions 0-6 drop a disc in a column; typed as 1-7.

Cells are row-major with row 0 at the top; a disc falls to the lowest empty cell of its column.
Four in a row (horizontal, vertical or diagonal) wins; a full board without one is a draw.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from harness.games.base import Game, IllegalMove, State, lines_through
from harness.vocab import BOS, SEP

if TYPE_CHECKING:
    import torch

ROWS, COLS = 6, 7
LINES = lines_through(ROWS, COLS, 4)
LINES_AT = [[ln for ln in LINES if i in ln] for i in range(ROWS * COLS)]
#: Columns nearest the centre first: the usual move ordering for search.
CENTRE_FIRST = (3, 2, 4, 1, 5, 0, 6)

#: Bitboards (as in Pascal Pons's solver): column c, height h (0 at the bottom) is bit
#: c * HEIGHT + h; the spare bit on top of each column keeps shifted lines from wrapping.
HEIGHT = ROWS + 1
BOTTOM = sum(1 << (c * HEIGHT) for c in range(COLS))
BOARD = BOTTOM * ((1 << ROWS) - 1)
#: One row's cells (a tuple of 7 values) -> the bits of player 1's and player 2's discs in it,
#: for the bottom row; a row r from the top is shifted up by ROWS - 1 - r.
ROW_BITS = {
    row: tuple(sum(1 << (c * HEIGHT) for c in range(COLS) if row[c] == p) for p in (1, 2))
    for row in itertools.product((0, 1, 2), repeat=COLS)
}

#: The bit of each cell (row-major from the top, as in `State.cells`).
CELL_SHIFT = [c * HEIGHT + ROWS - 1 - r for r in range(ROWS) for c in range(COLS)]
CELL_BIT = [1 << shift for shift in CELL_SHIFT]
#: Codes of a cell in the encoding: 0 empty, 1 own, 2 opponent's; an empty cell that would
#: complete four: 3 for the player to move, 4 for the opponent, 5 for both.
CODES = 6


@functools.lru_cache(maxsize=1 << 16)
def bitboards(cells: tuple[int, ...]) -> tuple[int, int]:
    """Return the bitboards of player 1's and player 2's discs (cached: search asks twice)."""
    ones = twos = 0
    for r in range(ROWS):
        a, b = ROW_BITS[cells[r * COLS : (r + 1) * COLS]]
        ones |= a << (ROWS - 1 - r)
        twos |= b << (ROWS - 1 - r)
    return ones, twos


def threat_bits(discs: int, taken: int) -> int:
    """Return the empty cells that would complete four in a row with the player's `discs`."""
    out = (discs << 1) & (discs << 2) & (discs << 3)  # vertical: three below
    for s in (HEIGHT, HEIGHT - 1, HEIGHT + 1):  # horizontal and both diagonals
        pair = (discs << s) & (discs << 2 * s)
        out |= pair & (discs << 3 * s)
        out |= pair & (discs >> s)
        pair = (discs >> s) & (discs >> 2 * s)
        out |= pair & (discs << s)
        out |= pair & (discs >> 3 * s)
    return out & (BOARD ^ taken)


def threats(state: State) -> tuple[int, int]:
    """Return the cells that would complete four for the player to move and for the opponent."""
    discs = bitboards(state.cells)
    taken = discs[0] | discs[1]
    return threat_bits(discs[state.player - 1], taken), threat_bits(discs[2 - state.player], taken)


def _connects(cells: list[int], cell: int, me: int) -> bool:
    """Return whether the disc at `cell` is part of four in a row of player `me`."""
    r, c = divmod(cell, COLS)
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        run = 1
        for sign in (1, -1):
            rr, cc = r + sign * dr, c + sign * dc
            while 0 <= rr < ROWS and 0 <= cc < COLS and cells[rr * COLS + cc] == me:
                run += 1
                rr, cc = rr + sign * dr, cc + sign * dc
        if run >= 4:
            return True
    return False


class ConnectFour(Game):
    """Drop discs; four in a row wins."""

    name: ClassVar[str] = "connect4"
    rows: ClassVar[int] = ROWS
    cols: ClassVar[int] = COLS
    actions: ClassVar[int] = COLS
    search_order: ClassVar[tuple[int, ...] | None] = CENTRE_FIRST
    codes: ClassVar[int] = CODES
    encoding: ClassVar[str] = "cells+threats"
    #: `solve` answers positions with at most this many empty cells (`c4endgame`): from 30,
    #: a champion's games against alpha-beta were decided inside its reach (docs/games.md).
    endgame_empty: ClassVar[int] = 30

    def solve(self, state: State) -> dict[int, int] | None:
        """Return the exact result of every legal move once at most `endgame_empty` cells
        are empty (None earlier, or when the search passes its node limit)."""
        if state.over or ROWS * COLS - state.moves > self.endgame_empty:
            return None
        solver = self.__dict__.get("_endgame")
        if solver is None:
            from harness.games.c4endgame import EndgameSolver

            solver = self.__dict__["_endgame"] = EndgameSolver()
        return solver.values(state)

    def legal(self, state: State) -> list[int]:
        """Return the columns that are not full (none once the game is over)."""
        if state.over:
            return []
        return [c for c in range(COLS) if state.cells[c] == 0]

    def apply(self, state: State, action: int) -> State:
        """Drop the mover's disc in column `action` and decide the winner."""
        if not state.over and isinstance(action, int) and not 0 <= action < COLS:
            raise IllegalMove(f"column {action + 1} does not exist",
                              f"pick a column from 1 to {COLS}")  # fmt: skip
        if not state.over and isinstance(action, int) and state.cells[action] != 0:
            raise IllegalMove(f"column {action + 1} is full",
                              "pick a column whose top cell is empty")  # fmt: skip
        self.check(state, action)
        return self.step(state, action)

    def step(self, state: State, action: int) -> State:
        """Drop a disc in a column known to have room; decide the winner from the new disc."""
        cells = list(state.cells)
        cell = action + (ROWS - 1) * COLS
        while cells[cell]:
            cell -= COLS
        me = state.player
        cells[cell] = me
        winner = None
        if _connects(cells, cell, me):
            winner = me
        elif all(cells[:COLS]):
            winner = 0
        return State(tuple(cells), 3 - me, winner, state.moves + 1)

    def winning_moves(self, state: State, player: int) -> int:
        """Return how many columns would complete four for `player` with their next disc."""
        if state.over:
            return 0
        discs = bitboards(state.cells)
        taken = discs[0] | discs[1]
        playable = (taken + BOTTOM) & BOARD  # the lowest empty cell of every column
        return (threat_bits(discs[player - 1], taken) & playable).bit_count()

    def encode(self, state: State) -> list[int]:
        """Return `BOS`, one token per cell (`6 * cell + code`, see CODES), `SEP`: the cells
        seen from the player to move, with the empty cells where either side would win marked."""
        me = state.player
        mine, theirs = threats(state)
        tokens = [BOS]
        for i, c in enumerate(state.cells):
            if c:
                tokens.append(CODES * i + (1 if c == me else 2))
            else:
                bit = CELL_BIT[i]
                code = (3 if mine & bit else 0) + (4 if theirs & bit else 0)
                tokens.append(CODES * i + (5 if code == 7 else code))
        tokens.append(SEP)
        return tokens

    def encode_many(self, states: Sequence[State]) -> torch.Tensor:
        """Return the tokens of many states [B, N + 2], as `encode` makes them (vectorised)."""
        import torch

        cells = torch.tensor([s.cells for s in states], dtype=torch.long)  # [B, N]
        me = torch.tensor([s.player for s in states], dtype=torch.long)[:, None]  # [B, 1]
        own = torch.where(cells == 0, 0, torch.where(cells == me, 1, 2))  # [B, N]
        marks = torch.tensor([threats(s) for s in states], dtype=torch.long)  # [B, 2]
        shifts = torch.tensor(CELL_SHIFT, dtype=torch.long)  # [N]
        bits = (marks[:, :, None] >> shifts) & 1  # [B, 2, N]
        code = 3 * bits[:, 0] + 4 * bits[:, 1]  # [B, N]
        own = torch.where(own == 0, torch.where(code == 7, 5, code), own)  # [B, N]
        body = CODES * torch.arange(cells.shape[1]) + own  # [B, N]
        ends = torch.tensor([BOS, SEP], dtype=torch.long).expand(len(states), 2)  # [B, 2]
        return torch.cat([ends[:, :1], body, ends[:, 1:]], 1)  # [B, N + 2]

    def heuristic(self, state: State) -> float:
        """Return a window score for the player to move: open threes, twos and centre discs."""
        me, score = state.player, 0.0
        cells = state.cells
        for ln in LINES:
            mine = theirs = 0
            for i in ln:
                v = cells[i]
                if v == me:
                    mine += 1
                elif v:
                    theirs += 1
            if mine and not theirs:
                score += (0.0, 1.0, 4.0, 16.0)[mine - 1] if mine < 4 else 0.0
            elif theirs and not mine:
                score -= (0.0, 1.0, 4.0, 16.0)[theirs - 1] if theirs < 4 else 0.0
        for r in range(ROWS):
            v = cells[r * COLS + 3]
            score += 1.0 if v == me else (-1.0 if v else 0.0)
        return score / (abs(score) + 50.0)

    def symmetries(self, state: State, policy: list[float]) -> list[tuple[State, list[float]]]:
        """Return the state and its left-right mirror."""
        cells = tuple(state.cells[r * COLS + (COLS - 1 - c)] for r in range(ROWS)
                      for c in range(COLS))  # fmt: skip
        mirror = State(cells, state.player, state.winner, state.moves)
        return [(state, list(policy)), (mirror, list(reversed(policy)))]

    def render(self, state: State) -> str:
        """Return the board with the column numbers underneath."""
        return super().render(state) + "\n" + " ".join(str(c + 1) for c in range(COLS))
