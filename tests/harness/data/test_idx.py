"""MNIST IDX files: real digits from ../shared/data/mnist, gzipped or plain, and broken files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.data.idx import read_idx
from harness.data.ingest import add_paths
from harness.errors import DataError
from harness.profile import Profile
from harness.store.examples import iter_examples, split_counts
from harness.tasks.label import label_of


def idx_bytes(arr: np.ndarray) -> bytes:
    """Return the IDX encoding of a uint8 array (magic 0x0803 for 3 dims, 0x0801 for 1)."""
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def mnist_small() -> dict[str, np.ndarray]:
    """Return 120 real training and 40 real test digits with their labels."""
    root = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "mnist"
    out = {}
    for name in ("train", "t10k"):
        n = 120 if name == "train" else 40
        out[f"{name}-images"] = read_idx(root / f"{name}-images-idx3-ubyte.gz")[:n].copy()
        out[f"{name}-labels"] = read_idx(root / f"{name}-labels-idx1-ubyte.gz")[:n].copy()
    return out


def write_set(folder: Path, data: dict[str, np.ndarray], gz: bool = True) -> Path:
    """Write MNIST-named IDX files (gzipped or plain) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, arr in data.items():
        name = key.replace("-images", "-images-idx3-ubyte").replace("-labels", "-labels-idx1-ubyte")
        raw = idx_bytes(arr)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return folder


def test_read_idx_matches_the_shared_files(mnist_small: dict[str, np.ndarray]) -> None:
    """The reader gives the MNIST shapes and labels 0..9."""
    assert mnist_small["train-images"].shape == (120, 28, 28)
    assert set(mnist_small["train-labels"].tolist()) == set(range(10))


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_adds_digits_with_test_file_held_out(tmp_path: Path, gz: bool,
                                                        mnist_small: dict[str, np.ndarray]) -> None:
    """A folder of IDX files adds every digit inline; the t10k file is the held-out split."""
    folder = write_set(tmp_path / "mnist", mnist_small, gz)
    with Profile.create("m", "mnist") as prof:
        (report,) = add_paths(prof, [folder])
        assert report.format == "idx" and report.rejected is None
        assert report.added == 160 and report.heldout == 40
        assert sum(report.per_class.values()) == 160
        assert split_counts(prof.store) == {"mnist": {"train": 120, "heldout": 40}}
        held = list(iter_examples(prof.store, "mnist", "heldout"))
        got = np.stack([ex.prompt[0].image[..., 0] for ex in held])  # type: ignore[index]
        assert np.array_equal(got, mnist_small["t10k-images"])
        assert [label_of(ex) for ex in held] == [str(x) for x in mnist_small["t10k-labels"]]
        assert not any(prof.attachments_dir.rglob("*")) if prof.attachments_dir.exists() else True
        again = add_paths(prof, [folder])
        assert again[0].added == 0 and again[0].duplicates == 160


def test_images_file_alone_finds_its_labels(tmp_path: Path,
                                            mnist_small: dict[str, np.ndarray]) -> None:
    """Naming the images file reads the labels beside it; a labels file alone adds nothing."""
    folder = write_set(tmp_path / "m", {k: v for k, v in mnist_small.items() if "train" in k})
    with Profile.create("m", "mnist") as prof:
        images, labels = add_paths(prof, [folder / "train-images-idx3-ubyte.gz",
                                          folder / "train-labels-idx1-ubyte.gz"])
        assert images.added == 120 and 0 < images.heldout < 40  # hash split: no test file
        assert labels.added == 0 and labels.rejected is None and "labels file" in labels.problems[0]


def test_truncated_idx_is_rejected_and_nothing_added(tmp_path: Path,
                                                     mnist_small: dict[str, np.ndarray]) -> None:
    """An images file cut short is rejected with both sizes; the profile gains nothing from it."""
    folder = write_set(tmp_path / "m", mnist_small, gz=False)
    path = folder / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:5000])
    with Profile.create("m", "mnist") as prof:
        (report,) = add_paths(prof, [folder])
        assert report.rejected and "truncated" in report.rejected
        assert report.added == 0 and split_counts(prof.store) == {}


def test_missing_labels_and_bad_magic_are_clear(tmp_path: Path,
                                                mnist_small: dict[str, np.ndarray]) -> None:
    """An images file without labels, and a file that is not IDX, each say what to do."""
    folder = write_set(tmp_path / "m", {"train-images": mnist_small["train-images"]})
    bad = tmp_path / "x" / "foo-images-idx3-ubyte"
    bad.parent.mkdir()
    bad.write_text("not idx at all")
    with Profile.create("m", "mnist") as prof:
        first, second = add_paths(prof, [folder / "train-images-idx3-ubyte.gz", bad])
        assert first.rejected and "no labels file" in first.rejected
        assert second.rejected and "bad magic" in second.rejected
    with pytest.raises(DataError, match="not a readable gzip"):
        (tmp_path / "y.gz").write_bytes(b"nope")
        read_idx(tmp_path / "y.gz")


def test_cli_summary_per_class_and_json(tmp_path: Path,
                                        mnist_small: dict[str, np.ndarray]) -> None:
    """`insitu data add` prints counts per class; --json carries them per file."""
    folder = write_set(tmp_path / "mnist", mnist_small)
    runner = CliRunner()
    assert runner.invoke(cli, ["profile", "create", "m", "--from", "mnist"]).exit_code == 0
    res = runner.invoke(cli, ["data", "add", "-p", "m", str(folder)])
    assert res.exit_code == 0, res.output
    counts = {str(d): int((np.concatenate([mnist_small["train-labels"],
                                          mnist_small["t10k-labels"]]) == d).sum())
              for d in range(10)}
    assert f"0: {counts['0']}, 1: {counts['1']}" in res.output
    res = runner.invoke(cli, ["data", "add", "-p", "m", str(folder), "--json"])
    data = json.loads(res.output)
    assert data["files"][0]["duplicates"] == 160 and data["totals"]["mnist"]["heldout"] == 40
