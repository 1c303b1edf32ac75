"""The default evaluation measures held-out quality on the same bytes in every phase."""

from __future__ import annotations

import random

from harness.evolve.evaluate import run_spec
from harness.evolve.pool import EvalSpec
from harness.graph.seeds import seed

from .helpers import make_profile


def test_held_out_quality_does_not_depend_on_the_phase_that_measured_it(tmp_path):
    """A recall-phase and a generalise-phase job of one genome report the same heldout_bpb."""
    rng = random.Random(1)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away", "home"]
    text = "\n".join(" ".join(rng.choice(words) for _ in range(9)) for _ in range(1500))
    prof = make_profile(tmp_path, text=text)  # 20% held out: about 12 KB, more than 2048 bytes
    genome = seed("gru", 4000, heads={"chat": {"op": "lm", "args": {}}}, context=32)
    got = {}
    for phase in ("recall", "generalise"):
        spec = EvalSpec(genome, None, str(prof.path), ["chat"], budget_steps=5, budget_seconds=0.0,
                        seed=7, out_checkpoint=str(tmp_path / f"{phase}.safetensors"),
                        phase=phase)  # fmt: skip
        result = run_spec(spec)
        assert result.error is None, result.error
        got[phase] = result.metrics
    assert got["recall"]["heldout_bpb"] == got["generalise"]["heldout_bpb"]
    assert "train_bpb" in got["recall"] and "train_bpb" in got["generalise"]
