"""`insitu bench ...`: performance benchmarks of the micro-graphs."""

from __future__ import annotations

import json

import click

from harness.cliutil import json_option, table

FAMILY_NAMES = ("mlp", "cnn", "rnn", "gru", "lstm", "rwkv", "ssm", "transformer")
TARGET_TOKENS_PER_S = 300.0
TARGET_RATIO = 3.0


def _misses(tokens_per_s: float, ratio: float) -> str:
    """Return which targets a family misses ('-' for none)."""
    out = []
    if tokens_per_s < TARGET_TOKENS_PER_S:
        out.append(f"tok/s<{TARGET_TOKENS_PER_S:.0f}")
    if ratio > TARGET_RATIO:
        out.append(f"ratio>{TARGET_RATIO:.0f}x")
    return " ".join(out) or "-"


@click.group()
def bench() -> None:
    """Benchmark micro-graphs on this machine."""


@bench.command("generate")
@click.option(
    "--params",
    type=int,
    default=100_000,
    show_default=True,
    help="Parameter budget of each family's seed individual.",
)
@click.option(
    "--tokens", type=int, default=128, show_default=True, help="Tokens to generate per run."
)
@click.option(
    "--repeats", type=int, default=3, show_default=True, help="Runs per family; the best is kept."
)
@click.option("--threads", type=int, default=1, show_default=True, help="CPU threads for torch.")
@click.option(
    "--family",
    "families",
    multiple=True,
    type=click.Choice(FAMILY_NAMES),
    help="Benchmark only these families (repeatable).",
)
@json_option
def generate(params: int, tokens: int, repeats: int, threads: int,
             families: tuple[str, ...], as_json: bool) -> None:  # fmt: skip
    """Time step-path generation (first token, tokens/s) against the parallel forward."""
    from harness.bench.generation import bench_generation

    results = bench_generation(families or FAMILY_NAMES, params, tokens, repeats, threads)
    if as_json:
        payload = {
            "threads": threads,
            "tokens": tokens,
            "targets": {"tokens_per_s": TARGET_TOKENS_PER_S, "ratio": TARGET_RATIO},
            "results": [r.to_dict() for r in results],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    rows = [
        [
            r.family,
            f"{r.parameters:,}",
            f"{r.first_token_ms:.1f}",
            f"{r.tokens_per_s:,.0f}",
            f"{r.step_us_per_token:.0f}",
            f"{r.parallel_us_per_token:.1f}",
            f"{r.ratio:.1f}x",
            _misses(r.tokens_per_s, r.ratio),
        ]
        for r in results
    ]
    header = [
        "family",
        "params",
        "first ms",
        "tok/s",
        "step us/tok",
        "par us/tok",
        "ratio",
        "misses",
    ]
    click.echo(
        f"step-path generation of {tokens} tokens on {threads} CPU thread(s), best of {repeats}; "
        f"targets: >= {TARGET_TOKENS_PER_S:.0f} tok/s, step <= {TARGET_RATIO:.0f}x parallel"
    )
    click.echo(table(rows, header))
