"""`insitu bench serve` measures the served champion and pairs/min from it, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli, main
from tests.teachers.helpers import install_champion


def test_bench_serve_json_has_client_runs_and_a_teach_rate(champion_ckpt: Path) -> None:
    """Every client run answers without errors and synthesis from the served model is timed."""
    install_champion("mentor", champion_ckpt)
    res = CliRunner().invoke(cli, ["bench", "serve", "-p", "mentor", "--clients", "1",
                                   "--clients", "2", "--requests", "2", "--max-tokens", "8",
                                   "--pairs", "3", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert [r["clients"] for r in report["runs"]] == [1, 2]
    assert all(r["errors"] == 0 and r["requests_per_s"] > 0 for r in report["runs"])
    assert report["teach"]["seconds"] > 0 and report["teach"]["pairs"] >= 0


def test_bench_serve_table_and_bad_options(champion_ckpt: Path) -> None:
    """The table names its columns and leaves out synthesis with --pairs 0."""
    install_champion("mentor", champion_ckpt)
    runner = CliRunner()
    res = runner.invoke(cli, ["bench", "serve", "-p", "mentor", "--clients", "1",
                              "--requests", "1", "--max-tokens", "4", "--pairs", "0"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "req/s" in res.output and "ttft p50 ms" in res.output and "pairs/min" not in res.output


def test_bench_serve_refuses_a_zero_client_count(capsys: pytest.CaptureFixture[str]) -> None:
    """A zero client count is refused with the next step, before anything is served."""
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "serve", "--clients", "0"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "at least 1" in err and "->" in err
