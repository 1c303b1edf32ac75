"""The evolution loop: regularized evolution with weight inheritance, phases and exact resume."""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, EvolutionError
from harness.ids import new_id
from harness.profile import Profile, profile_flag

from .incumbent import find_incumbent
from .ledger import Ledger
from .persist import (
    RunState,
    Slot,
    add_slots,
    create_run,
    end_run,
    find_run,
    load_slots,
    rng_state,
    save_state,
    set_rng_state,
)
from .planner import Planner
from .pool import EvalSpec, Evaluator, PoolEvaluator
from .reporters import Fanout, Progress, Reporter, StoreReporter
from .seeding import TaskPlan, plan_tasks
from .settings import Settings, Strategies
from .summary import Summary, board

#: Seconds an evaluation needs beyond training (loading, held-out evaluation, saving).
EVAL_OVERHEAD_S = 3.0
#: The shortest training budget worth starting when a deadline is near.
MIN_TRAIN_S = 1.0


def check_budget(seconds: float | None, generations: int | None) -> None:
    """Raise ConfigError unless exactly a positive time or generation budget is given."""
    if seconds is not None and seconds <= 0 or generations is not None and generations <= 0:
        raise ConfigError("a budget of 0 gives evolution no time to run",
                          "pass --minutes or --generations greater than 0")  # fmt: skip
    if seconds is None and generations is None:
        raise ConfigError("evolution needs a budget", "pass --minutes M or --generations G")


