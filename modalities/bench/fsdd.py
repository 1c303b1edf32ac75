"""`insitu bench fsdd`: spoken digits (Free Spoken Digit Dataset) on two splits.

- standard: recordings 0-4 of each digit and speaker are the test set (300 clips);
- speakers: train on four speakers, test on `theo` and `yweweler` (voices never heard).

On each split the evolved champion (the spoken-digits template, same time budget) is set next
to an SVM on pooled log-mel features (mean and standard deviation of each band) and a plain
1-D CNN on the log-mel frames, all from 8 kHz, 32-band log-mels, all in the same run. The
baselines' frames lose each band's whole mean over the clip (per-clip mean normalisation); the
champion's follow its template (`mel_mean = 0.7`: 70% of the mean).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from harness.bench.report import BenchReport, Column, Contender, Target
from harness.bench.threads import torch_threads
from harness.errors import ConfigError
from harness.types import Example, Part

CONTENDERS = ("insitu", "svm", "cnn1d")
SPLITS = ("standard", "speakers")
TEST_SPEAKERS = ("theo", "yweweler")
TARGETS = {"standard": 1.0, "speakers": 0.92}
#: The insitu contender's parameter bound: below the 1-D CNN baseline's 52,682.
MAX_PARAMS = 45_000
COLUMNS = [Column("test acc %", "test_accuracy", "{:.2f}", 100.0)]


def load_fsdd(data_dir: Path, limit: int | None) -> list[tuple[Part, int, str, int]]:
    """Return (audio part, digit, speaker, index) of every FSDD recording (first `limit`)."""
    from modalities.audio import AudioModality
    from modalities.importers.audiofolder import fsdd_fields

    folder = data_dir / "fsdd" / "recordings"
    files = sorted(p for p in folder.glob("*.wav") if fsdd_fields(p))[:limit]
    if not files:
        raise ConfigError(f"no FSDD recordings in {folder}", "pass --data with the datasets")
    modality = AudioModality()
    out = []
    for path in files:
        label, speaker, n = fsdd_fields(path)  # type: ignore[misc]
        out.append((modality.load(path), int(label), speaker, n))
    return out


def split_index(clips: list[tuple[Part, int, str, int]], split: str) -> np.ndarray:
    """Return a boolean test mask [N] of a split."""
    if split == "standard":
        return np.array([n < 5 for _, _, _, n in clips])
    return np.array([s in TEST_SPEAKERS for _, _, s, _ in clips])


def cnn1d(mels: int) -> torch.nn.Module:
    """Return a plain 1-D CNN over log-mel frames: three conv layers, pooled, linear."""
    nn = torch.nn

    class Net(nn.Module):
        """Conv1d stack over time with global average and max pooling."""

        def __init__(self) -> None:
            super().__init__()
            self.convs = nn.Sequential(
                nn.Conv1d(mels, 64, 5, padding=2), nn.ReLU(),
                nn.Conv1d(64, 64, 5, padding=2, stride=2), nn.ReLU(),
                nn.Conv1d(64, 64, 5, padding=2, stride=2), nn.ReLU(),
            )
            self.out = nn.Linear(128, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, F, M] -> [B, 10]
            """Return the class logits of log-mel frames."""
            h = self.convs(x.transpose(1, 2))  # [B, 64, F/4]
            return self.out(torch.cat([h.mean(-1), h.amax(-1)], -1))  # [B, 10]

    return Net()


def pooled(clips: list[tuple[Part, int, str, int]], spec: Any) -> np.ndarray:
    """Return pooled log-mel features per clip [N, 5M]: means of 4 equal time segments, and the
    standard deviation of each band, computed on the clip's own frames (no padding)."""
    from modalities.audio import AudioModality

    modality = AudioModality()
    out = []
    for part, _, _, _ in clips:
        frames = modality.to_tensor([part], spec)[0]  # [F, M]
        segments = [seg.mean(0) for seg in torch.tensor_split(frames, 4)]  # 4 x [M]
        out.append(torch.cat([*segments, frames.std(0)]).numpy())
    return np.stack(out)


def svm_contender(feats: np.ndarray, y: np.ndarray, test: np.ndarray, threads: int
                  ) -> Contender:  # fmt: skip
    """Fit an RBF SVM on pooled log-mel features; score the test clips."""
    try:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise ConfigError("the svm contender needs scikit-learn",
                          "pip install 'insitu[dev]' (or scikit-learn), or pass "
                          "--contender insitu --contender cnn1d") from exc
    model = make_pipeline(StandardScaler(), SVC(C=10.0))
    with threadpool_limits(threads):
        start = time.perf_counter()
        model.fit(feats[~test], y[~test])
        wall = time.perf_counter() - start
        acc = float(np.mean(model.predict(feats[test]) == y[test]))
    svc = model[-1]
    params = int(svc.support_vectors_.size + svc.dual_coef_.size + svc.intercept_.size)
    return Contender(name="svm", kind="baseline", parameters=params, wall_s=wall,
                     metrics={"test_accuracy": acc},
                     notes="SVC RBF C=10; 4 segment means + std of 32 log-mel bands")


