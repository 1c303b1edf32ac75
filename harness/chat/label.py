"""Chat with a label profile: an image or a recording goes through the stems, the reply is a label.

A profile whose task is a `label` task over images or audio (the mnist and spoken-digits
templates) answers a picture or a clip with the class its model predicts ("7"). The model is the
profile's champion, else a seed trained for a few seconds on the task's examples and kept in
`checkpoints/chat/seed-<task>.safetensors`. Ratings, tags and corrections teach it with a few
small gradient steps on that one example (a correction is also stored as a labelled example).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from harness.config import TaskConfig
from harness.errors import DataError, InsituError
from harness.graph import checkpoint
from harness.graph.build import Graph
from harness.modality import ModalitySpec, get_modality
from harness.profile import Profile
from harness.store.records import put_attachment
from harness.types import Part

MEDIA = ("image", "audio")
#: what people call each medium in messages
MEDIA_NOUNS = {"image": "pictures", "audio": "recordings"}
SEED_FAMILIES = ("cnn", "mlp", "gru")
SEED_BUDGET = 60_000
#: Gradient steps taken on one example after a rating or correction, and their learning rate.
LEARN_STEPS = 3
LEARN_LR = 1e-3


def label_tasks(profile: Profile) -> list[TaskConfig]:
    """Return the profile's label tasks over images or audio, in the profile's order."""
    return [t for t in profile.config.tasks if t.kind == "label" and t.modality in MEDIA]


def label_task(profile: Profile) -> TaskConfig | None:
    """Return the profile's first label task over images or audio, or None."""
    tasks = label_tasks(profile)
    return tasks[0] if tasks else None


def store_part(profile: Profile, part: Part) -> Part:
    """Store a media part as a content-addressed attachment; return the reference part."""
    if part.attachment and getattr(part, part.kind, None) is None:
        return part
    if part.kind not in MEDIA or getattr(part, part.kind) is None:
        raise DataError(f"a {part.kind} part cannot be attached to a message",
                        "attach an image or an audio clip (with its pixels or samples)")
    data, mime = get_modality(part.kind).file_bytes(part)  # type: ignore[attr-defined]
    sha = put_attachment(profile.store, profile.attachments_dir, data, kind=part.kind, mime=mime)
    return Part(kind=part.kind, attachment=sha, sample_rate=part.sample_rate)


def load_part(profile: Profile, ref: Part) -> Part:
    """Return a stored media part with its pixels or samples loaded."""
    if ref.attachment is None or getattr(ref, ref.kind, None) is not None:
        return ref
    sha = ref.attachment
    part = get_modality(ref.kind).load(profile.attachments_dir / sha[:2] / sha)
    part.attachment = sha
    return part


def _seed_graph(profile: Profile, task: TaskConfig, seed: int, seconds: float,
                steps: int = 0) -> Graph:  # fmt: skip
    """Build a seed classifier for the task and train it on its examples for `steps` (when
    given; deterministic) or else `seconds`."""
    from harness.graph.seeds import seed as seed_genome
    from harness.tasks import load_task
    from harness.train.trainer import Budget, train

    built = load_task(profile, task.name)
    head = built.head()
    if head is None:
        raise DataError(f"task {task.name} has no classifier head", "use a label task")
    cfg = profile.config.model
    family = next((f for f in SEED_FAMILIES if f in cfg.families), cfg.families[0])
    budget = min(max(SEED_BUDGET, cfg.min_params), cfg.max_params)
    genome = seed_genome(family, budget, heads={task.name: head},
                         modalities=[task.modality], context=cfg.context)
    for name, stem in built.stems().items():  # channels and mel bands from the profile
        genome["stems"].setdefault(name, stem)["args"].update(stem.get("args", {}))
    graph = Graph(genome, device="cpu", generator=torch.Generator().manual_seed(seed))
    until = Budget(steps=steps) if steps > 0 else Budget(seconds=max(seconds, 0.5))
    train(graph, [built], until, seed=seed, evaluate_split=None)
    return graph.eval()


