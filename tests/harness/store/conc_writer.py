"""Helper process for the concurrency test: writes for a while, reports errors on stderr."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from harness.profile import Profile
from harness.store import records


def main() -> None:
    """Write messages, ratings and events `count` times; print how many were written."""
    name, who, count, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    prof = Profile.open(name, create_default=False)
    cid = records.add_conversation(prof.store, who)
    (gate.parent / f"ready-{who}").touch()
    while not gate.exists():  # start together, so the writes really overlap
        time.sleep(0.01)
    n = 0
    while n < count:
        mid = records.add_message(prof.store, cid, "user", f"{who} {n}")
        records.add_rating(prof.store, mid, 1)
        records.add_event(prof.store, "tick", {"who": who, "n": n})
        with prof.store.write() as db:  # a longer transaction, as training results are
            for i in range(20):
                db["events"].insert({"id": f"{who}-{n}-{i}", "kind": "batch", "created_at": 0.0})
        prof.store.query("SELECT count(*) FROM messages")
        n += 1
    print(n)


if __name__ == "__main__":
    main()
