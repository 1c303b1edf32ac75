"""Players: something that picks a move in a state (random, alpha-beta, perfect, MCTS)."""

from __future__ import annotations

import random

from harness.games.base import Game, State
from harness.games.solver import AlphaBeta, Solver


class Player:
    """Picks a move for the player to move; `name` shows in tables."""

    name = "player"

    def choose(self, game: Game, state: State, rng: random.Random) -> int:
        """Return a legal move."""
        raise NotImplementedError


class RandomPlayer(Player):
    """Uniformly random legal moves."""

    name = "random"

    def choose(self, game: Game, state: State, rng: random.Random) -> int:
        """Return a random legal move."""
        return rng.choice(game.legal(state))


class AlphaBetaPlayer(Player):
    """Alpha-beta search of a fixed depth; random among equally good moves."""

    def __init__(self, game: Game, depth: int) -> None:
        self.search = AlphaBeta(game, depth, game.search_order)
        self.name = f"alphabeta{depth}"

    def choose(self, game: Game, state: State, rng: random.Random) -> int:
        """Return one of the best moves at the search depth."""
        return rng.choice(self.search.best_moves(state))


class PerfectPlayer(Player):
    """Perfect play from the solver (tic-tac-toe); random among the optimal moves."""

    name = "perfect"

    def __init__(self, game: Game, solver: Solver | None = None) -> None:
        self.solver = solver or Solver(game)

    def choose(self, game: Game, state: State, rng: random.Random) -> int:
        """Return one of the moves that keep the best result."""
        return rng.choice(self.solver.best_moves(state))


def play_game(
    game: Game, first: Player, second: Player, rng: random.Random, opening: int = 0
) -> tuple[float, list[int]]:
    """Play one game; return the result for `first` (+1/0/-1) and the moves.

    1. Make `opening` random legal moves (varied starts for deterministic players).
    2. Let the player to move choose until the game is over.
    """
    state = game.initial()
    moves: list[int] = []
    for _ in range(opening):
        if state.over:
            break
        a = rng.choice(game.legal(state))
        state = game.apply(state, a)
        moves.append(a)
    players = {1: first, 2: second}
    while not state.over:
        a = players[state.player].choose(game, state, rng)
        state = game.apply(state, a)
        moves.append(a)
    return game.result(state, 1), moves


def match(
    game: Game, player: Player, opponent: Player, games: int, rng: random.Random
) -> dict[str, int]:
    """Play `games` games alternating sides; return the player's wins, draws and losses."""
    out = {"wins": 0, "draws": 0, "losses": 0}
    for g in range(games):
        if g % 2 == 0:
            r, _ = play_game(game, player, opponent, rng)
        else:
            r, _ = play_game(game, opponent, player, rng)
            r = -r
        out["wins" if r > 0 else "losses" if r < 0 else "draws"] += 1
    return out
