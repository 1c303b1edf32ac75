"""TLinear: tethers, the inference cache, adapters, reshaping and compatibility."""

from __future__ import annotations

import copy
import io

import pytest
import torch

from harness.errors import GenomeError, InsituError
from harness.graph.tether import TLinear, compatibility, unit_compatibility
from harness.graph.units.resize import split_scales, widen_mapping


def layer(seed: int = 0, bias: bool = True) -> TLinear:
    """Return a seeded 5 -> 4 layer."""
    return TLinear(5, 4, bias=bias, generator=torch.Generator().manual_seed(seed))


def test_fresh_layer_is_plain_linear() -> None:
    """With ones as tethers and no adapter, TLinear is an ordinary linear layer."""
    lin = layer()
    x = torch.randn(3, 5)
    assert torch.allclose(lin(x), x @ lin.weight.t() + lin.bias)
    assert torch.equal(lin.tether, torch.ones(4, 5))
    assert "tether" in lin.state_dict()


def test_tether_zero_prunes_a_connection() -> None:
    """A zero tether removes its weight from the output, in both autograd modes."""
    lin = layer()
    x = torch.randn(3, 5)
    with torch.no_grad():
        before = lin(x)
        lin.tether[1, 2] = 0.0
        after = lin(x)
    expected = before[:, 1] - x[:, 2] * lin.weight[1, 2]
    assert torch.allclose(after[:, 1], expected.detach(), atol=1e-6)
    assert torch.allclose(lin(x), after, atol=1e-6)


def test_cache_follows_in_place_edits() -> None:
    """The inference cache is rebuilt after in-place edits, optimizer steps and reloads."""
    lin = layer()
    x = torch.randn(2, 5)
    with torch.inference_mode():
        first = lin(x)
        assert torch.equal(lin(x), first)
    with torch.no_grad():
        lin.weight.mul_(2.0)
        assert torch.allclose(lin(x), 2 * first - lin.bias, atol=1e-6)
    opt = torch.optim.SGD(lin.parameters(), lr=0.5)
    lin(x).sum().backward()
    opt.step()
    with torch.no_grad():
        assert torch.allclose(lin(x), x @ lin.weight.t() + lin.bias, atol=1e-6)
    lin.load_state_dict(layer(7).state_dict())
    with torch.no_grad():
        assert torch.allclose(lin(x), layer(7)(x), atol=1e-6)


def test_step_and_sequence_inputs_agree() -> None:
    """The fast 2-D path and the batched 3-D path give the same numbers."""
    lin = layer(bias=False)
    x = torch.randn(2, 3, 5)
    with torch.no_grad():
        y = lin(x)
        for t in range(3):
            assert torch.allclose(lin(x[:, t]), y[:, t], atol=1e-6)


def test_adapter_is_zero_impact_and_folds_exactly() -> None:
    """A new adapter changes nothing; after training, folding keeps the outputs."""
    lin = layer()
    x = torch.randn(6, 5)
    ref = lin(x).detach()
    lin.add_adapter(2, torch.Generator().manual_seed(1))
    assert lin.adapter_rank == 2
    assert torch.equal(lin(x).detach(), ref)
    with pytest.raises(GenomeError):
        lin.add_adapter(2)
    assert lin.lora_b is not None
    with torch.no_grad():
        lin.lora_b.normal_()
    trained = lin(x).detach()
    assert not torch.allclose(trained, ref)
    lin.adapters_enabled = False
    assert torch.allclose(lin(x), ref, atol=1e-6)
    lin.adapters_enabled = True
    lin.fold_adapter()
    assert torch.allclose(lin(x), trained, atol=1e-5)
    assert not lin.lora_b.any()
    lin.remove_adapter()
    assert lin.adapter_rank == 0 and torch.allclose(lin(x), trained, atol=1e-5)


def test_pruned_tethers_silence_the_adapter() -> None:
    """An adapter cannot revive a pruned connection, so folding stays exact."""
    lin = layer()
    lin.add_adapter(2, torch.Generator().manual_seed(1))
    assert lin.lora_b is not None
    with torch.no_grad():
        lin.lora_b.normal_()
        lin.tether[0] = 0.0
    assert not lin.effective_weight()[0].any()


def test_take_rows_and_cols_reshape_everything() -> None:
    """Row and column selection reshape weight, tether, bias and adapter together."""
    lin = layer()
    lin.add_adapter(2)
    lin.take_rows(torch.tensor([3, 1, 1]))
    lin.take_cols(torch.tensor([0, 4]), torch.tensor([0.5, 2.0]))
    assert lin.weight.shape == lin.tether.shape == (3, 2)
    assert lin.bias is not None and lin.bias.shape == (3,)
    assert lin.lora_a is not None and lin.lora_a.shape == (2, 2)
    assert lin.lora_b is not None and lin.lora_b.shape == (3, 2)
    assert (lin.in_features, lin.out_features) == (2, 3)
    assert lin(torch.randn(4, 2)).shape == (4, 3)


def test_net2net_split_preserves_sums() -> None:
    """Split scales of every source's copies add up to one."""
    g = torch.Generator().manual_seed(0)
    m = widen_mapping(4, 9, g)
    assert m[:4].tolist() == [0, 1, 2, 3] and m.numel() == 9
    s = split_scales(m, g)
    total = torch.zeros(4).index_add_(0, m, s)
    assert torch.allclose(total, torch.ones(4))
    with pytest.raises(GenomeError):
        widen_mapping(4, 3)


def test_compatibility() -> None:
    """Cosine of tethered weights: 1 with itself, lower for another init, error on shape."""
    a, b = layer(0), layer(1)
    assert compatibility(a, a) == pytest.approx(1.0)
    assert compatibility(a, b) < 0.9
    with torch.no_grad():
        b.weight.copy_(-a.weight)
    assert compatibility(a, b) == pytest.approx(-1.0)
    with pytest.raises(InsituError, match="shapes"):
        compatibility(a, TLinear(3, 4))
    with pytest.raises(GenomeError, match="differ"):
        unit_compatibility(a, torch.nn.Sequential(TLinear(5, 4)))


def test_invalid_sizes_raise() -> None:
    """Zero sizes raise a GenomeError that says what to check."""
    with pytest.raises(GenomeError, match="positive"):
        TLinear(0, 3)


def test_copies_and_moves_drop_the_cache() -> None:
    """Deep copies, pickles and device/dtype moves never reuse a stale inference cache."""
    lin = layer()
    x = torch.randn(2, 5)
    with torch.inference_mode():
        ref = lin(x)
    twin = copy.deepcopy(lin)
    assert twin._cache is None
    buf = io.BytesIO()
    torch.save(lin, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    with torch.no_grad():
        assert torch.equal(twin(x), ref) and torch.equal(loaded(x), ref)
        lin.double()
        assert lin(x.double()).dtype == torch.float64
