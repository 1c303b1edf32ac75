"""`insitu bench seed`: growth without forgetting, measured (MNIST friend -> spoken digits).

1. A friend's profile evolves a classifier on MNIST (real evolution, a small budget).
2. It is exported and imported as a seed; a spoken-digits task (FSDD) is added to the import.
3. `grow` trains new heads, branches and adapters around the frozen MNIST graph.
4. From-scratch graphs of the same family and size train on spoken digits alone: as many
   graphs as growth candidates, with the same steps each, the best counts (the same budget).
The targets: the MNIST gate accuracy after growing is >= 97% of before, and the grown model's
spoken-digit accuracy is >= 90% of the from-scratch one.
"""

from __future__ import annotations

import gzip
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from harness.bench.report import BenchReport, Column, Contender, Target
from harness.cliutil import json_option
from harness.errors import DataError

Progress = Callable[[str], None]
GATE_TARGET = 0.97
NEW_TARGET = 0.90

TEMPLATE = """
description = "{what}"

[[tasks]]
name = "{task}"
kind = "label"
modality = "{modality}"
heldout_fraction = 0.2

[model]
max_params = {max_params}
min_params = 2000
width = 32
families = ["cnn", "mlp"]

[evolution]
population = 2
tournament = 2
train_seconds = 0.0
train_steps = {steps}
size_pressure = 0.05
"""


@dataclass
class SeedConfig:
    """The benchmark's sizes and budgets."""

    data: Path
    mnist_train: int = 2000
    mnist_heldout: int = 400
    fsdd_per_digit: int = 100
    base_steps: int = 300
    generations: int = 1
    grow_steps: int = 300
    max_params: int = 60_000
    seed: int = 0


def read_mnist(folder: Path, split: str, count: int) -> list[tuple[np.ndarray, int]]:
    """Return `count` (uint8 [28, 28, 1] image, label) pairs of an MNIST IDX split."""
    images_path = folder / f"{split}-images-idx3-ubyte.gz"
    labels_path = folder / f"{split}-labels-idx1-ubyte.gz"
    if not images_path.is_file() or not labels_path.is_file():
        raise DataError(f"no MNIST IDX files in {folder}", "pass --data pointing at shared/data")
    with gzip.open(images_path) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(labels_path) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    return [(images[i].copy(), int(labels[i])) for i in range(min(count, len(labels)))]


def _profile(tmp: Path, name: str, task: str, modality: str, cfg: SeedConfig) -> Any:
    """Create a profile with one label task from the benchmark template."""
    from harness.profile import Profile

    tpl = tmp / f"{name}.toml"
    tpl.write_text(TEMPLATE.format(what=f"bench seed: {name}", task=task, modality=modality,
                                   max_params=cfg.max_params, steps=cfg.base_steps))
    return Profile.create(name, str(tpl))


def _add_mnist(prof: Any, cfg: SeedConfig) -> None:
    """Add MNIST training images (train split) and held-out ones (t10k) to task `digits`."""
    from harness.store.examples import add_examples
    from harness.types import Example, Part

    rows = []
    for split, count, kept in (("train", cfg.mnist_train, "train"),
                               ("t10k", cfg.mnist_heldout, "heldout")):  # fmt: skip
        for image, label in read_mnist(cfg.data / "mnist", split, count):
            ex = Example(prompt=[Part.of_image(image)], answer=[Part.of_label(str(label))],
                         task="digits", source="import")  # fmt: skip
            rows.append((ex, kept))
    add_examples(prof.store, rows)


def _fsdd_folder(cfg: SeedConfig, tmp: Path) -> Path:
    """Copy the first `fsdd_per_digit` recordings of each digit into a folder; return it."""
    source = cfg.data / "fsdd" / "recordings"
    if not source.is_dir():
        raise DataError(f"no FSDD recordings in {source}", "pass --data pointing at shared/data")
    out = tmp / "fsdd"
    out.mkdir()
    files = sorted(source.glob("*.wav"))
    rng = random.Random(cfg.seed)
    rng.shuffle(files)
    counts: dict[str, int] = {}
    for f in files:
        digit = f.name.split("_")[0]
        if counts.get(digit, 0) < cfg.fsdd_per_digit:
            counts[digit] = counts.get(digit, 0) + 1
            shutil.copy(f, out / f.name)
    return out


