"""Benchmark of `insitu serve`: requests/s and time to first token for concurrent streaming clients.

The server runs in a thread on a free loopback port; each client is a thread speaking plain HTTP
(http.client) and reading the SSE stream, as any OpenAI client would. Extra measurements that
need a running server (pairs per minute from the teachers package) plug in as callables.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from harness.profile import Profile

PROMPTS = ("Hello", "How are you?", "What is your name?", "Tell me a joke", "Good morning")


def stream_once(url: str, model: str, prompt: str, max_tokens: int,
                key: str | None = None) -> tuple[float, float, int]:  # fmt: skip
    """Send one streaming completion; return (seconds to first text, total seconds, chunks)."""
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=120)
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}],
                       "max_tokens": max_tokens, "stream": True})  # fmt: skip
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    start = time.perf_counter()
    first = None
    chunks = 0
    try:
        conn.request("POST", parsed.path.rstrip("/") + "/chat/completions", body, headers)
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
        for raw in resp:
            line = raw.strip()
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or []
            if choices and choices[0].get("delta", {}).get("content"):
                chunks += 1
                if first is None:
                    first = time.perf_counter() - start
    finally:
        conn.close()
    total = time.perf_counter() - start
    return (first if first is not None else total), total, chunks


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def run_clients(url: str, model: str, clients: int, requests_per_client: int,
                max_tokens: int, key: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Run `clients` threads of streaming requests; return throughput and latency figures."""
    ttft: list[float] = []
    chunks: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        for j in range(requests_per_client):
            try:
                first, _, n = stream_once(url, model, PROMPTS[(i + j) % len(PROMPTS)],
                                          max_tokens, key)  # fmt: skip
            except (OSError, RuntimeError, ValueError) as exc:
                with lock:
                    errors.append(str(exc))
                continue
            with lock:
                ttft.append(first)
                chunks.append(n)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    done = len(ttft)
    return {
        "clients": clients,
        "requests": done,
        "errors": len(errors),
        "seconds": wall,
        "requests_per_s": done / wall if wall else 0.0,
        "chunks_per_s": sum(chunks) / wall if wall else 0.0,
        "ttft_ms_mean": 1000 * statistics.fmean(ttft) if ttft else None,
        "ttft_ms_p50": 1000 * _pct(ttft, 0.5) if ttft else None,
        "ttft_ms_p95": 1000 * _pct(ttft, 0.95) if ttft else None,
    }


def bench_serve(
    profile: Profile,
    clients: Sequence[int] = (1, 8),
    requests_per_client: int = 4,
    max_tokens: int = 32,
    record: bool = False,
    extras: dict[str, Callable[[str, str], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Serve the profile's champion on loopback and measure it; return a JSON-able report.

    1. Start the server in a thread on a free port (exchanges are not stored unless `record`).
    2. Warm up with one request, then run each client count in turn.
    3. Call each extra measurement with (base URL, model name) while the server runs.
    """
    from harness.serve.server import make_server, serve_in_thread

    server = make_server(profile, "127.0.0.1", 0, learn=False)
    server.app.record = record
    serve_in_thread(server)
    url, model = server.url, server.app.model_name
    try:
        stream_once(url, model, PROMPTS[0], 4)
        runs = [run_clients(url, model, c, requests_per_client, max_tokens) for c in clients]
        out: dict[str, Any] = {
            "profile": profile.name,
            "individual_id": server.app.model.individual_id,
            "max_tokens": max_tokens,
            "requests_per_client": requests_per_client,
            "runs": runs,
        }
        for name, fn in (extras or {}).items():
            out[name] = fn(url, model)
        return out
    finally:
        server.shutdown()
        server.server_close()
