"""Lower a whole graph to a step program and run it natively, one C call per token."""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import torch

from harness.errors import DataError
from harness.genome import INPUT
from harness.graph.native.compile import library
from harness.graph.native.program import NotLowerable, Program

if TYPE_CHECKING:
    from harness.graph.build import Graph

log = logging.getLogger(__name__)
FAILURES = {-1: "the attention cache is full", -2: "a token id outside the vocabulary",
            -3: "an unknown instruction"}  # fmt: skip


def lower_graph(
    graph: Graph, capacity: int, control: torch.Tensor | None = None, task: str | None = None
) -> Program:
    """Return the step program of `graph` for up to `capacity` positions (raises NotLowerable).

    1. Embed the token into the input slot (the text stem) and add the control bias.
    2. Lower every live body node in evaluation order: pre-norm, unit, scaled residual.
    3. Lower the task's head on its input node; its output slot holds the logits.
    """
    task = task or graph.default_task()
    p = Program(graph.width, capacity)
    if "text" in graph.stems:
        stem = graph.stems["text"]
        lower_embed = getattr(stem, "lower", None)
        if lower_embed is None:
            raise NotLowerable(f"stem '{stem.name}'")
        lower_embed(p)
    bias = graph.control_bias(control)  # [1, D] | None
    if bias is not None:
        p.emit("add", p.input, p.input, p.const(bias[0]), graph.width)
    values = {INPUT: p.input}
    for i, block, inputs in graph._plan:
        xs = [values[j] for j in inputs]
        if block.norm is None and not block.residual:
            values[i] = block.unit.lower(p, xs)
            continue
        h = xs[0] if block.norm is None else block.norm.lower(p, [xs[0]])
        y = block.unit.lower(p, [h])
        if block.scale is None:
            values[i] = y
        else:
            out = p.scratch(graph.width)
            p.emit("addscaled", out, xs[0], y, p.scalar(float(block.scale.detach())), graph.width)
            values[i] = out
    head = graph.heads[task]
    lower_head = getattr(head, "lower", None)
    if lower_head is None:
        raise NotLowerable(f"head '{head.name}'")
    p.finish(lower_head(p, values[graph.head_inputs[task]]), int(cast(Any, head).vocab_size))
    return p


class Context(ctypes.Structure):
    """The engine's `insitu_ctx`: one generation's program, arena, position and sampling."""

    _fields_ = [
        ("code", ctypes.c_void_p),
        ("count", ctypes.c_int64),
        ("arena", ctypes.c_void_p),
        ("scores", ctypes.c_void_p),
        ("work", ctypes.c_void_p),
        ("pos", ctypes.c_int64),
        ("logits", ctypes.c_int64),
        ("vocab", ctypes.c_int64),
        ("inv_temp", ctypes.c_double),
        ("top_k", ctypes.c_int64),
        ("top_p", ctypes.c_double),
    ]


class NativeStepper:
    """A lowered graph with its own state: feed tokens or stem vectors, read or sample logits."""

    def __init__(self, lib: ctypes.CDLL, program: Program) -> None:
        self.program = program
        self._code = program.packed()  # [count, WIDTH]
        self._arena = program.arena()  # [size]
        self._scores = torch.empty(max(program.capacity, 1), dtype=torch.float32)
        self._work = torch.empty(2 * max(program.vocab, 1), dtype=torch.float32)
        self._ctx = Context(
            self._code.data_ptr(), int(self._code.shape[0]), self._arena.data_ptr(),
            self._scores.data_ptr(), self._work.data_ptr(), 0, program.logits, program.vocab,
            1.0, 0, 1.0,
        )  # fmt: skip
        ctx = ctypes.addressof(self._ctx)
        self._feed = functools.partial(lib.insitu_feed, ctx)
        self._draw = functools.partial(lib.insitu_draw, ctx)
        self.next = functools.partial(lib.insitu_next, ctx)
        self.next.__doc__ = "Feed a token and draw the next with the uniform u (negative: error)."

    @property
    def pos(self) -> int:
        """Return the number of positions stepped so far."""
        return int(self._ctx.pos)

    def check(self, rc: int) -> int:
        """Return rc if it is a token (>= 0) or 0, else raise DataError for the engine's code."""
        if rc < 0:
            raise DataError(
                f"native step failed at position {self.pos}: {FAILURES.get(rc, rc)}",
                "start a new generation (the cache is sized to prompt plus max_tokens)",
            )
        return rc

    def configure(self, temperature: float, top_k: int, top_p: float) -> None:
        """Set the sampling used by `draw` and `next` (temperature 0 is greedy)."""
        self._ctx.inv_temp = 0.0 if temperature == 0 else 1.0 / temperature
        self._ctx.top_k, self._ctx.top_p = int(top_k), float(top_p)

    def step(self, token: int) -> None:
        """Advance every node by one token (its stem vector is looked up natively)."""
        self.check(self._feed(token))

    def step_vector(self, x: torch.Tensor) -> None:
        """Advance by one position given a stem vector x [D] (a spliced image or audio frame)."""
        self.write(self.program.input, x.reshape(self.program.dim))
        self.check(self._feed(-1))

    def write(self, slot: int, x: torch.Tensor) -> None:
        """Write x (flattened) into the arena at `slot` (an input buffer of the program)."""
        flat = x.reshape(-1)
        self._arena[slot : slot + flat.numel()] = flat

    def draw(self, u: float) -> int:
        """Draw a token from the latest logits with the uniform draw `u` (as generate.sampler)."""
        return int(self._draw(u))

    def draws(
        self,
        temperature: float,
        top_k: int,
        top_p: float,
        limit: int,
        generator: torch.Generator | None,
    ) -> Iterator[int]:
        """Yield up to `limit` tokens drawn from the logits; each is fed when the caller resumes.

        The uniforms come from `generator` in the order the PyTorch sampler draws them, so
        both paths give the same tokens for one seed.
        """
        if limit <= 0:
            return
        us = [0.0] * limit
        if temperature > 0:
            dev = generator.device if generator is not None else torch.device("cpu")
            us = torch.rand(limit, generator=generator, device=dev).tolist()
        self.configure(temperature, top_k, top_p)
        token = self.draw(us[0])
        after, check = self.next, self.check
        for u in us[1:]:
            yield token
            token = check(after(token, u))
        yield token

    def logits(self) -> torch.Tensor:
        """Return a copy of the latest logits [1, V]."""
        off, v = self.program.logits, self.program.vocab
        return self._arena[off : off + v].clone()[None]


def native_stepper(
    graph: Graph,
    capacity: int,
    control: torch.Tensor | None = None,
    task: str | None = None,
) -> NativeStepper | None:
    """Return a native stepper for a CPU graph, or None (the PyTorch step path is used)."""
    if graph.device.type != "cpu":
        return None
    lib = library()  # None also when INSITU_NATIVE switches the engine off
    if lib is None:
        return None
    try:
        ctrl: Any = None if control is None else control.reshape(1, -1).to(graph.device)
        program = lower_graph(graph, max(int(capacity), 1), ctrl, task)
    except NotLowerable as exc:
        log.debug("native step path not used: %s", exc)
        return None
    return NativeStepper(lib, program)
