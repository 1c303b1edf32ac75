"""Polish: a timed run spends its last share training the best members on, unchanged."""

from __future__ import annotations

import json

import pytest

from harness.errors import ConfigError
from harness.evolve import InlineEvaluator, run
from harness.evolve.settings import Settings

from .helpers import make_profile


def test_a_polished_run_trains_copies_of_the_best_members_until_the_deadline(tmp_path):
    """The last half of a session trains a copy of the best member from its weights, for longer."""
    prof = make_profile(tmp_path, families=("mlp", "gru"), population=2, steps=5)
    s = run(prof, seconds=24, settings={"polish": 0.5}, evaluator=InlineEvaluator())
    store = prof.store
    polished = store.query("SELECT id, metrics FROM individuals WHERE operator = 'polish'")
    assert len(polished) == 1  # one worker: one copy
    (row,) = polished
    (link,) = store.query("SELECT parent_id, operator FROM lineage WHERE child_id = ?",
                          [row["id"]])  # fmt: skip
    parent = store.query("SELECT genome_id, metrics, operator FROM individuals WHERE id = ?",
                         [link["parent_id"]])[0]  # fmt: skip
    assert link["operator"] == "polish" and parent["operator"] != "polish"
    mine, theirs = json.loads(row["metrics"]), json.loads(parent["metrics"])
    assert mine["steps"] > theirs["steps"] == 5  # not held to the search's 5 steps a job
    assert mine["train_seconds"] > 3.0  # it had most of the remaining ~12 s
    kinds = {r["kind"] for r in store.query("SELECT DISTINCT kind FROM events")}
    assert "polished" in kinds
    best = max(s.leaderboard, key=lambda r: r["final_quality"])
    assert s.champion is not None and s.champion["id"] == best["id"]


def test_a_polish_share_outside_zero_to_one_is_refused():
    """polish = 1 would leave no search at all: a clear error names the range."""
    with pytest.raises(ConfigError, match=r"\[0, 1\)"):
        Settings(polish=1.0).check()
