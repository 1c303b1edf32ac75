"""Evaluators: run evaluation jobs in-process (tests) or in a pool of low-priority processes.

The evaluation is a pure function of its `EvalSpec` (genome, parent weights, data reference,
budget, seed), run by harness.train.job.run_job, so moving it to another executor (Ray, a
cluster) is a change of evaluator, not of design (DESIGN.md section 9). The process pool uses the
spawn context, one torch thread per worker, `os.nice`, and a resident-memory bound read from
/proc: a worker above it is killed, its job fails with a clear error and the others are retried.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import dataclasses
import multiprocessing
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.genome import Genome

from .member import JobOutcome, Outcome


@dataclass(frozen=True)
class EvalSpec:
    """One evaluation: the arguments of harness.train.job.Job."""

    genome: Genome
    init_checkpoint: str | None
    profile_path: str
    tasks: list[str]
    budget_steps: int
    budget_seconds: float
    seed: int
    out_checkpoint: str
    phase: str = "generalise"  # the evolution phase: recall | generalise

    def job_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of harness.train.job.Job."""
        return dataclasses.asdict(self)


#: Called before a job is submitted: return the (possibly re-budgeted) spec, or None to stop.
Fit = Callable[[EvalSpec], EvalSpec | None]


def run_spec(spec: EvalSpec) -> JobOutcome:
    """Run one evaluation: harness.train.job.run_job and the other split (evolve/evaluate.py)."""
    from .evaluate import run_spec as evaluate

    return evaluate(spec)


#: The evaluation function evaluators use when given none: a module-level function, so that
#: worker processes can import it by name (replace it to evaluate elsewhere, or in tests).
EVAL_FN: Callable[[EvalSpec], JobOutcome] = run_spec


class Evaluator:
    """Runs evaluation specs and yields (key, outcome) pairs as they finish."""

    def evaluate(
        self, specs: Sequence[tuple[int, EvalSpec]], fit: Fit | None = None
    ) -> Iterator[tuple[int, JobOutcome]]:
        """Yield the outcome of every submitted spec (submission stops when `fit` says None)."""
        raise NotImplementedError

    def start(self) -> None:
        """Start workers early (they import torch while the engine plans); optional."""

    def close(self) -> None:
        """Release workers."""


