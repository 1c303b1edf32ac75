"""The `text` task: corpus continuation and prompt -> answer pairs, trained as next-byte prediction.

Two shapes of example, possibly mixed in one task:

- corpus chunks (a prompt, no answer): the chunks of each split are joined in order into one
  byte stream, and training draws random windows of the genome's context length from it;
- pairs (prompt and answer): encoded with harness.vocab as `BOS USER prompt ASSISTANT answer EOS`.
  The loss weight of an answer token (and the closing EOS) is 1, that of a prompt token
  `PROMPT_WEIGHT` (0.1): the model mostly learns to answer, a little to read and predict prompts,
  which helps it model the language on small data without learning to speak for the person.
  Pairs longer than the context keep their last context + 1 tokens. The example's weight
  (from ratings and other signals) multiplies every weight of its tokens.

Metrics: `bpb`, bits per byte of the split (held out by default): every corpus byte and every
answer token (bytes and EOS) predicted once; `recall`, the share of training pairs (a fixed
sample of `recall_sample`) whose answer greedy decoding through the step path reproduces exactly;
`exact`, the same for the pairs of the evaluated split (at most `recall_sample` of them);
`progressive_bpb`, bits per byte when each unit of the split is predicted, then learned
(lm.progressive_bits), over `streams` independent streams at `progressive_lr`.
`evaluate(metrics=...)` picks among METRICS; the default is bpb and recall.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from harness.config import TaskConfig
from harness.tasks import lm
from harness.tasks.base import SPLITS, Batch, Task, check_split, no_examples
from harness.tasks.data import TaskData
from harness.types import Example
from harness.vocab import ASSISTANT, BOS, EOS, USER, encode_parts

if TYPE_CHECKING:
    from harness.graph.build import Graph

PROMPT_WEIGHT = 0.1
RECALL_SAMPLE = 64
STREAMS = 4
DEFAULT_METRICS = ("bpb", "recall")
METRICS = ("bpb", "recall", "exact", "progressive_bpb")


@dataclass
class TextSplit:
    """One split of a text task as tensors: the corpus byte stream and the encoded pairs."""

    stream: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    pairs: list[lm.Seq] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Return True when there is nothing to train on or measure."""
        return self.stream.numel() < 2 and not self.pairs


def encode_pair(ex: Example, prompt_weight: float = PROMPT_WEIGHT) -> lm.Seq:
    """Encode a pair as `BOS USER prompt ASSISTANT answer EOS` with its target weights."""
    head = [BOS, USER, *encode_parts(ex.prompt), ASSISTANT]
    body = [*encode_parts(ex.answer or []), EOS]
    tokens = torch.tensor(head + body, dtype=torch.long)  # [L]
    answer = torch.zeros(tokens.numel() - 1)  # [L-1] targets that are answer tokens
    answer[len(head) - 1 :] = 1.0
    train = (answer + (1 - answer) * prompt_weight) * float(ex.weight)
    return lm.Seq(tokens, train, answer)


def build_split(examples: Sequence[Example], prompt_weight: float = PROMPT_WEIGHT) -> TextSplit:
    """Return the tensors of a split: corpus chunks joined in order, pairs encoded."""
    corpus = bytearray()
    pairs = []
    for ex in examples:
        if ex.answer is None:
            corpus += bytes(t for t in encode_parts(ex.prompt) if t < 256)
        else:
            pairs.append(encode_pair(ex, prompt_weight))
    stream = torch.frombuffer(corpus, dtype=torch.uint8).long() if corpus else TextSplit().stream
    return TextSplit(stream, pairs)


def clip(seq: lm.Seq, context: int) -> lm.Seq:
    """Return the sequence's last context + 1 tokens (and their weights)."""
    if seq.tokens.numel() <= context + 1:
        return seq
    return lm.Seq(seq.tokens[-context - 1 :], seq.train[-context:], seq.score[-context:])


