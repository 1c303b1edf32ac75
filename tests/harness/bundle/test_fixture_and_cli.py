"""Committed bundles of earlier versions keep importing; the export/import/inspect commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from harness.bundle import import_bundle, inspect_bundle
from harness.bundle.export import find_champion
from harness.bundle.gate import gate_metrics, loads_examples
from harness.cli import cli
from harness.graph import checkpoint
from harness.profile import list_profiles

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("bundle-v*.insitu"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_committed_fixture_bundles_still_import(fixture):
    """Every committed bundle imports, its champion loads and reproduces its gate metrics."""
    prof = import_bundle(fixture, "old")
    champ = find_champion(prof)
    graph = checkpoint.load(champ["path"], device="cpu").eval()
    with torch.no_grad():
        logits = graph(torch.arange(10)[None] + 40)  # [1, T, V]
    assert torch.isfinite(logits).all()
    for task in prof.config.tasks:
        gate = prof.path / "bundle" / "gates" / f"{task.name}.jsonl"
        expected = json.loads(gate.with_suffix("").with_suffix(".metrics.json").read_text())
        again = gate_metrics(graph, task, loads_examples(gate.read_bytes(), "gate"),
                             prof.attachments_dir, prof.config.model)
        assert again == pytest.approx(expected["metrics"], rel=1e-4)


def test_fixture_list_is_not_empty():
    """At least the current version's fixture is committed."""
    assert FIXTURES, "run tests/harness/bundle/make_fixture.py"


def test_export_import_inspect_commands(bundle_copy, tmp_path):
    """The three commands work end to end and say what they did."""
    runner = CliRunner()
    out = runner.invoke(cli, ["import", str(bundle_copy), "--as", "pal"])
    assert out.exit_code == 0, out.output
    assert "imported copy.insitu as profile 'pal'" in out.output
    target = tmp_path / "pal.insitu"
    out = runner.invoke(cli, ["export", "-p", "pal", str(target), "--include-data",
                              "--license", "Apache-2.0"])
    assert out.exit_code == 0, out.output
    assert "data included:" in out.output and "examples" in out.output
    assert "keys: never included" in out.output
    out = runner.invoke(cli, ["bundle", "inspect", str(target)])
    assert out.exit_code == 0, out.output
    assert "license Apache-2.0" in out.output and "champion/model.safetensors" in out.output
    assert "lineage   imported as pal" in out.output
    out_json = runner.invoke(cli, ["bundle", "inspect", str(target), "--json"])
    info = json.loads(out_json.output)
    assert info["verified"] is True
    assert f"{info['champion']['params']:,} params)" in out.output  # thousands separated
    assert inspect_bundle(target)["license"] == "Apache-2.0"
    assert list_profiles() == ["pal"]


def test_bad_command_input_names_the_next_step(tmp_path):
    """A missing bundle and an export without a champion fail with a next step."""
    import subprocess
    import sys

    def insitu(*args: str) -> subprocess.CompletedProcess[str]:
        """Run the real CLI entry point."""
        return subprocess.run([sys.executable, "-c", "from harness.cli import main; main()",
                               *args], capture_output=True, text=True, timeout=120)

    missing = insitu("import", str(tmp_path / "nope.insitu"))
    assert missing.returncode == 1 and "no bundle file" in missing.stderr
    assert "->" in missing.stderr
    empty = insitu("export", "-p", "default", str(tmp_path / "x.insitu"))
    assert empty.returncode == 1 and "no champion" in empty.stderr
    assert "insitu evolve" in empty.stderr


def test_leaderboard_and_lineage_on_an_imported_profile(bundle_copy):
    """An imported profile with no run of its own lists its champion and traces its lineage."""
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(bundle_copy), "--as", "pal"]).exit_code == 0
    out = runner.invoke(cli, ["leaderboard", "-p", "pal"])
    assert out.exit_code == 0, out.output
    assert "no evolution run yet" in out.output and "champion" in out.output
    shown = runner.invoke(cli, ["leaderboard", "-p", "pal", "--json"])
    rows = json.loads(shown.output)["individuals"]
    assert rows and rows[0]["status"] == "champion" and rows[0]["params"] > 0
    out = runner.invoke(cli, ["lineage", "-p", "pal"])
    assert out.exit_code == 0, out.output
    assert rows[0]["id"][:8] in out.output
