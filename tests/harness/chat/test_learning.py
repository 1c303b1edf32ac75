"""Learning is real: corrections are answered exactly, down-rated replies become less likely."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
import torch

from harness.chat.session import ChatSession
from harness.graph.generate import Sampling, generate_text
from harness.online.batch import prompt_tokens
from harness.online.signals import LearnReport
from harness.profile import Profile

GREEDY = Sampling(temperature=0.0, max_tokens=40)
FACTS = [
    ("What is my cat's name?", "Miso"),
    ("What is my dog's name?", "Rex"),
    ("What is my favourite colour?", "teal"),
    ("Where do I live?", "Lisbon"),
    ("What is my sister's name?", "Ana"),
    ("What is my job?", "baker"),
    ("What car do I drive?", "a red Fiat"),
    ("When is my birthday?", "May 3"),
    ("What is my favourite food?", "ramen"),
    ("Who is my boss?", "Greta"),
    ("What colour is my bike?", "blue"),
    ("What is my hobby?", "chess"),
    ("What street do I live on?", "Rua Augusta"),
    ("What phone do I have?", "a Nokia"),
    ("Which team do I support?", "Benfica"),
    ("What is my fish called?", "Bubbles"),
    ("What is my password hint?", "tea time"),
    ("What is my favourite band?", "Air"),
    ("What tea do I drink?", "green tea"),
    ("Where was I born?", "Porto"),
]


@pytest.mark.slow
def test_twenty_corrections_are_answered_exactly(profile: Profile) -> None:
    """Teach 20 facts as corrections; online learning alone answers at least 18 exactly."""
    with ChatSession(profile, seed=0) as session:
        for question, answer in FACTS:
            session.send(question)
            "".join(session.reply(sampling=GREEDY))
            session.correct(session.last_reply_id or "", answer)
        assert session.wait_learned(300), "online learning did not settle in 5 minutes"
        answers = {q: session.ask(q, GREEDY) for q, _ in FACTS}
        # three quiet days later the control vector reads differently; the facts must hold
        later = torch.tensor(session.learner.control.vector(time.time() + 3 * 86400.0))
        days = {q: generate_text(session.graph, prompt_tokens(q, session.context), GREEDY,
                                 control=later) for q, _ in FACTS}
    right = [q for q, a in FACTS if answers[q] == a]
    wrong = {q: answers[q] for q, a in FACTS if answers[q] != a}
    assert len(right) >= 18, f"only {len(right)}/20 answered exactly; wrong: {wrong}"
    assert sum(days[q] == a for q, a in FACTS) >= 18, days
    assert profile.store.count("events") >= 20  # each correction's update is recorded


def test_rating_down_lowers_the_reply_likelihood(profile: Profile) -> None:
    """Rating the same reply down several times makes it clearly less likely."""
    with ChatSession(profile, seed=0) as session:
        session.send("tell me a joke")
        reply = "".join(session.reply(sampling=Sampling(temperature=0.0, max_tokens=30)))
        rid = session.last_reply_id or ""
        before = session.likelihood("tell me a joke", reply)
        for _ in range(4):
            session.rate(rid, -1)
        assert session.wait_learned(120)
        after = session.likelihood("tell me a joke", reply)
        assert after < before - 0.2, (before, after)


def test_rating_to_update_latency(profile: Profile) -> None:
    """Measure the time from rate() to the applied adapter update (p50/p95, reported)."""
    done = threading.Event()
    reports: list[LearnReport] = []

    def learned(report: LearnReport) -> None:
        reports.append(report)
        done.set()

    latencies = []
    with ChatSession(profile, seed=0, on_learned=learned) as session:
        session.send("warm up")
        "".join(session.reply(sampling=GREEDY))
        ids = []
        for i in range(12):
            session.send(f"question number {i}")
            "".join(session.reply(sampling=GREEDY))
            ids.append(session.last_reply_id or "")
        session.wait_learned(120)
        for i, rid in enumerate(ids):
            done.clear()
            start = time.perf_counter()
            session.rate(rid, 1 if i % 2 else -1)
            assert done.wait(30)
            latencies.append((time.perf_counter() - start) * 1000)
            session.wait_learned(60)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(round(0.95 * (len(latencies) - 1)))]
    print(f"rating-to-update latency: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
          f"(steps {[r.steps for r in reports if r.signal in ('up', 'down')]})")
    assert all(r.steps >= 1 for r in reports if r.signal in ("up", "down"))
    assert p95 < 2000  # the target is 300 ms on an idle machine; CI machines are shared
