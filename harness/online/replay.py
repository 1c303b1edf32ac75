"""The replay buffer: past signals mixed into every online step, weighted by time decay.

An item's sampling weight is its signal weight times `0.5 ** (age / half_life)` (seed 002), so
recent signals dominate while old ones still keep the model from drifting away from them.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from harness.online.batch import Pair, encode_pair
from harness.store.db import Store

CAPACITY = 1024
#: rated replies train on their first tokens only (a step's time grows with the longest reply):
#: unwanted ones on where they go wrong, wanted ones on a longer start; corrections in full
UNWANTED_TOKENS = 32
RATED_TOKENS = 96
POSITIVE = "pos"
NEGATIVE = "neg"


@dataclass
class Item:
    """One remembered signal: an encoded turn to make likelier (pos) or less likely (neg)."""

    key: str  # one item per key: a later signal on the same message replaces the earlier one
    pair: Pair
    kind: str  # pos | neg
    weight: float
    created_at: float
    ref: float | None = None  # the frozen reference's mean log-prob of the reply (negatives)

    def decayed_weight(self, now: float, half_life_s: float) -> float:
        """Return the weight decayed by the item's age."""
        return self.weight * 0.5 ** (max(now - self.created_at, 0.0) / half_life_s)


class ReplayBuffer:
    """Bounded, thread-safe memory of signals; the oldest are dropped first."""

    def __init__(self, half_life_s: float, capacity: int = CAPACITY) -> None:
        self.half_life_s = half_life_s
        self.capacity = capacity
        self._items: OrderedDict[str, Item] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Item) -> None:
        """Add or replace the item with this key; drop the oldest beyond capacity."""
        with self._lock:
            self._items.pop(item.key, None)
            self._items[item.key] = item
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def items(self, kind: str | None = None) -> list[Item]:
        """Return the items (of one kind), oldest first."""
        with self._lock:
            return [i for i in self._items.values() if kind is None or i.kind == kind]

    def clear_refs(self) -> None:
        """Forget cached reference log-probs (after the base model changed)."""
        for item in self.items():
            item.ref = None

    def sample(
        self, n: int, rng: random.Random, now: float | None = None, exclude: str | None = None
    ) -> list[Item]:
        """Draw up to n distinct items, each with probability proportional to its decayed weight.

        1. Weigh every item (except `exclude`) by its decayed weight.
        2. Draw one by the weights (Efraimidis-Spirakis keys: u ** (1 / w), largest n win).
        """
        now = time.time() if now is None else now
        pool = [i for i in self.items() if i.key != exclude]
        if n <= 0 or not pool:
            return []
        keyed = []
        for item in pool:
            w = max(item.decayed_weight(now, self.half_life_s), 1e-12)
            keyed.append((rng.random() ** (1.0 / w), item.key, item))
        keyed.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return [item for _, _, item in keyed[:n]]


def _text(parts_json: str | None) -> str:
    """Return the text of a stored parts list (text parts joined)."""
    if not parts_json:
        return ""
    try:
        parts: list[dict[str, Any]] = json.loads(parts_json)
    except ValueError:
        return ""
    return "".join(str(p.get("text") or "") for p in parts if p.get("kind") == "text")


PROMPT_SQL = (
    "(SELECT u.text FROM messages u WHERE u.conversation_id = m.conversation_id "
    "AND u.role = 'user' AND u.id < m.id ORDER BY u.id DESC LIMIT 1)"
)


def load_items(store: Store, context: int, limit: int = CAPACITY) -> list[Item]:
    """Rebuild replay items from the profile: corrections, the latest rating of each reply.

    1. Corrections: chat examples linked to a message (prompt and corrected answer): positive.
    2. Ratings: the latest rating of each assistant message, with the user message before it.
    Returned oldest first, at most `limit` of each kind.
    """
    items: list[Item] = []
    for row in store.query(
        "SELECT id, prompt, answer, weight, created_at FROM examples WHERE source = 'chat' "
        "AND message_id IS NOT NULL AND answer IS NOT NULL ORDER BY id DESC LIMIT ?", [limit]
    ):
        answer = _text(row["answer"])
        if answer:
            pair = encode_pair(_text(row["prompt"]), answer, context)
            items.append(Item(f"ex:{row['id']}", pair, POSITIVE, float(row["weight"] or 1.0),
                              float(row["created_at"])))
    for row in store.query(
        f"SELECT r.message_id, r.value, r.created_at, m.text AS reply, {PROMPT_SQL} AS prompt "
        "FROM ratings r JOIN messages m ON m.id = r.message_id WHERE r.id IN "
        "(SELECT max(id) FROM ratings GROUP BY message_id) ORDER BY r.id DESC LIMIT ?", [limit]
    ):
        if row["prompt"] is None:
            continue
        kind = POSITIVE if int(row["value"]) > 0 else NEGATIVE
        cut = UNWANTED_TOKENS if kind == NEGATIVE else RATED_TOKENS
        pair = encode_pair(row["prompt"], row["reply"] or "", context, cut)
        items.append(Item(f"msg:{row['message_id']}", pair, kind, 1.0, float(row["created_at"])))
    items.sort(key=lambda i: i.created_at)
    return items
