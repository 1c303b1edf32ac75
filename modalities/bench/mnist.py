"""`insitu bench mnist`: the evolved champion vs a plain LeNet-5 on MNIST, same time budget.

Both train on the 60,000 training digits (the insitu engine holds a tenth of them out for its
own selection) and are scored on the 10,000 test digits, which neither ever sees before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from harness.bench.report import BenchReport, Column, Contender, Target
from harness.bench.threads import torch_threads
from harness.types import Example, Part

CONTENDERS = ("insitu", "lenet5")
TARGET_ACCURACY = 0.99
TARGET_PARAMS = 20_000
COLUMNS = [Column("test acc %", "test_accuracy", "{:.2f}", 100.0)]


def load_mnist(data_dir: Path, limit: int | None) -> dict[str, np.ndarray]:
    """Return MNIST's train/test images [N, 28, 28] uint8 and labels [N] (first `limit`)."""
    from harness.data.idx import read_idx

    folder = data_dir / "mnist"
    out = {}
    for part, name in (("train", "train"), ("test", "t10k")):
        out[f"x_{part}"] = read_idx(folder / f"{name}-images-idx3-ubyte.gz")[:limit]
        out[f"y_{part}"] = read_idx(folder / f"{name}-labels-idx1-ubyte.gz")[:limit]
    return out


def examples(x: np.ndarray, y: np.ndarray) -> list[Example]:
    """Return one image -> label example per digit."""
    return [Example([Part.of_image(np.ascontiguousarray(img)[..., None])],
                    [Part.of_label(str(int(label)))], task="mnist", source="import")
            for img, label in zip(x, y, strict=True)]  # fmt: skip


def lenet5() -> torch.nn.Module:
    """Return LeNet-5 (61,706 parameters): two 5x5 conv + pool stages, then 120-84-10."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # [B, 6, 14, 14]
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # [B, 16, 5, 5]
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def run_mnist(data_dir: Path, cfg: Any, progress: Any) -> BenchReport:
    """Run the chosen contenders and return the report."""
    from harness.bench.insitu_digits import image_flops
    from modalities.bench.common import baseline, evolve_label

    data = load_mnist(data_dir, cfg.limit)
    rows: list[Contender] = []
    with torch_threads(cfg.threads):
        if "insitu" in cfg.contenders:
            progress(f"insitu: evolving a temporary mnist profile for {cfg.seconds:g} s")
            rows.append(evolve_label("mnist", "mnist", examples(data["x_train"], data["y_train"]),
                                     examples(data["x_test"], data["y_test"]), cfg, progress,
                                     lambda g: image_flops(g, 28)))
        if "lenet5" in cfg.contenders:
            progress(f"lenet5: training for {cfg.seconds:g} s")
            tensors = tuple(torch.from_numpy(data[k].astype(np.float32) / 255.0)[:, None]
                            if k.startswith("x") else torch.from_numpy(data[k].astype(np.int64))
                            for k in ("x_train", "y_train", "x_test", "y_test"))  # [N, 1, 28, 28]
            torch.manual_seed(cfg.seed)
            rows.append(baseline("lenet5", lenet5(), tensors, cfg.seconds, cfg.seed,
                                 "LeNet-5, ReLU + max-pool, Adam, batch 64", lr=2e-3))
    settings = {"seconds": cfg.seconds, "threads": cfg.threads, "seed": cfg.seed,
                "train_images": len(data["y_train"]), "test_images": len(data["y_test"])}
    report = BenchReport("mnist", settings, rows, COLUMNS, flops_unit="image")
    me = report.find("insitu")
    acc = me.metric("test_accuracy") if me else None
    met = None if acc is None or me is None or me.parameters is None else (
        acc >= TARGET_ACCURACY and me.parameters <= TARGET_PARAMS)
    report.targets = [Target(f"insitu test accuracy >= {TARGET_ACCURACY:.1%} with <= "
                             f"{TARGET_PARAMS:,} parameters within {cfg.seconds:g} s", met)]
    return report


@click.command("mnist")
@click.option("--seconds", type=float, default=300.0, show_default=True,
              help="Wall-clock seconds of each contender (the insitu search is inside it).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Datasets folder holding mnist/ (default: ../shared/data).")
@click.option("--max-params", type=int, default=TARGET_PARAMS, show_default=True,
              help="Parameter bound of the insitu contender's search.")
@click.option("--contender", "contenders", multiple=True, type=click.Choice(CONTENDERS),
              help="Run only these contenders (repeatable; default: all).")
@click.option("--threads", type=int, default=2, show_default=True,
              help="torch threads for every contender.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every run.")
@click.option("--workers", type=int, default=None,
              help="Evolution worker processes (default: --threads; 0: in this process).")
@click.option("--keep", is_flag=True, help="Keep the insitu contender's temporary profile.")
@click.option("--limit", type=int, default=None, hidden=True,
              help="Use only the first N images of each split (quick checks and tests).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def mnist(seconds: float, data_dir: Path | None, max_params: int, contenders: tuple[str, ...],
          threads: int, seed: int, workers: int | None, keep: bool, limit: int | None,
          as_json: bool) -> None:  # fmt: skip
    """MNIST: the evolved classifier (<= 20k parameters) vs a LeNet-5 trained as long."""
    from harness.bench.cli import _check_seconds, _emit, _progress
    from harness.bench.datasets import find_data_dir
    from modalities.bench.common import MediaConfig

    _check_seconds(seconds)
    cfg = MediaConfig(seconds=seconds, threads=threads, seed=seed,
                      contenders=contenders or CONTENDERS, limit=limit, workers=workers,
                      keep=keep, model={"max_params": max_params,
                                        "min_params": min(3_000, max_params)})
    _emit(run_mnist(find_data_dir(data_dir), cfg, _progress()), as_json)
