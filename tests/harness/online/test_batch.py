"""Chat pairs as tensors: the turn layout, cut replies, padding and the reply mask."""

from __future__ import annotations

import torch

from harness.online.batch import collate, encode_pair, mean_logprob, prompt_tokens
from harness.vocab import ASSISTANT, BOS, EOS, PAD, USER, encode_turn


def test_pair_is_a_chat_turn() -> None:
    """A pair is exactly vocab.encode_turn, and its reply starts after ASSISTANT."""
    pair = encode_pair("my cat?", "Miso", 256)
    assert list(pair.tokens) == encode_turn("my cat?", "Miso")
    assert pair.tokens[pair.start - 1] == ASSISTANT


def test_long_prompt_keeps_newest_bytes_and_cut_reply_has_no_eos() -> None:
    """The prompt gives way first; a cut reply loses its EOS (never teaches stopping early)."""
    pair = encode_pair("x" * 500 + "END", "y" * 100, 64)
    assert len(pair.tokens) <= 64 and pair.tokens[-1] != EOS
    assert bytes(pair.tokens[2 : pair.start - 1]).endswith(b"END")
    assert prompt_tokens("abc", 64)[:2] == [BOS, USER]


def test_collate_masks_only_reply_targets() -> None:
    """Targets are shifted inputs; the mask covers reply tokens and EOS, never padding."""
    pairs = [encode_pair("a", "bc", 64), encode_pair("long prompt", "d", 64)]
    inputs, targets, mask = collate(pairs, torch.device("cpu"))
    assert inputs.shape == targets.shape == mask.shape
    first = targets[0][mask[0]].tolist()
    assert first == [ord("b"), ord("c"), EOS]
    assert targets[1][mask[1]].tolist() == [ord("d"), EOS]
    assert (targets[0][~mask[0]] != EOS).all() and PAD in targets[0].tolist()
    logp = torch.zeros_like(mask, dtype=torch.float32) - 1.0
    assert torch.allclose(mean_logprob(logp, mask), torch.tensor([-1.0, -1.0]))
