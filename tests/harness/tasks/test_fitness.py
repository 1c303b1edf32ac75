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
'''


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
    template.write_text(f'[[tasks]]\nname = "judge"\nkind = "fitness"\n'
                        f'fitness = "{user_module}:several"\n')
    with Profile.create("j", str(template)) as prof:
        path = str(prof.path)
    genome = seed("mlp", 3_000, context=16)
    result = run_job(Job(genome, None, path, ["judge"], 0, 0.0, 0,
                         str(tmp_path / "j.safetensors")))
    assert result.error is None and result.steps == 0
    assert result.metrics["small"] == -result.params and result.metrics["judge/wide"] > 0
