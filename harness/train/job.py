"""The evaluation step of evolution as a pure function of plain data (DESIGN.md section 9).

`run_job(Job) -> JobResult`: build the graph from the genome, inherit the parent's weights where
names and shapes agree (node ids are innovation numbers, so names survive growth), train within
the budget, evaluate, write the checkpoint atomically and report metrics, size and speed. Inputs
and outputs are picklable dataclasses, so the step runs as well in a spawned child process
(`run_in_child`, `make_pool`), a local pool or a remote executor. An exception inside becomes
`JobResult.error`; it never reaches the caller.

Phases: "compress" measures the training split (the graph first learns its data by heart: bits
per byte and exact recall of training pairs); "generalise" (the default) the held-out split.
Metrics of the first task are unprefixed, every task's also as `task/metric`, plus `train_loss`.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import random
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from harness.errors import CheckpointError, ConfigError, InsituError
from harness.genome import Genome
from harness.graph.build import Graph
from harness.graph.checkpoint import save
from harness.tasks import load_tasks
from harness.tasks.data import profile_at
from harness.train.trainer import Budget, Trainer, evaluate
from harness.vocab import BOS

PHASES = ("compress", "generalise")
LATENCY_TOKENS = 32


#: Scored bytes (text) or examples (labels) a job measures its split on.
EVAL_BUDGET = 16384


@dataclass
class Job:
    """One individual to train and measure; plain data only."""

    genome: Genome
    init_checkpoint: str | None
    profile_path: str
    tasks: list[str]
    budget_steps: int
    budget_seconds: float
    seed: int
    out_checkpoint: str
    phase: str = "generalise"
    #: most scored bytes (text) or examples (label) per evaluation; None: the whole split
    eval_budget: int | None = EVAL_BUDGET
    #: extra metrics to compute, e.g. ["bpb", "recall", "progressive_bpb"]; None: the defaults
    metrics: list[str] | None = None
    batch_size: int | None = None
    device: str = "cpu"
    #: torch intra-op threads set at the start of the job (None: leave as is)
    threads: int | None = 1
    #: "all" or "adapters" (train only the LoRA adapters and control weights)
    params: str = "all"
    #: name prefixes of parameters to keep frozen (e.g. a friend's imported weights)
    freeze: list[str] = field(default_factory=list)


@dataclass
class JobResult:
    """What a job produced; `error` is set (and the rest empty) when it failed."""

    metrics: dict[str, float]
    checkpoint: str
    checkpoint_sha256: str
    params: int
    flops_per_token: int
    latency_us_per_token: float
    train_seconds: float
    steps: int
    error: str | None
    inherited: int = 0  # tensors copied from the init checkpoint
    eval_seconds: float = 0.0
    trace: str = ""

    @classmethod
    def failed(cls, error: str, trace: str = "") -> JobResult:
        """Return the result of a job that failed with `error`."""
        return cls({}, "", "", 0, 0, 0.0, 0.0, 0, error, trace=trace)


def inherit(graph: Graph, checkpoint: str | os.PathLike[str]) -> int:
    """Copy a checkpoint's tensors into the graph where names and shapes agree; return how many."""
    path = Path(checkpoint)
    if not path.is_file():
        raise CheckpointError(f"no parent checkpoint at {path}", "check the init checkpoint path")
    own = graph.state_dict()
    loaded = 0
    with safe_open(str(path), framework="pt") as f, torch.no_grad():
        for name in f.keys():  # noqa: SIM118 - safe_open has no __iter__
            if name in own:
                tensor = f.get_tensor(name)
                if tuple(tensor.shape) == tuple(own[name].shape):
                    own[name].copy_(tensor)
                    loaded += 1
    return loaded


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@torch.no_grad()
def latency_us(graph: Graph, tokens: int = LATENCY_TOKENS) -> float:
    """Return µs per token: greedy steps (batch 1) with an lm head, else a forward per position."""
    graph.eval()
    lm_heads = [t for t, h in graph.genome["heads"].items() if h["op"] == "lm"]
    if "text" in graph.stems and lm_heads:
        state = graph.init_state(1)
        token = torch.tensor([BOS], device=graph.device)
        for _ in range(4):  # warm the caches of the effective weights
            token = graph.step(state, token, lm_heads[0]).argmax(-1)
        start = time.perf_counter()
        for _ in range(tokens):
            token = graph.step(state, token, lm_heads[0]).argmax(-1)
        return (time.perf_counter() - start) / tokens * 1e6
    modality = next(iter(graph.stems))
    stem: Any = graph.stems[modality]
    x = stem.example(1, torch.Generator().manual_seed(0)).to(graph.device)  # [1, ...]
    inputs: dict[str, Any] = {"tokens": None, "images": None, "audio": None}
    inputs["images" if modality == "image" else "tokens" if modality == "text" else "audio"] = x
    graph.forward_tasks(**inputs)
    start = time.perf_counter()
    graph.forward_tasks(**inputs)
    elapsed = time.perf_counter() - start
    positions = graph.embed(**inputs)[0].shape[1]
    return elapsed / max(1, positions) * 1e6


