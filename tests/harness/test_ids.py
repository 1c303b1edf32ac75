"""Time-sortable ids are unique, sortable by creation and carry their time."""

from __future__ import annotations

import time

from harness.ids import id_time, new_id


def test_ids_sort_in_creation_order() -> None:
    """Ids made one after another sort in that order and never repeat."""
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 26 for i in ids)


def test_id_time_is_now() -> None:
    """The time encoded in an id is the creation time (to the millisecond)."""
    before = time.time()
    ident = new_id()
    assert before - 0.002 <= id_time(ident) <= time.time() + 0.002
