"""The `judge` task kind: a teacher scores the replies a graph writes to a set of prompts.

Registered under the `insitu.tasks` entry points (harness finds it without importing teachers).
A task of kind `judge` names its prompts (`prompts = [...]`; else the task's own examples, else
the examples of the profile's text tasks), the profile's teacher that judges (`teacher`, default
the first one added) and the rubric. `score` lets the graph answer every prompt (greedy, at most
`REPLY_TOKENS` tokens), asks the teacher for a score of each reply against the rubric and returns
the mean, scaled to 0..1, as the objective `judge`. A teacher that times out, refuses, or answers
something that holds no score raises a DataError: evolution gives that individual the worst
fitness with the reason, and the run goes on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from harness.config import TaskConfig
from harness.errors import ConfigError, DataError, InsituError, TeacherError
from harness.modality import ModalitySpec
from harness.tasks.base import ScoredTask
from harness.tasks.data import TaskData, profile_at
from teachers.base import Request, Teacher
from teachers.judge import DEFAULT_RUBRIC, SYSTEM, judge_prompt
from teachers.parse import SCORE_SCHEMA, parse_score

if TYPE_CHECKING:
    from harness.graph.build import Graph
    from harness.profile import Profile
    from harness.types import Example

#: Prompts a graph answers per scoring (the first ones: the held-out split comes first).
MAX_PROMPTS = 8
#: Tokens of a reply at most.
REPLY_TOKENS = 64
#: The judge's score scale.
SCALE = (1.0, 5.0)


class JudgeTask(ScoredTask):
    """Scores a graph by a teacher's verdicts on its replies to the task's prompts."""

    kind = "judge"

    def __init__(self, config: TaskConfig, prompts: Sequence[str], teacher: Teacher,
                 rubric: str | None = None, scale: tuple[float, float] = SCALE,
                 reply_tokens: int = REPLY_TOKENS) -> None:  # fmt: skip
        super().__init__(config)
        self.prompts = [p for p in prompts if p.strip()]
        if not self.prompts:
            raise ConfigError(f"the judge task {config.name} has no prompts",
                              "add prompts = [\"...\"] to the task, or examples with "
                              f"`insitu data add PATH --task {config.name}`")  # fmt: skip
        caps = teacher.capabilities()
        if not caps.instruct:
            raise ConfigError(f"teacher '{teacher.config.name}' is a micro-model: it cannot "
                              "judge replies", "name an instruction-following teacher in the "
                              "task's `teacher` (a local server or an API)")  # fmt: skip
        self.teacher = teacher
        self.rubric = rubric or config.rubric or DEFAULT_RUBRIC
        self.low, self.high = float(scale[0]), float(scale[1])
        self.reply_tokens = int(reply_tokens)

    def score(self, graph: Graph, rng: random.Random) -> dict[str, float]:
        """Let the graph answer every prompt; return the teacher's mean verdict (0..1)."""
        gen = torch.Generator().manual_seed(rng.getrandbits(63))
        scores = [self.verdict(p, self.reply(graph, p, gen)) for p in self.prompts]
        return {"judge": sum(scores) / len(scores)}

    def reply(self, graph: Graph, prompt: str, generator: torch.Generator) -> str:
        """Return the graph's reply to a prompt, or raise DataError saying why it has none."""
        from harness.graph.generate import Sampling, generate_text
        from harness.vocab import encode_turn

        try:
            return generate_text(graph, encode_turn(prompt),
                                 Sampling(temperature=0.0, max_tokens=self.reply_tokens),
                                 generator)  # fmt: skip
        except Exception as exc:  # a graph that cannot write text (no lm head, a bad shape)
            why = exc.message if isinstance(exc, InsituError) else f"{type(exc).__name__}: {exc}"
            raise DataError(f"the graph could not answer the prompt {prompt[:40]!r}: {why}",
                            "judge graphs with a text head (an lm head)") from exc

    def verdict(self, prompt: str, reply: str) -> float:
        """Return the teacher's score of one reply, scaled to 0..1, or raise DataError."""
        low, high = self.low, self.high
        schema = SCORE_SCHEMA if self.teacher.capabilities().json_schema else None
        request = Request([{"role": "system", "content": SYSTEM},
                           {"role": "user",
                            "content": judge_prompt(prompt, reply, self.rubric, low, high)}],
                          schema=schema, schema_name="verdict", temperature=0.0,
                          max_tokens=200)  # fmt: skip
        try:
            _, parsed = self.teacher.complete(request,
                                              parse=lambda r: parse_score(r.text, low, high))
        except TeacherError as exc:
            raise DataError(f"the judge '{self.teacher.config.name}' gave no verdict: "
                            f"{exc.message}", exc.hint or "check the teacher with "
                            f"`insitu teacher test {self.teacher.config.name}`") from exc
        if parsed is None:  # pragma: no cover - complete() returns parse(reply) when given parse
            raise DataError("the judge gave no verdict", "check the teacher")
        return (parsed[0] - low) / (high - low)


def _text(example: Example) -> str:
    """Return the text of an example's prompt."""
    return " ".join(p.text or "" for p in example.prompt if p.kind == "text").strip()


def _stored_prompts(profile: Profile, data: TaskData) -> list[str]:
    """Return the task's own prompts, else those of the profile's text tasks (held-out first)."""
    from harness.store.examples import iter_examples

    own = [_text(e) for e in [*data.heldout, *data.train]]
    if any(own):
        return [p for p in own if p][:MAX_PROMPTS]
    found: list[str] = []
    for task in profile.config.tasks:
        if task.kind != "text":
            continue
        for split in ("heldout", "train"):
            for example in iter_examples(profile.store, task.name, split):
                text = _text(example)
                if text and text not in found:
                    found.append(text)
                if len(found) >= MAX_PROMPTS:
                    return found
    return found


def build_judge_task(config: TaskConfig, data: TaskData, spec: ModalitySpec) -> JudgeTask:
    """Build a judge task for a profile's task (the `insitu.tasks` entry point `judge`).

    1. Open the profile the task belongs to (its folder travels in `data.profile`).
    2. Take the prompts: the task's `prompts`, else its examples, else the text tasks' examples.
    3. Build the task's teacher (`teacher`, default the profile's first) from its settings.
    """
    from teachers import config as teacher_config

    if data.profile is None:
        raise ConfigError(f"the judge task {config.name} needs a profile (its teacher lives "
                          "there)", "build it with harness.tasks.load_task(profile, name)")
    profile = profile_at(data.profile)
    try:
        prompts = list(config.prompts) or _stored_prompts(profile, data)
        chosen = teacher_config.get(profile, config.teacher or None)
    finally:
        profile.close()
    teacher = teacher_config.build(chosen)
    return JudgeTask(config, prompts[:MAX_PROMPTS] if not config.prompts else prompts, teacher)


__all__ = ["JudgeTask", "build_judge_task"]
