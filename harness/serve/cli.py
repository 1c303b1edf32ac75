"""`insitu serve`: the profile's champion behind an OpenAI-compatible API."""

from __future__ import annotations

import logging

import click

from harness.cliutil import open_profile, profile_option

DEFAULT_PORT = 8765


@click.command()
@profile_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback requires --api-key.")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--api-key", "key_name", default=None, metavar="KEY_NAME",
              help="Require `Authorization: Bearer <key>`; the key is read from the environment "
                   "variable or keys-file entry KEY_NAME (`insitu keys set KEY_NAME`).")
@click.option("--model-name", default=None,
              help="Model id to announce (default: the profile name).")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@click.option("--no-learn", is_flag=True,
              help="Serve the plain champion: posted ratings are stored but teach nothing.")
def serve(profile: str, host: str, port: int, key_name: str | None, model_name: str | None,
          quiet: bool, no_learn: bool) -> None:  # fmt: skip
    """Serve the profile's champion over an OpenAI-compatible API (Ctrl-C stops)."""
    from harness.serve.auth import api_key_for
    from harness.serve.server import make_server

    key = api_key_for(host, key_name)
    prof = open_profile(profile)
    try:
        server = make_server(prof, host, port, key, model_name, learn=not no_learn)
    except BaseException:
        prof.close()
        raise
    if not quiet:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logging.getLogger("insitu.serve").addHandler(handler)
        logging.getLogger("insitu.serve").setLevel(logging.INFO)
    app = server.app
    click.echo(f"serving profile '{prof.name}' (champion {app.model.individual_id}) as model "
               f"'{app.model_name}' at {server.url}"
               + (" (API key required)" if key else ""))
    click.echo("  try: curl " + server.url + "/models   -- Ctrl-C stops", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
        prof.close()
