"""The HTTP handler of `insitu serve`: OpenAI-style routes, JSON errors and SSE streaming.

Endpoints: `GET /v1/models`, `POST /v1/chat/completions` (JSON or SSE streaming) and
`POST /v1/insitu/ratings`. Every exchange is stored in the profile; the assistant message id comes
back in the `insitu` field of the completion (the last chunk when streaming) and, without
streaming, in the `X-Insitu-Message-Id` header.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from harness import __version__
from harness.errors import DataError, InsituError
from harness.ids import new_id
from harness.serve.auth import authorised
from harness.serve.engine import ChampionModel, Generation, Message, parse_messages
from harness.serve.exchanges import (
    Exchange,
    NotFound,
    get_message,
    prompt_of,
    rate,
    rating_value,
    record_exchange,
)

if TYPE_CHECKING:
    from harness.graph.generate import Sampling
    from harness.serve.server import InsituServer, ServeApp

log = logging.getLogger("insitu.serve")
MAX_BODY = 4 * 1024 * 1024


class ApiError(Exception):
    """An error answered to the client as an OpenAI-style JSON error."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.message, self.code, self.kind = status, message, code, kind

    def body(self) -> dict[str, Any]:
        """Return the JSON error body."""
        return {"error": {"message": self.message, "type": self.kind, "param": None,
                          "code": self.code}}  # fmt: skip


def stop_strings(raw: Any) -> list[str]:
    """Return the request's stop strings (a string or a list of up to 4)."""
    if raw is None:
        return []
    stops = [raw] if isinstance(raw, str) else raw
    if not isinstance(stops, list) or len(stops) > 4 or not all(isinstance(s, str) for s in stops):
        raise ApiError(400, "'stop' must be a string or a list of up to 4 strings")
    return [s for s in stops if s]


