"""Shared builders for the bundle tests: a tiny evolved profile on real text, and zip surgery."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.data.ingest import add_paths
from harness.evolve import InlineEvaluator, run
from harness.evolve.evaluate import run_spec
from harness.profile import Profile

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"

TEMPLATE = """
description = "bundle test"

[[tasks]]
name = "chat"
kind = "text"
modality = "text"
heldout_fraction = 0.2

[model]
max_params = 6000
min_params = 2000
width = 32
context = 32
families = ["mlp", "gru"]

[evolution]
population = 2
tournament = 2
train_seconds = 0.0
train_steps = 5
size_pressure = 0.05
"""


def evolved_profile(tmp: Path, name: str = "friend", chars: int = 4000,
                    memory: int = 0) -> Profile:  # fmt: skip
    """Create a profile on a slice of tinyshakespeare, evolve one real generation, return it."""
    tpl = tmp / f"{name}.toml"
    text = TEMPLATE.replace("heldout_fraction", f"memory = {memory}\nheldout_fraction")
    tpl.write_text(text)
    prof = Profile.create(name, str(tpl))
    corpus = tmp / f"{name}.txt"
    text = (DATA / "tinyshakespeare" / "input.txt").read_text()[:chars]
    corpus.write_text(text)
    add_paths(prof, [corpus], "chat")
    run(prof, generations=1, seed=3, evaluator=InlineEvaluator(run_spec))
    return prof


def entries(path: Path) -> dict[str, bytes]:
    """Return every entry of a zip by name."""
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rewrite(src: Path, dst: Path, change: Callable[[dict[str, bytes]], None],
            resign: bool = True, extra: Callable[[zipfile.ZipFile], None] | None = None) -> Path:
    """Copy a bundle with `change` applied to its entries; `resign` recomputes the manifest."""
    files = entries(src)
    change(files)
    try:
        manifest = json.loads(files.get("manifest.json", b""))
    except ValueError:
        manifest = None  # a mangled manifest stays mangled
    if resign and isinstance(manifest, dict):
        manifest["files"] = [{"path": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                             for n, d in sorted(files.items()) if n != "manifest.json"]
        files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        if extra:
            extra(zf)
    return dst


def mnist(count: int, offset: int = 0, split: str = "t10k") -> list[tuple[np.ndarray, int]]:
    """Return `count` real MNIST (uint8 [28, 28, 1] image, label) pairs from the IDX files."""
    folder = DATA / "mnist"
    with gzip.open(folder / f"{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    return [(images[i].copy(), int(labels[i])) for i in range(offset, offset + count)]


def add_digits(prof: Profile, task: str, train: int, heldout: int) -> None:
    """Add real MNIST digits to a label task: `train` training and `heldout` held-out ones."""
    from harness.store.examples import add_examples
    from harness.types import Example, Part

    rows = []
    for k, (image, label) in enumerate(mnist(train + heldout)):
        ex = Example(prompt=[Part.of_image(image)], answer=[Part.of_label(str(label))], task=task,
                     source="import")
        rows.append((ex, "train" if k < train else "heldout"))
    add_examples(prof.store, rows)
