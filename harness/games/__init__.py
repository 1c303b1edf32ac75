"""Board games for scored tasks: rules, solvers, MCTS, self-play, tournaments and the arena.

Games register by name in `GAMES`; `get_game(name)` returns a fresh instance.
"""

from __future__ import annotations

from harness.errors import ConfigError
from harness.games.base import Game, IllegalMove, State
from harness.games.connect4 import ConnectFour
from harness.games.tictactoe import TicTacToe

GAMES: dict[str, type[Game]] = {"tictactoe": TicTacToe, "connect4": ConnectFour}


def get_game(name: str) -> Game:
    """Return the game called `name`, or raise ConfigError listing the games."""
    if name not in GAMES:
        raise ConfigError(f"unknown game '{name}'", f"use one of: {', '.join(GAMES)}")
    return GAMES[name]()


__all__ = ["GAMES", "ConnectFour", "Game", "IllegalMove", "State", "TicTacToe", "get_game"]
