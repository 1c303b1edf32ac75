"""`insitu chat`: open the chat app on a profile."""

from __future__ import annotations

import click

from harness.cliutil import profile_option
from harness.profile import Profile


@click.command()
@profile_option
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for sampling replies (the same seed gives the same replies).")
@click.option("--device", default=None, help="Torch device for the model (default: CPU).")
@click.option("--evolve/--no-evolve", default=True, show_default=True,
              help="Run idle evolution (the `insitu worker` process) while the chat is open.")
def chat(profile: str, seed: int, device: str | None, evolve: bool) -> None:
    """Chat with your own micro-model; rate, tag and correct its replies as it learns."""
    from tui.app import InsituApp

    Profile.open(profile).close()  # a missing profile stops here with what to do next
    InsituApp(profile, seed=seed, device=device, evolve=evolve).run()
