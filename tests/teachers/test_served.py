"""A served insitu profile teaches another profile through the openai client and litellm.

No mocks: `insitu serve` runs on 127.0.0.1 (in a thread) with a trained chit-chat champion; the
student's teachers reach it over real HTTP with the real clients, streaming and not.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import TeacherError
from harness.store.records import add_conversation, add_message
from teachers import config as tconfig
from teachers.judge import judge, judge_verdict
from teachers.synth import synthesize

from .fakeserver import FakeTeacher


def invoke(*args: str):
    res = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    return res


def teacher_rows(prof) -> list[dict]:
    return prof.store.query("SELECT * FROM examples WHERE source = 'teacher' ORDER BY id")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["openai", "litellm"])
@pytest.mark.parametrize("stream", [False, True])
def test_served_profile_teaches_another(kind, stream, served, student):
    """`insitu teacher add` + `insitu teach`: pairs land with provenance, via either client."""
    model = "mentor" if kind == "openai" else "openai/mentor"
    args = ["teacher", "add", "mentor", "-p", "student", "--kind", kind, "--model", model,
            "--base-url", served.url, "--stream" if stream else "--no-stream"]
    assert invoke(*args).exit_code == 0
    res = invoke("teach", "-p", "student", "--n", "3", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.output[res.output.index("{"):])
    assert report["accepted"] == 3 and report["mode"] == "distill"
    assert report["usage"]["completion_tokens"] > 0
    rows = teacher_rows(student)
    assert len(rows) == 3
    prov = json.loads(rows[0]["provenance"])
    assert prov["teacher"] == "mentor" and prov["kind"] == kind and prov["mode"] == "distill"
    assert prov["model"].endswith("mentor") and prov["prompt"] and prov["time"] > 0
    answer = json.loads(rows[0]["answer"])[0]["text"]
    assert answer.strip()
    # the exchanges were stored in the served profile, like any chat
    served_msgs = served.app.profile.store.query("SELECT role FROM messages")
    assert sum(1 for m in served_msgs if m["role"] == "assistant") >= 3


def test_teacher_test_detects_a_micro_model(served, student):
    tconfig.add(student, tconfig.TeacherConfig(name="m", kind="openai", model="mentor",
                                               base_url=served.url))
    res = invoke("teacher", "test", "m", "-p", "student")
    assert res.exit_code == 0, res.output
    assert "answered in" in res.output and "JSON mode: does not work" in res.output
    assert "insitu micro-model" in res.output
    cfg = tconfig.get(student, "m")
    assert cfg.probe["insitu"] is True
    assert not tconfig.build(cfg).capabilities().instruct


def test_teacher_test_reports_json_mode(student):
    with FakeTeacher(["ok"]) as fake:
        invoke("teacher", "add", "f", "-p", "student", "--kind", "openai", "--model", "fake",
               "--base-url", fake.url)
        res = invoke("teacher", "test", "f", "-p", "student", "--json")
        assert res.exit_code == 0, res.output
        out = json.loads(res.output)
        assert out["probe"]["json_schema"] is True and out["probe"]["insitu"] is False
        assert out["latency_ms"] > 0 and out["usage"]["requests"] == 2
    with FakeTeacher(["400json"]) as fake:
        invoke("teacher", "add", "g", "-p", "student", "--kind", "openai", "--model", "fake",
               "--base-url", fake.url)
        res = invoke("teacher", "test", "g", "-p", "student")
        assert "JSON mode: does not work" in res.output
    listing = invoke("teacher", "list", "-p", "student").output
    assert "works" in listing and "no (text parsing)" in listing


def test_insitu_teacher_runs_in_process(champion_ckpt, student):
    from .helpers import install_champion

    install_champion("elder", champion_ckpt)
    res = invoke("teacher", "add", "elder", "-p", "student", "--kind", "insitu",
                 "--profile-name", "elder")
    assert res.exit_code == 0, res.output
    t = tconfig.build(tconfig.get(student, "elder"))
    rep = synthesize(student, t, n=3, topic="Hello")
    assert rep.accepted == 3 and rep.mode == "distill"
    prov = json.loads(teacher_rows(student)[0]["provenance"])
    assert prov["kind"] == "insitu" and prov["prompt"] == "Hello" and prov["cost"] == 0.0


def test_distillation_needs_prompts(served):
    """A micro-model teacher with no topic, prompts or data names the ways to give it prompts,
    with the profile and task in the `insitu data add` command."""
    from harness.profile import Profile

    with Profile.create("empty") as prof:
        cfg = tconfig.TeacherConfig(name="m", kind="openai", model="mentor", base_url=served.url,
                                    mode="distill")
        with pytest.raises(TeacherError, match="--topic") as err:
            synthesize(prof, tconfig.build(cfg), n=2)
    assert "task chat has no data yet" in str(err.value) and "--prompts FILE" in str(err.value)
    assert "`insitu data add -p empty PATH --task chat`" in str(err.value)


def test_pairs_from_a_json_teacher_are_deduplicated(student):
    """Repeated pairs are dropped: exact copies by hash, rephrasings by similarity."""
    with FakeTeacher(["ok"]) as fake:
        fake.answer = lambda i, body: json.dumps({"pairs": [  # type: ignore[method-assign]
            {"prompt": "Hello", "answer": "Hi"},  # already in the student's data
            {"prompt": "What is your name?", "answer": "I am a tiny model."},
            {"prompt": "what is your name", "answer": "I am a tiny model!"},  # near
            {"prompt": "", "answer": "no prompt"},  # rejected
        ]})
        cfg = tconfig.TeacherConfig(name="f", kind="openai", model="fake", base_url=fake.url,
                                    mode="pairs", backoff=0.01)
        rep = synthesize(student, tconfig.build(cfg), n=4, batch=4)
    assert rep.accepted == 1
    assert rep.duplicates >= 3 and rep.near_duplicates >= 2 and rep.rejected >= 1
    assert len(teacher_rows(student)) == 1
    assert rep.stopped


def test_a_micro_model_cannot_judge(champion_ckpt, student):
    from .helpers import install_champion

    install_champion("elder", champion_ckpt)
    cfg = tconfig.TeacherConfig(name="elder", kind="insitu", profile_name="elder")
    with pytest.raises(TeacherError, match="cannot judge"):
        judge(student, tconfig.build(cfg), ("Hi", "Hello"))


def test_judge_scores_a_reply_and_stores_the_signal(student):
    cid = add_conversation(student.store)
    add_message(student.store, cid, "user", "How are you?")
    mid = add_message(student.store, cid, "assistant", "I am fine, thanks.")
    with FakeTeacher(["ok"]) as fake:
        cfg = tconfig.TeacherConfig(name="j", kind="litellm", model="openai/fake",
                                    base_url=fake.url, backoff=0.01)
        t = tconfig.build(cfg)
        score = judge(student, t, mid, rubric="Is it polite?")
        verdict = judge_verdict(student, t, ("Hi", "Hello there"))
        asked = fake.bodies[0]
    assert score == pytest.approx(0.75) and verdict.score == pytest.approx(0.75)
    assert asked["response_format"]["json_schema"]["name"] == "verdict"
    assert "Is it polite?" in asked["messages"][1]["content"]
    assert "How are you?" in asked["messages"][1]["content"]
    tags = student.store.query("SELECT * FROM tags WHERE message_id = ?", [mid])
    assert tags[0]["source"] == "teacher" and tags[0]["score"] == pytest.approx(0.75)
    events = student.store.query("SELECT payload FROM events WHERE kind = 'judge' ORDER BY id")
    assert len(events) == 2 and json.loads(events[1]["payload"])["prompt"] == "Hi"
    with FakeTeacher(["ok"]) as fake:
        invoke("teacher", "add", "j", "-p", "student", "--kind", "openai", "--model", "fake",
               "--base-url", fake.url)
        res = invoke("teacher", "judge", mid, "-p", "student", "--teacher", "j", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["score"] == pytest.approx(0.75)


def test_teach_cli_prints_a_usage_summary_and_the_error(student):
    with FakeTeacher(["ok", "500"]) as fake:
        invoke("teacher", "add", "f", "-p", "student", "--kind", "openai", "--model", "fake",
               "--base-url", fake.url, "--retries", "2")
        cfg = tconfig.get(student, "f")
        cfg.backoff = 0.01
        tconfig.add(student, cfg, replace=True)
        res = invoke("teach", "-p", "student", "--n", "8", "--batch", "4")
    assert res.exit_code != 0
    assert "pairs: 4 accepted" in res.output and "3 requests (1 retried)" in res.output
    assert "kept the 4 pairs already stored" in res.output
    assert isinstance(res.exception, TeacherError) and "HTTP 500" in str(res.exception)


def test_pairs_per_minute_from_a_served_teacher(served):
    from harness.profile import list_profiles
    from teachers.bench import teach_rate

    out = teach_rate(served.url, "mentor", n=3)
    assert out["pairs"] == 3 and out["pairs_per_minute"] > 0 and out["mode"] == "distill"
    assert list_profiles() == ["mentor"]  # the throwaway student profile is gone
