"""`insitu evolve`, `leaderboard` and `lineage` in subprocesses; a SIGKILL mid-run loses nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.evolve import InlineEvaluator, run

from .helpers import make_profile

MAIN = Path(__file__).parent / "evolve_main.py"


def _insitu(home: Path, *args: str, sleep: float = 0.0, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "INSITU_HOME": str(home), "INSITU_FAKE_EVAL": "1",
           "INSITU_FAKE_EVAL_SLEEP": str(sleep)}
    return subprocess.run([sys.executable, str(MAIN), *args], env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def _history(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT birth, genome_id, operator, status FROM individuals "
                           "ORDER BY birth").fetchall()
    finally:
        con.close()


def _count(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM individuals").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_evolve_prints_a_leaderboard_json_plot_and_lineage(tmp_path, insitu_home):
    """A short run prints its leaderboard; --json, --plot, leaderboard and lineage work."""
    make_profile(tmp_path).close()
    out = _insitu(insitu_home, "evolve", "-p", "evo", "--generations", "2", "--json",
                  "--plot", str(tmp_path / "fit.png"))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["stopped"] == "goal" and summary["champion"]["status"] == "champion"
    assert (tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"
    board = _insitu(insitu_home, "leaderboard", "-p", "evo", "--plot", str(tmp_path / "b.png"))
    assert board.returncode == 0 and "champion" in board.stdout and "heldout_bpb" in board.stdout
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"  # the finished run, drawn again
    tree = _insitu(insitu_home, "lineage", "-p", "evo")
    assert tree.returncode == 0 and tree.stdout.splitlines()[0].startswith(
        summary["champion"]["id"])
    some = summary["leaderboard"][-1]["id"]
    tree = _insitu(insitu_home, "lineage", "-p", "evo", some[-10:])
    assert tree.returncode == 0 and some in tree.stdout


@pytest.mark.slow
def test_bad_cli_input_names_the_next_step(tmp_path, insitu_home):
    """Both budgets at once, no data and no run yet give one-line errors with a hint."""
    make_profile(tmp_path, name="empty", text="").close()
    both = _insitu(insitu_home, "evolve", "-p", "empty", "--minutes", "1", "--generations", "1")
    assert both.returncode == 1 and "only one" in both.stderr
    nodata = _insitu(insitu_home, "evolve", "-p", "empty", "--generations", "1")
    assert nodata.returncode == 1 and "insitu data add -p empty" in nodata.stderr
    zero = _insitu(insitu_home, "evolve", "-p", "empty", "--generations", "0")
    assert zero.returncode == 1 and "budget of 0" in zero.stderr
    board = _insitu(insitu_home, "leaderboard", "-p", "empty")
    assert board.returncode == 1 and "insitu evolve" in board.stderr
    board = _insitu(insitu_home, "leaderboard", "-p", "empty", "--plot", str(tmp_path / "n.png"))
    assert board.returncode == 1 and "no evolution run to plot" in board.stderr
    assert "Traceback" not in board.stderr + nodata.stderr


@pytest.mark.slow
def test_sigkill_mid_generation_resumes_with_nothing_lost(tmp_path, insitu_home):
    """Killed with SIGKILL mid-run, `insitu evolve` (real training) continues the same run."""
    args = ("--generations", "3", "--workers", "2", "--seed", "3", "--json")
    ref = make_profile(tmp_path, name="ref")  # the uninterrupted run, in this process
    run(ref, generations=3, seed=3, evaluator=InlineEvaluator())
    ref.close()
    make_profile(tmp_path, name="cut").close()
    db = insitu_home / "profiles" / "cut" / "profile.db"
    # a killed run cannot remove its temp folder: keep it in this test's folder, not /tmp
    env = {**os.environ, "INSITU_HOME": str(insitu_home), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, str(MAIN), "evolve", "-p", "cut", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _count(db) < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _count(db)
    assert 5 <= done < 10
    env.pop("INSITU_FAKE_EVAL", None)
    again = subprocess.run([sys.executable, str(MAIN), "evolve", "-p", "cut", *args], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["evaluations"] == 10 - done
    assert _history(db) == _history(insitu_home / "profiles" / "ref" / "profile.db")
    con = sqlite3.connect(db)
    slots = con.execute("SELECT individual_id FROM evolution_slots").fetchall()
    con.close()
    assert len(slots) == len(set(slots)) == 10
