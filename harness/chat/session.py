"""A chat session on a profile: send, stream a reply, rate, tag, correct; the model learns online.

Every write (message, rating, tag, correction) is committed before the method returns; learning
from it then happens in the online learner's worker thread (see harness/online). Replies are
single-turn: the model sees the person's last message, as it does when it learns.

Messages may carry images and audio (`send(text, parts=[...])`), stored as content-addressed
attachments. On a profile whose task is a label task over images or audio (the mnist and
spoken-digits templates) the reply is the label the model predicts for the message's media
(harness.chat.label); ratings, tags and corrections work on those replies as on text.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import torch

from harness.chat import history
from harness.chat.inputs import message_text
from harness.chat.label import LEARN_STEPS as LABEL_LEARN_STEPS
from harness.chat.label import MEDIA_NOUNS, LabelChat, label_task, load_part, store_part
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
from harness.profile import Profile, profile_flag
from harness.store.examples import add_examples, example_hash
from harness.store.records import (
    add_conversation,
    add_event,
    add_message,
    add_rating,
    add_tag,
)
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
        warm_steps: int = 0,
    ) -> None:
        self.profile = profile
        media_task = label_task(profile)
        texts = [t for t in profile.config.tasks if t.kind == "text"]
        self.labeler: LabelChat | None = None
        if media_task is not None and not texts:
            self.task = media_task.name
        else:
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
        self._kept_out: set[str] = set()  # champions found worse on this profile's evidence
        self.learner: OnlineLearner | None = None
        if media_task is not None and not texts:
            self.labeler = LabelChat(profile, media_task, seed, warm_seconds, warm_steps)
            self.model_label = self.labeler.label
            self.individual_id = self.labeler.individual_id
            return
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
        if self.labeler is not None:
            return self.labeler.graph
        return self._lm().graph

    def _lm(self) -> OnlineLearner:
        """Return the online learner of a text chat (a label chat has none)."""
        if self.learner is None:
            raise DataError(f"profile '{self.profile.name}' classifies "
                            f"{self.labeler.task.modality if self.labeler else 'media'}; "
                            "it has no language model", "attach an image or a recording")
        return self.learner

    @property
    def context(self) -> int:
        """Return the model's context length in tokens."""
        if self.labeler is not None:
            return int(self.profile.config.model.context)
        return int(self.graph.genome.get("context", self.profile.config.model.context))

    def switch_model(self, graph: Graph, *, individual_id: str | None = None,
                     label: str | None = None) -> None:  # fmt: skip
        """Chat with another graph from the next reply on (waits for a reply in progress)."""
        if self.labeler is not None:
            self.labeler.set_graph(graph, individual_id)
            self.individual_id = individual_id
            self.model_label = label or self.labeler.label
            return
        graph = prepare(graph.to("cpu"), self.profile.config.online.adapter_rank, self._seed,
                        self.task)
        key = (f"champion-{individual_id}" if individual_id
               else f"graph-{content_hash(graph.genome)[:16]}")
        self._lm().set_graph(graph, OnlineState(self.profile.store, self.profile.path, key))
        self.individual_id = individual_id
        self.model_label = label or label_for(graph, individual_id)

    def refresh_champion(self) -> bool:
        """Switch to the profile's newest champion if it is better here; return True if so.

        Called between replies (the idle evolution worker stores champions as it finds them).
        The candidate must be as good as the current model on the profile's held-out data and
        on the person's rated replies (see harness.chat.switch); one found worse is not tried
        again. The switch itself waits for a reply in progress.
        """
        row = champion_row(self.profile)
        if row is None or row["id"] == self.individual_id or row["id"] in self._kept_out:
            return False
        from harness.chat import switch
        from harness.graph.checkpoint import load

        path = self.profile.checkpoint_path(row["checkpoint"])
        if self.labeler is not None:  # a label task: evolution's held-out accuracy decides
            self.switch_model(load(path, device="cpu"), individual_id=row["id"])
            return True
        candidate = prepare(load(path, device="cpu"), self.profile.config.online.adapter_rank,
                            self._seed, self.task)  # fmt: skip
        learner = self._lm()
        control = learner.control_vector()
        with learner.gate.generating():  # online learning waits while both are scored
            current = switch.scores(self.profile, self.task, self.graph, control)
        verdict = switch.decide(current, switch.scores(self.profile, self.task, candidate,
                                                       control))  # fmt: skip
        add_event(self.profile.store, "champion_switch" if verdict.switch else "champion_kept",
                  {"candidate": row["id"], "current": self.individual_id,
                   **verdict.to_dict()}, individual_id=row["id"])  # fmt: skip
        if not verdict.switch:
            self._kept_out.add(row["id"])
            self.last_notice = f"kept the current model: the new champion is {verdict.reason}"
            return False
        self.switch_model(candidate, individual_id=row["id"])
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
    def send(self, text: str = "", parts: list[Part] | None = None) -> str:
        """Store the person's message (and the sentiment tag it puts on the previous reply).

        `parts` are images or audio clips sent with the text (stored as attachments); with
        media the text may be empty.
        """
        refs = [store_part(self.profile, p) for p in parts or []]
        typed = bool(text.strip())
        if refs and not typed:
            text = " ".join(f"[{r.kind}]" for r in refs)
        text, notice = message_text(text)
        store = self.profile.store
        cid = self.conversation_id
        last = store.query("SELECT id, role, text FROM messages WHERE conversation_id = ? "
                           "ORDER BY id DESC LIMIT 1", [cid])
        with store.write() as db:
            mid = add_message(store, cid, "user", text,
                              parts=[r.to_dict(inline=False) for r in refs] or None,
                              attachments=[r.attachment for r in refs if r.attachment] or None)
            if notice:
                db.execute("UPDATE messages SET notice = ? WHERE id = ?", [notice, mid])
            db.execute("UPDATE conversations SET title = ? WHERE id = ? AND "
                       "coalesce(title, '') = ''", [" ".join(text.split())[:60], cid])
        self.last_notice = notice
        if self.learner is not None:
            self.learner.learn_one(Signal("exchange", mid))
        if last and last[0]["role"] == "assistant" and self.sentiment is not None and typed:
            score = max(-1.0, min(1.0, float(self.sentiment(text))))
            prev = history.get_message(store, last[0]["id"])
            add_tag(store, prev["id"], sentiment_tag(score), source="sentiment", score=score)
            self._learn_tag(prev, score)
        return mid

    def _last_user(self) -> dict[str, Any]:
        """Return the newest user message of the current conversation, or raise DataError."""
        rows = self.profile.store.query(
            "SELECT id, text, parts FROM messages WHERE conversation_id = ? AND role = 'user' "
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
        if self.labeler is not None:
            yield from self._label_reply(user, cid)
            return
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
            learner = self._lm()
            with learner.gate.generating():
                for token in stream(self.graph, prompt, s, gen,
                                    control=learner.control_vector()):
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

    def _label_reply(self, user: dict[str, Any], cid: str) -> Iterator[str]:
        """Reply to a message's image or clip with the predicted label; store the reply."""
        assert self.labeler is not None
        refs = _media_refs(user.get("parts"))
        if not refs:
            kinds = self.labeler.modalities()
            what = " or ".join(MEDIA_NOUNS[k] for k in kinds)
            in_chat = " or ".join("/image PATH" if k == "image" else "/audio PATH or /record"
                                  for k in kinds)  # fmt: skip
            flag = profile_flag(self.profile.name)
            raise DataError(f"profile '{self.profile.name}' answers {what}, and the message has "
                            "none", f"attach one: {in_chat} in the chat, or "
                            f"`insitu ask{flag} --attach PATH` from the shell")
        part = load_part(self.profile, refs[0])
        label, prob = self.labeler.predict(part)
        mid = add_message(self.profile.store, cid, "assistant", label,
                          parts=[{"kind": "label", "label": label, "p": round(prob, 4)}],
                          individual_id=self.individual_id)
        self.last_reply_id = mid
        yield label

    def ask(self, text: str = "", sampling: Sampling | None = None,
            parts: list[Part] | None = None) -> str:  # fmt: skip
        """Send a message and return the whole reply (a convenience for scripts and tests)."""
        self.send(text, parts)
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
        if self.labeler is not None:
            self._label_learn(message_id, msg["text"] or "", value)
            return
        self._lm().learn_one(Signal("up" if value > 0 else "down", message_id,
                                    msg["prompt"] or "", msg["text"] or ""))

    def tag(self, message_id: str, tag: str) -> None:
        """Store a tag on a reply; its sentiment (if a scorer was given) is a weak signal."""
        msg = self._reply_message(message_id)
        add_tag(self.profile.store, message_id, tag, source="user")
        score = float(self.sentiment(tag)) if self.sentiment is not None else 0.0
        self._learn_tag(msg, max(-1.0, min(1.0, score)))

    def _learn_tag(self, msg: dict[str, Any], score: float) -> None:
        """Learn from a tag's sentiment: a weak rating (a label chat acts only on clear ones)."""
        if self.labeler is not None:
            if abs(score) >= SENTIMENT_CUT:
                self._label_learn(msg["id"], msg["text"] or "", 1 if score > 0 else -1, "tag")
            return
        self._lm().learn_one(Signal("tag", msg["id"], msg["prompt"] or "", msg["text"] or "",
                                    score=score))

    def _prompt_media(self, message_id: str) -> list[Part]:
        """Return the media references of the user message a reply answered."""
        rows = self.profile.store.query(
            "SELECT u.parts FROM messages u JOIN messages m ON m.id = ? WHERE "
            "u.conversation_id = m.conversation_id AND u.role = 'user' AND u.id < m.id "
            "ORDER BY u.id DESC LIMIT 1", [message_id])
        return _media_refs(rows[0]["parts"]) if rows else []

    def _label_learn(self, message_id: str, label: str, value: int, signal: str = "") -> None:
        """Take a few steps on the media a label reply answered (towards or away from it) and
        report them as the online learner reports a text signal."""
        assert self.labeler is not None
        refs = self._prompt_media(message_id)
        if refs:
            self._label_step(message_id, load_part(self.profile, refs[0]), label, value,
                             signal or ("up" if value > 0 else "down"))

    def _label_step(self, message_id: str, part: Part, label: str, value: int,
                    signal: str) -> None:  # fmt: skip
        """Learn one labelled example at once and pass a LearnReport to on_learned."""
        assert self.labeler is not None
        start = time.perf_counter()
        before, after = self.labeler.learn(part, label, value)
        steps = LABEL_LEARN_STEPS if self.labeler.knows(part, label) else 0
        self._learned(LearnReport(signal, message_id, steps,
                                  (time.perf_counter() - start) * 1000.0, before, after))

    def correct(self, message_id: str, text: str) -> str:
        """Store the reply the person wanted as a training example; schedule learning; its id."""
        msg = self._reply_message(message_id)
        answer, _ = message_text(text, "correction")
        answer = answer.strip()
        if self.labeler is not None:
            return self._label_correct(message_id, answer)
        ex = Example(prompt=[Part.of_text(msg["prompt"] or "")], answer=[Part.of_text(answer)],
                     task=self.task, source="chat")
        eid = self._store_correction(ex, message_id)
        self._lm().learn_one(Signal("correction", message_id, msg["prompt"] or "", answer,
                                      original=msg["text"] or "", key=f"ex:{eid}"))
        return eid

    def _label_correct(self, message_id: str, answer: str) -> str:
        """Store the media and its right label as a training example, learn it; its id."""
        assert self.labeler is not None
        refs = self._prompt_media(message_id)
        if not refs:
            raise DataError("the message this reply answered has no image or audio",
                            "correct a reply to a picture or a recording")
        label = self.labeler.check_label(answer, refs[0].kind)
        ex = Example(prompt=[refs[0]], answer=[Part.of_label(label)],
                     task=self.labeler.task_for(refs[0].kind).name, source="chat")
        eid = self._store_correction(ex, message_id)
        self._label_step(message_id, load_part(self.profile, refs[0]), label, 1, "correction")
        return eid

    def _store_correction(self, ex: Example, message_id: str) -> str:
        """Store a correction of a reply as a training example; return the example's id."""
        store = self.profile.store
        with store.write():
            add_examples(store, [(ex, "train")], message_id=message_id,
                         provenance={"via": "chat", "correction_of": message_id})
            rows = store.query("SELECT id FROM examples WHERE task = ? AND hash = ?",
                               [ex.task, example_hash(ex)])
        return str(rows[0]["id"])

    def _learned(self, report: LearnReport) -> None:
        """Keep a report and pass it on to the UI's callback."""
        self.reports.append(report)
        if self.on_learned is not None:
            self.on_learned(report)

    # ------------------------------------------------------------------------- diagnostics
    def likelihood(self, prompt: str, reply: str) -> float:
        """Return the mean log-probability per token of `reply` (and EOS) given `prompt`."""
        pair = encode_pair(prompt, reply, self.context)
        learner = self._lm()
        with learner.gate.generating(), torch.no_grad():
            inputs, targets, mask = collate([pair], self.graph.device)
            logp = token_logprobs(self.graph, inputs, targets, learner.control_vector())
            return float(mean_logprob(logp, mask)[0])

    def wait_learned(self, timeout: float | None = None) -> bool:
        """Wait until every scheduled signal is learned and rehearsal is done; False on timeout."""
        if self.learner is None:
            return True  # a label chat learns before rate/tag/correct return
        return self.learner.wait_idle(timeout)

    def close(self) -> None:
        """Finish learning, save the adapters and control state (and close an owned profile)."""
        if self.learner is not None:
            self.learner.close()
        if self._owns_profile:
            self.profile.close()

    def __enter__(self) -> ChatSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _media_refs(parts_json: str | None) -> list[Part]:
    """Return the image/audio parts stored with a message (attachment references)."""
    if not parts_json:
        return []
    return [Part.from_dict(d) for d in json.loads(parts_json)
            if isinstance(d, dict) and d.get("kind") in ("image", "audio")]
