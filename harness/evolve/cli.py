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
@json_option
def evolve(profile: str, tasks: tuple[str, ...], minutes: float | None,
           generations: int | None, workers: int | None, seed: int | None, new: bool,
           plot: Path | None, events: Path | None, as_json: bool) -> None:  # fmt: skip
    """Evolve the profile's micro-graphs on its data; Ctrl-C stops, and the next run resumes."""
    from harness.evolve.engine import run
    from harness.evolve.reporters import ConsoleReporter, JsonlReporter, Reporter

    if minutes is not None and generations is not None:
        raise ConfigError("--minutes and --generations both given", "pass only one of them")
    if minutes is None and generations is None:
        minutes = DEFAULT_MINUTES
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
                seed=seed, reporters=reporters, new=new,
            )  # fmt: skip
            if plot is not None:
                _plot(prof, summary.run_id, plot)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, default=str))
    else:
        state = {"goal": "done", "deadline": "time is up",
                 "interrupted": "interrupted; `insitu evolve` resumes where it stopped"}
        click.echo(f"run {summary.run_id}: generation {summary.generation}, "
                   f"{summary.evaluations} evaluations in {summary.seconds:.0f} s "
                   f"({state.get(summary.stopped, summary.stopped)})")  # fmt: skip
        if summary.leaderboard:
            click.echo(leaderboard_table(summary.leaderboard))
        if plot is not None:
            click.echo(f"plot written to {plot}")
    if summary.stopped == "interrupted":
        sys.exit(130)


def _plot(prof: Any, run_id: str, path: Path) -> None:
    """Write the fitness-over-time plot of a run."""
    from harness.evolve.history import plot_spec, write_plot

    rows = prof.store.query("SELECT * FROM evolution_runs WHERE id = ?", [run_id])
    write_plot(plot_spec(prof.store, rows[0]), path, kind=path.suffix.lstrip(".") or "png")


@click.command()
@profile_option
@json_option
def leaderboard(profile: str, as_json: bool) -> None:
    """Show the population of the latest run, best first (* marks the Pareto front)."""
    from harness.evolve.summary import stored_board

    with open_profile(profile) as prof:
        run, rows = stored_board(prof.store)
    if run is None:
        raise EvolutionError(f"profile '{profile}' has no evolution run yet",
                             f"start one with `insitu evolve -p {profile}`")  # fmt: skip
    if as_json:
        click.echo(json.dumps({"run_id": run["id"], "tasks": run["tasks"].split(","),
                               "leaderboard": rows}, indent=2, default=str))  # fmt: skip
        return
    click.echo(f"run {run['id']} on {run['tasks']}")
    click.echo(leaderboard_table(rows) if rows else "no individual has joined the population yet")


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
        if run is None:
            raise EvolutionError(f"profile '{profile}' has no evolution run yet",
                                 f"start one with `insitu evolve -p {profile}`")  # fmt: skip
        if individual is None:
            state = json.loads(run["state"])
            individual = state.get("champion")
            if not individual:
                raise EvolutionError("the run has no champion yet",
                                     "let `insitu evolve` run longer, or pass an id")  # fmt: skip
        row = find_individual(prof.store, individual)
        if row.get("run_id") and row["run_id"] != run["id"]:
            found = prof.store.query("SELECT * FROM evolution_runs WHERE id = ?", [row["run_id"]])
            run = found[0] if found else run
        for line in ancestry(prof.store, row["id"], run_metric(run), max_depth=depth):
            click.echo(line)
