"""Teacher configurations per profile, in the profile's settings under the key 'teachers'.

The setting is a JSON object {name: config}. A config names its key by NAME only (an
environment variable or keys-file entry); key values are never written to the profile.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness import registry
from harness.config import from_dict
from harness.errors import ConfigError, TeacherError
from harness.paths import check_profile_name
from harness.store.records import get_setting, set_setting
from teachers.keys import check_key_name

if TYPE_CHECKING:
    from harness.profile import Profile
    from teachers.base import Teacher

SETTING = "teachers"
MODES = ("auto", "pairs", "distill")
JSON_MODES = ("auto", "schema", "none")


def _one_of(*choices: str) -> Any:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of {', '.join(choices)}"

    return check


def _positive(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


@dataclass
class TeacherConfig:
    """One configured teacher of a profile (never holds a key value)."""

    name: str
    kind: str
    model: str = ""
    base_url: str | None = None
    key_name: str | None = None
    profile_name: str | None = None
    mode: str = field(default="auto", metadata={"check": _one_of(*MODES)})
    json: str = field(default="auto", metadata={"check": _one_of(*JSON_MODES)})
    stream: bool = False
    timeout: float = field(default=60.0, metadata={"check": _positive})
    max_attempts: int = field(default=4, metadata={"check": _positive})
    backoff: float = 0.5
    temperature: float = 0.7
    max_tokens: int = field(default=1024, metadata={"check": _positive})
    probe: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as JSON-able data."""
        return dataclasses.asdict(self)

    def check(self) -> TeacherConfig:
        """Validate names and required fields; return self."""
        check_profile_name(self.name)
        known = registry.teachers.declared_names()
        if self.kind not in known:
            raise TeacherError(f"unknown teacher kind '{self.kind}' (known: "
                               f"{', '.join(sorted(known))})",
                               "use --kind openai, litellm or insitu")  # fmt: skip
        if self.key_name:
            check_key_name(self.key_name)
        if self.kind in ("openai", "litellm") and not self.model:
            raise TeacherError(f"a {self.kind} teacher needs --model",
                               "e.g. --model gpt-4o-mini, or the name your local server lists")
        if self.kind == "insitu":
            if not self.profile_name:
                raise TeacherError("an insitu teacher needs --profile-name P (the profile whose "
                                   "champion teaches)", "see the profiles with "
                                   "`insitu profile list`")  # fmt: skip
            check_profile_name(self.profile_name)
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise TeacherError(f"--base-url must start with http:// or https:// "
                               f"(got {self.base_url!r})", "e.g. http://127.0.0.1:8080/v1")
        return self


def parse(data: dict[str, Any], where: str) -> TeacherConfig:
    """Build a TeacherConfig from stored data, with errors naming the bad key."""
    data = dict(data)
    probe = data.pop("probe", None) or {}
    try:
        config = from_dict(TeacherConfig, data, where)
        config.probe = dict(probe) if isinstance(probe, dict) else {}
        return config
    except ConfigError as exc:
        raise TeacherError(f"the stored teacher config is invalid: {exc.message}",
                           "remove and add the teacher again") from None


def load_all(profile: Profile) -> dict[str, TeacherConfig]:
    """Return the profile's teachers by name, in the order they were added."""
    raw = get_setting(profile.store, SETTING, {}) or {}
    return {name: parse(cfg, f"teachers.{name}") for name, cfg in raw.items()}


def save_all(profile: Profile, configs: dict[str, TeacherConfig]) -> None:
    """Write the profile's teachers (names and settings only, never key values)."""
    set_setting(profile.store, SETTING, {n: c.to_dict() for n, c in configs.items()})


def add(profile: Profile, config: TeacherConfig, replace: bool = False) -> None:
    """Add (or with replace, overwrite) a teacher of the profile."""
    config.check()
    configs = load_all(profile)
    if config.name in configs and not replace:
        raise TeacherError(f"profile '{profile.name}' already has a teacher '{config.name}'",
                           f"remove it first with `insitu teacher remove {config.name}`, "
                           "or add it with --replace")  # fmt: skip
    configs[config.name] = config
    save_all(profile, configs)


def remove(profile: Profile, name: str) -> None:
    """Remove a teacher of the profile, or raise TeacherError if there is none."""
    configs = load_all(profile)
    if name not in configs:
        raise _unknown(profile, name, configs)
    del configs[name]
    save_all(profile, configs)


def get(profile: Profile, name: str | None = None) -> TeacherConfig:
    """Return the teacher called `name`, or the first one added when no name is given."""
    configs = load_all(profile)
    if not configs:
        raise TeacherError(f"profile '{profile.name}' has no teacher",
                           "add one with `insitu teacher add NAME --kind openai --base-url URL "
                           "--model M` (see docs/teachers.md)")  # fmt: skip
    if name is None:
        return next(iter(configs.values()))
    if name not in configs:
        raise _unknown(profile, name, configs)
    return configs[name]


def update_probe(profile: Profile, name: str, probe: dict[str, Any]) -> None:
    """Store what `teacher test` found out about a teacher (JSON mode, insitu model)."""
    configs = load_all(profile)
    if name in configs:
        configs[name].probe = probe
        save_all(profile, configs)


def _unknown(profile: Profile, name: str, configs: dict[str, TeacherConfig]) -> TeacherError:
    known = ", ".join(configs) or "none"
    return TeacherError(f"profile '{profile.name}' has no teacher '{name}' (teachers: {known})",
                        "see them with `insitu teacher list`")


def build(config: TeacherConfig, **kwargs: Any) -> Teacher:
    """Return a ready teacher for a config, through the plugin registry."""
    cls = registry.teachers.get(config.kind)
    teacher: Teacher = cls(config, **kwargs)
    return teacher
