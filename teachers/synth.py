"""Pair synthesis: a teacher writes prompt/answer pairs for a task; new ones are stored at once.

Two ways to ask, chosen by the teacher's capabilities:
- pairs: an instruction-following model gets the task, a few of the profile's examples and the
  topic, and answers JSON pairs (JSON-schema mode when it has one, else text that is parsed);
- distill: a micro-model (another insitu profile) answers prompts taken from the topic and the
  profile's data; each (prompt, reply) is a pair.
Every batch is validated, deduplicated (exact hash and near-duplicate similarity) and stored in
one transaction with its provenance before the next request, so Ctrl-C keeps all stored pairs.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import DataError, TeacherError
from harness.profile import profile_flag
from harness.store.examples import add_examples, iter_examples
from harness.types import Example, Part
from harness.words import counted
from teachers.base import Reply, Request, Teacher, Usage
from teachers.dedupe import DEFAULT_THRESHOLD, Deduper, parts_text
from teachers.parse import MAX_CHARS, PAIR_SCHEMA, parse_pairs, valid_pair

if TYPE_CHECKING:
    from harness.config import TaskConfig
    from harness.profile import Profile

SYSTEM = ("You write training data for a tiny chat model that learns only from examples. "
          "Answer with JSON only, no commentary.")  # fmt: skip
SHOWN_EXAMPLES = 5
SHOWN_CHARS = 300


@dataclass
class TeachReport:
    """What a synthesis run did: pairs accepted, duplicates, rejects, and the teacher's usage."""

    teacher: str = ""
    model: str = ""
    mode: str = ""
    task: str = ""
    accepted: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    rejected: int = 0
    interrupted: bool = False
    stopped: str = ""
    usage: Usage = field(default_factory=Usage)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data."""
        out = {k: v for k, v in self.__dict__.items() if k != "usage"}
        return {**out, "usage": self.usage.to_dict()}

    def summary(self) -> str:
        """Return a two-line summary for people."""
        head = (f"pairs: {self.accepted} accepted, {self.duplicates} duplicates "
                f"({self.near_duplicates} near), {self.rejected} rejected")  # fmt: skip
        return f"{head}\nteacher '{self.teacher}': {self.usage.summary()}"


def _task(profile: Profile, name: str | None) -> TaskConfig:
    task = profile.config.task(name) if name else profile.config.tasks[0]
    if task.kind != "text":
        raise DataError(f"task '{task.name}' is a {task.kind} task; teachers write text pairs",
                        "pick a text task with --task")
    return task


def _samples(profile: Profile, task: str, rng: random.Random) -> list[tuple[str, str]]:
    """Return the text pairs of a task's training examples."""
    out = []
    for ex in iter_examples(profile.store, task, "train"):
        pair = valid_pair(parts_text(ex.prompt), parts_text(ex.answer))
        if pair:
            out.append(pair)
    rng.shuffle(out)
    return out


def pairs_prompt(task: TaskConfig, shown: list[tuple[str, str]], topic: str | None, k: int,
                 avoid: list[str]) -> str:  # fmt: skip
    """Return the user message asking for `k` new pairs."""
    lines = [f"Task '{task.name}': {task.description or 'reply to the person.'}"]
    if shown:
        lines.append("Examples of the data it learns from:")
        lines += [json.dumps({"prompt": p[:SHOWN_CHARS], "answer": a[:SHOWN_CHARS]},
                             ensure_ascii=False) for p, a in shown]  # fmt: skip
    if topic:
        lines.append(f"Topic: {topic}")
    if avoid:
        lines.append("Prompts already written (do not repeat them): "
                     + json.dumps(avoid[-10:], ensure_ascii=False))
    about = " about the topic" if topic else ""
    lines.append(f"Write {k} new, varied prompt/answer pairs{about}, in the style and language "
                 "of the examples; keep answers short. Answer with a JSON object "
                 '{"pairs": [{"prompt": "...", "answer": "..."}]}.')  # fmt: skip
    return "\n".join(lines)


def _provenance(teacher: Teacher, reply: Reply, mode: str, prompt: str, topic: str | None,
                json_mode: bool, n_pairs: int) -> dict[str, Any]:  # fmt: skip
    cfg = teacher.config
    return {"teacher": cfg.name, "kind": cfg.kind, "model": reply.model or cfg.model,
            "mode": mode, "prompt": prompt[:4 * MAX_CHARS], "topic": topic, "time": time.time(),
            "cost": reply.cost, "tokens": [reply.prompt_tokens, reply.completion_tokens],
            "pairs_in_request": n_pairs, "json_mode": json_mode}  # fmt: skip


class _Run:
    """One synthesis run's state: dedupe memory, the report and the store."""

    def __init__(self, profile: Profile, teacher: Teacher, task: TaskConfig, report: TeachReport,
                 threshold: float, on_batch: Callable[[int], Any] | None) -> None:  # fmt: skip
        self.profile, self.teacher, self.task, self.report = profile, teacher, task, report
        self.seen = Deduper.of_task(profile.store, task.name, threshold)
        self.on_batch = on_batch
        self.prompts: list[str] = []

    def store(self, pairs: list[tuple[str, str]], provenance: dict[str, Any]) -> int:
        """Drop near-duplicates, store the rest in one transaction; return how many were added."""
        rows = []
        for p, a in pairs:
            if self.seen.is_near(p, a):
                self.report.near_duplicates += 1
                self.report.duplicates += 1
                continue
            self.seen.add(p, a)
            ex = Example(prompt=[Part.of_text(p)], answer=[Part.of_text(a)], task=self.task.name,
                         source="teacher")  # fmt: skip
            rows.append((ex, "train"))
        added, dupes = add_examples(self.profile.store, rows, provenance) if rows else (0, 0)
        self.report.accepted += added
        self.report.duplicates += dupes
        self.prompts += [p for p, _ in pairs]
        if self.on_batch and added:
            self.on_batch(added)
        return added


