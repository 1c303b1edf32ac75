"""`insitu bench shakespeare` and `insitu bench digits` end to end on tiny budgets and slices."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.bench.cli import bench


def invoke(*args: str) -> Any:
    """Run `insitu bench ARGS` and return the result (stderr kept apart from stdout)."""
    result = CliRunner().invoke(bench, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def finite(value: Any) -> bool:
    """Return True for a finite number."""
    return isinstance(value, int | float) and math.isfinite(value)


def test_shakespeare_baselines_as_json(shared_data: Path) -> None:
    """Every baseline row has finite bits/char; the neural ones also size, FLOPs and time."""
    out = invoke("shakespeare", "--data", str(shared_data), "--seconds", "1", "--limit", "12000",
                 "--params", "20000", "--threads", "1", "--contender", "gru", "--contender",
                 "transformer", "--contender", "compressors", "--json")  # fmt: skip
    report = json.loads(out.stdout)
    assert report["bench"] == "shakespeare" and report["settings"]["val_chars"] == 1200
    rows = {r["name"]: r for r in report["contenders"]}
    assert set(rows) == {"gzip -9", "bzip2 -9", "xz -9e", "gru", "transformer"}
    for row in rows.values():
        assert finite(row["metrics"]["static_bpc"]), row["name"]
    for name in ("gru", "transformer"):
        row = rows[name]
        assert finite(row["metrics"]["progressive_bpc"])
        assert 10_000 < row["parameters"] < 30_000 and row["flops"] > 0
        assert row["wall_s"] >= 1.0 and row["details"]["steps"] >= 1
    assert all(t["met"] is None for t in report["targets"])  # insitu did not run


def test_shakespeare_table(shared_data: Path) -> None:
    """The table has a header with every column and one line per contender."""
    out = invoke("shakespeare", "--data", str(shared_data), "--seconds", "1", "--limit", "5000",
                 "--contender", "compressors", "--params", "20000")  # fmt: skip
    lines = out.stdout.splitlines()
    assert lines[0].startswith("bench shakespeare: seconds=1.0")
    for column in ("contender", "params", "FLOPs/byte", "wall s", "static bpc",
                   "progressive bpc", "notes"):  # fmt: skip
        assert column in lines[1]
    assert lines[2].startswith("---") and lines[3].startswith("gzip -9")
    assert any(line.startswith("target n/a") for line in lines)


@pytest.mark.slow
def test_shakespeare_insitu_contender(shared_data: Path) -> None:
    """The evolved champion gets finite static and progressive bits/char and its targets."""
    out = invoke("shakespeare", "--data", str(shared_data), "--seconds", "6", "--limit", "30000",
                 "--contender", "insitu", "--workers", "0", "--threads", "1", "--json")  # fmt: skip
    report = json.loads(out.stdout)
    (row,) = report["contenders"]
    assert row["name"] == "insitu" and row["parameters"] > 0 and row["flops"] > 0
    assert finite(row["metrics"]["static_bpc"]) and finite(row["metrics"]["progressive_bpc"])
    assert row["details"]["val_chunks"] >= 1
    assert report["targets"][0]["met"] in (True, False)


@pytest.mark.slow
def test_digits_every_contender(insitu_home: Path) -> None:
    """All four contenders report a test accuracy; the temporary profile is cleaned up."""
    out = invoke("digits", "--seconds", "6", "--limit", "300", "--workers", "0", "--threads", "1",
                 "--json")  # fmt: skip
    report = json.loads(out.stdout)
    rows = {r["name"]: r for r in report["contenders"]}
    assert set(rows) == {"insitu", "logistic", "mlp", "svm"}
    for row in rows.values():
        assert 0.0 <= row["metrics"]["test_accuracy"] <= 1.0, row["name"]
        assert row["parameters"] > 0 and row["flops"] > 0
    assert report["settings"]["test_images"] == 75
    assert report["targets"][0]["met"] in (True, False)
    assert not list((insitu_home / "bench").glob("run-*"))  # the sandbox is gone


def test_digits_baselines_table() -> None:
    """The digits table shows FLOPs per image and the test accuracy in percent."""
    out = invoke("digits", "--contender", "logistic", "--contender", "svm", "--limit", "300")
    lines = out.stdout.splitlines()
    assert "FLOPs/image" in lines[1] and "test acc %" in lines[1]
    assert lines[3].startswith("logistic") and lines[4].startswith("svm")


def test_zero_seconds_is_refused() -> None:
    """A budget of 0 seconds is refused before anything runs."""
    result = CliRunner().invoke(bench, ["digits", "--seconds", "0"])
    assert result.exit_code != 0 and "--seconds" in str(result.exception)
