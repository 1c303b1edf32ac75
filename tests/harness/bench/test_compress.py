"""Conditional compression: bits per byte of val given train."""

from __future__ import annotations

import math
import random

import pytest

from harness.bench.compress import CODECS, compression_contenders, conditional_bits
from harness.errors import DataError


def test_formula_on_a_known_codec() -> None:
    """The measure is 8 * (|C(train + val)| - |C(train)|) / |val|."""
    def half(b: bytes) -> bytes:
        return b[: len(b) // 2]

    train, val = b"x" * 100, b"y" * 50
    assert conditional_bits(half, train, val) == 8 * (75 - 50) / 50


def test_repeated_text_is_nearly_free_and_noise_costs_eight_bits() -> None:
    """Val repeating train costs under a bit per byte; random bytes cost about eight or more."""
    train = b"To be, or not to be, that is the question. " * 200
    noise = random.Random(0).randbytes(4000)
    for name, codec in CODECS.items():
        assert conditional_bits(codec, train, train[:2000]) < 0.5, name
        assert 7.5 < conditional_bits(codec, train, noise) < 9.5, name


def test_every_codec_gives_a_row() -> None:
    """compression_contenders returns gzip, bzip2 and xz rows with finite bits per char."""
    rows = compression_contenders(b"abcabcabd" * 300, b"abcabd" * 50)
    assert [r.name for r in rows] == list(CODECS)
    assert all(math.isfinite(r.metrics["static_bpc"] or math.nan) for r in rows)


def test_empty_val_is_refused() -> None:
    """An empty held-out text raises DataError."""
    with pytest.raises(DataError):
        conditional_bits(CODECS["gzip -9"], b"abc", b"")
