"""The engine with a fast fake evaluation: records, lineage, merges, resume, determinism, inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ConfigError, DataError
from harness.evolve import ConsoleReporter, InlineEvaluator, JsonlReporter, run
from harness.evolve.history import plot_spec, write_plot
from harness.evolve.member import Outcome
from harness.evolve.persist import latest_run
from harness.evolve.pool import EvalSpec

from .helpers import fake_eval, make_profile


def _history(store) -> list[tuple[int, str, str, str]]:
    """Return (birth, genome id, operator, status) of every individual, in birth order."""
    rows = store.query("SELECT birth, genome_id, operator, status FROM individuals ORDER BY birth")
    return [(r["birth"], r["genome_id"], r["operator"], r["status"]) for r in rows]


def test_a_run_records_individuals_lineage_events_and_a_champion(tmp_path):
    """Seeds and children are stored with lineage, events and one champion."""
    prof = make_profile(tmp_path)
    lines: list[str] = []
    reporters = [ConsoleReporter(lines.append, live=False), JsonlReporter(tmp_path / "e.jsonl")]
    s = run(prof, generations=3, evaluator=InlineEvaluator(fake_eval), reporters=reporters)
    assert s.stopped == "goal" and s.generation == 3 and s.evaluations == 4 + 3 * 2
    assert s.champion is not None and s.champion["status"] == "champion"
    store = prof.store
    statuses = {r["status"] for r in store.query("SELECT status FROM individuals")}
    assert statuses <= {"alive", "champion", "dead", "refused"}
    assert store.count("individuals") == 10
    assert len(store.query("SELECT id FROM individuals WHERE status='champion'")) == 1
    kids = store.query("SELECT id FROM individuals WHERE operator != 'seed'")
    for k in kids:
        links = store.query("SELECT role, operator FROM lineage WHERE child_id = ?", [k["id"]])
        assert links and links[0]["operator"]
    kinds = {r["kind"] for r in store.query("SELECT DISTINCT kind FROM events")}
    assert {"seeded", "generation", "champion", "mutation"} <= kinds
    assert len(s.leaderboard) == 4 and s.front
    assert any("champion" in line for line in lines)
    records = [json.loads(x) for x in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert {r["type"] for r in records} >= {"event", "individual", "progress", "champion"}
    spec = plot_spec(store, latest_run(store))
    png = write_plot(spec, tmp_path / "fit.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {p["kind"] for p in spec["points"]} >= {"seed", "mutation"}


def test_the_same_seed_gives_the_same_run(tmp_path):
    """Two fresh profiles evolved with one seed breed the same genomes in the same order."""
    histories = []
    for name in ("one", "two"):
        prof = make_profile(tmp_path, name=name)
        run(prof, generations=3, seed=5, evaluator=InlineEvaluator(fake_eval))
        histories.append(_history(prof.store))
        prof.close()
    assert histories[0] == histories[1]
    other = make_profile(tmp_path, name="three")
    run(other, generations=3, seed=6, evaluator=InlineEvaluator(fake_eval))
    assert _history(other.store) != histories[0]


def _worse_merges(spec: EvalSpec) -> Outcome:
    """Evaluate like fake_eval, but a crossover child (two parents) comes out much worse."""
    out = fake_eval(spec)
    if len(spec.genome.get("parents", [])) == 2:
        out.metrics["heldout_bpb"] += 10.0
    return out


def test_a_merge_worse_than_the_better_parent_is_refused_and_logged(tmp_path):
    """With crossover always on, merged children that lose the loss test are refused."""
    prof = make_profile(tmp_path)
    run(prof, generations=3, settings={"crossover_rate": 1.0},
        evaluator=InlineEvaluator(_worse_merges))
    refused = prof.store.query("SELECT * FROM events WHERE kind = 'merge_refused'")
    assert refused
    payload = json.loads(refused[0]["payload"])
    assert payload["child_quality"] < payload["parent_quality"]
    row = prof.store.query("SELECT status, operator FROM individuals WHERE id = ?",
                           [refused[0]["individual_id"]])[0]
    assert row == {"status": "refused", "operator": "crossover"}
    roles = {r["role"] for r in prof.store.query(
        "SELECT role FROM lineage WHERE child_id = ?", [refused[0]["individual_id"]])}
    assert roles == {"parent", "merge_partner"}


class _Interrupting(InlineEvaluator):
    """Raise KeyboardInterrupt (Ctrl-C) before finishing the n-th evaluation."""

    def __init__(self, after: int) -> None:
        super().__init__(fake_eval)
        self.left = after

    def evaluate(self, specs, fit=None):
        for key, spec in specs:
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
            yield key, self.fn(spec)


def test_an_interrupted_run_resumes_exactly(tmp_path):
    """Stopped mid-generation, the next call finishes the same run: same genomes, none repeated."""
    ref = make_profile(tmp_path, name="ref")
    run(ref, generations=3, evaluator=InlineEvaluator(fake_eval))
    prof = make_profile(tmp_path, name="cut")
    first = run(prof, generations=3, evaluator=_Interrupting(after=5))
    assert first.stopped == "interrupted" and first.evaluations == 5
    counted = prof.store.count("individuals")
    second = run(prof, generations=1, evaluator=InlineEvaluator(fake_eval))  # finishes goal 3
    assert second.stopped == "goal" and second.evaluations == 10 - counted
    assert _history(prof.store) == _history(ref.store)
    slots = prof.store.query("SELECT individual_id FROM evolution_slots")
    assert len({s["individual_id"] for s in slots}) == len(slots) == 10


def test_bad_budgets_and_missing_data_are_reported(tmp_path):
    """A budget of 0 and a profile without data raise errors that name the next step."""
    prof = make_profile(tmp_path)
    with pytest.raises(ConfigError, match="budget of 0"):
        run(prof, generations=0, evaluator=InlineEvaluator(fake_eval))
    with pytest.raises(ConfigError, match="budget of 0"):
        run(prof, seconds=0, evaluator=InlineEvaluator(fake_eval))
    assert prof.store.count("evolution_runs") == 0  # bad input changes nothing
    with pytest.raises(ConfigError, match="training budget"):
        run(prof, generations=1, settings={"train_steps": 0, "train_seconds": 0.0},
            evaluator=InlineEvaluator(fake_eval))
    empty = make_profile(tmp_path, name="empty", text="")
    with pytest.raises(DataError) as err:
        run(empty, generations=1, evaluator=InlineEvaluator(fake_eval))
    assert "insitu data add -p empty PATH" in str(err.value)  # for this profile, not the default


def test_failed_evaluations_are_recorded_and_skipped(tmp_path):
    """An evaluation that fails is stored as failed with its error; the run goes on."""
    calls = {"n": 0}

    def flaky(spec: EvalSpec) -> Outcome:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("out of luck")
        return fake_eval(spec)

    prof = make_profile(tmp_path)
    s = run(prof, generations=1, evaluator=InlineEvaluator(flaky))
    failed = prof.store.query("SELECT * FROM individuals WHERE status = 'failed'")
    assert len(failed) == 1 and s.stopped == "goal"
    event = prof.store.query("SELECT payload FROM events WHERE kind = 'evaluation_failed'")
    assert "out of luck" in json.loads(event[0]["payload"])["message"]
    assert not Path(prof.path / failed[0]["checkpoint"]).exists()


def test_children_stay_within_the_parameter_bound(tmp_path):
    """No child exceeds the profile's max_params."""
    prof = make_profile(tmp_path, max_params=6_000)
    run(prof, generations=4, evaluator=InlineEvaluator(fake_eval))
    rows = prof.store.query("SELECT operator, metrics FROM individuals WHERE operator != 'seed'")
    assert rows and all(json.loads(r["metrics"])["params"] <= 6_000 for r in rows)
