"""`insitu eval`: the champion measured on the person's own, never-seen files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import registry
from harness.cli import cli
from harness.genome import canonical_json, content_hash
from harness.graph.checkpoint import save
from harness.store.population import add_individual, put_genome
from harness.train.cli import eval_cmd

from ..tasks.helpers import graph_for, text_profile

TEXT = "now is the winter of our discontent made glorious summer by this sun of york. "


@pytest.fixture(autouse=True)
def eval_command() -> Iterator[None]:
    """Register `insitu eval` for the test (the package's entry point does it when installed)."""
    had = "eval" in registry.commands.loaded()
    registry.commands.register("eval", eval_cmd)
    yield
    if not had:
        registry.commands.unregister("eval")


def add_champion(name: str = "p") -> None:
    """Store a small untrained GRU as the profile's champion, where `insitu evolve` puts one."""
    with text_profile(name) as prof:
        graph = graph_for({"shakespeare": {"op": "lm", "args": {}}})
        rel = "checkpoints/evolve/RUN/g0000-s000.safetensors"
        (prof.path / rel).parent.mkdir(parents=True)
        save(graph, prof.path / rel)
        gid = put_genome(prof.store, content_hash(graph.genome), canonical_json(graph.genome),
                         graph.family, graph.num_parameters())
        add_individual(prof.store, gid, checkpoint=rel, status="champion")


def test_eval_prints_bits_per_byte_of_a_heldout_text_file(tmp_path: Path) -> None:
    """`insitu eval --task shakespeare FILE` prints the champion's bits per byte; --json too."""
    add_champion()
    test_file = tmp_path / "mine.txt"
    test_file.write_text(TEXT * 20)
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", "-p", "p", "--task", "shakespeare", str(test_file)])
    assert res.exit_code == 0, res.output
    assert "bpb" in res.output and "champion" in res.output
    res = runner.invoke(cli, ["eval", "-p", "p", "--task", "shakespeare", str(test_file),
                              "--json", "--progressive", "--budget", "500"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert 6 < out["metrics"]["bpb"] < 10 and "progressive_bpb" in out["metrics"]
    assert out["examples"] == 1 and out["files"][0]["added"] == 1


def test_eval_without_champion_names_insitu_evolve(tmp_path: Path) -> None:
    """A profile with no champion gets an error that says to run `insitu evolve`."""
    text_profile().close()
    (tmp_path / "t.txt").write_text(TEXT)
    res = CliRunner().invoke(cli, ["eval", "-p", "p", "--task", "shakespeare",
                                   str(tmp_path / "t.txt")])
    assert res.exit_code != 0
    assert "no champion" in str(res.exception) and "insitu evolve" in str(res.exception)


def test_eval_says_which_test_files_the_profile_already_holds(tmp_path: Path) -> None:
    """A test file that was added to the profile is counted and named as not unseen."""
    from harness.data.ingest import add_paths
    from harness.profile import Profile

    add_champion()
    known, fresh = tmp_path / "known.txt", tmp_path / "fresh.txt"
    known.write_text(TEXT * 20)
    fresh.write_text("a plague on both your houses, they have made worms' meat of me. " * 20)
    with Profile.open("p") as prof:
        (report,) = add_paths(prof, [known], "shakespeare")
        split = "heldout" if report.heldout else "train"
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", "-p", "p", "--task", "shakespeare", str(known),
                              str(fresh), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["already_in_profile"] == {"train": 0, "heldout": 0, split: 1}
    res = runner.invoke(cli, ["eval", "-p", "p", "--task", "shakespeare", str(known)])
    assert "on 1 example of task" in res.output and "unseen" not in res.output
    assert "note: 1 of them is" in res.output
    res = runner.invoke(cli, ["eval", "-p", "p", "--task", "shakespeare", str(fresh)])
    assert "on 1 unseen example of task" in res.output and "note:" not in res.output
