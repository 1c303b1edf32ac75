"""The insitu contender of `insitu bench digits`: evolve a temporary 8x8 label profile, test it.

1. Create a profile from the `digits` template in a throw-away insitu home; its pictures are
   read at 16x16 (the 8x8 digits upscaled twice, so that the stem's two stride-2 convolutions
   still leave a 4x4 map) and its stem keeps that 4x4 map as 16 tokens.
2. Store the training images (uint8 [8, 8, 1] parts) with their labels; the engine holds out
   a tenth of them (stable hash split) for its own selection. The test images never enter it.
3. Run the evolution engine for the budget, then measure the champion's accuracy on the test
   images with the label task's own measure (images encoded by the registered image modality).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.bench.datasets import DigitsSplit
from harness.bench.report import Contender
from harness.bench.sandbox import Progress, evolve, sandbox_home
from harness.modality import ModalitySpec
from harness.profile import Profile
from harness.store.examples import add_examples, hash_split
from harness.store.records import set_setting
from harness.types import Example, Part

if TYPE_CHECKING:
    import numpy as np

    from harness.bench.digits import DigitsConfig
    from harness.graph.build import Graph

TEMPLATE = "digits"
TASK = "digits"
SIZE = 16  # pixels a side the 8x8 pictures are read at
GRID = 4  # the image stem's token map


def examples(split: DigitsSplit, x: np.ndarray, y: np.ndarray) -> list[Example]:
    """Return one label example per picture: an image prompt and its digit as the answer."""
    pictures = zip(split.images(x), y, strict=True)
    return [Example([Part.of_image(img)], [Part.of_label(str(int(label)))], task=TASK,
                    source="import") for img, label in pictures]  # fmt: skip


def make_profile(name: str) -> Profile:
    """Create the digits profile with the pictures read at SIZE and a GRID x GRID stem map."""
    with Profile.create(name, TEMPLATE) as profile:
        config = profile.config.to_dict()
        config["model"]["image_size"] = SIZE
        config["model"]["image_grid"] = GRID
        set_setting(profile.store, "config", config)
    return Profile.open(name, create_default=False)


def image_flops(graph: Graph, size: int) -> int:
    """Return multiply-adds per picture: the stem's convolutions, then the body per stem token."""
    stem: Any = graph.stems["image"]
    half, quarter = -(-size // 2), -(-size // 4)  # stride-2 outputs, padding 1
    convs = stem.conv1.weight.numel() * half**2 + stem.conv2.weight.numel() * quarter**2
    tokens = int(stem.tokens)
    return int(convs + stem.proj.weight.numel() * tokens + graph.flops_per_token() * tokens)


def run_insitu_digits(split: DigitsSplit, cfg: DigitsConfig, progress: Progress) -> Contender:
    """Evolve for cfg.seconds on the training pictures; return the champion's row of the table."""
    from harness.tasks import build_task
    from harness.tasks.data import TaskData

    workers = cfg.threads if cfg.workers is None else cfg.workers
    with sandbox_home(cfg.keep, progress):
        with make_profile("bench-digits") as profile:
            train = examples(split, split.x_train, split.y_train)
            fraction = profile.config.task(TASK).heldout_fraction
            rows = [(ex, hash_split(f"digits-{i}", fraction)) for i, ex in enumerate(train)]
            add_examples(profile.store, rows, provenance={"bench": "digits"})
            found = evolve(profile, [TASK], cfg.seconds, workers, cfg.seed, progress)
            progress("insitu: scoring the champion on the test images")
            spec = ModalitySpec.from_model_config(profile.config.model)
            data = TaskData(train=train, heldout=examples(split, split.x_test, split.y_test))
            task = build_task(profile.config.task(TASK), data, spec)
            metrics = task.evaluate(found.graph, "heldout")
    graph, summary = found.graph, found.summary
    return Contender(
        name="insitu",
        kind="evolved",
        parameters=graph.num_parameters(),
        flops=image_flops(graph, SIZE),
        wall_s=found.wall_s,
        metrics={"test_accuracy": metrics.get("accuracy")},
        notes=(
            f"{graph.family} champion, {len(graph.genome['nodes'])} nodes, width "
            f"{graph.width}; {summary['evaluations']} evaluations"
        ),  # fmt: skip
        details={
            "workers": workers,
            "champion": found.champion,
            "generations": summary["generation"],
            "evaluations": summary["evaluations"],
            "stopped": summary["stopped"],
            "test_xent": metrics.get("xent"),
            "genome": graph.genome,
        },  # fmt: skip
    )
