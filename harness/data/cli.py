"""`insitu data`: add files to a task and see what a profile holds."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from harness.cliutil import counted, json_option, open_profile, profile_option, table
from harness.data.importer import FileReport
from harness.data.ingest import add_paths
from harness.data.remove import origins, remove_examples
from harness.errors import ConfigError, DataError
from harness.store.examples import split_counts


@click.group()
def data() -> None:
    """Add training data to a profile's tasks, see where it came from, take it out again."""


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
        click.echo(f"profile '{profile}' now holds {_totals(counts) or 'no examples'}")
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


@data.command("sources")
@profile_option
@click.option("--task", "task_name", help="Only this task's examples.")
@json_option
def data_sources(profile: str, task_name: str | None, as_json: bool) -> None:
    """Show where each task's examples came from: the files and folders added, or the source
    (chat, teacher, ...) of examples that came from no file."""
    with open_profile(profile) as prof:
        if task_name:
            prof.config.task(task_name)  # an unknown task is an error that lists the tasks
        rows = origins(prof.store, task_name)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"profile '{profile}' holds no examples; add some with `insitu data add`")
        return
    click.echo(table([[r["task"], r["origin"], str(r["train"]), str(r["heldout"]),
                       time.strftime("%Y-%m-%d %H:%M", time.localtime(r["last"]))]
                      for r in rows], ["task", "from", "train", "held out", "last added"]))


@data.command("remove")
@profile_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--source", help="Remove the examples of this source (chat, teacher, ...) instead "
              "of, or as well as, files.")
@click.option("--task", "task_name", help="Only from this task (default: every task).")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing.")
@json_option
def data_remove(profile: str, paths: tuple[Path, ...], source: str | None, task_name: str | None,
                dry_run: bool, yes: bool, as_json: bool) -> None:  # fmt: skip
    """Remove the examples added from PATHS (a folder covers everything added from inside it)
    or with --source; attachments nothing else uses are deleted with them."""
    with open_profile(profile) as prof:
        if task_name:
            prof.config.task(task_name)
        found = remove_examples(prof, list(paths), task_name, source, dry_run=True)
        if not dry_run and not yes:
            if not sys.stdin.isatty():
                raise ConfigError(f"removing {counted(found.total, 'example')} needs a yes",
                                  "pass --yes, or --dry-run to see what would be removed")
            _show_removal(found)
            click.confirm(f"remove {counted(found.total, 'example')} from profile "
                          f"'{profile}'?", abort=True)
        result = found if dry_run else remove_examples(prof, list(paths), task_name, source)
        counts = split_counts(prof.store)
    if as_json:
        click.echo(json.dumps(result.to_dict() | {"totals": counts}, indent=2))
        return
    _show_removal(result)
    if dry_run:
        click.echo(f"would remove {counted(result.total, 'example')} (dry run: nothing removed)")
        return
    files = (f", and {counted(result.attachments, 'attachment file')} nothing else used"
             if result.attachments else "")
    click.echo(f"removed {counted(result.removed, 'example')}{files}")
    totals = _totals(counts)
    click.echo(f"profile '{profile}' now holds {totals or 'no examples'}" +
               ("; the next `insitu evolve` trains on what is left" if totals else ""))


def _totals(counts: dict[str, dict[str, int]]) -> str:
    """Return "task: N train, M held out; ..." for split counts (empty when there are none)."""
    return "; ".join(f"{t}: {c.get('train', 0)} train, {c.get('heldout', 0)} held out"
                     for t, c in counts.items())


def _show_removal(removal: Any) -> None:
    """Print the matched examples per task and origin."""
    rows = [[task, origin, str(splits.get("train", 0)), str(splits.get("heldout", 0))]
            for task, by_origin in removal.matched.items()
            for origin, splits in by_origin.items()]
    click.echo(table(rows, ["task", "from", "train", "held out"]))
