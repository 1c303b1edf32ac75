"""Many searches at once: MCTS over a list of positions with one graph call per simulation.

A graph's cost is mostly fixed per call, so evaluating one leaf of each of 64 trees in one
batch costs little more than evaluating one (`GraphEvaluator.batch` evaluates so).
`search_many` runs the PUCT search of `harness.games.mcts` on every root in lockstep, and
`self_play_many` plays many self-play games side by side with it: the same games, samples and
rules as `selfplay.self_play`, at a fraction of the time per game.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from harness.games.base import Game, State
from harness.games.mcts import MCTSConfig, pick
from harness.games.selfplay import Sample, temperature_moves

#: (priors over all actions, value for the player to move) of each of a list of states.
BatchEvaluator = Callable[[Sequence[State]], list[tuple[list[float], float]]]


class Node:
    """A tree node whose state is made only when a simulation first reaches it."""

    __slots__ = ("state", "prior", "visits", "total", "children", "decided")

    def __init__(self, state: State | None, prior: float) -> None:
        self.state = state
        self.prior = prior
        self.visits = 0
        self.total = 0.0  # summed values for the player who moved into this node
        self.children: dict[int, Node] = {}
        self.decided: float | None = None  # +1/-1 when tactics decide it, 0 if not (None: unasked)


def _add_noise(node: Node, config: MCTSConfig, actions: int, rng: random.Random) -> None:
    """Mix Dirichlet noise into the priors of the root's children."""
    alpha = config.dirichlet_alpha or 10.0 / actions
    draws = {a: rng.gammavariate(alpha, 1.0) for a in node.children}
    total = sum(draws.values()) or 1.0
    eps = config.noise_fraction
    for a, child in node.children.items():
        child.prior = (1 - eps) * child.prior + eps * draws[a] / total


def _children(game: Game, node: Node, priors: list[float]) -> None:
    """Give a node one (stateless) child per legal move, priors renormalised over them."""
    legal = game.legal(node.state)  # type: ignore[arg-type]
    mass = sum(priors[a] for a in legal)
    for a in legal:
        node.children[a] = Node(None, priors[a] / mass if mass > 0 else 1.0 / len(legal))


def _descend(game: Game, root: Node, c_puct: float) -> list[Node]:
    """Return the path from the root to a leaf by PUCT, making the states it reaches."""
    node, path = root, [root]
    while node.children:
        scale = c_puct * math.sqrt(max(node.visits, 1))
        best, child, best_score = -1, node, -math.inf
        for a, ch in node.children.items():
            q = ch.total / ch.visits if ch.visits else 0.0
            score = q + scale * ch.prior / (1 + ch.visits)
            if score > best_score:
                best, child, best_score = a, ch, score
        if child.state is None:
            child.state = game.step(node.state, best)  # type: ignore[arg-type]
        node = child
        path.append(node)
    return path


def _decided(game: Game, node: Node) -> float:
    """Return a leaf's value for its mover when one ply of tactics decides it, else 0.

    The mover wins if one of their moves wins at once (+1); failing that, they lose if the
    opponent has two such moves, since one disc or mark blocks only one of them (-1).
    """
    state = node.state
    if node.decided is None and state is not None:
        if game.winning_moves(state, state.player):
            node.decided = 1.0
        elif game.winning_moves(state, 3 - state.player) >= 2:
            node.decided = -1.0
        else:
            node.decided = 0.0
    return node.decided or 0.0


def _backup(path: list[Node], value: float) -> None:
    """Add a leaf's value (for the player to move at it) to every node on its path."""
    for n in reversed(path):
        value = -value  # now for the player who moved into n
        n.total += value
        n.visits += 1


def search_many(
    game: Game,
    states: Sequence[State],
    evaluator: BatchEvaluator,
    config: MCTSConfig,
    rng: random.Random,
    noise: bool = False,
) -> list[list[int]]:
    """Search every state; return each root's visit count of every action (see `search_roots`)."""
    return [visit_counts(game, root) for root in search_roots(game, states, evaluator, config,
                                                                 rng, noise)]  # fmt: skip


