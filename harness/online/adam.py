"""A small Adam(W) for adapter steps: the first `torch.optim` optimiser imports torch._dynamo,
which takes seconds, and a chat must start fast."""

from __future__ import annotations

from collections.abc import Sequence

import torch


class Adam:
    """Adam with bias correction, optional decoupled weight decay (AdamW), per-tensor lr scales."""

    def __init__(
        self,
        params: Sequence[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        lr_scale: Sequence[float] | None = None,
    ) -> None:
        self.params = list(params)
        self.lr = lr
        self.lr_scale = list(lr_scale) if lr_scale is not None else [1.0] * len(self.params)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self._m = [torch.zeros_like(p) for p in self.params]
        self._v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        """Drop every gradient."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient (in place: caches see a new version)."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for p, m, v, scale in zip(self.params, self._m, self._v, self.lr_scale, strict=True):
            if p.grad is None:
                continue
            lr = self.lr * scale
            g = p.grad
            if self.weight_decay:
                p.mul_(1.0 - lr * self.weight_decay)
            m.mul_(b1).add_(g, alpha=1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            denom = (v / c2).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-lr / c1)
