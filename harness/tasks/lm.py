"""Byte-level language-model measures: static and progressive bits per byte, exact recall.

- `stream_bits`: every byte of a stream predicted once by sliding windows of the context length
  that overlap by half, so each scored byte sees at least half a context before it.
- `pair_bits`: the bits of the answer tokens (answer bytes and the closing EOS) of pairs.
- `recall`: the share of pairs whose answer greedy decoding reproduces exactly, through the step
  path. Greedy decoding yields the answer iff at every answer position the most likely next token
  given the true prefix is the true one, so teacher-forced stepping of a batch decides it.
- `progressive_bits`: predict-then-learn, as an online compressor does: each unit (a window's new
  bytes, or a pair's answer) is scored with the current weights, then one gradient step is taken
  on it; independent streams of the data (each reading only its own bytes) advance together,
  one batch per step.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from harness.vocab import PAD

if TYPE_CHECKING:
    from harness.graph.build import Graph

LN2 = math.log(2.0)
#: progressive learning rate as a fraction of the genome's: a fresh AdamW at the training rate
#: disturbs a trained graph more than one pass over new text teaches it (measured on shakespeare)
PROGRESSIVE_LR = 0.1


@dataclass
class Seq:
    """One token sequence with the weights of its targets: training and scoring."""

    tokens: torch.Tensor  # [L] long
    train: torch.Tensor  # [L-1] loss weight of each target in training
    score: torch.Tensor  # [L-1] 1 where the target counts in a metric, else 0


def pad_batch(seqs: Sequence[Seq], width: int | None = None) -> tuple[torch.Tensor, ...]:
    """Stack sequences right-padded with PAD -> tokens [B, L], train [B, L-1], score [B, L-1]."""
    width = width or max(int(s.tokens.numel()) for s in seqs)
    tokens = torch.full((len(seqs), width), PAD, dtype=torch.long)
    train = torch.zeros(len(seqs), width - 1)
    score = torch.zeros(len(seqs), width - 1)
    for i, s in enumerate(seqs):
        n = int(s.tokens.numel())
        tokens[i, :n] = s.tokens
        train[i, : n - 1] = s.train
        score[i, : n - 1] = s.score
    return tokens, train, score


def token_nll(graph: Graph, task: str, tokens: torch.Tensor) -> torch.Tensor:
    """Return the next-token negative log-likelihoods (nats) [B, L-1] of tokens [B, L]."""
    tokens = tokens.to(graph.device)
    logits = graph.forward_tasks(tokens[:, :-1], tasks=[task])[task]  # [B, L-1, V]
    nll = F.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten(), reduction="none")
    return nll.view(tokens.shape[0], -1)  # [B, L-1]


def windows(length: int, context: int, budget: int | None = None) -> list[tuple[int, int]]:
    """Return (start, first scored target) of windows that score targets 1..n once each.

    1. n = the number of targets (length - 1), capped by the budget.
    2. The first window scores all its targets; each next one starts half a context later and
       scores only the targets past the previous window's end.
    3. The last window is moved back to end exactly at n.
    """
    n = length - 1 if budget is None else min(length - 1, budget)
    if n < 1:
        return []
    ctx = min(context, n)
    stride = max(1, ctx // 2)
    out = [(0, 1)]
    end = ctx  # last scored target
    while end < n:
        start = min(end + stride, n) - ctx
        out.append((start, end + 1))
        end = start + ctx
    return out


def stream_seqs(stream: torch.Tensor, context: int, budget: int | None = None) -> list[Seq]:
    """Return the overlapping windows of a byte stream as sequences scoring each byte once."""
    out = []
    n = stream.numel() - 1 if budget is None else min(stream.numel() - 1, budget)
    ctx = min(context, n)
    for start, first in windows(stream.numel(), context, budget):
        toks = stream[start : start + ctx + 1]
        score = torch.zeros(ctx)
        score[first - start - 1 :] = 1.0
        out.append(Seq(toks, torch.ones(ctx), score))
    return out


@torch.no_grad()
def scored_bits(graph: Graph, task: str, seqs: Sequence[Seq], batch: int = 32) -> tuple[float, int]:
    """Return (total bits, scored targets) of sequences under the graph, in batches."""
    graph.eval()
    bits, count = 0.0, 0
    order = sorted(range(len(seqs)), key=lambda i: int(seqs[i].tokens.numel()))
    for lo in range(0, len(order), batch):
        chunk = [seqs[i] for i in order[lo : lo + batch]]
        tokens, _, score = pad_batch(chunk)
        nll = token_nll(graph, task, tokens)  # [B, L-1]
        bits += float((nll * score.to(nll)).sum()) / LN2
        count += int(score.sum())
    return bits, count


@torch.no_grad()
def recall(graph: Graph, task: str, seqs: Sequence[Seq], batch: int = 64) -> float:
    """Return the share of sequences whose scored targets greedy decoding gets all right."""
    if not seqs:
        return float("nan")
    graph.eval()
    exact = 0
    for lo in range(0, len(seqs), batch):
        tokens, _, score = pad_batch(seqs[lo : lo + batch])
        tokens, score = tokens.to(graph.device), score.to(graph.device) > 0
        ok = torch.ones(tokens.shape[0], dtype=torch.bool, device=graph.device)  # [B]
        state = graph.init_state(tokens.shape[0])
        last = int(score.nonzero()[:, 1].max()) if score.any() else -1
        for t in range(last + 1):
            guess = graph.step(state, tokens[:, t], task).argmax(dim=-1)  # [B]
            ok &= ~score[:, t] | (guess == tokens[:, t + 1])
        exact += int(ok.sum())
    return exact / len(seqs)


def deal(items: Sequence[Seq], streams: int) -> list[list[Seq]]:
    """Split items into at most `streams` contiguous runs of near-equal length."""
    per = math.ceil(len(items) / max(1, streams)) if items else 1
    return [list(items[i : i + per]) for i in range(0, len(items), per)]


def progressive_bits(
    graph: Graph, task: str, runs: Sequence[Sequence[Seq]], lr: float | None = None
) -> tuple[float, int]:
    """Return (bits, scored targets) when each unit is predicted, then learned (graph unchanged).

    1. Copy the graph; make an AdamW optimiser with the genome's betas, no weight decay and
       `lr` (default: PROGRESSIVE_LR times the genome's learning rate).
    2. Step k batches the k-th unit of every run (each run is an independent stream of units,
       in order: its windows read only its own bytes).
    3. Score the batch with the current weights (the forward pass of this step), then take one
       gradient step on its training weights: nothing is learned before it has been predicted.
    4. A count memory (an lm head's, heads/lm.py) then counts the scored tokens too.
    """
    runs = [r for r in runs if r]
    if not runs:
        return 0.0, 0
    model = copy.deepcopy(graph)
    model.train()
    hp = model.genome["train"]
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=float(lr if lr is not None else PROGRESSIVE_LR * float(hp["lr"])),
        betas=(float(hp.get("beta1", 0.9)), float(hp.get("beta2", 0.99))),
        weight_decay=0.0,
    )
    clip = float(hp.get("clip", 1.0))
    bits, count = 0.0, 0
    for k in range(max(len(r) for r in runs)):
        tokens, train, score = pad_batch([r[k] for r in runs if k < len(r)])
        nll = token_nll(model, task, tokens)  # [B, L-1]
        train, score = train.to(nll), score.to(nll)
        bits += float((nll.detach() * score).sum()) / LN2
        count += int(score.sum())
        loss = (nll * train).sum() / train.sum().clamp_min(1e-8)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        remember(model, task, tokens, score)
    return bits, count


def remember(graph: Graph, task: str, tokens: torch.Tensor, score: torch.Tensor) -> None:
    """Count the scored targets of tokens [B, L] (score [B, L-1]) in the task head's memory."""
    memory = getattr(graph.heads[task], "memory", None) if task in graph.heads else None
    if memory is None:
        return
    spans: dict[tuple[int, int], list[int]] = {}  # rows with the same scored span count at once
    for i, marks in enumerate(score.cpu()):
        scored = marks.nonzero()
        if scored.numel():
            spans.setdefault((int(scored.min()) + 1, int(scored.max()) + 2), []).append(i)
    rows = tokens.cpu()
    for (lo, hi), picks in spans.items():
        memory.add(rows[picks, :hi], first=lo)
