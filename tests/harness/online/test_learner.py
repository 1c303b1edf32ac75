"""The online learner: zero impact at birth, the direction of each signal, the worker, saving."""

from __future__ import annotations

import threading

import pytest
import torch

from harness.chat.model import prepare
from harness.config import OnlineConfig
from harness.graph.build import Graph
from harness.graph.generate import Sampling, generate_text
from harness.graph.seeds import seed
from harness.online.batch import collate, encode_pair, mean_logprob, prompt_tokens, token_logprobs
from harness.online.learner import OnlineLearner
from harness.online.persist import OnlineState, adapter_tensors
from harness.online.signals import LearnReport, Signal
from harness.profile import Profile

CTX = 64


def tiny_graph(s: int = 0) -> Graph:
    """Return a small GRU graph with adapters and a control input."""
    g = Graph(seed("gru", 6_000, context=CTX), generator=torch.Generator().manual_seed(s))
    return prepare(g, rank=4, seed=s)


def loglik(graph: Graph, prompt: str, reply: str) -> float:
    """Return the mean log-prob of a reply."""
    with torch.no_grad():
        inputs, targets, mask = collate([encode_pair(prompt, reply, CTX)], graph.device)
        return float(mean_logprob(token_logprobs(graph, inputs, targets), mask)[0])


def test_adapters_and_control_start_at_zero_impact() -> None:
    """Adding adapters and a control input leaves the logits unchanged, control or not."""
    gen = torch.Generator().manual_seed(3)
    g = Graph(seed("gru", 6_000, context=CTX), generator=gen)
    x = torch.randint(0, 256, (2, 9), generator=gen)
    before = g(x)
    prepare(g, rank=4)
    assert torch.equal(g(x), before)
    assert torch.equal(g(x, control=torch.ones(2, 8)), before)


def test_up_raises_and_down_lowers_likelihood() -> None:
    """A thumbs up makes its reply likelier; a thumbs down makes it less likely than before."""
    cfg = OnlineConfig()
    for kind, sign in (("up", 1.0), ("down", -1.0)):
        graph = tiny_graph()
        learner = OnlineLearner(graph, cfg, seed=0)
        before = loglik(graph, "hello", "hi there")
        report = learner.learn_now(Signal(kind, "m1", "hello", "hi there"))
        assert report.steps >= 1 and report.loss_after < report.loss_before
        assert sign * (loglik(graph, "hello", "hi there") - before) > 0


def test_correction_is_reproduced_after_rehearsal() -> None:
    """A correction, rehearsed when idle, is answered exactly by greedy decoding."""
    graph = tiny_graph()
    learner = OnlineLearner(graph, OnlineConfig(), seed=0)
    learner.learn_now(Signal("correction", "m1", "my cat?", "Miso", original="garble"))
    learner.rehearse(max_steps=300)
    out = generate_text(graph, prompt_tokens("my cat?", CTX), Sampling(temperature=0),
                        control=learner.control_vector())
    assert out == "Miso"


def test_worker_reports_and_never_trains_during_a_reply() -> None:
    """learn_one returns at once; the worker waits for a reply in progress, then reports."""
    reports: list[LearnReport] = []
    learner = OnlineLearner(tiny_graph(), OnlineConfig(), seed=0, on_learned=reports.append)
    with learner.gate.generating():
        learner.learn_one(Signal("up", "m1", "q", "a"))
        assert not learner.wait_idle(0.3, rehearsal=False)
        assert reports == []
    assert learner.wait_idle(30)
    assert [r.signal for r in reports] == ["up"] and reports[0].steps >= 1
    learner.close()
    with pytest.raises(RuntimeError):
        learner.learn_one(Signal("up", "m2", "q", "a"))


def test_a_failing_signal_is_kept_as_error_and_learning_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception inside learning is recorded in last_error; later signals still apply."""
    learner = OnlineLearner(tiny_graph(), OnlineConfig(), seed=0)
    real = learner.learn_now
    calls = {"n": 0}

    def flaky(sig: Signal) -> LearnReport:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("boom")
        return real(sig)

    monkeypatch.setattr(learner, "learn_now", flaky)
    done = threading.Event()
    learner.on_learned = lambda r: done.set()
    learner.learn_one(Signal("up", "m1", "q", "a"))
    learner.learn_one(Signal("up", "m2", "q", "a"))
    assert done.wait(30) and learner.last_error and "boom" in learner.last_error
    learner.close()


def test_adapters_and_control_state_survive_save_and_load() -> None:
    """Saved adapters load back bit for bit; a graph of another shape ignores them."""
    with Profile.create("p") as prof:
        graph = tiny_graph()
        learner = OnlineLearner(graph, OnlineConfig(), state=OnlineState(prof.store, prof.path,
                                                                          "k"), seed=0)
        learner.learn_now(Signal("up", "m1", "q", "a"))
        learner.save()
        saved = {k: v.detach().clone() for k, v in adapter_tensors(graph).items()}
        other = tiny_graph(1)
        again = OnlineLearner(other, OnlineConfig(), state=OnlineState(prof.store, prof.path, "k"))
        assert again.updates == 1
        assert again.control.to_dict() == learner.control.to_dict()
        for k, v in adapter_tensors(other).items():
            assert torch.equal(v, saved[k])
        big = prepare(Graph(seed("gru", 20_000, context=CTX)), rank=4)
        assert OnlineState(prof.store, prof.path, "k").load(big) is None
