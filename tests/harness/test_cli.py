"""The `insitu` CLI: help everywhere, profile commands, and clear errors on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness import __version__
from harness.cli import cli, main
from harness.profile import Profile, list_profiles


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, env=os.environ.copy(), timeout=120)


def _all_commands(group: click.Group, ctx: click.Context, prefix: list[str]) -> list[list[str]]:
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        out.append([*prefix, name])
        if isinstance(cmd, click.Group):
            out.extend(_all_commands(cmd, ctx, [*prefix, name]))
    return out


def test_version() -> None:
    """`insitu --version` prints the package version."""
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_every_command_has_help() -> None:
    """Every command and sub-command, plugins included, answers --help."""
    with click.Context(cli) as ctx:
        commands = _all_commands(cli, ctx, [])
    assert ["profile", "create"] in commands and ["doctor"] in commands
    for path in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_profile_lifecycle(insitu_home: Path) -> None:
    """create -> list -> show -> delete --yes works and touches only INSITU_HOME."""
    r = CliRunner()
    assert r.invoke(cli, ["profile", "create", "mine", "--from", "shakespeare"]).exit_code == 0
    listed = r.invoke(cli, ["profile", "list"])
    assert "mine" in listed.output and "shakespeare" in listed.output
    shown = r.invoke(cli, ["profile", "show", "mine"])
    assert shown.exit_code == 0 and "template  shakespeare" in shown.output
    assert (insitu_home / "profiles" / "mine" / "profile.db").exists()
    assert r.invoke(cli, ["profile", "delete", "mine", "--yes"]).exit_code == 0
    assert list_profiles() == []


def test_delete_asks_first() -> None:
    """Without --yes, delete asks; answering no keeps the profile."""
    Profile.create("keep").close()
    result = CliRunner().invoke(cli, ["profile", "delete", "keep"], input="n\n")
    assert result.exit_code != 0
    assert list_profiles() == ["keep"]


def test_default_profile_created_on_first_use() -> None:
    """Opening `default` the first time creates it from the chat template."""
    with Profile.open() as prof:
        assert prof.name == "default" and prof.template == "chat"
        assert [t.name for t in prof.config.tasks] == ["chat"]


@pytest.mark.parametrize("name", ["a/b", "..", "../x", "x/../y", "", ".hidden", "a" * 65])
def test_bad_profile_names(name: str, insitu_home: Path) -> None:
    """Names with '/', '..' or odd characters are refused with a clear message."""
    result = run("profile", "create", name)
    assert result.returncode != 0
    assert "not a valid profile name" in result.stderr and "Traceback" not in result.stderr
    assert not (insitu_home / "profiles").exists() or list_profiles() == []


def test_unknown_template() -> None:
    """A template that does not exist gives an error listing the real ones."""
    result = run("profile", "create", "x", "--from", "nope")
    assert result.returncode != 0
    assert "no template 'nope'" in result.stderr and "chat" in result.stderr
    assert list_profiles() == []


def test_corrupt_database_is_reported_and_untouched(insitu_home: Path) -> None:
    """A damaged profile.db gives a clear error; neither it nor other profiles change."""
    Profile.create("good").close()
    Profile.create("bad").close()
    db = insitu_home / "profiles" / "bad" / "profile.db"
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    db.write_bytes(b"this is not sqlite at all" * 100)
    before = {p: p.read_bytes() for p in (insitu_home / "profiles").rglob("*") if p.is_file()}
    result = run("profile", "show", "bad")
    assert result.returncode != 0
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    after = {p: p.read_bytes() for p in (insitu_home / "profiles").rglob("*") if p.is_file()}
    assert after == before
    assert run("profile", "show", "good").returncode == 0


def test_missing_profile_names_the_fix() -> None:
    """Opening a profile that does not exist says how to create it."""
    result = run("profile", "show", "ghost")
    assert result.returncode != 0 and "insitu profile create ghost" in result.stderr


def test_main_exits_nonzero_on_error(capsys: pytest.CaptureFixture[str]) -> None:
    """main() turns an InsituError into a message and exit code 1."""
    with pytest.raises(SystemExit) as exit_info:
        main(["profile", "show", "nobody"])
    assert exit_info.value.code == 1
    assert "error: no profile 'nobody'" in capsys.readouterr().err
