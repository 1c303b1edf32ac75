"""Pairs per minute synthesised from a served local teacher (for `insitu bench serve`)."""

from __future__ import annotations

import time
from typing import Any

from harness.ids import new_id
from harness.profile import Profile, delete_profile
from harness.store.examples import add_examples
from harness.types import Example, Part
from teachers.config import TeacherConfig, build
from teachers.synth import synthesize

PROMPTS = (
    "Hello", "How are you?", "What is your name?", "Tell me a joke", "Good morning",
    "What do you like?", "Are you a robot?", "Do you like music?", "What time is it?",
    "Where do you live?", "What is AI?", "Who are you?", "Nice to meet you.", "Thank you",
    "What are you doing?", "Can you help me?", "Goodbye", "What is your favourite food?",
    "Do you have friends?", "Tell me something",
)  # fmt: skip


def teach_rate(base_url: str, model: str, n: int = 20, kind: str = "openai",
               stream: bool = False, key_name: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Synthesise `n` pairs from the teacher at `base_url` into a throwaway profile; time it.

    The profile (named bench-teach-...) holds a few chit-chat prompts for distillation and is
    deleted afterwards. Returns pairs per minute, requests and the synthesis report.
    """
    name = f"bench-teach-{new_id()[-10:].lower()}"
    prof = Profile.create(name)
    try:
        rows = [(Example([Part.of_text(p)], [Part.of_text("...")], source="import"), "train")
                for p in PROMPTS]  # fmt: skip
        add_examples(prof.store, rows)
        model_name = model if kind != "litellm" or "/" in model else f"openai/{model}"
        cfg = TeacherConfig(name="bench", kind=kind, model=model_name, base_url=base_url,
                            key_name=key_name, stream=stream, backoff=0.05)  # fmt: skip
        teacher = build(cfg)
        start = time.perf_counter()
        try:
            report = synthesize(prof, teacher, n=n)
        finally:
            teacher.close()
        seconds = time.perf_counter() - start
    finally:
        prof.close()
        delete_profile(name)
    return {
        "pairs": report.accepted,
        "seconds": seconds,
        "pairs_per_minute": 60 * report.accepted / seconds if seconds else 0.0,
        "mode": report.mode,
        "report": report.to_dict(),
    }
