"""The command palette (Ctrl+P) offers every slash command."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.commands import COMMANDS, Command


class SlashCommands(Provider):
    """Palette entries for the slash commands; ones that need an argument pre-fill the box."""

    def _run(self, command: Command) -> None:
        """Run a command, or put '/name ' in the message box to finish typing it."""
        app: Any = self.app
        if command.needs_arg:
            app.prefill(f"/{command.name} ")
        else:
            app.run_slash(f"/{command.name}")

    async def discover(self) -> Hits:
        """List every command when the palette opens."""
        for command in COMMANDS:
            yield DiscoveryHit(command.usage, partial(self._run, command), help=command.help)

    async def search(self, query: str) -> Hits:
        """Fuzzy-match the query against names, usages and help."""
        matcher = self.matcher(query)
        for command in COMMANDS:
            score = max(matcher.match(command.usage), matcher.match(command.help) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(command.usage), partial(self._run, command),
                          text=command.usage, help=command.help)
