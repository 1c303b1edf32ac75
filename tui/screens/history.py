"""Past conversations: type to search, Enter to reopen."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList
from textual.widgets.option_list import Option

from tui.literal import visible


def when(ts: Any) -> str:
    """Return a date and time for a conversation, or ''."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(ts))) if ts else ""


def _one_line(text: Any, width: int) -> str:
    """Return text on one line, control characters visible, cut to `width`."""
    flat = " ".join(visible(str(text)).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def conversation_label(row: dict[str, Any]) -> Text:
    """Return title (or first message), count, date and, for a search, the matching words."""
    line = Text(_one_line(row.get("title") or row.get("preview") or "(untitled)", 60))
    count = row.get("messages")
    extra = f"  {count} messages" if count is not None else ""
    stamp = when(row.get("updated_at") or row.get("created_at"))
    line.append(f"{extra}  {stamp}".rstrip(), style="dim")
    if row.get("snippet"):
        line.append("\n  " + _one_line(row["snippet"], 100), style="italic")
    return line


class HistoryScreen(Screen[str | None]):
    """Returns the id of the conversation to reopen, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "back", key_display="esc"),
        Binding("down", "focus_list", "list", key_display="↓"),
    ]

    def compose(self) -> ComposeResult:
        """A search box over the list of conversations."""
        yield Header()
        yield Input(placeholder="search your conversations (words, \"phrases\")", id="search")
        yield OptionList(id="conversations")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """List the newest conversations."""
        self.query_one("#search", Input).focus()
        self._search("")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Search as the person types."""
        self._search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the first match."""
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = options.highlighted or 0
            options.focus()
            options.action_select()

    @work(thread=True, exclusive=True, group="history")
    def _search(self, query: str) -> None:
        """Ask the session for matching conversations (off the UI thread)."""
        app: Any = self.app
        session = app.session
        if session is None:
            return
        try:
            rows = session.conversations(query.strip() or None)
        except Exception as exc:  # a bad search expression must not close the screen
            self.app.call_from_thread(self.notify, f"search failed: {exc}", severity="warning",
                                      markup=False)
            return
        self.app.call_from_thread(self._show, rows, query)

    def _show(self, rows: list[dict[str, Any]], query: str) -> None:
        """Fill the list."""
        options = self.query_one(OptionList)
        options.clear_options()
        if not rows:
            empty = "no conversation matches" if query.strip() else "no conversations yet"
            options.add_option(Option(Text(empty, style="dim italic"), disabled=True))
            return
        options.add_options([Option(conversation_label(r), id=str(r["id"])) for r in rows])
        options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Reopen the chosen conversation."""
        if event.option.id:
            self.dismiss(event.option.id)

    def action_focus_list(self) -> None:
        """Move from the search box to the list."""
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        """Back to the chat."""
        self.dismiss(None)
