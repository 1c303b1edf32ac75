"""The insitu contender of `insitu bench shakespeare`: evolve a temporary profile, score it.

1. Create a profile from the `shakespeare` template in a throw-away insitu home.
2. Store the train split as training chunks and the val split, exactly, as the held-out split.
3. Run the evolution engine for the budget (the search is inside the seconds).
4. Score the champion on the whole val split: static and progressive bits per byte (the corpus
   is ASCII, so per character) with the text task's own measures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.bench.datasets import TextSplit
from harness.bench.report import Contender
from harness.bench.sandbox import Progress, evolve, sandbox_home
from harness.data.textfile import chunk_text
from harness.profile import Profile
from harness.store.examples import add_examples
from harness.types import Example, Part

if TYPE_CHECKING:
    from harness.bench.shakespeare import ShakespeareConfig

TEMPLATE = "shakespeare"
TASK = "shakespeare"


def add_corpus(profile: Profile, task: str, train: bytes, val: bytes) -> tuple[int, int]:
    """Store train as training chunks and val as held-out chunks, in order; return the counts."""
    rows = [(text, "train") for text in chunk_text(train.decode("utf-8"))]
    rows += [(text, "heldout") for text in chunk_text(val.decode("utf-8"))]
    examples = [(Example([Part.of_text(t)], task=task, source="corpus"), s) for t, s in rows]
    added, dupes = add_examples(profile.store, examples, provenance={"bench": "shakespeare"})
    if dupes:  # a repeated chunk would leave a hole in the stream
        from harness.errors import DataError

        raise DataError(f"{dupes} corpus chunks were dropped as duplicates",
                        "use a corpus without repeated 2 KB chunks")  # fmt: skip
    return sum(s == "train" for _, s in rows), sum(s == "heldout" for _, s in rows)


def run_insitu_text(split: TextSplit, cfg: ShakespeareConfig, progress: Progress) -> Contender:
    """Evolve for cfg.seconds on the train split; return the champion's row of the table."""
    from harness.tasks import load_task

    workers = cfg.threads if cfg.workers is None else cfg.workers
    with sandbox_home(cfg.keep, progress):
        with Profile.create("bench-shakespeare", TEMPLATE) as profile:
            n_train, n_val = add_corpus(profile, TASK, split.train, split.val)
            found = evolve(profile, [TASK], cfg.seconds, workers, cfg.seed, progress)
            progress("insitu: scoring the champion on the whole val split")
            task = load_task(profile, TASK)
            metrics = task.evaluate(found.graph, "heldout", budget=None,
                                    metrics=("bpb", "progressive_bpb"))  # fmt: skip
    graph, champ, summary = found.graph, found.champion, found.summary
    memory = getattr(graph.heads[TASK], "memory", None) if TASK in graph.heads else None
    entries = 0 if memory is None else memory.entries
    counts = f"; order-{memory.order} count memory of {entries:,} n-grams" if memory else ""
    return Contender(
        name="insitu",
        kind="evolved",
        parameters=graph.num_parameters(),
        flops=graph.flops_per_token(),
        wall_s=found.wall_s,
        metrics={
            "static_bpc": metrics.get("bpb"),
            "progressive_bpc": metrics.get("progressive_bpb"),
        },  # fmt: skip
        notes=(
            f"{graph.family} champion, {len(graph.genome['nodes'])} nodes, width "
            f"{graph.width}; {summary['evaluations']} evaluations{counts}"
        ),  # fmt: skip
        details={
            "workers": workers,
            "train_chunks": n_train,
            "val_chunks": n_val,
            "champion": champ,
            "generations": summary["generation"],
            "evaluations": summary["evaluations"],
            "stopped": summary["stopped"],
            "genome": graph.genome,
            "memory_entries": entries,
        },  # fmt: skip
    )
