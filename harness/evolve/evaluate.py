"""The default evaluation: run_job, then the other split, with metrics named by split.

`run_job` measures one split: the training split in the `compress` phase, the held-out split in
`generalise`, and names its metrics by task (`bpb`, `recall`, `accuracy`, `xent`). Evolution
needs both sides (the recall phase optimises training bits and is gated on recall; the champion
is chosen on held-out data), so this function measures the other split on a small budget too
(the held-out split on the jobs' own budget, so every member's held-out quality, which ranks
them, is measured on the same bytes whichever phase measured it) and renames every metric after
its split: `train_bpb` / `heldout_bpb`, `train_accuracy` /
`accuracy`, `train_xent` / `heldout_xent`; `recall`, `exact` and `train_loss` keep their names.
"""

from __future__ import annotations

from typing import Any

from harness.errors import InsituError

from .member import JobOutcome
from .pool import EvalSpec

#: The job phase that trains and measures each evolution phase.
JOB_PHASE = {"recall": "compress", "generalise": "generalise"}
#: Scored bytes (text) or examples (labels) of the training split's measurement in `generalise`.
OTHER_BUDGET = 2048
#: Metric names by split: train, held-out.
RENAMES = {
    "bpb": ("train_bpb", "heldout_bpb"),
    "accuracy": ("train_accuracy", "accuracy"),
    "xent": ("train_xent", "heldout_xent"),
    "progressive_bpb": ("train_progressive_bpb", "progressive_bpb"),
}


def rename(metrics: dict[str, float], split: str) -> dict[str, float]:
    """Return metrics named after the split they were measured on (`task/` prefixes kept)."""
    side = 0 if split == "train" else 1
    out = {}
    for key, value in metrics.items():
        task, _, name = key.rpartition("/")
        new = RENAMES[name][side] if name in RENAMES else name
        out[f"{task}/{new}" if task else new] = value
    return out


def measure(checkpoint: str, profile_path: str, tasks: list[str], split: str,
            budget: int) -> dict[str, float]:  # fmt: skip
    """Return a saved graph's metrics on one split of the profile's tasks."""
    from harness.graph.checkpoint import load
    from harness.tasks import load_tasks
    from harness.tasks.data import profile_at
    from harness.train.trainer import evaluate

    with profile_at(profile_path) as profile:
        loaded = load_tasks(profile, tasks)
    return evaluate(load(checkpoint, device="cpu"), loaded, split, budget, ["bpb"])


def run_spec(spec: EvalSpec) -> JobOutcome:
    """Train and measure one individual (harness.train.job), then measure the other split."""
    from harness.train.job import EVAL_BUDGET, Job, run_job

    kwargs: dict[str, Any] = spec.job_kwargs()
    phase = JOB_PHASE.get(kwargs.pop("phase"), "generalise")
    result = run_job(Job(**kwargs, phase=phase))
    if result.error:
        return result  # type: ignore[no-any-return]
    own = "train" if phase == "compress" else "heldout"
    metrics = rename(result.metrics, own)
    other = "heldout" if own == "train" else "train"
    budget = (kwargs.get("eval_budget") or EVAL_BUDGET) if other == "heldout" else OTHER_BUDGET
    try:
        extra = measure(result.checkpoint, spec.profile_path, spec.tasks, other, budget)
    except InsituError:
        extra = {}  # e.g. no held-out split yet: the run goes on with what was measured
    for key, value in rename(extra, other).items():
        metrics.setdefault(key, value)
    result.metrics = metrics
    return result  # type: ignore[no-any-return]
