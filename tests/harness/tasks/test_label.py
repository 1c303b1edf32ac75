"""Label tasks: images through the registered image modality and stem, classes, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import DataError
from harness.modality import get_modality
from harness.profile import Profile
from harness.store.examples import add_examples
from harness.tasks import load_task
from harness.train.trainer import Budget, train
from harness.types import Example, Part
from modalities.image import encode_png

from .helpers import graph_for

TEMPLATE = """
description = "shapes"
[[tasks]]
name = "shapes"
kind = "label"
modality = "image"
[model]
image_size = 12
image_channels = 1
"""


def shape_png(kind: str, rng: np.random.Generator) -> bytes:
    """Return a noisy 12x12 grayscale PNG of a vertical bar, a horizontal bar or a dot."""
    img = rng.integers(0, 60, size=(12, 12, 1)).astype(np.uint8)
    at = int(rng.integers(3, 9))
    if kind == "vertical":
        img[:, at - 1 : at + 1] = 255
    elif kind == "horizontal":
        img[at - 1 : at + 1, :] = 255
    else:
        img[at - 2 : at + 2, at - 2 : at + 2] = 255
    return encode_png(img)


def shapes_profile(tmp_path: Path, kinds: tuple[str, ...], n: int = 40) -> Profile:
    """Create a profile whose label task holds n PNG pictures per kind (a fifth held out)."""
    template = tmp_path / "shapes.toml"
    template.write_text(TEMPLATE)
    prof = Profile.create("p", str(template))
    image = get_modality("image")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        for kind in kinds:
            part = image.load(shape_png(kind, rng))
            ex = Example([part], [Part.of_label(kind)], task="shapes", source="import")
            rows.append((ex, "heldout" if i % 5 == 0 else "train"))
    add_examples(prof.store, rows)
    return prof


def test_image_labels_are_learned_through_the_image_stem(tmp_path: Path) -> None:
    """Bars and dots decoded by the image modality are told apart on held-out pictures."""
    with shapes_profile(tmp_path, ("dot", "horizontal", "vertical")) as prof:
        task = load_task(prof, "shapes")
    assert task.classes == ["dot", "horizontal", "vertical"]  # type: ignore[attr-defined]
    assert task.size("train") == 96 and task.size("heldout") == 24
    graph = graph_for({"shapes": task.head()}, family="mlp", modalities=("image",),
                      train={"lr": 1e-2})
    before = task.evaluate(graph)
    result = train(graph, [task], Budget(steps=120), seed=0, batch_size=16)
    assert result.metrics["accuracy"] >= 0.9
    assert result.metrics["xent"] < before["xent"]


def test_a_changed_config_builds_the_task_anew(tmp_path: Path) -> None:
    """The per-process task cache keys on the task's settings and features: the same data under
    a changed [model] (a new picture size) is encoded again, not served from the old build."""
    from harness.store.records import set_setting

    with shapes_profile(tmp_path, ("dot", "vertical"), n=10) as prof:
        first = load_task(prof, "shapes")
        assert load_task(prof, "shapes") is first
        config = prof.config.to_dict()
        config["model"]["image_size"] = 8
        set_setting(prof.store, "config", config)
    with Profile.open("p") as prof:
        second = load_task(prof, "shapes")
    assert second is not first
    assert second.tensors["train"]["images"].shape[-1] == 8  # type: ignore[attr-defined]
    assert first.tensors["train"]["images"].shape[-1] == 12  # type: ignore[attr-defined]


def test_one_class_task_is_refused(tmp_path: Path) -> None:
    """A label task whose data has a single class raises a DataError saying to add others."""
    with shapes_profile(tmp_path, ("dot",), n=5) as prof, pytest.raises(DataError) as err:
        load_task(prof, "shapes")
    assert "only one class" in str(err.value) and "insitu data add" in str(err.value)


def test_empty_label_task_says_how_to_add_data(tmp_path: Path) -> None:
    """A label task with no examples names `insitu data add -p p PATH --task shapes`."""
    with shapes_profile(tmp_path, (), n=0) as prof, pytest.raises(DataError) as err:
        load_task(prof, "shapes")
    assert "insitu data add -p p PATH --task shapes" in str(err.value)


def test_mixup_batches_weight_both_labels_and_still_learn(tmp_path: Path) -> None:
    """With mixup, training batches carry a partner and a weight, the loss mixes both labels'
    cross-entropy, and the task is still learned."""
    import torch
    import torch.nn.functional as F

    with shapes_profile(tmp_path, ("dot", "horizontal", "vertical")) as prof:
        prof.config.task("shapes").mixup = 0.4
        task = load_task(prof, "shapes")
    batch = next(task.batches(torch.Generator().manual_seed(0), 16, 64))
    perm, lam = batch.meta["mixup"]
    assert batch.images is not None and perm.shape == (16,) and 0 <= lam <= 1
    graph = graph_for({"shapes": task.head()}, family="mlp", modalities=("image",),
                      train={"lr": 1e-2})
    logits = task.logits(graph, batch)  # [B, C]
    want = (lam * F.cross_entropy(logits, batch.targets)
            + (1 - lam) * F.cross_entropy(logits, batch.targets[perm]))  # fmt: skip
    assert torch.allclose(task.loss(graph, batch), want, atol=1e-6)
    result = train(graph, [task], Budget(steps=150), seed=0, batch_size=16)
    assert result.metrics["accuracy"] >= 0.9


def test_mixup_on_a_text_label_task_is_refused(tmp_path: Path) -> None:
    """Text inputs cannot be blended: the task refuses mixup and says to set it to 0."""
    from harness.config import TaskConfig
    from harness.errors import ConfigError
    from harness.modality import ModalitySpec
    from harness.tasks.data import TaskData
    from harness.tasks.label import LabelTask

    config = TaskConfig(name="mood", kind="label", modality="text", mixup=0.2)
    data = TaskData(train=[Example([Part.of_text("great")], [Part.of_label("good")])])
    with pytest.raises(ConfigError) as err:
        LabelTask(config, data, ModalitySpec())
    assert "mixup = 0" in str(err.value)
