"""The `insitu` command line: built-in commands plus every command registered by a plugin."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from harness import __version__, registry
from harness.cliutil import json_option, table
from harness.errors import InsituError
from harness.paths import check_profile_name
from harness.profile import Profile, delete_profile, list_profiles
from harness.templates import DEFAULT_TEMPLATE, template_names

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


class PluginGroup(click.Group):
    """A click group that also lists the commands registered under `insitu.commands`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(registry.commands.names()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is None and name in registry.commands:
            cmd = registry.commands.get(name)
        return cmd


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="insitu")
def cli() -> None:
    """insitu: talk to your own micro-model, rate it, let it evolve, share it."""


@cli.command()
@json_option
def doctor(as_json: bool) -> None:
    """Check torch, threads, audio, data folder, profiles and teachers; print fixes."""
    from harness.doctor import header, run_checks

    results = run_checks()
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        click.echo(header())
        width = max(len(r.name) for r in results)
        for r in results:
            state = "OK" if r.ok else "MISSING"
            line = f"  {state:<8} {r.name:<{width}}  {r.detail}"
            if not r.ok and r.fix:
                line += f"\n  {'':<8} {'':<{width}}  fix: {r.fix}"
            click.echo(line)
    if any(r.required and not r.ok for r in results):
        sys.exit(1)


@cli.group()
def profile() -> None:
    """Create, list, show and delete profiles."""


@profile.command("create")
@click.argument("name")
@click.option("--from", "template", default=DEFAULT_TEMPLATE, show_default=True,
              help=f"Template name ({', '.join(template_names())}) or a path to a .toml file.")
@click.option("--blank", is_flag=True,
              help="Start from untrained seeds, not from the champion the template ships.")
def profile_create(name: str, template: str, blank: bool) -> None:
    """Create profile NAME from a template (with the template's pre-trained champion, if any)."""
    with Profile.create(name, template, blank=True if blank else None) as prof:
        click.echo(f"created profile '{prof.name}' from template '{prof.template}' at {prof.path}")
        rows = prof.store.query("SELECT id FROM individuals WHERE status = 'champion'")
        if rows:
            click.echo(f"  starts from the template's pre-trained champion {rows[0]['id']}")


@profile.command("list")
@json_option
def profile_list(as_json: bool) -> None:
    """List profiles."""
    names = list_profiles()
    if as_json:
        click.echo(json.dumps(names))
        return
    if not names:
        click.echo("no profiles yet; `insitu profile create NAME` makes one "
                   "(`default` is created on first use)")
        return
    rows = []
    for name in names:
        try:
            with Profile.open(name, create_default=False) as prof:
                info = prof.summary()
            rows.append([name, info["template"], ", ".join(t["name"] for t in info["tasks"]),
                         str(info["counts"]["messages"]), str(info["counts"]["examples"])])
        except InsituError as exc:
            rows.append([name, "?", f"unreadable: {exc.message}", "", ""])
    click.echo(table(rows, ["profile", "template", "tasks", "messages", "examples"]))


@profile.command("show")
@click.argument("name", default="default")
@json_option
def profile_show(name: str, as_json: bool) -> None:
    """Show a profile's template, tasks, counts and settings."""
    with Profile.open(name, create_default=False) as prof:
        info = prof.summary()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"profile   {info['name']}\npath      {info['path']}\n"
               f"template  {info['template']}\nabout     {info['description']}")
    for t in info["tasks"]:
        click.echo(f"task      {t['name']} ({t['kind']}, {t['modality']})")
    counts = ", ".join(f"{k} {v}" for k, v in info["counts"].items())
    click.echo(f"records   {counts}\nsize      {info['size_bytes'] / 1e6:.2f} MB")
    for section in ("model", "evolution", "online", "generation"):
        values = " ".join(f"{k}={v}" for k, v in info["config"][section].items())
        click.echo(f"{section:<9} {values}")


@profile.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def profile_delete(name: str, yes: bool) -> None:
    """Delete profile NAME and everything in it (asks first unless --yes)."""
    check_profile_name(name)
    if name not in list_profiles():
        raise InsituError(f"no profile '{name}'", "see the profiles with `insitu profile list`")
    if not yes:
        if not sys.stdin.isatty():
            raise InsituError(f"refusing to delete '{name}' without confirmation",
                              f"run `insitu profile delete {name} --yes`")
        click.confirm(f"Delete profile '{name}' and all its conversations and models?",
                      abort=True)
    path = delete_profile(name)
    click.echo(f"deleted profile '{name}' ({path})")


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI, printing insitu errors as messages (no traceback) with a non-zero exit."""
    try:
        return cli.main(args=argv, prog_name="insitu", standalone_mode=False)
    except InsituError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"  -> {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted; nothing was changed", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
