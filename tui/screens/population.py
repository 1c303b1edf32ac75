"""The population: champion, leaderboard, fitness by birth and recent events, from the store."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Sparkline, Static

from tui import features
from tui.evolution import unavailable_message, worker_available
from tui.population_data import (
    PopulationState,
    load_population,
    payload_summary,
    phase_of,
    task_metrics,
)

REFRESH_S = 2.0


def empty_text(profile: str) -> str:
    """Return what an empty population says, naming only the ways to evolve that exist."""
    ways = []
    if worker_available():
        ways.append("start it with /evolve")
    if features.cli_command("evolve"):
        ways.append(f"run `insitu evolve -p {profile}` in a terminal")
    how = (" or ".join(ways).capitalize() + "; the champion, leaderboard and events appear "
           "here as it runs.") if ways else unavailable_message().capitalize() + "."
    return f"No evolution has run in this profile yet. {how}"


def clock(ts: float | None) -> str:
    """Return a local HH:MM:SS time, or '-'."""
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else "-"


def fitness_text(value: Any) -> str:
    """Return a fitness value as text."""
    return "-" if value is None else f"{float(value):.4f}"


class PopulationScreen(Screen[None]):
    """Shows what the evolution has stored; refreshes every few seconds."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "back", key_display="esc"),
        Binding("r", "reload", "refresh"),
    ]

    def __init__(self, live: bool = True) -> None:
        super().__init__()
        self.live = live
        self.state: PopulationState | None = None

    def compose(self) -> ComposeResult:
        """Champion, fitness sparkline, leaderboard, events and worker line."""
        yield Header()
        with VerticalScroll(id="population"):
            yield Static("reading the population…", id="champion", markup=False)
            yield Label("Fitness of each individual, by birth", classes="section",
                        id="fitness-label")
            yield Sparkline([], id="fitness")
            yield Label("Leaderboard", classes="section")
            yield DataTable(id="leaderboard", cursor_type="row", zebra_stripes=True)
            yield Label("Recent events", classes="section")
            yield DataTable(id="events", cursor_type="row")
            yield Static("", id="worker", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Set up the tables and start reading."""
        board = self.query_one("#leaderboard", DataTable)
        board.add_columns("#", "id", "status", "family", "params", "phase", "gen", "fitness")
        self.query_one("#events", DataTable).add_columns("time", "kind", "individual", "details")
        self.action_reload()
        if self.live:
            self.set_interval(REFRESH_S, self.action_reload)

    def action_reload(self) -> None:
        """Read the store again (in a thread)."""
        app: Any = self.app
        if app.profile is None:
            self.query_one("#champion", Static).update("no profile is open")
            return
        self._load(app.profile.store)

    @work(thread=True, exclusive=True, group="population")
    def _load(self, store: Any) -> None:
        """Load the population off the UI thread."""
        try:
            state = load_population(store)
        except Exception as exc:  # a damaged or busy store: say so, keep the app
            self.app.call_from_thread(self.notify, f"cannot read the population: {exc}",
                                      severity="error", markup=False)
            return
        self.app.call_from_thread(self.show, state)

    def show(self, state: PopulationState) -> None:
        """Draw a loaded state."""
        self.state = state
        app: Any = self.app
        self.query_one("#champion", Static).update(self._champion_text(state, app.profile_name))
        spark = self.query_one("#fitness", Sparkline)
        spark.data = state.fitness
        spark.display = self.query_one("#fitness-label").display = bool(state.fitness)
        board = self.query_one("#leaderboard", DataTable)
        board.clear()
        for rank, r in enumerate(state.leaderboard, 1):
            board.add_row(str(rank), r["id"][-10:], r["status"], r.get("family") or "-",
                          f"{r.get('params') or 0:,}", phase_of(r), str(r.get("generation", 0)),
                          fitness_text(r.get("fitness")))
        events = self.query_one("#events", DataTable)
        events.clear()
        for e in state.events:
            events.add_row(clock(e.get("created_at")), Text(str(e["kind"])),
                           (e.get("individual_id") or "-")[-10:],
                           Text(payload_summary(e.get("payload"))))
        self.query_one("#worker", Static).update(app.evolution.usage())

    @staticmethod
    def _champion_text(state: PopulationState, profile: str) -> Text:
        """Return the champion line, or the sentence for an empty population."""
        if state.empty:
            return Text(empty_text(profile), style="italic")
        c = state.champion
        head = f"{state.total} individuals stored, {state.alive} alive"
        if c is None:
            return Text(f"{head}; no champion crowned yet")
        tasks = task_metrics(c.get("metrics") or {})
        return Text.assemble(
            ("Champion ", "bold"), (c["id"][-10:], "bold cyan"),
            f"  {c.get('family') or '-'} · {c.get('params') or 0:,} parameters · phase "
            f"{phase_of(c)} · generation {c.get('generation', 0)} · fitness "
            f"{fitness_text(c.get('fitness'))}\n"
            + "".join(f"  {line}\n" for line in tasks) + head)
