"""Planning a generation: seed individuals, or children bred by mutation or crossover.

Planning is the only step that draws from the run's RNG. It writes each child's inherited
weights to an `init` checkpoint and returns slot plans: plain JSON that holds everything the
evaluation needs, so that a planned generation can be evaluated (and re-evaluated after a kill)
without drawing again.
"""

from __future__ import annotations

import copy
import math
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from harness.config import ModelConfig
from harness.genome import Genome, content_hash
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.graph.seeds import count_parameters
from harness.store.population import Parent

from .crossover import crossover
from .genes import align, renumber
from .incumbent import Incumbent, incumbent_plan
from .member import Member
from .mutations import MUTATIONS, mutate, operator_names
from .persist import RunState
from .seeding import TaskPlan, seed_genomes
from .settings import Settings, Strategies

Emit = Callable[[str, dict[str, Any]], None]


def checkpoint_rel(run_id: str, generation: int, slot: int, init: bool = False) -> str:
    """Return the checkpoint path of a slot, relative to the profile folder."""
    tail = "-init" if init else ""
    return f"checkpoints/evolve/{run_id}/g{generation:04d}-s{slot:03d}{tail}.safetensors"


class Planner:
    """Breeds the slots of one generation from the population (the run's RNG drives it)."""

    def __init__(
        self, root: Path, run_id: str, settings: Settings, strategies: Strategies, emit: Emit
    ) -> None:
        self.root = Path(root)
        self.run_id = run_id
        self.settings = settings
        self.strategies = strategies
        self.emit = emit
        self._graphs: dict[str, Graph] = {}

    # ------------------------------------------------------------------------------ seeds
    def seeds(
        self, tasks: TaskPlan, model: ModelConfig, rng: random.Random, state: RunState,
        incumbent: Incumbent | None = None,
    ) -> list[dict[str, Any]]:
        """Return the plans of the seed individuals (renumbered to unique innovation ids).

        An incumbent champion (shipped or imported) takes the first slot with its own ids and
        weights; the fresh seeds are numbered after it.
        """
        plans = []
        genomes = seed_genomes(tasks, model, self.settings.population, rng,
                               self.settings.param_bound, self.settings.seed_train)  # fmt: skip
        first = self.strategies.phases.first()
        if incumbent is not None:
            state.innovation = max(state.innovation,
                                   int(incumbent.genome.get("next_innovation", 0)))
            plans.append(incumbent_plan(
                incumbent, self.root, checkpoint_rel(self.run_id, 0, 0, init=True),
                checkpoint_rel(self.run_id, 0, 0), rng.getrandbits(31), first))  # fmt: skip
        for slot, g in enumerate(genomes, start=len(plans)):
            g = renumber(g, state.innovation)
            state.innovation = int(g["next_innovation"])
            plans.append({
                "kind": "seed", "genome": g, "params": count_parameters(g),
                "family": g["family"], "init_checkpoint": None,
                "out_checkpoint": checkpoint_rel(self.run_id, 0, slot),
                "seed": rng.getrandbits(31), "phase": first, "operator": "seed",
                "records": [], "parents": [],
            })  # fmt: skip
        return plans

    # ------------------------------------------------------------------------------ children
    def _graph(self, m: Member) -> Graph:
        """Return a member's trained graph (cached for this planning)."""
        if m.id not in self._graphs:
            graph = checkpoint.load(self.root / m.checkpoint, device="cpu")
            if graph.adapter_parameters():
                graph.fold_adapters()
                graph.remove_adapters()
            self._graphs[m.id] = graph
        return self._graphs[m.id]

    def children(
        self, members: list[Member], rng: random.Random, state: RunState
    ) -> list[dict[str, Any]]:
        """Return the plans of one generation's children (see `child`)."""
        self._graphs = {}
        plans = [self.child(members, rng, state, slot) for slot in range(self.settings.children)]
        self._graphs = {}
        return plans

    def child(
        self, members: list[Member], rng: random.Random, state: RunState, slot: int
    ) -> dict[str, Any]:
        """Breed one child and write its inherited weights.

        1. Pick a parent by tournament.
        2. With the crossover rate, and when a relative (shared innovation ids, same width)
           exists, pick a partner by tournament among relatives and cross the two (the fitter
           one's structure; compatible units merged).
        3. Otherwise apply 1-3 mutations weighted by the cycle's stage, within the parameter bound.
        4. Save the child's weights as its init checkpoint; return the slot plan.
        """
        s = self.strategies
        gen = torch.Generator().manual_seed(rng.getrandbits(63))
        parent = s.selection.select(members, rng)
        graph = self._graph(parent)
        own = int(graph.genome["next_innovation"])
        graph.genome["next_innovation"] = max(own, state.innovation)  # population-wide ids
        parents = [Parent(parent.id, "parent", "")]
        child: Graph | None = None
        records: list[dict[str, Any]] = []
        relatives = [m for m in members if m.id != parent.id and self._related(parent, m)]
        if relatives and rng.random() < self.settings.crossover_rate:
            partner = s.selection.select(relatives, rng)
            pair = (parent, partner) if parent.rank() >= partner.rank() else (partner, parent)
            fitter, other = pair
            crossed = crossover(self._graph(fitter), self._graph(other), rng, gen,
                                self.settings.merge_threshold)  # fmt: skip
            if crossed.graph.num_parameters() <= self.settings.param_bound:
                child = crossed.graph
                records = [crossed.op.to_dict()]
                parents = [Parent(fitter.id, "parent", "crossover"),
                           Parent(other.id, "merge_partner", "crossover")]  # fmt: skip
                parent = fitter
            else:
                self.emit("candidate_skipped", {"reason": "crossover child over the parameter "
                                                "bound", "bound": self.settings.param_bound})
        if child is None:
            count = rng.randint(self.settings.mutations_min, self.settings.mutations_max)
            weights = s.cycle.weights(state.generation)
            child, ops = mutate(graph, rng, gen, weights, count, self.settings.param_bound,
                                s.mutations)  # fmt: skip
            if not ops:  # nothing applied within the bound: at least change a hyper-parameter
                out = MUTATIONS["change_hyper"].apply(graph, rng, gen)
                assert out is not None
                child, ops = out.graph, [out.op]
            records = [op.to_dict() for op in ops]
            label = operator_names(ops)
            parents = [Parent(parent.id, "parent", label)]
        state.innovation = max(state.innovation, int(child.genome["next_innovation"]))
        child.genome["parents"] = [p.id for p in parents]
        genome: Genome = child.genome
        init = checkpoint_rel(self.run_id, state.generation, slot, init=True)
        checkpoint.save(child, self.root / init)
        return {
            "kind": "child", "genome": genome, "params": child.num_parameters(),
            "family": parent.family, "init_checkpoint": init,
            "out_checkpoint": checkpoint_rel(self.run_id, state.generation, slot),
            "seed": rng.getrandbits(31), "phase": parent.phase,
            "operator": parents[0].operator, "records": records,
            "parents": [p.__dict__ for p in parents], "genome_id": content_hash(genome),
        }  # fmt: skip

    def polish(
        self, members: list[Member], count: int, seconds: float, rng: random.Random,
        state: RunState,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Return plans that train the `count` best members on, unchanged, for `seconds` each."""

        def key(m: Member) -> tuple[int, float]:
            """Rank by phase, then held-out quality."""
            q = m.final_quality
            return (m.phase_rank, -math.inf if q is None else q)

        plans = []
        for slot, m in enumerate(sorted(members, key=key, reverse=True)[:count]):
            init = checkpoint_rel(self.run_id, state.generation, slot, init=True)
            shutil.copyfile(self.root / m.checkpoint, self.root / init)
            genome: Genome = copy.deepcopy(m.genome)
            genome["parents"] = [m.id]
            plans.append({
                "kind": "child", "genome": genome, "params": m.params, "family": m.family,
                "init_checkpoint": init,
                "out_checkpoint": checkpoint_rel(self.run_id, state.generation, slot),
                "seed": rng.getrandbits(31), "phase": m.phase, "operator": "polish",
                "records": [], "parents": [Parent(m.id, "parent", "polish").__dict__],
                "genome_id": content_hash(genome), "budget_seconds": round(seconds, 3),
                "budget_steps": 0,
            })  # fmt: skip
        return plans

    @staticmethod
    def _related(a: Member, b: Member) -> bool:
        """Return whether two members share genes (a common ancestor) and their width."""
        return a.genome["width"] == b.genome["width"] and bool(align(a.genome, b.genome).matching)