def visit_counts(game: Game, root: Node) -> list[int]:
    """Return a searched root's visit count of every action (0 for illegal ones)."""
    visits = [0] * game.actions
    for a, child in root.children.items():
        visits[a] = child.visits
    return visits


def root_value(root: Node) -> float:
    """Return the search's value of a root for its player to move: the visit-weighted mean of
    its children's values (0 for a root with no searched child)."""
    visits = sum(ch.visits for ch in root.children.values())
    return sum(ch.total for ch in root.children.values()) / visits if visits else 0.0


def search_roots(
    game: Game,
    states: Sequence[State],
    evaluator: BatchEvaluator,
    config: MCTSConfig,
    rng: random.Random,
    noise: bool = False,
) -> list[Node]:
    """Search every state; return the searched root nodes.

    1. Expand all roots with one evaluator call (Dirichlet noise on their priors when `noise`).
    2. Each simulation round descends every tree by PUCT to a leaf; finished leaves are scored
       by the rules at once, and so are leaves that one ply of tactics decides (when
       `config.decisive`: the mover has a winning move, or the opponent has two; decisive and
       anti-decisive moves, Teytaud & Teytaud, 2010); the others are evaluated
       together in one call, expanded, and every value is backed up with its sign flipped at
       each ply.
    """
    roots = [Node(s, 1.0) for s in states]
    open_states = [s for s in states if not s.over]
    live = [r for r, s in zip(roots, states, strict=True) if not s.over]
    for root, (priors, _) in zip(live, evaluator(open_states), strict=True):
        _children(game, root, priors)
        root.visits = 1
        if noise:
            _add_noise(root, config, game.actions, rng)
    for _ in range(config.simulations):
        pending: list[list[Node]] = []
        for root in live:
            path = _descend(game, root, config.c_puct)
            node = path[-1]
            if node.state.over:  # type: ignore[union-attr]
                _backup(path, game.result(node.state, node.state.player))  # type: ignore[union-attr,arg-type]
            elif config.decisive and (value := _decided(game, node)):
                _backup(path, value)
            else:
                pending.append(path)
        if not pending:
            continue
        outputs = evaluator([p[-1].state for p in pending])  # type: ignore[misc]
        for path, (priors, value) in zip(pending, outputs, strict=True):
            _children(game, path[-1], priors)
            _backup(path, value)
    return roots


def self_play_many(
    game: Game,
    evaluator: BatchEvaluator,
    config: MCTSConfig,
    rng: random.Random,
    games: int,
    augment: bool = True,
    q_weight: float = 0.0,
) -> list[list[Sample]]:
    """Play `games` self-play games side by side; return each game's training samples.

    1. Search every unfinished game's position together (root noise on), record the visits
       and the search's value of the root.
    2. Pick each move from its visits: temperature 1 for the opening moves, then the most
       visited; games that end leave the batch.
    3. Label every position of a finished game with its value target: the result z for its
       player to move, blended with the root's search value q as (1 - q_weight) z + q_weight q
       (z alone by default; averaging q and z lowers the variance of the target of a young
       network, as measured for connect-four by Prasad et al., "Lessons from AlphaZero", 2019).
    """
    states = [game.initial() for _ in range(games)]
    history: list[list[tuple[State, list[float], float]]] = [[] for _ in range(games)]
    opening = temperature_moves(game)
    while live := [i for i, s in enumerate(states) if not s.over]:
        roots = search_roots(game, [states[i] for i in live], evaluator, config, rng, noise=True)
        for i, root in zip(live, roots, strict=True):
            v = visit_counts(game, root)
            total = sum(v)
            history[i].append((states[i], [c / total for c in v], root_value(root)))
            temperature = 1.0 if states[i].moves < opening else 0.0
            states[i] = game.apply(states[i], pick(v, temperature, rng))
    out: list[list[Sample]] = []
    for final, steps in zip(states, history, strict=True):
        samples: list[Sample] = []
        for s, pi, q in steps:
            z = (1.0 - q_weight) * game.result(final, s.player) + q_weight * q
            pairs = game.symmetries(s, pi) if augment else [(s, pi)]
            samples.extend(Sample(ps, tuple(pp), z) for ps, pp in pairs)
        out.append(samples)
    return out
