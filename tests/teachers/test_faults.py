"""Faults over real HTTP: a local server misbehaves on purpose; the real clients talk to it.

Retries are counted server-side; a failed request stores nothing, earlier batches stay stored,
and the message at the end names the problem and the next step.
"""

from __future__ import annotations

import socket
import time

import pytest

from harness.errors import TeacherError
from teachers.base import MALFORMED_MESSAGE
from teachers.config import TeacherConfig, build
from teachers.synth import TeachReport, synthesize

from .fakeserver import FakeTeacher

KINDS = ["openai", "litellm"]


def make(kind: str, url: str, **kw: object):
    """Return a teacher of `kind` for the fake server, with fast backoff."""
    opts = {"backoff": 0.01, "max_attempts": 3, "timeout": 5.0, "mode": "pairs", **kw}
    model = "fake" if kind == "openai" else "openai/fake"
    return build(TeacherConfig(name="t", kind=kind, model=model, base_url=url, **opts))


def teacher_rows(prof) -> list[dict]:
    return prof.store.query("SELECT * FROM examples WHERE source = 'teacher'")


@pytest.mark.parametrize("kind", KINDS)
def test_500_then_success_is_retried_and_stored(kind, student):
    with FakeTeacher(["500", "ok"]) as fake:
        t = make(kind, fake.url)
        rep = synthesize(student, t, n=4, batch=4)
    assert fake.requests == 2
    assert rep.accepted == 4 and rep.usage.retries == 1 and rep.usage.requests == 2
    assert len(teacher_rows(student)) == 4
    # pairs mode asked for JSON-schema output
    assert fake.bodies[0]["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize("kind", KINDS)
def test_429_honours_retry_after(kind, student):
    delays: list[float] = []

    def sleep(s: float) -> None:
        delays.append(s)
        time.sleep(s)

    with FakeTeacher(["429", "ok"], retry_after="1") as fake:
        cfg = TeacherConfig(name="t", kind=kind, base_url=fake.url, backoff=0.01, mode="pairs",
                            model="fake" if kind == "openai" else "openai/fake")
        t = build(cfg, sleep=sleep)
        rep = synthesize(student, t, n=4, batch=4)
    assert fake.requests == 2 and rep.accepted == 4
    assert delays and 1.0 <= delays[0] < 1.2


@pytest.mark.parametrize("kind", KINDS)
def test_slow_beyond_timeout_is_retried(kind, student):
    with FakeTeacher(["slow", "ok"], slow_s=1.5) as fake:
        t = make(kind, fake.url, timeout=0.4)
        rep = synthesize(student, t, n=4, batch=4)
    assert fake.requests == 2 and rep.accepted == 4 and rep.usage.retries == 1


def test_always_slow_gives_a_timeout_message(student):
    with FakeTeacher(["slow"], slow_s=1.0) as fake:
        t = make("openai", fake.url, timeout=0.3, max_attempts=2)
        with pytest.raises(TeacherError) as err:
            synthesize(student, t, n=4, batch=4)
    assert fake.requests == 2
    assert "did not answer within 0.3 s" in str(err.value) and "--timeout" in str(err.value)
    assert teacher_rows(student) == []


@pytest.mark.parametrize("kind", KINDS)
def test_always_500_stores_nothing_and_says_so(kind, student):
    with FakeTeacher(["500"]) as fake:
        t = make(kind, fake.url)
        with pytest.raises(TeacherError) as err:
            synthesize(student, t, n=4, batch=4)
    assert fake.requests == 3
    assert "HTTP 500" in str(err.value) and "gave up after 3 attempts" in str(err.value)
    assert teacher_rows(student) == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("step", ["malformed", "garbage"])
def test_malformed_replies_end_with_a_clear_message(kind, step, student):
    with FakeTeacher([step]) as fake:
        t = make(kind, fake.url)
        with pytest.raises(TeacherError) as err:
            synthesize(student, t, n=4, batch=4)
    assert fake.requests == 3
    assert MALFORMED_MESSAGE in str(err.value)
    assert teacher_rows(student) == []


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_stream_is_retried_then_stored_once(kind, student):
    with FakeTeacher(["truncated", "ok"]) as fake:
        t = make(kind, fake.url, stream=True)
        rep = synthesize(student, t, n=4, batch=4)
    assert fake.requests == 2 and rep.accepted == 4
    assert len(teacher_rows(student)) == 4


@pytest.mark.parametrize("attempts, said", [(2, "after 2 attempts)"), (1, "after 1 attempt)")])
@pytest.mark.parametrize("kind", KINDS)
def test_always_truncated_stream_stores_nothing(kind, student, attempts, said):
    """Every attempt truncated: nothing stored, and the error counts the attempts in words."""
    with FakeTeacher(["truncated"]) as fake:
        t = make(kind, fake.url, stream=True, max_attempts=attempts)
        with pytest.raises(TeacherError) as err:
            synthesize(student, t, n=4, batch=4)
    assert fake.requests == attempts
    assert f"gave up {said}" in str(err.value)
    assert teacher_rows(student) == []


@pytest.mark.parametrize("kind", KINDS)
def test_connection_refused_asks_whether_the_server_runs(kind, student):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}/v1"
    t = make(kind, url, max_attempts=2)
    with pytest.raises(TeacherError) as err:
        synthesize(student, t, n=4, batch=4)
    assert f"is the server running at {url}?" in str(err.value)
    assert t.usage.requests == 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", ["401", "404", "400"])
