"""`insitu bench digits`: an evolved classifier vs logistic regression, an MLP and an SVM.

scikit-learn's bundled 8x8 digits (no download) with one fixed stratified split (25% test,
seed 42); every contender is fitted on the training part and scored on the test part.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.bench.datasets import DigitsSplit, load_digits_split
from harness.bench.report import BenchReport, Column, Contender, Target
from harness.bench.threads import torch_threads

CONTENDERS = ("insitu", "logistic", "mlp", "svm")
TARGET_ACCURACY = 0.99
COLUMNS = [Column("test acc %", "test_accuracy", "{:.2f}", 100.0)]

Progress = Callable[[str], object]


@dataclass(frozen=True)
class DigitsConfig:
    """What one run measures: the insitu contender's seconds, threads, seed and contenders."""

    seconds: float = 60.0
    threads: int = 2
    seed: int = 0
    contenders: Collection[str] = CONTENDERS
    limit: int | None = None
    workers: int | None = None  # evolution workers (None: one per thread)
    keep: bool = False


def _sklearn_models(seed: int) -> dict[str, tuple[Any, str]]:
    """Return the baselines by name, with a description of each."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    return {
        "logistic": (LogisticRegression(max_iter=2000), "multinomial, L2, lbfgs"),
        "mlp": (MLPClassifier(hidden_layer_sizes=(256,), max_iter=500, random_state=seed),
                "MLPClassifier 64-256-10, Adam"),
        "svm": (SVC(), "SVC, RBF kernel, gamma=scale"),
    }  # fmt: skip


def _size(name: str, model: Any) -> tuple[int, int]:
    """Return (parameters, multiply-adds per image) of a fitted baseline."""
    if name == "logistic":
        return model.coef_.size + model.intercept_.size, model.coef_.size
    if name == "mlp":
        mats = sum(w.size for w in model.coefs_)
        return mats + sum(b.size for b in model.intercepts_), mats
    vectors = int(model.support_vectors_.size)  # the SVM keeps its support vectors
    duals = int(model.dual_coef_.size)
    return vectors + duals + model.intercept_.size, vectors + duals


def sklearn_contender(name: str, split: DigitsSplit, seed: int, threads: int) -> Contender:
    """Fit one scikit-learn baseline on the training part; score it on the test part."""
    from threadpoolctl import threadpool_limits

    model, about = _sklearn_models(seed)[name]
    with threadpool_limits(threads):
        start = time.perf_counter()
        model.fit(split.x_train, split.y_train)
        fit_s = time.perf_counter() - start
        accuracy = float(np.mean(model.predict(split.x_test) == split.y_test))
    params, flops = _size(name, model)
    return Contender(name=name, kind="baseline", parameters=params, flops=flops,
                     wall_s=fit_s, metrics={"test_accuracy": accuracy}, notes=about)  # fmt: skip


def run_digits(cfg: DigitsConfig, progress: Progress = lambda _: None) -> BenchReport:
    """Run every chosen contender on the fixed digits split and return the report."""
    split = load_digits_split(cfg.limit)
    rows: list[Contender] = []
    with torch_threads(cfg.threads):
        if "insitu" in cfg.contenders:
            progress(f"insitu: evolving a temporary digits profile (8x8 read at 16x16) for "
                     f"{cfg.seconds:g} s")  # fmt: skip
            from harness.bench.insitu_digits import run_insitu_digits

            rows.append(run_insitu_digits(split, cfg, progress))
        for name in ("logistic", "mlp", "svm"):
            if name in cfg.contenders:
                progress(f"{name}: fitting")
                rows.append(sklearn_contender(name, split, cfg.seed, cfg.threads))
    settings = {"seconds": cfg.seconds, "threads": cfg.threads, "seed": cfg.seed,
                "train_images": len(split.y_train), "test_images": len(split.y_test)}  # fmt: skip
    report = BenchReport("digits", settings, rows, COLUMNS, flops_unit="image")
    me = report.find("insitu")
    accuracy = me.metric("test_accuracy") if me else None
    met = None if accuracy is None else accuracy >= TARGET_ACCURACY
    report.targets = [Target(f"insitu test accuracy >= {TARGET_ACCURACY:.1%} "
                             f"within {cfg.seconds:g} s", met)]  # fmt: skip
    return report
