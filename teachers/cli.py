"""`insitu teacher|keys|teach`: configure teachers and keys, synthesise pairs, judge replies."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from harness.cliutil import json_option, open_profile, profile_option, table
from harness.errors import DataError, TeacherError
from harness.profile import profile_flag
from teachers import config as tconfig


@click.group()
def teacher() -> None:
    """Add, list, remove and test the profile's teachers (local servers, APIs, profiles)."""


@teacher.command("add")
@profile_option
@click.argument("name")
@click.option("--kind", required=True,
              help="openai: any OpenAI-compatible server; litellm: any provider; insitu: "
                   "another local profile's champion (or a plugin's teacher kind).")
@click.option("--model", default="", help="Model name (openai/litellm), e.g. gpt-4o-mini, "
                                          "llama3.2, anthropic/claude-3-5-haiku-latest.")
@click.option("--base-url", default=None, help="Server URL, e.g. http://127.0.0.1:8080/v1.")
@click.option("--key-name", default=None,
              help="NAME of the environment variable or keys-file entry holding the key.")
@click.option("--profile-name", default=None, help="The teaching profile (--kind insitu).")
@click.option("--mode", type=click.Choice(tconfig.MODES), default="auto", show_default=True,
              help="pairs: ask for JSON pairs; distill: ask prompts and keep the answers "
                   "(micro-models); auto: decide from the kind and `teacher test`.")
@click.option("--json", "json_mode", type=click.Choice(tconfig.JSON_MODES), default="auto",
              show_default=True, help="Use JSON-schema output (auto: when the teacher has it).")
@click.option("--stream/--no-stream", default=False, help="Stream answers.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per request.")
@click.option("--retries", "max_attempts", type=int, default=4, show_default=True,
              help="Attempts per request (timeouts, 429, 5xx).")
@click.option("--temperature", type=float, default=0.7, show_default=True)
@click.option("--replace", is_flag=True, help="Overwrite a teacher of the same name.")
def add(profile: str, name: str, kind: str, model: str, base_url: str | None,
        key_name: str | None, profile_name: str | None, mode: str, json_mode: str, stream: bool,
        timeout: float, max_attempts: int, temperature: float, replace: bool) -> None:  # fmt: skip
    """Add teacher NAME to the profile (the key is referred to by name, never stored here)."""
    if kind == "openai" and not base_url and not key_name:
        key_name = "OPENAI_API_KEY"
    cfg = tconfig.TeacherConfig(name=name, kind=kind, model=model, base_url=base_url,
                                key_name=key_name, profile_name=profile_name, mode=mode,
                                json=json_mode, stream=stream, timeout=timeout,
                                max_attempts=max_attempts, temperature=temperature)  # fmt: skip
    with open_profile(profile) as prof:
        tconfig.add(prof, cfg, replace=replace)
    where = base_url or profile_name or "the provider's default URL"
    click.echo(f"added teacher '{name}' ({kind} {model or 'champion'} at {where}) to profile "
               f"'{profile}'; check it with `insitu teacher test{profile_flag(profile)} {name}`")


@teacher.command("list")
@profile_option
@json_option
def list_(profile: str, as_json: bool) -> None:
    """List the profile's teachers."""
    with open_profile(profile) as prof:
        configs = tconfig.load_all(prof)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in configs.values()], indent=2))
        return
    if not configs:
        click.echo("no teachers yet; add one with `insitu teacher add NAME --kind openai "
                   "--base-url URL --model M`")
        return
    rows = [[c.name, c.kind, c.model or "-", c.base_url or c.profile_name or "-",
             c.key_name or "-", c.mode, _json_state(c)] for c in configs.values()]  # fmt: skip
    click.echo(table(rows, ["teacher", "kind", "model", "where", "key name", "mode", "json"]))


def _json_state(c: tconfig.TeacherConfig) -> str:
    if "json_schema" in c.probe:
        return "works" if c.probe["json_schema"] else "no (text parsing)"
    return c.json


@teacher.command("remove")
@profile_option
@click.argument("name")
def remove(profile: str, name: str) -> None:
    """Remove teacher NAME from the profile."""
    with open_profile(profile) as prof:
        tconfig.remove(prof, name)
    click.echo(f"removed teacher '{name}'")


@teacher.command("test")
@profile_option
@click.argument("name")
@json_option
def test(profile: str, name: str, as_json: bool) -> None:
    """Send a tiny request: report latency, whether JSON mode works, and remember it."""
    from teachers.probe import probe

    with open_profile(profile) as prof:
        cfg = tconfig.get(prof, name)
        result = probe(cfg)
        tconfig.update_probe(prof, name, result["probe"])
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"teacher '{name}' ({cfg.kind} {cfg.model or 'champion'}) answered in "
               f"{result['latency_ms']:.0f} ms: {result['reply']!r}")
    click.echo("JSON mode: " + ("works" if result["probe"]["json_schema"]
                                else "does not work (text answers will be parsed)"))
    if result["probe"]["insitu"]:
        click.echo("this is an insitu micro-model: `insitu teach` will ask it prompts and keep "
                   "its answers (distill mode)")
    click.echo("usage: " + result["usage_summary"])


