"""Audio label batches: cut to their longest clip, masked, so a clip's answer ignores padding."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness.config import TaskConfig
from harness.graph.build import Graph
from harness.graph.seeds import seed
from harness.modality import ModalitySpec
from harness.tasks.data import TaskData
from harness.tasks.label import LabelTask
from harness.types import Example, Part
from modalities.audio import AudioModality


def clips(fsdd: Path, n: int = 12) -> list[Example]:
    """Return n FSDD recordings of digits 0 and 1 as labelled examples."""
    files = sorted(fsdd.glob("[01]_*.wav"))
    files = files[:: max(1, len(files) // n)]  # spread over speakers and takes
    audio = AudioModality()
    return [Example([audio.load(f)], [Part.of_label(f.name[0])], task="spoken")
            for f in files[:n]]  # fmt: skip


def test_batches_are_cut_to_their_longest_clip_and_padding_changes_no_answer(fsdd: Path) -> None:
    """Each batch is as long as its longest clip with a mask of every clip's own frames; a
    clip's logits are the same alone, in any batch, and in the held-out evaluation."""
    spec = ModalitySpec(n_mels=16)
    config = TaskConfig(name="spoken", kind="label", modality="audio", pool="max",
                        classes=["0", "1"])  # fmt: skip
    examples = clips(fsdd)
    task = LabelTask(config, TaskData(train=examples, heldout=examples), spec)
    audio = AudioModality()
    lengths = [audio.item_shape(ex.prompt[0], spec)[0] for ex in examples]
    assert len(set(lengths)) > 3
    assert task.tensors["train"]["frames"].tolist() == lengths
    genome = seed("mlp", 6_000, heads={"spoken": task.head()}, modalities=("audio",), context=64,
                  stem_args={"audio": {"mels": 16, "stride": 1}})  # one vector per frame
    graph = Graph(genome, generator=torch.Generator().manual_seed(0)).eval()
    short = min(range(len(lengths)), key=lengths.__getitem__)
    batch = task._batch("train", torch.tensor([short, *range(len(examples))]))
    assert batch.audio is not None and batch.mask is not None
    assert batch.audio.shape[1] == max(lengths)
    assert batch.mask.sum(1).tolist() == [lengths[short], *lengths]
    with torch.no_grad():
        together = task.logits(graph, batch)  # [B, 2]
        for i in range(len(examples)):
            alone = task.logits(graph, task._batch("train", torch.tensor([i])))  # [1, 2]
            assert torch.allclose(together[i + 1], alone[0], atol=1e-5), i
        whole = graph.forward_tasks(None, audio=audio.to_tensor([examples[short].prompt[0]],
                                                               spec), tasks=["spoken"])
        assert torch.allclose(whole["spoken"][0], together[0], atol=1e-5)  # as asked in chat
    right = (together[1:].argmax(-1) == task.tensors["train"]["targets"]).float().mean()
    assert task.evaluate(graph)["accuracy"] == pytest.approx(float(right))