class Handler(BaseHTTPRequestHandler):
    """One HTTP request against the ServeApp of the server."""

    protocol_version = "HTTP/1.1"
    server_version = f"insitu-serve/{__version__}"
    server: InsituServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.info("%s %s", self.address_string(), format % args)

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def app(self) -> ServeApp:
        return self.server.app

    def _send_json(self, status: int, payload: dict[str, Any],
                   headers: dict[str, str] | None = None) -> None:  # fmt: skip
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        if length is None:
            raise ApiError(411, "send a Content-Length header")
        size = int(length)
        if size > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, f"request body over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(size) or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return body

    def _dispatch(self, routes: dict[str, Any]) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            if not authorised(self.headers.get("Authorization"), self.app.api_key):
                raise ApiError(401, "missing or wrong API key (send Authorization: Bearer KEY)",
                               "invalid_api_key")
            handler = routes.get(path)
            if handler is None and path.startswith("/v1/models/"):
                handler = self._model
            if handler is None:
                raise ApiError(404, f"no endpoint {self.command} {path}", "not_found")
            handler()
        except ApiError as exc:
            self._send_json(exc.status, exc.body())
        except NotFound as exc:
            self._send_json(404, ApiError(404, str(exc), "not_found").body())
        except InsituError as exc:
            self._send_json(400, ApiError(400, str(exc)).body())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # one bad request must not stop the server
            log.exception("request failed")
            self._send_json(500, ApiError(500, f"internal error: {type(exc).__name__}",
                                          kind="server_error").body())

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch({"/v1/models": self._models, "/health": self._health})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch({"/v1/chat/completions": self._chat,
                        "/v1/insitu/ratings": self._ratings})  # fmt: skip

    # -- endpoints ---------------------------------------------------------------------------
    def _model_card(self) -> dict[str, Any]:
        return {"id": self.app.model_name, "object": "model", "created": self.app.created,
                "owned_by": "insitu", "insitu": {"individual_id": self.app.model.individual_id}}

    def _health(self) -> None:
        self._send_json(200, {"status": "ok", "profile": self.app.profile.name})

    def _models(self) -> None:
        self._send_json(200, {"object": "list", "data": [self._model_card()]})

    def _model(self) -> None:
        name = self.path.split("?", 1)[0].rstrip("/").split("/v1/models/", 1)[1]
        if name not in self.app.model_names():
            raise ApiError(404, f"The model '{name}' does not exist", "model_not_found")
        self._send_json(200, self._model_card())

    def _ratings(self) -> None:
        body = self._body()
        mid = body.get("message_id")
        if not isinstance(mid, str) or not mid:
            raise ApiError(400, "'message_id' is required")
        value, tag, correction = body.get("value"), body.get("tag"), body.get("correction")
        out = rate(self.app.profile, mid, value, tag, correction)
        learning = self.app.model.learning
        if learning is not None:  # the served model learns from it, as the chat's does
            msg = get_message(self.app.profile, mid)
            score = None if value is None else rating_value(value)
            signals = learning.signals(out, msg, prompt_of(self.app.profile, msg), score,
                                       tag, correction)  # fmt: skip
            learning.learn(signals)
            out["learning"] = [s.kind for s in signals]
        self._send_json(201, out)

    def _chat(self) -> None:
        body = self._body()
        name = body.get("model")
        app = self.app
        model = app.current()
        if not isinstance(name, str) or not name:
            raise ApiError(400, "'model' is required (GET /v1/models lists it)")
        if name not in app.model_names():
            raise ApiError(404, f"The model '{name}' does not exist (this server has "
                           f"'{app.model_name}')", "model_not_found")  # fmt: skip
        if int(body.get("n") or 1) != 1:
            raise ApiError(400, "only n=1 is supported")
        try:
            messages = parse_messages(body.get("messages"))
        except DataError as exc:
            raise ApiError(400, str(exc)) from None
        sampling = app.sampling(body)
        stops = stop_strings(body.get("stop"))
        seed = body.get("seed")
        extra = body.get("insitu")
        extra = extra if isinstance(extra, dict) else {}
        conv = extra.get("conversation_id") or self.headers.get("X-Insitu-Conversation-Id")
        tokens = model.prompt_tokens(messages, sampling.max_tokens)
        prompt = _last_user(messages)
        cid = f"chatcmpl-{new_id()}"
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(model, tokens, sampling, seed, stops, cid, prompt, conv, include_usage)
            return
        gen = model.generate(tokens, sampling, seed, stops)
        ex = self._record(conv, prompt, gen, model)
        headers = {} if ex is None else {"X-Insitu-Message-Id": ex.message_id,
                                         "X-Insitu-Conversation-Id": ex.conversation_id}
        self._send_json(200, self._completion(cid, model, gen, ex), headers)

    def _record(self, conv: str | None, prompt: str, gen: Generation,
                model: ChampionModel) -> Exchange | None:  # fmt: skip
        """Store the exchange in the profile (unless recording is off); return its ids."""
        if not self.app.record:
            return None
        return record_exchange(self.app.profile, conv, prompt, gen.text, model.individual_id)

    def _completion(self, cid: str, model: ChampionModel, gen: Generation,
                    ex: Exchange | None) -> dict[str, Any]:  # fmt: skip
        return {
            "id": cid, "object": "chat.completion", "created": int(time.time()),
            "model": self.app.model_name, "system_fingerprint": f"insitu-{__version__}",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": gen.text},
                         "logprobs": None, "finish_reason": gen.finish_reason}],
            "usage": _usage(gen),
            "insitu": _ids(ex, model),
        }  # fmt: skip

    def _stream(self, model: ChampionModel, tokens: list[int], sampling: Sampling,
                seed: Any, stops: list[str], cid: str, prompt: str, conv: str | None,
                include_usage: bool) -> None:  # fmt: skip
        """Send SSE chunks over chunked transfer encoding; store what was generated."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.app.model_name, "system_fingerprint": f"insitu-{__version__}"}
        gen = Generation()

        def event(choices: list[dict[str, Any]], **more: Any) -> None:
            self._chunk(b"data: " + json.dumps({**base, "choices": choices, **more}).encode()
                        + b"\n\n")  # fmt: skip

        def delta(d: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
            return [{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}]

        try:
            event(delta({"role": "assistant", "content": ""}))
            for piece in model.stream(tokens, sampling, seed, stops, gen):
                event(delta({"content": piece}))
        except (BrokenPipeError, ConnectionResetError):
            gen.finish_reason = "cancelled"
            self._record(conv, prompt, gen, model)  # the person saw this much of the reply
            self.close_connection = True
            return
        ex = self._record(conv, prompt, gen, model)
        event(delta({}, gen.finish_reason), insitu=_ids(ex, model))
        if include_usage:
            event([], usage=_usage(gen))
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

def _usage(gen: Generation) -> dict[str, int]:
    return {"prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
            "total_tokens": gen.prompt_tokens + gen.completion_tokens}  # fmt: skip


def _ids(ex: Exchange | None, model: ChampionModel) -> dict[str, str]:
    if ex is None:
        return {"individual_id": model.individual_id}
    return {"message_id": ex.message_id, "conversation_id": ex.conversation_id,
            "individual_id": model.individual_id}  # fmt: skip


def _last_user(messages: list[Message]) -> str:
    """Return the trailing user messages' text (what the person just said)."""
    out: list[str] = []
    for m in reversed(messages):
        if m.role == "user":
            out.append(m.text)
        elif out:
            break
    return "\n".join(reversed(out))
