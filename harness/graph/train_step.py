"""A small next-byte trainer for checks and benchmarks (the full trainer lives elsewhere)."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from harness.graph.build import Graph


def load_bytes(path: str | Path, start: int = 0, length: int | None = None) -> torch.Tensor:
    """Return a slice of a file's bytes as a 1-D long tensor of byte tokens."""
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(-1 if length is None else length)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).long()


def unigram_loss(train: torch.Tensor, held_out: torch.Tensor) -> float:
    """Return the held-out cross-entropy (nats/byte) of the add-one unigram model of `train`."""
    counts = torch.bincount(train, minlength=256).double() + 1.0
    logp = (counts / counts.sum()).log()
    return float(-logp[held_out].mean())


def unigram_entropy(data: torch.Tensor) -> float:
    """Return the entropy (nats/byte) of the byte distribution of `data`."""
    p = torch.bincount(data, minlength=256).double()
    p = p[p > 0] / p.sum()
    return float(-(p * p.log()).sum())


def sample_windows(
    data: torch.Tensor, batch: int, context: int, generator: torch.Generator
) -> torch.Tensor:
    """Return `batch` random windows of `context + 1` tokens, [B, T+1]."""
    starts = torch.randint(0, data.numel() - context - 1, (batch,), generator=generator)
    return torch.stack([data[s : s + context + 1] for s in starts.tolist()])


def lm_loss(graph: Graph, windows: torch.Tensor) -> torch.Tensor:
    """Return the mean next-token cross-entropy of windows [B, T+1] (nats/token)."""
    windows = windows.to(graph.device)
    logits = graph(windows[:, :-1])  # [B, T, V]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))


def train_lm(
    graph: Graph,
    data: torch.Tensor,
    steps: int,
    batch: int = 16,
    context: int = 64,
    lr: float | None = None,
    seed: int = 0,
) -> list[float]:
    """Train next-byte prediction with AdamW and clipping; return the loss of every step.

    1. Draw a batch of random windows with the seeded generator.
    2. Compute the loss, back-propagate, clip the gradient norm, step AdamW (cosine decay).
    """
    hp = graph.genome["train"]
    gen = torch.Generator().manual_seed(seed)
    base_lr = float(lr if lr is not None else hp["lr"])
    opt = torch.optim.AdamW(
        graph.parameters(),
        lr=base_lr,
        betas=(float(hp.get("beta1", 0.9)), float(hp.get("beta2", 0.99))),
        weight_decay=float(hp.get("weight_decay", 0.0)),
    )
    graph.train()
    losses = []
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = base_lr * 0.5 * (1 + math.cos(math.pi * step / max(steps, 1)))
        loss = lm_loss(graph, sample_windows(data, batch, context, gen))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if hp.get("clip"):
            torch.nn.utils.clip_grad_norm_(graph.parameters(), float(hp["clip"]))
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def evaluate_lm(graph: Graph, data: torch.Tensor, context: int = 64, batches: int = 8) -> float:
    """Return the mean next-byte loss (nats/byte) over fixed held-out windows."""
    graph.eval()
    gen = torch.Generator().manual_seed(12345)
    total = 0.0
    for _ in range(batches):
        total += float(lm_loss(graph, sample_windows(data, 16, context, gen)))
    return total / batches
