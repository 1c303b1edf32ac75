"""The measured effect of a teacher: does a profile taught by a served insitu profile do better?

A mentor profile learns the chit-chat corpus (its training split). Two students share the same
held-out split and the same small slice of the training pairs (what a person typed in). One of
them, "taught", also gets pairs from the mentor served on loopback by `insitu serve`: the
mentor answers the corpus's training prompts (distillation, through the openai client). Both
students then train the same seed genome from the same initial weights for the same number of
steps, and are scored in bits per byte on the held-out split, which neither saw.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from harness.data.ingest import add_paths
from harness.genome import canonical_json, content_hash
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.graph.seeds import seed as seed_genome
from harness.paths import scratch_home
from harness.profile import Profile
from harness.store.examples import add_examples, iter_examples
from harness.store.population import add_individual, put_genome
from harness.tasks import load_tasks
from harness.train.trainer import Budget, train
from harness.types import Example
from teachers.config import TeacherConfig, build
from teachers.dedupe import parts_text
from teachers.synth import synthesize

TASK = "chat"


@dataclass
class EffectConfig:
    """Sizes of the experiment (defaults: the benchmark's; tests use smaller ones)."""

    corpus: Path
    slice_fraction: float = 0.1
    teacher_steps: int = 1500
    student_steps: int = 600
    pairs: int = 300
    family: str = "gru"
    params: int = 60_000
    context: int = 128
    seed: int = 0
    #: a trained chat checkpoint to serve as the mentor (None: train one on the corpus)
    mentor_checkpoint: Path | None = None
    #: sampling temperature of the mentor's answers (1.0: samples of its own distribution)
    temperature: float = 1.0


def _train(prof: Profile, genome: dict[str, Any], steps: int, seed: int) -> tuple[Graph, float]:
    """Train the seed genome from fixed initial weights on a profile; return it and held-out bpb."""
    graph = Graph(genome, device="cpu", generator=torch.Generator().manual_seed(seed))
    result = train(graph, load_tasks(prof, [TASK]), Budget(steps=steps), seed=seed,
                   device="cpu")  # fmt: skip
    return graph.eval(), float(result.metrics["bpb"])


def _install(prof: Profile, graph: Graph) -> str:
    """Make `graph` the profile's champion; return its individual id."""
    checkpoint.save(graph, prof.checkpoints_dir / "mentor.safetensors")
    gid = put_genome(prof.store, content_hash(graph.genome), canonical_json(graph.genome),
                     graph.family, graph.num_parameters())  # fmt: skip
    return add_individual(prof.store, gid, checkpoint="mentor.safetensors", status="champion")


def _student(name: str, train_rows: list[Example], heldout: list[Example]) -> Profile:
    """Create a blank chat profile holding the slice (train) and the shared held-out split."""
    prof = Profile.create(name, "chat", blank=True)
    add_examples(prof.store, [(ex, "train") for ex in train_rows]
                 + [(ex, "heldout") for ex in heldout])  # fmt: skip
    return prof


def run_effect(cfg: EffectConfig,
               progress: Callable[[str], Any] = lambda s: None) -> dict[str, Any]:
    """Run the experiment in a scratch INSITU_HOME and return the report.

    1. Mentor: import the corpus; load the given checkpoint or train the seed genome
       `teacher_steps` steps; crown it.
    2. Students: the same random slice of the mentor's training pairs and its held-out split.
    3. Serve the mentor on loopback; the taught student distils `pairs` answers from it to
       the mentor's training prompts (those not in the slice first).
    4. Train both students identically (`student_steps`, same seed); score held-out bpb.
    """
    from harness.serve.server import make_server, serve_in_thread

    rng = random.Random(cfg.seed)
    genome = seed_genome(cfg.family, cfg.params, heads={TASK: {"op": "lm", "args": {}}},
                         context=cfg.context)  # fmt: skip
    with scratch_home("insitu-teach-effect-"):
        mentor = Profile.create("mentor", "chat", blank=True)
        try:
            add_paths(mentor, [cfg.corpus], TASK)
            train_rows = list(iter_examples(mentor.store, TASK, "train"))
            heldout = list(iter_examples(mentor.store, TASK, "heldout"))
            start = time.perf_counter()
            if cfg.mentor_checkpoint is not None:
                progress(f"mentor: {cfg.mentor_checkpoint.name}; {len(heldout)} pairs held out")
                teacher_graph = checkpoint.load(cfg.mentor_checkpoint, device="cpu").eval()
                metrics = load_tasks(mentor, [TASK])[0].evaluate(teacher_graph, "heldout")
                mentor_bpb = float(metrics["bpb"])
            else:
                progress(f"mentor: {len(train_rows)} training pairs, {len(heldout)} held out; "
                         f"training {cfg.teacher_steps} steps")  # fmt: skip
                teacher_graph, mentor_bpb = _train(mentor, genome, cfg.teacher_steps, cfg.seed)
            _install(mentor, teacher_graph)
            mentor_s = time.perf_counter() - start
            chosen = rng.sample(train_rows, max(1, round(cfg.slice_fraction * len(train_rows))))
            known = {parts_text(ex.prompt) for ex in chosen}
            prompts = [p for p in dict.fromkeys(parts_text(ex.prompt) for ex in train_rows)
                       if p not in known]  # fmt: skip
            rng.shuffle(prompts)
            alone = _student("alone", chosen, heldout)
            taught = _student("taught", chosen, heldout)
            try:
                server = make_server(mentor, "127.0.0.1", 0, learn=False)
                serve_in_thread(server)
                tcfg = TeacherConfig(name="mentor", kind="openai", model="mentor",
                                     base_url=server.url, backoff=0.05, temperature=cfg.temperature,
                                     max_tokens=96)  # fmt: skip
                teacher = build(tcfg)
                progress(f"taught: distilling {cfg.pairs} pairs from the served mentor")
                start = time.perf_counter()
                try:
                    synth = synthesize(taught, teacher, TASK, n=cfg.pairs, seed=cfg.seed,
                                       prompts=prompts)  # fmt: skip
                finally:
                    teacher.close()
                    server.shutdown()
                    server.server_close()
                synth_s = time.perf_counter() - start
                rows: list[dict[str, Any]] = []
                for prof in (alone, taught):
                    progress(f"{prof.name}: training {cfg.student_steps} steps")
                    _, bpb = _train(prof, genome, cfg.student_steps, cfg.seed)
                    rows.append({"student": prof.name, "train_pairs": prof.store.count(
                        "examples") - len(heldout), "heldout_bpb": bpb})  # fmt: skip
            finally:
                alone.close()
                taught.close()
        finally:
            mentor.close()
    return {
        "config": {**asdict(cfg), "corpus": str(cfg.corpus),
                   "mentor_checkpoint": str(cfg.mentor_checkpoint or "")},
        "mentor": {"train_pairs": len(train_rows), "heldout_pairs": len(heldout),
                   "heldout_bpb": mentor_bpb, "train_s": mentor_s},  # fmt: skip
        "synthesis": {"accepted": synth.accepted, "duplicates": synth.duplicates,
                      "near_duplicates": synth.near_duplicates, "rejected": synth.rejected,
                      "requests": synth.usage.requests, "seconds": synth_s},  # fmt: skip
        "students": rows,
        "improvement_bpb": rows[0]["heldout_bpb"] - rows[1]["heldout_bpb"],
    }
