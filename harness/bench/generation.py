"""Generation benchmark: step-path tokens/s and time to first token next to the parallel forward."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch

from harness.graph.build import Graph
from harness.graph.generate import Sampling, stream
from harness.graph.native import compile
from harness.graph.native.stepper import native_stepper
from harness.graph.seeds import FAMILIES, seed
from harness.vocab import encode_turn

PROMPT = "Hello! Could you tell me a short story about the sea?"


@dataclass(frozen=True)
class GenerationResult:
    """Timings of one family (seconds, tokens/s, microseconds per token)."""

    family: str
    parameters: int
    width: int
    nodes: int
    first_token_ms: float
    tokens_per_s: float
    step_us_per_token: float
    parallel_us_per_token: float
    ratio: float
    engine: str
    torch_step_us_per_token: float

    def to_dict(self) -> dict[str, float | int | str]:
        """Return a JSON-able dict."""
        return asdict(self)


def _time_generation(
    graph: Graph, prompt: list[int], tokens: int, seed: int
) -> tuple[float, float]:
    """Return (time to first token, seconds per later token) of one sampled generation."""
    gen = torch.Generator().manual_seed(seed)
    sampling = Sampling(temperature=1.0, max_tokens=tokens, stop=())
    start = time.perf_counter()
    first = 0.0
    count = 0
    for _ in stream(graph, prompt, sampling, gen):
        count += 1
        if count == 1:
            first = time.perf_counter()
    end = time.perf_counter()
    return first - start, (end - first) / max(count - 1, 1)


def _time_parallel(graph: Graph, length: int, seed: int) -> float:
    """Return the parallel forward's seconds per token on one sequence of `length` tokens."""
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, 256, (1, length), generator=gen)
    with torch.inference_mode():
        start = time.perf_counter()
        graph(tokens)
        return (time.perf_counter() - start) / length


@contextlib.contextmanager
def _engine(native: bool) -> Iterator[None]:
    """Run the block with the native step engine allowed or switched off (INSITU_NATIVE)."""
    old = os.environ.get("INSITU_NATIVE")
    os.environ["INSITU_NATIVE"] = "1" if native else "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("INSITU_NATIVE", None)
        else:
            os.environ["INSITU_NATIVE"] = old


def bench_family(
    family: str, budget: int = 100_000, tokens: int = 128, repeats: int = 3, seed_: int = 0
) -> GenerationResult:
    """Benchmark one family's seed individual at about `budget` parameters (best of `repeats`).

    1. Build the seed graph and warm it up (first calls allocate caches).
    2. Time sampled generation through the step path: time to first token, then tokens/s.
    3. Time the parallel forward over prompt + generated length, per token.
    4. Time the PyTorch step path too (the native engine switched off), for comparison.
    5. Keep the best of `repeats` runs of each (least disturbed by other processes).
    """
    genome = seed(family, budget)
    graph = Graph(genome, device="cpu", generator=torch.Generator().manual_seed(seed_)).eval()
    prompt = encode_turn(PROMPT)
    length = len(prompt) + tokens
    _time_generation(graph, prompt, 8, seed_)
    _time_parallel(graph, length, seed_)
    firsts, steps, pars = [], [], []
    for r in range(repeats):
        first, per = _time_generation(graph, prompt, tokens, seed_ + r)
        firsts.append(first)
        steps.append(per)
        pars.append(_time_parallel(graph, length, seed_ + r))
    with _engine(False):
        _time_generation(graph, prompt, 8, seed_)
        torch_steps = [_time_generation(graph, prompt, tokens, seed_ + r)[1]
                       for r in range(repeats)]  # fmt: skip
    step, par = min(steps), min(pars)
    native = native_stepper(graph, length)
    engine = "native" if native is not None else f"torch ({compile.status()})"
    return GenerationResult(
        family=family,
        parameters=graph.num_parameters(),
        width=int(genome["width"]),
        nodes=len(genome["nodes"]),
        first_token_ms=round(min(firsts) * 1e3, 3),
        tokens_per_s=round(1.0 / step, 1),
        step_us_per_token=round(step * 1e6, 1),
        parallel_us_per_token=round(par * 1e6, 1),
        ratio=round(step / par, 2),
        engine=engine,
        torch_step_us_per_token=round(min(torch_steps) * 1e6, 1),
    )


def bench_generation(
    families: tuple[str, ...] = FAMILIES,
    budget: int = 100_000,
    tokens: int = 128,
    repeats: int = 3,
    threads: int = 1,
) -> list[GenerationResult]:
    """Benchmark every family on `threads` CPU threads (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return [bench_family(f, budget, tokens, repeats) for f in families]
    finally:
        torch.set_num_threads(before)
