"""Token-by-token sampling through the step path, streaming whole characters as they complete."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from harness.errors import DataError
from harness.graph.build import Graph
from harness.graph.native.stepper import native_stepper
from harness.graph.splice import Media, has_media
from harness.vocab import EOS, IncrementalDecoder


@dataclass(frozen=True)
class Sampling:
    """Sampling settings: temperature 0 is greedy; top_k 0 and top_p 1.0 switch those off."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[int, ...] = (EOS,)

    def __post_init__(self) -> None:
        if self.temperature < 0 or self.top_k < 0 or not 0 < self.top_p <= 1 or self.max_tokens < 0:
            raise DataError(
                f"bad sampling settings {self}",
                "use temperature >= 0, top_k >= 0, 0 < top_p <= 1, max_tokens >= 0",
            )


class Token(NamedTuple):
    """One generated token and the text it completes ('' while a character is partial)."""

    id: int
    text: str


def sampler(
    s: Sampling, generator: torch.Generator | None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return a function drawing one token per row of logits [B, V] -> [B] (built once per run)."""
    if s.temperature == 0:
        return lambda logits: logits.argmax(dim=-1)
    inv_temp = 1.0 / s.temperature
    top_k, top_p = s.top_k, s.top_p

    def draw(logits: torch.Tensor) -> torch.Tensor:
        if inv_temp != 1.0:
            logits = logits * inv_temp  # [B, V]
        if 0 < top_k < logits.shape[-1]:
            kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # [B, 1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if top_p < 1.0:
            ordered, order = logits.sort(dim=-1, descending=True)  # [B, V]
            probs = ordered.softmax(dim=-1)
            drop = probs.cumsum(dim=-1) - probs > top_p  # keep the smallest set reaching top_p
            ordered = ordered.masked_fill(drop, float("-inf"))
            logits = torch.full_like(logits, float("-inf")).scatter(-1, order, ordered)
        # inverse-CDF sampling with one uniform draw per row (torch.multinomial is slow here)
        cdf = logits.softmax(dim=-1).cumsum(dim=-1)  # [B, V]
        dev = generator.device if generator is not None else cdf.device
        u = torch.rand(cdf.shape[0], 1, generator=generator, device=dev).to(cdf.device)
        u = u * cdf[:, -1:]  # [B, 1] scaled to the total, robust to rounding
        return torch.searchsorted(cdf, u, right=True)[:, 0].clamp_max(cdf.shape[-1] - 1)  # [B]

    return draw


def sample(logits: torch.Tensor, s: Sampling, generator: torch.Generator | None) -> torch.Tensor:
    """Draw one token per row of logits [B, V] -> [B] (argmax when temperature is 0)."""
    return sampler(s, generator)(logits)


def stream(
    graph: Graph,
    prompt: Sequence[int] | torch.Tensor,
    sampling: Sampling | None = None,
    generator: torch.Generator | None = None,
    images: Media = None,
    audio: Media = None,
    control: torch.Tensor | None = None,
    task: str | None = None,
) -> Iterator[Token]:
    """Yield generated tokens one by one (stop tokens are not yielded), with completed text.

    The graph's train/eval mode is left alone: units have no train-time randomness.

    1. Step through the prompt (media spliced at their markers) to get the first logits.
    2. Sample a token with the seeded generator; stop on a stop token or after max_tokens.
    3. Feed the token to the incremental UTF-8 decoder and yield it with the text it completes.
    4. Step the graph on the sampled token and repeat from 2.

    On a CPU graph whose every part lowers to the native engine (harness/graph/native), the
    steps run there, one C call per token, drawing the same uniforms from the generator;
    otherwise, or with INSITU_NATIVE=0, on the PyTorch step path.
    """
    s = sampling or Sampling()
    ids = torch.as_tensor(list(prompt) if not isinstance(prompt, torch.Tensor) else prompt)
    if ids.dim() != 1 or ids.numel() == 0:
        raise DataError("the prompt must be a non-empty 1-D token sequence", "encode a turn first")
    tokens = _native_tokens(graph, ids, s, generator, images, audio, control, task)
    if tokens is None:
        tokens = _torch_tokens(graph, ids, s, generator, images, audio, control, task)
    decoder = IncrementalDecoder()
    stop, feed = set(s.stop), decoder.feed
    for token in tokens:
        if token in stop:
            break
        yield Token(token, feed(token))


def _native_tokens(
    graph: Graph,
    ids: torch.Tensor,
    s: Sampling,
    generator: torch.Generator | None,
    images: Media,
    audio: Media,
    control: torch.Tensor | None,
    task: str | None,
) -> Iterator[int] | None:
    """Step through the prompt natively and return the drawn tokens, or None if not lowerable."""
    x = None
    with torch.inference_mode():
        if has_media({"image": images, "audio": audio}):
            x = graph.embed(ids[None].to(graph.device), images, audio)[0][0]  # [L, D]
        length = ids.numel() if x is None else x.shape[0]
        native = native_stepper(graph, length + s.max_tokens, control, task)
        if native is None:
            return None
        if x is None:
            for t in ids.tolist():
                native.step(int(t))
        else:
            for row in x:
                native.step_vector(row)
    return native.draws(s.temperature, s.top_k, s.top_p, s.max_tokens, generator)


def _torch_tokens(
    graph: Graph,
    ids: torch.Tensor,
    s: Sampling,
    generator: torch.Generator | None,
    images: Media,
    audio: Media,
    control: torch.Tensor | None,
    task: str | None,
) -> Iterator[int]:
    """Yield up to max_tokens drawn tokens through the PyTorch step path (each fed on resume)."""
    # inference mode is entered per step, never held across a yield: the consumer's own code
    # between tokens (and an abandoned stream) must not run under it
    with torch.inference_mode():
        ctrl = None if control is None else control.reshape(1, -1).to(graph.device)
        state = graph.init_state(1, ctrl)
        logits = graph.prefill(state, ids[None].to(graph.device), images, audio, task)
    draw, step = sampler(s, generator), graph.step
    for _ in range(s.max_tokens):
        with torch.inference_mode():
            drawn = draw(logits)  # [1]
        yield int(drawn)
        with torch.inference_mode():
            logits = step(state, drawn, task)


def generate_text(
    graph: Graph,
    prompt: Sequence[int] | torch.Tensor,
    sampling: Sampling | None = None,
    generator: torch.Generator | None = None,
    images: Media = None,
    audio: Media = None,
    control: torch.Tensor | None = None,
) -> str:
    """Return the whole generated text (an incomplete trailing character is dropped)."""
    tokens = stream(graph, prompt, sampling, generator, images, audio, control)
    return "".join(t.text for t in tokens)


def stream_text(
    graph: Graph,
    prompt: Sequence[int] | torch.Tensor,
    sampling: Sampling | None = None,
    generator: torch.Generator | None = None,
) -> Iterator[str]:
    """Yield only non-empty text pieces, for streaming into a chat view."""
    for t in stream(graph, prompt, sampling, generator):
        if t.text:
            yield t.text