class InlineEvaluator(Evaluator):
    """Evaluate one spec at a time in this process (tests, debugging)."""

    def __init__(self, fn: Callable[[EvalSpec], JobOutcome] | None = None) -> None:
        self.fn = fn or EVAL_FN

    def evaluate(
        self, specs: Sequence[tuple[int, EvalSpec]], fit: Fit | None = None
    ) -> Iterator[tuple[int, JobOutcome]]:
        """Run the specs in order."""
        for key, spec in specs:
            fitted = fit(spec) if fit else spec
            if fitted is None:
                return
            try:
                yield key, self.fn(fitted)
            except Exception as exc:  # an evaluation that crashes is a failed individual
                yield key, Outcome(error=f"{type(exc).__name__}: {exc}")


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MiB from /proc (0.0 where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _init_worker(nice: int, markers: str) -> None:
    """Set up a worker: lower priority, one torch thread, die with the parent, ignore Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    try:  # Linux: get SIGKILL when the parent dies (a killed `insitu evolve` leaves no workers)
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    os.environ["INSITU_EVOLVE_MARKERS"] = markers
    import torch

    torch.set_num_threads(1)
    # the first optimizer imports torch._dynamo (seconds): pay it before the first job
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])


def _warm() -> int:
    """Do nothing in a worker (submitted once per worker to start them early)."""
    return os.getpid()


def _work(key: int, spec: EvalSpec, fn: Callable[[EvalSpec], JobOutcome]) -> JobOutcome:
    """Run one spec in a worker, leaving a marker that tells the parent which job it runs."""
    marker = Path(os.environ.get("INSITU_EVOLVE_MARKERS", tempfile.gettempdir())) / str(os.getpid())
    marker.write_text(str(key))
    try:
        return fn(spec)
    finally:
        marker.unlink(missing_ok=True)


class PoolEvaluator(Evaluator):
    """A spawn-context process pool of `workers` low-priority, single-threaded workers."""

    def __init__(
        self,
        workers: int = 1,
        nice: int = 10,
        memory_mb: int | None = None,
        fn: Callable[[EvalSpec], JobOutcome] | None = None,
        poll_s: float = 0.25,
    ) -> None:
        self.workers = max(1, int(workers))
        self.nice = nice
        self.memory_mb = memory_mb
        self.fn = fn or EVAL_FN
        self.poll_s = poll_s
        self._markers: str | None = None  # made with the pool, removed by close()
        self._pool: cf.ProcessPoolExecutor | None = None

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            if self._markers is None:
                self._markers = tempfile.mkdtemp(prefix="insitu-evolve-")
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.nice, self._markers),
            )
        return self._pool

    def start(self) -> None:
        """Start the workers now, so their imports overlap the engine's planning."""
        pool = self._executor()
        for _ in range(self.workers):
            pool.submit(_warm)

    def _pids(self) -> list[int]:
        procs = getattr(self._pool, "_processes", None) or {}
        return [int(p) for p in procs]

    def _over_memory(self) -> tuple[int, int | None] | None:
        """Kill the first worker above the memory bound; return (pid, the key it ran)."""
        if not self.memory_mb:
            return None
        for pid in self._pids():
            if rss_mb(pid) > self.memory_mb and self._markers is not None:
                marker = Path(self._markers) / str(pid)
                key = int(marker.read_text()) if marker.exists() else None
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                return pid, key
        return None

    def evaluate(
        self, specs: Sequence[tuple[int, EvalSpec]], fit: Fit | None = None
    ) -> Iterator[tuple[int, JobOutcome]]:
        """Submit specs as workers free up; yield outcomes as they finish.

        1. Keep at most `workers` jobs in flight; ask `fit` before each submission.
        2. Poll: yield finished jobs; kill a worker above the memory bound (its job fails).
        3. If the pool breaks, restart it and resubmit the interrupted jobs once.
        """
        queue = list(specs)
        inflight: dict[cf.Future[JobOutcome], tuple[int, EvalSpec]] = {}
        retried: set[int] = set()
        stopped = False
        try:
            while queue or inflight:
                while queue and not stopped and len(inflight) < self.workers:
                    key, spec = queue.pop(0)
                    fitted = fit(spec) if fit else spec
                    if fitted is None:
                        stopped = True
                        queue.clear()
                        break
                    fut = self._executor().submit(_work, key, fitted, self.fn)
                    inflight[fut] = (key, fitted)
                if not inflight:
                    break
                done, _ = cf.wait(list(inflight), timeout=self.poll_s,
                                  return_when=cf.FIRST_COMPLETED)  # fmt: skip
                killed = None if done else self._over_memory()
                if killed is not None:
                    cf.wait(list(inflight), timeout=10)
                    done = {f for f in inflight if f.done()}
                broken = []
                for fut in sorted(done, key=lambda f: inflight[f][0]):
                    key, spec = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is None:
                        yield key, fut.result()
                    elif isinstance(exc, BrokenProcessPool):
                        broken.append((key, spec))
                    else:
                        yield key, Outcome(error=f"{type(exc).__name__}: {exc}")
                if broken or killed is not None:
                    self._restart()
                for key, spec in broken:
                    if killed is not None and key == killed[1]:
                        yield key, Outcome(error=f"the worker went above the memory bound of "
                                                 f"{self.memory_mb} MiB and was stopped")
                    elif key in retried:
                        yield key, Outcome(error="the worker process died twice on this job")
                    else:
                        retried.add(key)
                        queue.insert(0, (key, spec))
                queue.sort(key=lambda ks: ks[0])
        except BaseException:
            self.close(kill=True)
            raise

    def _restart(self) -> None:
        """Drop a broken pool (its workers are gone or going); the next submit starts a new one."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self, kill: bool = False) -> None:
        """Shut the pool down (killing busy workers when `kill`) and remove its marker folder."""
        if self._pool is not None:
            if kill:
                for pid in self._pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            self._pool.shutdown(wait=not kill, cancel_futures=True)
            self._pool = None
        if self._markers is not None:
            shutil.rmtree(self._markers, ignore_errors=True)
            self._markers = None
