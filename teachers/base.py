"""The Teacher interface: one chat request with retries, capabilities and a usage tally.

A backend implements `_request` (one attempt) and maps its failures to `Retryable` (timeouts,
429, 5xx, dropped connections, truncated streams), `Malformed` (a body or reply that is not what
was asked for) or a plain `TeacherError` (bad key, unknown model, refused request: no retry).
`Teacher.complete` adds exponential backoff with jitter, honours Retry-After, and counts requests,
tokens and cost in `Teacher.usage`.
"""

from __future__ import annotations

import dataclasses
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from harness.errors import TeacherError
from harness.words import counted
from teachers.keys import redact

if TYPE_CHECKING:
    from teachers.config import TeacherConfig

T = TypeVar("T")
MAX_RETRY_AFTER_S = 60.0
BACKOFF_CAP_S = 30.0


@dataclass(frozen=True)
class Capabilities:
    """What a teacher can do: JSON-schema output, image and audio input, following instructions."""

    json_schema: bool = False
    images: bool = False
    audio: bool = False
    instruct: bool = True  # False for micro-models: they answer prompts, they cannot write pairs


@dataclass
class Reply:
    """One answer of a teacher."""

    text: str
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    latency_s: float = 0.0
    finish_reason: str = ""
    insitu: bool = False  # answered by an insitu micro-model (`insitu serve` or a profile)


@dataclass
class Usage:
    """Requests, retries, tokens and cost of a run (cost None while no backend reported one)."""

    requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    seconds: float = 0.0

    def add(self, reply: Reply) -> None:
        """Count one successful reply's tokens and cost."""
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        if reply.cost is not None:
            self.cost = (self.cost or 0.0) + reply.cost

    def to_dict(self) -> dict[str, Any]:
        """Return the tally as JSON-able data."""
        return asdict(self)

    def summary(self) -> str:
        """Return a one-line summary for people."""
        cost = "unknown" if self.cost is None else f"${self.cost:.4f}"
        return (f"{counted(self.requests, 'request')} ({self.retries} retried), tokens in "
                f"{self.prompt_tokens} / out {self.completion_tokens}, cost {cost}, "
                f"{self.seconds:.1f} s")  # fmt: skip


class Retryable(TeacherError):
    """A failure worth retrying: timeout, 429, 5xx, dropped connection, truncated stream."""

    def __init__(self, message: str, hint: str | None = None, retry_after: float | None = None,
                 reason: str = "error") -> None:  # fmt: skip
        super().__init__(message, hint)
        self.retry_after = retry_after
        self.reason = reason


class Malformed(TeacherError):
    """The teacher answered something that is not what was asked for."""


class JsonUnsupported(TeacherError):
    """The server refused `response_format` (no JSON-schema mode): ask again without it."""


MALFORMED_MESSAGE = "the teacher answered something that is not the JSON asked for"


def retry_after_seconds(headers: Any) -> float | None:
    """Return the delay a Retry-After (or retry-after-ms) header asks for, or None."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            from email.utils import parsedate_to_datetime

            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, AttributeError):
        return None


@dataclass
class Request:
    """The settings of one chat request."""

    messages: list[dict[str, Any]]
    schema: dict[str, Any] | None = None
    schema_name: str = "answer"
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Teacher(ABC):
    """A chat model that answers requests; subclasses implement one backend each."""

    kind: ClassVar[str] = ""
    defaults: ClassVar[Capabilities] = Capabilities()

    def __init__(self, config: TeacherConfig, *, sleep: Callable[[float], Any] = time.sleep,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        self.config = config
        self.usage = Usage()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._secrets: list[str] = []
        self.json_refused = False

    # -- backend hooks -----------------------------------------------------------------------
    @abstractmethod
    def _request(self, request: Request) -> Reply:
        """Make one attempt; raise Retryable, Malformed or TeacherError on failure."""

    def where(self) -> str:
        """Return where the teacher lives, for messages (a URL, a provider or a profile)."""
        return self.config.base_url or self.config.model

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients and models (no-op by default)."""

    # -- public ------------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        """Return the backend's capabilities, adjusted by the configuration and `teacher test`."""
        caps = self.defaults
        json_ok = caps.json_schema
        if self.config.json == "schema":
            json_ok = True
        elif self.config.json == "none":
            json_ok = False
        elif "json_schema" in self.config.probe:
            json_ok = bool(self.config.probe["json_schema"])
        if self.json_refused:
            json_ok = False
        instruct = caps.instruct
        if self.config.mode == "pairs":
            instruct = True
        elif self.config.mode == "distill":
            instruct = False
        elif self.config.probe.get("insitu"):
            instruct = False
        return Capabilities(json_ok, caps.images, caps.audio, instruct)

    def complete(
        self, request: Request, parse: Callable[[Reply], T] | None = None
    ) -> tuple[Reply, T | None]:
        """Send a request with retries; return the reply and `parse(reply)` (None without parse).

        1. Try the request; on Retryable, sleep (Retry-After, or exponential backoff with
           jitter) and try again, up to `max_attempts` in all.
        2. A reply that `parse` rejects (Malformed) is asked again the same way.
        3. TeacherError (bad key, unknown model, 400) is raised at once, with keys masked.
        """
        attempts = max(int(self.config.max_attempts), 1)
        last: TeacherError | None = None
        start = time.monotonic()
        attempt = 0
        try:
            while attempt < attempts:
                if attempt:
                    self.usage.retries += 1
                    self._sleep(self._delay(attempt, last))
                attempt += 1
                self.usage.requests += 1
                try:
                    reply = self._request(request)
                    self.usage.add(reply)
                    return reply, (parse(reply) if parse else None)
                except JsonUnsupported as exc:
                    if request.schema is None:
                        raise self._masked(exc) from None
                    self.json_refused = True  # ask again at once, without JSON mode
                    request = dataclasses.replace(request, schema=None)
                    attempt -= 1
                except (Retryable, Malformed) as exc:
                    last = exc
                except TeacherError as exc:
                    raise self._masked(exc) from None
            raise self._masked(self._final(last, attempts)) from None
        finally:
            self.usage.seconds += time.monotonic() - start

    # -- helpers -----------------------------------------------------------------------------
    def _delay(self, attempt: int, last: TeacherError | None) -> float:
        """Return the wait before attempt `attempt` (1-based retries)."""
        if isinstance(last, Retryable) and last.retry_after is not None:
            return min(last.retry_after, MAX_RETRY_AFTER_S) + self._rng.random() * 0.05
        base = min(float(self.config.backoff) * 2 ** (attempt - 1), BACKOFF_CAP_S)
        return base * (0.5 + 0.5 * self._rng.random())

    def _final(self, last: TeacherError | None, attempts: int) -> TeacherError:
        """Return the error shown after the last failed attempt."""
        name = self.config.name
        tries = counted(attempts, "attempt")
        if isinstance(last, Malformed):
            hint = last.hint or f"try a stronger model, or `insitu teacher test {name}`"
            return TeacherError(f"{MALFORMED_MESSAGE} ({tries}; last: {last.message})", hint)
        if isinstance(last, Retryable):
            return TeacherError(f"{last.message} (gave up after {tries})", last.hint)
        return last or TeacherError(f"teacher '{name}' failed", None)

    def _masked(self, exc: TeacherError) -> TeacherError:
        """Return the error with every known key value masked out of its message and hint."""
        exc.message = redact(exc.message, self._secrets)
        exc.hint = None if exc.hint is None else redact(exc.hint, self._secrets)
        exc.args = (exc.message,)
        return exc
