"""Judging: a teacher scores a micro-model's reply against a rubric; the score is a signal.

A judged message gets a tag 'judge' with source 'teacher' and the score scaled to 0..1 (like a
rating, for online learning and fitness), and every verdict is an event 'judge' with the raw
score, scale, reason, rubric and teacher.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import DataError, TeacherError
from harness.store.records import add_event, add_tag
from teachers.base import Request, Teacher
from teachers.parse import SCORE_SCHEMA, parse_score

if TYPE_CHECKING:
    from harness.profile import Profile

DEFAULT_RUBRIC = "Does the reply answer the prompt helpfully, correctly and fluently?"
SYSTEM = "You are a strict, fair judge of chat replies. Answer with JSON only."
TAG = "judge"


@dataclass
class Verdict:
    """A judge's score (0..1), the raw score on its scale, and the reason."""

    score: float
    raw: float
    low: float
    high: float
    reason: str
    teacher: str
    model: str
    message_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the verdict as JSON-able data."""
        return asdict(self)


def _target(profile: Profile, target: str | tuple[str, str]) -> tuple[str | None, str, str]:
    """Return (message_id, prompt, reply) for a message id or a (prompt, reply) pair."""
    if isinstance(target, tuple):
        prompt, reply = target
        return None, prompt, reply
    from harness.serve.exchanges import get_message, prompt_of

    msg = get_message(profile, target)
    if msg["role"] != "assistant":
        raise DataError(f"message '{target}' is a {msg['role']} message",
                        "judge an assistant reply (its message id)")
    return target, prompt_of(profile, msg), str(msg["text"] or "")


def judge_prompt(prompt: str, reply: str, rubric: str, low: float, high: float) -> str:
    """Return the user message asking for a score."""
    return (f"Rubric: {rubric}\n\nPrompt: {prompt}\n\nReply: {reply}\n\n"
            f"Score the reply against the rubric from {low:g} (worst) to {high:g} (best). "
            'Answer with a JSON object {"score": <number>, "reason": "<one sentence>"}.')


def judge_verdict(
    profile: Profile,
    teacher: Teacher,
    target: str | tuple[str, str],
    rubric: str | None = None,
    scale: tuple[float, float] = (1, 5),
) -> Verdict:
    """Ask the teacher to score a reply (a message id or a (prompt, reply) pair); store it."""
    low, high = float(scale[0]), float(scale[1])
    if not high > low:
        raise DataError(f"a score scale needs low < high, got {scale}", "use (1, 5) or (0, 1)")
    mid, prompt, text = _target(profile, target)
    rubric = rubric or DEFAULT_RUBRIC
    caps = teacher.capabilities()
    if not caps.instruct:
        raise TeacherError(f"teacher '{teacher.config.name}' is a micro-model: it answers "
                           "prompts but cannot judge replies",
                           "judge with an instruction-following model (a local server or an "
                           "API teacher)")  # fmt: skip
    json_mode = caps.json_schema
    request = Request([{"role": "system", "content": SYSTEM},
                       {"role": "user", "content": judge_prompt(prompt, text, rubric, low, high)}],
                      schema=SCORE_SCHEMA if json_mode else None, schema_name="verdict",
                      temperature=0.0, max_tokens=200)  # fmt: skip
    reply, parsed = teacher.complete(request, parse=lambda r: parse_score(r.text, low, high))
    raw, reason = parsed if parsed is not None else (low, "")
    verdict = Verdict(score=(raw - low) / (high - low), raw=raw, low=low, high=high,
                      reason=reason[:500], teacher=teacher.config.name,
                      model=reply.model or teacher.config.model, message_id=mid)  # fmt: skip
    payload = {**verdict.to_dict(), "rubric": rubric}
    if mid is None:
        payload.update(prompt=prompt[:2000], reply=text[:2000])
    with profile.store.write():
        if mid is not None:
            add_tag(profile.store, mid, TAG, source="teacher", score=verdict.score)
        add_event(profile.store, "judge", payload)
    return verdict


def judge(
    profile: Profile,
    teacher: Teacher,
    target: str | tuple[str, str],
    rubric: str | None = None,
    scale: tuple[float, float] = (1, 5),
) -> float:
    """Score a reply 0..1 with a teacher against a rubric, store the signal, return the score."""
    return judge_verdict(profile, teacher, target, rubric, scale).score
