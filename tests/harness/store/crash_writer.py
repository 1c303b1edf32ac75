"""Helper process for the crash tests: writes records and checkpoints, acknowledging each."""

from __future__ import annotations

import hashlib
import random
import sys

import numpy as np
from safetensors.numpy import save

from harness.profile import Profile
from harness.store import records
from harness.store.files import atomic_write_bytes


def main() -> None:
    """Write messages, ratings, tags and checkpoints forever, printing an ack after each commit."""
    name, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    prof = Profile.open(name, create_default=False)
    cid = records.add_conversation(prof.store, f"writer {seed}")
    print(f"conv {cid}", flush=True)
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        text = f"reply {seed}-{n} " * rng.randint(1, 40)
        mid = records.add_message(prof.store, cid, "assistant", text)
        print(f"msg {mid}", flush=True)
        rid = records.add_rating(prof.store, mid, rng.choice([-1, 1]))
        print(f"rating {rid}", flush=True)
        tid = records.add_tag(prof.store, mid, rng.choice(["funny", "wrong", "kind"]))
        print(f"tag {tid}", flush=True)
        if n % 2 == 0:
            size = rng.randint(1_000, 400_000)
            arr = np.frombuffer(rng.randbytes(size * 4), dtype=np.float32).copy()
            data = save({"w": arr}, metadata={"n": str(n)})
            fname = f"ck-{seed}-{n}.safetensors"
            atomic_write_bytes(prof.checkpoints_dir / fname, data)
            print(f"ckpt {fname} {hashlib.sha256(data).hexdigest()}", flush=True)


if __name__ == "__main__":
    main()
