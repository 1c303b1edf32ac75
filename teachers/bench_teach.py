"""`insitu bench teach`: the measured effect of teacher pairs from a served insitu profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from harness.cliutil import json_option, table


def render(report: dict[str, Any]) -> str:
    """Return the experiment's report as plain-text tables."""
    m, s, c = report["mentor"], report["synthesis"], report["config"]
    rows = [[r["student"], str(r["train_pairs"]), f"{r['heldout_bpb']:.3f}"]
            for r in report["students"]]  # fmt: skip
    source = c["mentor_checkpoint"] or f"trained {c['teacher_steps']} steps"
    return "\n".join([
        f"mentor ({source}): held-out {m['heldout_bpb']:.3f} bits/byte on "
        f"{m['heldout_pairs']} held-out pairs; served on loopback",
        f"distilled {s['accepted']} pairs in {s['seconds']:.1f} s ({s['requests']} requests, "
        f"{s['duplicates'] + s['near_duplicates']} duplicates, {s['rejected']} rejected)",
        f"students: {c['family']} ~{c['params']:,} parameters, {c['student_steps']} steps each, "
        f"same initial weights (seed {c['seed']}), {c['slice_fraction']:.0%} of the corpus each",
        table(rows, ["student", "train pairs", "held-out bits/byte"]),
        f"improvement from the teacher: {report['improvement_bpb']:+.3f} bits/byte "
        "(positive: the taught student is better)",
    ])  # fmt: skip


@click.command("teach")
@click.option("--mentor", "mentor", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Checkpoint the served mentor runs (default: the chat "
                                 "template's shipped champion; none: train one).")
@click.option("--teacher-steps", type=int, default=1500, show_default=True,
              help="Training steps of a mentor trained here (no checkpoint).")
@click.option("--student-steps", type=int, default=600, show_default=True,
              help="Training steps of each student.")
@click.option("--pairs", type=int, default=300, show_default=True,
              help="Pairs the taught student distils from the mentor.")
@click.option("--slice", "slice_fraction", type=float, default=0.1, show_default=True,
              help="Fraction of the corpus's training pairs both students own.")
@click.option("--params", type=int, default=60_000, show_default=True,
              help="Parameter budget of the students' seed genome.")
@click.option("--temperature", type=float, default=1.0, show_default=True,
              help="Sampling temperature of the mentor's answers.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Datasets folder holding chatterbot-corpus/ (default: ../shared/data).")
@json_option
def teach(mentor: Path | None, teacher_steps: int, student_steps: int, pairs: int,
          slice_fraction: float, params: int, temperature: float, seed: int,
          data_dir: Path | None,
          as_json: bool) -> None:  # fmt: skip
    """Held-out bits/byte of a student taught by a served profile vs one that was not."""
    from harness.bench.datasets import find_data_dir
    from harness.errors import ConfigError
    from harness.shipped import template_champion
    from teachers.effect import EffectConfig, run_effect

    if min(teacher_steps, student_steps, pairs, params) < 1 or not 0 < slice_fraction < 1:
        raise ConfigError("steps, --pairs and --params must be at least 1 and --slice in (0, 1)",
                          "e.g. insitu bench teach --student-steps 600 --pairs 300")
    corpus = find_data_dir(data_dir) / "chatterbot-corpus" / "english"
    cfg = EffectConfig(corpus=corpus, slice_fraction=slice_fraction, teacher_steps=teacher_steps,
                       student_steps=student_steps, pairs=pairs, params=params, seed=seed,
                       temperature=temperature,
                       mentor_checkpoint=mentor or template_champion("chat"))  # fmt: skip
    report = run_effect(cfg, progress=lambda line: click.echo(f"... {line}", err=True))
    click.echo(json.dumps(report, indent=2) if as_json else render(report))
