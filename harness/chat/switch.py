"""When the chat takes a new champion: only when it is better on held-out data AND rated replies.

The evolution worker crowns champions by its own fitness; the person's chat switches to one only
if, on this profile's data, it is at least as good as the model the person talks to now (with
what that model learned online):

- held-out: bits per byte on the text task's held-out split (lower is better);
- rated replies: the mean over rated replies of rating x log-likelihood per token of the reply
  (higher is better: liked replies likely, disliked ones unlikely).

Evidence that is missing (no held-out data, no ratings) does not block a switch; a candidate that
is worse on either is kept out, and the decision is recorded as an event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from harness.errors import InsituError
from harness.graph.build import Graph
from harness.online.batch import collate, encode_pair, mean_logprob, token_logprobs
from harness.profile import Profile

#: held-out bytes scored per model (keeps a switch decision to a second or two)
HELDOUT_BUDGET = 8_192
#: rated replies scored per model (the newest)
RATED_LIMIT = 64
#: a candidate may be this much worse in bits per byte and still count as "as good"
BPB_TOLERANCE = 0.01
RATED_TOLERANCE = 0.01


@dataclass
class Scores:
    """One model's scores on the profile's evidence (None: no such evidence)."""

    heldout_bpb: float | None
    rated: float | None
    rated_count: int


@dataclass
class Verdict:
    """The switch decision with both models' scores."""

    switch: bool
    reason: str
    current: Scores
    candidate: Scores

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (for the event log)."""
        return asdict(self)


def rated_replies(profile: Profile, limit: int = RATED_LIMIT) -> list[tuple[str, str, int]]:
    """Return (prompt, reply, +1/-1) for the newest rated assistant replies."""
    rows = profile.store.query(
        "SELECT m.id, m.conversation_id, m.text, r.value FROM ratings r JOIN messages m "
        "ON m.id = r.message_id WHERE m.role = 'assistant' AND r.value != 0 "
        "ORDER BY r.created_at DESC LIMIT ?", [limit])  # fmt: skip
    out = []
    for r in rows:
        prev = profile.store.query(
            "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' AND id < ? "
            "ORDER BY id DESC LIMIT 1", [r["conversation_id"], r["id"]])  # fmt: skip
        out.append((str(prev[0]["text"] or "") if prev else "", str(r["text"] or ""),
                    1 if r["value"] > 0 else -1))  # fmt: skip
    return out


def rated_score(graph: Graph, rated: list[tuple[str, str, int]],
                control: torch.Tensor | None = None) -> float | None:  # fmt: skip
    """Return mean(rating x mean log-prob per token of the reply) over rated replies."""
    if not rated:
        return None
    context = int(graph.genome.get("context", 256))
    pairs = [encode_pair(p, r, context) for p, r, _ in rated]
    signs = torch.tensor([float(v) for _, _, v in rated])  # [N]
    with torch.no_grad():
        inputs, targets, mask = collate(pairs, graph.device)
        usable = control if graph.control_size else None
        logp = token_logprobs(graph, inputs, targets, usable)  # [N, T]
        per_reply = mean_logprob(logp, mask).cpu()  # [N]
    return float((signs * per_reply).mean())


def heldout_bpb(profile: Profile, task: str, graph: Graph) -> float | None:
    """Return bits per byte of the graph on the task's held-out split (None without data)."""
    from harness.tasks import load_task

    try:
        metrics = load_task(profile, task).evaluate(graph, "heldout", HELDOUT_BUDGET, ["bpb"])
    except InsituError:
        return None
    return metrics.get("bpb")


def scores(profile: Profile, task: str, graph: Graph,
           control: torch.Tensor | None = None) -> Scores:  # fmt: skip
    """Return a model's scores on the profile's held-out data and rated replies."""
    rated = rated_replies(profile)
    was_training = graph.training
    graph.eval()
    try:
        return Scores(heldout_bpb(profile, task, graph), rated_score(graph, rated, control),
                      len(rated))  # fmt: skip
    finally:
        graph.train(was_training)


def decide(current: Scores, candidate: Scores) -> Verdict:
    """Return whether to switch: not worse on held-out bpb and not worse on rated replies."""
    if (current.heldout_bpb is not None and candidate.heldout_bpb is not None
            and candidate.heldout_bpb > current.heldout_bpb + BPB_TOLERANCE):  # fmt: skip
        return Verdict(False, f"worse on held-out data ({candidate.heldout_bpb:.3f} vs "
                       f"{current.heldout_bpb:.3f} bits/byte)", current, candidate)  # fmt: skip
    if (current.rated is not None and candidate.rated is not None
            and candidate.rated < current.rated - RATED_TOLERANCE):  # fmt: skip
        return Verdict(False, f"worse on your {candidate.rated_count} rated replies "
                       f"({candidate.rated:.3f} vs {current.rated:.3f})", current, candidate)
    return Verdict(True, "as good or better on held-out data and rated replies", current,
                   candidate)  # fmt: skip
