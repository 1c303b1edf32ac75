"""The ledger: turns finished evaluations into recorded individuals and keeps the population.

Each step is one store transaction, and the events it reports are written inside it, so an
evaluation is recorded exactly once with its lineage and events:

- `record`: an evaluation's outcome becomes an individual (scored, phase updated, merge tested);
- `integrate`: recorded individuals join the population in slot order; the oldest die; the
  champion is chosen;
- `advance`: a fully integrated generation closes and the next one may be planned.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from harness.genome import content_hash
from harness.ids import new_id
from harness.store.db import Store
from harness.store.population import Parent, get_individual, set_status

from .fitness import Objectives
from .member import JobOutcome, Member
from .persist import (
    RunState,
    Slot,
    member_rows,
    parent_ids,
    record_member,
    save_state,
    set_slot,
)
from .reporters import Reporter
from .settings import Strategies

RESULT_KEYS = ("params", "flops_per_token", "latency_us_per_token", "train_seconds", "steps")


class Ledger:
    """The population of one run and the transactions that change it."""

    def __init__(
        self, store: Store, root: Path, run_id: str, state: RunState, strategies: Strategies,
        reporter: Reporter,
    ) -> None:  # fmt: skip
        self.store = store
        self.root = Path(root)
        self.run_id = run_id
        self.state = state
        self.s = strategies
        self.reporter = reporter
        self.members: list[Member] = [
            self.member(r) for r in member_rows(store, run_id, ("alive", "champion"))
        ]

    # ------------------------------------------------------------------------- scoring
    def score(self, m: Member) -> Member:
        """Fill a member's phase rank, phase quality, held-out quality and fitness."""
        phases = self.s.phases
        m.phase_rank = phases.index(m.phase)
        m.quality = phases.quality(m.phase, m.metrics)
        m.final_quality = phases.phases[-1].quality.score(m.metrics)
        m.fitness = (
            None if m.quality is None
            else self.s.fitness.scalar(Objectives(m.quality, m.params, float(m.flops)))
        )  # fmt: skip
        return m

    def member(self, row: dict[str, Any]) -> Member:
        """Return a scored Member from a stored individual row."""
        metrics = row["metrics"]
        m = Member(
            id=row["id"], genome=row["genome"], genome_id=row["genome_id"],
            birth=int(row["birth"] or 0), generation=int(row["generation"] or 0),
            phase=row["phase"] or self.s.phases.first(), metrics=metrics,
            params=int(metrics.get("params", 0)), flops=int(metrics.get("flops_per_token", 0)),
            latency_us=float(metrics.get("latency_us_per_token", 0.0)),
            checkpoint=row["checkpoint"] or "", checkpoint_sha256=row["checkpoint_sha256"] or "",
            status=row["status"], operator=row["operator"] or "",
            parents=[p["parent_id"] for p in parent_ids(self.store, row["id"])],
        )  # fmt: skip
        return self.score(m)

    def emit(self, kind: str, payload: dict[str, Any], individual_id: str | None = None) -> None:
        """Report an event (the store reporter writes it in the current transaction)."""
        self.reporter.on_event(kind, payload, individual_id)

    # ------------------------------------------------------------------------- record
    def record(self, slot: Slot, outcome: JobOutcome) -> Member:
        """Record a finished evaluation as an individual; return it.

        1. Build the member from the plan and the outcome (metrics, size, speed, checkpoint).
        2. Failed: status 'failed'. Otherwise update its phase through the gates and score it.
        3. A crossover child must not be worse than its better parent (the loss test): a worse
           one is refused (status 'refused', event merge_refused).
        4. Store it with its lineage and events, and mark the slot done, in one transaction.
        """
        plan = slot.plan
        metrics = {k: float(v) for k, v in (outcome.metrics or {}).items()
                   if isinstance(v, int | float) and math.isfinite(v)}  # fmt: skip
        for key in RESULT_KEYS:
            metrics[key] = float(getattr(outcome, key, 0) or 0)
        if not metrics["params"]:
            metrics["params"] = float(plan["params"])
        m = Member(
            id=new_id(), genome=plan["genome"], genome_id=content_hash(plan["genome"]),
            birth=slot.birth, generation=slot.generation, phase=plan["phase"], metrics=metrics,
            params=int(metrics["params"]), flops=int(metrics["flops_per_token"]),
            latency_us=metrics["latency_us_per_token"], checkpoint=plan["out_checkpoint"],
            checkpoint_sha256=getattr(outcome, "checkpoint_sha256", "") or "",
            status="evaluated", operator=plan["operator"],
            parents=[p["id"] for p in plan["parents"]],
        )  # fmt: skip
        events: list[tuple[str, dict[str, Any]]] = []
        if outcome.error:
            m.status = "failed"
            events.append(("evaluation_failed", {
                "message": str(outcome.error)[:500], "operator": m.operator,
                "trace": str(getattr(outcome, "trace", "") or "")[-2000:]}))  # fmt: skip
        else:
            m.phase, change = self.s.phases.update(plan["phase"], metrics)
            self.score(m)
            if change is not None:
                events.append((change.kind, {"from": change.before, "to": change.after,
                                             "metric": change.metric, "value": change.value}))
            events += self._lineage_events(m, plan)
        with self.store.write():
            record_member(self.store, self.run_id, m,
                          [Parent(p["id"], p["role"], p["operator"]) for p in plan["parents"]])
            for kind, payload in events:
                self.emit(kind, payload, m.id)
            slot.state, slot.individual_id = "done", m.id
            set_slot(self.store, self.run_id, slot)
            self.state.evaluations += 1
            save_state(self.store, self.run_id, self.state)
            self.reporter.on_individual(m)
        return m

    def _lineage_events(self, m: Member, plan: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """Return the seed, mutation or merge events of a new individual (and apply the test)."""
        if plan["kind"] == "seed":
            return [("seeded", {"family": m.family, "params": m.params})]
        if plan["operator"] == "polish":
            return [("polished", {"parent": m.parents[0], "seconds": plan.get("budget_seconds")})]
        if plan["operator"] != "crossover":
            return [("mutation", {"operator": m.operator, "parent": m.parents[0],
                                  "records": plan["records"]})]  # fmt: skip
        detail = plan["records"][0]["detail"]
        info = {"parent": m.parents[0], "partner": m.parents[1], "merged": detail["merged"],
                "drifted": detail["drifted"], "compatibility": detail["compatibility"]}  # fmt: skip
        mine = self.s.phases.quality(plan["phase"], m.metrics)
        theirs = []
        for pid in m.parents:
            row = get_individual(self.store, pid)
            if row is not None:
                q = self.s.phases.quality(plan["phase"], row["metrics"])
                if q is not None:
                    theirs.append(q)
        label = self.s.phases.phases[self.s.phases.index(plan["phase"])].quality.label()
        if mine is not None and theirs and mine < max(theirs):
            m.status = "refused"
            return [("merge_refused", {**info, "metric": label, "child_quality": mine,
                                       "parent_quality": max(theirs),
                                       "message": f"merged child {label} score {mine:.4f} is worse "
                                                  f"than its better parent's {max(theirs):.4f}"})]
        return [("merge", {**info, "metric": label, "child_quality": mine})]

    # ------------------------------------------------------------------------- integrate
    def integrate(self, slot: Slot) -> list[str]:
        """Let a recorded individual join; age out the oldest; crown the champion.

        Returns checkpoint paths that are no longer needed (to delete after the commit).
        """
        garbage: list[str] = []
        with self.store.write():
            row = member_rows(self.store, self.run_id, ("evaluated",))
            mine = [r for r in row if r["id"] == slot.individual_id]
            if mine:
                m = self.member(mine[0])
                m.status = "alive"
                set_status(self.store, m.id, "alive")
                self.members.append(m)
                for old in self.s.aging.victims(self.members, self.state.size):
                    set_status(self.store, old.id, "dead")
                    self.members.remove(old)
                    garbage.append(old.checkpoint)
                    self.emit("aged_out", {"birth": old.birth, "family": old.family}, old.id)
                self._crown()
            elif slot.individual_id:
                gone = get_individual(self.store, slot.individual_id)
                if gone is not None and gone["checkpoint"]:
                    garbage.append(gone["checkpoint"])
            if slot.plan.get("init_checkpoint"):
                garbage.append(slot.plan["init_checkpoint"])
            slot.state = "integrated"
            set_slot(self.store, self.run_id, slot)
            self.state.integrated += 1
            save_state(self.store, self.run_id, self.state)
        return garbage

    def _crown(self) -> None:
        """Choose the champion among the members; record a change."""
        best = self.s.champion.choose(self.members)
        if best is None or best.id == self.state.champion:
            return
        previous = self.state.champion
        for m in self.members:
            if m.id == previous:
                m.status = "alive"
                set_status(self.store, m.id, "alive")
        best.status = "champion"
        set_status(self.store, best.id, "champion")
        self.state.champion = best.id
        self.emit("champion", {"previous": previous, "family": best.family,
                               "params": best.params, "quality": best.final_quality}, best.id)
        self.reporter.on_champion(best)

    def advance(self) -> None:
        """Close the current generation: the next one may be planned."""
        self.state.generation += 1
        self.state.planned = False
        self.state.slots = 0
        self.state.integrated = 0
        if self.state.goal is not None and self.state.generation > self.state.goal:
            self.state.goal = None  # the session reached its goal
        with self.store.write():
            save_state(self.store, self.run_id, self.state)

    def delete(self, paths: list[str]) -> None:
        """Delete checkpoint files that no individual needs any more (never a member's)."""
        keep = {m.checkpoint for m in self.members}
        for rel in paths:
            if rel and rel not in keep:
                (self.root / rel).unlink(missing_ok=True)

