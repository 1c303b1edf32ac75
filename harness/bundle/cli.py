"""`insitu export`, `insitu import` and `insitu bundle inspect`."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from harness.cliutil import json_option, open_profile, profile_option, table

from .export import DEFAULT_LICENSE, export_bundle
from .inspect import inspect_bundle
from .install import import_bundle


class _Bar:
    """A click progress bar driven by (fraction, message) callbacks."""

    def __init__(self, label: str) -> None:
        self.bar = click.progressbar(length=100, label=label, file=sys.stderr)
        self.done = 0

    def __call__(self, fraction: float, message: str) -> None:
        """Advance the bar to `fraction` and show `message`."""
        step = int(fraction * 100) - self.done
        self.bar.label = message
        if step > 0:
            self.bar.update(step)
            self.done += step

    def __enter__(self) -> _Bar:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


@click.command("export")
@profile_option
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--population", is_flag=True, help="Also include the champion's living run mates.")
@click.option("--include-data", is_flag=True,
              help="Also include conversations, messages, ratings, tags, examples and "
                   "attachments (off by default; keys are never included).")
@click.option("--license", "license_", default=DEFAULT_LICENSE, show_default=True,
              help="SPDX license id written into the manifest and model card.")
def export_cmd(profile: str, out: Path, population: bool, include_data: bool,
               license_: str) -> None:  # fmt: skip
    """Export the profile's champion (and gate sets, tasks, card) to OUT.insitu."""
    with open_profile(profile) as prof, _Bar("exporting") as bar:
        result = export_bundle(prof, out, population, include_data, license_, bar)
    inc = result.manifest["includes"]
    click.echo(f"exported profile '{profile}' to {result.path} "
               f"({result.path.stat().st_size / 1e3:.1f} kB)")
    click.echo(f"  champion {result.manifest['champion']['individual']} "
               f"({result.manifest['champion']['family']}), gate sets: "
               f"{', '.join(inc['gates']) or 'none'}, population members: {inc['population']}")
    if include_data:
        counts = ", ".join(f"{v} {k}" for k, v in result.data_counts.items())
        click.echo(f"  data included: {counts} (and their attachment files)")
    else:
        click.echo("  data not included (conversations, examples, attachments): "
                   "add --include-data to share them")
    for task, order in result.memory.items():
        click.echo(f"  note: the champion's '{task}' head holds an order-{order} count memory of "
                   "that task's training text: its n-grams can be read back from the bundle "
                   "(docs/memory.md); share it only if you would share the text")
    click.echo("  keys: never included")


@click.command("import")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path))
@click.option("--as", "name", default=None, help="Name of the new profile (default: the "
              "bundle's profile name).")
def import_cmd(bundle_path: Path, name: str | None) -> None:
    """Verify BUNDLE and import it as a new profile (never overwrites one)."""
    with _Bar("importing") as bar:
        prof = import_bundle(bundle_path, name, bar)
    with prof:
        click.echo(f"imported {bundle_path.name} as profile '{prof.name}' at {prof.path}")
        click.echo(f"  tasks: {', '.join(t.name for t in prof.config.tasks)}; "
                   f"chat with `insitu chat -p {prof.name}`")


@click.group("bundle")
def bundle() -> None:
    """Look inside bundles without importing them."""


def _fmt_metrics(metrics: dict[str, Any]) -> str:
    """Return metrics as 'name=value' text."""
    return " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())
                    if isinstance(v, int | float))  # fmt: skip


@bundle.command("inspect")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path))
@json_option
def inspect_cmd(bundle_path: Path, as_json: bool) -> None:
    """Verify BUNDLE and show what is inside (nothing is imported)."""
    info = inspect_bundle(bundle_path)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    champ, inc = info["champion"] or {}, info["includes"] or {}
    click.echo(f"bundle    {info['path']} (verified: checksums, limits, paths, names)")
    click.echo(f"format    {info['format']} {info['version']}, written by insitu "
               f"{(info['app'] or {}).get('version')} on {info['created']}")
    click.echo(f"profile   {(info['profile'] or {}).get('name')}  license {info['license']}")
    for t in info["tasks"] or []:
        gate = (champ.get("gates") or {}).get(t["name"], {})
        click.echo(f"task      {t['name']} ({t['kind']}, {t['modality']})  gate: "
                   f"{_fmt_metrics(gate) or 'none'}")
    params = champ.get("params")
    click.echo(f"champion  {champ.get('individual')} ({champ.get('family')}, "
               f"{f'{params:,}' if isinstance(params, int) else params} params)")
    click.echo(f"includes  population {inc.get('population', 0)}, data "
               f"{'yes' if inc.get('data') else 'no'}, teachers "
               f"{'yes' if inc.get('teachers') else 'no'}, adapters "
               f"{'yes' if inc.get('adapters') else 'no'}, keys never")
    for step in info["lineage"]:
        click.echo(f"lineage   {step.get('action')} as {step.get('profile')} on {step.get('at')}")
    rows = [[f["path"], str(f["size"]), f["sha256"][:12]] for f in info["files"]]
    click.echo(table(rows, ["file", "bytes", "sha256"]))


@bundle.command("grow")
@profile_option
@click.option("--task", "task_name", required=True, help="The new task to grow into.")
@click.option("--kind", type=click.Choice(["label", "text"]), default="label", show_default=True,
              help="Kind of the new task (when it is not in the profile yet).")
@click.option("--modality", type=click.Choice(["text", "image", "audio"]), default="text",
              show_default=True, help="Modality of the new task (when it is new).")
@click.option("--steps", type=int, default=300, show_default=True,
              help="Training steps per growth candidate.")
@click.option("--seconds", type=float, default=0.0, help="Or a time budget per candidate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option
def grow_cmd(profile: str, task_name: str, kind: str, modality: str, steps: int,
             seconds: float, seed: int, paths: tuple[Path, ...],
             as_json: bool) -> None:  # fmt: skip
    """Grow an imported friend's model into a new task (old weights frozen, gates kept).

    Adds the task (and the data in PATHS) to the profile when given, then trains new heads,
    branches and adapters around the frozen base and keeps the best that holds the old gates.
    """
    from harness.config import TaskConfig
    from harness.data.ingest import add_paths

    from .grow import add_task, grow

    with open_profile(profile) as prof:
        add_task(prof, TaskConfig(name=task_name, kind=kind, modality=modality))
        if paths:
            add_paths(prof, list(paths), task_name)
        with _Bar("growing") as bar:
            result = grow(prof, task_name, steps=steps, seconds=seconds, seed=seed, progress=bar)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), indent=2))
        return
    rows = []
    for c in result.candidates:
        gates = " ".join(f"{t}:{_fmt_metrics(m)}" for t, m in c["gates"].items())
        new = _fmt_metrics({k: v for k, v in c["metrics"].items() if "/" not in k})
        mark = " <- champion" if c["candidate"] == result.candidate else ""
        rows.append([c["candidate"] + mark, f"{c['fitness']:.4f}", new, gates])
    click.echo(table(rows, ["candidate", "fitness", task_name, "old gates"]))
    before = " ".join(f"{t}:{_fmt_metrics(m)}" for t, m in result.gate_before.items())
    click.echo(f"gates before growing: {before or 'none'}")
    click.echo(f"new champion {result.individual} ({result.candidate})")
