"""The control vector: decayed averages of ratings and sentiment, time since the last exchange."""

from __future__ import annotations

import pytest

from harness.online.control import SIZE, ControlState, Decayed

DAY = 24 * 3600.0


def test_decayed_mean_halves_weight_each_half_life() -> None:
    """An observation's weight halves every half-life; the mean is a weighted average."""
    d = Decayed()
    d.add(1.0, now=0.0, half_life_s=DAY)
    assert d.decayed(DAY, DAY) == pytest.approx((0.5, 0.5))
    d.add(-1.0, now=DAY, half_life_s=DAY)  # old +1 weighs 0.5, new -1 weighs 1
    assert d.mean(DAY, DAY) == pytest.approx((0.5 - 1.0) / 1.5)


def test_vector_reflects_signals_and_fades() -> None:
    """Ratings and sentiment move the vector; their last values fade with age; idle grows."""
    c = ControlState(half_life_s=DAY)
    c.observe("exchange", now=1000.0)
    c.observe("rating", 1.0, now=1000.0)
    c.observe("sentiment", -0.5, now=1000.0)
    v = c.vector(now=1000.0)
    assert len(v) == SIZE and all(-1.0 <= x <= 1.0 for x in v)
    assert v[0] == pytest.approx(1.0) and v[1] == pytest.approx(-0.5)
    assert v[4] == pytest.approx(1.0) and v[6] == pytest.approx(0.0) and v[7] == 1.0
    later = c.vector(now=1000.0 + DAY)
    assert later[4] == pytest.approx(0.5) and later[6] > 0.99
    assert later[0] == pytest.approx(1.0)  # a mean of one rating stays that rating


def test_round_trip_and_bad_data() -> None:
    """The state survives to_dict/from_dict; unreadable data gives a fresh state."""
    c = ControlState(half_life_s=DAY)
    c.observe("rating", -1.0, now=5.0)
    c.observe("correction", now=6.0)
    back = ControlState.from_dict(c.to_dict(), DAY)
    assert back.vector(now=10.0) == c.vector(now=10.0)
    assert ControlState.from_dict({"ratings": "nonsense"}, DAY).vector(now=1.0)[0] == 0.0
