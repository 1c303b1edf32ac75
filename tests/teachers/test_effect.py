"""A student taught by a served insitu profile beats one that was not, on held-out chit-chat."""

from __future__ import annotations

import pytest

from harness.shipped import template_champion
from teachers.effect import EffectConfig, run_effect


@pytest.mark.slow
def test_teacher_pairs_improve_held_out_bits_per_byte(shared_data) -> None:
    """Same slice, same steps, same initial weights: the taught student has lower held-out bpb."""
    mentor = template_champion("chat")
    assert mentor is not None, "the chat template's shipped champion is the mentor"
    cfg = EffectConfig(corpus=shared_data / "chatterbot-corpus" / "english", student_steps=200,
                       pairs=200, params=20_000, mentor_checkpoint=mentor)  # fmt: skip
    report = run_effect(cfg)
    alone, taught = report["students"]
    assert report["synthesis"]["accepted"] >= 150
    assert taught["train_pairs"] > alone["train_pairs"]
    assert report["mentor"]["heldout_bpb"] < alone["heldout_bpb"]
    assert taught["heldout_bpb"] < alone["heldout_bpb"], report["students"]
