"""The small Adam matches torch.optim's Adam and AdamW step for step."""

from __future__ import annotations

import torch

from harness.online.adam import Adam


def test_matches_torch_adamw() -> None:
    """Five steps on a quadratic give the same weights as torch.optim.AdamW."""
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(4, 3, generator=gen)
    a = torch.nn.Parameter(start.clone())
    b = torch.nn.Parameter(start.clone())
    ours = Adam([a], lr=0.05, betas=(0.9, 0.99), weight_decay=0.01)
    ref = torch.optim.AdamW([b], lr=0.05, betas=(0.9, 0.99), weight_decay=0.01)
    for _ in range(5):
        for p, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            ((p - 1.0) ** 2).sum().backward()
            opt.step()
    assert torch.allclose(a, b, atol=1e-6)
