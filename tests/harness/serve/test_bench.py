"""The serve benchmark runs end to end on loopback (tiny settings)."""

from __future__ import annotations

from harness.serve.bench import bench_serve


def test_bench_serve_reports_rates_and_first_token_times(mentor):
    seen: list[tuple[str, str]] = []
    out = bench_serve(mentor, clients=(1, 2), requests_per_client=2, max_tokens=8,
                      extras={"probe": lambda url, model: {"seen": seen.append((url, model))}})
    assert [r["clients"] for r in out["runs"]] == [1, 2]
    for run in out["runs"]:
        assert run["errors"] == 0 and run["requests"] == run["clients"] * 2
        assert run["requests_per_s"] > 0 and run["ttft_ms_p50"] > 0
    assert seen and seen[0][0].startswith("http://127.0.0.1:") and seen[0][1] == "mentor"
    assert mentor.store.count("messages") == 0  # the benchmark stores no exchange
