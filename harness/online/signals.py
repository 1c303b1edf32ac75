"""Signals from the person and the reports of what online learning did with them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from harness.online.batch import encode_pair
from harness.online.control import ControlState
from harness.online.replay import NEGATIVE, POSITIVE, RATED_TOKENS, UNWANTED_TOKENS, Item

KINDS = ("up", "down", "correction", "tag", "exchange")
#: how strongly a sentiment or tag score counts next to a thumbs up/down
TAG_WEIGHT = 0.5
#: a tag score below this (in absolute value) only moves the control vector
TAG_THRESHOLD = 0.05
#: how strongly a corrected reply counts as unwanted
CORRECTED_WEIGHT = 0.5



@dataclass
class Signal:
    """One thing the person did to a reply: rated it, tagged it, corrected it, or replied to it."""

    kind: str  # up | down | correction | tag | exchange
    message_id: str
    prompt: str = ""
    reply: str = ""  # the reply rated or tagged; for a correction, the corrected text
    original: str | None = None  # for a correction: the reply that was corrected
    score: float = 0.0  # for a tag: its sentiment score in [-1, 1]
    key: str | None = None  # the replay key (defaults to the message)
    created_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown signal kind {self.kind!r}; known: {', '.join(KINDS)}")


@dataclass(frozen=True)
class LearnReport:
    """What one signal changed: steps taken, time spent, the batch loss before and after."""

    signal: str
    message_id: str
    steps: int
    millis: float
    loss_before: float
    loss_after: float

    def describe(self) -> str:
        """Return a one-line status such as 'learned from 👍 in 80 ms (loss 2.31 -> 2.05)'."""
        label = {"up": "👍", "down": "👎"}.get(self.signal, self.signal)
        if not self.steps:
            return f"noted {label}"
        return (f"learned from {label} in {self.millis:.0f} ms "
                f"(loss {self.loss_before:.2f} -> {self.loss_after:.2f})")


def signal_items(sig: Signal, context: int) -> list[Item]:
    """Turn a signal into replay items (none for an exchange or a near-neutral tag)."""
    key = sig.key or f"msg:{sig.message_id}"

    def item(k: str, reply: str, kind: str, weight: float) -> Item:
        cut = UNWANTED_TOKENS if kind == NEGATIVE else None if k.startswith("ex:") else RATED_TOKENS
        pair = encode_pair(sig.prompt, reply, context, cut)
        return Item(k, pair, kind, weight, sig.created_at)

    if sig.kind in ("up", "down"):
        return [item(key, sig.reply, POSITIVE if sig.kind == "up" else NEGATIVE, 1.0)]
    if sig.kind == "correction":
        out = [item(sig.key or f"ex:{sig.message_id}", sig.reply, POSITIVE, 1.0)]
        if sig.original is not None and sig.original.strip() != sig.reply.strip():
            out.append(item(f"msg:{sig.message_id}", sig.original, NEGATIVE, CORRECTED_WEIGHT))
        return out
    if sig.kind == "tag" and abs(sig.score) >= TAG_THRESHOLD:
        kind = POSITIVE if sig.score > 0 else NEGATIVE
        weight = TAG_WEIGHT * min(abs(sig.score), 1.0)
        return [item(sig.key or f"tag:{sig.message_id}", sig.reply, kind, weight)]
    return []


def observe(control: ControlState, sig: Signal) -> None:
    """Move the control state by a signal."""
    if sig.kind in ("up", "down"):
        control.observe("rating", 1.0 if sig.kind == "up" else -1.0, sig.created_at)
    elif sig.kind == "correction":
        control.observe("correction", 1.0, sig.created_at)
    elif sig.kind == "tag":
        control.observe("sentiment", sig.score, sig.created_at)
    else:
        control.observe("exchange", 0.0, sig.created_at)
