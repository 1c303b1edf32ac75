"""Fitness tasks: a user's "module:function" scores a built graph; its errors are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import TaskConfig
from harness.errors import ConfigError, DataError
from harness.tasks import TaskData, build_task
from harness.tasks.base import ScoredTask
from harness.train.trainer import evaluate

from .helpers import graph_for

MODULE = '''
def size(graph):
    return -graph.num_parameters() / 1000.0

def several(graph):
    return {"small": -graph.num_parameters(), "wide": graph.width}

def broken(graph):
    raise RuntimeError("the judge is asleep")

def wrong(graph):
    return "great"

def nan(graph):
    return float("nan")

def hang(graph):
    while True:
        pass
'''
MODULE += (Path(__file__).parents[1] / "fitness_fixture.py").read_text()  # variety, picky


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Write an importable module of fitness functions; return its name."""
    (tmp_path / "my_fitness.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_fitness"


def fitness_task(spec: str) -> ScoredTask:
    """Build a fitness task for a callable."""
    task = build_task(TaskConfig(name="judge", kind="fitness", fitness=spec), TaskData())
    assert isinstance(task, ScoredTask) and not task.trainable
    return task


def test_number_and_dict_objectives(user_module: str) -> None:
    """A number becomes {'fitness': x}; a dict is kept as named objectives."""
    graph = graph_for({"chat": {"op": "lm", "args": {}}})
    size = fitness_task(f"{user_module}:size").evaluate(graph)
    assert size == {"fitness": pytest.approx(-graph.num_parameters() / 1000)}
    both = evaluate(graph, [fitness_task(f"{user_module}:several")])
    assert both["small"] == -graph.num_parameters() and both["judge/wide"] == graph.width


def test_errors_name_the_callable(user_module: str) -> None:
    """A failing or wrongly typed callable raises a DataError naming it; bad specs a ConfigError."""
    graph = graph_for({"chat": {"op": "lm", "args": {}}})
    with pytest.raises(DataError, match=f"{user_module}:broken failed.*asleep"):
        fitness_task(f"{user_module}:broken").evaluate(graph)
    with pytest.raises(DataError, match=f"{user_module}:wrong returned 'great'"):
        fitness_task(f"{user_module}:wrong").evaluate(graph)
    for spec in ("no_colon", f"{user_module}:missing", "no_such_module_xyz:f"):
        with pytest.raises(ConfigError, match="fitness callable"):
            fitness_task(spec)


def test_fitness_job_scores_without_training(user_module: str, tmp_path: Path) -> None:
    """A job on a fitness task skips training and reports the callable's objectives."""
    from harness.graph.seeds import seed
    from harness.profile import Profile
    from harness.train.job import Job, run_job

    template = tmp_path / "judge.toml"
    template.write_text(
        f'[[tasks]]\nname = "judge"\nkind = "fitness"\nfitness = "{user_module}:several"\n'
    )
    with Profile.create("j", str(template)) as prof:
        path = str(prof.path)
    genome = seed("mlp", 3_000, context=16)
    result = run_job(Job(genome, None, path, ["judge"], 0, 0.0, 0, str(tmp_path / "j.safetensors")))
    assert result.error is None and result.steps == 0
    assert result.metrics["small"] == -result.params and result.metrics["judge/wide"] > 0


def test_nan_and_hanging_callables_fail_clearly(user_module: str) -> None:
    """NaN is refused and a callable past its time limit is stopped, both naming the callable."""
    import time

    from harness.tasks.fitness import FitnessTask

    graph = graph_for({"chat": {"op": "lm", "args": {}}})
    with pytest.raises(DataError, match="nan.*not NaN"):
        fitness_task(f"{user_module}:nan").evaluate(graph)
    task = FitnessTask(TaskConfig(name="judge", kind="fitness", fitness=f"{user_module}:hang"),
                       time_limit=0.3)  # fmt: skip
    start = time.monotonic()
    with pytest.raises(DataError, match="hang took longer than 0.3 s"):
        task.evaluate(graph)
    assert time.monotonic() - start < 5


def _seeds(n: int) -> list:  # type: ignore[type-arg]
    """Return n small seeded MLP graphs with an lm head."""
    import torch

    from harness.graph.build import Graph
    from harness.graph.seeds import seed

    return [Graph(seed("mlp", 2_000, context=8), device="cpu",
                  generator=torch.Generator().manual_seed(i)) for i in range(n)]  # fmt: skip


def test_evolution_improves_a_custom_fitness(user_module: str) -> None:
    """Evolution by mutation raises a non-differentiable score (distinct unit kinds) over time."""
    import random

    from harness.tasks.scored import evolve_scored

    run = evolve_scored(fitness_task(f"{user_module}:variety"), _seeds(3), 12, random.Random(0),
                        population=4, max_params=20_000)  # fmt: skip
    assert run.history[0] < 1.0  # the MLP seeds hold one unit kind
    assert run.history[-1] > run.history[0] + 0.9  # a second kind (or more) was found
    assert run.history == sorted(run.history)
    assert not run.failures


def test_bad_fitness_gets_the_worst_score_and_the_run_goes_on(
    user_module: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Raising, NaN, hanging or unimportable callables give the worst fitness, logged; no crash."""
    import logging
    import math
    import random

    from harness.tasks.fitness import FitnessTask
    from harness.tasks.scored import evolve_scored

    def task(spec: str) -> FitnessTask:
        """Return a lenient fitness task with a short time limit."""
        return FitnessTask(TaskConfig(name="judge", kind="fitness", fitness=spec),
                           time_limit=0.2, strict=False)  # fmt: skip

    caplog.set_level(logging.WARNING, logger="insitu.scored")
    for spec, reason in [(f"{user_module}:broken", "asleep"), (f"{user_module}:nan", "NaN"),
                         (f"{user_module}:hang", "longer than 0.2 s"),
                         ("no_such_module_xyz:f", "cannot import")]:  # fmt: skip
        run = evolve_scored(task(spec), _seeds(2), 2, random.Random(0))
        assert len(run.failures) == 4 and all(reason in why for _, why in run.failures), spec
        assert all(m.fitness == -math.inf for m in run.population)
    assert "gets the worst fitness" in caplog.text
    mixed = evolve_scored(task(f"{user_module}:picky"), _seeds(3), 12, random.Random(1),
                          population=4, max_params=20_000)  # fmt: skip
    assert mixed.best.fitness > mixed.history[0] and mixed.best.error is None
    assert len(mixed.history) == 13
    reasons = " ".join(why for _, why in mixed.failures)
    for reason in ("NaN", "longer than 0.2 s", "no lstm today"):
        assert reason in reasons  # each kind of failure happened, and the run went on
