"""A run's history for people: the ancestry tree of an individual and the fitness-over-time plot.

The plot is described as plain data (a `insitu.plot` spec) and drawn by whichever plotter the
registry has (`png`, in modalities, draws it with Pillow), so the core never imports a drawing
library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness import registry
from harness.errors import EvolutionError
from harness.store.db import Store

from .fitness import TaskMetric
from .persist import parent_ids
from .settings import Settings, schedule_for
from .summary import lineage_rows

ROLE_LABELS = {"parent": "", "merge_partner": "merge partner", "import": "import"}


def run_metric(run: dict[str, Any]) -> TaskMetric:
    """Return the held-out quality metric of a stored run."""
    data = json.loads(run["settings"] or "{}")
    kinds = data.get("task_kinds") or {t: "text" for t in run["tasks"].split(",")}
    return schedule_for(kinds, Settings.from_dict(data)).phases[-1].quality


def _value(metric: TaskMetric, metrics: dict[str, float]) -> float | None:
    """Return the mean raw value of the held-out metric (bpb or accuracy), or None."""
    found = metric.specs(metrics)
    return sum(v for _, v in found.values()) / len(found) if found else None


def describe(row: dict[str, Any], metric: TaskMetric) -> str:
    """Return a one-line description of an individual for trees and tables."""
    v = _value(metric, row["metrics"])
    label, shown = metric.label(), "-" if v is None else f"{v:.4f}"
    if v is None and row.get("fitness") is not None:  # grown or imported: its stored fitness
        label, shown = "fitness", f"{row['fitness']:.4f}"
    params = int(row["metrics"].get("params", row.get("genome_params") or 0))
    return (f"{row['id']}  {row['status']:<9} {row.get('family', '?'):<11} "
            f"gen {row.get('generation', 0):<3} {params:>9,} params  {label} {shown}")


def find_individual(store: Store, text: str) -> dict[str, Any]:
    """Return the one individual whose id equals, starts or ends with `text`."""
    rows = store.query(
        "SELECT id, run_id FROM individuals WHERE id = ? OR id LIKE ? OR id LIKE ? LIMIT 3",
        [text, text + "%", "%" + text],
    )
    if len(rows) != 1:
        problem = "no individual" if not rows else "several individuals"
        raise EvolutionError(f"{problem} match '{text}'",
                             "copy an id from `insitu leaderboard` (8 or more characters)")
    return rows[0]


def ancestry(
    store: Store, individual_id: str, metric: TaskMetric, max_depth: int = 12
) -> list[str]:
    """Return the lines of an individual's ancestry tree, with the operator at each step.

    1. Print the individual, then each parent link below it: the operator that made the child
       (and the role, for a merge partner), then the parent, recursively.
    2. An ancestor reached twice (through a merge) is printed once and referred to after.
    """
    rows: dict[str, dict[str, Any]] = {}

    def row_of(iid: str) -> dict[str, Any] | None:
        if iid not in rows:
            found = store.query(
                "SELECT i.*, g.family, g.params AS genome_params FROM individuals i "
                "JOIN genomes g ON g.id = i.genome_id WHERE i.id = ?", [iid])  # fmt: skip
            if not found:
                return None
            found[0]["metrics"] = json.loads(found[0]["metrics"] or "{}")
            rows[iid] = found[0]
        return rows[iid]

    first = row_of(individual_id)
    if first is None:
        raise EvolutionError(f"no individual {individual_id}",
                             "see the ids with `insitu leaderboard`")  # fmt: skip
    lines = [describe(first, metric)]
    seen = {individual_id}

    def walk(iid: str, prefix: str, depth: int) -> None:
        links = parent_ids(store, iid)
        for k, link in enumerate(links):
            last = k == len(links) - 1
            branch, cont = ("└─ ", "   ") if last else ("├─ ", "│  ")
            role = ROLE_LABELS.get(link["role"], link["role"])
            op = link["operator"] or "?"
            label = f"{op} ({role})" if role else op
            parent = row_of(link["parent_id"]) if link["parent_id"] else None
            if parent is None:
                lines.append(f"{prefix}{branch}{label} <- {link['parent_id']} (not in the store)")
                continue
            again = link["parent_id"] in seen
            tail = "  (see above)" if again else ""
            lines.append(f"{prefix}{branch}{label} <- {describe(parent, metric)}{tail}")
            if not again and depth < max_depth:
                seen.add(link["parent_id"])
                walk(link["parent_id"], prefix + cont, depth + 1)

    walk(individual_id, "", 1)
    return lines


def plot_spec(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    """Return the fitness-over-time plot of a run as a plain `insitu.plot` spec.

    Every evaluated individual is a point (x: evaluation number, y: held-out metric) marked by
    how it was made: seed, mutation, merge, refused merge; the best so far is a line; the
    current champion is ringed.
    """
    metric = run_metric(run)
    specs = list(metric.by_kind.get(next(iter(metric.tasks.values()), "text"), ()))
    higher = specs[0].higher_is_better if specs else True
    points, best_line = [], []
    best: float | None = None
    for x, row in enumerate(lineage_rows(store, run["id"]), 1):
        y = _value(metric, row["metrics"])
        if y is None:
            continue
        op = row["operator"] or ""
        kind = ("seed" if op == "seed" else "merge_refused" if row["status"] == "refused"
                else "merge" if op == "crossover" else "mutation")  # fmt: skip
        points.append({"x": x, "y": y, "kind": kind, "champion": row["status"] == "champion",
                       "label": op})
        if row["status"] != "refused" and (best is None or (y > best if higher else y < best)):
            best = y
        if best is not None:
            best_line.append([x, best])
    return {
        "format": "insitu.plot", "version": 1,
        "title": f"evolution of {run['tasks']} (run {run['id'][-6:]})",
        "x_label": "evaluation", "y_label": metric.label() + (" (higher is better)" if higher
                                                            else " (lower is better)"),
        "points": points, "lines": [{"name": "best so far", "points": best_line}],
        "kinds": {"seed": "seed", "mutation": "mutation", "merge": "merge",
                  "merge_refused": "refused merge"},
    }  # fmt: skip


def write_plot(spec: dict[str, Any], path: str | Path, kind: str = "png") -> Path:
    """Draw a plot spec with the registered plotter for `kind` (e.g. png) and return the path."""
    plotter = registry.plotters.get(kind)
    out = plotter(Path(path), spec)
    return Path(out) if out is not None else Path(path)
