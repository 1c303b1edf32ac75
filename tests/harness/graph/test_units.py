"""The shared check every registered unit must pass (a newly registered unit is tested too)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from harness import registry
from harness.errors import GenomeError
from harness.graph.tether import (
    adapter_parameters,
    add_adapters,
    fold_adapters,
    set_adapters_enabled,
    tethered_linears,
    unit_compatibility,
)
from harness.graph.unit import Unit

D = 8
B = 2

#: Extra argument sets for built-in units, beyond each unit's default_args.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("mlp", {"hidden": 12, "act": "relu"}),
    ("conv", {"kernel": 1, "channels": 5}),
    ("rnn", {"hidden": 5}),
    ("attention", {"heads": 3, "head_dim": 4}),
    ("norm", {"kind": "rms"}),
    ("gate", {"inputs": 3, "init": 0.3}),
    ("gate", {"kind": "sigmoid", "init": 0.5}),
    ("concat", {"inputs": 3}),
]


def cases() -> list[Any]:
    """Return (name, args) for every registered unit's defaults plus the built-in variants."""
    out = [
        pytest.param(n, registry.units.get(n).default_args(D), id=n) for n in registry.units.names()
    ]
    for i, (name, args) in enumerate(VARIANTS):
        if name in registry.units:
            out.append(pytest.param(name, args, id=f"{name}-v{i}"))
    return out


CASES = cases()


def make(name: str, args: dict[str, Any], seed: int = 0) -> Unit:
    """Build a unit under a fixed torch seed."""
    torch.manual_seed(seed)
    return registry.units.get(name)(D, **args)


def arity(unit: Unit, args: dict[str, Any]) -> int:
    """Return how many inputs the unit takes."""
    return int(args.get("inputs", 2)) if unit.merge else 1


def inputs(n: int, t: int, seed: int = 0) -> list[torch.Tensor]:
    """Return n random sequences [B, t, D]."""
    g = torch.Generator().manual_seed(1000 + seed)
    return [torch.randn(B, t, D, generator=g) for _ in range(n)]


def stepwise(unit: Unit, xs: list[torch.Tensor]) -> torch.Tensor:
    """Run the step path over whole sequences and stack the outputs -> [B, T, D]."""
    with torch.no_grad():
        state = unit.init_state(B)
        outs = []
        for t in range(xs[0].shape[1]):
            y, state = unit.step(state, *[x[:, t] for x in xs])
            outs.append(y)
    return torch.stack(outs, dim=1)


def run(unit: Unit, xs: list[torch.Tensor]) -> torch.Tensor:
    """Run the parallel path without autograd."""
    with torch.no_grad():
        return unit(*xs)


@pytest.mark.parametrize(("name", "args"), CASES)
def test_shape(name: str, args: dict[str, Any]) -> None:
    """The parallel path maps [B, T, D] inputs to a finite [B, T, D] output."""
    unit = make(name, args)
    y = run(unit, inputs(arity(unit, args), 6))
    assert y.shape == (B, 6, D)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize(("name", "args"), CASES)
def test_causal(name: str, args: dict[str, Any]) -> None:
    """Changing future inputs never changes a past output."""
    unit = make(name, args)
    xs = inputs(arity(unit, args), 9)
    ys = [x.clone() for x in xs]
    for y in ys:
        y[:, 5:] = torch.randn(B, 4, D) * 3
    a, b = run(unit, xs), run(unit, ys)
    assert (a[:, :5] - b[:, :5]).abs().max() < 1e-6
    assert (a[:, 5:] - b[:, 5:]).abs().max() > 0


@pytest.mark.parametrize(("name", "args"), CASES)
def test_deterministic(name: str, args: dict[str, Any]) -> None:
    """The same seed builds the same unit; another seed a different one (if it has weights)."""
    u1, u2, u3 = make(name, args, 3), make(name, args, 3), make(name, args, 4)
    xs = inputs(arity(u1, args), 5)
    assert torch.equal(run(u1, xs), run(u2, xs))
    s1, s3 = u1.state_dict(), u3.state_dict()
    if any(not torch.equal(s1[k], s3[k]) for k in s1):
        assert not torch.equal(run(u1, xs), run(u3, xs))


