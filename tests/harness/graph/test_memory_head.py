"""Checks an lm head with a count memory: both paths, checkpoints, generation, text training."""

from __future__ import annotations

import random

import pytest
import torch

from harness.config import TaskConfig, parse_config
from harness.errors import ConfigError, GenomeError
from harness.graph import checkpoint
from harness.graph.generate import Sampling, generate_text
from harness.graph.memory import NgramMemory
from harness.graph.native.stepper import native_stepper
from harness.graph.seeds import seed
from harness.tasks import lm
from harness.tasks.data import TaskData
from harness.tasks.text import TextTask
from harness.train.trainer import Budget, Trainer
from harness.types import Example, Part

from .helpers import build, perturb, stepwise

TEXT = b"the cat sat on the mat. the dog sat on the log. a cat and a dog ran far away. " * 12


def _graph(order: int = 3, family: str = "gru"):
    """Return a small graph whose lm head holds an order-`order` memory of TEXT."""
    g = build(seed(family, 6000, heads={"t": {"op": "lm", "args": {"memory": order}}}, context=32))
    perturb(g)
    g.heads["t"].memory.add(torch.tensor(list(TEXT)))
    return g


@pytest.mark.parametrize("family", ["gru", "transformer"])
def test_step_path_matches_the_parallel_path_and_rows_are_distributions(family):
    """Stepping one token at a time gives the parallel path's log-probabilities, which sum to 1."""
    g = _graph(family=family)
    toks = torch.tensor([list(TEXT[:24]), list(TEXT[40:64])])
    parallel = g.forward_tasks(toks, tasks=["t"])["t"]  # [B, T, V]
    assert torch.allclose(parallel.exp().sum(-1), torch.ones(2, 24), atol=1e-5)
    assert (stepwise(g, toks) - parallel).abs().max() < 1e-4


def test_the_memory_is_saved_with_the_weights(tmp_path):
    """A checkpoint keeps the counts (and their source), so a loaded graph predicts the same."""
    g = _graph()
    g.heads["t"].memory.source = 1234
    path = checkpoint.save(g, tmp_path / "m.safetensors")
    back = checkpoint.load(path)
    toks = torch.tensor([list(TEXT[:30])])
    assert back.heads["t"].memory.entries == g.heads["t"].memory.entries > 0
    assert back.heads["t"].memory.source == 1234
    assert torch.equal(back.forward_tasks(toks, tasks=["t"])["t"],
                       g.forward_tasks(toks, tasks=["t"])["t"])  # fmt: skip


def test_generation_uses_the_torch_path_and_the_memory():
    """Such a graph is not lowered natively; greedy text comes from the mixed distribution."""
    g = _graph()
    assert native_stepper(g, 64, None, "t") is None
    with torch.no_grad():
        for p in g.heads["t"].proj.parameters():
            p.zero_()  # the neural part says nothing: the memory alone decides
    out = generate_text(g, list(b"the cat sat on the m"), Sampling(temperature=0.0, max_tokens=4))
    assert out.startswith("at.")


def test_a_memory_order_out_of_range_is_refused():
    """Orders above 6 (or negative) are refused with the allowed range, in genomes and templates."""
    with pytest.raises(GenomeError, match="1..6"):
        build(seed("gru", 6000, heads={"t": {"op": "lm", "args": {"memory": 9}}}, context=32))
    with pytest.raises(ConfigError, match=r"\.memory' must be from 0 to 6"):
        parse_config({"tasks": [{"name": "t", "memory": 7}]}, "t.toml")
    with pytest.raises(ConfigError, match="for text tasks"):
        parse_config({"tasks": [{"name": "d", "kind": "label", "memory": 3}]}, "d.toml")


def _task(order: int = 3) -> TextTask:
    """Return a text task with TEXT as training chunks and other text held out."""
    train = [Example([Part.of_text(TEXT.decode())], task="t", source="corpus")]
    held = [Example([Part.of_text("a log and a mat sat far. " * 40)], task="t", source="corpus")]
    return TextTask(TaskConfig(name="t", memory=order), TaskData(train=train, heldout=held))


