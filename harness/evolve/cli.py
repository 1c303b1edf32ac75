"""`insitu evolve`, `insitu leaderboard` and `insitu lineage`: run and inspect the evolution."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from harness.cliutil import json_option, open_profile, profile_option, table
from harness.errors import ConfigError, EvolutionError

#: The session length when neither --minutes nor --generations is given.
DEFAULT_MINUTES = 10.0


def _metric_value(row: dict[str, Any]) -> str:
    """Return the held-out metric of a leaderboard row as text."""
    q = row.get("final_quality")
    if q is None:
        return "-"
    return f"{abs(q):.4f}" if row["metric"].endswith("bpb") else f"{q:.4f}"


def leaderboard_table(rows: list[dict[str, Any]]) -> str:
    """Return the leaderboard as a plain-text table."""
    out = []
    for r in rows:
        out.append([
            str(r["rank"]), r["id"][-10:], r["status"], r["family"], r["phase"],
            _metric_value(r), f"{r['params']:,}", f"{r['flops']:,}", f"{r['latency_us']:.0f}",
            "-" if r["fitness"] is None else f"{r['fitness']:.3f}", "*" if r["front"] else "",
            (r["operator"] or "")[:28],
        ])  # fmt: skip
    metric = rows[0]["metric"] if rows else "quality"
    return table(out, ["#", "id", "status", "family", "phase", metric, "params", "flops/tok",
                       "µs/tok", "fitness", "front", "made by"])  # fmt: skip


def _on_sigterm(signum: int, frame: Any) -> None:
    """Turn SIGTERM into KeyboardInterrupt, so a stopped run ends like Ctrl-C."""
    raise KeyboardInterrupt


@click.command()
@profile_option
@click.option("--task", "tasks", multiple=True, help="Task to evolve (repeatable; default all).")
@click.option("--minutes", type=float, help=f"Wall-time budget (default {DEFAULT_MINUTES:g}).")
@click.option("--generations", type=int,
              help="Generations to breed (an interrupted session's target is finished first).")
@click.option("--workers", type=int, help="Worker processes (default: the profile's setting).")
@click.option("--seed", type=int, help="Seed of a new run (default: the profile's setting).")
@click.option("--new", is_flag=True, help="End the current run and start from fresh seeds.")
@click.option("--plot", "plot", type=click.Path(path_type=Path),
              help="Write a PNG of fitness over time with mutation/merge markers.")
@click.option("--events", type=click.Path(path_type=Path), help="Append events as JSON lines.")
@click.option("--polish", type=float, help="Share of --minutes spent at the end training the "
              "best members on, unchanged, in [0, 1) (default: the profile's evolution.polish).")
@click.option("--fitness", help="Evolve on a fitness callable: module:function, or a name "
              "registered under insitu.fitness (e.g. variety).")
@click.option("--population", type=int,
              help="Population size (default: the profile's [evolution] population).")
@click.option("--time-limit", type=float,
              help="Seconds a fitness callable may take on one graph (default 60).")
@json_option
def evolve(profile: str, tasks: tuple[str, ...], minutes: float | None,
           generations: int | None, workers: int | None, seed: int | None, new: bool,
           plot: Path | None, events: Path | None, polish: float | None, fitness: str | None,
           population: int | None, time_limit: float | None,
           as_json: bool) -> None:  # fmt: skip
    """Evolve the profile's micro-graphs on its data; Ctrl-C stops, and the next run resumes.

    With --fitness, or --task naming a scored task (fitness, judge), graphs evolve by mutation
    on that score instead; the best becomes the profile's champion.
    """
    from harness.evolve.engine import run
    from harness.evolve.reporters import ConsoleReporter, JsonlReporter, Reporter

    if minutes is not None and generations is not None:
        raise ConfigError("--minutes and --generations both given", "pass only one of them")
    if minutes is not None and minutes <= 0 or generations is not None and generations < 0:
        raise ConfigError("evolution needs a budget above 0", "pass --minutes or --generations")
    if population is not None and population < 1 or time_limit is not None and time_limit <= 0:
        raise ConfigError("--population and --time-limit must be above 0", "pass a value > 0")
    if polish is not None and not 0 <= polish < 1:
        raise ConfigError(f"--polish must be a share in [0, 1), got {polish:g}",
                          "pass e.g. --polish 0.5 (the last half of the time), or 0")
    if polish and generations is not None:
        raise ConfigError("--polish shares out a time budget", "use it with --minutes")
    if minutes is None and generations is None:
        minutes = DEFAULT_MINUTES
    from harness.tasks.fitness_run import engine_tasks, scored_task_name

    with open_profile(profile) as prof:
        scored = fitness is not None or scored_task_name(prof, list(tasks)) is not None
        tasks = tuple(tasks) if scored else tuple(engine_tasks(prof, tasks))
    if scored:
        _evolve_scored(profile, fitness, tasks, minutes, generations, population, seed,
                       time_limit, as_json)  # fmt: skip
        return
    if time_limit is not None:
        raise ConfigError("--time-limit applies to fitness callables", "add --fitness SPEC")
    reporters: list[Reporter] = []
    if not as_json:
        live = sys.stdout.isatty()
        reporters.append(ConsoleReporter(lambda s: click.echo(s, nl=False), live=live))
    if events is not None:
        reporters.append(JsonlReporter(events))
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with open_profile(profile) as prof:
            summary = run(
                prof, list(tasks) or None, seconds=None if minutes is None else minutes * 60,
                generations=generations, workers=workers or prof.config.evolution.workers,
                seed=seed, reporters=reporters, new=new, polish=polish,
                settings=None if population is None else {"population": population},
            )  # fmt: skip
            if plot is not None:
                _plot(prof, summary.run_id, plot)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, default=str))
    else:
        click.echo(summary.line())
        if summary.leaderboard:
            click.echo(leaderboard_table(summary.leaderboard))
        if plot is not None:
            click.echo(f"plot written to {plot}")
    if summary.stopped == "interrupted":
        sys.exit(130)


def _evolve_scored(profile: str, fitness: str | None, tasks: tuple[str, ...],
                   minutes: float | None, generations: int | None, population: int | None,
                   seed: int | None, time_limit: float | None, as_json: bool) -> None:  # fmt: skip
    """Evolve graphs on a fitness callable or a scored task; print the table and the champion."""
    import logging

    from harness.tasks.fitness_run import (
        Budget,
        Table,
        build_scored,
        quiet_scoring_log,
        run_scored,
        scored_task_name,
        summary_lines,
    )

    if len(tasks) > 1:
        raise ConfigError("a scored run evolves one task", "pass one --task (or only --fitness)")
    budget = Budget(generations, None if minutes is None else minutes * 60, population, seed,
                    time_limit)  # fmt: skip
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    handler = quiet_scoring_log()
    try:
        with open_profile(profile) as prof:
            name = tasks[0] if tasks else None
            if fitness is None and name is None:
                name = scored_task_name(prof, [])
            task = build_scored(prof, fitness, name, time_limit)  # before any work starts
            if not as_json:
                click.echo(f"evolving on {task.name} ({task.kind}"
                           f"{': ' + fitness if fitness else ''}), profile {prof.name}")
            live_table = None if as_json else Table(click.echo)
            result = run_scored(prof, task, budget, live_table)
    finally:
        logging.getLogger("insitu.scored").removeHandler(handler)
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        for line in summary_lines(result):
            click.echo(line)
    if result["stopped"] == "interrupted":
        sys.exit(130)


def _plot(prof: Any, run_id: str, path: Path) -> None:
    """Write the fitness-over-time plot of a run."""
    from harness.evolve.history import plot_spec, write_plot

    rows = prof.store.query("SELECT * FROM evolution_runs WHERE id = ?", [run_id])
    write_plot(plot_spec(prof.store, rows[0]), path, kind=path.suffix.lstrip(".") or "png")


@click.command()
@profile_option
@json_option
@click.option("--plot", "plot", type=click.Path(path_type=Path),
              help="Also write a PNG of the run's fitness over time (as `insitu evolve --plot`).")
def leaderboard(profile: str, as_json: bool, plot: Path | None) -> None:
    """Show the population of the latest run, best first (* marks the Pareto front)."""
    from harness.evolve.summary import stored_board

    with open_profile(profile) as prof:
        run, rows = stored_board(prof.store)
        kept = _kept_individuals(prof.store) if run is None else []
        if plot is not None and run is not None:
            _plot(prof, run["id"], plot)
    if plot is not None and run is None:
        raise EvolutionError(f"profile '{profile}' has no evolution run to plot",
                             f"start one with `insitu evolve -p {profile}`")  # fmt: skip
    if run is None and kept:  # e.g. an imported or grown profile: show what it holds
        if as_json:
            click.echo(json.dumps({"run_id": None, "individuals": kept}, indent=2, default=str))
            return
        click.echo(f"profile '{profile}' has no evolution run yet; its individuals "
                   f"(start a run with `insitu evolve -p {profile}`):")  # fmt: skip
        click.echo(_kept_table(kept))
        return
    if run is None:
        raise EvolutionError(f"profile '{profile}' has no evolution run yet",
                             f"start one with `insitu evolve -p {profile}`")  # fmt: skip
    if as_json:
        click.echo(json.dumps({"run_id": run["id"], "tasks": run["tasks"].split(","),
                               "leaderboard": rows}, indent=2, default=str))  # fmt: skip
        return
    click.echo(f"run {run['id']} on {run['tasks']}")
    click.echo(leaderboard_table(rows) if rows else "no individual has joined the population yet")
    if plot is not None:
        click.echo(f"plot written to {plot}")


@click.command()
@profile_option
@click.argument("individual", required=False)
@click.option("--depth", type=int, default=12, show_default=True, help="Generations to go back.")
def lineage(profile: str, individual: str | None, depth: int) -> None:
    """Show the ancestry tree of INDIVIDUAL (default: the champion), with each step's operator."""
    from harness.evolve.history import ancestry, find_individual, run_metric
    from harness.evolve.persist import latest_run

    with open_profile(profile) as prof:
        run = latest_run(prof.store)
        if run is None and individual is None:  # an imported or grown profile: its champion
            kept = [r for r in _kept_individuals(prof.store) if r["status"] == "champion"]
            individual = kept[0]["id"] if kept else None
        if run is None and individual is None:
            raise EvolutionError(f"profile '{profile}' has no evolution run yet",
                                 f"start one with `insitu evolve -p {profile}`, or pass the "
                                 "id of an individual")  # fmt: skip
        if individual is None and run is not None:
            state = json.loads(run["state"])
            individual = state.get("champion")
            if not individual:
                raise EvolutionError("the run has no champion yet",
                                     "let `insitu evolve` run longer, or pass an id")  # fmt: skip
        row = find_individual(prof.store, str(individual))
        if row.get("run_id") and (run is None or row["run_id"] != run["id"]):
            found = prof.store.query("SELECT * FROM evolution_runs WHERE id = ?", [row["run_id"]])
            run = found[0] if found else None  # None: a scored run or an arena (no run row)
        metric = run_metric(run) if run is not None else _scored_metric()
        for line in ancestry(prof.store, row["id"], metric, max_depth=depth):
            click.echo(line)