def _scratch(tmp: Path, recordings: Path, cfg: SeedConfig, family: str, params: int,
             runs: int) -> tuple[float, int, float]:  # fmt: skip
    """Train `runs` from-scratch graphs (seeds) on spoken digits with the growth candidates'
    steps each; return (best accuracy, parameters, seconds): the same budget and selection."""
    import torch

    from harness.data.ingest import add_paths
    from harness.evolve.seeding import plan_tasks
    from harness.graph.build import Graph
    from harness.graph.seeds import seed as seed_genome
    from harness.tasks import load_task
    from harness.train.trainer import Budget, Trainer

    start = time.perf_counter()
    best, size = 0.0, 0
    with _profile(tmp, "scratch", "spoken", "audio", cfg) as prof:
        add_paths(prof, [recordings], "spoken")
        plan = plan_tasks(prof.config, prof.store, ["spoken"])
        task = load_task(prof, "spoken")
        genome = seed_genome(family, params, heads=plan.heads, modalities=plan.modalities)
        genome["stems"] = task.stems()
        for k in range(runs):
            gen = torch.Generator().manual_seed(cfg.seed + k)
            graph = Graph(genome, device="cpu", generator=gen)
            trainer = Trainer(graph, [task], generator=gen, rng=random.Random(cfg.seed + k))
            trainer.run(Budget(cfg.grow_steps))
            best = max(best, float(trainer.evaluate(split="heldout")["accuracy"]))
            size = graph.num_parameters()
    return best, size, time.perf_counter() - start


