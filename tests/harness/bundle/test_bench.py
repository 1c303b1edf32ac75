"""`insitu bench seed` runs end to end on tiny sizes and reports both targets."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from harness.bundle.bench import seed

from .helpers import DATA


@pytest.mark.slow
def test_bench_seed_prints_json_with_both_targets():
    """A tiny run reports the friend, the grown model, scratch and the two targets."""
    out = CliRunner().invoke(seed, ["--data", str(DATA), "--mnist", "200", "--fsdd", "12",
                                    "--base-steps", "20", "--grow-steps", "20", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)  # progress goes to stderr
    names = [c["name"] for c in report["contenders"]]
    assert names[0] == "friend (MNIST)" and names[2] == "from scratch"
    grown = report["contenders"][1]
    assert grown["metrics"]["gate_ratio"] >= 0.97  # a frozen base cannot forget
    assert 0.0 <= grown["metrics"]["spoken"] <= 1.0
    assert len(report["targets"]) == 2 and report["targets"][0]["met"] is True
