"""The `judge` task kind: a teacher on a real local HTTP server scores the replies of graphs."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from harness.errors import ConfigError, TeacherError
from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.profile import Profile
from harness.tasks import load_task
from harness.tasks.data import clear_cache
from harness.tasks.scored import evolve_scored
from teachers.config import TeacherConfig, add
from teachers.judge_task import JudgeTask

from .fakeserver import FakeTeacher

TEMPLATE = """
description = "judge test"

[[tasks]]
name = "polite"
kind = "judge"
{prompts}
rubric = "Is the reply polite?"

[model]
max_params = 20000
min_params = 2000
context = 16
families = ["mlp", "gru"]

[evolution]
population = 2
"""
PROMPTS = 'prompts = ["Hello there!", "How are you?"]'


def judge_profile(tmp_path: Path, url: str | None, prompts: str = PROMPTS, name: str = "jt",
                  **teacher: object) -> Profile:  # fmt: skip
    """Create a profile with a judge task and (for a URL) a teacher on that server."""
    clear_cache()
    template = tmp_path / f"{name}.toml"
    template.write_text(TEMPLATE.format(prompts=prompts))
    prof = Profile.create(name, str(template))
    if url is not None:
        opts = {"timeout": 5.0, "max_attempts": 1, "backoff": 0.01, **teacher}
        add(prof, TeacherConfig(name="local", kind="openai", model="fake", base_url=url, **opts))
    return prof


def seeds(n: int) -> list[Graph]:
    """Return n tiny seeded graphs with a text head."""
    return [Graph(seed("mlp", 2_000, context=16), device="cpu",
                  generator=torch.Generator().manual_seed(i)) for i in range(n)]  # fmt: skip


def test_judge_scores_replies_and_evolution_runs(tmp_path: Path) -> None:
    """Every individual's replies go to the judge; its 4 of 1..5 becomes 0.75 for each graph."""
    with FakeTeacher(["ok"]) as fake:
        prof = judge_profile(tmp_path, fake.url)
        task = load_task(prof, "polite")
        assert isinstance(task, JudgeTask) and task.prompts == ["Hello there!", "How are you?"]
        run = evolve_scored(task, seeds(2), 2, random.Random(0), population=2)
        prof.close()
    assert not run.failures and run.best.objectives == {"judge": pytest.approx(0.75)}
    assert all(m.fitness == pytest.approx(0.75) for m in run.population)
    assert fake.requests == 4 * 2  # four individuals, two prompts each
    asked = json.dumps(fake.bodies[0]["messages"])
    assert "Rubric: Is the reply polite?" in asked and "Prompt: Hello there!" in asked
    assert "Reply: " in asked


def test_timeouts_and_garbage_give_the_worst_fitness_and_the_run_goes_on(tmp_path: Path) -> None:
    """A late or scoreless answer fails that individual with the reason; later ones score."""
    # requests: seed 0 (2 ok), seed 1 (garbage -> fails at once), child 1 (slow -> fails), then ok
    with FakeTeacher(["ok", "ok", "garbage", "slow", "ok"], slow_s=1.0) as fake:
        prof = judge_profile(tmp_path, fake.url, timeout=0.3)
        task = load_task(prof, "polite")
        run = evolve_scored(task, seeds(2), 2, random.Random(0), population=3)
        prof.close()
    reasons = [why for _, why in run.failures]
    assert len(reasons) == 2, reasons
    assert "gave no verdict" in reasons[0] and "not the JSON asked for" in reasons[0]
    assert "did not answer within 0.3 s" in reasons[1]
    worst = [m for m in run.population if m.error]
    assert worst and all(m.fitness == -math.inf for m in worst)
    assert run.best.fitness == pytest.approx(0.75) and len(run.history) == 3


def test_prompts_from_examples_and_clear_errors(tmp_path: Path) -> None:
    """Without prompts the task uses stored examples; no prompts or no teacher: a clear error."""
    from harness.store.examples import add_examples
    from harness.types import Example, Part

    with FakeTeacher(["ok"]) as fake:
        prof = judge_profile(tmp_path, fake.url, prompts="")
        with pytest.raises(ConfigError, match="has no prompts") as err:
            load_task(prof, "polite")
        assert "prompts = " in (err.value.hint or "")
        add_examples(prof.store, [(Example([Part.of_text("Good morning")], task="polite",
                                           source="corpus"), "train")])  # fmt: skip
        task = load_task(prof, "polite")
        assert isinstance(task, JudgeTask) and task.prompts == ["Good morning"]
        prof.close()
    prof = judge_profile(tmp_path, None, name="lonely")
    with pytest.raises(TeacherError, match="has no teacher"):
        load_task(prof, "polite")
    prof.close()


def test_a_graph_without_text_and_a_micro_model_teacher() -> None:
    """A graph that cannot write text fails with its reason (no request); micro-models: refused."""
    from harness.config import TaskConfig
    from harness.tasks.scored import Scored, score
    from teachers.config import build

    heads = {"c": {"op": "classify", "args": {"classes": 2, "labels": ["a", "b"]}}}
    graph = Graph(seed("mlp", 2_000, heads=heads, context=8), device="cpu",
                  generator=torch.Generator().manual_seed(0))  # fmt: skip
    with FakeTeacher(["ok"]) as fake:
        teacher = build(TeacherConfig(name="t", kind="openai", model="fake", base_url=fake.url))
        task = JudgeTask(TaskConfig(name="j"), ["hi"], teacher)
        ind = score(task, Scored(graph, 0), random.Random(0), "fitness")
        micro = build(TeacherConfig(name="m", kind="openai", model="fake", base_url=fake.url,
                                    mode="distill"))  # fmt: skip
        with pytest.raises(ConfigError, match="micro-model: it cannot judge"):
            JudgeTask(TaskConfig(name="j"), ["hi"], micro)
    assert ind.fitness == -math.inf and "could not answer the prompt 'hi'" in str(ind.error)
    assert fake.requests == 0


@pytest.mark.slow
def test_insitu_evolve_on_a_judge_task(tmp_path: Path) -> None:
    """`insitu evolve --task polite` evolves on the judge's scores and crowns a champion."""
    from harness.cli import cli

    with FakeTeacher(["ok"]) as fake:
        judge_profile(tmp_path, fake.url).close()
        out = CliRunner().invoke(cli, ["evolve", "-p", "jt", "--task", "polite",
                                       "--generations", "2", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["kind"] == "judge" and result["generations"] == 2
    assert result["champion"]["objectives"] == {"judge": pytest.approx(0.75)}
    assert fake.requests == (2 + 2) * 2
