"""`insitu evolve --fitness` / `--task` on a fitness task: table, champion, bad callables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import ConfigError
from harness.profile import Profile

MODULE = (Path(__file__).parents[1] / "fitness_fixture.py").read_text()  # variety, picky

TEMPLATE = """
description = "fitness test"

[[tasks]]
name = "shape"
kind = "fitness"
fitness = "{fitness}"
time_limit = 0.3

[model]
max_params = 20000
min_params = 2000
context = 8
families = ["mlp", "gru"]

[evolution]
population = 3
seed = 0
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Write a fitness module to tmp_path, put it on sys.path; return its name."""
    (tmp_path / "shape_fitness.py").write_text(MODULE)
    (tmp_path / "broken_fitness.py").write_text("raise ImportError('a dependency is missing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "shape_fitness"


def make_profile(tmp_path: Path, fitness: str = "shape_fitness:variety") -> None:
    """Create profile 'fx' with one fitness task and tiny graphs."""
    template = tmp_path / "fx.toml"
    template.write_text(TEMPLATE.format(fitness=fitness))
    Profile.create("fx", str(template)).close()


def rows(query: str) -> list[dict]:
    """Return rows of profile fx's store."""
    with Profile.open("fx") as prof:
        return prof.store.query(query)


def evolve(*args: str):
    """Run `insitu evolve -p fx ARGS` in process."""
    return CliRunner().invoke(cli, ["evolve", "-p", "fx", *args])


