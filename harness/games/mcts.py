"""Monte-Carlo tree search with the PUCT rule of AlphaZero, guided by a policy and a value.

An evaluator maps a state to (priors over the game's actions, value for the player to move);
`UniformEvaluator` (equal priors, value 0) needs no graph, `harness.games.net.GraphEvaluator`
reads a graph's policy and value heads. Finished states are scored by the rules, never by the
evaluator. At the root, self-play mixes Dirichlet noise into the priors and samples the move
from the visit counts with a temperature, as in the AlphaZero paper.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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


class Node:
    """A tree node: the prior of the move into it, visits and the summed value for its mover."""

    __slots__ = ("state", "prior", "visits", "total", "children")

    def __init__(self, state: State, prior: float) -> None:
        self.state = state
        self.prior = prior
        self.visits = 0
        self.total = 0.0  # summed values for the player who moved into this node
        self.children: dict[int, Node] = {}


def _expand(game: Game, node: Node, evaluator: Evaluator) -> float:
    """Create the children of a node from the evaluator; return its value for the mover at it."""
    if node.state.over:
        return game.result(node.state, node.state.player)
    priors, value = evaluator(node.state)
    legal = game.legal(node.state)
    mass = sum(priors[a] for a in legal)
    for a in legal:
        p = priors[a] / mass if mass > 0 else 1.0 / len(legal)
        node.children[a] = Node(game.apply(node.state, a), p)
    return value


def _add_noise(node: Node | Any, config: MCTSConfig, actions: int, rng: random.Random) -> None:
    """Mix Dirichlet noise into the priors of the root's children."""
    alpha = config.dirichlet_alpha or 10.0 / actions
    draws = {a: rng.gammavariate(alpha, 1.0) for a in node.children}
    total = sum(draws.values()) or 1.0
    eps = config.noise_fraction
    for a, child in node.children.items():
        child.prior = (1 - eps) * child.prior + eps * draws[a] / total


def _select(node: Node, c_puct: float) -> tuple[int, Node]:
    """Return the child maximising Q + c * P * sqrt(N) / (1 + n)."""
    scale = c_puct * math.sqrt(max(node.visits, 1))
    best, best_score = -1, -math.inf
    for a, child in node.children.items():
        q = child.total / child.visits if child.visits else 0.0
        score = q + scale * child.prior / (1 + child.visits)
        if score > best_score:
            best, best_score = a, score
    return best, node.children[best]


def search(
    game: Game,
    state: State,
    evaluator: Evaluator,
    config: MCTSConfig,
    rng: random.Random,
    noise: bool = False,
) -> list[int]:
    """Run the simulations from `state`; return the root's visit count of every action.

    1. Expand the root (with Dirichlet noise on its priors when `noise`).
    2. Each simulation descends by PUCT to a leaf, expands it (or scores it by the rules when
       the game is over) and backs the value up, flipping its sign at every ply.
    """
    if state.over:
        return [0] * game.actions
    root = Node(state, 1.0)
    _expand(game, root, evaluator)
    root.visits = 1
    if noise:
        _add_noise(root, config, game.actions, rng)
    for _ in range(config.simulations):
        node, path = root, [root]
        while node.children:
            _, node = _select(node, config.c_puct)
            path.append(node)
        value = _expand(game, node, evaluator)  # for the player to move at the leaf
        for n in reversed(path):
            value = -value  # now for the player who moved into n
            n.total += value
            n.visits += 1
    visits = [0] * game.actions
    for a, child in root.children.items():
        visits[a] = child.visits
    return visits


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

    def choose(self, game: Game, state: State, rng: random.Random) -> int:
        """Return the most visited move after the search."""
        return pick(search(game, state, self.evaluator, self.config, rng), 0.0, rng)

    def choose_many(self, game: Game, states: Sequence[State], rng: random.Random) -> list[int]:
        """Return the most visited move of each state, searched together when the evaluator
        has a `batch` method (one graph call per simulation for all of them)."""
        batch = getattr(self.evaluator, "batch", None)
        if batch is None or len(states) < 2:
            return [self.choose(game, s, rng) for s in states]
        from harness.games.batched import search_many

        visits = search_many(game, states, batch, self.config, rng)
        return [pick(v, 0.0, rng) for v in visits]
