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
from harness.vocab import BOS, SEP

POLICY, VALUE = "policy", "value"
#: Most evaluations an evaluator caches (a graph's output per state does not change in play).
CACHE_LIMIT = 200_000


def game_heads(game: Game) -> dict[str, dict[str, Any]]:
    """Return the genome heads of a game: policy over its actions and value, mean-pooled."""
    return {
        POLICY: {"op": "policy", "args": {"actions": game.actions, "pool": "mean"}},
        VALUE: {"op": "value", "args": {"pool": "mean"}},
    }


def board_stem(game: Game, channels: int = 32, convs: int = 2) -> dict[str, Any]:
    """Return the stem args of a board stem that reads a game's cell tokens as planes."""
    return {"op": "board", "rows": game.rows, "cols": game.cols, "channels": channels,
            "convs": convs, "codes": game.codes}  # fmt: skip


def seed_genome(game: Game, family: str, budget: int, rng: random.Random,
                stem: str = "text") -> Genome:  # fmt: skip
    """Return a seed genome of a family ("random": a random topology) with the game's heads.

    `stem` "board" reads the board through 3x3 convolutions over the game's cell codes
    (harness.graph.stems.board); "text" embeds each cell's token on its own.
    """
    from harness.graph.seeds import random_topology, seed

    context = len(game.encode(game.initial()))
    stem_args = {"text": board_stem(game)} if stem == "board" else None
    if family == "random":
        return random_topology(budget, rng, heads=game_heads(game), context=context,
                               stem_args=stem_args)  # fmt: skip
    return seed(family, budget, heads=game_heads(game), context=context, stem_args=stem_args)


def encode_batch(game: Game, states: Sequence[State]) -> tuple[torch.Tensor, torch.Tensor]:
    """Return tokens [B, T] and legal-move masks [B, A] of states."""
    if type(game).encode is Game.encode:  # the standard encoding, vectorised
        cells = torch.tensor([s.cells for s in states], dtype=torch.long)  # [B, N]
        me = torch.tensor([s.player for s in states], dtype=torch.long)[:, None]  # [B, 1]
        own = torch.where(cells == 0, 0, torch.where(cells == me, 1, 2))  # [B, N]
        body = 3 * torch.arange(cells.shape[1]) + own  # [B, N]
        ends = torch.tensor([BOS, SEP], dtype=torch.long).expand(len(states), 2)  # [B, 2]
        tokens = torch.cat([ends[:, :1], body, ends[:, 1:]], 1)  # [B, N + 2]
    elif (many := getattr(game, "encode_many", None)) is not None:  # a game's own vectoriser
        tokens = many(states)  # [B, T]
    else:
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
    """MCTS evaluator reading a graph's policy and value heads, cached per state; `batch`
    evaluates many states in one graph call (see harness.games.batched)."""

    def __init__(self, graph: Graph, game: Game, cache: bool = True) -> None:
        self.graph = graph
        self.game = game
        self.cache: dict[State, tuple[list[float], float]] | None = {} if cache else None
        self.calls = 0  # graph calls
        self.states = 0  # states the graph evaluated

    def __call__(self, state: State) -> tuple[list[float], float]:
        """Return (priors over actions, value for the player to move) of a state."""
        return self.batch([state])[0]

    @torch.no_grad()
    def batch(self, states: Sequence[State]) -> list[tuple[list[float], float]]:
        """Return (priors, value) of every state, the uncached ones in one graph call."""
        cache = self.cache
        todo = list(dict.fromkeys(s for s in states if cache is None or s not in cache))
        fresh: dict[State, tuple[list[float], float]] = {}
        if todo:
            self.calls += 1
            self.states += len(todo)
            self.graph.eval()
            tokens, legal = encode_batch(self.game, todo)  # [B, T], [B, A]
            logits, value = heads(self.graph, tokens.to(self.graph.device), legal)  # [B, A], [B]
            priors = torch.softmax(logits.float(), -1).tolist()  # B x [A]
            values = value.float().tolist()  # B
            fresh = dict(zip(todo, zip(priors, values, strict=True), strict=True))
        if cache is None:
            return [fresh[s] for s in states]
        out = [fresh[s] if s in fresh else cache[s] for s in states]  # before any clearing
        if len(cache) + len(fresh) > CACHE_LIMIT:
            cache.clear()
        cache.update(fresh)
        return out
