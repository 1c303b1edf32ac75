"""Train a char-level baseline for a number of seconds, then score it on the whole val set.

`static_bits` scores every val character once with the model frozen; `progressive_bits` scores
each block of val before learning from it (predict, then one optimiser step), as an online
compressor does. The text before val (the end of train) is the context of its first characters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

LN2 = math.log(2.0)
EVAL_CHUNK = 2048
#: a recurrent model reads val as this many side-by-side streams, each warmed up on its context
STATIC_STREAMS = 16


class CharVocab:
    """The characters of a corpus (sorted, as nanoGPT builds its vocabulary)."""

    def __init__(self, text: bytes) -> None:
        self.symbols = sorted(set(text))
        table = torch.full((256,), -1, dtype=torch.long)
        table[self.symbols] = torch.arange(len(self.symbols))
        self._table = table

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, data: bytes) -> torch.Tensor:
        """Return the ids of `data`, 1-D long."""
        raw = torch.frombuffer(bytearray(data), dtype=torch.uint8).long()  # [N]
        return self._table[raw]  # [N]


@dataclass
class TrainLog:
    """What a timed training run did."""

    steps: int
    seconds: float
    final_loss: float


def _windows(data: torch.Tensor, batch: int, context: int, gen: torch.Generator) -> torch.Tensor:
    """Return random training windows [B, T+1]."""
    starts = torch.randint(0, data.numel() - context - 1, (batch,), generator=gen)  # [B]
    offsets = torch.arange(context + 1)  # [T+1]
    return data[starts[:, None] + offsets]  # [B, T+1]


def _loss(model: nn.Module, windows: torch.Tensor) -> torch.Tensor:
    """Return the mean next-char cross-entropy (nats) of windows [B, T+1]."""
    logits, _ = model(windows[:, :-1])  # [B, T, V]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))


def train_for(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    data: torch.Tensor,
    seconds: float,
    batch: int,
    context: int,
    seed: int,
    lr_at: Callable[[int, float], float] | None = None,
    clip: float = 1.0,
) -> TrainLog:
    """Train on random windows until `seconds` have passed; lr_at(step, time fraction) sets lr."""
    gen = torch.Generator().manual_seed(seed)
    model.train()
    start = time.perf_counter()
    step, loss = 0, float("nan")
    while (elapsed := time.perf_counter() - start) < seconds:
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(step, elapsed / seconds)
        out = _loss(model, _windows(data, batch, context, gen))
        opt.zero_grad(set_to_none=True)
        out.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        loss, step = float(out.detach()), step + 1
    return TrainLog(step, time.perf_counter() - start, loss)


def cosine_lr(base: float, warmup: int = 100, floor: float = 0.1) -> Callable[[int, float], float]:
    """Return nanoGPT's schedule over a time budget: linear warm-up, cosine decay to floor*base."""

    def lr_at(step: int, frac: float) -> float:
        if step < warmup:
            return base * (step + 1) / warmup
        return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))

    return lr_at


def _ends(first: int, total: int, stride: int) -> list[int]:
    """Return the (exclusive) ends of consecutive target blocks covering [first, total)."""
    ends = list(range(first + stride, total, stride))
    return [*ends, total]


def _streams(first: int, total: int, streams: int) -> list[tuple[int, int, int]]:
    """Split targets [first, total) into groups (start, streams, length) of equal-length streams."""
    n = total - first
    count = max(1, min(streams, n))
    length = n // count
    groups = [(first, count, length)]
    if count * length < n:  # the leftover tail is one more, shorter stream
        groups.append((first + count * length, 1, n - count * length))
    return groups


@torch.no_grad()
def static_bits(model: nn.Module, seq: torch.Tensor, first: int, context: int) -> float:
    """Return bits per char of targets seq[first:], each scored once with the model frozen.

    A recurrent model reads val as STATIC_STREAMS contiguous streams side by side, each warmed
    up on the `context` chars before it and then carrying its state to its end; a window model
    reads windows of `context` tokens moved by context/2, scoring the newest half.
    """
    model.eval()
    total, n = 0.0, seq.numel() - first
    if getattr(model, "recurrent", False):
        for start, count, length in _streams(first, seq.numel(), STATIC_STREAMS):
            starts = torch.arange(count) * length + start  # [S]
            lead = min(context, start - 1)
            state = None
            if lead > 0:  # each stream starts from the state its preceding `context` chars give
                _, state = model(seq[(starts - 1 - lead)[:, None] + torch.arange(lead)])
            for offset in range(0, length, EVAL_CHUNK):
                keep = min(EVAL_CHUNK, length - offset)
                idx = (starts + offset - 1)[:, None] + torch.arange(keep)  # [S, K]
                logits, state = model(seq[idx], state)  # [S, K, V]
                total += float(F.cross_entropy(logits.transpose(1, 2), seq[idx + 1],
                                               reduction="sum"))  # fmt: skip
        return total / n / LN2
    stride = max(1, context // 2)
    ends = _ends(first, seq.numel(), stride)
    prev = first
    for i in range(0, len(ends), 64):
        group = ends[i : i + 64]
        inputs = torch.stack([seq[e - context - 1 : e - 1] for e in group])  # [G, T]
        logits, _ = model(inputs)  # [G, T, V]
        logp = F.log_softmax(logits, dim=-1)  # [G, T, V]
        for j, e in enumerate(group):
            keep = e - prev  # the newest targets of this window
            targets = seq[e - keep : e]  # [keep]
            total -= float(logp[j, context - keep :].gather(1, targets[:, None]).sum())
            prev = e
    return total / n / LN2


def progressive_bits(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    seq: torch.Tensor,
    first: int,
    context: int,
    streams: int = 4,
    clip: float = 1.0,
) -> float:
    """Return bits per char of targets seq[first:] when each block is scored, then learned from.

    Val is cut into `streams` contiguous streams read side by side; at each step every stream's
    next block is scored with the current weights, then one optimiser step learns from all of
    them, so no character is predicted by weights that have seen it. Blocks are `context` chars
    for a recurrent model (state carried, truncated back-propagation) and context/2 for a window
    model (which learns from the whole window ending at the block).
    """
    model.train()
    recurrent = getattr(model, "recurrent", False)
    stride = context if recurrent else max(1, context // 2)
    total = 0.0
    for start, count, length in _streams(first, seq.numel(), streams):
        starts = torch.arange(count) * length + start  # [S]
        state = None
        lead = min(context, start - 1)
        if recurrent and lead > 0:
            warm = (starts - 1 - lead)[:, None] + torch.arange(lead)  # [S, W]
            with torch.no_grad():  # each stream starts from the state its preceding text gives
                _, state = model(seq[warm])
        for offset in range(0, length, stride):
            keep = min(stride, length - offset)
            ends = starts + offset + keep  # [S]
            if recurrent:
                idx = (ends - keep - 1)[:, None] + torch.arange(keep)  # [S, K]
            else:
                idx = (ends - context - 1)[:, None] + torch.arange(context)  # [S, T]
            logits, new_state = model(seq[idx], state)  # [S, K or T, V]
            targets = seq[idx + 1]  # [S, K or T]
            losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # [S, *]
            total += float(losses[:, -keep:].detach().sum())  # scored before learning from it
            state = new_state.detach() if new_state is not None else None
            opt.zero_grad(set_to_none=True)
            losses.mean().backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
    return total / (seq.numel() - first) / LN2
