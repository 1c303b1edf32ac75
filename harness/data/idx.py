"""MNIST-style IDX files (optionally gzipped): an images file and its labels file beside it.

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions, one
32-bit size per dimension) followed by the values. `train-images-idx3-ubyte[.gz]` is paired with
`train-labels-idx1-ubyte[.gz]` in the same folder. Files whose name starts with `t10k` or holds
`test` are the data set's own test split and become held-out examples (the matching train file
then goes entirely to the training split). Images stay inline as uint8 [H, W, 1] parts (784
bytes for a digit), so no attachment file is written per image.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np

from harness.config import TaskConfig
from harness.data.importer import FileReport, Record
from harness.errors import DataError
from harness.types import Example, Part

#: IDX files larger than this (after decompression) are refused.
MAX_IDX_BYTES = 1 << 30
_IMAGES = re.compile(r"images[-.]idx3[-.]ubyte(\.gz)?$", re.IGNORECASE)
_LABELS = re.compile(r"labels[-.]idx1[-.]ubyte(\.gz)?$", re.IGNORECASE)
#: Type codes of the IDX header and their numpy dtypes (big-endian).
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _raw(path: Path) -> bytes:
    """Return a file's bytes, gunzipped when it ends in .gz, or raise DataError."""
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path) as fh:
                data = fh.read(MAX_IDX_BYTES + 1)
        else:
            with path.open("rb") as fh:
                data = fh.read(MAX_IDX_BYTES + 1)
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise DataError(f"{path} is not a readable gzip file ({exc})",
                        "download it again, or gunzip it and add the plain file") from exc
    if len(data) > MAX_IDX_BYTES:
        raise DataError(f"{path} is over {MAX_IDX_BYTES >> 20} MiB", "split it into smaller files")
    return data


def read_idx(path: Path | str) -> np.ndarray:
    """Parse an IDX file into an array of its declared type and shape, or raise DataError."""
    path = Path(path)
    data = _raw(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)",
                        "give MNIST-style files such as train-images-idx3-ubyte.gz")
    ndim = data[3]
    head = 4 + 4 * ndim
    if ndim == 0 or len(data) < head:
        raise DataError(f"{path} has a cut-off IDX header", "download the file again")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_DTYPES[data[2]])
    need = int(np.prod(dims)) * dtype.itemsize
    if len(data) - head < need:
        raise DataError(
            f"{path} is truncated: its header promises {'x'.join(map(str, dims))} values "
            f"({need:,} bytes), the file holds {len(data) - head:,}",
            "download the file again (it was cut off)")
    return np.frombuffer(data, dtype=dtype, count=int(np.prod(dims)), offset=head).reshape(dims)


def labels_path(images: Path) -> Path | None:
    """Return the labels file that belongs to an images file, if it is there."""
    stem = _IMAGES.sub("", images.name)
    for suffix in ("labels-idx1-ubyte.gz", "labels-idx1-ubyte", "labels.idx1-ubyte.gz",
                   "labels.idx1-ubyte"):
        candidate = images.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _is_test(path: Path) -> bool:
    """Return True for the data set's own test files (t10k-..., ...test...)."""
    name = path.name.lower()
    return name.startswith("t10k") or "test" in name


class IdxImporter:
    """MNIST-style IDX image/label file pairs, or a folder holding them."""

    name: ClassVar[str] = "idx"
    kinds: ClassVar[tuple[str, ...]] = ("label",)

    def accepts(self, path: Path) -> bool:
        """Accept IDX images or labels files, and folders holding IDX images files."""
        if path.is_dir():
            try:
                return any(_IMAGES.search(p.name) for p in path.iterdir() if p.is_file())
            except OSError:
                return False
        return bool(_IMAGES.search(path.name) or _LABELS.search(path.name))

    def read(self, path: Path, task: TaskConfig, report: FileReport) -> Iterator[Record]:
        """Yield one image -> label example per IDX image; a folder reads each images file."""
        if task.modality != "image":
            raise DataError(f"IDX image files go to an image task; task {task.name} takes "
                            f"{task.modality}", "pass --task with an image task")
        if path.is_dir():
            try:
                files = sorted(p for p in path.iterdir() if p.is_file() and _IMAGES.search(p.name))
            except OSError as exc:
                raise DataError(f"the folder {path} cannot be read: {exc.strerror or exc}",
                                "check its permissions (chmod +rx)") from exc
        elif _LABELS.search(path.name):
            report.problems.append("a labels file: read together with its images file")
            return
        else:
            files = [path]
        siblings = files if path.is_dir() else list(path.parent.iterdir())
        has_test = any(_is_test(p) and _IMAGES.search(p.name) for p in siblings)
        total = 0
        arrays = []
        for f in files:
            images = read_idx(f)
            lab = labels_path(f)
            if lab is None:
                raise DataError(f"{f} has no labels file beside it",
                                f"put {_IMAGES.sub('labels-idx1-ubyte.gz', f.name)} next to it")
            labels = read_idx(lab)
            if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
                raise DataError(f"{f} ({'x'.join(map(str, images.shape))}) and {lab.name} "
                                f"({'x'.join(map(str, labels.shape))}) do not match",
                                "give an N x H x W images file and its N labels")
            if images.dtype != np.uint8:
                raise DataError(f"{f} holds {images.dtype} values; images must be unsigned bytes",
                                "convert the images to 0..255 bytes")
            arrays.append((f, images, labels))
            total += len(images)
        done = 0
        for f, images, labels in arrays:
            split = "heldout" if _is_test(f) else "train" if has_test else None
            for i in range(len(images)):
                ex = Example([Part.of_image(np.ascontiguousarray(images[i])[..., None])],
                             [Part.of_label(str(int(labels[i])))], task=task.name,
                             source="import")
                yield Record(ex, key=f"{f.name}:{i}", split=split)
                done += 1
                if done % 1000 == 0 or done == total:
                    report.tick(done, total)