@teacher.command("judge")
@profile_option
@click.argument("message_id")
@click.option("--teacher", "name", default=None, help="Teacher name (default: the first added).")
@click.option("--rubric", default=None, help="What a good reply is.")
@json_option
def judge_cmd(profile: str, message_id: str, name: str | None, rubric: str | None,
              as_json: bool) -> None:  # fmt: skip
    """Have a teacher score a reply (MESSAGE_ID) against a rubric; store the score."""
    from teachers.judge import judge_verdict

    with open_profile(profile) as prof:
        t = tconfig.build(tconfig.get(prof, name))
        try:
            verdict = judge_verdict(prof, t, message_id, rubric)
        finally:
            t.close()
    if as_json:
        click.echo(json.dumps({**verdict.to_dict(), "usage": t.usage.to_dict()}, indent=2))
        return
    click.echo(f"score {verdict.score:.2f} ({verdict.raw:g} of {verdict.low:g}..{verdict.high:g})"
               f": {verdict.reason}\nusage: {t.usage.summary()}")


@click.group()
def keys() -> None:
    """Set, list and remove API keys (kept in a 0600 file outside every profile)."""


@keys.command("set")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the key from standard input.")
def keys_set(name: str, from_stdin: bool) -> None:
    """Store key NAME, read with a hidden prompt (or from stdin); it is never shown."""
    from teachers.keys import check_key_name, set_key

    check_key_name(name)
    if from_stdin or not sys.stdin.isatty():
        value = sys.stdin.readline()
    else:
        value = click.prompt(f"value of {name}", hide_input=True, prompt_suffix=": ")
    path = set_key(name, value)
    click.echo(f"stored key {name} in {path} (mode 0600)")


@keys.command("list")
def keys_list() -> None:
    """List the names of stored keys (never their values)."""
    from teachers.keys import list_keys

    names = list_keys()
    if not names:
        click.echo("no keys stored; `insitu keys set NAME` stores one")
        return
    click.echo(table([[n, where] for n, where in names], ["key name", "file"]))


@keys.command("remove")
@click.argument("name")
def keys_remove(name: str) -> None:
    """Remove key NAME from the keys file."""
    from teachers.keys import remove_key

    if not remove_key(name):
        raise TeacherError(f"no key {name} in the keys file", "see them with `insitu keys list`")
    click.echo(f"removed key {name}")


@click.command()
@profile_option
@click.option("--teacher", "name", default=None, help="Teacher name (default: the first added).")
@click.option("--task", default=None, help="Task to teach (default: the profile's first task).")
@click.option("--n", "n", type=int, default=20, show_default=True, help="Pairs to add.")
@click.option("--topic", default=None, help="What the pairs should be about.")
@click.option("--batch", type=int, default=8, show_default=True, help="Pairs asked per request.")
@click.option("--seed", type=int, default=None, help="Seed for picking the examples shown.")
@click.option("--prompts", "prompts_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Questions (one per line) a micro-model teacher answers "
                                 "(distillation); the profile's own prompts follow.")
@json_option
def teach(profile: str, name: str | None, task: str | None, n: int, topic: str | None,
          batch: int, seed: int | None, prompts_file: Path | None,
          as_json: bool) -> None:  # fmt: skip
    """Have a teacher write N new training pairs; Ctrl-C keeps the pairs already stored."""
    from teachers.synth import TeachReport, synthesize

    if n < 1:
        raise click.BadParameter("--n must be at least 1", param_hint="--n")
    prompts = read_prompts(prompts_file) if prompts_file is not None else []
    report = TeachReport()
    with open_profile(profile) as prof:
        cfg = tconfig.get(prof, name)
        t = tconfig.build(cfg)
        error: TeacherError | None = None
        try:
            with click.progressbar(length=n, label=f"teaching from '{cfg.name}'",
                                   file=sys.stderr) as bar:  # fmt: skip
                synthesize(prof, t, task, n, topic, batch, on_batch=bar.update, seed=seed,
                           report=report, prompts=prompts)  # fmt: skip
        except TeacherError as exc:
            error = exc
        finally:
            t.close()
    _report(report, as_json, error)
    if error is not None:
        raise error
    if report.interrupted:
        sys.exit(130)


def read_prompts(path: Path) -> list[str]:
    """Return the non-empty lines of a prompts file, or raise a DataError saying what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"no prompts file at {path}",
                        "give a text file, one question per line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the prompts file {path}: {exc}",
                        "give a UTF-8 text file, one question per line") from None
    prompts = [line.strip() for line in text.splitlines() if line.strip()]
    if not prompts:
        raise DataError(f"the prompts file {path} has no questions", "write one question per line")
    return prompts


def _report(report: Any, as_json: bool, error: TeacherError | None) -> None:
    """Print a synthesis report (also when it ended with an error or Ctrl-C)."""
    if as_json:
        payload = report.to_dict()
        if error is not None:
            payload["error"] = error.message
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(report.summary())
    if report.interrupted:
        click.echo(f"interrupted: kept the {report.accepted} pairs already validated and stored")
    elif error is not None and report.accepted:
        click.echo(f"stopped by an error: kept the {report.accepted} pairs already stored")
    if report.stopped:
        click.echo(report.stopped)

