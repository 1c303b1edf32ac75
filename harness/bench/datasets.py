"""Benchmark data: find `../shared/data`, split tiny shakespeare as nanoGPT does, load digits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import DataError

SHAKESPEARE = Path("tinyshakespeare") / "input.txt"
TRAIN_FRACTION = 0.9
DIGITS_TEST_SIZE = 0.25
DIGITS_SEED = 42


def _candidates(start: Path) -> list[Path]:
    """Return `shared/data` beside `start` and beside each of its parents."""
    return [p / "shared" / "data" for p in [start, *start.parents]]


def find_data_dir(given: Path | None = None) -> Path:
    """Return the datasets folder: `given`, else `../shared/data` found next to the checkout."""
    if given is not None:
        if not given.is_dir():
            raise DataError(
                f"the benchmark data folder {given} does not exist",
                "give the folder that holds tinyshakespeare/ with --data DIR",
            )
        return given
    starts = [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for path in _candidates(start):
            if path.is_dir():
                return path
    raise DataError(
        "no benchmark data folder: there is no shared/data beside the checkout "
        f"(looked in every parent of {starts[0]} and of {starts[1]})",
        "point at the datasets with --data DIR (the folder holding tinyshakespeare/)",
    )


@dataclass(frozen=True)
class TextSplit:
    """A corpus split into training and validation bytes."""

    train: bytes
    val: bytes
    source: str

    @property
    def chars(self) -> int:
        """Return the corpus length (bytes; the corpus is ASCII, so also characters)."""
        return len(self.train) + len(self.val)


def load_shakespeare(data_dir: Path, limit: int | None = None) -> TextSplit:
    """Return tiny shakespeare split as nanoGPT does: first 90% train, last 10% val.

    With `limit`, only the first `limit` characters are used (for quick checks).
    """
    path = data_dir / SHAKESPEARE
    if not path.is_file():
        raise DataError(
            f"tiny shakespeare is missing: no file {path}",
            "point --data at the folder holding tinyshakespeare/input.txt",
        )
    data = path.read_bytes()
    if limit is not None:
        data = data[:limit]
    if len(data) < 1000:
        raise DataError(f"{path} holds only {len(data)} bytes", "use at least --limit 1000")
    n = int(TRAIN_FRACTION * len(data))
    return TextSplit(train=data[:n], val=data[n:], source=str(path))


@dataclass(frozen=True)
class DigitsSplit:
    """scikit-learn's 8x8 digits: pixels in [0, 1] ([N, 64]) and labels, train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def images(self, x: np.ndarray) -> list[np.ndarray]:
        """Return uint8 [8, 8, 1] pictures of rows of `x`."""
        pixels = np.rint(x * 255.0).clip(0, 255).astype(np.uint8)  # [N, 64]
        return list(pixels.reshape(-1, 8, 8, 1))


def load_digits_split(limit: int | None = None) -> DigitsSplit:
    """Return the bundled digits with a fixed stratified split (25% test, seed 42)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float64) / 16.0  # [N, 64] in [0, 1]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=DIGITS_TEST_SIZE, random_state=DIGITS_SEED, stratify=y
    )
    return DigitsSplit(x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64))
