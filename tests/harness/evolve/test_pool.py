"""The process pool: spawn workers evaluate in parallel; one above the memory bound is stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.evolve.pool import EvalSpec, InlineEvaluator, PoolEvaluator, rss_mb
from harness.graph.seeds import seed

HERE = Path(__file__).parent


def _specs(tmp: Path, n: int) -> list[tuple[int, EvalSpec]]:
    genome = seed("gru", 3000)
    return [(k, EvalSpec(genome, None, str(tmp), ["chat"], 1, 0.0, k,
                         str(tmp / f"{k}.safetensors"))) for k in range(n)]  # fmt: skip


def test_rss_of_this_process_is_read_from_proc():
    """Resident memory comes from /proc without psutil."""
    import os

    assert rss_mb(os.getpid()) > 10
    assert rss_mb(2**22 + 12345) == 0.0


def test_the_inline_evaluator_stops_when_fit_says_so(tmp_path):
    """Submission stops at the first spec `fit` refuses (a deadline)."""
    from .helpers import fake_eval

    seen = []

    def fit(spec):
        return spec if spec.seed < 2 else None

    for key, out in InlineEvaluator(fake_eval).evaluate(_specs(tmp_path, 4), fit):
        seen.append(key)
        assert out.error is None
    assert seen == [0, 1]


@pytest.mark.slow
def test_a_worker_above_the_memory_bound_is_stopped_and_others_finish(tmp_path):
    """Seed 1 allocates 900 MiB: its worker is killed; the others finish; close() tidies up."""
    sys.path.insert(0, str(HERE))  # spawn workers import `helpers` by name
    try:
        from helpers import hungry_eval  # type: ignore[import-not-found]

        pool = PoolEvaluator(workers=2, memory_mb=700, fn=hungry_eval)
        results = dict(pool.evaluate(_specs(tmp_path, 3)))
        markers = Path(str(pool._markers))
        assert markers.is_dir()
        pool.close()
        assert not markers.exists()  # no empty insitu-evolve-* folder left in /tmp
    finally:
        sys.path.remove(str(HERE))
    assert sorted(results) == [0, 1, 2]
    assert "memory bound" in (results[1].error or "")
    for k in (0, 2):
        assert results[k].error is None and Path(results[k].checkpoint).exists()
