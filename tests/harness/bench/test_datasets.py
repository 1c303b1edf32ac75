"""Benchmark data: the data folder, the nanoGPT split of tiny shakespeare, the digits split."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.bench import datasets
from harness.bench.cli import bench
from harness.cli import main
from harness.errors import DataError


def test_finds_shared_data_beside_the_checkout(shared_data: Path) -> None:
    """Without --data the folder is found by walking up from the package."""
    assert datasets.find_data_dir().resolve() == shared_data.resolve()


def test_missing_given_folder_names_the_option(tmp_path: Path) -> None:
    """A --data folder that does not exist raises an error naming --data."""
    with pytest.raises(DataError) as err:
        datasets.find_data_dir(tmp_path / "nope")
    assert "--data" in str(err.value)


def test_no_folder_anywhere_names_the_option(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:  # fmt: skip
    """When no shared/data is found up the tree the error says to pass --data."""
    monkeypatch.setattr(datasets, "_candidates", lambda start: [tmp_path / "none"])
    with pytest.raises(DataError) as err:
        datasets.find_data_dir()
    assert "--data DIR" in str(err.value)


def test_cli_reports_a_missing_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`insitu bench shakespeare --data MISSING` exits 1 with the message, no traceback."""
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "shakespeare", "--data", str(tmp_path / "gone"), "--seconds", "1"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "--data" in err and "Traceback" not in err


def test_folder_without_the_corpus(tmp_path: Path) -> None:
    """A data folder without tinyshakespeare/input.txt is refused with a clear message."""
    result = CliRunner().invoke(bench, ["shakespeare", "--data", str(tmp_path), "--seconds", "1"])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError) and "tinyshakespeare" in str(result.exception)


def test_shakespeare_split_is_nanogpts(shared_data: Path) -> None:
    """Train is the first 90% of the file and val the last 10%."""
    split = datasets.load_shakespeare(shared_data)
    data = (shared_data / "tinyshakespeare" / "input.txt").read_bytes()
    n = int(0.9 * len(data))
    assert split.train == data[:n] and split.val == data[n:]
    assert len(split.val) == 111_540
    small = datasets.load_shakespeare(shared_data, limit=10_000)
    assert (len(small.train), len(small.val)) == (9_000, 1_000)


def test_digits_split_is_fixed() -> None:
    """The digits split is stratified, 25% test, and the same on every call."""
    a, b = datasets.load_digits_split(), datasets.load_digits_split()
    assert a.x_train.shape == (1347, 64) and a.x_test.shape == (450, 64)
    assert (a.y_test == b.y_test).all() and (a.x_train == b.x_train).all()
    pictures = a.images(a.x_test[:3])
    assert pictures[0].shape == (8, 8, 1) and pictures[0].dtype.name == "uint8"