def run_split(split: str, clips: list[tuple[Part, int, str, int]], feats: torch.Tensor,
              pools: np.ndarray, cfg: Any, progress: Any) -> list[Contender]:  # fmt: skip
    """Run every chosen contender on one split; name the rows `<contender> (<split>)`."""
    from modalities.bench.common import baseline, evolve_label

    test = split_index(clips, split)
    y = np.array([d for _, d, _, _ in clips])
    rows: list[Contender] = []
    if "insitu" in cfg.contenders:
        progress(f"insitu ({split}): evolving a spoken-digits profile for {cfg.seconds:g} s")

        def ex(i: int) -> Example:
            """Return the labelled example of clip `i`."""
            return Example([clips[i][0]], [Part.of_label(str(y[i]))], task="spoken-digits",
                           source="import")

        train = [ex(int(i)) for i in np.flatnonzero(~test)]
        held = [ex(int(i)) for i in np.flatnonzero(test)]
        rows.append(evolve_label("spoken-digits", "spoken-digits", train, held, cfg, progress,
                                 lambda g: None))
    if "svm" in cfg.contenders:
        progress(f"svm ({split}): fitting")
        rows.append(svm_contender(pools, y, test, cfg.threads))
    if "cnn1d" in cfg.contenders:
        progress(f"cnn1d ({split}): training for {cfg.seconds:g} s")
        torch.manual_seed(cfg.seed)
        yt = torch.from_numpy(y)
        mask = torch.from_numpy(test)
        data = (feats[~mask], yt[~mask], feats[mask], yt[mask])
        rows.append(baseline("cnn1d", cnn1d(feats.shape[-1]), data, cfg.seconds, cfg.seed,
                             "3 Conv1d(k5) 64 ch + mean/max pool, Adam, batch 64"))
    for row in rows:
        row.name = f"{row.name} ({split})"
    return rows


def run_fsdd(data_dir: Path, cfg: Any, splits: tuple[str, ...], progress: Any) -> BenchReport:
    """Load the recordings once, run both splits and return the report."""
    from harness.modality import ModalitySpec
    from modalities.audio import AudioModality

    progress("loading the FSDD recordings")
    clips = load_fsdd(data_dir, cfg.limit)
    spec = ModalitySpec(sample_rate=8000, n_mels=32)
    feats = AudioModality().to_tensor([c[0] for c in clips], spec)  # [N, F, 32]
    pools = pooled(clips, spec) if "svm" in cfg.contenders else np.zeros((len(clips), 1))
    rows: list[Contender] = []
    with torch_threads(cfg.threads):
        for split in splits:
            rows += run_split(split, clips, feats, pools, cfg, progress)
    settings = {"seconds": cfg.seconds, "threads": cfg.threads, "seed": cfg.seed,
                "clips": len(clips), "splits": ",".join(splits)}
    report = BenchReport("fsdd", settings, rows, COLUMNS, flops_unit="clip")
    for split in splits:
        me, cnn = report.find(f"insitu ({split})"), report.find(f"cnn1d ({split})")
        acc = me.metric("test_accuracy") if me else None
        smaller = (me is None or cnn is None or me.parameters is None or cnn.parameters is None
                   or me.parameters < cnn.parameters)  # fmt: skip
        report.targets.append(Target(
            f"insitu {split} split accuracy >= {TARGETS[split]:.0%} within {cfg.seconds:g} s, "
            "with fewer parameters than the 1-D CNN",
            None if acc is None else acc >= TARGETS[split] - 1e-9 and smaller))
    return report


@click.command("fsdd")
@click.option("--seconds", type=float, default=120.0, show_default=True,
              help="Wall-clock seconds of each trained contender on each split.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Datasets folder holding fsdd/recordings (default: ../shared/data).")
@click.option("--split", "splits", multiple=True, type=click.Choice(SPLITS),
              help="Run only these splits (repeatable; default: both).")
@click.option("--contender", "contenders", multiple=True, type=click.Choice(CONTENDERS),
              help="Run only these contenders (repeatable; default: all).")
@click.option("--max-params", type=int, default=MAX_PARAMS, show_default=True,
              help="Parameter bound of the insitu contender's search.")
@click.option("--threads", type=int, default=2, show_default=True,
              help="torch (and BLAS) threads for every contender.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every run.")
@click.option("--workers", type=int, default=None,
              help="Evolution worker processes (default: --threads; 0: in this process).")
@click.option("--keep", is_flag=True, help="Keep the insitu contender's temporary profiles.")
@click.option("--limit", type=int, default=None, hidden=True,
              help="Use only the first N recordings (quick checks and tests).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def fsdd(seconds: float, data_dir: Path | None, splits: tuple[str, ...],
         contenders: tuple[str, ...], max_params: int, threads: int, seed: int,
         workers: int | None, keep: bool, limit: int | None, as_json: bool) -> None:  # fmt: skip
    """Spoken digits: the evolved classifier vs an SVM and a 1-D CNN, two splits."""
    from harness.bench.cli import _check_seconds, _emit, _progress
    from harness.bench.datasets import find_data_dir
    from modalities.bench.common import MediaConfig

    _check_seconds(seconds)
    cfg = MediaConfig(seconds=seconds, threads=threads, seed=seed,
                      contenders=contenders or CONTENDERS, limit=limit, workers=workers,
                      keep=keep, model={"max_params": max_params,
                                        "min_params": min(3_000, max_params)})
    _emit(run_fsdd(find_data_dir(data_dir), cfg, splits or SPLITS, _progress()), as_json)
