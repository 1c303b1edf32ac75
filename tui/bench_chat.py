"""`insitu bench chat`: first token, tokens/s, rating-to-update latency (with and without the
evolution worker), worker CPU share and peak memory, and key-press-to-screen latency."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from harness.cliutil import json_option, table

SCRATCH = "bench-chat"


@contextlib.contextmanager
def scratch_profile(data_dir: Path | None) -> Iterator[str]:
    """Yield a fresh `chat` profile (with the chit-chat corpus) in a temporary INSITU_HOME."""
    from harness.bench.datasets import find_data_dir
    from harness.data.ingest import add_paths
    from harness.paths import scratch_home
    from harness.profile import Profile

    corpus = find_data_dir(data_dir) / "chatterbot-corpus" / "english"
    with scratch_home("insitu-bench-chat-"):
        with Profile.create(SCRATCH, "chat") as prof:
            add_paths(prof, [corpus], "chat")
        yield SCRATCH


def _mark(value: float, target: float) -> str:
    """Return the value with a '!' when it misses an upper-bound target."""
    return f"{value:.0f}" + ("!" if value > target else "")


def render(report: dict[str, Any]) -> str:
    """Return the plain-text tables of a chat benchmark report."""
    t = report["targets"]
    rows = [[p["phase"], str(p["replies"]),
             _mark(p["first_token_ms_p50"], t["first_token_ms"]),
             _mark(p["first_token_ms_p95"], t["first_token_ms"]),
             f"{p['tokens_per_s_median']:.0f}", str(p["ratings"]),
             f"{p['rating_to_update_ms_p50']:.0f}",
             _mark(p["rating_to_update_ms_p95"], t["rating_to_update_ms_p95"])]
            for p in report["phases"]]  # fmt: skip
    out = [f"chat on profile {report['profile']}: {report['model']}, "
           f"{report['max_tokens']} tokens per reply",
           table(rows, ["phase", "replies", "1st token p50 ms", "p95 ms", "tok/s",
                        "ratings", "rating->update p50 ms", "p95 ms"])]  # fmt: skip
    w = report.get("worker")
    if w:
        out += ["", table([[f"{w['cpu_cores']:.2f}", str(w["configured_cores"]),
                            _mark(w["peak_rss_mb"], t["worker_peak_mb"]), str(w["processes"]),
                            f"{w['seconds']:.0f}"]],
                          ["worker CPU (cores)", "configured", "peak MB", "processes",
                           "window s"])]  # fmt: skip
    k = report.get("keys")
    if k:
        out += ["", table([[str(k["presses"]), f"{k['p50_ms']:.1f}", _mark(k["p95_ms"], 100.0),
                            f"{k['max_ms']:.1f}"]],
                          ["key presses (app + its worker)", "p50 ms", "p95 ms", "max ms"])]
    out.append("targets: first token < 100 ms, rating->update p95 < 300 ms with the worker, "
               "worker within its cores and < 1536 MB, key p95 < 100 ms ('!' marks a miss)")
    return "\n".join(out)


@click.command("chat")
@click.option("-p", "--profile", default=None,
              help="Profile to measure (default: a fresh `chat` profile with the chit-chat "
                   "corpus in a temporary folder).")
@click.option("--replies", type=int, default=10, show_default=True, help="Replies per phase.")
@click.option("--ratings", type=int, default=10, show_default=True, help="Ratings per phase.")
@click.option("--max-tokens", type=int, default=64, show_default=True,
              help="Tokens per reply.")
@click.option("--no-worker", is_flag=True, help="Skip the phase with the worker running.")
@click.option("--warmup", type=float, default=15.0, show_default=True,
              help="Seconds the worker runs before the loaded phase is measured.")
@click.option("--keys", type=int, default=50, show_default=True,
              help="Key presses timed in the app (0 skips this part).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Datasets folder holding chatterbot-corpus/ (default: ../shared/data).")
@json_option
def chat(profile: str | None, replies: int, ratings: int, max_tokens: int, no_worker: bool,
         warmup: float, keys: int, data_dir: Path | None, as_json: bool) -> None:  # fmt: skip
    """Time to first token, tokens/s, rating-to-update latency, worker load, key latency."""
    from harness.bench.chat import run_chat_bench
    from harness.errors import ConfigError
    from tui.bench import measure_keypress_latency

    if replies < 1 or ratings < 0 or max_tokens < 1 or keys < 0 or warmup < 0:
        raise ConfigError("--replies and --max-tokens must be at least 1; --ratings, --keys "
                          "and --warmup 0 or more", "e.g. insitu bench chat --replies 10")
    with contextlib.ExitStack() as stack:
        name = profile or stack.enter_context(scratch_profile(data_dir))
        report = run_chat_bench(name, replies, ratings, max_tokens, not no_worker, warmup,
                                progress=lambda line: click.echo(f"... {line}", err=True))
        if keys:
            click.echo(f"... {keys} key presses in the app", err=True)
            report["keys"] = measure_keypress_latency(name, keys).to_dict()
    click.echo(json.dumps(report, indent=2) if as_json else render(report))
