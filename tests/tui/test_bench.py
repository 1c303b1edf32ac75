"""The key-press latency measurement runs and reports sane numbers (no time limit asserted)."""

from __future__ import annotations

from tui_helpers import scripted

from tui.bench import measure_keypress_latency, percentile


def test_percentile_interpolates() -> None:
    """Percentiles interpolate between the sorted values."""
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) == 0.0


def test_measure_keypress_latency_reports_each_press(profile_name: str) -> None:
    """Ten presses give ten timings, ordered p50 <= p95 <= max."""
    result = measure_keypress_latency("ui", presses=10, session_factory=scripted())
    assert result.presses == 10 and result.model == "scripted-1k"
    assert 0 < result.p50_ms <= result.p95_ms <= result.max_ms
    assert set(result.to_dict()) == {"presses", "p50_ms", "p95_ms", "max_ms", "mean_ms",
                                     "model"}
