"""`insitu bench chat` measurements: first token, tokens/s, rating-to-update latency, worker load.

Everything runs on a real chat session (`harness.chat.session.ChatSession`) of a profile and, for
the loaded half, a real `insitu worker` process evolving the same profile at full speed (its
pause-while-typing is switched off with --idle-seconds 0, so this is the worst case).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.bench.proc import TreeSampler, TreeUsage
from harness.chat.session import ChatSession
from harness.graph.generate import Sampling
from harness.online.signals import LearnReport

PROMPTS = ("Hello, how are you?", "What is your name?", "Tell me a joke", "Do you like music?",
           "What do you eat?", "Are you a robot?", "Good morning!", "What is AI?")  # fmt: skip
#: targets of the issue on this machine
TARGET_FIRST_TOKEN_MS = 100.0
TARGET_RATING_P95_MS = 300.0
TARGET_WORKER_MB = 1536.0


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) by linear interpolation (0 for no values)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class Phase:
    """One half of the benchmark: replies and ratings, with or without the worker."""

    name: str
    first_token_ms: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    rating_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Return p50/p95 figures of the phase."""
        return {
            "phase": self.name,
            "replies": len(self.first_token_ms),
            "first_token_ms_p50": percentile(self.first_token_ms, 50),
            "first_token_ms_p95": percentile(self.first_token_ms, 95),
            "tokens_per_s_median": statistics.median(self.tokens_per_s or [0.0]),
            "ratings": len(self.rating_ms),
            "rating_to_update_ms_p50": percentile(self.rating_ms, 50),
            "rating_to_update_ms_p95": percentile(self.rating_ms, 95),
        }


def measure_replies(session: ChatSession, phase: Phase, count: int, max_tokens: int) -> list[str]:
    """Send `count` prompts; time the first piece and the token rate; return the reply ids."""
    sampling = Sampling(temperature=session.sampling.temperature, top_k=session.sampling.top_k,
                        top_p=session.sampling.top_p, max_tokens=max_tokens)  # fmt: skip
    ids = []
    for i in range(count):
        session.send(PROMPTS[i % len(PROMPTS)])
        start = time.perf_counter()
        first, tokens = None, 0
        for piece in session.reply(sampling=sampling):
            if first is None:
                first = time.perf_counter() - start
            tokens += len(piece.encode("utf-8"))
        total = time.perf_counter() - start
        phase.first_token_ms.append(1000 * (first if first is not None else total))
        if tokens > 1 and first is not None and total > first:
            phase.tokens_per_s.append((tokens - 1) / (total - first))
        ids.append(session.last_reply_id or "")
    return ids


def measure_ratings(session: ChatSession, phase: Phase, reply_ids: list[str],
                    done: threading.Event) -> None:  # fmt: skip
    """Rate each reply (alternating up and down); time rate() to the applied adapter update."""
    session.wait_learned(120)
    for i, rid in enumerate(reply_ids):
        done.clear()
        start = time.perf_counter()
        session.rate(rid, 1 if i % 2 else -1)
        if done.wait(60):
            phase.rating_ms.append(1000 * (time.perf_counter() - start))
        session.wait_learned(120)


def start_worker(profile: str, workers: int) -> subprocess.Popen[bytes]:
    """Start `insitu worker` on the profile at full speed (no pausing for the chat)."""
    cmd = [sys.executable, "-m", "harness.cli", "worker", "-p", profile, "--idle-seconds", "0",
           "--chunk-minutes", "30", "--workers", str(workers)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=os.environ.copy(), start_new_session=True)  # fmt: skip


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Stop the worker with SIGTERM (it saves its run), killing its group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_chat_bench(
    profile: str,
    replies: int = 10,
    ratings: int = 10,
    max_tokens: int = 64,
    with_worker: bool = True,
    warmup_s: float = 15.0,
    seed: int = 0,
    progress: Callable[[str], Any] = lambda line: None,
) -> dict[str, Any]:
    """Measure the chat on `profile` without, then with, the evolution worker running.

    1. Open a chat session; one warm-up reply.
    2. Idle phase: `replies` replies (first token, tokens/s), then rate `ratings` of them.
    3. Start the worker, let its evaluations start (`warmup_s`), then the same measurements
       while a sampler records the worker tree's CPU and memory; stop the worker.
    """
    done = threading.Event()

    def learned(report: LearnReport) -> None:
        """Mark a rating's update as applied."""
        if report.signal in ("up", "down"):
            done.set()

    phases: list[Phase] = []
    usage: TreeUsage | None = None
    session = ChatSession.open(profile, seed=seed, on_learned=learned)
    try:
        model = session.model_label
        measure_replies(session, Phase("warm-up"), 1, max_tokens)
        for loaded in (False, True) if with_worker else (False,):
            phase = Phase("with worker" if loaded else "idle")
            worker = sampler = None
            if loaded:
                workers = session.profile.config.evolution.workers
                worker = start_worker(profile, workers)
                sampler = TreeSampler(worker.pid)
                sampler.start()
                progress(f"worker started ({workers} evaluation process(es)); warming up "
                         f"{warmup_s:g} s")  # fmt: skip
                time.sleep(warmup_s)
            try:
                progress(f"{phase.name}: {replies} replies")
                ids = measure_replies(session, phase, replies, max_tokens)
                progress(f"{phase.name}: {min(ratings, len(ids))} ratings")
                measure_ratings(session, phase, ids[:ratings], done)
            finally:
                if sampler is not None:
                    usage = sampler.stop()
                if worker is not None:
                    stop_worker(worker)
            phases.append(phase)
        configured = session.profile.config.evolution.workers
    finally:
        session.close()
    return {
        "profile": profile,
        "model": model,
        "max_tokens": max_tokens,
        "phases": [p.summary() for p in phases],
        "worker": None if usage is None else {**asdict(usage), "configured_cores": configured},
        "targets": {"first_token_ms": TARGET_FIRST_TOKEN_MS,
                    "rating_to_update_ms_p95": TARGET_RATING_P95_MS,
                    "worker_peak_mb": TARGET_WORKER_MB},  # fmt: skip
    }
