"""`insitu bench chat` measures a real chat session with and without a real worker process."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from harness.cli import cli


@pytest.mark.slow
def test_bench_chat_json_reports_both_phases_and_the_worker() -> None:
    """Both phases have first-token and rating timings; the worker's CPU and memory are seen."""
    res = CliRunner().invoke(cli, ["bench", "chat", "--replies", "2", "--ratings", "2",
                                   "--max-tokens", "16", "--warmup", "2", "--keys", "3",
                                   "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.output[res.output.index("{"):])
    assert [p["phase"] for p in report["phases"]] == ["idle", "with worker"]
    for phase in report["phases"]:
        assert phase["replies"] == 2 and phase["ratings"] == 2
        assert 0 < phase["first_token_ms_p50"] <= phase["first_token_ms_p95"]
        assert 0 < phase["rating_to_update_ms_p50"] <= phase["rating_to_update_ms_p95"]
    worker = report["worker"]
    assert worker["processes"] >= 1 and worker["peak_rss_mb"] > 50 and worker["cpu_cores"] > 0
    assert report["keys"]["presses"] == 3


def test_bench_chat_table_without_worker_or_keys() -> None:
    """--no-worker --keys 0 gives the idle phase only, as a table with its column names."""
    res = CliRunner().invoke(cli, ["bench", "chat", "--replies", "1", "--ratings", "1",
                                   "--max-tokens", "8", "--no-worker", "--keys", "0"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "1st token p50 ms" in res.output and "with worker" not in res.output
    assert "worker CPU" not in res.output and "key presses" not in res.output
