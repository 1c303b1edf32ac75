"""The micro-graph built from a genome: stems -> body DAG -> heads, with a parallel and a step path.

The parallel path (`forward`) runs whole sequences for training; the step path (`init_state`,
`step`) runs one token at a time for generation and gives the same outputs to float32 precision.
A body node computes `x + scale * op(norm(x))` when residual (the scale is learnable and starts
at the genome's `scale`, 0 for a freshly grown node), `op(norm(x))` otherwise, and
`op(x1, x2, ...)` for merge nodes. Node 0 is the stem output plus the control bias.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import nn

from harness.errors import DataError, GenomeError
from harness.genome import INPUT, Genome, live_nodes, topo_order, validate
from harness.graph.adapters import AdaptersMixin
from harness.graph.block import Block, make_plugin, one_position, resolve_device
from harness.graph.heads.lm import LMHead
from harness.graph.splice import Media, gather_tokens, has_media, splice
from harness.graph.stems.base import Stem
from harness.graph.unit import State

GraphState = dict[Any, Any]
_NO_STATE: State = {}
TOKEN_HEADS = frozenset({"lm"})


class Graph(AdaptersMixin, nn.Module):
    """A micro-graph built from a genome; float32, on CPU or CUDA."""

    def __init__(
        self,
        genome: Genome,
        device: str | torch.device | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self._preferred_task: str | None = None  # set by prefer_task
        self._device = torch.device("cpu")
        self.genome: Genome = validate(copy.deepcopy(genome))
        g = self.genome
        self.width = int(g["width"])
        self._init_adapters()
        self.stems = nn.ModuleDict(
            {
                m: make_plugin("stem", s["op"], self.width, s.get("args", {}), generator)
                for m, s in g["stems"].items()
            }
        )
        self.blocks = nn.ModuleDict(
            {str(n["id"]): Block(n, self.width, generator) for n in g["nodes"]}
        )
        self.heads = nn.ModuleDict(
            {
                t: make_plugin("head", h["op"], self.width, h.get("args", {}), generator)
                for t, h in g["heads"].items()
            }
        )
        self._wire()
        self.to(resolve_device(device))

    def _wire(self) -> None:
        """Compute the evaluation plan (node order and inputs) from the genome."""
        g = self.genome
        live = live_nodes(g)
        self.order = [i for i in topo_order(g) if i in live]
        specs = {int(n["id"]): n for n in g["nodes"]}
        for i in self.order:
            self.block(i).inputs = [int(j) for j in specs[i]["inputs"]]
        self.head_inputs = {t: int(h.get("input", g["output"])) for t, h in g["heads"].items()}
        self.output_id = int(g["output"])
        self._plan = [(i, self.block(i), self.block(i).inputs) for i in self.order]
        # the step path reads plain references: nn.Module attribute lookups cost microseconds
        self._steps = [
            (i, b.unit.step, None if b.norm is None else b.norm.step, b.scale, tuple(b.inputs))
            for i, b, _ in self._plan
        ]
        self._embed_step: Callable[[torch.Tensor], torch.Tensor] | None = (
            getattr(self.stems["text"], "step", None) if "text" in self.stems else None
        )
        self._head_steps = {
            t: (
                getattr(h, "step", None) or functools.partial(one_position, h),
                self.head_inputs[t],
            )
            for t, h in self.heads.items()
        }
        self._default_task = self.default_task()
        # lm heads with a count memory: their outputs are mixed with it (heads/lm.py)
        self._mixers: dict[str, LMHead] = {
            t: h for t, h in self.heads.items() if isinstance(h, LMHead) and h.memory is not None
        }
        self._history: int = max([h.order for h in self._mixers.values()], default=0)

    def block(self, node_id: int) -> Block:
        """Return the block of a body node."""
        return cast(Block, self.blocks[str(node_id)])

    def adopt(self, genome: Genome, new_blocks: dict[int, Block] | None = None) -> None:
        """Switch in place to an edited genome: add `new_blocks`, drop removed nodes, rewire."""
        genome = validate(copy.deepcopy(genome))
        ids = {int(n["id"]) for n in genome["nodes"]}
        for i, block in (new_blocks or {}).items():
            self.blocks[str(i)] = block.to(self.device)
        missing = sorted(ids - {int(k) for k in self.blocks})
        if missing:
            raise GenomeError(f"no weights for new nodes {missing}", "pass their blocks to adopt")
        for key in [k for k in self.blocks if int(k) not in ids]:
            del self.blocks[key]
        self.genome = genome
        self._wire()

    # ------------------------------------------------------------------------- properties
    @property
    def device(self) -> torch.device:
        """Return the device the weights live on (cached: the step path reads it every token)."""
        return self._device

    def _apply(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = super()._apply(fn, *args, **kwargs)
        self._device = next(self.parameters()).device
        if hasattr(self, "_plan"):
            self._wire()
        return out

    @property
    def family(self) -> str:
        """Return the seed family the genome descends from."""
        return str(self.genome.get("family", "random"))

    def default_task(self) -> str:
        """Return the preferred task (`prefer_task`), else the first `lm` head's, else the first."""
        if self._preferred_task in self.genome["heads"]:
            return str(self._preferred_task)
        for task, spec in self.genome["heads"].items():
            if spec["op"] in TOKEN_HEADS:
                return str(task)
        return str(next(iter(self.genome["heads"])))

    def prefer_task(self, task: str) -> None:
        """Make `task`'s head the default of forward, step and generation, if the graph has it.

        Heads are stored by name, so a graph grown into a second task (`insitu bundle grow`)
        would otherwise answer the chat with whichever name sorts first.
        """
        if task in self.genome["heads"]:
            self._preferred_task = task
            self._default_task = task

    def num_parameters(self, adapters: bool = False) -> int:
        """Return the number of base parameters (plus adapters and control when asked)."""
        extra = {id(p) for p in self.adapter_parameters()}
        return sum(p.numel() for p in self.parameters() if adapters or id(p) not in extra)

    def frozen_names(self) -> list[str]:
        """Return the parameters of the parts the genome marks `"frozen": true` (no adapters)."""
        g = self.genome
        prefixes = [f"blocks.{n['id']}." for n in g["nodes"] if n.get("frozen")]
        prefixes += [f"stems.{m}." for m, s in g["stems"].items() if s.get("frozen")]
        prefixes += [f"heads.{t}." for t, h in g["heads"].items() if h.get("frozen")]
        if not prefixes:
            return []
        extra = {id(p) for p in self.adapter_parameters()}
        return [n for n, p in self.named_parameters()
                if n.startswith(tuple(prefixes)) and id(p) not in extra]  # fmt: skip

    def flops_per_token(self) -> int:
        """Return the approximate multiply-adds per generated token (text stem, body, lm head)."""
        blocks = [self.block(i) for i in self.order]
        mods: list[nn.Module] = [b.unit for b in blocks]
        mods += [b.norm for b in blocks if b.norm is not None]
        if "text" in self.stems:
            mods.append(self.stems["text"])
        mods.append(self.heads[self.default_task()])
        total = 0
        for m in mods:
            fn = getattr(m, "flops_per_token", None)
            total += int(fn()) if fn else sum(p.numel() for p in m.parameters() if p.dim() >= 2)
        return total

    # ------------------------------------------------------------------------- parallel path
    def _encode(self, modality: str, item: torch.Tensor) -> torch.Tensor:
        """Encode one media item (no batch axis) with its stem -> [N, D]."""
        if modality not in self.stems:
            raise DataError(
                f"this graph has no {modality} stem, so it cannot read {modality} input",
                f"add a '{modality}' stem to the genome (evolution adds stems for new modalities)",
            )
        return self.stems[modality](item[None].to(self.device))[0]  # [N, D]

    def embed(
        self,
        tokens: torch.Tensor | None,
        images: Media = None,
        audio: Media = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Return the stem output [B, L, D], token positions [B, T] and real positions [B, L]."""
        # positions are None when nothing was spliced; real positions also when no mask was given
        media = {"image": images, "audio": audio}
        if tokens is None:  # media only: a batch tensor of one modality
            for name, items in media.items():
                if isinstance(items, torch.Tensor):
                    if name not in self.stems:
                        self._encode(name, items[0])  # raises the clear error
                    stem = cast(Stem, self.stems[name])
                    # mask [B, F]: the real steps of inputs padded to one length (audio frames)
                    real = None if mask is None else stem.output_mask(mask.to(self.device))
                    return stem(items.to(self.device)), None, real
            raise DataError("nothing to embed: no tokens and no media tensor", "pass tokens")
        if "text" not in self.stems:
            raise DataError("this graph has no text stem", "add a 'text' stem to the genome")
        tokens = tokens.to(self.device)
        x = self.stems["text"](tokens)  # [B, T, D]
        if mask is not None:
            mask = mask.to(self.device, torch.bool)
        if not has_media(media):
            return x, None, mask
        x, index, real = splice(tokens, x, media, self._encode)
        if mask is not None:
            real = real.scatter(1, index, mask)  # padded tokens are not real either
        return x, index, real

    def body(self, x: torch.Tensor, control: torch.Tensor | None = None) -> dict[int, torch.Tensor]:
        """Run the body DAG over x [B, L, D]; return the outputs of every node ([B, L, D] each)."""
        bias = self.control_bias(control)  # [B, D] | None
        values = {INPUT: x if bias is None else x + bias[:, None]}
        for i, block, inputs in self._plan:
            values[i] = block(*[values[j] for j in inputs])
        return values

    def forward_tasks(
        self,
        tokens: torch.Tensor | None,
        images: Media = None,
        audio: Media = None,
        control: torch.Tensor | None = None,
        tasks: list[str] | None = None,
        mask: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Run the body once and every requested head: lm -> [B, T, V], pooled heads -> [B, ...].

        An lm head with a count memory returns log-probabilities; `targets` [B, T] (the next
        tokens, when training on text the memory counted) make it leave their counts out.
        """
        # mask [B, T] marks real (non-padding) tokens for the pooled heads
        x, index, real = self.embed(tokens, images, audio, mask)
        values = self.body(x, control)
        out = {}
        for task in tasks or list(self.heads):
            if task not in self.heads:
                raise DataError(f"this graph has no head for task '{task}'", "add a head for it")
            h = values[self.head_inputs[task]]
            if self.genome["heads"][task]["op"] in TOKEN_HEADS:
                out[task] = self.heads[task](gather_tokens(h, index))
                if task in self._mixers and tokens is not None:
                    out[task] = self._mixers[task].mix(out[task], tokens, targets)
            else:
                out[task] = self.heads[task](h) if real is None else self.heads[task](h, real)
        return out

    def forward(
        self,
        tokens: torch.Tensor | None,
        images: Media = None,
        audio: Media = None,
        control: torch.Tensor | None = None,
        task: str | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Run the parallel path and one head (default: the lm head); tokens [B, T]."""
        task = task or self.default_task()
        return self.forward_tasks(tokens, images, audio, control, [task], mask)[task]

    # ------------------------------------------------------------------------- step path
    def init_state(self, batch: int = 1, control: torch.Tensor | None = None) -> GraphState:
        """Return the empty generation state of every node (plus the control bias)."""
        dev = self.device
        state: GraphState = {i: b.unit.init_state(batch, dev) for i, b, _ in self._plan}
        state["control"] = self.control_bias(control)  # [B, D] | None
        if self._history:  # the last tokens, for the count memories of lm heads
            state["history"] = torch.zeros(batch, 0, dtype=torch.long)
        return state

    def step_vector(self, state: GraphState, x: torch.Tensor) -> torch.Tensor:
        """Advance every node by one position given a stem vector x [B, D]; return the output."""
        # the same computation as Block.step, unrolled over plain references for speed
        bias = state["control"]
        values = {INPUT: x if bias is None else x + bias}
        for i, unit_step, norm_step, scale, inputs in self._steps:
            if len(inputs) == 1:
                x = values[inputs[0]]
                h = x if norm_step is None else norm_step(_NO_STATE, x)[0]  # [B, D]
                y, state[i] = unit_step(state[i], h)
                values[i] = y if scale is None else torch.addcmul(x, y, scale)
            else:
                values[i], state[i] = unit_step(state[i], *[values[j] for j in inputs])
        state["values"] = values
        return values[self.output_id]  # [B, D]

    def step(self, state: GraphState, token: torch.Tensor, task: str | None = None) -> torch.Tensor:
        """Feed one token per sequence [B]; return the token head's logits [B, V]."""
        if self._embed_step is None:
            raise DataError("this graph has no text stem", "add a 'text' stem to the genome")
        self.step_vector(state, self._embed_step(token))  # [B, D]
        if self._history:
            seen = torch.cat([state["history"], token.detach().cpu().view(-1, 1)], dim=1)
            state["history"] = seen[:, -self._history :]  # [B, <=H]
        return self.read_head(state, task)

    def read_head(self, state: GraphState, task: str | None = None) -> torch.Tensor:
        """Apply a token head to the latest step's node output -> [B, V]."""
        task = task or self._default_task
        head_step, node = self._head_steps[task]
        out = head_step(state["values"][node])  # [B, D] -> [B, V] (+1 with a memory)
        head = self._mixers.get(task)
        if head is None or head.memory is None:
            return out
        seen = state.get("history")
        if seen is None or seen.shape[1] == 0:  # no token yet: the neural part alone
            return torch.log_softmax(out[:, :-1], dim=-1)
        return head.combine(out, head.memory.probs(seen)[:, -1])  # [B, V]

    def prefill(
        self,
        state: GraphState,
        tokens: torch.Tensor,
        images: Media = None,
        audio: Media = None,
        task: str | None = None,
    ) -> torch.Tensor:
        """Step through a prompt [B, T] (media spliced at their markers); return the last logits."""
        if not has_media({"image": images, "audio": audio}):
            logits = None
            for t in range(tokens.shape[1]):
                logits = self.step(state, tokens[:, t], task)
            if logits is None:
                raise DataError("the prompt is empty", "encode at least one token (BOS)")
            return logits
        x, _, _ = self.embed(tokens, images, audio)  # [B, L, D]
        for t in range(x.shape[1]):
            self.step_vector(state, x[:, t])
        return self.read_head(state, task)
