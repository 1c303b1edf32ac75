"""The replay buffer: time-decayed sampling, one item per key, and rebuilding from the store."""

from __future__ import annotations

import random

from harness.online.batch import encode_pair
from harness.online.replay import NEGATIVE, POSITIVE, Item, ReplayBuffer, load_items
from harness.profile import Profile
from harness.store.examples import add_examples
from harness.store.records import add_conversation, add_message, add_rating
from harness.types import Example, Part

HOUR = 3600.0


def _item(key: str, at: float, kind: str = POSITIVE) -> Item:
    return Item(key, encode_pair("q", "a", 64), kind, 1.0, at)


def test_recent_items_are_drawn_more_often() -> None:
    """With a one-hour half-life, an item a day old is drawn far less than a fresh one."""
    buf = ReplayBuffer(half_life_s=HOUR)
    now = 100 * HOUR
    buf.add(_item("old", now - 24 * HOUR))
    buf.add(_item("new", now))
    rng = random.Random(0)
    counts = {"old": 0, "new": 0}
    for _ in range(500):
        counts[buf.sample(1, rng, now)[0].key] += 1
    assert counts["new"] > 490


def test_same_key_replaces_and_capacity_drops_oldest() -> None:
    """A later signal on the same key replaces the earlier; beyond capacity the oldest go."""
    buf = ReplayBuffer(half_life_s=HOUR, capacity=3)
    buf.add(_item("a", 1.0))
    buf.add(_item("a", 2.0, NEGATIVE))
    assert len(buf) == 1 and buf.items()[0].kind == NEGATIVE
    for k in "bcd":
        buf.add(_item(k, 3.0))
    assert [i.key for i in buf.items()] == ["b", "c", "d"]
    assert {i.key for i in buf.sample(10, random.Random(1), 3.0, exclude="c")} == {"b", "d"}


def test_load_items_from_ratings_and_corrections() -> None:
    """The latest rating of each reply and each chat correction come back as items."""
    with Profile.create("p") as prof:
        cid = add_conversation(prof.store)
        add_message(prof.store, cid, "user", "hi")
        mid = add_message(prof.store, cid, "assistant", "yo")
        add_rating(prof.store, mid, 1)
        add_rating(prof.store, mid, -1)
        ex = Example([Part.of_text("hi")], [Part.of_text("hello!")], task="chat", source="chat")
        add_examples(prof.store, [(ex, "train")], message_id=mid)
        items = {i.key.split(":")[0]: i for i in load_items(prof.store, 64)}
    assert items["msg"].kind == NEGATIVE
    assert items["msg"].pair == encode_pair("hi", "yo", 64, 32)
    assert items["ex"].kind == POSITIVE and items["ex"].pair == encode_pair("hi", "hello!", 64)
