"""Text tasks: corpus windows and pairs, bits per byte, exact recall, progressive evaluation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from harness.errors import DataError
from harness.tasks import TaskData, build_task, load_task
from harness.tasks.lm import stream_seqs, windows
from harness.tasks.text import PROMPT_WEIGHT, encode_pair
from harness.train.trainer import Budget, train
from harness.types import Example, Part
from harness.vocab import ASSISTANT, BOS, EOS, USER

from .helpers import add_corpus, add_pairs, graph_for, shakespeare, text_profile

PAIRS = [("what is my cat's name?", "Miso"), ("where do I live?", "Lyon"),
         ("favourite colour?", "green"), ("my sister's name?", "Ada"),
         ("what do I drink?", "tea")]  # fmt: skip


def test_untrained_bpb_is_about_8_and_training_lowers_it(shared_data: Path) -> None:
    """An untrained graph codes held-out shakespeare at ~8 bits per byte; 150 steps cut that."""
    with text_profile() as prof:
        add_corpus(prof, "shakespeare", shakespeare(shared_data, 0, 60_000),
                   shakespeare(shared_data, 1_000_000, 3_000))
        task = load_task(prof, "shakespeare")
    # a plain lm head: the template's count memory alone would code it at ~3 bits from the start
    graph = graph_for({"shakespeare": {"op": "lm", "args": {}}}, train={"lr": 1e-2})
    before = task.evaluate(graph)["bpb"]
    assert 7.0 < before < 9.5
    result = train(graph, [task], Budget(steps=150), seed=0)
    assert result.metrics["bpb"] < before - 3.0
    assert result.metrics["shakespeare/bpb"] == result.metrics["bpb"]


def test_exact_recall_reaches_100_percent_on_5_pairs() -> None:
    """Five prompt -> answer pairs are memorised: greedy decoding reproduces every answer."""
    with text_profile("p", "chat") as prof:
        add_pairs(prof, "chat", PAIRS)
        task = load_task(prof, "chat")
    graph = graph_for({"chat": task.head()}, train={"lr": 1e-2})
    assert task.evaluate(graph, metrics=["recall"])["recall"] < 0.5
    train(graph, [task], Budget(steps=300), seed=0, batch_size=5, evaluate_split=None)
    assert task.evaluate(graph, metrics=["recall"])["recall"] == 1.0


def test_progressive_eval_learns_repeated_text() -> None:
    """Predict-then-learn on a repeated sentence codes it far below the static bits per byte."""
    line = "the quick brown fox jumps over the lazy dog. "
    with text_profile() as prof:
        add_corpus(prof, "shakespeare", "a few words of training text. " * 20, line * 60)
        task = load_task(prof, "shakespeare")
    graph = graph_for({"shakespeare": task.head()})
    task.progressive_lr = 1e-2  # type: ignore[attr-defined]  # an untrained graph: learn fast
    before = [p.detach().clone() for p in graph.parameters()]
    out = task.evaluate(graph, metrics=["bpb", "progressive_bpb"], budget=2000)
    assert out["progressive_bpb"] < out["bpb"] - 2.0
    assert all(torch.equal(a, b) for a, b in zip(before, graph.parameters(), strict=True))


def test_windows_score_every_byte_once() -> None:
    """Sliding windows score each target of a stream exactly once, also within a budget."""
    for length, context, budget in [(100, 16, None), (17, 16, None), (5, 16, None),
                                    (1000, 32, 333)]:  # fmt: skip
        stream = torch.arange(length) % 256
        seqs = stream_seqs(stream, context, budget)
        scored = torch.zeros(length, dtype=torch.long)
        for (start, _), seq in zip(windows(length, context, budget), seqs, strict=True):
            idx = torch.arange(seq.score.numel()) + start + 1
            scored[idx[seq.score > 0]] += 1
            assert seq.tokens.numel() <= context + 1
        n = length - 1 if budget is None else budget
        assert scored[1 : n + 1].tolist() == [1] * n and scored[n + 1 :].sum() == 0


def test_pair_encoding_weights_prompt_little_and_answer_fully() -> None:
    """A pair is BOS USER prompt ASSISTANT answer EOS; answer targets weigh 1, prompt 0.1."""
    seq = encode_pair(Example([Part.of_text("hi")], [Part.of_text("yo")], weight=2.0))
    assert seq.tokens.tolist() == [BOS, USER, *b"hi", ASSISTANT, *b"yo", EOS]
    assert seq.score.tolist() == [0, 0, 0, 0, 1, 1, 1]  # targets USER h i ASSISTANT y o EOS
    assert seq.train.tolist() == pytest.approx([2 * PROMPT_WEIGHT] * 4 + [2.0] * 3)


def test_heldout_split_is_never_trained_on() -> None:
    """Every batch the trainer draws comes from the training split (instrumented batches)."""
    with text_profile("p", "chat") as prof:
        add_corpus(prof, "chat", "lower case training text only. " * 30, "HELD OUT UPPER " * 30)
        add_pairs(prof, "chat", [("q1", "a1"), ("q2", "a2")])
        add_pairs(prof, "chat", [("SECRET", "PAIR")], split="heldout")
        task = load_task(prof, "chat")
    seen: list[torch.Tensor] = []
    draw = task.batches

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        for batch in draw(*args, **kwargs):
            seen.append(torch.cat([batch.tokens.flatten(), batch.targets.flatten()]))
            yield batch

    task.batches = spy  # type: ignore[method-assign]
    graph = graph_for({"chat": task.head()})
    train(graph, [task], Budget(steps=40), seed=0, evaluate_split=None)
    tokens = torch.cat(seen)
    assert len(seen) == 40
    upper = (tokens >= ord("A")) & (tokens <= ord("Z"))
    assert not upper.any()


def test_task_without_examples_says_how_to_add_some() -> None:
    """An empty task raises a DataError naming `insitu data add -p P PATH --task X`."""
    with text_profile() as prof, pytest.raises(DataError) as err:
        load_task(prof, "shakespeare")
    assert "task shakespeare has no training examples" in str(err.value)
    assert "insitu data add -p p PATH --task shakespeare" in str(err.value)


def test_in_memory_task_measures_unseen_pairs() -> None:
    """A task built from examples in memory reports bits per byte and exact answers."""
    from harness.config import TaskConfig

    examples = [Example([Part.of_text(p)], [Part.of_text(a)]) for p, a in PAIRS]
    task = build_task(TaskConfig(name="chat"), TaskData(heldout=examples))
    graph = graph_for({"chat": task.head()})
    out = task.evaluate(graph, metrics=["bpb", "exact", "recall"])
    assert set(out) == {"bpb", "exact"} and 0 <= out["exact"] <= 1 and math.isfinite(out["bpb"])