def _kept_individuals(store: Any) -> list[dict[str, Any]]:
    """Return the champion and alive individuals of a profile, newest first (any run or none)."""
    rows = store.query(
        "SELECT i.id, i.status, i.generation, i.metrics, g.family, g.params, "
        "(SELECT operator FROM lineage l WHERE l.child_id = i.id LIMIT 1) AS operator "
        "FROM individuals i JOIN genomes g ON g.id = i.genome_id "
        "WHERE i.status IN ('champion', 'alive') ORDER BY i.status = 'champion' DESC, i.id DESC")
    return [{**dict(r), "metrics": json.loads(r["metrics"] or "{}")} for r in rows]


def _kept_table(rows: list[dict[str, Any]]) -> str:
    """Return a text table of kept individuals: id, status, family, parameters, how made."""
    lines = [f"{'id':<28} {'status':<9} {'family':<12} {'params':>8}  {'made by':<16} metrics"]
    for r in rows:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in list(r["metrics"].items())[:4]
                          if isinstance(v, (int, float)))  # fmt: skip
        params = f"{r['params']:,}" if r.get("params") is not None else "-"
        lines.append(f"{r['id']:<28} {r['status']:<9} {r['family'] or '-':<12} {params:>8}  "
                     f"{r['operator'] or 'imported':<16} {shown}")  # fmt: skip
    return "\n".join(lines)


def _scored_metric() -> Any:
    """Return the metric shown for individuals of scored runs: their fitness."""
    from harness.evolve.fitness import MetricSpec, TaskMetric

    return TaskMetric({"scored": (MetricSpec("fitness"),)}, {"fitness": "scored"})
