"""Errors raised for bad input or bad state; each message names the next step."""

from __future__ import annotations


class InsituError(Exception):
    """Base of every error shown to a person: a message plus what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  -> {self.hint}" if self.hint else self.message


class ConfigError(InsituError):
    """A template or profile configuration is invalid."""


class ProfileError(InsituError):
    """A profile name is bad, or a profile is missing or already exists."""


class StoreError(InsituError):
    """The profile store cannot be read or written."""


class CorruptStoreError(StoreError):
    """The profile database or a checkpoint is damaged."""


class StoreBusyError(StoreError):
    """Another process held the database for longer than the wait allows."""


class CheckpointError(InsituError):
    """A checkpoint file is missing, truncated, of a newer format or lacks metadata."""


class GenomeError(InsituError):
    """A genome is invalid: cycle, dangling input, unknown op, bad size, unknown version."""


class PluginError(InsituError):
    """A named unit, stem, head, modality, teacher or command is not registered."""


class DataError(InsituError):
    """Input data (a file, a sample, a part) cannot be used."""


class TeacherError(InsituError):
    """A teacher model cannot be reached, refuses the request or answers unusably."""


class ServeError(InsituError):
    """The OpenAI-compatible server cannot start or serve (no champion, unsafe bind)."""


class EvolutionError(InsituError):
    """An evolution run cannot go on (every candidate failed, nothing to breed from)."""
