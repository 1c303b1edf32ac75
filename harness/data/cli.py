"""`insitu data`: add files to a task and see what a profile holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from harness.cliutil import counted, json_option, open_profile, profile_option, table
from harness.data.importer import FileReport
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
    """Add files or folders (text, Markdown, JSONL pairs, chat YAML, image/audio class folders,
    FSDD recordings, MNIST IDX files) to a task."""
    bar = _Progress(enabled=not as_json)
    with open_profile(profile) as prof:
        try:
            reports = add_paths(prof, list(paths), task_name, on_progress=bar.update)
        finally:
            bar.close()
        counts = split_counts(prof.store)
    if as_json:
        click.echo(json.dumps({"files": [r.to_dict() for r in reports], "totals": counts},
                              indent=2))
    else:
        rows = []
        for r in reports:
            state = f"rejected: {r.rejected}" if r.rejected else (
                counted(len(r.problems), "problem") if r.problems else "ok")
            rows.append([r.path, r.format, str(r.added), str(r.duplicates), str(r.heldout),
                         state])
        click.echo(table(rows, ["file", "format", "added", "duplicates", "held out", "status"]))
        for r in reports:
            _per_class(r)
            for problem in r.problems[:20]:
                click.echo(f"  {r.path}: {problem}")
            if len(r.problems) > 20:
                click.echo(f"  {r.path}: ... and {len(r.problems) - 20} more problems")
        totals = "; ".join(f"{t}: {c.get('train', 0)} train, {c.get('heldout', 0)} held out"
                           for t, c in counts.items())
        click.echo(f"profile '{profile}' now holds {totals or 'no examples'}")
    if all(r.rejected for r in reports):
        raise DataError("nothing was added", "see the reasons above")


class _Progress:
    """A progress bar on stderr for importers that read whole folders (shown on terminals)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.path: str | None = None
        self.bar: Any = None
        self.done = 0

    def update(self, path: str, done: int, total: int) -> None:
        """Advance the bar of `path` to `done` of `total` items (a new path starts a new bar)."""
        if not self.enabled or total < 200:
            return
        if path != self.path:
            self.close()
            self.path, self.done = path, 0
            self.bar = click.progressbar(length=total, label=Path(path).name, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        """Finish the current bar."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _per_class(report: FileReport) -> None:
    """Print how many examples each class got from a file (label tasks)."""
    if not report.per_class:
        return
    counts = sorted(report.per_class.items(), key=lambda kv: (len(kv[0]), kv[0]))
    shown = ", ".join(f"{k}: {v}" for k, v in counts[:30])
    more = f", ... ({len(counts) - 30} more classes)" if len(counts) > 30 else ""
    click.echo(f"  {report.path}: added per class: {shown}{more}")


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
