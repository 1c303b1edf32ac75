"""Monte-Carlo tree search with the PUCT rule of AlphaZero, guided by a policy and a value.

An evaluator maps a state to (priors over the game's actions, value for the player to move);
`UniformEvaluator` (equal priors, value 0) needs no graph, `harness.games.net.GraphEvaluator`
reads a graph's policy and value heads. Finished states are scored by the rules, never by the
evaluator. At the root, self-play mixes Dirichlet noise into the priors and samples the move
from the visit counts with a temperature, as in the AlphaZero paper.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.games.base import Game, State
from harness.games.players import Player

#: (priors over all actions, value in [-1, 1] for the player to move) of a state.
Evaluator = Callable[[State], tuple[list[float], float]]


@dataclass(frozen=True)
class MCTSConfig:
    """Search settings: simulations per move, exploration, root noise."""

    simulations: int = 100
    c_puct: float = 1.5
    dirichlet_alpha: float | None = None  # None: 10 / number of actions
    noise_fraction: float = 0.25
    decisive: bool = True  # leaves one ply of tactics decides are scored, not guessed
    endgame: bool = False  # players keep to the moves the game's endgame solver proves best


class UniformEvaluator:
    """Equal priors over the legal moves and value 0: plain MCTS with no knowledge."""

    def __init__(self, game: Game) -> None:
        self.game = game

    def __call__(self, state: State) -> tuple[list[float], float]:
        """Return uniform priors over the legal moves and a value of 0."""
        legal = self.game.legal(state)
        priors = [0.0] * self.game.actions
        for a in legal:
            priors[a] = 1.0 / len(legal)
        return priors, 0.0


def search(
    game: Game,
    state: State,
    evaluator: Evaluator,
    config: MCTSConfig,
    rng: random.Random,
    noise: bool = False,
) -> list[int]:
    """Run the simulations from `state`; return the root's visit count of every action.

    The search of `batched.search_roots` on one root (see there for the steps): expand the
    root (Dirichlet noise on its priors when `noise`), then each simulation descends by PUCT
    to a leaf, expands it (or scores it by the rules) and backs the value up.
    """
    from harness.games.batched import search_many

    return search_many(game, [state], lambda states: [evaluator(x) for x in states], config,
                       rng, noise)[0]  # fmt: skip


def pick(visits: list[int], temperature: float, rng: random.Random) -> int:
    """Return an action from visit counts: the most visited (random tie) at temperature 0."""
    if temperature <= 1e-6:
        most = max(visits)
        return rng.choice([a for a, v in enumerate(visits) if v == most])
    weights = [v ** (1.0 / temperature) for v in visits]
    return rng.choices(range(len(visits)), weights=weights)[0]


class MCTSPlayer(Player):
    """Plays the most visited move of a search (no noise): how champions play."""

    def __init__(
        self, evaluator: Evaluator, config: MCTSConfig | None = None, name: str = "mcts"
    ) -> None:
        self.evaluator = evaluator
        self.config = config or MCTSConfig()
        self.name = name

    def proven(self, game: Game, state: State) -> list[int] | None:
        """Return the moves the game's endgame solver proves best (None: not solved, or the
        config leaves the solver out).

        1. Solve every legal move; keep those with the best result.
        2. In a drawn or lost position, keep of those the moves that leave the opponent the
           most replies that would throw their result away (an opponent that does not see to
           the end of the game may play one).
        """
        if not self.config.endgame:
            return None
        values = game.solve(state)
        if not values:
            return None
        best = max(values.values())
        moves = [a for a, v in values.items() if v == best]
        if best < 1 and len(moves) > 1:
            traps = {}
            for a in moves:
                replies = game.solve(game.step(state, a))
                if replies is None:
                    return moves
                traps[a] = sum(v < -best for v in replies.values())
            most = max(traps.values())
            moves = [a for a in moves if traps[a] == most]
        return moves

    def choose(self, game: Game, state: State, rng: random.Random) -> int:
        """Return the most visited move after the search (of the proven best, when solved)."""
        return self.choose_many(game, [state], rng)[0]

    def choose_many(self, game: Game, states: Sequence[State], rng: random.Random) -> list[int]:
        """Return the most visited move of each state, searched together when the evaluator
        has a `batch` method (one graph call per simulation for all of them).

        1. Ask the endgame solver (when `config.endgame`): a lone proven best move is played
           without a search.
        2. Search the other states; where the solver proved several moves best, pick the most
           visited of them (the search's guess at the quickest win or the best swindle).
        """
        proven = [self.proven(game, s) for s in states]
        todo = [i for i, best in enumerate(proven) if best is None or len(best) > 1]
        batch = getattr(self.evaluator, "batch", None)
        if batch is None or len(todo) < 2:
            visits = [search(game, states[i], self.evaluator, self.config, rng) for i in todo]
        else:
            from harness.games.batched import search_many

            visits = search_many(game, [states[i] for i in todo], batch, self.config, rng)
        searched = dict(zip(todo, visits, strict=True))
        out = []
        for i, best in enumerate(proven):
            if i not in searched:
                out.append(best[0])  # type: ignore[index]
                continue
            v = searched[i]
            if best is not None:
                v = [c + 1 if a in best else 0 for a, c in enumerate(v)]
            out.append(pick(v, 0.0, rng))
        return out
