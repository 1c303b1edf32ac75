"""`insitu ask` and `insitu rate`: streamed reply and id, rating saved and learned from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.chat.cli import ask, rate
from harness.profile import Profile


def test_ask_then_rate_with_tag_and_correction() -> None:
    """ask prints the reply and its id; rate saves everything and prints what it learned."""
    Profile.create("c", "chat").close()
    runner = CliRunner()
    out = runner.invoke(ask, ["-p", "c", "--temperature", "0", "--max-tokens", "10", "hello"])
    assert out.exit_code == 0, out.output
    mid = out.stderr.split("message id: ")[1].strip()
    with Profile.open("c") as prof:
        row = prof.store.query("SELECT role, text FROM messages WHERE id=?", [mid])[0]
    assert row["role"] == "assistant" and out.stdout == row["text"] + "\n"
    res = runner.invoke(rate, ["-p", "c", mid, "down", "--tag", "rude", "--correct", "Hi!"])
    assert res.exit_code == 0, res.output
    assert f"saved down on {mid}" in res.stdout and "saved tag 'rude'" in res.stdout
    assert "learned from 👎 in" in res.stdout and "learned from correction in" in res.stdout
    with Profile.open("c") as prof:
        assert prof.store.query("SELECT value FROM ratings WHERE message_id=?", [mid])[0][
            "value"] == -1
        assert prof.store.count("examples") == 1
    again = runner.invoke(ask, ["-p", "c", "--temperature", "0", "hello"])
    assert again.stdout == "Hi!\n"  # the correction was rehearsed until reproduced


def test_ask_json_names_the_stored_reply() -> None:
    """ask --json prints one object whose reply and ids are the stored messages'."""
    import json

    Profile.create("c", "chat").close()
    out = CliRunner().invoke(ask, ["-p", "c", "--temperature", "0", "--max-tokens", "8",
                                   "--json", "hello"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)
    assert set(got) == {"reply", "message_id", "prompt_id", "conversation_id", "model", "note"}
    with Profile.open("c") as prof:
        rows = {r["id"]: r for r in prof.store.query(
            "SELECT id, role, text, conversation_id FROM messages")}
    assert rows[got["message_id"]]["text"] == got["reply"]
    assert rows[got["message_id"]]["role"] == "assistant"
    assert rows[got["prompt_id"]]["text"] == "hello"
    assert rows[got["prompt_id"]]["conversation_id"] == got["conversation_id"]
    assert got["model"] and "message id:" not in out.stderr


def test_cli_errors_are_clear() -> None:
    """A missing profile, an empty prompt, a text file attached or an unknown message exit 1
    with a hint."""
    Profile.create("c", "chat").close()
    env = os.environ.copy()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                              text=True, env=env, timeout=300)

    res = run("ask", "-p", "nope", "hi")
    assert res.returncode == 1 and "no profile 'nope'" in res.stderr
    assert "insitu profile create nope" in res.stderr
    res = run("ask", "-p", "c", "  ")
    assert res.returncode == 1 and "the message is empty" in res.stderr
    (tmp := Path(os.environ["INSITU_HOME"]) / "notes.md").write_text("# notes\n")
    res = run("ask", "-p", "c", "--attach", str(tmp))
    assert res.returncode == 1 and "notes.md is text, not an image or an audio clip" in res.stderr
    assert f"insitu ask - < {tmp}" in res.stderr
    res = run("rate", "-p", "c", "NOSUCHID", "up")
    assert res.returncode == 1 and "no message 'NOSUCHID'" in res.stderr
    garbage = subprocess.run([sys.executable, "-m", "harness.cli", "ask", "-p", "c",
                              "--max-tokens", "4", "-"], input=bytes(range(256)) * 8,
                             capture_output=True, env=env, timeout=300)
    assert garbage.returncode == 0 and b"message id: " in garbage.stderr
