"""Hand-built char-level baselines: a 2-layer GRU and a nanoGPT-style transformer of a budget.

Both map token ids [B, T] to logits [B, T, V] and carry an optional state (the GRU's hidden
state; the transformer is stateless and reads only its window).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

GRU_EMBED = 64
GRU_LAYERS = 2


class CharGRU(nn.Module):
    """Embedding(V, 64) -> nn.GRU(64, H, 2 layers) -> Linear(H, V), the classic char-rnn."""

    recurrent = True

    def __init__(self, vocab: int, hidden: int, layers: int = GRU_LAYERS) -> None:
        super().__init__()
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        self.embed = nn.Embedding(vocab, GRU_EMBED)
        self.rnn = nn.GRU(GRU_EMBED, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(
        self, idx: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return logits [B, T, V] and the last hidden state [layers, B, H]."""
        h, state = self.rnn(self.embed(idx), state)  # [B, T, H], [L, B, H]
        return self.head(h), state  # [B, T, V]

    def flops_per_byte(self, context: int) -> int:
        """Return multiply-adds per predicted byte (matrices only; the embedding is a lookup)."""
        return sum(p.numel() for n, p in self.named_parameters()
                   if p.dim() >= 2 and not n.startswith("embed"))  # fmt: skip

    def describe(self) -> str:
        """Return the shape in words."""
        return f"GRU {self.layers}x{self.hidden}, embed {GRU_EMBED}"


class Block(nn.Module):
    """Pre-norm transformer block: causal self-attention and a 4x GELU MLP, both residual."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, 4 * dim)
        self.out = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        """Apply the block."""
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)  # [B, T, D] each
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
                   for z in (q, k, v))  # [B, H, T, hd] each  # fmt: skip
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # [B, H, T, hd]
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))  # [B, T, D]
        return x + self.out(F.gelu(self.fc(self.ln2(x))))  # [B, T, D]


class CharTransformer(nn.Module):
    """nanoGPT in miniature: token + position embeddings, blocks, final norm, tied output."""

    recurrent = False

    def __init__(self, vocab: int, dim: int, layers: int, heads: int, context: int,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__()
        self.vocab, self.dim, self.layers, self.heads = vocab, dim, layers, heads
        self.context = context
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self._init(generator)

    def _init(self, generator: torch.Generator | None) -> None:
        """Initialise as nanoGPT does: N(0, 0.02), residual projections scaled by depth."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() < 2:
                    continue
                std = (
                    0.02 / math.sqrt(2 * self.layers)
                    if name.endswith(("proj.weight", "out.weight"))
                    else 0.02
                )
                p.normal_(0.0, std, generator=generator)
            for m in self.modules():
                if isinstance(m, nn.Linear) and m.bias is not None:
                    m.bias.zero_()

    def forward(self, idx: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, None]:
        """Return logits [B, T, V] for windows of at most `context` tokens (no state)."""
        t = idx.shape[1]
        x = self.tok(idx) + self.pos.weight[:t]  # [B, T, D]
        for block in self.blocks:
            x = block(x)  # [B, T, D]
        return F.linear(self.ln(x), self.tok.weight), None  # [B, T, V]

    def flops_per_byte(self, context: int) -> int:
        """Return multiply-adds per byte: matrices, tied head, attention over `context`."""
        mats = sum(p.numel() for n, p in self.named_parameters()
                   if p.dim() >= 2 and n.startswith("blocks"))  # fmt: skip
        return mats + self.vocab * self.dim + self.layers * 2 * context * self.dim

    def describe(self) -> str:
        """Return the shape in words."""
        return f"{self.layers} blocks x {self.dim}, {self.heads} heads, ctx {self.context}"


def count(model: nn.Module) -> int:
    """Return a model's parameter count."""
    return sum(p.numel() for p in model.parameters())


def gru_of_size(vocab: int, budget: int) -> CharGRU:
    """Return the 2-layer GRU whose hidden size (a multiple of 8) lands closest to `budget`."""
    sizes = range(8, 1025, 8)
    best = min(sizes, key=lambda h: abs(_gru_params(vocab, h) - budget))
    return CharGRU(vocab, best)


def _gru_params(vocab: int, h: int) -> int:
    """Return the parameter count of CharGRU(vocab, h) without building it."""
    layer1 = 3 * (GRU_EMBED * h + h * h + 2 * h)
    layer2 = 3 * (2 * h * h + 2 * h)
    return vocab * GRU_EMBED + layer1 + (GRU_LAYERS - 1) * layer2 + h * vocab + vocab


def transformer_of_size(vocab: int, budget: int, context: int, layers: int = 4, heads: int = 4,
                        generator: torch.Generator | None = None) -> CharTransformer:  # fmt: skip
    """Return the transformer whose width (a multiple of 2 * heads) lands closest to `budget`."""
    step = 2 * heads
    widths = range(step, 1025, step)
    best = min(widths, key=lambda d: abs(_tf_params(vocab, d, layers, context) - budget))
    return CharTransformer(vocab, best, layers, heads, context, generator)


def _tf_params(vocab: int, d: int, layers: int, context: int) -> int:
    """Return the parameter count of CharTransformer without building it."""
    block = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    return vocab * d + context * d + layers * block + 2 * d
