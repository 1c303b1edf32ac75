"""The hand-built neural baselines of `insitu bench shakespeare`, trained for the same seconds."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import nn

from harness.bench.charlm import count, gru_of_size, transformer_of_size
from harness.bench.datasets import TextSplit
from harness.bench.lmtrain import (
    CharVocab,
    cosine_lr,
    progressive_bits,
    static_bits,
    train_for,
)
from harness.bench.report import Contender

GRU_LR = 3e-3
TF_LR = 1e-3
#: the GRU as the issue states it: batch 32 x 128
GRU_SHAPE = (32, 128)
#: the transformer as nanoGPT's CPU config trains it: batch 12 x 64
TF_SHAPE = (12, 64)
#: the progressive pass as the text task runs it: 4 streams, a fresh AdamW at half the base lr
PROGRESSIVE_STREAMS = 4
PROGRESSIVE_LR = 0.5


@dataclass(frozen=True)
class Plan:
    """How a baseline is built and trained: size budget, seconds, seed, progressive pass or not."""

    budget: int
    seconds: float
    seed: int
    progressive: bool = True


def _tensors(split: TextSplit, context: int) -> tuple[CharVocab, torch.Tensor, torch.Tensor, int]:
    """Return the vocabulary, train ids, and the scored sequence (train tail + val), its start."""
    vocab = CharVocab(split.train + split.val)
    train = vocab.encode(split.train)  # [N]
    prefix = split.train[-(context + 1) :]
    seq = vocab.encode(prefix + split.val)  # [P + M]
    return vocab, train, seq, len(prefix)


def _score(name: str, model: nn.Module, opt: torch.optim.Optimizer, log_steps: int,
           train_s: float, seq: torch.Tensor, first: int, plan: Plan, shape: tuple[int, int],
           describe: str, base_lr: float, lr_note: str) -> Contender:  # fmt: skip
    """Measure a trained model: static bits/char, then (on a copy) progressive bits/char."""
    start = time.perf_counter()
    batch, context = shape
    static = static_bits(model, seq, first, context)
    static_s = time.perf_counter() - start
    progressive, prog_s = None, 0.0
    if plan.progressive:
        start = time.perf_counter()
        twin = copy.deepcopy(model)  # the static model stays as trained
        betas = opt.param_groups[0]["betas"]
        twin_opt = torch.optim.AdamW(twin.parameters(), lr=PROGRESSIVE_LR * base_lr,
                                     betas=betas, weight_decay=0.0)  # fmt: skip
        progressive = progressive_bits(twin, twin_opt, seq, first, context, PROGRESSIVE_STREAMS)
        prog_s = time.perf_counter() - start
    return Contender(
        name=name,
        kind="baseline",
        parameters=count(model),
        flops=model.flops_per_byte(context),  # type: ignore[operator]
        wall_s=train_s,
        metrics={"static_bpc": static, "progressive_bpc": progressive},
        notes=f"{describe}; {log_steps} steps",
        details={
            "steps": log_steps,
            "train_s": train_s,
            "static_eval_s": static_s,
            "progressive_eval_s": prog_s,
            "batch": batch,
            "context": context,
            "optimizer": lr_note,
        },  # fmt: skip
    )


def run_gru(split: TextSplit, plan: Plan) -> Contender:
    """Train a 2-layer char GRU (Adam 3e-3, batch 32 x 128) for the budget's seconds; score it."""
    torch.manual_seed(plan.seed)  # nn.GRU's initialisation reads the global generator
    vocab, train, seq, first = _tensors(split, GRU_SHAPE[1])
    model = gru_of_size(len(vocab), plan.budget)
    opt = torch.optim.Adam(model.parameters(), lr=GRU_LR)
    log = train_for(model, opt, train, plan.seconds, *GRU_SHAPE, plan.seed)
    return _score("gru", model, opt, log.steps, log.seconds, seq, first, plan,
                  GRU_SHAPE, model.describe(), GRU_LR, f"Adam {GRU_LR}")  # fmt: skip


def run_transformer(split: TextSplit, plan: Plan) -> Contender:
    """Train a nanoGPT-style transformer (batch 12 x 64, AdamW 1e-3, cosine over the seconds)."""
    torch.manual_seed(plan.seed)
    gen = torch.Generator().manual_seed(plan.seed)
    vocab, train, seq, first = _tensors(split, TF_SHAPE[1])
    model = transformer_of_size(len(vocab), plan.budget, TF_SHAPE[1], generator=gen)
    opt = torch.optim.AdamW(model.parameters(), lr=TF_LR, betas=(0.9, 0.99), weight_decay=0.1)
    log = train_for(model, opt, train, plan.seconds, *TF_SHAPE, plan.seed,
                    lr_at=cosine_lr(TF_LR))  # fmt: skip
    note = f"AdamW {TF_LR}, warm-up + cosine"
    return _score("transformer", model, opt, log.steps, log.seconds, seq, first, plan,
                  TF_SHAPE, model.describe(), TF_LR, note)  # fmt: skip
