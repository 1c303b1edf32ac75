"""Keys: environment first, then a 0600 keys file written atomically; values never shown."""

from __future__ import annotations

import json
import stat

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import TeacherError
from harness.paths import keys_file
from teachers.keys import (
    check_key_name,
    get_key,
    list_keys,
    redact,
    remove_key,
    require_key,
    set_key,
)


def test_set_get_remove_and_mode(monkeypatch):
    path = set_key("MY_KEY", "  value-1234567890  \n")
    assert path == keys_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert get_key("MY_KEY") == "value-1234567890"
    set_key("OTHER", "v2-abcdefgh")
    assert json.loads(path.read_text()) == {"MY_KEY": "value-1234567890", "OTHER": "v2-abcdefgh"}
    assert [n for n, _ in list_keys()] == ["MY_KEY", "OTHER"]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".keys.json")]  # no temps
    monkeypatch.setenv("MY_KEY", "from-env")
    assert get_key("MY_KEY") == "from-env"  # the environment wins
    assert remove_key("OTHER") and not remove_key("OTHER")
    path.chmod(0o644)
    assert get_key("NOPE") is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened when read


def test_bad_names_and_missing_keys():
    for bad in ("", "has space", "sk-abc123", "1ABC", "a/b"):
        with pytest.raises(TeacherError):
            check_key_name(bad)
    with pytest.raises(TeacherError, match="insitu keys set NOT_SET"):
        require_key("NOT_SET")
    with pytest.raises(TeacherError, match="empty"):
        set_key("EMPTY", "  \n")
    keys_file().parent.mkdir(parents=True, exist_ok=True)
    keys_file().write_text("{broken")
    with pytest.raises(TeacherError, match="not valid JSON"):
        get_key("ANY")


def test_redact_masks_whole_and_partial_keys():
    key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
    text = f"Incorrect API key provided: {key[:8]}*****{key[-12:]}; full {key}"
    out = redact(text, [key])
    assert key not in out and key[-12:] not in out and "****" in out


def test_keys_cli_never_prints_values():
    runner = CliRunner()
    res = runner.invoke(cli, ["keys", "set", "CLI_KEY"], input="secret-value-xyz\n")
    assert res.exit_code == 0 and "secret-value-xyz" not in res.output
    res = runner.invoke(cli, ["keys", "list"])
    assert "CLI_KEY" in res.output and "secret-value-xyz" not in res.output
    assert runner.invoke(cli, ["keys", "remove", "CLI_KEY"]).exit_code == 0
    res = runner.invoke(cli, ["keys", "remove", "CLI_KEY"])
    assert isinstance(res.exception, TeacherError)
