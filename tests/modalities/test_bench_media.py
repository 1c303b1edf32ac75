"""`insitu bench mnist|fsdd`: the commands run end to end on tiny budgets and report JSON rows."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from harness.cli import cli


@pytest.mark.slow
def test_bench_mnist_json_has_insitu_and_lenet5() -> None:
    """An 8-second MNIST run on 400 digits reports both contenders with accuracies and sizes."""
    res = CliRunner().invoke(cli, ["bench", "mnist", "--seconds", "8", "--limit", "400",
                                   "--workers", "0", "--threads", "1", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    rows = {c["name"]: c for c in report["contenders"]}
    assert set(rows) == {"insitu", "lenet5"}
    assert rows["lenet5"]["parameters"] == 61_706
    assert rows["insitu"]["parameters"] <= 20_000
    for row in rows.values():
        assert 0.0 <= row["metrics"]["test_accuracy"] <= 1.0
    assert report["targets"][0]["met"] in (True, False)


@pytest.mark.slow
def test_bench_fsdd_table_shows_both_baselines() -> None:
    """A 2-second FSDD run on the standard split prints the SVM and 1-D CNN rows and a target."""
    res = CliRunner().invoke(cli, ["bench", "fsdd", "--seconds", "2", "--split", "standard",
                                   "--contender", "svm", "--contender", "cnn1d",
                                   "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert "svm (standard)" in res.stdout and "cnn1d (standard)" in res.stdout
    assert "target n/a" in res.stdout  # the insitu contender was not run


def test_bench_fsdd_refuses_a_zero_budget() -> None:
    """--seconds 0 is a clear error, before any data is read."""
    res = CliRunner().invoke(cli, ["bench", "fsdd", "--seconds", "0"])
    assert res.exit_code == 1 and "--seconds must be above 0" in str(res.exception)
