"""The evaluation job: a pure function of plain data, run in a spawned child process."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import torch

from harness.errors import ProfileError
from harness.genome import add_node
from harness.graph.build import Graph
from harness.graph.checkpoint import load, save
from harness.graph.seeds import seed
from harness.profile import Profile
from harness.tasks import load_task
from harness.train.job import Job, JobResult, inherit, run_in_child, run_job

from ..tasks.helpers import add_corpus, add_pairs, text_profile

TEXT = "all the world's a stage, and all the men and women merely players. " * 40


def make_job(tmp_path: Path, **changes: object) -> Job:
    """Return a small job on the test's shakespeare profile (created on first use)."""
    try:
        prof = text_profile()
        add_corpus(prof, "shakespeare", TEXT, TEXT[:500])
    except ProfileError:
        prof = Profile.open("p")
    with prof:
        head = load_task(prof, "shakespeare").head()
        path = str(prof.path)
    genome = seed("gru", 8_000, heads={"shakespeare": head}, context=32)
    job = Job(genome=genome, init_checkpoint=None, profile_path=path, tasks=["shakespeare"],
              budget_steps=10, budget_seconds=0.0, seed=1,
              out_checkpoint=str(tmp_path / "child.safetensors"))
    for key, value in changes.items():
        setattr(job, key, value)
    return job


def test_job_in_spawned_child_returns_a_loadable_checkpoint(tmp_path: Path) -> None:
    """run_in_child trains in a spawned process; the checkpoint loads and matches its hash."""
    job = make_job(tmp_path)
    result = run_in_child(pickle.loads(pickle.dumps(job)), timeout=300)
    assert isinstance(result, JobResult) and result.error is None, result.error
    assert result.steps == 10 and result.train_seconds > 0
    assert 0 < result.metrics["bpb"] == result.metrics["shakespeare/bpb"] < 9
    assert result.params > 0 and result.flops_per_token > 0 and result.latency_us_per_token > 0
    graph = load(result.checkpoint)
    assert graph.genome["nodes"] == job.genome["nodes"]
    import hashlib

    assert hashlib.sha256(Path(result.checkpoint).read_bytes()).hexdigest() == (
        result.checkpoint_sha256
    )
    again = run_job(make_job(tmp_path, out_checkpoint=str(tmp_path / "again.safetensors")))
    assert again.metrics == result.metrics  # the same job in this process: the same numbers


def test_exception_inside_becomes_error(tmp_path: Path) -> None:
    """A job that cannot run reports why in `error` instead of raising."""
    job = make_job(tmp_path, tasks=["chat"])
    result = run_job(job)
    assert result.error and "no task 'chat'" in result.error and result.checkpoint == ""
    broken = make_job(tmp_path, budget_steps=0)
    assert "budget" in (run_job(broken).error or "")
    headless = make_job(tmp_path)
    headless.genome = copy.deepcopy(headless.genome)
    headless.genome["heads"] = {"other": headless.genome["heads"]["shakespeare"]}
    assert "no head for task" in (run_job(headless).error or "")


def test_weights_are_inherited_where_shapes_agree(tmp_path: Path) -> None:
    """A grown child starts from its parent's weights; new or reshaped tensors are skipped."""
    job = make_job(tmp_path)
    parent = Graph(job.genome, generator=torch.Generator().manual_seed(7))
    save(parent, tmp_path / "parent.safetensors")
    child_genome = copy.deepcopy(job.genome)
    add_node(child_genome, "mlp", [child_genome["output"]], {"hidden": 8, "act": "relu"},
             residual=True, scale=0.0)
    child = Graph(child_genome, generator=torch.Generator().manual_seed(0))
    loaded = inherit(child, tmp_path / "parent.safetensors")
    assert loaded == len(parent.state_dict())
    own = child.state_dict()
    assert all(torch.equal(own[k], v) for k, v in parent.state_dict().items())
    result = run_job(make_job(tmp_path, genome=child_genome,
                              init_checkpoint=str(tmp_path / "parent.safetensors")))
    assert result.error is None and result.inherited == loaded


def test_compress_phase_measures_training_pairs(tmp_path: Path) -> None:
    """The compress phase measures the training split and the recall of training pairs."""
    job = make_job(tmp_path, phase="compress")
    with text_profile("pairs", "shakespeare") as prof:
        add_pairs(prof, "shakespeare", [("hello?", "world")])
        add_corpus(prof, "shakespeare", TEXT, TEXT[:300])
        job.profile_path = str(prof.path)
    result = run_job(job)
    assert result.error is None and {"bpb", "recall", "train_loss"} <= set(result.metrics)
    assert "unknown phase" in (run_job(make_job(tmp_path, phase="dream")).error or "")


def test_frozen_parts_keep_their_weights_in_a_job(tmp_path: Path) -> None:
    """A job trains only the parts the genome does not mark frozen (a friend's imported base)."""
    from harness.bundle.grow import mark_frozen

    job = make_job(tmp_path)
    base = mark_frozen(job.genome)
    add_node(base, "mlp", [base["output"]], {"hidden": 8, "act": "relu"}, residual=True,
             scale=0.5)  # a new, trainable node on top of the frozen base
    parent = Graph(base, generator=torch.Generator().manual_seed(7))
    save(parent, tmp_path / "parent.safetensors")
    frozen = parent.frozen_names()
    assert frozen and all(not n.startswith(f"blocks.{base['output']}.") for n in frozen)
    result = run_job(make_job(tmp_path, genome=base, budget_steps=5,
                              init_checkpoint=str(tmp_path / "parent.safetensors")))
    assert result.error is None and result.steps == 5
    before, after = parent.state_dict(), load(result.checkpoint).state_dict()
    assert all(torch.equal(before[n], after[n]) for n in frozen)
    changed = [n for n in before if n not in frozen and not torch.equal(before[n], after[n])]
    assert changed  # the new node trained
    whole = mark_frozen(job.genome)  # nothing left to train: measured, not an error
    still = run_job(make_job(tmp_path, genome=whole, out_checkpoint=str(tmp_path / "w.st")))
    assert still.error is None and still.steps == 0 and still.metrics["bpb"] > 0


def test_a_job_that_freezes_every_parameter_itself_is_an_error(tmp_path: Path) -> None:
    """Freezing every name through the job (not the genome) is reported, not silently skipped."""
    result = run_job(make_job(tmp_path, freeze=["stems.", "blocks.", "heads."]))
    assert result.error and "every parameter is frozen" in result.error
