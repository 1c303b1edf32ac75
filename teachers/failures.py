"""Turn the exceptions of the openai client (and litellm, whose errors subclass them) into
teacher errors: Retryable, Malformed, JsonUnsupported or a final TeacherError with a next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import TeacherError
from teachers.base import JsonUnsupported, Malformed, Retryable, retry_after_seconds

if TYPE_CHECKING:
    from teachers.config import TeacherConfig

RETRY_STATUS = (408, 409, 425, 429)


def _detail(exc: BaseException, limit: int = 300) -> str:
    """Return a short one-line description of an exception."""
    text = " ".join(str(getattr(exc, "message", None) or exc).split())
    return text[:limit] + ("..." if len(text) > limit else "")


JSON_WORDS = ("expecting value", "unterminated string", "jsondecodeerror", "extra data",
              "expecting ',' delimiter", "invalid control character")


def _chain(exc: BaseException) -> list[BaseException]:
    """Return the exception and its causes (at most 8 deep)."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 8:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def _unreadable(exc: BaseException) -> bool:
    """Return True if the failure is a body that is not valid JSON (some clients say 500)."""
    import json

    return any(isinstance(e, json.JSONDecodeError) for e in _chain(exc)) or any(
        w in str(exc).lower() for w in JSON_WORDS
    )


def _refused(exc: BaseException) -> bool:
    """Return True if the exception chain shows a refused connection."""
    return any(isinstance(e, ConnectionRefusedError) or "connection refused" in str(e).lower()
               or "connect call failed" in str(e).lower() for e in _chain(exc))  # fmt: skip


def classify(
    exc: BaseException, config: TeacherConfig, where: str, json_asked: bool
) -> TeacherError:
    """Return the teacher error for an exception raised by the openai client or litellm."""
    import httpx
    import openai

    name = config.name
    status = getattr(exc, "status_code", None)
    chain = _chain(exc)  # litellm wraps transport errors in its own (often "500") errors
    if any(isinstance(e, (openai.APITimeoutError, httpx.TimeoutException)) for e in chain):
        return Retryable(f"the teacher at {where} did not answer within {config.timeout:g} s",
                         f"raise the timeout (`insitu teacher add {name} ... --timeout S "
                         "--replace`) or check the server's load", reason="timeout")
    if isinstance(exc, (openai.APIResponseValidationError, ValueError)) or _unreadable(exc):
        return Malformed(f"the answer could not be read ({_detail(exc, 120)})")
    if any(isinstance(e, (openai.APIConnectionError, httpx.TransportError)) for e in chain):
        if _refused(exc):
            return Retryable(f"cannot reach the teacher at {where}: connection refused",
                             f"is the server running at {where}?", reason="unreachable")
        if isinstance(exc, httpx.RemoteProtocolError) or "peer closed" in str(exc).lower() \
                or "incomplete" in str(exc).lower():  # fmt: skip
            return Retryable(f"the teacher at {where} broke off its answer ({_detail(exc, 120)})",
                             "check the server's log", reason="truncated")
        return Retryable(f"cannot reach the teacher at {where} ({_detail(exc, 120)})",
                         f"is the server running at {where}? check the URL and your network",
                         reason="unreachable")
    if status in (401, 403):
        key = config.key_name
        if key:
            return TeacherError(f"the key in {key} was refused by {where} (HTTP {status})",
                                f"set it with `insitu keys set {key}`")
        return TeacherError(f"the teacher at {where} asks for a key (HTTP {status})",
                            "add the teacher with --key-name NAME --replace and set the key "
                            "with `insitu keys set NAME`")  # fmt: skip
    if status == 404:
        return TeacherError(f"the model '{config.model}' is unknown at {where} (HTTP 404)",
                            "check the model name (your server's /v1/models, or the provider's "
                            f"list) and add it again: `insitu teacher add {name} ... --model M "
                            "--replace`")  # fmt: skip
    if status in RETRY_STATUS or (isinstance(status, int) and status >= 500):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or getattr(exc, "litellm_response_headers",
                                                                None)
        if status == 429:
            return Retryable(f"the teacher at {where} kept answering 429 (rate limited)",
                             "wait a minute, lower --n, or use a plan with a higher limit",
                             retry_after=retry_after_seconds(headers), reason="rate_limited")
        return Retryable(f"the teacher's server at {where} failed (HTTP {status}: "
                         f"{_detail(exc, 120)})", "check the server's log",
                         retry_after=retry_after_seconds(headers), reason="server_error")
    if status in (400, 422):
        text = _detail(exc)
        if json_asked and any(w in text.lower() for w in ("response_format", "json_schema",
                                                          "json schema", "grammar")):
            return JsonUnsupported(f"the teacher at {where} has no JSON-schema mode ({text})")
        return TeacherError(f"the teacher at {where} refused the request (HTTP {status}): {text}",
                            f"check the teacher's settings with `insitu teacher test {name}`")
    if isinstance(exc, openai.OpenAIError):
        return TeacherError(f"the teacher at {where} failed: {_detail(exc)}",
                            f"run `insitu teacher test {name}` to check it")
    raise exc