@pytest.mark.parametrize(("name", "args"), CASES)
def test_gradients_reach_every_parameter(name: str, args: dict[str, Any]) -> None:
    """A loss on the output reaches every parameter (non-zero) and input (zero-init gates aside)."""
    unit = make(name, args)
    xs = [x.requires_grad_() for x in inputs(arity(unit, args), 6)]
    (unit(*xs) * torch.randn(B, 6, D)).sum().backward()
    assert all(x.grad is not None for x in xs)
    assert xs[0].grad is not None and xs[0].grad.abs().sum() > 0
    for pname, p in unit.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize(("name", "args"), CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_step_matches_parallel(name: str, args: dict[str, Any], seed: int) -> None:
    """Generating step by step gives the parallel outputs (max abs diff < 1e-5)."""
    unit = make(name, args, seed)
    for t in (1, 4, 13):
        xs = inputs(arity(unit, args), t, seed)
        assert (stepwise(unit, xs) - run(unit, xs)).abs().max() < 1e-5


def rebuilt(name: str, args: dict[str, Any], unit: Unit) -> Unit:
    """Build a fresh unit from `args` and load `unit`'s weights into it (shapes must agree)."""
    fresh = registry.units.get(name)(D, **args)
    fresh.load_state_dict(unit.state_dict())
    return fresh


@pytest.mark.parametrize(("name", "args"), CASES)
def test_widen_preserves_function(name: str, args: dict[str, Any]) -> None:
    """Widening keeps outputs (< 1e-6) and returns args that rebuild the same shapes."""
    unit = make(name, args)
    size = getattr(unit, "inner_size", None)
    if size is None:
        pytest.skip("no inner size")
    xs = inputs(arity(unit, args), 7)
    before = run(unit, xs)
    try:
        new_args = unit.widen(size + 3, torch.Generator().manual_seed(5))
    except NotImplementedError:
        pytest.skip("widening is not function-preserving for this unit")
    assert unit.inner_size == size + 3
    assert (run(unit, xs) - before).abs().max() < 1e-6
    assert (stepwise(unit, xs) - run(unit, xs)).abs().max() < 1e-5
    assert (run(rebuilt(name, new_args, unit), xs) - before).abs().max() < 1e-6


@pytest.mark.parametrize(("name", "args"), CASES)
def test_prune_shrinks_and_keeps_working(name: str, args: dict[str, Any]) -> None:
    """Pruning to full size is a no-op; pruning to half shrinks the unit, which still works."""
    unit = make(name, args)
    size = getattr(unit, "inner_size", None)
    if size is None:
        pytest.skip("no inner size")
    xs = inputs(arity(unit, args), 7)
    before = run(unit, xs)
    unit.prune(size)
    assert (run(unit, xs) - before).abs().max() < 1e-6
    count = sum(p.numel() for p in unit.parameters())
    keep = max(1, size // 2)
    new_args = unit.prune(keep)
    assert unit.inner_size == keep
    if keep < size:
        assert sum(p.numel() for p in unit.parameters()) < count
    y = run(unit, xs)
    assert y.shape == before.shape and torch.isfinite(y).all()
    assert (stepwise(unit, xs) - y).abs().max() < 1e-5
    assert torch.equal(run(rebuilt(name, new_args, unit), xs), y)


@pytest.mark.parametrize(("name", "args"), CASES)
def test_adapters_zero_impact_reference_and_fold(name: str, args: dict[str, Any]) -> None:
    """Adapters start at zero impact, switch off to the reference, and fold exactly."""
    unit = make(name, args)
    xs = inputs(arity(unit, args), 6)
    reference = run(unit, xs)
    added = add_adapters(unit, 2, torch.Generator().manual_seed(9))
    assert added == len(list(tethered_linears(unit)))
    assert (run(unit, xs) - reference).abs().max() < 1e-6
    if not added:
        return
    params = adapter_parameters(unit)
    opt = torch.optim.SGD(params, lr=0.1)
    target = torch.randn(B, 6, D)
    for _ in range(3):
        opt.zero_grad()
        ((unit(*xs) - target) ** 2).mean().backward()
        opt.step()
    trained = run(unit, xs)
    assert (trained - reference).abs().max() > 1e-4
    assert (stepwise(unit, xs) - trained).abs().max() < 1e-5
    set_adapters_enabled(unit, False)
    assert (run(unit, xs) - reference).abs().max() < 1e-6
    set_adapters_enabled(unit, True)
    fold_adapters(unit)
    assert (run(unit, xs) - trained).abs().max() < 1e-5
    assert all(lin.lora_b is None or not lin.lora_b.any() for _, lin in tethered_linears(unit))


@pytest.mark.parametrize(("name", "args"), CASES)
def test_tether_compatibility(name: str, args: dict[str, Any]) -> None:
    """A unit is fully compatible with itself and less so with an independent init."""
    u1, u2 = make(name, args, 0), make(name, args, 1)
    assert unit_compatibility(u1, u1) == pytest.approx(1.0)
    if list(tethered_linears(u1)):
        assert unit_compatibility(u1, u2) < 0.9


@pytest.mark.parametrize(("name", "args"), CASES)
def test_widen_with_live_adapters_preserves_function(name: str, args: dict[str, Any]) -> None:
    """Widening a unit whose adapters have learned something still keeps its outputs."""
    unit = make(name, args)
    size = getattr(unit, "inner_size", None)
    if size is None:
        pytest.skip("no inner size")
    add_adapters(unit, 2, torch.Generator().manual_seed(2))
    with torch.no_grad():
        for _, lin in tethered_linears(unit):
            assert lin.lora_b is not None
            lin.lora_b.normal_(0.0, 0.1)
    xs = inputs(arity(unit, args), 7)
    before = run(unit, xs)
    try:
        unit.widen(size + 2, torch.Generator().manual_seed(5))
    except NotImplementedError:
        pytest.skip("widening is not function-preserving for this unit")
    assert (run(unit, xs) - before).abs().max() < 1e-5


def test_zero_gate_is_a_silent_link() -> None:
    """A gate with init 0 returns its main input exactly; a new input joins silently."""
    gate = make("gate", {"inputs": 2, "init": 0.0})
    x0, x1, x2 = inputs(3, 5)
    assert torch.equal(run(gate, [x0, x1]), x0)
    for kind in ("scalar", "sigmoid"):
        g = make("gate", {"inputs": 2, "init": 0.4, "kind": kind})
        before = run(g, [x0, x1])
        assert g.add_input(torch.Generator().manual_seed(0)) == {
            "inputs": 3,
            "init": 0.4,
            "kind": kind,
        }
        assert (run(g, [x0, x1, x2]) - before).abs().max() < 1e-6


def test_concat_add_input_preserves_outputs() -> None:
    """A concat node accepts one more input through zero weights."""
    unit = make("concat", {"inputs": 2})
    x0, x1, x2 = inputs(3, 5)
    before = run(unit, [x0, x1])
    assert unit.add_input() == {"inputs": 3}
    assert (run(unit, [x0, x1, x2]) - before).abs().max() < 1e-6
    assert (stepwise(unit, [x0, x1, x2]) - before).abs().max() < 1e-5


@pytest.mark.parametrize(
    ("name", "args", "match"),
    [
        ("mlp", {"act": "swish2"}, "activation"),
        ("mlp", {"hidden": 0}, "hidden"),
        ("norm", {"kind": "batch"}, "norm kind"),
        ("attention", {"heads": 2, "head_dim": 3}, "even"),
        ("gate", {"inputs": 1}, "inputs"),
        ("gate", {"kind": "tanh"}, "gate kind"),
    ],
)
def test_bad_arguments_raise_genome_error(name: str, args: dict[str, Any], match: str) -> None:
    """Bad op arguments raise a GenomeError naming the argument to fix."""
    with pytest.raises(GenomeError, match=match):
        make(name, args)


@pytest.mark.parametrize("name", ["concat", "gate"])
def test_wrong_input_count_raises(name: str) -> None:
    """A merge node given the wrong number of inputs says to fix its 'inputs' argument."""
    unit = make(name, {"inputs": 2})
    with pytest.raises(GenomeError, match="inputs"):
        run(unit, inputs(3, 4))


@pytest.mark.parametrize("name", ["mlp", "gru", "attention", "ssm"])
def test_widen_below_or_prune_beyond_size_raises(name: str) -> None:
    """Widening to a smaller size or keeping more than exists raises GenomeError."""
    unit = make(name, registry.units.get(name).default_args(D))
    size = unit.inner_size
    with pytest.raises(GenomeError):
        unit.widen(size - 1)
    with pytest.raises(GenomeError):
        unit.prune(size + 1)