def run_seed(cfg: SeedConfig, tmp: Path, progress: Progress = lambda _: None) -> BenchReport:
    """Run the whole experiment in INSITU_HOME (a sandbox) and return the report."""
    from harness.bundle import export_bundle, import_bundle
    from harness.bundle.grow import CANDIDATES, add_task, grow
    from harness.config import TaskConfig
    from harness.data.ingest import add_paths
    from harness.evolve import InlineEvaluator, run
    from harness.evolve.evaluate import run_spec

    t0 = time.perf_counter()
    progress(f"friend: evolving an MNIST classifier ({cfg.mnist_train} images)")
    with _profile(tmp, "friend", "digits", "image", cfg) as friend:
        _add_mnist(friend, cfg)
        run(friend, generations=cfg.generations, seed=cfg.seed,
            evaluator=InlineEvaluator(run_spec))  # fmt: skip
        bundle = export_bundle(friend, tmp / "friend.insitu")
    base_wall = time.perf_counter() - t0
    champ = bundle.manifest["champion"]
    progress(f"friend's champion: {champ['family']}, gate {champ['gates']['digits']}")
    recordings = _fsdd_folder(cfg, tmp)
    t1 = time.perf_counter()
    with import_bundle(bundle.path, "seeded") as seeded:
        add_task(seeded, TaskConfig(name="spoken", kind="label", modality="audio",
                                    heldout_fraction=0.2))  # fmt: skip
        add_paths(seeded, [recordings], "spoken")
        progress("growing the MNIST graph into spoken digits")
        result = grow(seeded, "spoken", steps=cfg.grow_steps, seed=cfg.seed,
                      progress=lambda f, m: progress(m))  # fmt: skip
    grow_wall = time.perf_counter() - t1
    runs = len(CANDIDATES)
    progress(f"from scratch: best of {runs} {champ['family']} graphs at {champ['params']} "
             f"params, {cfg.grow_steps} steps each")
    scratch_acc, scratch_params, scratch_wall = _scratch(tmp, recordings, cfg, champ["family"],
                                                         int(champ["params"]), runs)
    before = result.gate_before["digits"]["accuracy"]
    after = result.gate_after["digits"]["accuracy"]
    grown = result.metrics["accuracy"]
    chosen = next(c for c in result.candidates if c["candidate"] == result.candidate)
    contenders = [
        Contender("friend (MNIST)", "evolved", int(champ["params"]), None, base_wall,
                  {"gate": before, "spoken": None}, "the imported base"),
        Contender(f"seeded ({result.candidate})", "grown", int(chosen["params"]), None,
                  grow_wall, {"gate": after, "spoken": grown, "gate_ratio": after / before,
                              "new_ratio": grown / max(scratch_acc, 1e-9)},
                  f"{len(CANDIDATES)} candidates x {cfg.grow_steps} steps"),
        Contender("from scratch", "trained", scratch_params, None, scratch_wall,
                  {"gate": None, "spoken": scratch_acc},
                  f"best of {runs} x {cfg.grow_steps} steps"),
    ]  # fmt: skip
    for c in result.candidates:
        contenders.append(Contender(f"  candidate {c['candidate']}", "grown", int(c["params"]),
                                    None, 0.0, {"gate": c["gates"]["digits"]["accuracy"],
                                                "spoken": c["metrics"]["accuracy"]},
                                    f"fitness {c['fitness']:.3f}"))  # fmt: skip
    report = BenchReport(
        "seed", {"mnist_train": cfg.mnist_train, "fsdd_per_digit": cfg.fsdd_per_digit,
                 "base_steps": cfg.base_steps, "grow_steps": cfg.grow_steps, "seed": cfg.seed},
        contenders,
        [Column("MNIST gate acc", "gate"), Column("spoken acc", "spoken"),
         Column("gate kept", "gate_ratio", "{:.1%}"), Column("vs scratch", "new_ratio", "{:.1%}")],
        flops_unit="example",
    )  # fmt: skip
    report.targets = [
        Target(f"MNIST gate accuracy after growing >= {GATE_TARGET:.0%} of before "
               f"({after:.3f} vs {before:.3f})", after >= GATE_TARGET * before),
        Target(f"spoken-digit accuracy >= {NEW_TARGET:.0%} of from scratch "
               f"({grown:.3f} vs {scratch_acc:.3f})", grown >= NEW_TARGET * scratch_acc),
    ]  # fmt: skip
    return report


@click.command("seed")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Folder with mnist/ and fsdd/ (default: ../shared/data beside the checkout).")
@click.option("--mnist", "mnist_train", type=int, default=2000, show_default=True,
              help="MNIST training images of the friend's task.")
@click.option("--fsdd", "fsdd_per_digit", type=int, default=100, show_default=True,
              help="Spoken recordings per digit of the new task.")
@click.option("--base-steps", type=int, default=300, show_default=True,
              help="Training steps per individual of the friend's evolution.")
@click.option("--grow-steps", type=int, default=300, show_default=True,
              help="Training steps per growth candidate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--keep", is_flag=True, help="Keep the sandbox folder (its path is printed).")
@json_option
def seed(data: Path | None, mnist_train: int, fsdd_per_digit: int, base_steps: int,
         grow_steps: int, seed: int, keep: bool, as_json: bool) -> None:  # fmt: skip
    """Seed from a friend: MNIST model grown into spoken digits, old skill kept, vs scratch."""
    import json

    import torch

    from harness.bench.sandbox import sandbox_home

    torch.set_num_threads(1)
    folder = data or Path(__file__).resolve().parents[2].parent / "shared" / "data"
    cfg = SeedConfig(folder, mnist_train=mnist_train, fsdd_per_digit=fsdd_per_digit,
                     base_steps=base_steps, grow_steps=grow_steps, seed=seed)  # fmt: skip

    def say(line: str) -> None:
        """Write progress to stderr."""
        click.echo(f"... {line}", err=True)

    with sandbox_home(keep, say) as home:
        report = run_seed(cfg, Path(home), say)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.render())
