"""Teacher configurations live in the profile's settings, by name, without key values."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from harness import registry
from harness.cli import cli
from harness.errors import TeacherError
from harness.profile import Profile
from harness.store.records import get_setting
from teachers import config as tconfig
from teachers.insitu_teacher import InsituTeacher
from teachers.litellm_teacher import LiteLLMTeacher
from teachers.openai_compat import OpenAITeacher


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_add_list_remove():
    Profile.create("p").close()
    res = invoke("teacher", "add", "local", "-p", "p", "--kind", "openai", "--model", "llama3.2",
                 "--base-url", "http://127.0.0.1:11434/v1", "--timeout", "30")
    assert res.exit_code == 0, res.output
    assert invoke("teacher", "add", "api", "-p", "p", "--kind", "openai",
                  "--model", "gpt-4o-mini").exit_code == 0
    res = invoke("teacher", "add", "local", "-p", "p", "--kind", "openai", "--model", "x",
                 "--base-url", "http://h/v1")
    assert isinstance(res.exception, TeacherError) and "--replace" in str(res.exception)
    listing = json.loads(invoke("teacher", "list", "-p", "p", "--json").output)
    assert [t["name"] for t in listing] == ["local", "api"]
    assert listing[1]["key_name"] == "OPENAI_API_KEY"  # the official API's default key name
    with Profile.open("p") as prof:
        stored = get_setting(prof.store, "teachers")
        assert stored["local"]["timeout"] == 30.0
        assert set(stored["api"]) == set(tconfig.TeacherConfig.__dataclass_fields__)
        assert tconfig.get(prof).name == "local"  # the first added is the default
    cls = {"openai": OpenAITeacher, "litellm": LiteLLMTeacher, "insitu": InsituTeacher}
    for kind, want in cls.items():
        assert registry.teachers.get(kind) is want  # registered through the entry points
    assert "local" in invoke("teacher", "list", "-p", "p").output
    assert invoke("teacher", "remove", "local", "-p", "p").exit_code == 0
    res = invoke("teacher", "remove", "local", "-p", "p")
    assert isinstance(res.exception, TeacherError) and "teachers: api" in str(res.exception)


@pytest.mark.parametrize("args,words", [
    (["--kind", "openai"], "needs --model"),
    (["--kind", "insitu"], "--profile-name"),
    (["--kind", "openai", "--model", "m", "--base-url", "localhost:8080"], "http://"),
    (["--kind", "openai", "--model", "m", "--key-name", "sk-abcdef"], "not the key itself"),
])
def test_bad_configs_are_refused(args, words):
    Profile.create("p").close()
    res = invoke("teacher", "add", "t", "-p", "p", *args)
    assert isinstance(res.exception, TeacherError) and words in str(res.exception)


def test_missing_key_and_missing_teacher_profile():
    Profile.create("p").close()
    invoke("teacher", "add", "k", "-p", "p", "--kind", "openai", "--model", "m",
           "--base-url", "http://127.0.0.1:9/v1", "--key-name", "UNSET_KEY")
    res = invoke("teacher", "test", "k", "-p", "p")
    assert isinstance(res.exception, TeacherError)
    assert "insitu keys set UNSET_KEY" in str(res.exception)
    invoke("teacher", "add", "i", "-p", "p", "--kind", "insitu", "--profile-name", "ghost")
    res = invoke("teach", "-p", "p", "--teacher", "i")
    assert isinstance(res.exception, TeacherError) and "ghost" in str(res.exception)
    res = invoke("teach", "-p", "p", "--teacher", "nobody")
    assert "no teacher 'nobody'" in str(res.exception)
    Profile.create("bare").close()
    res = invoke("teach", "-p", "bare")
    assert "has no teacher" in str(res.exception) and "teacher add" in str(res.exception)
