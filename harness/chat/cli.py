"""`insitu ask` and `insitu rate`: the chat without a screen, for scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.chat.inputs import clean_text
from harness.chat.label import MEDIA
from harness.cliutil import profile_option
from harness.errors import DataError
from harness.graph.generate import Sampling
from harness.modality import Modality
from harness.online.signals import LearnReport
from harness.types import Part

#: how long `insitu rate` keeps rehearsing a correction before it saves and exits (seconds)
REHEARSE_SECONDS = 20.0


@click.command()
@profile_option
@click.argument("prompt", required=False, default="")
@click.option("--attach", "attach", multiple=True, type=click.Path(path_type=Path),
              help="Send an image or audio file with the message (repeatable).")
@click.option("--temperature", type=float, default=None,
              help="Sampling temperature (0 = greedy); default from the profile.")
@click.option("--max-tokens", type=int, default=None, help="Longest reply in bytes.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (reply, message ids, model) once the reply is done.")
def ask(profile: str, prompt: str, attach: tuple[Path, ...], temperature: float | None,
        max_tokens: int | None, seed: int, as_json: bool) -> None:  # fmt: skip
    """Send PROMPT ('-' reads stdin) and attached media to the model; stream the reply; print
    its id on stderr. A label profile (mnist, spoken-digits) answers an attachment's label."""
    from harness.chat.session import ChatSession
    from harness.modality import modality_for

    text = clean_text(sys.stdin.buffer.read()) if prompt == "-" else prompt
    parts = [_attachment(modality_for(path), path) for path in attach]
    with ChatSession.open(profile, seed=seed) as session:
        s = session.sampling
        sampling = Sampling(s.temperature if temperature is None else temperature, s.top_k,
                            s.top_p, s.max_tokens if max_tokens is None else max_tokens)
        session.new_conversation()
        sent = session.send(text, parts)
        notice = session.last_notice
        if notice and not as_json:
            click.echo(f"note: {notice}", err=True)
        pieces: list[str] = []
        for piece in session.reply(sampling=sampling):
            if as_json:
                pieces.append(piece)
            else:
                click.echo(piece, nl=False)
        if as_json:
            click.echo(json.dumps({
                "reply": "".join(pieces), "message_id": session.last_reply_id,
                "prompt_id": sent, "conversation_id": session.conversation_id,
                "model": session.model_label, "note": notice or None}, ensure_ascii=False))
            return
        click.echo("")
        click.echo(f"message id: {session.last_reply_id}", err=True)


def _attachment(modality: Modality, path: Path) -> Part:
    """Return the media part read from `path`; a text file is refused with the way to send it."""
    if modality.name not in MEDIA:
        raise DataError(f"{path} is {modality.name}, not an image or an audio clip",
                        f"send text as the prompt: `insitu ask - < {path}` reads it from stdin")
    return modality.load(path)


@click.command()
@profile_option
@click.argument("message_id")
@click.argument("value", type=click.Choice(["up", "down"], case_sensitive=False))
@click.option("--tag", "tags", multiple=True, help="Also tag the reply (repeatable).")
@click.option("--correct", "correction", default=None, help="The reply you wanted instead.")
def rate(profile: str, message_id: str, value: str, tags: tuple[str, ...],
         correction: str | None) -> None:  # fmt: skip
    """Rate reply MESSAGE_ID up or down (saved first), then learn from it and print how."""
    from harness.chat.session import ChatSession

    reports: list[LearnReport] = []
    with ChatSession.open(profile, on_learned=reports.append) as session:
        session.rate(message_id, 1 if value.lower() == "up" else -1)
        click.echo(f"saved {value.lower()} on {message_id}")
        for tag in tags:
            session.tag(message_id, tag)
            click.echo(f"saved tag '{tag.strip()}'")
        if correction is not None:
            eid = session.correct(message_id, correction)
            click.echo(f"saved correction as example {eid}")
        learner = session.learner
        if learner is None:  # a label chat learned before rate/tag/correct returned
            return
        learner.wait_idle(rehearsal=False)
        for report in reports:
            click.echo(report.describe())
        if learner.wait_idle(REHEARSE_SECONDS) and correction is not None:
            click.echo("rehearsed until the correction is reproduced")
        if learner.last_error:
            click.echo(f"warning: online learning failed: {learner.last_error}", err=True)
