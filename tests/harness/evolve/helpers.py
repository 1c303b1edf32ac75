"""Shared builders for the evolution tests: tiny profiles and a fast, deterministic evaluation."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import torch

from harness.data.ingest import add_paths
from harness.evolve.member import Outcome
from harness.evolve.pool import EvalSpec
from harness.genome import content_hash
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.profile import Profile

TEMPLATE = """
description = "evolution test"

[[tasks]]
name = "{task}"
kind = "text"
modality = "text"
heldout_fraction = 0.2

[model]
max_params = {max_params}
min_params = {min_params}
width = 32
context = {context}
families = {families}

[evolution]
population = {population}
tournament = 2
train_seconds = 0.0
train_steps = {steps}
size_pressure = 0.05
"""


def make_profile(
    tmp: Path,
    name: str = "evo",
    families: tuple[str, ...] = ("mlp", "gru", "transformer", "random"),
    text: str | None = None,
    population: int = 4,
    steps: int = 5,
    min_params: int = 2_000,
    max_params: int = 6_000,
    context: int = 32,
    task: str = "chat",
) -> Profile:
    """Create a profile with a text task and a small corpus (or `text`) and return it open."""
    fams = "[" + ", ".join(f'"{f}"' for f in families) + "]"
    tpl = tmp / f"{name}.toml"
    tpl.write_text(TEMPLATE.format(task=task, max_params=max_params, min_params=min_params,
                                   context=context, families=fams, population=population,
                                   steps=steps))
    prof = Profile.create(name, str(tpl))
    if text is None:
        rng = random.Random(0)
        words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
        text = "\n".join(" ".join(rng.choice(words) for _ in range(8)) for _ in range(200))
    if text:
        corpus = tmp / f"{name}.txt"
        corpus.write_text(text)
        add_paths(prof, [corpus], task)
    return prof


def fake_quality(genome: dict) -> float:
    """Return a deterministic pseudo held-out bpb for a genome (more nodes: a little better)."""
    h = int(content_hash(genome)[:8], 16) / 0xFFFFFFFF  # parents (random ids) do not count
    return 6.0 - 0.3 * len(genome["nodes"]) + h


def fake_eval(spec: EvalSpec) -> Outcome:
    """Build (or load) the graph, save it as the trained checkpoint and invent metrics."""
    time.sleep(float(os.environ.get("INSITU_FAKE_EVAL_SLEEP", "0")))  # to catch it mid-run
    if spec.init_checkpoint:
        graph = checkpoint.load(spec.init_checkpoint, device="cpu")
    else:
        graph = Graph(spec.genome, device="cpu", generator=torch.Generator().manual_seed(spec.seed))
    assert graph.genome["nodes"] == spec.genome["nodes"]
    checkpoint.save(graph, spec.out_checkpoint)
    bpb = fake_quality(spec.genome)
    metrics = {"heldout_bpb": bpb, "train_bpb": bpb - 0.5, "recall": 0.95}
    return Outcome(metrics=metrics, checkpoint=spec.out_checkpoint, params=graph.num_parameters(),
                   flops_per_token=graph.flops_per_token(), latency_us_per_token=1.0, steps=1)


def hungry_eval(spec: EvalSpec) -> Outcome:
    """Allocate far more memory than a worker may use when the seed is odd; else evaluate."""
    if spec.seed % 2:
        hog = bytearray(900 * 2**20)
        for i in range(0, len(hog), 4096):
            hog[i] = 1
        time.sleep(20)
    return fake_eval(spec)
