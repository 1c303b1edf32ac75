"""Helper process for the kill test: chats and rates, printing an ack after each call returns."""

from __future__ import annotations

import sys

from harness.chat.session import ChatSession
from harness.graph.generate import Sampling


def main() -> None:
    """Send, reply, rate, tag and correct forever, printing `kind id` after each returns."""
    session = ChatSession.open(sys.argv[1])
    session.sampling = Sampling(temperature=0.0, max_tokens=8)
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        session.send(f"message {n}")
        "".join(session.reply())
        rid = session.last_reply_id
        session.rate(rid, 1 if n % 2 else -1)
        print(f"rating {rid}", flush=True)
        session.tag(rid, f"tag{n}")
        print(f"tag {rid} tag{n}", flush=True)
        eid = session.correct(rid, f"answer {n}")
        print(f"example {eid}", flush=True)


if __name__ == "__main__":
    main()
