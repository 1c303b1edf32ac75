"""Tests of the native step engine: every unit and random graphs agree with the PyTorch step."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from typing import Any

import pytest
import torch

from harness import registry
from harness.errors import DataError
from harness.graph.generate import Sampling, stream
from harness.graph.native.compile import library, status
from harness.graph.native.program import NotLowerable, Program
from harness.graph.native.stepper import NativeStepper, lower_graph, native_stepper
from harness.graph.seeds import FAMILIES, random_topology, seed
from harness.graph.unit import Unit
from harness.vocab import encode_turn

from .helpers import build, perturb, stepwise
from .test_units import CASES, D, arity, inputs, make

PROMPT = encode_turn("hello, sea")


@pytest.fixture(scope="module")
def lib() -> Any:
    """Return the compiled engine; skip (saying why) only where there is no C compiler."""
    if not (os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler on this machine: the native engine cannot be built")
    engine = library()
    assert engine is not None, f"the native engine did not build: {status()}"
    return engine


def native_unit_steps(lib: Any, unit: Any, xs: list[torch.Tensor]) -> torch.Tensor:
    """Run a lowered unit on batch row 0 of xs ([B, T, D] each), step by step -> [T, D]."""
    p = Program(D, capacity=xs[0].shape[1])
    slots = [p.scratch(D) for _ in xs]
    p.finish(unit.lower(p, slots), D)
    runner = NativeStepper(lib, p)
    out = []
    for t in range(xs[0].shape[1]):
        for slot, x in zip(slots, xs, strict=True):
            runner.write(slot, x[0, t])
        runner.step(-1)
        out.append(runner.logits()[0])
    return torch.stack(out)  # [T, D]


@pytest.mark.parametrize(("name", "args"), CASES)
def test_registered_unit_native_step_matches_torch_step(lib: Any, name: str, args: dict) -> None:
    """Every registered unit's native step gives the PyTorch step's outputs (< 1e-5); a unit
    without a lowering refuses cleanly, so generation keeps the PyTorch step path."""
    unit = make(name, args).eval()
    if type(unit).lower is Unit.lower and not hasattr(unit, "lower_cell"):
        with pytest.raises(NotLowerable, match=f"unit '{name}'"):
            unit.lower(Program(D, 4), [0])
        return
    with torch.no_grad():  # non-zero gates so that every input counts
        for pname, param in unit.named_parameters():
            if pname == "alpha":
                param.copy_(torch.rand(param.shape, generator=torch.Generator().manual_seed(3)))
    xs = inputs(arity(unit, args), 9)
    state = unit.init_state(xs[0].shape[0])
    ref = []
    with torch.inference_mode():
        for t in range(9):
            y, state = unit.step(state, *[x[:, t] for x in xs])
            ref.append(y[0])
    got = native_unit_steps(lib, unit, xs)
    assert (got - torch.stack(ref)).abs().max().item() < 1e-5


def test_every_builtin_unit_stem_and_lm_head_lowers() -> None:
    """The built-in units, the text stem and the lm head all have a native lowering."""
    for name in ("mlp", "conv", "rnn", "gru", "lstm", "rwkv", "ssm", "attention", "norm",
                 "add", "concat", "gate"):  # fmt: skip
        assert "lower" in vars(registry.units.get(name)) or name in ("rnn", "gru", "lstm")
        assert "lower_cell" in vars(registry.units.get(name)) or name not in ("rnn", "gru", "lstm")
    assert "lower" in vars(registry.stems.get("text"))
    assert "lower" in vars(registry.heads.get("lm"))


@pytest.mark.parametrize("family", FAMILIES)
def test_family_native_logits_match_torch(lib: Any, family: str) -> None:
    """Each family's seed gives the same logits natively and on the PyTorch step path."""
    g = build(seed(family, 8_000))
    perturb(g)
    toks = torch.randint(0, 256, (1, 24), generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        ref = stepwise(g, toks)[0]  # [T, V]
    runner = native_stepper(g, 24)
    assert runner is not None
    got = []
    for t in toks[0].tolist():
        runner.step(t)
        got.append(runner.logits()[0])
    assert (torch.stack(got) - ref).abs().max().item() < 1e-4


def test_fifty_random_graphs_native_matches_torch(lib: Any) -> None:
    """50 random topologies (merges, gates, concat, mixed units) agree natively (< 1e-4)."""
    rng = random.Random(7)
    for i in range(50):
        g = build(random_topology(4_000, rng), seed=i)
        perturb(g, seed=i)
        toks = torch.randint(0, 256, (1, 10), generator=torch.Generator().manual_seed(i))
        with torch.inference_mode():
            ref = stepwise(g, toks)[0]
        runner = native_stepper(g, 10)
        assert runner is not None, f"random graph {i} did not lower"
        got = []
        for t in toks[0].tolist():
            runner.step(t)
            got.append(runner.logits()[0])
        diff = (torch.stack(got) - ref).abs().max().item()
        assert diff < 1e-4, f"random graph {i}: max difference {diff}"


def _tokens(graph: Any, sampling: Sampling, native: bool, monkeypatch: Any, **kw: Any) -> list:
    """Return the token ids one stream draws with the engine on or off (seed 5)."""
    monkeypatch.setenv("INSITU_NATIVE", "1" if native else "0")
    gen = torch.Generator().manual_seed(5)
    return [t.id for t in stream(graph, PROMPT, sampling, gen, **kw)]


@pytest.mark.parametrize(
    "sampling",
    [
        Sampling(max_tokens=40, stop=()),
        Sampling(temperature=0.7, top_k=12, top_p=0.85, max_tokens=40, stop=()),
        Sampling(temperature=0.0, max_tokens=20, stop=()),
        Sampling(temperature=1.3, top_p=0.5, max_tokens=25),
    ],
    ids=["plain", "topk-topp", "greedy", "topp-eos"],
)
def test_stream_draws_the_same_tokens_natively(lib: Any, monkeypatch: Any, sampling: Any) -> None:
    """With one seed, the native and PyTorch streams draw identical tokens."""
    g = build(seed("transformer", 8_000))
    assert native_stepper(g, 8) is not None
    native = _tokens(g, sampling, True, monkeypatch)
    assert native == _tokens(g, sampling, False, monkeypatch)
    assert len(native) > 0


def test_control_vector_and_live_adapters_are_lowered(lib: Any, monkeypatch: Any) -> None:
    """Non-zero LoRA adapters and a control vector change the output identically on both paths."""
    g = build(seed("gru", 8_000))
    g.add_adapters(rank=2, generator=torch.Generator().manual_seed(1))
    g.add_control(4)
    with torch.no_grad():
        for name, p in g.named_parameters():
            if "lora_b" in name or name == "control":
                p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(3)) * 0.5)
    control = torch.tensor([1.0, -0.5, 0.25, 2.0])
    s = Sampling(temperature=0.0, max_tokens=20, stop=())
    native = _tokens(g, s, True, monkeypatch, control=control)
    assert native == _tokens(g, s, False, monkeypatch, control=control)
    assert native != _tokens(g, s, True, monkeypatch)


