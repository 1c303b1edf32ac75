"""Graphs that play: game heads for genomes, encoding states to tokens, and the MCTS evaluator.

A game graph has two heads named `policy` (logits over the game's actions) and `value`
(tanh, for the player to move), both mean-pooled over the state's tokens (see base.encode).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch

from harness.games.base import Game, State
from harness.genome import Genome
from harness.graph.build import Graph

POLICY, VALUE = "policy", "value"
#: Most evaluations an evaluator caches (a graph's output per state does not change in play).
CACHE_LIMIT = 200_000


def game_heads(game: Game) -> dict[str, dict[str, Any]]:
    """Return the genome heads of a game: policy over its actions and value, mean-pooled."""
    return {
        POLICY: {"op": "policy", "args": {"actions": game.actions, "pool": "mean"}},
        VALUE: {"op": "value", "args": {"pool": "mean"}},
    }


def seed_genome(game: Game, family: str, budget: int, rng: random.Random) -> Genome:
    """Return a seed genome of a family ("random": a random topology) with the game's heads."""
    from harness.graph.seeds import random_topology, seed

    context = len(game.encode(game.initial()))
    if family == "random":
        return random_topology(budget, rng, heads=game_heads(game), context=context)
    return seed(family, budget, heads=game_heads(game), context=context)


def encode_batch(game: Game, states: Sequence[State]) -> tuple[torch.Tensor, torch.Tensor]:
    """Return tokens [B, T] and legal-move masks [B, A] of states."""
    tokens = torch.tensor([game.encode(s) for s in states], dtype=torch.long)  # [B, T]
    legal = torch.zeros(len(states), game.actions, dtype=torch.bool)  # [B, A]
    for i, s in enumerate(states):
        legal[i, game.legal(s)] = True
    return tokens, legal


def heads(graph: Graph, tokens: torch.Tensor, legal: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Return masked policy logits [B, A] (illegal moves -1e9) and values [B] of a batch."""
    out = graph.forward_tasks(tokens, tasks=[POLICY, VALUE])
    logits = out[POLICY].masked_fill(~legal.to(graph.device), -1e9)  # [B, A]
    return logits, out[VALUE]  # [B, A], [B]


class GraphEvaluator:
    """MCTS evaluator reading a graph's policy and value heads, cached per state."""

    def __init__(self, graph: Graph, game: Game, cache: bool = True) -> None:
        self.graph = graph
        self.game = game
        self.cache: dict[State, tuple[list[float], float]] | None = {} if cache else None
        self.calls = 0

    @torch.no_grad()
    def __call__(self, state: State) -> tuple[list[float], float]:
        """Return (priors over actions, value for the player to move) of a state."""
        if self.cache is not None and state in self.cache:
            return self.cache[state]
        self.calls += 1
        self.graph.eval()
        tokens, legal = encode_batch(self.game, [state])
        logits, value = heads(self.graph, tokens, legal)
        out = (torch.softmax(logits[0], -1).tolist(), float(value[0]))
        if self.cache is not None:
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            self.cache[state] = out
        return out
