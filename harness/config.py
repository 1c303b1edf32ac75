"""Profile configuration as plain dataclasses, validated with errors that name the bad key."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.errors import ConfigError

TASK_KINDS = ("text", "label", "game", "fitness")
MODALITIES = ("text", "image", "audio")
POOLS = ("mean", "last", "max", "meanmax")  # as harness.graph.heads.base.POOLS
FAMILIES = ("mlp", "cnn", "rnn", "gru", "lstm", "rwkv", "ssm", "transformer", "random")


def _positive(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


def _non_negative(v: Any) -> str | None:
    return None if v >= 0 else "must be 0 or more"


def _at_most(top: int) -> Any:
    def check(v: Any) -> str | None:
        return None if 0 <= v <= top else f"must be from 0 to {top}"

    return check


def _fraction(v: Any) -> str | None:
    return None if 0 <= v < 1 else "must be at least 0 and below 1"


def _unit(v: Any) -> str | None:
    return None if isinstance(v, int | float) and 0 <= v <= 1 else "must be from 0 to 1"


def _one_of(*choices: str) -> Any:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of {', '.join(choices)}"

    return check


def _task_kind(v: str) -> str | None:
    """Accept a built-in task kind or one registered under the `insitu.tasks` entry points."""
    if v in TASK_KINDS:
        return None
    from harness import registry

    known = sorted(set(TASK_KINDS) | registry.tasks.declared_names())
    return None if v in known else f"must be one of {', '.join(known)}"


def _families(v: list[str]) -> str | None:
    bad = [f for f in v if f not in FAMILIES]
    return f"unknown families {bad}; known: {', '.join(FAMILIES)}" if bad else None


def _check(fn: Any, **kw: Any) -> Any:
    return field(metadata={"check": fn}, **kw)


@dataclass
class TaskConfig:
    """One task of a profile: what the micro-model is trained and measured on."""

    name: str
    kind: str = _check(_task_kind, default="text")
    modality: str = _check(_one_of(*MODALITIES), default="text")
    description: str = ""
    heldout_fraction: float = _check(_fraction, default=0.1)
    classes: list[str] = field(default_factory=list)
    augment: int = _check(_non_negative, default=0)  # label tasks: random shift (px or bands)
    pool: str = _check(_one_of(*POOLS), default="mean")  # label tasks: how the head pools time
    mixup: float = _check(_non_negative, default=0.0)  # label tasks: Beta(a, a) input mixing
    memory: int = _check(_at_most(6), default=0)  # text tasks: count-memory order (0: none)
    game: str = ""
    fitness: str = ""  # fitness: "module:function" or a name under `insitu.fitness`
    time_limit: float = _check(_non_negative, default=0.0)  # fitness: s per graph (0: 60 s)
    prompts: list[str] = field(default_factory=list)  # judge: prompts the graph answers
    teacher: str = ""  # judge: the profile's teacher that scores (default: the first one)
    rubric: str = ""  # judge: what the teacher scores against (default: a general rubric)


@dataclass
class ModelConfig:
    """Size budget and input shapes of the micro-graphs."""

    max_params: int = _check(_positive, default=200_000)
    min_params: int = _check(_positive, default=5_000)
    width: int = _check(_positive, default=64)
    context: int = _check(_positive, default=256)
    families: list[str] = _check(_families, default_factory=lambda: list(FAMILIES))
    image_size: int = _check(_positive, default=28)
    image_channels: int = _check(_one_of(1, 3), default=1)  # type: ignore[arg-type]
    image_grid: int = _check(_positive, default=2)  # the image stem's token map is grid x grid
    image_width: int = _check(_positive, default=16)  # the image stem's first conv channels
    sample_rate: int = _check(_positive, default=8000)
    n_mels: int = _check(_positive, default=32)
    #: share of each band's mean over the clip taken off its log-mel frames (1: all of it)
    mel_mean: float = _check(_unit, default=1.0)
    audio_convs: int = _check(_at_most(4), default=0)  # 1-D convs over log-mel frames (0: none)
    audio_channels: int = _check(_positive, default=64)  # channels of those convs
    audio_stride: int = _check(_positive, default=4)  # frames stacked into one audio vector


@dataclass
class EvolutionConfig:
    """How the population evolves in idle time."""

    enabled: bool = True
    population: int = _check(_positive, default=8)
    tournament: int = _check(_positive, default=3)
    train_seconds: float = _check(_non_negative, default=20.0)
    train_steps: int = _check(_non_negative, default=0)
    size_pressure: float = _check(_non_negative, default=0.1)
    workers: int = _check(_positive, default=1)
    idle_seconds: float = _check(_non_negative, default=5.0)
    seed: int = 0
    polish: float = _check(_fraction, default=0.0)  # share of a timed run spent polishing
    seed_train: dict[str, float] = field(default_factory=dict)  # seeds' lr, batch, ...


@dataclass
class OnlineConfig:
    """Online learning from each signal (adapter steps with a decayed replay buffer)."""

    enabled: bool = True
    steps: int = _check(_positive, default=4)
    lr: float = _check(_positive, default=1e-2)
    adapter_rank: int = _check(_positive, default=4)
    replay: int = _check(_non_negative, default=16)
    half_life_hours: float = _check(_positive, default=24.0)


@dataclass
class GenerationConfig:
    """Sampling settings for replies."""

    temperature: float = _check(_non_negative, default=0.8)
    top_k: int = _check(_non_negative, default=40)
    top_p: float = _check(lambda v: None if 0 < v <= 1 else "must be in (0, 1]", default=0.95)
    max_tokens: int = _check(_positive, default=200)


@dataclass
class ProfileConfig:
    """Everything a profile template sets."""

    description: str = ""
    tasks: list[TaskConfig] = field(default_factory=list)
    model: ModelConfig = field(default_factory=ModelConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    online: OnlineConfig = field(default_factory=OnlineConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-able data."""
        return dataclasses.asdict(self)

    def task(self, name: str) -> TaskConfig:
        """Return the task called `name`, or raise ConfigError listing the tasks."""
        for t in self.tasks:
            if t.name == name:
                return t
        names = ", ".join(t.name for t in self.tasks) or "none"
        raise ConfigError(f"no task '{name}' in this profile (tasks: {names})",
                          "pick one of the profile's tasks with --task")