def synthesize(
    profile: Profile,
    teacher: Teacher,
    task: str | None = None,
    n: int = 20,
    topic: str | None = None,
    batch: int = 8,
    on_batch: Callable[[int], Any] | None = None,
    seed: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    report: TeachReport | None = None,
    prompts: Sequence[str] = (),
) -> TeachReport:
    """Ask the teacher for `n` new pairs for a task of the profile; store them as they come.

    `prompts` are questions a micro-model teacher answers first (distillation: the person has
    the questions, the teacher the answers); the profile's own prompts follow.

    1. Pick the mode: pairs (instruction-following teachers) or distill (micro-models).
    2. Load the task's examples into the near-duplicate memory and pick a few to show.
    3. Request, validate, dedupe and store batch by batch until n pairs are stored or the
       request budget (3x what n needs) is spent; Ctrl-C stops, keeping what was stored.
    """
    rng = random.Random(seed)
    tcfg = _task(profile, task)
    caps = teacher.capabilities()
    rep = report or TeachReport()
    rep.teacher, rep.model, rep.task = teacher.config.name, teacher.config.model, tcfg.name
    rep.mode = "pairs" if caps.instruct else "distill"
    rep.usage = teacher.usage
    run = _Run(profile, teacher, tcfg, rep, threshold, on_batch)
    samples = _samples(profile, tcfg.name, rng)
    try:
        if caps.instruct:
            try:
                _pairs_loop(run, samples, topic, n, max(1, batch), rng)
                return rep
            except _MicroModel:
                rep.mode = "distill"  # an insitu micro-model answered: ask it prompts instead
        _distill_loop(run, samples, topic, n, prompts)
    except KeyboardInterrupt:
        rep.interrupted = True
    return rep


class _MicroModel(Exception):
    """An insitu micro-model answered a request for pairs (it cannot write them)."""


def _parser(teacher: Teacher) -> Callable[[Reply], tuple[list[tuple[str, str]], int]]:
    """Return the pair parser; in auto mode an insitu reply switches to distillation."""

    def parse(reply: Reply) -> tuple[list[tuple[str, str]], int]:
        if reply.insitu and teacher.config.mode == "auto":
            raise _MicroModel()
        return parse_pairs(reply.text)

    return parse


def _pairs_loop(run: _Run, samples: list[tuple[str, str]], topic: str | None, n: int, batch: int,
                rng: random.Random) -> None:  # fmt: skip
    rep, teacher = run.report, run.teacher
    budget = 3 * -(-n // batch) + 2
    for _ in range(budget):
        if rep.accepted >= n:
            return
        k = min(batch, n - rep.accepted)
        shown = rng.sample(samples, min(SHOWN_EXAMPLES, len(samples)))
        prompt = pairs_prompt(run.task, shown, topic, k, run.prompts)
        json_mode = teacher.capabilities().json_schema
        request = Request([{"role": "system", "content": SYSTEM},
                           {"role": "user", "content": prompt}],
                          schema=PAIR_SCHEMA if json_mode else None, schema_name="pairs")
        reply, parsed = teacher.complete(request, parse=_parser(teacher))
        pairs, rejected = parsed or ([], 0)
        rep.rejected += rejected + max(len(pairs) - k, 0)
        pairs = pairs[:k]
        run.store(pairs, _provenance(teacher, reply, "pairs", prompt, topic,
                                     json_mode and not teacher.json_refused, len(pairs)))
    if rep.accepted < n:
        rep.stopped = (f"stopped after {counted(rep.usage.requests, 'request')} with "
                       f"{rep.accepted} of {n} "
                       "pairs: the teacher kept writing pairs already in the data")  # fmt: skip


def _distill_loop(run: _Run, samples: list[tuple[str, str]], topic: str | None, n: int,
                  prompts: Sequence[str] = ()) -> None:  # fmt: skip
    """Ask a micro-model teacher prompts (topic, given prompts, the data's) until n pairs."""
    rep, teacher = run.report, run.teacher
    given = [p.strip() for p in prompts if p.strip()]
    pool = list(dict.fromkeys(([topic] if topic else []) + given + [p for p, _ in samples]))
    if not pool:
        task, flag = run.task.name, profile_flag(run.profile.name)
        raise TeacherError(f"teacher '{teacher.config.name}' is a micro-model: it answers prompts "
                           f"but cannot invent them, and task {task} has no data yet",
                           "give a prompt with --topic TEXT or questions with --prompts FILE, or "
                           f"add data with `insitu data add{flag} PATH --task {task}`")
    for i in range(3 * n):
        if rep.accepted >= n:
            return
        prompt = pool[i % len(pool)]
        reply, _ = teacher.complete(Request([{"role": "user", "content": prompt}]))
        pair = valid_pair(prompt, reply.text)
        if pair is None:
            rep.rejected += 1
            continue
        run.store([pair], _provenance(teacher, reply, "distill", prompt, topic, False, 1))
    if rep.accepted < n:
        rep.stopped = (f"stopped after {rep.usage.requests} requests with {rep.accepted} of {n} "
                       "pairs: the teacher's answers were empty or already in the data; "
                       "try --topic or more data")  # fmt: skip
