"""Seed from a friend: grow an imported graph into a new task while its gate sets hold.

The imported champion's weights are frozen (every stem, node and head it had is marked
`"frozen": true` in the genome, and its parameters are excluded from training). Candidates
grow around that base: a new head on the base output, a new residual branch read only by the
new head (from the base output, or straight from the stem), and zero-impact LoRA adapters on
the base. Each is trained on the new task with the same budget, then scored by the evolution
fitness (`TaskMetric.score`), which subtracts GATE_WEIGHT times the drop of the old tasks' gate
sets, so a candidate that forgets the old skill loses.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from harness import registry
from harness.config import TaskConfig, parse_config
from harness.errors import InsituError
from harness.evolve.fitness import GATE_DROP, MetricSpec, TaskMetric, gate_drop
from harness.genome import INPUT, Genome, add_node, canonical_json, content_hash
from harness.ids import new_id
from harness.profile import Profile
from harness.store.population import Parent, add_individual, get_individual, put_genome
from harness.store.records import add_event, set_setting
from harness.types import Example

from .format import BundleError
from .gate import gate_metrics, gate_score, loads_examples
from .install import BUNDLE_DIR

Progress = Callable[[float, str], None]
#: Metrics that rank the new task per kind (the first measured one counts).
QUALITY = TaskMetric(by_kind={"label": (MetricSpec("accuracy"),),
                              "text": (MetricSpec("bpb", higher_is_better=False),)},
                     tasks={})  # fmt: skip
CANDIDATES = ("head", "branch", "stem-branch", "adapters")
ADAPTER_RANK = 4


@dataclasses.dataclass
class GrowResult:
    """The outcome of growing into a task: the new champion and every candidate's numbers."""

    individual: str
    candidate: str
    task: str
    metrics: dict[str, float]
    gate_before: dict[str, dict[str, float]]
    gate_after: dict[str, dict[str, float]]
    candidates: list[dict[str, Any]]


def imported_base(profile: Profile) -> tuple[dict[str, Any], Path]:
    """Return the imported champion's row and checkpoint path, or raise if nothing was imported."""
    manifest = profile.path / BUNDLE_DIR / "manifest.json"
    hint = "import a friend's bundle first: `insitu import BUNDLE --as NAME`"
    if not manifest.is_file():
        raise BundleError(f"profile '{profile.name}' was not imported from a bundle", hint)
    champion = json.loads(manifest.read_text()).get("champion", {}).get("individual", "")
    row = get_individual(profile.store, str(champion)) if champion else None
    path = profile.checkpoint_file(row.get("checkpoint")) if row else None
    if row is None or path is None:
        raise BundleError(f"the imported champion {champion} of '{profile.name}' is missing", hint)
    return row, path


def load_gates(profile: Profile, genome: Genome) -> dict[str, list[Example]]:
    """Return the imported gate sets of the tasks the base graph has a head for."""
    out = {}
    for task in profile.config.tasks:
        path = profile.path / BUNDLE_DIR / "gates" / f"{task.name}.jsonl"
        if path.is_file() and task.name in genome.get("heads", {}):
            out[task.name] = loads_examples(path.read_bytes(), str(path))
    return out


def add_task(profile: Profile, task: TaskConfig) -> Profile:
    """Add a task to a profile's config and tasks table (no-op if it exists); return the profile."""
    if task.name in [t.name for t in profile.config.tasks]:
        return profile
    data = profile.config.to_dict()
    data["tasks"].append(dataclasses.asdict(task))
    config = parse_config(data, f"profile '{profile.name}' with task '{task.name}'")
    with profile.store.write() as db:
        set_setting(profile.store, "config", config.to_dict())
        db.table("tasks").insert({"name": task.name, "kind": task.kind,
                                  "config": json.dumps(task.__dict__),
                                  "created_at": time.time()})  # fmt: skip
    profile.config = config
    return profile


def mark_frozen(genome: Genome) -> Genome:
    """Return a copy with every stem, node and head marked frozen (the imported base)."""
    g = copy.deepcopy(genome)
    for part in [*g["nodes"], *g["stems"].values(), *g["heads"].values()]:
        part["frozen"] = True
    return g


def candidates(base: Genome, task: str, head: dict[str, Any],
               stems: dict[str, dict[str, Any]]) -> list[tuple[str, Genome]]:  # fmt: skip
    """Return (name, genome) of the growth candidates around the frozen base."""
    from harness.graph.seeds import norm_kind

    g0 = mark_frozen(base)
    for modality, stem in stems.items():
        g0["stems"].setdefault(modality, copy.deepcopy(stem))
    g0["heads"][task] = copy.deepcopy(head)
    out = [("head", g0)]
    width = int(g0["width"])
    for name, source in (("branch", int(g0["output"])), ("stem-branch", INPUT)):
        g = copy.deepcopy(g0)
        args = registry.units.get("mlp").default_args(width)
        node = add_node(g, "mlp", [source], args, residual=True, scale=1.0,
                        prenorm=norm_kind(), set_output=False)  # fmt: skip
        g["heads"][task]["input"] = node
        out.append((name, g))
    out.append(("adapters", copy.deepcopy(g0)))
    return out


def _build(name: str, genome: Genome, base_state: dict[str, torch.Tensor],
           seed: int) -> tuple[Any, list[str]]:  # fmt: skip
    """Build a candidate graph with the base weights copied in; return it and the frozen names."""
    from harness.graph.build import Graph

    gen = torch.Generator().manual_seed(seed)
    graph = Graph(genome, device="cpu", generator=gen)
    own = graph.state_dict()
    with torch.no_grad():
        for key, value in base_state.items():
            if key in own and own[key].shape == value.shape:
                own[key].copy_(value)
    frozen = [k for k in base_state if k in own]
    if name == "adapters":
        graph.add_adapters(ADAPTER_RANK, gen)
    return graph, frozen