def test_no_retry_on_client_errors(kind, status, student, monkeypatch):
    secret = "sk-test-Zq8Vd1Lr5Nw2Kp7Ys4Hb"
    monkeypatch.setenv("FAKE_KEY", secret)
    with FakeTeacher([status]) as fake:
        t = make(kind, fake.url, key_name="FAKE_KEY")
        with pytest.raises(TeacherError) as err:
            synthesize(student, t, n=4, batch=4)
    assert fake.requests == 1
    assert fake.auth[0] == f"Bearer {secret}"
    text = str(err.value)
    assert secret not in text and secret[8:20] not in text
    if status == "401":
        assert "the key in FAKE_KEY was refused" in text
        assert "`insitu keys set FAKE_KEY`" in text
    elif status == "404":
        assert "model" in text and "unknown" in text and "HTTP 404" in text
    else:
        assert "refused the request (HTTP 400)" in text
    assert teacher_rows(student) == []


def test_no_json_mode_falls_back_to_text(student):
    with FakeTeacher(["400json", "ok"]) as fake:
        t = make("openai", fake.url)
        rep = synthesize(student, t, n=4, batch=4)
    assert fake.requests == 2 and rep.accepted == 4
    assert "response_format" in fake.bodies[0] and "response_format" not in fake.bodies[1]
    assert t.json_refused and not t.capabilities().json_schema
    assert '"json_mode": false' in teacher_rows(student)[0]["provenance"]


def test_error_after_a_batch_keeps_the_batch(student):
    """A later failure leaves the earlier, validated batches stored, and no half batch."""
    with FakeTeacher(["ok", "500"]) as fake:
        t = make("openai", fake.url, max_attempts=2)
        report = TeachReport()
        with pytest.raises(TeacherError):
            synthesize(student, t, n=8, batch=4, report=report)
    assert fake.requests == 3
    assert report.accepted == 4 and len(teacher_rows(student)) == 4


def test_ctrl_c_keeps_what_was_stored(student):
    with FakeTeacher(["ok"]) as fake:
        t = make("openai", fake.url)
        seen: list[int] = []

        def on_batch(added: int) -> None:
            seen.append(added)
            if len(seen) == 2:
                raise KeyboardInterrupt

        rep = synthesize(student, t, n=20, batch=4, on_batch=on_batch)
    assert rep.interrupted and rep.accepted == 8
    assert len(teacher_rows(student)) == 8
