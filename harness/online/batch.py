"""Chat pairs as training tensors: turn encoding, padding, masked per-sequence log-likelihoods."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from harness.graph.build import Graph
from harness.vocab import ASSISTANT, BOS, EOS, PAD, USER, encode_text


@dataclass(frozen=True)
class Pair:
    """One encoded turn: tokens `BOS USER prompt ASSISTANT reply EOS` and where the reply starts."""

    tokens: tuple[int, ...]
    start: int  # index of the first reply token (the token after ASSISTANT)


def prompt_tokens(prompt: str, context: int, room: int = 0) -> list[int]:
    """Return `BOS USER prompt ASSISTANT`, keeping the newest prompt bytes that fit."""
    body = encode_text(prompt)
    keep = max(context - room - 3, 1)
    return [BOS, USER, *body[-keep:], ASSISTANT]


def encode_pair(prompt: str, reply: str, context: int, max_reply: int | None = None) -> Pair:
    """Encode a prompt/reply turn within `context` tokens (the prompt gives way first).

    A reply longer than `max_reply` tokens (default: half the context) keeps its beginning and
    loses its EOS, so a cut reply never teaches the model to stop early.
    """
    limit = max(min(max_reply or context // 2, context // 2), 1)
    body = encode_text(reply)
    answer = body[:limit] if len(body) >= limit else body + [EOS]
    head = prompt_tokens(prompt, context, room=len(answer))
    return Pair(tuple(head + answer), len(head))


def collate(pairs: Sequence[Pair], device: torch.device) -> tuple[torch.Tensor, ...]:
    """Right-pad pairs; return inputs [B, T], targets [B, T] and the reply mask [B, T]."""
    length = max(len(p.tokens) for p in pairs) - 1
    inputs = torch.full((len(pairs), length), PAD, dtype=torch.long)
    targets = torch.full((len(pairs), length), PAD, dtype=torch.long)
    mask = torch.zeros(len(pairs), length, dtype=torch.bool)
    for i, p in enumerate(pairs):
        seq = torch.tensor(p.tokens, dtype=torch.long)  # [L]
        n = seq.numel() - 1
        inputs[i, :n] = seq[:-1]
        targets[i, :n] = seq[1:]
        mask[i, p.start - 1 : n] = True  # predict every reply token and the EOS
    return inputs.to(device), targets.to(device), mask.to(device)


def token_logprobs(
    graph: Graph,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    control: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return the log-probability of each target token, [B, T] (autograd follows the caller)."""
    ctrl = None if control is None else control.to(graph.device).expand(inputs.shape[0], -1)
    logits = graph(inputs, control=ctrl)  # [B, T, V]
    return -F.cross_entropy(
        logits.transpose(1, 2), targets, reduction="none", ignore_index=PAD
    )  # [B, T]


def mean_logprob(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Return each sequence's mean log-probability over its reply tokens, [B]."""
    m = mask.to(logp.dtype)  # [B, T]
    return (logp * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)  # [B]
