"""Fitness, Pareto front, selection, aging, champion, phases with gates and cycles."""

from __future__ import annotations

import random

from harness.evolve.fitness import FitnessRule, MetricSpec, Objectives, TaskMetric, pareto_front
from harness.evolve.member import Member
from harness.evolve.phases import Cycle
from harness.evolve.selection import Aging, ChampionRule, Tournament, front
from harness.evolve.settings import Settings, schedule_for


def _member(i: int, q: float, params: int = 1000, phase_rank: int = 1, birth: int | None = None,
            status: str = "alive", fitness: float | None = None) -> Member:
    return Member(id=f"m{i}", genome={"nodes": [], "width": 8}, genome_id=str(i),
                  birth=i if birth is None else birth, generation=0, phase="generalise",
                  metrics={}, params=params, flops=params, latency_us=1.0, checkpoint="",
                  status=status, fitness=q if fitness is None else fitness, quality=q,
                  final_quality=q, phase_rank=phase_rank)


def test_pareto_front_keeps_the_non_dominated():
    """An entry worse in every objective than another is off the front."""
    objs = [Objectives(1.0, 100, 10), Objectives(0.5, 50, 10), Objectives(0.4, 60, 20),
            Objectives(1.0, 100, 10)]
    assert pareto_front(objs) == [0, 1, 3]


def test_size_pressure_trades_quality_for_size():
    """With pressure, a 10x bigger graph must be better by `size_pressure` to win."""
    rule = FitnessRule(size_pressure=0.1, speed_pressure=0.0)
    small, big = Objectives(-2.00, 1_000, 1), Objectives(-1.95, 10_000, 1)
    assert rule.scalar(small) > rule.scalar(big)
    assert FitnessRule(0.0, 0.0).scalar(big) > FitnessRule(0.0, 0.0).scalar(small)


def test_metrics_are_read_per_task_and_by_direction():
    """Per-task keys win over plain ones; bits per byte are negated into a score."""
    m = TaskMetric({"text": (MetricSpec("heldout_bpb", False),),
                    "label": (MetricSpec("accuracy", True),)}, {"a": "text", "b": "label"})
    metrics = {"a/heldout_bpb": 2.0, "b/accuracy": 0.9, "heldout_bpb": 9.0}
    assert m.score(metrics) == (-2.0 + 0.9) / 2
    assert m.label() == "heldout_bpb/accuracy"
    assert m.score({}) is None


def test_tournament_is_seeded_and_prefers_later_phases():
    """The same rng picks the same winner; a member in a later phase beats a fitter earlier one."""
    members = [_member(i, q) for i, q in enumerate([0.1, 0.5, 0.3, 0.9])]
    members.append(_member(9, -5.0, phase_rank=2))
    t = Tournament(size=5)
    assert t.select(members, random.Random(1)).id == "m9"
    small = Tournament(size=2)
    picks = [small.select(members, random.Random(s)).id for s in range(5)]
    assert picks == [small.select(members, random.Random(s)).id for s in range(5)]


def test_aging_removes_the_oldest_but_spares_the_champion():
    """The oldest members die first; the champion survives aging."""
    members = [_member(i, 0.0, status="champion" if i == 0 else "alive") for i in range(5)]
    assert [m.id for m in Aging().victims(members, 3)] == ["m1", "m2"]


def test_champion_is_the_best_heldout_on_the_front_of_the_gated():
    """Members of an earlier phase cannot be champion; ties go to fewer parameters."""
    members = [_member(0, 0.9, phase_rank=0), _member(1, 0.5, params=500),
               _member(2, 0.5, params=400), _member(3, 0.2, params=100)]
    assert ChampionRule().choose(members).id == "m2"
    assert {m.id for m in front(members)} == {"m2", "m3"}


def test_phases_advance_through_the_gate_and_fall_back_when_it_fails():
    """Recall above the gate advances; in generalise, recall below `hold` falls back."""
    s = schedule_for({"chat": "text"}, Settings(recall_gate=0.9, recall_hold=0.8))
    assert s.update("recall", {"recall": 0.5, "train_bpb": 2.0}) == ("recall", None)
    phase, t = s.update("recall", {"recall": 0.95})
    assert phase == "generalise" and t is not None and t.kind == "phase_advanced"
    assert s.update("generalise", {"recall": 0.85})[0] == "generalise"  # within the hold
    phase, t = s.update("generalise", {"recall": 0.7})
    assert phase == "recall" and t is not None and t.kind == "gate_failed"
    assert s.update("recall", {"heldout_bpb": 3.0})[0] == "generalise"  # no recall measured
    assert s.quality("recall", {"train_bpb": 2.0, "recall": 0.3}) == -2.0
    assert s.quality("generalise", {"heldout_bpb": 2.5}) == -2.5


def test_cycles_alternate_growth_and_pruning():
    """Generations 1-3 grow, 4-6 prune, 7 grows again; the weights follow the stage."""
    c = Cycle(length=3)
    assert [c.stage(g) for g in range(1, 8)] == ["grow"] * 3 + ["prune"] * 3 + ["grow"]
    assert c.weights(1)["insert_node"] > c.weights(1)["prune"]
    assert c.weights(4)["prune"] > c.weights(4)["insert_node"]


def test_champion_ties_of_quality_go_to_the_lower_heldout_loss():
    """At equal held-out accuracy (a saturated small held-out set), or within the margin, the
    member with the lower held-out cross-entropy is champion, even when born later; without
    the loss, the earlier born; outside the margin, quality decides."""
    tiebreak = TaskMetric({"label": (MetricSpec("heldout_xent", False),)}, {"digits": "label"})
    parent, copy = _member(0, 1.0), _member(1, 1.0)
    parent.metrics, copy.metrics = {"heldout_xent": 0.30}, {"heldout_xent": 0.05}
    assert ChampionRule(tiebreak).choose([parent, copy]).id == "m1"
    assert ChampionRule().choose([parent, copy]).id == "m0"
    better = _member(2, 0.99)
    better.metrics = {"heldout_xent": 0.01}
    assert ChampionRule(tiebreak).choose([parent, copy, better]).id == "m1"  # quality first
    near = ChampionRule(tiebreak, margin=0.01)
    assert near.choose([parent, copy, better]).id == "m2"  # 0.99 is within a point of 1.0
    worse = _member(3, 0.95)
    worse.metrics = {"heldout_xent": 0.001}
    assert near.choose([parent, worse]).id == "m0"  # 0.95 is not
    text = [_member(4, -2.10), _member(5, -2.105)]  # bits: no tie-break score, as measured
    assert near.choose(text).id == "m4"
    from harness.evolve.settings import Strategies

    rule = Strategies.default({"digits": "label"}, Settings(), breeding=False).champion
    assert rule.choose([parent, copy, better]).id == "m2"  # the default: a one-point margin