class LabelChat:
    """The classifier behind a label profile's chat: predict, and learn from one example.

    `task` is the first label task; a model grown into another modality's label task (`insitu
    bundle grow`, e.g. a friend's MNIST model into spoken digits) answers each attachment with
    the head of the task that reads its kind.
    """

    def __init__(self, profile: Profile, task: TaskConfig, seed: int = 0,
                 warm_seconds: float = 3.0, warm_steps: int = 0) -> None:  # fmt: skip
        self.profile = profile
        self.task = task
        self.tasks = [task] + [t for t in label_tasks(profile) if t.name != task.name]
        self.heads: dict[str, list[str]] = {}
        self.spec = ModalitySpec.from_model_config(profile.config.model)
        self.seed = seed
        self.lock = threading.RLock()
        self.individual_id: str | None = None
        from harness.chat.model import champion_row

        row = champion_row(profile)
        base = None if row is None else str(row["id"])
        learned = self._learned(base)
        if learned is not None:  # what earlier sessions learned on top of this model
            self.set_graph(learned, base)
            return
        if row is not None:
            path = profile.checkpoint_path(row["checkpoint"])
            self.set_graph(checkpoint.load(path, device="cpu"), base)
            return
        path = profile.path / "checkpoints" / "chat" / f"seed-{task.name}.safetensors"
        if not path.is_file():
            checkpoint.save(_seed_graph(profile, task, seed, warm_seconds, warm_steps), path)
        self.set_graph(checkpoint.load(path, device="cpu"), None)

    @property
    def learned_path(self) -> Path:
        """Return where the weights after online learning are kept between sessions."""
        return self.profile.path / "checkpoints" / "chat" / f"online-{self.task.name}.safetensors"

    def _learned(self, base: str | None) -> Graph | None:
        """Return the saved learned weights if they grew from `base` (None: the seed), else None."""
        path = self.learned_path
        if not path.is_file():
            return None
        try:
            if checkpoint.read_metadata(path).get("insitu.online_base", "") != (base or ""):
                return None  # learned on another model: a new champion starts clean
            return checkpoint.load(path, device="cpu")
        except InsituError:
            return None  # a damaged file costs the online steps only; the model is intact

    def set_graph(self, graph: Graph, individual_id: str | None) -> None:
        """Answer with `graph` from now on (it must have a classify head for the first task)."""
        found = {t.name: list(h["args"]["labels"]) for t in self.tasks
                 if "labels" in (h := graph.genome.get("heads", {}).get(t.name) or {}).get(
                     "args", {})}  # fmt: skip
        if self.task.name not in found:
            raise DataError(f"the model has no classifier for task {self.task.name}",
                            f"evolve one: `insitu evolve -p {self.profile.name}`")
        with self.lock:
            self.graph = graph.to("cpu").eval()
            self.heads = found
            self.labels: list[str] = found[self.task.name]
            self.individual_id = individual_id

    def task_for(self, kind: str) -> TaskConfig:
        """Return the task whose head answers a part of `kind` (image or audio), or raise."""
        for task in self.tasks:
            if task.modality == kind and task.name in self.heads:
                return task
        reads = " or ".join(sorted({t.modality for t in self.tasks if t.name in self.heads}))
        want = "an image" if "image" in reads else "a recording"
        raise DataError(f"this profile's model classifies {reads}, not {kind}",
                        f"attach {want} instead")

    def modalities(self) -> list[str]:
        """Return the media the model answers (those of the tasks it has heads for), in order."""
        return list(dict.fromkeys(t.modality for t in self.tasks if t.name in self.heads))

    def knows(self, part: Part, label: str) -> bool:
        """Return whether the head answering `part` has `label` among its classes."""
        return label in self.heads.get(self.task_for(part.kind).name, [])

    @property
    def label(self) -> str:
        """Return e.g. 'cnn · 20k params · champion 01J…' for the chat header."""
        from harness.chat.model import label_for

        return label_for(self.graph, self.individual_id)

    def _logits(self, part: Part) -> torch.Tensor:
        """Return the class logits [1, C] of one part from the head of the task that reads it."""
        name = self.task_for(part.kind).name
        x = get_modality(part.kind).to_tensor([part], self.spec)  # [1, C, S, S] or [1, F, M]
        media = {"images" if part.kind == "image" else "audio": x}
        return self.graph.forward_tasks(None, tasks=[name], **media)[name]  # [1, C]

    def predict(self, part: Part) -> tuple[str, float]:
        """Return the predicted label of a media part and its probability."""
        with self.lock, torch.no_grad():
            probs = self._logits(part).softmax(-1)[0]  # [C]
            i = int(probs.argmax())
            return self.heads[self.task_for(part.kind).name][i], float(probs[i])

    def learn(self, part: Part, label: str, value: int = 1) -> tuple[float, float]:
        """Take a few small steps towards (`value` > 0) or away from `label`; return the loss
        before the first step and after the last (both 0.0 for a label the model lacks).

        1. Encode the part once.
        2. For each step: cross-entropy to the label (or -log(1 - p(label)) to push it down),
           then an Adam step on all weights with a small learning rate.
        3. Measure the loss once more without a step.
        """
        labels = self.heads[self.task_for(part.kind).name]
        if label not in labels:
            return 0.0, 0.0
        target = torch.tensor([labels.index(label)])  # [1]

        def loss_of(logits: torch.Tensor) -> torch.Tensor:
            """Return the step's loss for logits [1, C]."""
            if value > 0:
                return F.cross_entropy(logits, target)
            p = logits.softmax(-1)[0, target]  # [1]
            return -torch.log1p(-p.clamp(max=1 - 1e-6)).mean()

        with self.lock:
            opt = torch.optim.Adam(self.graph.parameters(), lr=LEARN_LR)
            self.graph.train()
            before = None
            try:
                for _ in range(LEARN_STEPS):
                    loss = loss_of(self._logits(part))
                    before = float(loss.detach()) if before is None else before
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            finally:
                self.graph.eval()
            with torch.no_grad():
                after = float(loss_of(self._logits(part)))
            checkpoint.save(self.graph, self.learned_path,
                            {"insitu.online_base": self.individual_id or ""})  # fmt: skip
            return before if before is not None else after, after

    def check_label(self, label: str, kind: str | None = None) -> str:
        """Return a correction's label if the task answering `kind` (default: the first task)
        can learn it, else raise DataError."""
        label = label.strip()
        task = self.task if kind is None else self.task_for(kind)
        if task.classes and label not in task.classes:
            raise DataError(f"'{label}' is not a class of task {task.name}",
                            f"correct with one of: {', '.join(task.classes)}")
        return label

    def save(self, path: Path) -> None:
        """Write the current weights (after learning) to a checkpoint."""
        checkpoint.save(self.graph, path)

    def describe(self) -> dict[str, Any]:
        """Return the task, modality and classes the chat answers with."""
        return {"task": self.task.name, "modality": self.task.modality, "labels": self.labels,
                "tasks": {t.name: {"modality": t.modality, "labels": self.heads[t.name]}
                          for t in self.tasks if t.name in self.heads}}
