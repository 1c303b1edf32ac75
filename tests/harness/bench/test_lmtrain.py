"""Baseline training and scoring: every val char scored once, static and progressive."""

from __future__ import annotations

import math

import torch
from torch import nn

from harness.bench.charlm import gru_of_size, transformer_of_size
from harness.bench.lmtrain import CharVocab, progressive_bits, static_bits, train_for


class Uniform(nn.Module):
    """A model that gives every symbol the same probability (counts what it is asked to score)."""

    def __init__(self, vocab: int, recurrent: bool) -> None:
        super().__init__()
        self.vocab, self.recurrent = vocab, recurrent
        self.bias = nn.Parameter(torch.zeros(vocab))
        self.scored = 0

    def forward(self, idx: torch.Tensor, state: object = None) -> tuple[torch.Tensor, None]:
        """Return equal logits [B, T, V]."""
        return self.bias.expand(*idx.shape, self.vocab) * 0.0 + 0.0 * self.bias, None


def test_uniform_model_costs_log2_vocab_everywhere() -> None:
    """A uniform model scores exactly log2(V) bits per char, windowed, streamed and progressive."""
    seq = torch.randint(0, 10, (1000,), generator=torch.Generator().manual_seed(0))
    for recurrent in (False, True):
        model = Uniform(10, recurrent)
        assert math.isclose(static_bits(model, seq, 33, 32), math.log2(10), rel_tol=1e-6)
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        bits = progressive_bits(model, opt, seq, 33, 32, streams=3)
        assert math.isclose(bits, math.log2(10), rel_tol=1e-6)


def test_sized_baselines_land_near_the_budget() -> None:
    """The GRU and transformer are sized within 10% of the parameter budget."""
    for model in (gru_of_size(65, 400_000), transformer_of_size(65, 400_000, 128)):
        count = sum(p.numel() for p in model.parameters())
        assert abs(count - 400_000) < 40_000, type(model).__name__


def test_training_lowers_the_loss_and_scores_are_finite() -> None:
    """A tiny GRU and transformer trained for a second give finite static and progressive bits."""
    text = b"the quick brown fox jumps over the lazy dog. " * 60
    vocab = CharVocab(text)
    data = vocab.encode(text)
    torch.manual_seed(0)
    for model in (gru_of_size(len(vocab), 5_000), transformer_of_size(len(vocab), 5_000, 16)):
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        log = train_for(model, opt, data[:2000], 1.0, 8, 16, seed=0)
        assert log.steps > 0 and math.isfinite(log.final_loss)
        static = static_bits(model, data[2000 - 17 :], 17, 16)
        progressive = progressive_bits(model, opt, data[2000 - 17 :], 17, 16)
        assert 0 < static < math.log2(len(vocab)) + 1 and math.isfinite(progressive)
