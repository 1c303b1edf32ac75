"""The `label` task: classify an image, a sound or a text into one of a task's named classes.

Each example's prompt holds the input (the first image or audio part for an image or audio task,
the text parts for a text task) and its answer a label part (a text answer is read as the label).
The classes are the config's `classes`, or else the labels of the training split, sorted. The
inputs are encoded once through the registered modality (images kept as uint8 grids), so a batch
is an index into tensors. Held-out examples whose label is not a class are left out of the
metrics. Metrics: `accuracy` and `xent` (mean cross-entropy, nats) on a split.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from harness.config import TaskConfig
from harness.errors import ConfigError, DataError
from harness.modality import ModalitySpec, get_modality
from harness.tasks.augment import mixup, shift, shift_bands
from harness.tasks.base import SPLITS, Batch, Task, check_split, no_examples
from harness.tasks.data import TaskData
from harness.types import Example, Part
from harness.vocab import PAD, encode_turn

if TYPE_CHECKING:
    from harness.graph.build import Graph

MAX_TEXT_TOKENS = 512
ENCODE_CHUNK = 1024
EVAL_BATCH = 256


def label_of(ex: Example) -> str | None:
    """Return the example's label: its first label part, else its answer text (stripped)."""
    for part in ex.answer or []:
        if part.kind == "label" and part.label:
            return part.label
    text = "".join(p.text or "" for p in ex.answer or [] if p.kind == "text").strip()
    return text or None


def media_part(ex: Example, kind: str, attachments: Path | None) -> Part:
    """Return the first part of `kind` in the prompt, loading a stored attachment if needed."""
    for part in ex.prompt:
        if part.kind != kind:
            continue
        if getattr(part, kind) is None and part.attachment and attachments is not None:
            sha = part.attachment
            return get_modality(kind).load(attachments / sha[:2] / sha)
        return part
    raise DataError(f"an example of this {kind} task has no {kind} in its prompt",
                    f"give every example of the task one {kind}")


