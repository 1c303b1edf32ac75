"""Online losses: likelihood for wanted replies, KTO-style (or unlikelihood) for unwanted ones."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from harness.graph.build import Graph
from harness.online.batch import collate, mean_logprob, token_logprobs
from harness.online.replay import POSITIVE, Item

#: a wanted reply counts as learned when every one of its tokens has at least this probability
#: (above 0.5, so greedy decoding reproduces it exactly, with a margin for the control input)
LEARNED_P = 0.6
#: KTO's beta on the mean per-token log-ratio to the frozen reference
BETA = 2.0


@torch.no_grad()
def fill_reference(graph: Graph, items: Sequence[Item]) -> None:
    """Compute and cache the frozen reference's mean reply log-prob of items that lack it."""
    todo = [i for i in items if i.kind != POSITIVE and i.ref is None]
    if not todo:
        return
    inputs, targets, mask = collate([i.pair for i in todo], graph.device)
    with graph.frozen_reference():
        ref = mean_logprob(token_logprobs(graph, inputs, targets), mask)  # [B]
    for item, value in zip(todo, ref.tolist(), strict=True):
        item.ref = float(value)


def kto_undesirable(mean: torch.Tensor, ref: torch.Tensor, beta: float = BETA) -> torch.Tensor:
    """Return KTO's loss for unwanted replies, `sigmoid(beta * (logp - logp_ref))`, [B]."""
    # the KL reference point z0 is taken as 0: the loss saturates once the reply is well below
    # the reference, so one bad reply cannot push the model arbitrarily far
    return torch.sigmoid(beta * (mean - ref))  # [B]


def unlikelihood(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Return the mean unlikelihood loss `-log(1 - p)` over each reply's tokens, [B]."""
    p = logp.exp().clamp(max=1.0 - 1e-6)  # [B, T]
    return mean_logprob(-torch.log1p(-p), mask)  # [B]


def batch_loss(
    graph: Graph, items: Sequence[Item], control: torch.Tensor | None, weights: Sequence[float]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the weighted mean loss of a batch and which wanted replies are learned, [B] bool.

    Wanted replies (positive, corrected) add their negative mean log-likelihood; unwanted ones
    the KTO-style loss against the frozen reference (cached on the items by `fill_reference`).
    """
    dev = graph.device
    inputs, targets, mask = collate([i.pair for i in items], dev)
    logp = token_logprobs(graph, inputs, targets, control)  # [B, T]
    mean = mean_logprob(logp, mask)  # [B]
    pos = torch.tensor([i.kind == POSITIVE for i in items], device=dev)  # [B]
    ref = torch.tensor([i.ref or 0.0 for i in items], device=dev)  # [B]
    w = torch.tensor(list(weights), device=dev, dtype=mean.dtype)  # [B]
    per_item = torch.where(pos, -mean, kto_undesirable(mean, ref))  # [B]
    learned = ((logp.detach() > math.log(LEARNED_P)) | ~mask).all(dim=1) | ~pos  # [B]
    return (w * per_item).sum() / len(items), learned