def grow(profile: Profile, task: str, steps: int = 200, seconds: float = 0.0, seed: int = 0,
         eval_budget: int | None = 2048, progress: Progress | None = None,
         only: tuple[str, ...] = CANDIDATES) -> GrowResult:  # fmt: skip
    """Grow the imported champion into `task`; store the best candidate as the new champion.

    1. Load the imported base and measure its gate sets (the old skills) once.
    2. Plan the new task's head and stems; build each candidate around the frozen base.
    3. Train each candidate on the new task alone (base parameters frozen), with one budget.
    4. Measure the new task (held out) and the gate sets; score with the evolution fitness,
       which subtracts GATE_WEIGHT x the gate drop; keep the best and record it.
    """
    from harness.evolve.seeding import plan_tasks
    from harness.graph import checkpoint
    from harness.tasks import load_task
    from harness.train.trainer import Budget, Trainer

    say = progress or (lambda f, m: None)
    row, base_path = imported_base(profile)
    base = checkpoint.load(base_path, device="cpu")
    if task in base.genome["heads"]:
        raise BundleError(f"the imported graph already has a head for '{task}'",
                          "grow into a task the friend's model has not learned")
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    gates = load_gates(profile, base.genome)
    olds = {t: profile.config.task(t) for t in gates}
    model = profile.config.model
    before = {t: gate_metrics(base, olds[t], ex, profile.attachments_dir, model)
              for t, ex in gates.items()}  # fmt: skip
    before_score = {t: s for t, m in before.items()
                    if (s := gate_score(m, olds[t].kind)) is not None}  # fmt: skip
    plan = plan_tasks(profile.config, profile.store, [task], profile.name)
    new_task = load_task(profile, task)
    kind = profile.config.task(task).kind
    quality = dataclasses.replace(QUALITY, tasks={task: kind})
    tried: list[dict[str, Any]] = []
    best: tuple[float, str, Any, dict[str, float], dict[str, dict[str, float]]] | None = None
    options = [c for c in candidates(base.genome, task, plan.heads[task], new_task.stems())
               if c[0] in only]  # fmt: skip
    for k, (name, genome) in enumerate(options):
        say(0.1 + 0.8 * k / len(options), f"training candidate '{name}'")
        graph, frozen = _build(name, genome, base_state, seed)
        trainer = Trainer(graph, [new_task], generator=torch.Generator().manual_seed(seed),
                          rng=random.Random(seed), freeze=frozen)  # fmt: skip
        trainer.run(Budget(steps, seconds))
        metrics = trainer.evaluate(split="heldout", budget=eval_budget)
        after = {t: gate_metrics(graph, olds[t], ex, profile.attachments_dir, model)
                 for t, ex in gates.items()}  # fmt: skip
        after_score = {t: s for t, m in after.items()
                       if (s := gate_score(m, olds[t].kind)) is not None}  # fmt: skip
        metrics[GATE_DROP] = gate_drop(before_score, after_score)
        fitness = quality.score(metrics)
        if fitness is None:
            raise InsituError(f"candidate '{name}' measured nothing on task '{task}'",
                              f"add held-out examples to '{task}' (insitu data add)")
        tried.append({"candidate": name, "fitness": fitness, "metrics": metrics,
                      "gates": after, "params": graph.num_parameters()})  # fmt: skip
        if best is None or fitness > best[0]:
            best = (fitness, name, graph, metrics, after)
    if best is None:
        raise BundleError("no growth candidate was chosen", f"use one of {', '.join(CANDIDATES)}")
    say(0.95, "recording the new champion")
    fitness, name, graph, metrics, after = best
    iid = _record(profile, row, graph, name, task, fitness, metrics, after)
    say(1.0, "done")
    return GrowResult(iid, name, task, metrics, before, after, tried)


def _record(profile: Profile, base_row: dict[str, Any], graph: Any, name: str, task: str,
            fitness: float, metrics: dict[str, float],
            gates: dict[str, dict[str, float]]) -> str:  # fmt: skip
    """Store the grown graph as the champion (the base stays, alive) with its lineage."""
    from harness.graph import checkpoint

    iid = new_id()
    rel = f"checkpoints/grown/{iid}.safetensors"
    (profile.path / rel).parent.mkdir(parents=True, exist_ok=True)
    checkpoint.save(graph.to("cpu"), profile.path / rel)
    genome = graph.genome
    gid = content_hash(genome)
    flat = {**metrics, **{f"gate/{t}/{k}": v for t, m in gates.items() for k, v in m.items()}}
    with profile.store.write() as db:
        put_genome(profile.store, gid, canonical_json(genome), str(genome.get("family")),
                   graph.num_parameters())  # fmt: skip
        db.execute("UPDATE individuals SET status = 'alive' WHERE status = 'champion'")
        add_individual(
            profile.store, gid, checkpoint=rel, generation=int(base_row["generation"] or 0) + 1,
            metrics=flat, fitness=fitness, status="champion", individual_id=iid,
            parents=[Parent(base_row["id"], "parent", f"grow:{name}")],
            extra={"operator": f"grow:{name}", "phase": "grow"},
        )  # fmt: skip
        add_event(profile.store, "grown", {"task": task, "candidate": name, "base": base_row["id"],
                                           "fitness": fitness}, iid)  # fmt: skip
    return iid