def _has_trainable(graph: Graph, freeze: list[str]) -> bool:
    """Return whether any parameter is outside the frozen name prefixes."""
    return any(not n.startswith(tuple(freeze)) for n, _ in graph.named_parameters())


def _run(job: Job) -> JobResult:
    """Run a job (exceptions propagate; run_job catches them)."""
    if job.phase not in PHASES:
        raise ConfigError(f"unknown phase '{job.phase}'", f"use one of: {', '.join(PHASES)}")
    if job.threads:
        torch.set_num_threads(job.threads)
    with profile_at(job.profile_path) as profile:
        tasks = load_tasks(profile, job.tasks)
    graph = Graph(job.genome, device="cpu", generator=torch.Generator().manual_seed(job.seed))
    inherited = inherit(graph, job.init_checkpoint) if job.init_checkpoint else 0
    steps, seconds, loss = 0, 0.0, float("nan")
    rng = random.Random(job.seed)
    # parts marked frozen (a friend's imported base) keep their weights in every job; a graph
    # frozen whole by its genome is only measured (a job's own `freeze` of everything is an error)
    marked = graph.frozen_names()
    freeze = [*job.freeze, *marked]
    if any(t.trainable for t in tasks) and (not marked or _has_trainable(graph, freeze)):
        budget = Budget(job.budget_steps, job.budget_seconds)
        trainer = Trainer(graph, tasks, generator=torch.Generator().manual_seed(job.seed),
                          rng=rng, batch_size=job.batch_size,
                          device=job.device, params=job.params, freeze=freeze)  # fmt: skip
        result = trainer.run(budget)
        steps, seconds, loss = result.steps, result.seconds, result.final_loss
    start = time.perf_counter()
    split = "train" if job.phase == "compress" else "heldout"
    metrics = evaluate(graph, tasks, split, job.eval_budget, job.metrics, rng)
    metrics["train_loss"] = loss
    eval_seconds = time.perf_counter() - start
    graph.to("cpu")
    path = save(graph, job.out_checkpoint, extra={"seed": str(job.seed), "phase": job.phase})
    return JobResult(
        metrics=metrics,
        checkpoint=str(path),
        checkpoint_sha256=file_sha256(path),
        params=graph.num_parameters(),
        flops_per_token=graph.flops_per_token(),
        latency_us_per_token=latency_us(graph),
        train_seconds=seconds,
        steps=steps,
        error=None,
        inherited=inherited,
        eval_seconds=eval_seconds,
    )


def run_job(job: Job) -> JobResult:
    """Train and measure one individual; any exception becomes the result's `error`."""
    try:
        return _run(job)
    except InsituError as exc:
        return JobResult.failed(str(exc), traceback.format_exc(limit=-3))
    except Exception as exc:
        return JobResult.failed(f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=-6))


def _child(job: Job, conn: Any) -> None:
    """Entry point of a spawned child: one intra-op thread, run the job, send the result."""
    torch.set_num_threads(job.threads or 1)
    conn.send(run_job(job))
    conn.close()


def run_in_child(job: Job, timeout: float | None = None) -> JobResult:
    """Run a job in a fresh spawned process; a crash, kill or timeout becomes `error`."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(job, send), daemon=True)
    proc.start()
    send.close()
    result: JobResult | None = None
    killed = False
    try:
        if recv.poll(timeout):
            result = recv.recv()
    except (EOFError, OSError):
        result = None
    finally:
        if result is None and proc.is_alive():
            killed = True
            proc.kill()
        proc.join()
        recv.close()
    if result is not None:
        return result
    code = proc.exitcode or 0
    if killed:
        why = "stopped answering" if timeout is None else f"took longer than {timeout:g} s"
        why += " and was stopped"
    elif code < 0:
        why = f"was killed (signal {-code})"
    else:
        why = f"died with exit code {code}"
    return JobResult.failed(f"the evaluation process {why}")


def init_worker(threads: int = 1, nice: int = 0) -> None:
    """Prepare a pool worker: bounded intra-op threads and, optionally, a lower priority."""
    torch.set_num_threads(max(1, threads))
    if nice and hasattr(os, "nice"):
        os.nice(nice)


def make_pool(workers: int, threads: int = 1, nice: int = 0) -> ProcessPoolExecutor:
    """Return a pool of spawned workers for `pool.submit(run_job, job)`."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=init_worker, initargs=(threads, nice))  # fmt: skip
