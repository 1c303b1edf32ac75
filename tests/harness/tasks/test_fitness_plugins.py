"""Named fitness functions (`insitu.fitness`) and task kinds from plugins (`insitu.tasks`)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness import registry
from harness.config import TaskConfig, parse_config
from harness.errors import ConfigError
from harness.tasks import TaskData, build_task, factory
from harness.tasks.base import ScoredTask
from harness.tasks.fitness import FitnessTask, check_exists, resolve

from .helpers import graph_for


def test_the_entry_point_name_resolves_to_the_example() -> None:
    """`fitness = "variety"` finds fitness_examples:variety through its entry point."""
    from harness.tasks.fitness_examples import variety

    assert "variety" in registry.fitness.declared_names()
    assert resolve("variety") is variety
    check_exists("variety")  # declared: no error
    graph = graph_for({"chat": {"op": "lm", "args": {}}})
    task = build_task(TaskConfig(name="v", kind="fitness", fitness="variety"), TaskData())
    kinds = {n["op"] for n in graph.genome["nodes"]}
    expected = len(kinds) - graph.num_parameters() / 100_000
    assert task.evaluate(graph) == {"fitness": pytest.approx(expected)}


def test_unknown_names_and_modules_are_refused_before_any_work() -> None:
    """An unregistered name or a module that does not exist: a ConfigError with a next step."""
    with pytest.raises(ConfigError, match="no fitness function is called 'varietty'") as err:
        check_exists("varietty")
    assert "variety" in str(err.value) and err.value.hint
    with pytest.raises(ConfigError, match="no module 'no_such_mod_xyz'") as err:
        check_exists("no_such_mod_xyz:f")
    assert "PYTHONPATH" in (err.value.hint or "")
    with pytest.raises(ConfigError, match="no module"):
        check_exists("no_such_pkg_xyz.sub:f")
    with pytest.raises(ConfigError, match="not of the form"):
        check_exists("mod:")
    with pytest.raises(ConfigError, match="not usable"):
        resolve("varietty")


def test_a_name_registered_at_run_time_scores() -> None:
    """A function registered at run time is found by name; `module:fn` still works."""

    def width(graph: object) -> float:
        """Return the graph's width."""
        return float(graph.width)  # type: ignore[attr-defined]

    registry.fitness.register("width_test", width)
    try:
        graph = graph_for({"chat": {"op": "lm", "args": {}}})
        named = FitnessTask(TaskConfig(name="w", kind="fitness", fitness="width_test"))
        assert named.evaluate(graph) == {"fitness": float(graph.width)}
        spec = "harness.tasks.fitness_examples:variety"
        assert FitnessTask(TaskConfig(name="v", kind="fitness", fitness=spec)).evaluate(graph)
    finally:
        registry.fitness.unregister("width_test")


def test_task_kinds_fall_back_to_the_plugin_group() -> None:
    """A kind outside KINDS is built by its `insitu.tasks` factory; unknown kinds name the known."""

    class Constant(ScoredTask):
        """Scores every graph 1."""

        kind = "constant"

        def score(self, graph: object, rng: random.Random) -> dict[str, float]:
            """Return one objective."""
            return {"fitness": 1.0}

    registry.tasks.register("constant", lambda config, data, spec: Constant(config))
    try:
        task = build_task(TaskConfig(name="c", kind="fitness", fitness="variety"), TaskData())
        assert isinstance(task, FitnessTask)
        config = TaskConfig(name="c", kind="fitness")
        config.kind = "constant"  # the config check also accepts registered kinds (see below)
        built = build_task(config, TaskData())
        assert isinstance(built, Constant) and built.evaluate(graph_for(None)) == {"fitness": 1.0}
    finally:
        registry.tasks.unregister("constant")
    with pytest.raises(ConfigError, match="unknown kind 'nope'") as err:
        factory("nope", "t")
    assert "judge" in (err.value.hint or "")  # the teachers' kind, declared as an entry point
    registry.tasks.register("broken", lambda config, data, spec: "not a task")
    try:
        config = TaskConfig(name="b")
        config.kind = "broken"
        with pytest.raises(ConfigError, match="not a Task"):
            build_task(config, TaskData())
    finally:
        registry.tasks.unregister("broken")


def test_profile_configs_accept_plugin_kinds_and_judge_keys(tmp_path: Path) -> None:
    """Templates may use a plugin kind (judge) with prompts/teacher/rubric; typos still fail."""
    cfg = parse_config({"tasks": [{"name": "polite", "kind": "judge", "prompts": ["hi"],
                                   "teacher": "local", "rubric": "Is it polite?"},
                                  {"name": "f", "kind": "fitness", "fitness": "variety",
                                   "time_limit": 2}]}, "t.toml")  # fmt: skip
    assert cfg.tasks[0].prompts == ["hi"] and cfg.tasks[1].time_limit == 2.0
    with pytest.raises(ConfigError, match="kind' must be one of.*judge"):
        parse_config({"tasks": [{"name": "x", "kind": "jduge"}]}, "t.toml")
    with pytest.raises(ConfigError, match="time_limit' must be 0 or more"):
        parse_config({"tasks": [{"name": "x", "kind": "fitness", "time_limit": -1}]}, "t.toml")

