"""Each family's seed individual learns tiny shakespeare better than the unigram byte model."""

from __future__ import annotations

import pytest
import torch

from harness.graph.seeds import FAMILIES, seed
from harness.graph.train_step import (
    evaluate_lm,
    load_bytes,
    train_lm,
    unigram_entropy,
    unigram_loss,
)

from .helpers import build

CONTEXT = 32


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_family_beats_unigram(family, shared_data):
    """200 steps at ~20k parameters reach a held-out loss below the unigram model's."""
    path = shared_data / "tinyshakespeare" / "input.txt"
    train = load_bytes(path, 0, 200_000)
    held_out = load_bytes(path, 1_000_000, 20_000)
    baseline = min(unigram_entropy(train), unigram_loss(train, held_out))
    torch.set_num_threads(1)
    g = build(seed(family, 20_000, context=CONTEXT))
    losses = train_lm(g, train, steps=200, batch=16, context=CONTEXT, lr=1e-2, seed=0)
    loss = evaluate_lm(g, held_out, context=CONTEXT, batches=4)
    assert losses[-1] < losses[0]
    assert loss < baseline - 0.3, (family, loss, baseline)
