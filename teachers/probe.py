"""`insitu teacher test`: one tiny request for latency, one for JSON mode."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from harness.errors import TeacherError
from teachers.base import Malformed, Reply, Request
from teachers.config import TeacherConfig, build
from teachers.parse import extract_json

HELLO = "Say hello in five words or fewer."
OK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}


def _json_ok(reply: Reply) -> bool:
    data = extract_json(reply.text)
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        raise Malformed("no {\"ok\": true} object in the answer")
    return True


def probe(config: TeacherConfig) -> dict[str, Any]:
    """Check a teacher: latency of a tiny request, JSON-schema mode, insitu micro-model or not."""
    t = build(config)
    try:
        start = time.monotonic()
        reply, _ = t.complete(Request([{"role": "user", "content": HELLO}], max_tokens=32))
        latency = time.monotonic() - start
        json_ok = False
        if not reply.insitu and t.defaults.json_schema:
            strict = build(dataclasses.replace(config, max_attempts=1))
            try:
                req = Request([{"role": "user", "content": 'Answer with the JSON object '
                                '{"ok": true} and nothing else.'}],
                              schema=OK_SCHEMA, schema_name="ok", max_tokens=32)  # fmt: skip
                strict.complete(req, parse=_json_ok)
                json_ok = not strict.json_refused
            except TeacherError:
                json_ok = False
            finally:
                t.usage.requests += strict.usage.requests
                t.usage.add(Reply("", prompt_tokens=strict.usage.prompt_tokens,
                                  completion_tokens=strict.usage.completion_tokens,
                                  cost=strict.usage.cost))  # fmt: skip
                strict.close()
    finally:
        t.close()
    return {
        "teacher": config.name,
        "latency_ms": latency * 1000,
        "reply": " ".join(reply.text.split())[:80],
        "model": reply.model,
        "probe": {"json_schema": json_ok, "insitu": reply.insitu, "at": time.time(),
                  "latency_ms": round(latency * 1000)},
        "usage": t.usage.to_dict(),
        "usage_summary": t.usage.summary(),
    }
