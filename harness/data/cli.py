"""`insitu data`: add files to a task and see what a profile holds."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness.cliutil import json_option, open_profile, profile_option, table
from harness.data.ingest import add_paths
from harness.errors import DataError
from harness.store.examples import split_counts


@click.group()
def data() -> None:
    """Add training data to a profile's tasks and inspect it."""


@data.command("add")
@profile_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--task", "task_name", help="Task to add to (default: the profile's first task).")
@json_option
def data_add(profile: str, paths: tuple[Path, ...], task_name: str | None, as_json: bool) -> None:
    """Add files or folders (text, Markdown, JSONL pairs, chat YAML, ...) to a task."""
    with open_profile(profile) as prof:
        reports = add_paths(prof, list(paths), task_name)
        counts = split_counts(prof.store)
    if as_json:
        click.echo(json.dumps({"files": [r.__dict__ for r in reports], "totals": counts},
                              indent=2))
    else:
        rows = []
        for r in reports:
            state = f"rejected: {r.rejected}" if r.rejected else (
                f"{len(r.problems)} problem(s)" if r.problems else "ok")
            rows.append([r.path, r.format, str(r.added), str(r.duplicates), str(r.heldout),
                         state])
        click.echo(table(rows, ["file", "format", "added", "duplicates", "held out", "status"]))
        for r in reports:
            for problem in r.problems[:20]:
                click.echo(f"  {r.path}: {problem}")
            if len(r.problems) > 20:
                click.echo(f"  {r.path}: ... and {len(r.problems) - 20} more problems")
        totals = "; ".join(f"{t}: {c.get('train', 0)} train, {c.get('heldout', 0)} held out"
                           for t, c in counts.items())
        click.echo(f"profile '{profile}' now holds {totals or 'no examples'}")
    if all(r.rejected for r in reports):
        raise DataError("nothing was added", "see the reasons above")


@data.command("stats")
@profile_option
@json_option
def data_stats(profile: str, as_json: bool) -> None:
    """Show how many examples each task has, per split."""
    with open_profile(profile) as prof:
        counts = split_counts(prof.store)
        tasks = [t.name for t in prof.config.tasks]
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    rows = [[t, str(counts.get(t, {}).get("train", 0)), str(counts.get(t, {}).get("heldout", 0))]
            for t in tasks]
    click.echo(table(rows, ["task", "train", "held out"]))
