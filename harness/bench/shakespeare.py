"""`insitu bench shakespeare`: the evolved champion vs a GRU, a transformer and compressors.

Every neural contender gets the same wall-clock seconds on the same torch threads (the insitu
contender's search is inside its seconds), the same split (nanoGPT's: first 90% train, last 10%
val) and is scored on the whole val set.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from harness.bench.baselines import Plan, run_gru, run_transformer
from harness.bench.compress import compression_contenders
from harness.bench.datasets import load_shakespeare
from harness.bench.report import BenchReport, Column, Contender, Target
from harness.bench.threads import torch_threads
from harness.templates import load_template

CONTENDERS = ("insitu", "gru", "transformer", "compressors")
TARGET_STATIC = 2.10
TARGET_PROGRESSIVE = 2.0
COLUMNS = [Column("static bpc", "static_bpc"), Column("progressive bpc", "progressive_bpc")]

Progress = Callable[[str], object]


@dataclass(frozen=True)
class ShakespeareConfig:
    """What one run measures: seconds per contender, threads, seed, budget and which contenders."""

    data_dir: Path
    seconds: float = 300.0
    threads: int = 2
    seed: int = 0
    params: int | None = None
    contenders: Collection[str] = CONTENDERS
    limit: int | None = None
    workers: int | None = None  # evolution workers (None: one per thread)
    keep: bool = False


def template_budget() -> int:
    """Return the parameter budget of the `shakespeare` template (what the baselines match)."""
    return load_template("shakespeare")[1].model.max_params


def run_shakespeare(cfg: ShakespeareConfig, progress: Progress = lambda _: None) -> BenchReport:
    """Run every chosen contender on the nanoGPT split and return the report with its targets."""
    split = load_shakespeare(cfg.data_dir, cfg.limit)
    budget = cfg.params or template_budget()
    plan = Plan(budget=budget, seconds=cfg.seconds, seed=cfg.seed)
    rows: list[Contender] = []
    with torch_threads(cfg.threads):
        if "compressors" in cfg.contenders:
            progress("compressors: gzip, bzip2, xz on val given train")
            rows += compression_contenders(split.train, split.val)
        if "insitu" in cfg.contenders:
            progress(f"insitu: evolving a temporary shakespeare profile for {cfg.seconds:g} s")
            from harness.bench.insitu_text import run_insitu_text

            rows.append(run_insitu_text(split, cfg, progress))
        if "gru" in cfg.contenders:
            progress(f"gru: training for {cfg.seconds:g} s")
            rows.append(run_gru(split, plan))
        if "transformer" in cfg.contenders:
            progress(f"transformer: training for {cfg.seconds:g} s")
            rows.append(run_transformer(split, plan))
    settings = {"seconds": cfg.seconds, "threads": cfg.threads, "seed": cfg.seed,
                "budget_params": budget, "train_chars": len(split.train),
                "val_chars": len(split.val)}  # fmt: skip
    report = BenchReport("shakespeare", settings, rows, COLUMNS)
    report.targets = targets(report)
    return report


def targets(report: BenchReport) -> list[Target]:
    """Check the issue's targets on the insitu row (None where it or a baseline did not run)."""
    me = report.find("insitu")
    static = me.metric("static_bpc") if me else None
    progressive = me.metric("progressive_bpc") if me else None
    out = [
        Target(f"insitu static bits/char <= {TARGET_STATIC}",
               None if static is None else static <= TARGET_STATIC),
        Target(f"insitu progressive bits/char < {TARGET_PROGRESSIVE}",
               None if progressive is None else progressive < TARGET_PROGRESSIVE),
    ]  # fmt: skip
    for name in ("gru", "transformer"):
        other = report.find(name)
        theirs = other.metric("static_bpc") if other else None
        met = None if static is None or theirs is None else static < theirs
        out.append(Target(f"insitu static bits/char below the same-run {name}", met))
    return out
