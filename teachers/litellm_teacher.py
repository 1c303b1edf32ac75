"""A teacher reached through litellm: any provider's model string, `api_base` optional.

litellm is imported lazily, after `LITELLM_LOCAL_MODEL_COST_MAP=True` (it would otherwise fetch
its price table from the internet at import). Its own retries are off.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, ClassVar

from teachers.base import Capabilities, Malformed, Reply, Request, Retryable, Teacher
from teachers.keys import require_key
from teachers.openai_compat import NO_KEY, is_insitu, response_format

if TYPE_CHECKING:
    from teachers.config import TeacherConfig


def import_litellm() -> Any:
    """Import litellm with its local price table and quiet logging."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


class LiteLLMTeacher(Teacher):
    """A chat model reached through litellm (OpenAI, Anthropic, Ollama, any `provider/model`)."""

    kind: ClassVar[str] = "litellm"
    defaults: ClassVar[Capabilities] = Capabilities(json_schema=True, images=True, audio=False)

    def __init__(self, config: TeacherConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._litellm = import_litellm()
        self._key = require_key(config.key_name) if config.key_name else None
        if self._key:
            self._secrets.append(self._key)

    def where(self) -> str:
        return (self.config.base_url or self.config.model).rstrip("/")

    def _cost(self, resp: Any) -> float | None:
        """Return the cost litellm computed for a response, or None when unknown."""
        hidden = getattr(resp, "_hidden_params", None) or {}
        cost = hidden.get("response_cost")
        if isinstance(cost, (int, float)) and cost > 0:
            return float(cost)
        try:
            value = self._litellm.completion_cost(completion_response=resp)
        except Exception:  # unknown model in the price table: cost unknown
            return None
        return float(value) if value else None

    def _request(self, request: Request) -> Reply:
        from teachers.failures import classify

        cfg = self.config
        kwargs: dict[str, Any] = {
            "model": cfg.model,
            "messages": request.messages,
            "temperature": cfg.temperature if request.temperature is None else request.temperature,
            "max_tokens": request.max_tokens or cfg.max_tokens,
            "timeout": cfg.timeout,
            "max_retries": 0,
            "num_retries": 0,
            **request.extra,
        }
        if cfg.base_url:
            kwargs["api_base"] = cfg.base_url
        if self._key:
            kwargs["api_key"] = self._key
        elif cfg.base_url:
            kwargs["api_key"] = NO_KEY  # local servers ignore it; provider clients insist
        fmt = response_format(request)
        if fmt:
            kwargs["response_format"] = fmt
        start = time.monotonic()
        try:
            reply = self._streamed(kwargs) if cfg.stream else self._whole(kwargs)
        except (Retryable, Malformed):
            raise
        except Exception as exc:
            raise classify(exc, cfg, self.where(), fmt is not None) from exc
        reply.latency_s = time.monotonic() - start
        return reply

    def _whole(self, kwargs: dict[str, Any]) -> Reply:
        """Make a plain request and read the answer."""
        resp = self._litellm.completion(**kwargs)
        if not resp.choices:
            raise Malformed("the answer has no choices")
        choice = resp.choices[0]
        text = choice.message.content
        if text is None:
            raise Malformed("the answer holds no text")
        usage = getattr(resp, "usage", None)
        return Reply(
            text=text, model=str(resp.model or self.config.model),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost=self._cost(resp), finish_reason=str(choice.finish_reason or ""),
            insitu=is_insitu(getattr(resp, "system_fingerprint", None), None),
        )  # fmt: skip

    def _streamed(self, kwargs: dict[str, Any]) -> Reply:
        """Make a streaming request; a stream that ends without a finish reason is truncated."""
        stream = self._litellm.completion(**kwargs, stream=True,
                                          stream_options={"include_usage": True})
        parts: list[str] = []
        reply = Reply(text="", model=self.config.model)
        finish = None
        for chunk in stream:
            reply.insitu = reply.insitu or is_insitu(getattr(chunk, "system_fingerprint", None),
                                                     None)
            usage = getattr(chunk, "usage", None)
            if usage is not None and getattr(usage, "completion_tokens", None):
                reply.prompt_tokens = int(usage.prompt_tokens or 0)
                reply.completion_tokens = int(usage.completion_tokens or 0)
            for choice in chunk.choices:
                parts.append(getattr(choice.delta, "content", None) or "")
                finish = choice.finish_reason or finish
        if finish is None:
            raise Retryable(f"the teacher at {self.where()} ended its stream before the answer "
                            "was complete (truncated)", "check the server's log",
                            reason="truncated")  # fmt: skip
        reply.text = "".join(parts)
        reply.finish_reason = str(finish)
        return reply