class Engine:
    """One profile's evolution run over a set of tasks; `run` continues it within a budget."""

    def __init__(
        self,
        profile: Profile,
        tasks: Sequence[str] | None = None,
        settings: Settings | None = None,
        evaluator: Evaluator | None = None,
        reporters: Sequence[Reporter] = (),
        workers: int = 1,
        strategies: Strategies | None = None,
        new: bool = False,
    ) -> None:
        self.profile = profile
        self.store = profile.store
        self.plan: TaskPlan = plan_tasks(profile.config, profile.store, tasks, profile.name)
        self.tasks = self.plan.tasks
        self.workers = max(1, int(workers))
        requested = settings or Settings.from_config(profile.config)
        run = find_run(self.store, self.tasks)
        if run is not None and new:
            end_run(self.store, run["id"])
            run = None
        self.notes: list[str] = []
        if run is None:  # a new run: settings as given, fresh seed individuals
            self.settings = requested.check()
            self.run_id = new_id()
            self.state = RunState(size=0)
            self.rng = random.Random(self.settings.seed)
            self.state.rng = rng_state(self.rng)
            data = {**self.settings.to_dict(), "task_kinds": self.plan.kinds}
            create_run(self.store, self.run_id, self.tasks, self.settings.seed, data, self.state)
            self.resumed = False
        else:  # resume: the stored settings and RNG state make it the same run
            self.settings = Settings.from_dict(json.loads(run["settings"]))
            self.run_id = run["id"]
            self.state = RunState.from_json(run["state"])
            self.rng = random.Random()
            set_rng_state(self.rng, self.state.rng)
            self.resumed = True
            if requested.seed != self.settings.seed:
                self.notes.append(f"resuming run {self.run_id[-8:]} (seed {self.settings.seed}); "
                                  f"seed {requested.seed} would need --new")  # fmt: skip
        self.strategies = strategies or Strategies.default(self.plan.kinds, self.settings)
        self.reporter = Fanout([StoreReporter(self.store), *reporters])
        self.evaluator = evaluator or PoolEvaluator(self.workers, memory_mb=self.settings.memory_mb)
        self.ledger = Ledger(self.store, profile.path, self.run_id, self.state, self.strategies,
                             self.reporter)  # fmt: skip
        self._durations: list[float] = []
        self._overheads: list[float] = []  # seconds a job takes beyond training
        self._submitted: dict[str, float] = {}
        self._session = 0
        self._deadline: float | None = None
        (Path(profile.path) / "checkpoints" / "evolve" / self.run_id).mkdir(parents=True,
                                                                           exist_ok=True)

    # ------------------------------------------------------------------------------ planning
    def _planner(self) -> Planner:
        """Return a planner of this run (its events go to the reporters)."""
        return Planner(self.profile.path, self.run_id, self.settings, self.strategies,
                       lambda kind, payload: self.reporter.on_event(kind, payload, None))

    def _plan_generation(self) -> list[Slot]:
        """Plan the current generation (seeds or children); store slots and RNG in one commit."""
        st = self.state
        planner = self._planner()
        if st.generation == 0:
            incumbent = find_incumbent(self.store, Path(self.profile.path), self.plan)
            plans = planner.seeds(self.plan, self.profile.config.model, self.rng, st, incumbent)
            if incumbent is not None:
                self.reporter.on_event("incumbent", {"individual": incumbent.id,
                                                     "family": incumbent.genome.get("family")},
                                       None)  # fmt: skip
            st.size = max(self.settings.population, len(plans))
        else:
            if not self.ledger.members:
                flag = profile_flag(self.profile.name)
                raise EvolutionError(
                    "no individual is alive to breed from (every evaluation failed)",
                    f"see the evaluation_failed events (`insitu evolve{flag} --json`), fix the "
                    f"cause and start again with `insitu evolve{flag} --new`",
                )
            plans = planner.children(self.ledger.members, self.rng, st)
        stage = "seed" if st.generation == 0 else self.strategies.cycle.stage(st.generation)
        return self._store_plans(plans, stage)

    def _store_plans(self, plans: list[dict[str, Any]], stage: str) -> list[Slot]:
        """Store a generation's slot plans and the RNG state in one commit; return the slots."""
        st = self.state
        slots = [Slot(st.generation, i, st.births + i, p) for i, p in enumerate(plans)]
        st.births += len(slots)
        st.planned, st.slots, st.integrated = True, len(slots), 0
        st.rng = rng_state(self.rng)
        with self.store.write():
            add_slots(self.store, self.run_id, slots)
            save_state(self.store, self.run_id, st)
            self.reporter.on_event("generation", {"generation": st.generation, "stage": stage,
                                                  "slots": len(slots)}, None)  # fmt: skip
        return slots

    def _polish(self, planner: Planner) -> None:
        """Spend the rest of the session training the best members on, unchanged.

        1. Close the generation the search left unfinished: finished slots join in slot order,
           slots that never started are dropped (event slot_skipped).
        2. Plan one `polish` generation: a copy of each of the best members (one per worker)
           that trains until the deadline from its parent's weights.
        3. Evaluate it like any generation; a polished copy that measures better is champion.
        """
        st = self.state
        if st.planned:
            for slot in load_slots(self.store, self.run_id, st.generation)[st.integrated:]:
                if slot.state == "planned":
                    self.reporter.on_event("slot_skipped", {"generation": slot.generation,
                                           "slot": slot.slot, "reason": "search time over"},
                                           None)  # fmt: skip
                self.ledger.delete(self.ledger.integrate(slot))
            self.ledger.advance()
        if not self.ledger.members or self._deadline is None:
            return
        left = self._deadline - time.monotonic() - max([EVAL_OVERHEAD_S, *self._overheads[-8:]])
        if left < MIN_TRAIN_S:
            return
        count = min(self.workers, len(self.ledger.members))
        slots = self._store_plans(planner.polish(self.ledger.members, count, left, self.rng, st),
                                  "polish")  # fmt: skip
        self.reporter.on_generation(self._progress())
        self._evaluate(slots)
        if st.integrated == st.slots:
            self.ledger.advance()

    def _spec(self, slot: Slot) -> EvalSpec:
        """Return the evaluation spec of a slot (absolute paths, the run's budgets)."""
        plan, root = slot.plan, Path(self.profile.path)
        init = plan.get("init_checkpoint")
        return EvalSpec(
            genome=plan["genome"], init_checkpoint=str(root / init) if init else None,
            profile_path=str(root), tasks=list(self.tasks),
            budget_steps=int(plan.get("budget_steps", self.settings.train_steps)),
            budget_seconds=float(plan.get("budget_seconds", self.settings.train_seconds)),
            seed=int(plan["seed"]),
            out_checkpoint=str(root / plan["out_checkpoint"]), phase=str(plan["phase"]),
        )  # fmt: skip

    # ------------------------------------------------------------------------------ progress
    def _progress(self, candidate: str = "") -> Progress:
        """Return the current progress for reporters."""
        st = self.state
        members = self.ledger.members
        quality = self.strategies.phases.phases[-1].quality
        specs = [s for k in quality.tasks.values() for s in quality.by_kind.get(k, ())[:1]]
        sign = 1.0 if not specs or specs[0].higher_is_better else -1.0  # back to the metric
        fits = [m.final_quality for m in members if m.final_quality is not None]
        best = sign * max(fits) if fits else None
        med = sign * statistics.median(fits) if fits else None
        pending = max(0, st.slots - st.integrated)
        eta = None
        if self._deadline is not None:
            eta = max(0.0, self._deadline - time.monotonic())
        elif st.goal is not None and self._durations:
            left = pending + max(0, st.goal - st.generation) * self.settings.children
            eta = left * statistics.mean(self._durations[-20:]) / self.workers
        stage = "seed" if st.generation == 0 else self.strategies.cycle.stage(st.generation)
        return Progress(self.run_id, st.generation, st.goal, self._session, pending, best, med,
                        quality.label(), candidate, eta, stage, sign > 0)  # fmt: skip

    def _fit(self, spec: EvalSpec) -> EvalSpec | None:
        """Clip a job's training time to the deadline; None when there is no time left for it."""
        if self._deadline is None:
            return spec
        now = time.monotonic()
        left = self._deadline - now - max([EVAL_OVERHEAD_S, *self._overheads[-8:]]) * 1.2
        if left < MIN_TRAIN_S:
            return None
        budget = spec.budget_seconds if spec.budget_seconds > 0 else left
        self._submitted[spec.out_checkpoint] = now
        return dataclasses.replace(spec, budget_seconds=min(budget, left))

    # ------------------------------------------------------------------------------ the loop
    def run(self, seconds: float | None = None, generations: int | None = None,
            polish: float | None = None) -> Summary:  # fmt: skip
        """Continue the run within a budget; return the summary and the leaderboard.

        1. Set the session's goal: `generations` more generations (an interrupted session's goal
           is finished first), or `seconds` of wall time.
        2. Plan the current generation unless its slots are stored (the RNG is drawn only here).
        3. Evaluate its slots that are not done yet, in the worker pool; record each outcome at
           once (nothing finished is lost) and integrate the outcomes in slot order (so the run
           does not depend on which worker finished first).
        4. When every slot is integrated, close the generation; stop at the goal or deadline.
        5. With a `polish` share (default: the run's setting) of a timed session, the search
           stops that much earlier and the rest trains the best members on (see `_polish`).
        """
        check_budget(seconds, generations)
        start = time.monotonic()
        share = self.settings.polish if polish is None else polish
        if not 0.0 <= share < 1.0:
            raise ConfigError(f"polish must be a share of the session in [0, 1), got {share}",
                              "use e.g. 0.5 (half the time), or 0 for none")
        polish = (seconds or 0.0) * share  # the search ends this much earlier
        self._deadline = None if seconds is None else start + seconds - polish
        st = self.state
        if generations is None:
            st.goal = None
        elif st.goal is None:
            st.goal = (st.generation + generations - 1) if st.generation >= 1 else generations
        with self.store.write():
            save_state(self.store, self.run_id, st)
        stopped = "goal"
        if self.resumed:
            with self.store.write():
                self.reporter.on_event("resumed", {
                    "generation": st.generation, "evaluations": st.evaluations,
                    "seed": self.settings.seed, "message": "; ".join(self.notes) or
                    f"resuming generation {st.generation} after {st.evaluations} evaluations"},
                    None)  # fmt: skip
        try:
            self.evaluator.start()
            stopped = self._search()
            if polish > 0 and stopped == "deadline":
                self._deadline = start + (seconds or 0.0)
                if self._has_results():
                    self._polish(self._planner())
                else:  # nothing measured yet (a very short session): search on instead
                    stopped = self._search()
        except KeyboardInterrupt:
            stopped = "interrupted"
        finally:
            self.evaluator.close()
            self.reporter.close()
        return self.summary(time.monotonic() - start, stopped)

    def _search(self) -> str:
        """Plan and evaluate generations until the goal or the deadline; return why it stopped."""
        st = self.state
        while True:
            if st.goal is None and self._deadline is None:
                return "goal"
            if self._deadline is not None and time.monotonic() >= self._deadline:
                return "deadline"
            slots = load_slots(self.store, self.run_id, st.generation) if st.planned else []
            if not slots:
                slots = self._plan_generation()
            self.reporter.on_generation(self._progress())
            self._evaluate(slots)
            if st.integrated < st.slots:
                return "deadline"
            self.ledger.advance()
            if st.goal is None and self._deadline is None:
                return "goal"

    def _has_results(self) -> bool:
        """Return whether any individual is a member or waits, evaluated, to join."""
        if self.ledger.members:
            return True
        st = self.state
        slots = load_slots(self.store, self.run_id, st.generation) if st.planned else []
        return any(slot.state == "done" for slot in slots)

    def _evaluate(self, slots: list[Slot]) -> None:
        """Evaluate the slots not done yet; record each outcome and integrate in slot order."""
        by_key = {s.slot: s for s in slots}
        todo = [(s.slot, self._spec(s)) for s in slots if s.state == "planned"]
        started = time.monotonic()
        self._integrate_ready(slots)
        for key, outcome in self.evaluator.evaluate(todo, self._fit):
            slot = by_key[key]
            sent = self._submitted.pop(str(Path(self.profile.path) / slot.plan["out_checkpoint"]),
                                       None)  # fmt: skip
            if sent is not None and not outcome.error:
                self._overheads.append(time.monotonic() - sent - float(outcome.train_seconds))
            self.ledger.record(slot, outcome)
            self._session += 1
            self._durations.append(time.monotonic() - started)
            started = time.monotonic()
            self._integrate_ready(slots)
            self.reporter.on_generation(self._progress(self._candidate(slots)))

    def _integrate_ready(self, slots: list[Slot]) -> None:
        """Integrate the done slots that follow the integrated prefix."""
        for slot in slots[self.state.integrated:]:
            if slot.state != "done":
                break
            self.ledger.delete(self.ledger.integrate(slot))

    @staticmethod
    def _candidate(slots: list[Slot]) -> str:
        """Return a short label of the next slot waiting for its evaluation."""
        for s in slots:
            if s.state == "planned":
                return f"{s.plan['family']}:{s.plan['operator'][:30]} ({s.plan['params']:,} p)"
        return ""

    def summary(self, seconds: float, stopped: str) -> Summary:
        """Return the summary of this call."""
        metric = self.strategies.phases.phases[-1].quality.label()
        rows = board(self.ledger.members, metric)
        for row in rows:  # absolute paths for callers (benchmarks, the chat)
            row["checkpoint_path"] = str(Path(self.profile.path) / row["checkpoint"])
        champ = next((r for r in rows if r["status"] == "champion"), None)
        done = self.state.generation - 1  # the last generation completed (-1: seeding unfinished)
        return Summary(self.run_id, list(self.tasks), done, self._session,
                       round(seconds, 3), stopped, metric, champ, rows)  # fmt: skip


def run(
    profile: Profile | str,
    tasks: Sequence[str] | None = None,
    seconds: float | None = None,
    generations: int | None = None,
    workers: int = 1,
    seed: int | None = None,
    reporters: Sequence[Reporter] = (),
    settings: dict[str, Any] | None = None,
    evaluator: Evaluator | None = None,
    new: bool = False,
    polish: float | None = None,
) -> Summary:
    """Evolve a profile's population for `seconds` or `generations`; return the summary.

    `settings` overrides the profile's evolution settings for a new run (a resumed run keeps
    its own); `seed` seeds a new run. Opens (and closes) the profile when given by name.
    """
    check_budget(seconds, generations)
    own = isinstance(profile, str)
    prof = Profile.open(profile) if isinstance(profile, str) else profile
    try:
        overrides = dict(settings or {})
        if seed is not None:
            overrides["seed"] = seed
        chosen = Settings.from_config(prof.config, **overrides)
        engine = Engine(prof, tasks, chosen, evaluator, reporters, workers, new=new)
        return engine.run(seconds=seconds, generations=generations, polish=polish)
    finally:
        if own:
            prof.close()
