"""Fixtures for modality tests: real MNIST digits and spoken digits from ../shared/data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest


def read_idx(path: Path) -> np.ndarray:
    """Parse a gzip IDX file (big-endian header: magic, dims) into a uint8 array."""
    with gzip.open(path) as fh:
        raw = fh.read()
    magic = int.from_bytes(raw[0:4], "big")
    assert magic >> 8 == 0x08, f"{path} is not an unsigned-byte IDX file (magic {magic})"
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """Return the first 50 MNIST test digits [50, 28, 28] and their labels [50]."""
    root = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"
    images = read_idx(root / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(root / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    return images[:50].copy(), labels[:50].copy()


@pytest.fixture
def fsdd(shared_data: Path) -> Path:
    """Return the folder of Free Spoken Digit Dataset recordings (8 kHz, 16-bit mono wavs)."""
    folder = shared_data / "fsdd" / "recordings"
    assert folder.is_dir(), f"expected FSDD recordings at {folder}"
    return folder
