"""A profile's champion as a chat model: chat messages to turn tokens, thread-safe sampling.

Chat messages map onto the byte-level turn encoding of `harness.vocab`: every user message
followed by an assistant message becomes `BOS USER <user> ASSISTANT <reply> EOS`, and the last
user message ends at `ASSISTANT`, ready for generation. System messages are ignored (a
micro-model learns from examples, not instructions). The oldest turns are dropped first when the
conversation is longer than the model's context.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import DataError, ServeError
from harness.profile import profile_flag
from harness.vocab import ASSISTANT, BOS, EOS, USER, IncrementalDecoder, encode_text

if TYPE_CHECKING:
    import torch

    from harness.graph.build import Graph
    from harness.graph.generate import Sampling
    from harness.profile import Profile
    from harness.serve.learning import ServeLearning

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Message:
    """One chat message: a role and its text."""

    role: str
    text: str


@dataclass
class Generation:
    """What one generation produced: the text, token counts and why it stopped."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # stop | length | cancelled
    pieces: list[str] = field(default_factory=list)


def content_text(content: Any) -> str:
    """Return the text of an OpenAI message content (a string or a list of text parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise DataError(
                    f"this micro-model reads text only, not '{kind}' parts",
                    "send the message content as text",
                )
            out.append(str(part.get("text", "")))
        return "".join(out)
    raise DataError(f"a message content must be text, not {type(content).__name__}",
                    "send the message content as a string")


def parse_messages(raw: Any) -> list[Message]:
    """Validate OpenAI chat `messages` and return them as Message values."""
    if not isinstance(raw, list) or not raw:
        raise DataError("'messages' must be a non-empty list", "send at least one user message")
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise DataError(f"messages[{i}] needs a role of {', '.join(ROLES)}",
                            "tool and function messages are not supported")
        out.append(Message(str(m["role"]), content_text(m.get("content"))))
    if not any(m.role == "user" for m in out):
        raise DataError("the messages hold no user message", "add a message with role 'user'")
    return out


def _turns(messages: Sequence[Message]) -> list[list[int]]:
    """Group messages into turn token lists; the last one is left open for the reply."""
    turns: list[list[int]] = []
    user: list[str] = []
    for m in messages:
        if m.role == "user":
            user.append(m.text)
        elif m.role == "assistant":
            prompt = encode_text("\n".join(user))
            turns.append([BOS, USER, *prompt, ASSISTANT, *encode_text(m.text), EOS])
            user = []
    if user:
        turns.append([BOS, USER, *encode_text("\n".join(user)), ASSISTANT])
    elif turns and messages[-1].role == "assistant":
        turns[-1] = turns[-1][:-1]  # continue the last assistant message
    return turns


def encode_chat(messages: Sequence[Message], budget: int) -> list[int]:
    """Return the prompt tokens of a chat, keeping the newest turns that fit in `budget`."""
    turns = _turns(messages)
    kept: list[list[int]] = []
    used = 0
    for turn in reversed(turns):
        if used + len(turn) > budget:
            break
        kept.append(turn)
        used += len(turn)
    if not kept:  # even the last turn is too long: keep its newest bytes
        last = turns[-1]
        keep = max(budget - 3, 1)
        body = last[2:-1] if last[-1] == ASSISTANT else last[2:]
        tail = [ASSISTANT] if last[-1] == ASSISTANT else []
        return [BOS, USER, *body[-keep:], *tail]
    return [t for turn in reversed(kept) for t in turn]


class ChampionModel:
    """A loaded champion graph, shared by threads: its weights are read under one lock."""

    def __init__(self, graph: Graph, individual_id: str, context: int,
                 learning: ServeLearning | None = None) -> None:  # fmt: skip
        self.graph = graph.eval()
        self.individual_id = individual_id
        self.context = context
        self.learning = learning
        self._lock = threading.Lock()

    @classmethod
    def load(cls, profile: Profile, learn: bool = False,
             learning: ServeLearning | None = None) -> ChampionModel:  # fmt: skip
        """Load the profile's champion, or raise ServeError saying how to get one.

        With `learn`, the graph gets the chat's adapters and control input and learns online
        (`learning` switches to it, or a new learner is made); without, the plain champion.
        """
        from harness.graph.checkpoint import load

        row = champion_row(profile)
        if row is None:
            raise ServeError(f"profile '{profile.name}' has no champion yet",
                             f"evolve one with `insitu evolve{profile_flag(profile.name)}`")
        path = profile.checkpoint_path(row["checkpoint"])
        if not learn:
            from harness.chat.model import text_task

            graph = load(path, device="cpu")
            graph.prefer_task(text_task(profile))
        else:
            from harness.serve.learning import ServeLearning, prepare_served

            graph = prepare_served(profile, path)
            if learning is None:
                learning = ServeLearning(profile, graph, str(row["id"]))
            else:
                learning.switch(graph, str(row["id"]))
        return cls(graph, str(row["id"]), int(graph.genome.get("context", 256)), learning)

    def prompt_tokens(self, messages: Sequence[Message], max_tokens: int) -> list[int]:
        """Encode a chat for this model, leaving room for up to `max_tokens` of reply."""
        room = min(max_tokens, self.context // 2)
        return encode_chat(messages, max(self.context - room, 8))

    def stream(
        self,
        tokens: Sequence[int],
        sampling: Sampling,
        seed: int | None = None,
        stop: Sequence[str] = (),
        result: Generation | None = None,
    ) -> Iterator[str]:
        """Yield reply text pieces; fill `result` with counts and the finish reason.

        1. Step through the prompt: on the native engine (its own state per request), or on
           the PyTorch step path, each step under the model lock (threads interleave).
        2. Draw a token with a generator seeded by the request (or at random).
        3. Stop on EOS, on a stop string (held back until it cannot be one) or at max_tokens
           (at most the model's context).
        """
        import torch

        res = result if result is not None else Generation()
        res.prompt_tokens = len(tokens)
        gen = torch.Generator().manual_seed(seed if seed is not None else secrets.randbits(63))
        ids = torch.as_tensor(list(tokens), dtype=torch.long)
        if ids.numel() == 0:
            raise DataError("the prompt is empty", "send at least one user message")
        with contextlib.ExitStack() as held_model:
            if self.learning is not None:  # online learning waits until this reply is done
                held_model.enter_context(self.learning.gate.generating())
            yield from self._text(self._tokens(ids, gen, sampling), stop, res)

    def _tokens(self, ids: torch.Tensor, gen: torch.Generator, sampling: Sampling) -> Iterator[int]:
        """Yield up to max_tokens drawn tokens, each fed to the graph when the reader resumes:
        natively when the graph lowers to the native engine, else on the PyTorch step path."""
        import torch

        from harness.graph.generate import sampler
        from harness.graph.native.stepper import native_stepper

        control = self.learning.control() if self.learning is not None else None
        limit = min(sampling.max_tokens, self.context)
        with self._lock, torch.inference_mode():  # the weights are read under the model lock
            native = native_stepper(self.graph, ids.numel() + limit, control)
        if native is not None:
            for t in ids.tolist():
                native.step(int(t))
            yield from native.draws(sampling.temperature, sampling.top_k, sampling.top_p,
                                    limit, gen)  # fmt: skip
            return
        draw = sampler(sampling, gen)
        with self._lock, torch.inference_mode():
            state = self.graph.init_state(1, control)
        for t in range(ids.numel()):
            with self._lock, torch.inference_mode():
                logits = self.graph.step(state, ids[t : t + 1])
        for _ in range(limit):
            with torch.inference_mode():
                drawn = draw(logits)
            yield int(drawn)  # `_text` stops reading at EOS: no step follows a stop token
            with self._lock, torch.inference_mode():
                logits = self.graph.step(state, drawn)

    def _text(self, tokens: Iterator[int], stop: Sequence[str], res: Generation) -> Iterator[str]:
        """Decode tokens into text pieces until EOS, a stop string or the end of the tokens.

        A stop string is held back until it cannot be one, and cut where it starts.
        """
        decoder = IncrementalDecoder()
        held = ""
        hold = max((len(s) for s in stop), default=0)
        res.finish_reason = "length"
        for token in tokens:
            if token == EOS or token >= 256:
                res.finish_reason = "stop"
                break
            res.completion_tokens += 1
            held += decoder.feed(token)
            cut = min((i for s in stop if (i := held.find(s)) >= 0), default=-1)
            if cut >= 0:
                held = held[:cut]
                res.finish_reason = "stop"
                break
            if len(held) > hold:
                split = len(held) - hold
                piece, held = held[:split], held[split:]
                res.text += piece
                yield piece
        if held:
            res.text += held
            yield held

    def generate(self, tokens: Sequence[int], sampling: Sampling, seed: int | None = None,
                 stop: Sequence[str] = ()) -> Generation:  # fmt: skip
        """Return the whole reply with its counts (see `stream`)."""
        res = Generation()
        for _ in self.stream(tokens, sampling, seed, stop, res):
            pass
        return res


def champion_row(profile: Profile) -> dict[str, Any] | None:
    """Return the newest champion individual that has a checkpoint file, or None (the chat's)."""
    from harness.chat.model import champion_row as chat_champion

    return chat_champion(profile)
