"""Online learning behind `insitu serve`: ratings posted to the API teach the served model.

The served graph is the chat's: the champion with zero-impact adapters and a control input,
their online state loaded from the profile (the same key the chat uses). A rating, tag or
correction posted to `/v1/ratings` becomes a `Signal` for an `OnlineLearner`, exactly as in the
chat; replies hold the learner's gate, so a reply never sees adapters change mid-way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.online.learner import OnlineLearner
from harness.online.persist import OnlineState
from harness.online.replay import load_items
from harness.online.signals import Signal

if TYPE_CHECKING:
    import torch

    from harness.graph.build import Graph
    from harness.profile import Profile


def prepare_served(profile: Profile, path: Path, seed: int = 0) -> Graph:
    """Load a champion checkpoint for serving with learning: adapters and control input added."""
    from harness.chat.model import prepare, text_task
    from harness.graph.checkpoint import load

    return prepare(load(path, device="cpu"), profile.config.online.adapter_rank, seed,
                   text_task(profile))


class ServeLearning:
    """One online learner for the served champion; turns posted ratings into signals."""

    def __init__(self, profile: Profile, graph: Graph, individual_id: str, seed: int = 0) -> None:
        self.profile = profile
        state = OnlineState(profile.store, profile.path, f"champion-{individual_id}")
        self.learner = OnlineLearner(graph, profile.config.online, state=state, seed=seed)
        context = int(graph.genome.get("context", 256))
        self.learner.remember(load_items(profile.store, context))

    @property
    def gate(self) -> Any:
        """Return the gate replies hold while they generate."""
        return self.learner.gate

    def control(self) -> torch.Tensor | None:
        """Return the current control vector [C] (None without a control input)."""
        return self.learner.control_vector()

    def switch(self, graph: Graph, individual_id: str) -> None:
        """Learn on a new champion from now on (its own saved adapters are loaded)."""
        key = f"champion-{individual_id}"
        self.learner.set_graph(graph, OnlineState(self.profile.store, self.profile.path, key))

    def signals(self, rated: dict[str, Any], message: dict[str, Any], prompt: str,
                value: int | None, tag: str | None, correction: str | None,
                tag_score: float = 0.0) -> list[Signal]:  # fmt: skip
        """Return the signals of one posted rating (what `exchanges.rate` stored)."""
        mid, reply = str(message["id"]), str(message.get("text") or "")
        out = []
        if value is not None:
            out.append(Signal("up" if value > 0 else "down", mid, prompt, reply))
        if tag:
            out.append(Signal("tag", mid, prompt, reply, score=max(-1.0, min(1.0, tag_score))))
        if correction and correction.strip() and rated.get("example_id"):
            out.append(Signal("correction", mid, prompt, correction.strip(), original=reply,
                              key=f"ex:{rated['example_id']}"))  # fmt: skip
        return out

    def learn(self, signals: list[Signal]) -> None:
        """Queue signals for the learner's worker thread."""
        for sig in signals:
            self.learner.learn_one(sig)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued signal is learned (and rehearsal done); False on timeout."""
        return self.learner.wait_idle(timeout)

    def close(self) -> None:
        """Finish queued signals and save the adapters."""
        self.learner.close()
