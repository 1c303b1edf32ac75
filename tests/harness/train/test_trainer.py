"""The trainer: determinism, budgets, multi-head mixed batches, adapters and frozen weights."""

from __future__ import annotations

import random
import time

import pytest
import torch

from harness.errors import ConfigError, GenomeError
from harness.tasks import load_task
from harness.tasks.base import Task
from harness.train.trainer import Budget, Progress, Trainer, train

from ..tasks.helpers import add_corpus, add_pairs, graph_for, text_profile

TEXT = "to be, or not to be, that is the question: whether 'tis nobler in the mind. " * 40


def corpus_task() -> Task:
    """Return a small corpus task of a fresh profile."""
    with text_profile() as prof:
        add_corpus(prof, "shakespeare", TEXT, TEXT[:600])
        return load_task(prof, "shakespeare")


def test_same_seed_same_weights_and_metrics() -> None:
    """Two runs with one seed give identical losses, metrics and weights; another seed differs."""
    task = corpus_task()
    runs = []
    for run_seed in (3, 3, 4):
        graph = graph_for({"shakespeare": task.head()}, init_seed=run_seed)
        result = train(graph, [task], Budget(steps=20), seed=run_seed)
        runs.append((result, graph.state_dict()))
    (a, wa), (b, wb), (c, _) = runs
    assert a.losses == b.losses and a.metrics == b.metrics
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert a.losses != c.losses


@pytest.mark.parametrize(("steps", "seconds"), [(0, 0.0), (-1, 5.0), (10, -1.0)])
def test_budget_of_zero_is_refused(steps: int, seconds: float) -> None:
    """A budget that trains nothing (or a negative one) raises a ConfigError."""
    with pytest.raises(ConfigError, match="budget"):
        Budget(steps, seconds)


def test_seconds_budget_and_progress_callback() -> None:
    """A seconds budget stops in time; the callback reports every N steps."""
    task = corpus_task()
    graph = graph_for({"shakespeare": task.head()})
    reports: list[Progress] = []
    trainer = Trainer(graph, [task], generator=torch.Generator().manual_seed(0),
                      rng=random.Random(0), callback=reports.append, every=5)
    start = time.perf_counter()
    result = trainer.run(Budget(seconds=1.0))
    assert time.perf_counter() - start < 3.0 and result.steps >= 5
    assert [r.step for r in reports] == list(range(5, result.steps + 1, 5))
    assert all(r.lr > 0 and r.loss > 0 and "shakespeare" in r.losses for r in reports)


def test_multi_head_graph_learns_both_tasks() -> None:
    """A graph with heads for two tasks trains on mixed batches and improves on both."""
    with text_profile("p", "chat") as prof:
        add_corpus(prof, "chat", TEXT, TEXT[:400])
        chat = load_task(prof, "chat")
    with text_profile("q", "shakespeare") as prof:
        add_pairs(prof, "shakespeare", [("a?", "alpha"), ("b?", "beta")])
        add_corpus(prof, "shakespeare", TEXT[:300], TEXT[300:700])
        other = load_task(prof, "shakespeare")
    plain = {"op": "lm", "args": {}}  # the shakespeare template's count memory would start low
    graph = graph_for({"chat": chat.head(), "shakespeare": plain}, train={"lr": 1e-2})
    before = {t.name: t.evaluate(graph)["bpb"] for t in (chat, other)}
    result = train(graph, [chat, other], Budget(steps=60), seed=0)
    assert result.metrics["chat/bpb"] < before["chat"] - 1
    assert result.metrics["shakespeare/bpb"] < before["shakespeare"] - 1


def test_adapters_only_and_frozen_parameters() -> None:
    """Training the adapters leaves base weights alone; frozen prefixes stay unchanged."""
    task = corpus_task()
    graph = graph_for({"shakespeare": task.head()})
    with pytest.raises(GenomeError, match="no adapters"):
        train(graph, [task], Budget(steps=1), params="adapters")
    graph.add_adapters(2, torch.Generator().manual_seed(1))
    base = {n: p.detach().clone() for n, p in graph.named_parameters()}
    train(graph, [task], Budget(steps=5), params="adapters", evaluate_split=None)
    changed = {n for n, p in graph.named_parameters() if not torch.equal(p, base[n])}
    assert changed and all("lora" in n for n in changed)
    base = {n: p.detach().clone() for n, p in graph.named_parameters()}
    train(graph, [task], Budget(steps=5), freeze=["stems.", "blocks."], evaluate_split=None)
    changed = {n for n, p in graph.named_parameters() if not torch.equal(p, base[n])}
    assert changed and all(n.startswith("heads.") for n in changed)
    assert all(p.requires_grad for p in graph.parameters())
