"""Self-play: games of a graph against itself with MCTS, and training its heads on them.

Each position of a self-play game becomes a `Sample`: the state's tokens, the search's visit
distribution and the game's final result for the player to move (augmented by the game's
symmetries). Training minimises cross-entropy to the visit distribution plus the squared error
of the value, with AdamW and gradient clipping (the AlphaZero loss; weight decay is AdamW's).
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from harness.games.base import Game, State
from harness.games.mcts import Evaluator, MCTSConfig, pick, search
from harness.games.net import encode_batch, heads
from harness.graph.build import Graph


@dataclass(frozen=True)
class Sample:
    """One training position: the state, the visit distribution and the final result."""

    state: State
    policy: tuple[float, ...]
    value: float


def temperature_moves(game: Game) -> int:
    """Return how many opening moves self-play samples at temperature 1 (then plays greedily)."""
    return max(2, game.rows * game.cols // 4)


def self_play(
    game: Game,
    evaluator: Evaluator,
    config: MCTSConfig,
    rng: random.Random,
    augment: bool = True,
) -> list[Sample]:
    """Play one game of the evaluator against itself; return its training samples.

    1. At each move, search with Dirichlet noise at the root and record the visit distribution.
    2. Pick the move from the visits: temperature 1 for the opening moves, then the most visited.
    3. When the game ends, label every position with the result for its player to move.
    """
    state = game.initial()
    history: list[tuple[State, list[float]]] = []
    opening = temperature_moves(game)
    while not state.over:
        visits = search(game, state, evaluator, config, rng, noise=True)
        total = sum(visits)
        history.append((state, [v / total for v in visits]))
        state = game.apply(state, pick(visits, 1.0 if state.moves < opening else 0.0, rng))
    out: list[Sample] = []
    for s, pi in history:
        z = game.result(state, s.player)
        pairs = game.symmetries(s, pi) if augment else [(s, pi)]
        out.extend(Sample(ps, tuple(pp), z) for ps, pp in pairs)
    return out


class Replay:
    """The most recent self-play samples (a bounded buffer), drawn uniformly for training."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.samples: deque[Sample] = deque(maxlen=capacity)

    def add(self, samples: Sequence[Sample]) -> None:
        """Append samples (the oldest fall out)."""
        self.samples.extend(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def draw(self, n: int, rng: random.Random) -> list[Sample]:
        """Return `n` samples drawn uniformly with replacement."""
        return [self.samples[rng.randrange(len(self.samples))] for _ in range(n)]


def loss(graph: Graph, game: Game, batch: Sequence[Sample]) -> torch.Tensor:
    """Return the AlphaZero loss of a batch: policy cross-entropy plus value squared error."""
    tokens, legal = encode_batch(game, [s.state for s in batch])  # [B, T], [B, A]
    target = torch.tensor([s.policy for s in batch], device=graph.device)  # [B, A]
    z = torch.tensor([s.value for s in batch], device=graph.device)  # [B]
    logits, value = heads(graph, tokens.to(graph.device), legal)  # [B, A], [B]
    policy_loss = -(target * F.log_softmax(logits, -1)).sum(-1).mean()
    return policy_loss + F.mse_loss(value, z)


def train(
    graph: Graph,
    game: Game,
    replay: Replay,
    steps: int,
    rng: random.Random,
    batch: int | None = None,
    lr: float | None = None,
) -> list[float]:
    """Train a graph's policy and value heads on replay samples; return every step's loss.

    1. Draw a batch uniformly from the replay buffer.
    2. Compute the AlphaZero loss, back-propagate, clip the gradient norm, step AdamW with
       the genome's learning rate (cosine-decayed over the steps).
    """
    if not len(replay) or steps <= 0:
        return []
    hp = graph.genome["train"]
    size = int(batch or min(int(hp.get("batch", 32)), 64))
    base_lr = float(lr if lr is not None else hp.get("lr", 3e-3))
    opt = torch.optim.AdamW(graph.parameters(), lr=base_lr,
                            weight_decay=float(hp.get("weight_decay", 0.0)))  # fmt: skip
    clip = float(hp.get("clip", 1.0) or 1.0)
    graph.train()
    losses = []
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = base_lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        value = loss(graph, game, replay.draw(size, rng))
        opt.zero_grad(set_to_none=True)
        value.backward()
        torch.nn.utils.clip_grad_norm_(graph.parameters(), clip)
        opt.step()
        losses.append(float(value.detach()))
    graph.eval()
    return losses
