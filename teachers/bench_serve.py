"""`insitu bench serve`: requests/s and first-token times of `insitu serve`, and pairs per minute.

The profile's champion is served on a free loopback port for the length of the benchmark; 1 and
8 concurrent streaming clients measure it, then a throwaway profile synthesises pairs from it as
its teacher (the served model is a local teacher like any other).
"""

from __future__ import annotations

import json
from typing import Any

import click

from harness.cliutil import json_option, open_profile, profile_option, table
from harness.errors import ConfigError


def _ms(value: float | None) -> str:
    """Return milliseconds with one decimal, or '-' when there were none."""
    return "-" if value is None else f"{value:.1f}"


def render(report: dict[str, Any]) -> str:
    """Return the benchmark report as the plain-text tables the command prints."""
    rows = [[str(r["clients"]), str(r["requests"]), str(r["errors"]),
             f"{r['requests_per_s']:.2f}", f"{r['chunks_per_s']:.0f}",
             _ms(r["ttft_ms_p50"]), _ms(r["ttft_ms_p95"])] for r in report["runs"]]  # fmt: skip
    out = [
        f"insitu serve on 127.0.0.1, profile {report['profile']} "
        f"(champion {report['individual_id']}), {report['max_tokens']} tokens per request",
        table(rows, ["clients", "requests", "errors", "req/s", "chunks/s", "ttft p50 ms",
                     "ttft p95 ms"]),  # fmt: skip
    ]
    teach = report.get("teach")
    if teach:
        out.append("")
        out.append(table([[str(teach["pairs"]), f"{teach['seconds']:.1f}",
                           f"{teach['pairs_per_minute']:.1f}", str(teach["mode"])]],
                         ["pairs", "seconds", "pairs/min", "mode"]))  # fmt: skip
    return "\n".join(out)


@click.command("serve")
@profile_option
@click.option("--clients", "clients", multiple=True, type=int,
              help="Concurrent streaming clients per run (repeatable; default: 1 and 8).")
@click.option("--requests", "requests", type=int, default=4, show_default=True,
              help="Requests each client sends per run.")
@click.option("--max-tokens", type=int, default=32, show_default=True,
              help="Tokens generated per request.")
@click.option("--pairs", type=int, default=20, show_default=True,
              help="Pairs synthesised from the served model as a teacher (0 skips this part).")
@json_option
def serve(profile: str, clients: tuple[int, ...], requests: int, max_tokens: int, pairs: int,
          as_json: bool) -> None:  # fmt: skip
    """Requests/s and time to first token of `insitu serve`; pairs/min from it as a teacher."""
    from harness.serve.bench import bench_serve
    from teachers.bench import teach_rate

    counts = clients or (1, 8)
    if min(counts) < 1 or requests < 1 or max_tokens < 1 or pairs < 0:
        raise ConfigError("--clients, --requests and --max-tokens must be at least 1, --pairs 0+",
                          "e.g. insitu bench serve --clients 1 --clients 8 --requests 4")
    extras = {}
    if pairs:
        extras["teach"] = lambda url, model: teach_rate(url, model, n=pairs)
    with open_profile(profile) as prof:
        report = bench_serve(prof, clients=counts, requests_per_client=requests,
                             max_tokens=max_tokens, extras=extras)  # fmt: skip
    click.echo(json.dumps(report, indent=2, default=str) if as_json else render(report))
