"""The mnist and spoken-digits templates end to end: `insitu data add` of (a subset of) the shared
data, then evolution finds image and audio classifiers far above chance."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.data.idx import read_idx
from harness.evolve import InlineEvaluator
from harness.evolve.engine import run
from harness.profile import Profile

#: A tiny evolution: two small seeds and one child, each trained 150 steps (deterministic under
#: load, unlike a budget in seconds).
SMALL = {"population": 2, "offspring": 1, "train_seconds": 0.0, "train_steps": 150,
         "max_params": 30_000, "min_params": 3_000}


def champion_accuracy(prof: Profile) -> float:
    """Return the held-out accuracy of the profile's champion."""
    rows = prof.store.query("SELECT metrics FROM individuals WHERE status = 'champion'")
    assert rows, "evolution stored no champion"
    import json

    return float(json.loads(rows[0]["metrics"])["accuracy"])


def idx_subset(src: Path, dst: Path, name: str, n: int) -> None:
    """Copy the first `n` items of an MNIST images/labels pair into gzipped IDX files."""
    for kind, idx in (("images", "idx3"), ("labels", "idx1")):
        arr = read_idx(src / f"{name}-{kind}-{idx}-ubyte.gz")[:n]
        head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big")
                                                     for d in arr.shape)
        (dst / f"{name}-{kind}-{idx}-ubyte.gz").write_bytes(gzip.compress(head + arr.tobytes()))


@pytest.mark.slow
def test_mnist_template_data_add_then_evolve(tmp_path: Path, shared_data: Path) -> None:
    """MNIST IDX files added to an mnist profile evolve a digit classifier (> 50% held out)."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    idx_subset(shared_data / "mnist", folder, "train", 3000)
    idx_subset(shared_data / "mnist", folder, "t10k", 500)
    runner = CliRunner()
    assert runner.invoke(cli, ["profile", "create", "m", "--from", "mnist"]).exit_code == 0
    res = runner.invoke(cli, ["data", "add", "-p", "m", str(folder)])
    assert res.exit_code == 0, res.output
    assert "mnist: 3000 train, 500 held out" in res.output
    with Profile.open("m") as prof:
        summary = run(prof, generations=1, settings=SMALL, evaluator=InlineEvaluator())
        assert summary.evaluations >= 2
        assert champion_accuracy(prof) > 0.5


@pytest.mark.slow
def test_spoken_digits_template_data_add_then_evolve(tmp_path: Path, shared_data: Path) -> None:
    """FSDD recordings added to a spoken-digits profile evolve an audio classifier (> 30%)."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for wav in (shared_data / "fsdd" / "recordings").glob("*_jackson_*.wav"):
        shutil.copy(wav, folder / wav.name)
    runner = CliRunner()
    res = runner.invoke(cli, ["profile", "create", "s", "--from", "spoken-digits"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["data", "add", "-p", "s", str(folder)])
    assert res.exit_code == 0 and "spoken-digits: 450 train, 50 held out" in res.output
    with Profile.open("s") as prof:
        run(prof, generations=1, settings=SMALL, evaluator=InlineEvaluator())
        assert champion_accuracy(prof) > 0.3