def test_spliced_image_prompt_natively(lib: Any, monkeypatch: Any) -> None:
    """A prompt with an image at its marker streams the same tokens natively."""
    from harness.vocab import IMAGE

    genome = seed("mlp", 8_000, modalities=("text", "image"))
    g = build(genome)
    image = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(4))
    prompt = [*PROMPT[:-1], IMAGE, PROMPT[-1]]
    s = Sampling(temperature=0.0, max_tokens=10, stop=())
    out = []
    for native in (True, False):
        monkeypatch.setenv("INSITU_NATIVE", "1" if native else "0")
        out.append([t.id for t in stream(g, prompt, s, None, images=[[image]])])
    assert out[0] == out[1]


def test_stepping_past_capacity_and_bad_tokens_are_clear_errors(lib: Any) -> None:
    """A full attention cache and a token outside the vocabulary raise DataError, not a crash."""
    g = build(seed("transformer", 8_000))
    runner = native_stepper(g, 3)
    assert runner is not None
    for t in (1, 2, 3):
        runner.step(t)
    with pytest.raises(DataError, match="attention cache is full"):
        runner.step(4)
    runner = native_stepper(build(seed("mlp", 8_000)), 3)
    assert runner is not None
    with pytest.raises(DataError, match="outside the vocabulary"):
        runner.step(100_000)


def test_no_c_compiler_falls_back_to_torch(tmp_path: Any) -> None:
    """Without a compiler, doctor says why and generation still works on the PyTorch path."""
    code = (
        "import torch\n"
        "from harness.graph.native.compile import status\n"
        "from harness.graph.generate import Sampling, stream\n"
        "from harness.graph.build import Graph\n"
        "from harness.graph.seeds import seed\n"
        "print(status())\n"
        "g = Graph(seed('mlp', 5000), device='cpu')\n"
        "print(len(list(stream(g, [1, 2, 3], Sampling(max_tokens=5, stop=())))))\n"
    )
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc"), "INSITU_CACHE": str(tmp_path)}
    env["PATH"] = str(tmp_path)  # no cc, gcc or clang either
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("unavailable (") and "PyTorch step path" in lines[0]
    assert lines[1] == "5"


def test_lowering_a_classify_head_is_refused_cleanly() -> None:
    """A graph whose token task has no native head is not lowered (PyTorch path instead)."""
    genome = seed("mlp", 8_000, heads={"label": {"op": "classify", "args": {"classes": 3}}})
    g = build(genome)
    with pytest.raises(NotLowerable, match="no native step lowering"):
        lower_graph(g, 4, task="label")
    assert native_stepper(g, 4, task="label") is None


def test_a_damaged_cached_build_is_rebuilt(lib: Any, tmp_path: Any) -> None:
    """A cached engine overwritten with garbage is deleted, rebuilt and loaded."""
    code = "from harness.graph.native.compile import status; print(status())"
    env = {**os.environ, "INSITU_CACHE": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=120)  # fmt: skip
    assert first.stdout.startswith("loaded from"), first.stdout + first.stderr
    (built,) = (tmp_path / "native").glob("engine-*.so")
    built.write_bytes(b"not a shared library")
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)  # fmt: skip
    assert second.stdout.startswith("loaded from"), second.stdout + second.stderr
    assert built.read_bytes() != b"not a shared library"
