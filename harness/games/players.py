"""Players: something that picks a move in a state (random, alpha-beta, perfect, MCTS)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from harness.games.base import Game, State
from harness.games.solver import AlphaBeta, Solver


class Player:
    """Picks a move for the player to move; `name` shows in tables."""

    name = "player"

    def choose(self, game: Game, state: State, rng: random.Random) -> int:
        """Return a legal move."""
        raise NotImplementedError

    def choose_many(self, game: Game, states: Sequence[State], rng: random.Random) -> list[int]:
        """Return a legal move in each state (searchers override this to batch their work)."""
        return [self.choose(game, s, rng) for s in states]


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


def random_opening(game: Game, moves: int, rng: random.Random) -> State:
    """Return the position after up to `moves` random legal moves (fewer if the game ends)."""
    state = game.initial()
    for _ in range(moves):
        if state.over:
            break
        state = game.apply(state, rng.choice(game.legal(state)))
    return state


def play_many(
    game: Game,
    pairings: Sequence[tuple[Player, Player]],
    rng: random.Random,
    opening: int = 0,
    starts: Sequence[State] | None = None,
) -> list[float]:
    """Play many games side by side; return each game's result for its first player.

    1. Start each game from `starts` (positions with player 1 to move for the first player of
       the pairing), or make `opening` random legal moves in every game.
    2. Each round, every player chooses its moves in all the games where it is to move in one
       `choose_many` call (MCTS players search those positions together), until all end.
    """
    states = list(starts) if starts is not None else [
        random_opening(game, opening, rng) for _ in pairings]
    while live := [i for i, s in enumerate(states) if not s.over]:
        movers: dict[int, tuple[Player, list[int]]] = {}
        for i in live:
            who = pairings[i][0] if states[i].player == 1 else pairings[i][1]
            movers.setdefault(id(who), (who, []))[1].append(i)
        for who, games in movers.values():
            moves = who.choose_many(game, [states[i] for i in games], rng)
            for i, a in zip(games, moves, strict=True):
                states[i] = game.apply(states[i], a)
    return [game.result(s, 1) for s in states]


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