C = TypeVar("C")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check `value` against the annotation `tp` and return it (ints are accepted as floats)."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"'{where}' must be a table", f"write it as [{where}] with keys")
        return from_dict(tp, value, where)  # type: ignore[arg-type]
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"'{where}' must be a list", f"write it as {where} = [...]")
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (types.UnionType, typing.Union):
        return value
    if origin is dict:  # a table of numbers (e.g. the seeds' training hyper-parameters)
        bad = not isinstance(value, dict) or any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in value.values())
        if bad:
            raise ConfigError(f"'{where}' must be a table of numbers",
                              f"write it as [{where}] with lines like lr = 0.003")
        return dict(value)
    ok = (
        (tp is bool and isinstance(value, bool))
        or (tp is int and isinstance(value, int) and not isinstance(value, bool))
        or (tp is float and isinstance(value, (int, float)) and not isinstance(value, bool))
        or (tp is str and isinstance(value, str))
    )
    if not ok:
        raise ConfigError(
            f"'{where}' must be {_type_name(tp)}, not {type(value).__name__} ({value!r})",
            f"fix the value of '{where}'",
        )
    return float(value) if tp is float else value


def from_dict(cls: type[C], data: dict[str, Any], where: str = "") -> C:
    """Build dataclass `cls` from plain data, raising ConfigError that names any bad key."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(fields)}"
            raise ConfigError(f"unknown key '{path}'", hint)
        value = _coerce(value, hints[key], path)
        check = fields[key].metadata.get("check")
        problem = check(value) if check else None
        if problem:
            raise ConfigError(f"'{path}' {problem} (got {value!r})", f"fix the value of '{path}'")
        kwargs[key] = value
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        path = f"{where}.{missing[0]}" if where else missing[0]
        raise ConfigError(f"missing key '{path}'", f"add '{path}' to the template")
    return cls(**kwargs)


def parse_config(data: dict[str, Any], source: str) -> ProfileConfig:
    """Validate a template's data; errors name the source file and the bad key."""
    try:
        cfg = from_dict(ProfileConfig, data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}", exc.hint) from None
    names = [t.name for t in cfg.tasks]
    if not names:
        raise ConfigError(f"{source}: no [[tasks]]", "add at least one [[tasks]] table")
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: task names repeat ({names})", "give each task its own name")
    for i, t in enumerate(cfg.tasks):
        if t.kind == "label" and len(t.classes) == 1:
            raise ConfigError(f"{source}: 'tasks[{i}].classes' has one class",
                              "list two or more classes, or none to learn them from the data")
        if t.memory and t.kind != "text":
            raise ConfigError(f"{source}: 'tasks[{i}].memory' is for text tasks",
                              "remove it: a count memory predicts the next byte of text")
        if t.kind == "game" and not t.game:
            raise ConfigError(f"{source}: 'tasks[{i}].game' is missing",
                              "name the game, e.g. game = \"tictactoe\"")
    if cfg.model.min_params > cfg.model.max_params:
        raise ConfigError(f"{source}: 'model.min_params' is above 'model.max_params'",
                          "lower min_params or raise max_params")
    return cfg
