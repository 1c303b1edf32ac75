"""A teacher behind any OpenAI-compatible endpoint (llama.cpp, Ollama, vLLM, LM Studio, APIs).

Uses the official `openai` client with `base_url`; the client's own retries are off, so
`Teacher.complete` alone decides when to try again.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from teachers.base import Capabilities, Malformed, Reply, Request, Retryable, Teacher
from teachers.keys import require_key

if TYPE_CHECKING:
    from teachers.config import TeacherConfig

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "no-key"  # local servers ignore the key, but the client insists on one


def response_format(request: Request) -> dict[str, Any] | None:
    """Return the `response_format` asking for the request's JSON schema, or None."""
    if request.schema is None:
        return None
    return {"type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.schema,
                            "strict": True}}  # fmt: skip


def is_insitu(fingerprint: Any, extra: Any) -> bool:
    """Return True if a response came from `insitu serve` (its fingerprint or `insitu` field)."""
    return str(fingerprint or "").startswith("insitu") or bool(
        isinstance(extra, dict) and extra.get("insitu")
    )


class OpenAITeacher(Teacher):
    """A chat model reached through the official openai client."""

    kind: ClassVar[str] = "openai"
    defaults: ClassVar[Capabilities] = Capabilities(json_schema=True, images=True, audio=False)

    def __init__(self, config: TeacherConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import openai

        key = require_key(config.key_name) if config.key_name else NO_KEY
        if config.key_name:
            self._secrets.append(key)
        self._client = openai.OpenAI(base_url=self.where(), api_key=key, max_retries=0,
                                     timeout=config.timeout)  # fmt: skip

    def where(self) -> str:
        return (self.config.base_url or OPENAI_URL).rstrip("/")

    def close(self) -> None:
        self._client.close()

    def _request(self, request: Request) -> Reply:
        from teachers.failures import classify

        cfg = self.config
        kwargs: dict[str, Any] = {
            "model": cfg.model,
            "messages": request.messages,
            "temperature": cfg.temperature if request.temperature is None else request.temperature,
            "max_tokens": request.max_tokens or cfg.max_tokens,
            **request.extra,
        }
        fmt = response_format(request)
        if fmt:
            kwargs["response_format"] = fmt
        start = time.monotonic()
        try:
            if cfg.stream:
                reply = self._streamed(kwargs)
            else:
                reply = self._whole(kwargs)
        except (Retryable, Malformed):
            raise
        except Exception as exc:
            raise classify(exc, cfg, self.where(), fmt is not None) from exc
        reply.latency_s = time.monotonic() - start
        return reply

    def _whole(self, kwargs: dict[str, Any]) -> Reply:
        """Make a plain request and read the answer."""
        resp = self._client.chat.completions.create(**kwargs)
        if not resp.choices:
            raise Malformed("the answer has no choices")
        choice = resp.choices[0]
        text = choice.message.content
        if text is None:
            raise Malformed("the answer holds no text")
        usage = resp.usage
        extra = getattr(usage, "model_extra", None) or {}
        return Reply(
            text=text, model=resp.model or self.config.model,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost=float(extra["cost"]) if isinstance(extra.get("cost"), (int, float)) else None,
            finish_reason=str(choice.finish_reason or ""),
            insitu=is_insitu(resp.system_fingerprint, getattr(resp, "model_extra", None)),
        )  # fmt: skip

    def _streamed(self, kwargs: dict[str, Any]) -> Reply:
        """Make a streaming request; a stream that ends without a finish reason is truncated."""
        stream = self._client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        parts: list[str] = []
        reply = Reply(text="", model=self.config.model)
        finish = None
        try:
            for chunk in stream:
                reply.model = chunk.model or reply.model
                reply.insitu = reply.insitu or is_insitu(chunk.system_fingerprint,
                                                         getattr(chunk, "model_extra", None))
                if chunk.usage is not None:
                    reply.prompt_tokens = int(chunk.usage.prompt_tokens or 0)
                    reply.completion_tokens = int(chunk.usage.completion_tokens or 0)
                for choice in chunk.choices:
                    parts.append(choice.delta.content or "")
                    finish = choice.finish_reason or finish
        finally:
            stream.close()
        if finish is None:
            raise Retryable(f"the teacher at {self.where()} ended its stream before the answer "
                            "was complete (truncated)", "check the server's log",
                            reason="truncated")  # fmt: skip
        reply.text = "".join(parts)
        reply.finish_reason = str(finish)
        return reply
