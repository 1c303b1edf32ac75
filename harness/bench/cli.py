"""`insitu bench ...`: performance benchmarks of the micro-graphs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from harness.cliutil import counted, json_option, table
from harness.errors import ConfigError

FAMILY_NAMES = ("mlp", "cnn", "rnn", "gru", "lstm", "rwkv", "ssm", "transformer")
TARGET_TOKENS_PER_S = 300.0
TARGET_RATIO = 3.0
#: contenders of the dataset benchmarks (kept here so `--help` needs no torch import)
SHAKESPEARE = ("insitu", "gru", "transformer", "compressors")
DIGITS = ("insitu", "logistic", "mlp", "svm")


def _misses(tokens_per_s: float, ratio: float) -> str:
    """Return which targets a family misses ('-' for none)."""
    out = []
    if tokens_per_s < TARGET_TOKENS_PER_S:
        out.append(f"tok/s<{TARGET_TOKENS_PER_S:.0f}")
    if ratio > TARGET_RATIO:
        out.append(f"ratio>{TARGET_RATIO:.0f}x")
    return " ".join(out) or "-"


class _BenchGroup(click.Group):
    """The bench group plus every benchmark registered under `insitu.benches`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from harness import registry

        return sorted(set(super().list_commands(ctx)) | set(registry.benches.names()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from harness import registry

        cmd = super().get_command(ctx, name)
        if cmd is None and name in registry.benches:
            cmd = registry.benches.get(name)
        return cmd


@click.group(cls=_BenchGroup)
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
            f"{r.torch_step_us_per_token:.0f}",
            r.engine,
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
        "torch step us/tok",
        "engine",
        "misses",
    ]
    click.echo(
        f"step-path generation of {tokens} tokens on {counted(threads, 'CPU thread')}, best of "
        f"{repeats}; "
        f"targets: >= {TARGET_TOKENS_PER_S:.0f} tok/s, step <= {TARGET_RATIO:.0f}x parallel"
    )
    click.echo(table(rows, header))


def _common(fn: Any) -> Any:
    """Add the options every dataset benchmark shares."""
    options = [
        click.option("--threads", type=int, default=2, show_default=True,
                     help="torch (and BLAS) threads for every contender."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of every run."),
        click.option("--workers", type=int, default=None,
                     help="Evolution worker processes of the insitu contender, one torch thread "
                          "each (default: --threads; 0: evaluate in this process)."),
        click.option("--keep", is_flag=True,
                     help="Keep the insitu contender's temporary profile folder (path printed)."),
        click.option("--limit", type=int, default=None, hidden=True,
                     help="Use only the first N samples (quick checks and tests)."),
        json_option,
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


def _progress() -> Any:
    """Return a progress callback writing to stderr (stdout stays the table or the JSON)."""
    return lambda line: click.echo(f"... {line}", err=True)


def _emit(report: Any, as_json: bool) -> None:
    """Print a report as JSON or as its table."""
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.render())


@bench.command("shakespeare")
@click.option(
    "--seconds",
    type=float,
    default=300.0,
    show_default=True,
    help="Wall-clock seconds of each neural contender (the search is inside it).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Datasets folder holding tinyshakespeare/ (default: ../shared/data).",
)
@click.option(
    "--params",
    type=int,
    default=None,
    help="Parameter budget of the GRU and transformer (default: the template's).",
)
@click.option(
    "--contender",
    "contenders",
    multiple=True,
    type=click.Choice(SHAKESPEARE),
    help="Run only these contenders (repeatable; default: all).",
)
@_common
def shakespeare(seconds: float, data_dir: Path | None, params: int | None,
                contenders: tuple[str, ...], threads: int, seed: int, workers: int | None,
                keep: bool, limit: int | None, as_json: bool) -> None:  # fmt: skip
    """Tiny shakespeare: the evolved champion vs a GRU, a transformer, gzip, bzip2 and xz."""
    from harness.bench.datasets import find_data_dir
    from harness.bench.shakespeare import ShakespeareConfig, run_shakespeare

    _check_seconds(seconds)
    cfg = ShakespeareConfig(data_dir=find_data_dir(data_dir), seconds=seconds, threads=threads,
                            seed=seed, params=params, contenders=contenders or SHAKESPEARE,
                            limit=limit, workers=workers, keep=keep)  # fmt: skip
    _emit(run_shakespeare(cfg, _progress()), as_json)


@bench.command("digits")
@click.option(
    "--seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Wall-clock seconds of the insitu contender's search and training.",
)
@click.option(
    "--contender",
    "contenders",
    multiple=True,
    type=click.Choice(DIGITS),
    help="Run only these contenders (repeatable; default: all).",
)
@_common
def digits(seconds: float, contenders: tuple[str, ...], threads: int, seed: int,
           workers: int | None, keep: bool, limit: int | None, as_json: bool) -> None:  # fmt: skip
    """scikit-learn's 8x8 digits: the evolved classifier vs logistic regression, MLP and SVM."""
    from harness.bench.digits import DigitsConfig, run_digits

    _check_seconds(seconds)
    cfg = DigitsConfig(seconds=seconds, threads=threads, seed=seed,
                       contenders=contenders or DIGITS, limit=limit, workers=workers,
                       keep=keep)  # fmt: skip
    _emit(run_digits(cfg, _progress()), as_json)


def _check_seconds(seconds: float) -> None:
    """Refuse a budget of zero or less."""
    if seconds <= 0:
        raise ConfigError(f"--seconds must be above 0 (got {seconds:g})",
                          "give each contender some time, e.g. --seconds 60")  # fmt: skip