def test_the_task_counts_its_training_split_only_and_recounts_when_it_changes():
    """sync_memory counts the training text (never the held-out text) until it changes."""
    task = _task()
    g = build(seed("gru", 6000, heads={"t": task.head()}, context=32))
    task.sync_memory(g)
    mem = g.heads["t"].memory
    ref = NgramMemory(3, 264)
    ref.add(torch.tensor(list(TEXT)))
    assert all(torch.equal(a, b) for a, b in zip(mem.keys, ref.keys, strict=True))
    before = mem.source
    task.sync_memory(g)
    assert mem.source == before
    mem.add(torch.tensor(list(b"zzz zzz")))  # counts that do not match the task any more
    task.sync_memory(g)
    assert mem.entries == ref.entries and mem.source == before


def test_a_task_of_test_files_only_keeps_the_counts():
    """`insitu eval` builds a task with no training data: the graph's memory stays as it was."""
    g = build(seed("gru", 6000, heads={"t": _task().head()}, context=32))
    _task().sync_memory(g)
    entries = g.heads["t"].memory.entries
    held = [Example([Part.of_text("the cat sat on the log.")], task="t", source="corpus")]
    tests_only = TextTask(TaskConfig(name="t", memory=3), TaskData(heldout=held))
    tests_only.evaluate(g, "heldout", metrics=("bpb",))
    assert g.heads["t"].memory.entries == entries > 0


def test_training_leaves_out_each_target_and_progressive_counts_what_it_scored():
    """The training loss scores text as new to the memory; progressive scoring counts its units."""
    task = _task()
    g = build(seed("gru", 6000, heads={"t": task.head()}, context=32))
    task.sync_memory(g)
    batch = next(task.batches(torch.Generator().manual_seed(0), 4, 32))
    held_out = task.loss(g, batch)
    seen = lm.token_nll(g, "t", torch.cat([batch.tokens, batch.targets[:, -1:]], 1)).mean()
    assert held_out > seen  # without leave-one-out the memory would know every target
    entries = g.heads["t"].memory.entries
    metrics = task.evaluate(g, "heldout", metrics=("bpb", "progressive_bpb"))
    assert metrics["progressive_bpb"] < metrics["bpb"]  # the repeated held-out line is learned
    assert g.heads["t"].memory.entries == entries  # the graph itself is unchanged


def _words(count: int, seed: int) -> str:
    """Return words whose last letter depends on their first, four letters back."""
    rng = random.Random(seed)
    return " ".join(rng.choice(["xaaay", "zaaaw", "qaaav"]) for _ in range(count)) + " "


def test_a_trained_memory_graph_learns_what_the_counts_miss():
    """An order-2 memory cannot see a word's first letter; the trained graph can (held out)."""
    train = [Example([Part.of_text(_words(600, 0))], task="t", source="corpus")]
    held = [Example([Part.of_text(_words(100, 1))], task="t", source="corpus")]
    task = TextTask(TaskConfig(name="t", memory=2), TaskData(train=train, heldout=held))
    g = build(seed("gru", 6000, heads={"t": task.head()}, context=32))
    trainer = Trainer(g, [task], generator=torch.Generator().manual_seed(0),
                      rng=random.Random(0))  # fmt: skip
    alone = NgramMemory(2, 264)
    alone.add(task.splits["train"].stream)
    held = task.splits["heldout"].stream
    p = alone.probs(held[None, :-1])[0]  # [T, V]
    memory_bits = float(-torch.log2(p[torch.arange(held.numel() - 1), held[1:]]).mean())
    trainer.run(Budget(steps=300))
    assert task.evaluate(g, "heldout", metrics=("bpb",))["bpb"] < memory_bits - 0.1


def test_pairs_are_counted_each_as_its_own_sequence():
    """A task's pairs, counted in batches of one length, give the counts of one add per pair."""
    rng = random.Random(0)
    pairs = [Example([Part.of_text(f"q{rng.randint(0, 99)}")],
                     [Part.of_text("answer " * rng.randint(1, 5))], task="t", source="corpus")
             for _ in range(120)]  # fmt: skip
    task = TextTask(TaskConfig(name="t", memory=3), TaskData(train=pairs))
    g = build(seed("gru", 6000, heads={"t": task.head()}, context=32))
    task.sync_memory(g)
    ref = NgramMemory(3, 264)
    for pair in task.splits["train"].pairs:
        ref.add(pair.tokens)
    mem = g.heads["t"].memory
    for k in range(4):
        assert torch.equal(mem.keys[k], ref.keys[k]) and torch.equal(mem.raw[k], ref.raw[k])
        assert torch.equal(mem.cont[k], ref.cont[k])
