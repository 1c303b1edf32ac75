"""Competitive evaluation: Elo ratings, round-robin tournaments and results vs fixed opponents.

A result is scored 1 for a win, 0.5 for a draw and 0 for a loss. The fitness that evolution
uses is the mean score over the fixed opponents (random, alpha-beta at given depths and, for
tic-tac-toe, the perfect solver), each played the same number of games as either side.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.games.base import Game
from harness.games.players import (
    AlphaBetaPlayer,
    PerfectPlayer,
    Player,
    RandomPlayer,
    play_many,
    random_opening,
)

ELO_START = 1000.0
ELO_K = 24.0


def expected(rating: float, other: float) -> float:
    """Return the expected score of a player rated `rating` against one rated `other`."""
    return 1.0 / (1.0 + 10.0 ** ((other - rating) / 400.0))


def elo_update(a: float, b: float, score_a: float, k: float = ELO_K) -> tuple[float, float]:
    """Return both new ratings after a game that player A scored `score_a` (1, 0.5 or 0) in."""
    delta = k * (score_a - expected(a, b))
    return a + delta, b - delta


@dataclass
class Record:
    """A player's tournament record."""

    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        """Return the number of games played."""
        return self.wins + self.draws + self.losses

    def add(self, score: float) -> None:
        """Count one game scored 1, 0.5 or 0."""
        if score > 0.5:
            self.wins += 1
        elif score < 0.5:
            self.losses += 1
        else:
            self.draws += 1


@dataclass
class Standings:
    """Elo ratings and records by player id."""

    ratings: dict[str, float] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)

    def rating(self, pid: str) -> float:
        """Return a player's rating (the start rating for a newcomer)."""
        return self.ratings.setdefault(pid, ELO_START)

    def record(self, a: str, b: str, score_a: float) -> None:
        """Apply one game between A and B to both ratings and records."""
        self.ratings[a], self.ratings[b] = elo_update(self.rating(a), self.rating(b), score_a)
        self.records.setdefault(a, Record()).add(score_a)
        self.records.setdefault(b, Record()).add(1.0 - score_a)


def round_robin(
    game: Game,
    players: Mapping[str, Player],
    standings: Standings,
    rng: random.Random,
    rounds: int = 1,
    opening: int = 1,
    on_game: Callable[[str, str, float], None] | None = None,
) -> None:
    """Play every pair `rounds` times as each side, updating Elo after every game.

    1. Shuffle the pairings with the seeded RNG (Elo updates depend on the order).
    2. For each pair, play one game with each player first (after `opening` random moves,
       shared by both games so that the sides face the same position); all games are played
       side by side (`play_many`), then rated in the shuffled order.
    """
    pairs = list(itertools.combinations(sorted(players), 2)) * rounds
    rng.shuffle(pairs)
    games, starts = [], []
    for a, b in pairs:
        start = random_opening(game, opening, random.Random(rng.getrandbits(32)))
        for first, second in ((a, b), (b, a)):
            games.append((first, second))
            starts.append(start)
    results = play_many(game, [(players[f], players[s]) for f, s in games], rng, starts=starts)
    for (first, second), result in zip(games, results, strict=True):
        score = (result + 1.0) / 2.0
        standings.record(first, second, score)
        if on_game is not None:
            on_game(first, second, score)


def fixed_opponents(game: Game, depths: Sequence[int] = (2,)) -> list[Player]:
    """Return the fixed opponents: random, alpha-beta at each depth, perfect (tic-tac-toe)."""
    out: list[Player] = [RandomPlayer()]
    out += [AlphaBetaPlayer(game, d) for d in depths]
    if game.name == "tictactoe":
        out.append(PerfectPlayer(game))
    return out


def against(
    game: Game, player: Player, opponent: Player, games: int, rng: random.Random, opening: int = 0
) -> Record:
    """Return the player's record over `games` games, alternating who moves first.

    With `opening` > 0, each pair of games starts from the same position after `opening`
    random moves, once with each player first (varied, colour-balanced games against players
    that are otherwise deterministic); with 0, every game starts from the empty board.
    """
    rec = Record()
    pairings = [(player, opponent) if g % 2 == 0 else (opponent, player) for g in range(games)]
    starts = None
    if opening:
        starts = []
        for g in range(games):
            if g % 2 == 0:
                start = random_opening(game, opening, random.Random(rng.getrandbits(32)))
            starts.append(start)
    for g, result in enumerate(play_many(game, pairings, rng, starts=starts)):
        rec.add((result + 1.0) / 2.0 if g % 2 == 0 else (1.0 - result) / 2.0)
    return rec


def score_against(
    game: Game, player: Player, opponents: Sequence[Player], games: int, rng: random.Random
) -> dict[str, float]:
    """Return per-opponent scores, wins and losses plus `fitness`, the mean score."""
    metrics: dict[str, float] = {}
    scores = []
    pairings = [(player, opp) if g % 2 == 0 else (opp, player)
                for opp in opponents for g in range(games)]  # fmt: skip
    results = play_many(game, pairings, rng)  # every opponent's games side by side
    for k, opp in enumerate(opponents):
        rec = Record()
        for g in range(games):
            result = results[k * games + g]
            rec.add((result + 1.0) / 2.0 if g % 2 == 0 else (1.0 - result) / 2.0)
        score = (rec.wins + 0.5 * rec.draws) / max(rec.games, 1)
        scores.append(score)
        metrics[f"vs_{opp.name}"] = score
        metrics[f"vs_{opp.name}_wins"] = float(rec.wins)
        metrics[f"vs_{opp.name}_losses"] = float(rec.losses)
    metrics["fitness"] = sum(scores) / max(len(scores), 1)
    return metrics
