"""The fast parallel paths (scans with hand-written backward, fused kernels) equal the slow ones."""

from __future__ import annotations

import pytest
import torch

from harness import registry
from harness.graph.units.rwkv import wkv_step
from harness.graph.units.scan import NEG, gru_scan, rnn_scan, selective_scan, wkv_scan

B, T, D = 2, 9, 5


def rand(*shape: int, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    """Return a float64 tensor that requires grad."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_()


@pytest.mark.parametrize("name", ["rnn", "gru", "lstm"])
def test_recurrent_fast_path_matches_the_loop(name: str) -> None:
    """The scan (or fused kernel) gives the loop's outputs and gradients for every parameter."""
    torch.manual_seed(0)
    unit = registry.units.get(name)(D, hidden=4).double()
    x = rand(B, T, D, seed=1)
    fast = unit._scan(x) if unit.scan else unit._fused(x)
    slow = unit._loop(x)
    assert (fast - slow).abs().max() < 1e-10
    gy = torch.randn(B, T, 4, dtype=torch.float64)
    params = [x, *unit.parameters()]
    g_fast = torch.autograd.grad((fast * gy).sum(), params, allow_unused=True)
    g_slow = torch.autograd.grad((slow * gy).sum(), params, allow_unused=True)
    for a, b in zip(g_fast, g_slow, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert (a - b).abs().max() < 1e-10


def test_scans_pass_gradcheck() -> None:
    """The hand-written backward passes agree with finite differences."""
    gx, w = rand(B, T, 3, seed=1), rand(3, 3, scale=0.5, seed=2)
    assert torch.autograd.gradcheck(rnn_scan, (gx, w))
    gx3, w3, b3 = rand(B, T, 9, seed=3), rand(9, 3, scale=0.5, seed=4), rand(9, seed=5)
    assert torch.autograd.gradcheck(gru_scan, (gx3, w3, b3))
    dt = rand(T, B, 3, scale=0.3, seed=6).detach().abs().requires_grad_()
    args = (dt, rand(3, 4, seed=7), rand(T, B, 3, seed=8), rand(T, B, 4, seed=9),
            rand(T, B, 4, seed=10))  # fmt: skip
    assert torch.autograd.gradcheck(selective_scan, args)
    k, v = rand(B, T, 3, scale=4.0, seed=11), rand(B, T, 3, seed=12)
    w_decay = (-rand(3, seed=13).detach().abs() - 0.1).requires_grad_()
    assert torch.autograd.gradcheck(wkv_scan, (k, v, w_decay, rand(3, seed=14)))


def test_wkv_scan_matches_the_stable_step_even_for_large_keys() -> None:
    """The WKV scan equals stepping the stable recurrence, also with keys of size 50."""
    k, v = rand(B, T, D, scale=50.0, seed=1), rand(B, T, D, seed=2)
    w, u = -rand(D, seed=3).detach().abs(), rand(D, seed=4).detach()
    state = {"aa": torch.zeros(B, D, dtype=k.dtype), "bb": torch.zeros(B, D, dtype=k.dtype),
             "pp": torch.full((B, D), NEG, dtype=k.dtype)}  # fmt: skip
    steps = []
    for t in range(T):
        out, state = wkv_step(k[:, t], v[:, t], w, u, state)
        steps.append(out)
    fast = wkv_scan(k, v, w, u)
    assert torch.isfinite(fast).all()
    assert (fast - torch.stack(steps, 1)).abs().max() < 1e-10
