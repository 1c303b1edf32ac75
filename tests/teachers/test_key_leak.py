"""Keys set during the test never reach a profile's files, the logs or any output."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import stat
import zipfile

from click.testing import CliRunner

from harness.cli import cli
from harness.genome import canonical_json, content_hash
from harness.graph.checkpoint import load
from harness.paths import keys_file, profiles_dir
from harness.store.population import add_individual, put_genome

from .helpers import install_champion

LOGGERS = ("", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai", "openai._base_client",
           "httpx", "httpcore", "insitu.serve")


def test_keys_never_leak(champion_ckpt, student, caplog, capfd, tmp_path):
    """Keys never reach profile files, logs, output or an exported bundle."""
    from harness.profile import Profile
    from harness.serve.auth import api_key_for
    from harness.serve.server import make_server, serve_in_thread

    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    good = "sk-leak-" + secrets.token_hex(16)
    wrong = "sk-wrong-" + secrets.token_hex(16)
    runner = CliRunner()
    outputs: list[str] = []

    def run(*args: str, input: str | None = None) -> str:
        res = runner.invoke(cli, list(args), input=input)
        text = res.output + (str(res.exception) if res.exception else "")
        outputs.append(text)
        return text

    # keys set from stdin (as `insitu keys set NAME` reads a piped or hidden value)
    assert "stored key LEAK_KEY" in run("keys", "set", "LEAK_KEY", "--stdin", input=good + "\n")
    run("keys", "set", "WRONG_KEY", input=wrong + "\n")
    path = keys_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"LEAK_KEY": good, "WRONG_KEY": wrong}
    assert "LEAK_KEY" in run("keys", "list")

    # a served profile that requires the key, taught from through both clients
    install_champion("mentor", champion_ckpt)
    mentor = Profile.open("mentor")
    server = make_server(mentor, "127.0.0.1", 0, api_key=api_key_for("127.0.0.1", "LEAK_KEY"))
    serve_in_thread(server)
    try:
        run("teacher", "add", "a", "-p", "student", "--kind", "openai", "--model", "mentor",
            "--base-url", server.url, "--key-name", "LEAK_KEY")
        run("teacher", "add", "b", "-p", "student", "--kind", "litellm", "--model",
            "openai/mentor", "--base-url", server.url, "--key-name", "LEAK_KEY", "--stream")
        run("teacher", "add", "c", "-p", "student", "--kind", "openai", "--model", "mentor",
            "--base-url", server.url, "--key-name", "WRONG_KEY")
        for t in ("a", "b"):
            assert "answered in" in run("teacher", "test", t, "-p", "student")
            assert "pairs: 2 accepted" in run("teach", "-p", "student", "--teacher", t,
                                              "--n", "2")
        refused = run("teacher", "test", "c", "-p", "student")
        assert "the key in WRONG_KEY was refused" in refused
        assert "insitu keys set WRONG_KEY" in run("teach", "-p", "student", "--teacher", "c")
        run("teacher", "list", "-p", "student", "--json")
    finally:
        server.shutdown()
        server.server_close()
        mentor.close()
    student.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    # an exported bundle (with its data) holds the teacher configs but no key
    shutil.copy(champion_ckpt, student.checkpoints_dir / "champion.safetensors")
    graph = load(champion_ckpt)
    gid = put_genome(student.store, content_hash(graph.genome), canonical_json(graph.genome),
                     graph.family, graph.num_parameters())
    add_individual(student.store, gid, checkpoint="champion.safetensors", status="champion")
    bundle = tmp_path / "student.insitu"
    assert "keys: never included" in run("export", "-p", "student", str(bundle), "--include-data")
    assert bundle.is_file()
    with zipfile.ZipFile(bundle) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    assert any(b"LEAK_KEY" in data for data in members.values())  # the key's name is kept

    captured = capfd.readouterr()
    texts = {"cli output": "\n".join(outputs), "logs": caplog.text,
             "stdout/stderr": captured.out + captured.err}
    assert "DEBUG" in caplog.text or caplog.records  # the logs were really captured
    for secret in (good, wrong):
        needles = [secret, secret[-16:], secret[8:24]]
        for where, text in texts.items():
            for needle in needles:
                assert needle not in text, f"a key leaked into {where}"
        for f in profiles_dir().rglob("*"):
            if f.is_file():
                data = f.read_bytes()
                assert secret.encode() not in data, f"a key leaked into {f}"
                assert secret[-16:].encode() not in data, f"part of a key leaked into {f}"
        for name, data in [("the bundle file", bundle.read_bytes()), *members.items()]:
            assert secret.encode() not in data and secret[-16:].encode() not in data, (
                f"a key leaked into {name} of the exported bundle")
    # the keys file lives outside every profile folder
    assert profiles_dir() not in path.parents
    assert not [f for f in profiles_dir().rglob("*") if f.name == path.name]
    assert os.environ.get("LEAK_KEY") is None
