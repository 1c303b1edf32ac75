"""A chat session on a profile: send, stream a reply, rate, tag, correct; the model learns online.

Every write (message, rating, tag, correction) is committed before the method returns; learning
from it then happens in the online learner's worker thread (see harness/online). Replies are
single-turn: the model sees the person's last message, as it does when it learns.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import torch

from harness.chat import history
from harness.chat.inputs import message_text
from harness.chat.model import (
    WARM_SECONDS,
    champion_row,
    label_for,
    load_chat_model,
    prepare,
    text_task,
)
from harness.errors import DataError
from harness.genome import content_hash
from harness.graph.build import Graph
from harness.graph.generate import Sampling, stream
from harness.online.batch import collate, encode_pair, mean_logprob, prompt_tokens, token_logprobs
from harness.online.learner import OnlineLearner
from harness.online.persist import OnlineState
from harness.online.replay import load_items
from harness.online.signals import LearnReport, Signal
from harness.profile import Profile
from harness.store.examples import add_examples, example_hash
from harness.store.records import add_conversation, add_message, add_rating, add_tag
from harness.types import Example, Part

#: sentiment scores at or beyond this size count as positive/negative (VADER's convention)
SENTIMENT_CUT = 0.05


def sentiment_tag(score: float) -> str:
    """Return 'positive', 'negative' or 'neutral' for a compound sentiment score."""
    return "positive" if score >= SENTIMENT_CUT else "negative" if score <= -SENTIMENT_CUT \
        else "neutral"


class ChatSession:
    """One person chatting with their profile's micro-model (thread-safe; no UI)."""

    def __init__(
        self,
        profile: Profile,
        *,
        device: str | None = None,
        seed: int = 0,
        sentiment: Callable[[str], float] | None = None,
        on_learned: Callable[[LearnReport], None] | None = None,
        warm_seconds: float = WARM_SECONDS,
    ) -> None:
        self.profile = profile
        self.task = text_task(profile)
        self.sentiment = sentiment
        self.on_learned = on_learned
        self.reports: deque[LearnReport] = deque(maxlen=100)
        gen = profile.config.generation
        self.sampling = Sampling(temperature=gen.temperature, top_k=gen.top_k, top_p=gen.top_p,
                                 max_tokens=gen.max_tokens)
        self.last_reply_id: str | None = None
        self.last_notice: str | None = None
        self._seed = seed
        self._replies = 0
        self._conversation_id: str | None = None
        self._lock = threading.RLock()
        self._owns_profile = False
        model = load_chat_model(profile, device, seed, warm_seconds)
        self.model_label = model.label
        self.individual_id = model.individual_id
        state = OnlineState(profile.store, profile.path, model.base_key)
        self.learner = OnlineLearner(model.graph, profile.config.online, state=state, seed=seed,
                                     on_learned=self._learned)
        self.learner.remember(load_items(profile.store, self.context))

    @classmethod
    def open(cls, name: str, **kwargs: Any) -> ChatSession:
        """Open profile `name` (a clear ProfileError if missing) and start a session on it."""
        profile = Profile.open(name)
        try:
            session = cls(profile, **kwargs)
        except BaseException:
            profile.close()
            raise
        session._owns_profile = True
        return session

    # ------------------------------------------------------------------------- model
    @property
    def graph(self) -> Graph:
        """Return the graph replies come from."""
        return self.learner.graph

    @property
    def context(self) -> int:
        """Return the model's context length in tokens."""
        return int(self.graph.genome.get("context", self.profile.config.model.context))

    def switch_model(self, graph: Graph, *, individual_id: str | None = None,
                     label: str | None = None) -> None:  # fmt: skip
        """Chat with another graph from the next reply on (waits for a reply in progress)."""
        graph = prepare(graph.to("cpu"), self.profile.config.online.adapter_rank, self._seed)
        key = (f"champion-{individual_id}" if individual_id
               else f"graph-{content_hash(graph.genome)[:16]}")
        self.learner.set_graph(graph, OnlineState(self.profile.store, self.profile.path, key))
        self.individual_id = individual_id
        self.model_label = label or label_for(graph, individual_id)

    def refresh_champion(self) -> bool:
        """Switch to the profile's newest champion if evolution found one; return True if so.

        Called between replies (the idle evolution worker stores champions as it finds them);
        the switch itself waits for a reply in progress.
        """
        row = champion_row(self.profile)
        if row is None or row["id"] == self.individual_id:
            return False
        from harness.graph.checkpoint import load

        path = self.profile.path / row["checkpoint"]
        if not path.is_file():
            path = self.profile.checkpoints_dir / row["checkpoint"]
        self.switch_model(load(path, device="cpu"), individual_id=row["id"])
        return True

    # ------------------------------------------------------------------------- conversations
    @property
    def conversation_id(self) -> str:
        """Return the current conversation's id (created on first use)."""
        with self._lock:
            if self._conversation_id is None:
                self._conversation_id = add_conversation(self.profile.store)
            return self._conversation_id

    def new_conversation(self) -> str:
        """Start a new conversation and return its id."""
        with self._lock:
            self._conversation_id = add_conversation(self.profile.store)
            return self._conversation_id

    def conversations(self, query: str | None = None, limit: int = 50) -> list[dict]:
        """Return past conversations, newest first; with a query, full-text matches."""
        return history.list_conversations(self.profile.store, query, limit)

    def open_conversation(self, conversation_id: str) -> list[dict]:
        """Make a past conversation current; return its messages (with ratings and tags)."""
        messages = history.conversation_messages(self.profile.store, conversation_id)
        with self._lock:
            self._conversation_id = conversation_id
        return messages

    # ------------------------------------------------------------------------- exchange
    def send(self, text: str) -> str:
        """Store the person's message (and the sentiment tag it puts on the previous reply)."""
        text, notice = message_text(text)
        store = self.profile.store
        cid = self.conversation_id
        last = store.query("SELECT id, role, text FROM messages WHERE conversation_id = ? "
                           "ORDER BY id DESC LIMIT 1", [cid])
        with store.write() as db:
            mid = add_message(store, cid, "user", text)
            if notice:
                db.execute("UPDATE messages SET notice = ? WHERE id = ?", [notice, mid])
            db.execute("UPDATE conversations SET title = ? WHERE id = ? AND "
                       "coalesce(title, '') = ''", [" ".join(text.split())[:60], cid])
        self.last_notice = notice
        self.learner.learn_one(Signal("exchange", mid))
        if last and last[0]["role"] == "assistant" and self.sentiment is not None:
            score = max(-1.0, min(1.0, float(self.sentiment(text))))
            prev = history.get_message(store, last[0]["id"])
            add_tag(store, prev["id"], sentiment_tag(score), source="sentiment", score=score)
            self.learner.learn_one(Signal("tag", prev["id"], prev["prompt"] or "",
                                          prev["text"] or "", score=score))
        return mid

    def _last_user(self) -> dict[str, Any]:
        """Return the newest user message of the current conversation, or raise DataError."""
        rows = self.profile.store.query(
            "SELECT id, text FROM messages WHERE conversation_id = ? AND role = 'user' "
            "ORDER BY id DESC LIMIT 1", [self.conversation_id])
        if not rows:
            raise DataError("there is no message to reply to", "send() a message first")
        return rows[0]

    def reply(self, stop: threading.Event | None = None, *,
              sampling: Sampling | None = None) -> Iterator[str]:  # fmt: skip
        """Stream the reply to the last message as text pieces; store it when done or stopped.

        1. Encode the last user message as a turn (its newest bytes if it is long).
        2. Hold the model for reading (online learning waits) and stream tokens with a seeded
           generator and the current control vector, until EOS, max tokens or `stop` is set.
        3. Store the reply (a notice says if it was stopped); its id is in `last_reply_id`.
        """
        user = self._last_user()
        cid = self.conversation_id
        s = sampling or self.sampling
        room = min(s.max_tokens, self.context // 2)
        prompt = prompt_tokens(user["text"] or "", self.context, room)
        s = Sampling(s.temperature, s.top_k, s.top_p, min(s.max_tokens, room), s.stop)
        with self._lock:
            self._replies += 1
            gen = torch.Generator().manual_seed(self._seed * 1_000_003 + self._replies)
        pieces: list[str] = []
        complete = False
        individual = self.individual_id
        try:
            with self.learner.gate.generating():
                for token in stream(self.graph, prompt, s, gen,
                                    control=self.learner.control_vector()):
                    if stop is not None and stop.is_set():
                        break
                    if token.text:
                        pieces.append(token.text)
                        yield token.text
                else:
                    complete = True
        finally:  # also when the consumer stops iterating (GeneratorExit)
            with self.profile.store.write() as db:
                mid = add_message(self.profile.store, cid, "assistant", "".join(pieces),
                                  individual_id=individual)
                if not complete:
                    db.execute("UPDATE messages SET notice = 'stopped' WHERE id = ?", [mid])
            self.last_reply_id = mid

    def ask(self, text: str, sampling: Sampling | None = None) -> str:
        """Send a message and return the whole reply (a convenience for scripts and tests)."""
        self.send(text)
        return "".join(self.reply(sampling=sampling))

    # ------------------------------------------------------------------------- signals
    def _reply_message(self, message_id: str) -> dict[str, Any]:
        """Return an assistant message with its prompt, or raise DataError."""
        msg = history.get_message(self.profile.store, message_id)
        if msg["role"] != "assistant":
            raise DataError(f"message '{message_id}' is a {msg['role']} message",
                            "rate, tag or correct a reply of the model")
        return msg

    def rate(self, message_id: str, value: int) -> None:
        """Store a thumbs up (+1) or down (-1) on a reply, then schedule learning from it."""
        if value not in (1, -1):
            raise DataError(f"a rating is +1 or -1, not {value!r}", "rate with +1 (👍) or -1 (👎)")
        msg = self._reply_message(message_id)
        add_rating(self.profile.store, message_id, value, source="user")
        self.learner.learn_one(Signal("up" if value > 0 else "down", message_id,
                                      msg["prompt"] or "", msg["text"] or ""))

    def tag(self, message_id: str, tag: str) -> None:
        """Store a tag on a reply; its sentiment (if a scorer was given) is a weak signal."""
        msg = self._reply_message(message_id)
        add_tag(self.profile.store, message_id, tag, source="user")
        score = float(self.sentiment(tag)) if self.sentiment is not None else 0.0
        self.learner.learn_one(Signal("tag", message_id, msg["prompt"] or "", msg["text"] or "",
                                      score=max(-1.0, min(1.0, score))))

    def correct(self, message_id: str, text: str) -> str:
        """Store the reply the person wanted as a training example; schedule learning; its id."""
        msg = self._reply_message(message_id)
        answer, _ = message_text(text, "correction")
        answer = answer.strip()
        ex = Example(prompt=[Part.of_text(msg["prompt"] or "")], answer=[Part.of_text(answer)],
                     task=self.task, source="chat")
        store = self.profile.store
        with store.write():
            add_examples(store, [(ex, "train")], message_id=message_id,
                         provenance={"via": "chat", "correction_of": message_id})
            rows = store.query("SELECT id FROM examples WHERE task = ? AND hash = ?",
                               [self.task, example_hash(ex)])
        eid = str(rows[0]["id"])
        self.learner.learn_one(Signal("correction", message_id, msg["prompt"] or "", answer,
                                      original=msg["text"] or "", key=f"ex:{eid}"))
        return eid

    def _learned(self, report: LearnReport) -> None:
        """Keep a report and pass it on to the UI's callback."""
        self.reports.append(report)
        if self.on_learned is not None:
            self.on_learned(report)

    # ------------------------------------------------------------------------- diagnostics
    def likelihood(self, prompt: str, reply: str) -> float:
        """Return the mean log-probability per token of `reply` (and EOS) given `prompt`."""
        pair = encode_pair(prompt, reply, self.context)
        with self.learner.gate.generating(), torch.no_grad():
            inputs, targets, mask = collate([pair], self.graph.device)
            logp = token_logprobs(self.graph, inputs, targets, self.learner.control_vector())
            return float(mean_logprob(logp, mask)[0])

    def wait_learned(self, timeout: float | None = None) -> bool:
        """Wait until every scheduled signal is learned and rehearsal is done; False on timeout."""
        return self.learner.wait_idle(timeout)

    def close(self) -> None:
        """Finish learning, save the adapters and control state (and close an owned profile)."""
        self.learner.close()
        if self._owns_profile:
            self.profile.close()

    def __enter__(self) -> ChatSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
