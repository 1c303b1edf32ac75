"""A real local HTTP server that plays an OpenAI-compatible teacher and misbehaves on purpose.

Each request consumes the next behaviour of its script (the last one repeats):
ok, slow, 429, 500, malformed (a broken JSON body), garbage (valid completion, no pairs),
truncated (a stream cut off mid-answer), 401, 404, 400, 400json (refuses response_format).
It counts requests server-side and keeps the request bodies.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeTeacher

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model",
                                                     "created": 0, "owned_by": "test"}]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        fake = self.server
        with fake.lock:
            fake.bodies.append(body)
            fake.auth.append(self.headers.get("Authorization", ""))
            i = len(fake.bodies) - 1
            step = fake.script[min(i, len(fake.script) - 1)]
        error = {"error": {"message": f"scripted {step}", "type": "x", "code": None}}
        if step == "slow":
            time.sleep(fake.slow_s)
            step = "ok"
        if step == "429":
            self._json(429, error, {"Retry-After": fake.retry_after})
        elif step == "500":
            self._json(500, error)
        elif step == "401":
            self._json(401, {"error": {"message": "Incorrect API key provided: "
                                       + self.headers.get("Authorization", "")[7:],
                                       "type": "invalid_request_error",
                                       "code": "invalid_api_key"}})  # echoes the key, as APIs do
        elif step == "404":
            self._json(404, {"error": {"message": "The model does not exist", "type": "x",
                                       "code": "model_not_found"}})
        elif step == "400":
            self._json(400, {"error": {"message": "bad request", "type": "x", "code": None}})
        elif step == "400json" and body.get("response_format"):
            self._json(400, {"error": {"message": "response_format is not supported",
                                       "type": "x", "code": None}})
        elif step == "malformed":
            self._json(200, b'{"id": "x", "choices": [{"message": ')
        else:
            text = fake.answer(i, body) if step != "garbage" else "Sorry, I cannot do that."
            if body.get("stream"):
                self._stream(text, cut=step == "truncated")
            else:
                self._json(200, _completion(text))

    def _stream(self, text: str, cut: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = [text[i : i + 16] for i in range(0, len(text), 16)]
        for n, piece in enumerate(pieces):
            if cut and n == len(pieces) // 2:
                self.wfile.write(b"5\r\ndata:")  # half a chunk, then the connection drops
                self.wfile.flush()
                self.close_connection = True
                return
            self._chunk(_chunk(piece, None))
        self._chunk(_chunk("", "stop"))
        self._chunk(json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 0,
                                "model": "fake", "choices": [],
                                "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                          "total_tokens": 15}}).encode())
        self.wfile.write(b"e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n")

    def _chunk(self, payload: bytes) -> None:
        data = b"data: " + payload + b"\n\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def _chunk(text: str, finish: str | None) -> bytes:
    return json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 0,
                       "model": "fake", "choices": [{"index": 0, "delta": {"content": text},
                                                     "finish_reason": finish}]}).encode()


def _completion(text: str) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


class FakeTeacher(ThreadingHTTPServer):
    """The misbehaving server; `url` is its /v1 base URL."""

    daemon_threads = True

    def __init__(self, script: list[str], slow_s: float = 1.0, retry_after: str = "1") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.slow_s = slow_s
        self.retry_after = retry_after
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up (its traceback would land in captured output)."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    @property
    def requests(self) -> int:
        return len(self.bodies)

    def answer(self, i: int, body: dict[str, Any]) -> str:
        """Return what the request asks for: {"ok": true}, a verdict, or pairs unique to i."""
        fmt = body.get("response_format") or {}
        name = (fmt.get("json_schema") or {}).get("name")
        text = json.dumps(body.get("messages", ""))
        if name == "ok" or '{\\"ok\\": true}' in text:
            return '{"ok": true}'
        if name == "verdict" or "Rubric:" in text:
            return '{"score": 4, "reason": "A fair, fluent answer."}'
        pairs = [{"prompt": f"What is {i} plus {j}?", "answer": f"{i} plus {j} is {i + j}."}
                 for j in range(4)]  # fmt: skip
        return json.dumps({"pairs": pairs})

    def __enter__(self) -> FakeTeacher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
