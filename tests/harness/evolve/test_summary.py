"""The line `insitu evolve` prints: generations, evaluations in the right number, why it stopped."""

from __future__ import annotations

from harness.evolve.summary import Summary


def _summary(generation: int, evaluations: int, stopped: str) -> Summary:
    return Summary("R1", ["chat"], generation, evaluations, 25.4, stopped, "bpb", None)


def test_the_summary_line_reads_as_english():
    """Unfinished seeding is said in words, one evaluation is singular, the reason is named."""
    assert _summary(-1, 1, "deadline").line() == (
        "run R1: the seeds not all measured yet, 1 evaluation in 25 s (time is up)")
    assert _summary(3, 12, "goal").line() == "run R1: generation 3, 12 evaluations in 25 s (done)"
    assert "resumes where it stopped" in _summary(0, 0, "interrupted").line()
