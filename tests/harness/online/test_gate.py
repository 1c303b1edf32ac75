"""The model gate: training never overlaps a reply, and a waiting reply goes first."""

from __future__ import annotations

import threading
import time

from harness.online.gate import ModelGate


def test_training_waits_for_reply_and_reply_can_end_in_another_thread() -> None:
    """A training block waits while a reply holds the gate, even if another thread ends it."""
    gate = ModelGate()
    reading = gate.generating()
    reading.__enter__()
    trained = threading.Event()

    def train() -> None:
        with gate.training():
            trained.set()

    worker = threading.Thread(target=train)
    worker.start()
    time.sleep(0.1)
    assert not trained.is_set() and gate.reply_wanted
    closer = threading.Thread(target=lambda: reading.__exit__(None, None, None))
    closer.start()
    closer.join()
    assert trained.wait(5)
    worker.join()


def test_reply_waits_only_for_the_current_step() -> None:
    """A reply asked for during a training step starts as soon as that step ends."""
    gate = ModelGate()
    order: list[str] = []
    step = gate.training()
    step.__enter__()

    def reply() -> None:
        with gate.generating():
            order.append("reply")

    t = threading.Thread(target=reply)
    t.start()
    time.sleep(0.05)
    order.append("step done")
    step.__exit__(None, None, None)
    t.join(5)
    assert order == ["step done", "reply"]