class TextTask(Task):
    """Next-byte prediction on a corpus and/or prompt -> answer pairs."""

    kind = "text"

    def __init__(self, config: TaskConfig, data: TaskData,
                 prompt_weight: float = PROMPT_WEIGHT) -> None:  # fmt: skip
        super().__init__(config)
        self.prompt_weight = prompt_weight
        self.recall_sample = RECALL_SAMPLE
        self.streams = STREAMS
        self.progressive_lr: float | None = None  # None: lm.PROGRESSIVE_LR x the genome's lr
        self.splits = {s: build_split(data.split(s), prompt_weight) for s in SPLITS}
        self._checksum: int | None = None  # of the training split, once a memory needs it

    def head(self) -> dict[str, Any]:
        """Return the lm head spec (with the task's count memory, if it has one)."""
        memory = self.config.memory
        return {"op": "lm", "args": {"memory": memory} if memory else {}}

    def sync_memory(self, graph: Graph) -> None:
        """Make the graph's count memory (if its head has one) count this task's training split.

        The memory is recounted only when the split changed since it was counted (the split's
        checksum is kept with the counts); the held-out split is never counted, and a task
        without training data leaves the counts alone.
        """
        head = graph.heads[self.name] if self.name in graph.heads else None
        memory = getattr(head, "memory", None)
        split = self.splits["train"]
        if memory is None or split.empty:
            return  # a task of test files only (`insitu eval`) keeps what the graph counted
        if self._checksum is None:
            crc = zlib.crc32(split.stream.to(torch.int16).numpy().tobytes())
            for pair in split.pairs:
                crc = zlib.crc32(pair.tokens.to(torch.int16).numpy().tobytes(), crc)
            self._checksum = crc
        if memory.source == self._checksum:
            return
        memory.clear()
        if split.stream.numel() >= 2:
            memory.add(split.stream)
        by_length: dict[int, list[torch.Tensor]] = {}  # pairs of one length count in one batch
        for pair in split.pairs:
            by_length.setdefault(int(pair.tokens.numel()), []).append(pair.tokens)
        for rows in by_length.values():
            memory.add(torch.stack(rows))  # [B, L]
        memory.source = self._checksum

    def size(self, split: str = "train") -> int:
        """Return the corpus bytes plus the pair tokens of a split."""
        s = self.splits[check_split(split)]
        return int(s.stream.numel()) + sum(int(p.tokens.numel()) for p in s.pairs)

    # ------------------------------------------------------------------------------ training
    def batches(self, generator: torch.Generator, batch_size: int,
                context: int) -> Iterator[Batch]:  # fmt: skip
        """Yield batches of corpus windows and pairs, mixed in proportion to their tokens.

        1. Each row is a corpus window with probability corpus tokens / all tokens, else a pair.
        2. Windows start uniformly at random; pairs are drawn uniformly (last context+1 tokens).
        3. Rows are right-padded with PAD, whose targets weigh 0.
        """
        split = self.splits["train"]
        if split.empty:
            raise no_examples(self.name)
        stream = split.stream
        width = min(context, stream.numel() - 1) + 1 if stream.numel() >= 2 else 0
        pair_tokens = sum(min(int(p.tokens.numel()), context + 1) for p in split.pairs)
        p_corpus = stream.numel() / (stream.numel() + pair_tokens) if width else 0.0
        offsets = torch.arange(width)  # [W]
        while True:
            n_corpus = int((torch.rand(batch_size, generator=generator) < p_corpus).sum())
            rows: list[lm.Seq] = []
            if n_corpus:
                starts = torch.randint(0, stream.numel() - width + 1, (n_corpus,),
                                       generator=generator)  # fmt: skip
                windows = stream[starts[:, None] + offsets]  # [n, W]
                if n_corpus == batch_size:  # the common case: no padding needed
                    yield Batch(self.name, windows[:, :-1], windows[:, 1:],
                                torch.ones(batch_size, width - 1))  # fmt: skip
                    continue
                ones = torch.ones(width - 1)
                rows += [lm.Seq(w, ones, ones) for w in windows]
            n_pairs = batch_size - n_corpus
            if n_pairs:
                picks = torch.randint(0, len(split.pairs), (n_pairs,), generator=generator)
                rows += [clip(split.pairs[i], context) for i in picks.tolist()]
            tokens, train, _ = lm.pad_batch(rows)
            yield Batch(self.name, tokens[:, :-1], tokens[:, 1:], train)

    def loss(self, graph: Graph, batch: Batch) -> torch.Tensor:
        """Return the weighted mean next-token cross-entropy (nats).

        A count memory leaves each target's own count out: the batch is text it counted.
        """
        self.sync_memory(graph)
        logits = graph.forward_tasks(batch.tokens, tasks=[self.name],
                                     targets=batch.targets)[self.name]  # [B, T, V]
        nll = F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(), reduction="none")
        w = batch.weights.flatten()  # [B*T]
        return (nll * w).sum() / w.sum().clamp_min(1e-8)

    # ------------------------------------------------------------------------------ metrics
    def evaluate(
        self,
        graph: Graph,
        split: str = "heldout",
        budget: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """Return the asked METRICS (default bpb of the split, recall of training pairs)."""
        wanted = tuple(metrics or DEFAULT_METRICS)
        data = self.splits[check_split(split)]
        self.sync_memory(graph)
        context = int(graph.genome["context"])
        out: dict[str, float] = {}
        if "bpb" in wanted:
            bits, count = lm.scored_bits(graph, self.name, self.units(data, context, budget))
            if count:
                out["bpb"] = bits / count
        if "recall" in wanted and self.splits["train"].pairs:
            out["recall"] = lm.recall(graph, self.name, self.recall_pairs(context))
        if "exact" in wanted and data.pairs:
            pairs = [clip(p, context) for p in data.pairs[: self.recall_sample]]
            out["exact"] = lm.recall(graph, self.name, pairs)
        if "progressive_bpb" in wanted:
            runs = self.runs(data, context, budget)
            bits, count = lm.progressive_bits(graph, self.name, runs, self.progressive_lr)
            if count:
                out["progressive_bpb"] = bits / count
        return out

    def units(self, data: TextSplit, context: int, budget: int | None) -> list[lm.Seq]:
        """Return the scoring units of a split: stream windows, then pairs, within the budget."""
        units = lm.stream_seqs(data.stream, context, budget) if data.stream.numel() >= 2 else []
        left = None if budget is None else budget - min(budget, max(0, data.stream.numel() - 1))
        for pair in data.pairs:
            if left is not None and left <= 0:
                break
            seq = clip(pair, context)
            units.append(seq)
            left = None if left is None else left - int(seq.score.sum())
        return units

    def runs(self, data: TextSplit, context: int, budget: int | None) -> list[list[lm.Seq]]:
        """Return `streams` independent runs of the split for progressive evaluation."""
        n = data.stream.numel()
        if budget is not None:
            n = min(n, budget + 1)
        runs: list[list[lm.Seq]] = []
        if n >= 2:
            per = -(-n // self.streams)
            for lo in range(0, n - 1, per):
                part = data.stream[lo : min(n, lo + per + 1)]
                if part.numel() >= 2:
                    runs.append(lm.stream_seqs(part, context))
        pairs = [u for u in self.units(TextSplit(pairs=data.pairs), context, budget)]
        return runs + lm.deal(pairs, self.streams)

    def recall_pairs(self, context: int) -> list[lm.Seq]:
        """Return the fixed sample of training pairs whose recall is measured."""
        pairs = self.splits["train"].pairs
        picks: Sequence[int] = range(len(pairs))
        if len(pairs) > self.recall_sample:
            picks = sorted(random.Random(0).sample(range(len(pairs)), self.recall_sample))
        return [clip(pairs[i], context) for i in picks]
