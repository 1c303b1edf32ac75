"""A throw-away insitu home for a benchmark's temporary profile, and the engine call around it."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness import paths
from harness.errors import EvolutionError
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.profile import Profile

Progress = Callable[[str], object]
#: resident-memory bound of each evolution worker (the engine's default)
MEMORY_MB = 2048


@contextmanager
def sandbox_home(keep: bool = False, progress: Progress = lambda _: None) -> Iterator[Path]:
    """Point INSITU_HOME at a fresh folder under the current home's `bench/` while the block runs.

    The temporary profile lives there (never among the person's profiles); spawned evolution
    workers inherit the variable. The folder is removed afterwards unless `keep`.
    """
    base = paths.home() / "bench"
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    before = os.environ.get("INSITU_HOME")
    os.environ["INSITU_HOME"] = str(folder)
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop("INSITU_HOME", None)
        else:
            os.environ["INSITU_HOME"] = before
        if keep:
            progress(f"kept the temporary insitu home at {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Evolved:
    """What an engine run left: the champion graph, its row, the summary and the wall time."""

    graph: Graph
    champion: dict[str, Any]
    summary: dict[str, Any]
    wall_s: float


def evolve(profile: Profile, tasks: Sequence[str], seconds: float, workers: int, seed: int,
           progress: Progress) -> Evolved:  # fmt: skip
    """Run the evolution engine for `seconds` (workers at normal priority); load its champion."""
    from harness.evolve import InlineEvaluator, PoolEvaluator, Reporter, run

    class Announce(Reporter):
        """Forward new champions to the progress line."""

        def on_champion(self, member: Any) -> None:
            """Announce the champion."""
            quality = "-" if member.final_quality is None else f"{member.final_quality:.4f}"
            progress(f"insitu: champion {member.family}, {member.params:,} params, "
                     f"quality {quality}")  # fmt: skip

    # workers=0: evaluate in this process (no start-up cost; quick checks and tests)
    evaluator = (InlineEvaluator() if workers < 1
                 else PoolEvaluator(workers, nice=0, memory_mb=MEMORY_MB))  # fmt: skip
    threads = torch.get_num_threads()  # an inline job sets its own
    start = time.perf_counter()
    try:
        summary = run(profile, list(tasks), seconds=seconds, workers=max(1, workers), seed=seed,
                      reporters=[Announce()], evaluator=evaluator)  # fmt: skip
    finally:
        evaluator.close()
        torch.set_num_threads(threads)
    wall = time.perf_counter() - start
    champion = summary.champion
    if champion is None or not champion.get("checkpoint"):
        raise EvolutionError(
            f"the evolution run ended without a champion after {wall:.0f} s "
            f"({summary.evaluations} evaluations)",
            "give it more time with --seconds",
        )
    graph = checkpoint.load(profile.path / champion["checkpoint"])
    return Evolved(graph, champion, summary.to_dict(), wall)