class LabelTask(Task):
    """Classification of one image, audio clip or text per example."""

    kind = "label"

    def __init__(self, config: TaskConfig, data: TaskData, spec: ModalitySpec) -> None:
        super().__init__(config)
        self.spec = spec
        if config.mixup and config.modality == "text":
            raise ConfigError(f"task {self.name} mixes inputs (mixup = {config.mixup:g}), but "
                              "its inputs are text", "set mixup = 0 (it blends images or audio)")
        if not data.train and not config.classes:
            raise no_examples(self.name)
        labels = [label_of(ex) for ex in data.train]
        if data.train and all(label is None for label in labels):
            raise DataError(f"no training example of task {self.name} has a label",
                            "give each example a label part (or a short text answer)")
        self.classes = list(config.classes) or sorted({x for x in labels if x is not None})
        if len(self.classes) < 2:
            raise DataError(
                f"task {self.name} has only one class ({self.classes[0]!r}); "
                "a label task needs two or more",
                f"add examples of other classes with `insitu data add ... --task {self.name}`",
            )
        self.index = {c: i for i, c in enumerate(self.classes)}
        self.tensors = {s: self._encode(data.split(s), data.attachments) for s in SPLITS}
        if data.train and self.size("train") == 0:
            raise DataError(f"no training example of task {self.name} has one of its classes "
                            f"({', '.join(self.classes)})", "check the labels of the examples")

    def head(self) -> dict[str, Any]:
        """Return the classify head spec with this task's classes."""
        n = len(self.classes)
        args = {"classes": n, "labels": self.classes, "pool": self.config.pool}
        return {"op": "classify", "args": args}

    def stems(self) -> dict[str, dict[str, Any]]:
        """Return the stem the task's modality needs, sized by the profile's settings."""
        m = self.config.modality
        if m == "image":
            return {"image": {"op": "image", "args": {"channels": self.spec.image_channels}}}
        if m == "audio":
            return {"audio": {"op": "audio", "args": {"mels": self.spec.n_mels}}}
        return super().stems()

    def size(self, split: str = "train") -> int:
        """Return the number of labelled examples of a split."""
        return int(self.tensors[check_split(split)]["targets"].numel())

    def _encode(self, examples: Sequence[Example], attachments: Path | None) -> dict[str, Any]:
        """Encode a split's labelled examples into input tensors, targets and weights."""
        kept = [(ex, self.index[y]) for ex in examples
                if (y := label_of(ex)) is not None and y in self.index]  # fmt: skip
        out: dict[str, Any] = {
            "targets": torch.tensor([t for _, t in kept], dtype=torch.long),  # [N]
            "weights": torch.tensor([float(ex.weight) for ex, _ in kept]),  # [N]
        }
        m = self.config.modality
        if m == "text":
            rows = [encode_turn(ex.prompt)[:MAX_TEXT_TOKENS] for ex, _ in kept]
            width = max((len(r) for r in rows), default=1)
            tokens = torch.full((len(rows), width), PAD, dtype=torch.long)  # [N, L]
            for i, r in enumerate(rows):
                tokens[i, : len(r)] = torch.tensor(r)
            out["tokens"], out["mask"] = tokens, tokens != PAD
            return out
        modality = get_modality(m)
        chunks, frames = [], []
        for lo in range(0, len(kept), ENCODE_CHUNK):
            parts = [media_part(ex, m, attachments) for ex, _ in kept[lo : lo + ENCODE_CHUNK]]
            chunks.append(modality.to_tensor(parts, self.spec))
            if m == "audio":  # each clip's own length in frames
                frames += [modality.item_shape(p, self.spec)[0] for p in parts]
        if m == "image":
            grids = [c.mul(255).round_().to(torch.uint8) for c in chunks]  # [n, C, S, S] each
            out["images"] = torch.cat(grids) if grids else torch.zeros(0, dtype=torch.uint8)
        else:
            width = max((c.shape[1] for c in chunks), default=1)  # pad with the last frame
            out["audio"] = torch.cat([F.pad(c.transpose(1, 2), (0, width - c.shape[1]),
                                            mode="replicate").transpose(1, 2)
                                      for c in chunks]) if chunks else torch.zeros(0, 1, 1)
            out["frames"] = torch.tensor(frames, dtype=torch.long).clamp(1, width)  # [N]
        return out

    def _batch(self, split: str, idx: torch.Tensor) -> Batch:
        """Return the batch of a split's examples at `idx` [B]."""
        t = self.tensors[split]
        tokens = mask = images = audio = None
        if "tokens" in t:
            width = int(t["mask"][idx].sum(1).max())
            tokens, mask = t["tokens"][idx, :width], t["mask"][idx, :width]  # [B, L]
        if "images" in t:
            images = t["images"][idx].float().div_(255.0)  # [B, C, S, S]
        if "audio" in t:
            # cut to the longest clip of the batch; the mask marks each clip's real frames, so
            # a clip is pooled over its own frames whatever it is batched with
            frames = t["frames"][idx]  # [B]
            width = int(frames.max()) if len(idx) else 1
            audio = t["audio"][idx, :width]  # [B, F, M]
            mask = torch.arange(width)[None, :] < frames[:, None]  # [B, F]
        return Batch(self.name, tokens, t["targets"][idx], t["weights"][idx], images, audio, mask)

    def batches(self, generator: torch.Generator, batch_size: int,
                context: int) -> Iterator[Batch]:  # fmt: skip
        """Yield batches of training examples drawn uniformly at random (pictures shifted by up
        to `augment` pixels, clips by up to `augment` mel bands, then pairs blended by mixup,
        when the task asks for it)."""
        n = self.size("train")
        if n == 0:
            raise no_examples(self.name)
        pixels, alpha = int(self.config.augment), float(self.config.mixup)
        while True:
            batch = self._batch("train", torch.randint(0, n, (batch_size,), generator=generator))
            if pixels and batch.images is not None:
                batch.images = shift(batch.images, pixels, generator)  # [B, C, S, S]
            if pixels and batch.audio is not None:
                batch.audio = shift_bands(batch.audio, pixels, generator)  # [B, F, M]
            if alpha and batch.images is not None:
                batch.images, perm, lam = mixup(batch.images, alpha, generator)  # [B, C, S, S]
                batch.meta["mixup"] = (perm, lam)
            elif alpha and batch.audio is not None:
                batch.audio, perm, lam = mixup(batch.audio, alpha, generator)  # [B, F, M]
                batch.meta["mixup"] = (perm, lam)
                if batch.mask is not None:  # a blend is as long as the longer of its clips
                    batch.mask = batch.mask | batch.mask[perm]  # [B, F]
            yield batch

    def logits(self, graph: Graph, batch: Batch) -> torch.Tensor:
        """Return the class logits [B, C] of a batch."""
        return graph.forward_tasks(batch.tokens, batch.images, batch.audio, tasks=[self.name],
                                   mask=batch.mask)[self.name]  # fmt: skip

    def loss(self, graph: Graph, batch: Batch) -> torch.Tensor:
        """Return the weighted mean cross-entropy (nats); a mixed batch weights both labels."""
        logits = self.logits(graph, batch)  # [B, C]
        nll = F.cross_entropy(logits, batch.targets, reduction="none")  # [B]
        weights = batch.weights  # [B]
        if "mixup" in batch.meta:
            perm, lam = batch.meta["mixup"]
            perm = perm.to(batch.targets.device)  # [B]
            other = F.cross_entropy(logits, batch.targets[perm], reduction="none")  # [B]
            total = lam * nll * weights + (1 - lam) * other * weights[perm]  # [B]
            return total.sum() / (lam * weights + (1 - lam) * weights[perm]).sum().clamp_min(1e-8)
        return (nll * weights).sum() / weights.sum().clamp_min(1e-8)

    @torch.no_grad()
    def evaluate(
        self,
        graph: Graph,
        split: str = "heldout",
        budget: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """Return accuracy and mean cross-entropy on a split (its first `budget` examples)."""
        n = self.size(check_split(split))
        n = n if budget is None else min(n, budget)
        if n == 0:
            return {}
        graph.eval()
        correct, nll = 0, 0.0
        for lo in range(0, n, EVAL_BATCH):
            batch = self._batch(split, torch.arange(lo, min(n, lo + EVAL_BATCH))).to(graph.device)
            logits = self.logits(graph, batch)  # [B, C]
            correct += int((logits.argmax(-1) == batch.targets).sum())
            nll += float(F.cross_entropy(logits, batch.targets, reduction="sum"))
        return {"accuracy": correct / n, "xent": nll / n}