@pytest.mark.slow
def test_cli_improves_a_custom_fitness_and_stores_the_champion(
    tmp_path: Path, user_module: str
) -> None:
    """--fitness module:function evolves, prints the table, and stores the best as champion."""
    from harness.chat.model import champion_row

    make_profile(tmp_path)
    out = evolve("--fitness", f"{user_module}:variety", "--generations", "12", "--seed", "0",
                 "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    history = result["history"]
    assert len(history) == 13 and history == sorted(history)
    assert history[-1] > history[0]  # a second unit kind (or more) was found
    champ = result["champion"]
    assert champ["fitness"] == pytest.approx(history[-1]) and not result["failures"]
    with Profile.open("fx") as prof:
        assert (prof.path / champ["checkpoint"]).is_file()
        row = champion_row(prof)
        assert row is not None and row["id"] == champ["id"]  # chat now answers with it
    stored = rows(f"SELECT * FROM individuals WHERE run_id = '{result['run_id']}'")
    assert len(stored) == result["individuals"] == 3 + 12
    links = rows(f"SELECT count(*) AS n FROM lineage WHERE child_id IN (SELECT id FROM "
                 f"individuals WHERE run_id = '{result['run_id']}')")  # fmt: skip
    assert links[0]["n"] == 12  # every child knows its parent
    tree = CliRunner().invoke(cli, ["lineage", "-p", "fx", champ["id"]])
    assert tree.exit_code == 0 and champ["id"] in tree.output and "fitness" in tree.output
    out = evolve("--fitness", f"{user_module}:variety", "--generations", "2")
    assert out.exit_code == 0, out.output
    assert "gen" in out.output and "best" in out.output and "failed" in out.output
    assert "seeds" in out.output and "stored as the profile's champion" in out.output
    seed0 = rows("SELECT i.operator, l.parent_id FROM individuals i JOIN lineage l ON "
                 "l.child_id = i.id WHERE i.birth = 0 AND i.operator = 'incumbent'")
    assert [r["parent_id"] for r in seed0] == [champ["id"]]  # the next run starts from it


@pytest.mark.slow
def test_bad_callables_give_the_worst_fitness_and_the_run_finishes(
    tmp_path: Path, user_module: str
) -> None:
    """Hanging, raising and NaN individuals fail with their reason; the run still crowns one."""
    make_profile(tmp_path, f"{user_module}:picky")
    out = CliRunner().invoke(cli, ["evolve", "-p", "fx", "--task", "shape", "--generations",
                                   "14", "--population", "4"])  # fmt: skip
    assert out.exit_code == 0, out.output
    for reason in ("NaN", "took longer than 0.3 s", "no lstm today"):
        assert reason in out.output, reason  # in the live table and the summary
    assert "! failed:" in out.output and "individuals failed (worst fitness)" in out.output
    failed = rows("SELECT id, fitness FROM individuals WHERE status = 'failed'")
    events = rows("SELECT payload FROM events WHERE kind = 'evaluation_failed'")
    assert failed and len(events) == len(failed) and all(f["fitness"] is None for f in failed)
    assert rows("SELECT count(*) AS n FROM individuals WHERE status = 'champion'")[0]["n"] == 1


@pytest.mark.slow
def test_unimportable_and_missing_callables(tmp_path: Path, user_module: str) -> None:
    """A module failing to import fails every individual (run ends); a missing one stops early."""
    make_profile(tmp_path)
    out = evolve("--fitness", "broken_fitness:f", "--generations", "2")
    assert out.exit_code == 0, out.output
    assert "cannot import the module" in out.output and "a dependency is missing" in out.output
    assert "no champion: every individual failed" in out.output
    assert rows("SELECT count(*) AS n FROM individuals WHERE status = 'failed'")[0]["n"] == 5
    out = evolve("--fitness", f"{user_module}:absent", "--generations", "1")
    assert out.exit_code == 0 and "does not exist ('absent' missing)" in out.output
    before = rows("SELECT count(*) AS n FROM individuals")[0]["n"]
    out = evolve("--fitness", "no_such_module_xyz:f", "--generations", "2")
    assert isinstance(out.exception, ConfigError) and "PYTHONPATH" in (out.exception.hint or "")
    out = evolve("--fitness", "varietty", "--generations", "2")
    assert isinstance(out.exception, ConfigError) and "variety" in out.exception.message
    assert rows("SELECT count(*) AS n FROM individuals")[0]["n"] == before  # no work started


@pytest.mark.slow
def test_entry_point_name_and_the_real_command_line(tmp_path: Path, insitu_home: Path) -> None:
    """`insitu evolve --fitness variety` (a named plugin) runs; a missing module prints a fix."""
    make_profile(tmp_path)
    (tmp_path / "mod_on_path.py").write_text(MODULE)
    env = {**os.environ, "INSITU_HOME": str(insitu_home),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    code = "from harness.cli import main; main()"
    run = subprocess.run([sys.executable, "-c", code, "evolve", "-p", "fx", "--fitness",
                          "mod_on_path:variety", "--generations", "3"], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "champion" in run.stdout and "stored as the profile's champion" in run.stdout
    run = subprocess.run([sys.executable, "-c", code, "evolve", "-p", "fx", "--fitness",
                          "missing_mod:variety"], env=env, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert run.returncode == 1
    assert "error: there is no module 'missing_mod'" in run.stderr and "->" in run.stderr
    out = evolve("--fitness", "variety", "--generations", "3", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["task"] == "fitness" and result["champion"]["fitness"] > 0


def test_routing_between_the_engine_and_scored_runs(tmp_path: Path) -> None:
    """Trained tasks go to the engine, one scored task to evolve_scored; mixes and games explain."""
    from harness.tasks.fitness_run import engine_tasks, scored_task_name

    template = tmp_path / "mix.toml"
    template.write_text('[[tasks]]\nname = "chat"\nkind = "text"\n\n[[tasks]]\nname = "shape"\n'
                        'kind = "fitness"\nfitness = "variety"\n\n[[tasks]]\nname = "ttt"\n'
                        'kind = "game"\ngame = "tictactoe"\n')  # fmt: skip
    with Profile.create("mix", str(template)) as prof:
        assert scored_task_name(prof, []) is None and engine_tasks(prof, []) == ["chat"]
        assert scored_task_name(prof, ["chat"]) is None
        assert scored_task_name(prof, ["shape"]) == "shape"
        with pytest.raises(ConfigError, match="evolves on its own") as err:
            scored_task_name(prof, ["chat", "shape"])
        assert err.value.hint == "pass one task: --task shape"
        with pytest.raises(ConfigError, match="is a game") as err:
            scored_task_name(prof, ["ttt"])
        assert "insitu arena -p mix --game tictactoe" in (err.value.hint or "")
    out = CliRunner().invoke(cli, ["evolve", "-p", "mix", "--generations", "1",
                                   "--time-limit", "1"])  # fmt: skip
    assert isinstance(out.exception, ConfigError) and "--fitness" in (out.exception.hint or "")
