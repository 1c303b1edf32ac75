"""Conditional compression baselines: bits per byte of `val` given `train` with gzip, bzip2, xz."""

from __future__ import annotations

import bz2
import gzip
import lzma
import time
from collections.abc import Callable

from harness.bench.report import Contender
from harness.errors import DataError

Codec = Callable[[bytes], bytes]

CODECS: dict[str, Codec] = {
    "gzip -9": lambda b: gzip.compress(b, compresslevel=9, mtime=0),
    "bzip2 -9": lambda b: bz2.compress(b, compresslevel=9),
    "xz -9e": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
}


def conditional_bits(codec: Codec, train: bytes, val: bytes) -> float:
    """Return 8 * (|C(train + val)| - |C(train)|) / |val|: the bits per byte of val given train."""
    if not val:
        raise DataError("the held-out text is empty", "give a corpus with a validation part")
    return 8.0 * (len(codec(train + val)) - len(codec(train))) / len(val)


def compression_contenders(train: bytes, val: bytes) -> list[Contender]:
    """Return one row per codec: conditional bits/char of val given train, and the time taken."""
    rows = []
    for name, codec in CODECS.items():
        start = time.perf_counter()
        bits = conditional_bits(codec, train, val)
        rows.append(
            Contender(
                name=name,
                kind="compressor",
                wall_s=time.perf_counter() - start,
                metrics={"static_bpc": bits},
                notes="conditional: C(train+val) - C(train)",
            )
        )
    return rows
