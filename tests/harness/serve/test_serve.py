"""`insitu serve` over real HTTP: the official openai client talks to the served champion."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import openai
import pytest

from harness.errors import ServeError
from harness.profile import Profile
from harness.serve.auth import api_key_for, is_loopback
from harness.serve.server import make_server, serve_in_thread


def client(server, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=key, max_retries=0, timeout=30)


def post(url: str, body: dict, key: str | None = None) -> tuple[int, dict]:
    """POST JSON with urllib (stdlib, as curl would); return (status, body)."""
    req = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def messages_of(prof: Profile, cid: str) -> list[dict]:
    return prof.store.query("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", [cid])


def test_models_and_a_completion(served, mentor):
    c = client(served)
    models = c.models.list().data
    assert [m.id for m in models] == ["mentor"] and models[0].owned_by == "insitu"
    raw = c.chat.completions.with_raw_response.create(
        model="mentor", messages=[{"role": "system", "content": "Be nice."},
                                  {"role": "user", "content": "Hello"}], max_tokens=20)
    resp = raw.parse()
    text = resp.choices[0].message.content
    assert isinstance(text, str) and resp.choices[0].finish_reason in ("stop", "length")
    assert resp.usage.completion_tokens <= 20 and resp.usage.prompt_tokens > 0
    ids = resp.model_extra["insitu"]
    assert raw.headers["X-Insitu-Message-Id"] == ids["message_id"]
    msgs = messages_of(mentor, ids["conversation_id"])
    assert [(m["role"], m["text"]) for m in msgs] == [("user", "Hello"), ("assistant", text)]
    assert msgs[1]["id"] == ids["message_id"] and msgs[1]["individual_id"] == ids["individual_id"]


def test_streaming_and_continuing_a_conversation(served, mentor):
    c = client(served)
    chunks = list(c.chat.completions.create(
        model="mentor", messages=[{"role": "user", "content": "How are you?"}], max_tokens=30,
        stream=True, stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    final = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason][0]
    ids = final.model_extra["insitu"]
    assert chunks[-1].usage.completion_tokens > 0
    assert messages_of(mentor, ids["conversation_id"])[-1]["text"] == text
    resp = c.chat.completions.create(
        model="mentor", max_tokens=10,
        messages=[{"role": "user", "content": "How are you?"},
                  {"role": "assistant", "content": text},
                  {"role": "user", "content": "Good."}],
        extra_body={"insitu": {"conversation_id": ids["conversation_id"]}})
    assert resp.model_extra["insitu"]["conversation_id"] == ids["conversation_id"]
    assert [m["text"] for m in messages_of(mentor, ids["conversation_id"])][2] == "Good."


def test_sampling_settings_are_honoured(served):
    c = client(served)

    def ask(**kw):
        return c.chat.completions.create(model="mentor", messages=[{"role": "user",
                                                                    "content": "Hi"}], **kw)

    a = ask(temperature=0, max_tokens=12, seed=1).choices[0].message.content
    b = ask(temperature=0, max_tokens=12, seed=2).choices[0].message.content
    assert a == b  # greedy decoding does not depend on the seed
    s1 = ask(temperature=1.0, top_p=0.9, max_tokens=40, seed=7).choices[0].message.content
    s2 = ask(temperature=1.0, top_p=0.9, max_tokens=40, seed=7).choices[0].message.content
    assert s1 == s2
    short = ask(max_tokens=3)
    assert short.usage.completion_tokens <= 3
    if a:
        stop = ask(temperature=0, max_tokens=12, stop=[a[1:3] or a[0]])
        assert len(stop.choices[0].message.content) < len(a)


def test_bad_requests_get_openai_errors(served):
    c = client(served)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="text only"):
        c.chat.completions.create(model="mentor", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    with pytest.raises(openai.BadRequestError, match="n=1"):
        c.chat.completions.create(model="mentor", n=2, messages=[{"role": "user",
                                                                  "content": "x"}])
    status, body = post(served.url + "/nowhere", {})
    assert status == 404 and "error" in body


def test_ratings_land_in_the_profile(served, mentor):
    c = client(served)
    resp = c.chat.completions.create(model="mentor", max_tokens=10,
                                     messages=[{"role": "user", "content": "Tell me a joke"}])
    mid = resp.model_extra["insitu"]["message_id"]
    url = served.url + "/insitu/ratings"
    assert post(url, {"message_id": mid, "value": "up"})[0] == 201
    status, out = post(url, {"message_id": mid, "value": -1, "tag": "boring",
                             "correction": "Why did the byte cross the road?"})
    assert status == 201 and out["correction_added"] is True
    ratings = mentor.store.query("SELECT value, source FROM ratings WHERE message_id = ?", [mid])
    assert sorted(r["value"] for r in ratings) == [-1, 1]
    assert {r["source"] for r in ratings} == {"user"}
    tags = mentor.store.query("SELECT tag FROM tags WHERE message_id = ?", [mid])
    assert [t["tag"] for t in tags] == ["boring"]
    ex = mentor.store.query("SELECT * FROM examples WHERE message_id = ?", [mid])
    assert len(ex) == 1 and ex[0]["source"] == "chat" and ex[0]["split"] == "train"
    assert json.loads(ex[0]["prompt"])[0]["text"] == "Tell me a joke"
    assert json.loads(ex[0]["answer"])[0]["text"] == "Why did the byte cross the road?"
    assert post(url, {"message_id": mid, "value": "meh"})[0] == 400
    assert post(url, {"message_id": "nope", "value": "up"})[0] == 404
    assert post(url, {"value": "up"})[0] == 400


def test_api_key_is_required_when_set(mentor, monkeypatch):
    monkeypatch.setenv("SERVE_KEY", "k-8f2c1d9e7b6a5f4e")
    key = api_key_for("127.0.0.1", "SERVE_KEY")
    server = make_server(mentor, "127.0.0.1", 0, api_key=key)
    serve_in_thread(server)
    try:
        with pytest.raises(openai.AuthenticationError):
            client(server, "wrong").models.list()
        assert client(server, key).models.list().data[0].id == "mentor"
        assert post(server.url + "/insitu/ratings", {"message_id": "x", "value": "up"})[0] == 401
    finally:
        server.shutdown()
        server.server_close()


def test_non_loopback_needs_a_key_and_a_champion_is_needed(mentor):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ServeError, match="without an API key"):
        make_server(mentor, "0.0.0.0", 0)
    with pytest.raises(ServeError, match="insitu keys set NOPE"):
        api_key_for("0.0.0.0", "NOPE")
    with Profile.create("fresh") as fresh:
        with pytest.raises(ServeError) as err:
            make_server(fresh, "127.0.0.1", 0)
    assert "no champion yet" in str(err.value) and "insitu evolve -p fresh" in str(err.value)


def test_concurrent_streaming_clients(served, mentor):
    c = client(served)
    results: list[str] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            stream = c.chat.completions.create(
                model="mentor", messages=[{"role": "user", "content": f"Hello {i}"}],
                max_tokens=20, stream=True, seed=i)
            results.append("".join(ch.choices[0].delta.content or "" for ch in stream
                                   if ch.choices))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 8
    n = mentor.store.query("SELECT count(*) AS n FROM messages WHERE role = 'assistant'")[0]["n"]
    assert n == 8


def test_a_new_champion_is_picked_up(served, mentor, champion_ckpt):
    from harness.store.population import add_individual, individuals, set_status

    c = client(served)
    first = c.chat.completions.create(model="mentor", max_tokens=2,
                                      messages=[{"role": "user", "content": "Hi"}])
    old = individuals(mentor.store, status="champion")[0]
    set_status(mentor.store, old["id"], "alive")
    new = add_individual(mentor.store, old["genome_id"], checkpoint=old["checkpoint"],
                         status="champion")
    second = c.chat.completions.create(model="mentor", max_tokens=2,
                                       messages=[{"role": "user", "content": "Hi"}])
    assert first.model_extra["insitu"]["individual_id"] == old["id"]
    assert second.model_extra["insitu"]["individual_id"] == new


@pytest.mark.slow
def test_insitu_serve_command_runs_and_stops(mentor, tmp_path):
    """The real `insitu serve` process: announces its URL, answers the openai client."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "-p", "mentor", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        assert match, line + proc.stderr.read()
        c = openai.OpenAI(base_url=match.group(1), api_key="x", max_retries=0, timeout=30)
        resp = c.chat.completions.create(model="mentor", max_tokens=5,
                                         messages=[{"role": "user", "content": "Hello"}])
        assert resp.model_extra["insitu"]["message_id"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_command_errors_are_clear(mentor, monkeypatch):
    from click.testing import CliRunner

    from harness.cli import cli
    from harness.errors import ProfileError

    res = CliRunner().invoke(cli, ["serve", "-p", "nobody"])
    assert isinstance(res.exception, ProfileError) and "no profile 'nobody'" in str(res.exception)
    res = CliRunner().invoke(cli, ["serve", "-p", "mentor", "--host", "0.0.0.0"])
    assert isinstance(res.exception, ServeError) and "--api-key" in str(res.exception)
    Profile.create("fresh").close()
    res = CliRunner().invoke(cli, ["serve", "-p", "fresh", "--port", "0"])
    assert isinstance(res.exception, ServeError) and "no champion yet" in str(res.exception)


def test_posted_corrections_teach_the_served_model(served, mentor):
    """Corrections posted over HTTP are learned online: the served model then answers with them."""
    c = client(served)
    prompt, wanted = "What is my cat called?", "Your cat is called Miso."
    resp = c.chat.completions.create(model="mentor", max_tokens=24, temperature=0.0,
                                     messages=[{"role": "user", "content": prompt}])
    before = resp.choices[0].message.content
    assert before != wanted
    mid = resp.model_extra["insitu"]["message_id"]
    status, out = post(served.url + "/insitu/ratings", {"message_id": mid, "correction": wanted})
    assert status == 201 and out["learning"] == ["correction"] and out["example_id"]
    learning = served.app.model.learning
    assert learning.wait_idle(120)
    assert learning.learner.last_error is None and learning.learner.updates > 0
    events = mentor.store.query("SELECT kind FROM events WHERE kind = 'online'")
    assert events, "the learn report is recorded in the profile"
    again = c.chat.completions.create(model="mentor", max_tokens=40, temperature=0.0,
                                      messages=[{"role": "user", "content": prompt}])
    assert again.choices[0].message.content == wanted


def test_no_learn_serves_the_plain_champion(mentor):
    """With learning off, ratings are stored but nothing is queued for learning."""
    server = make_server(mentor, "127.0.0.1", 0, learn=False)
    serve_in_thread(server)
    try:
        resp = client(server).chat.completions.create(
            model="mentor", max_tokens=8, messages=[{"role": "user", "content": "Hi"}])
        mid = resp.model_extra["insitu"]["message_id"]
        status, out = post(server.url + "/insitu/ratings", {"message_id": mid, "value": "up"})
        assert status == 201 and "learning" not in out and server.app.model.learning is None
    finally:
        server.shutdown()
        server.server_close()
