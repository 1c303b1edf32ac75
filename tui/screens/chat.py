"""The chat: conversation, status line and message box; replies stream in a worker thread."""

from __future__ import annotations

import threading
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header

from tui.commands import BY_NAME, is_command, unescape
from tui.pasted import looks_like_path, pasted_file
from tui.screens.correct import CorrectModal
from tui.screens.tag import TagModal
from tui.session_api import SessionLike
from tui.stream import PieceBuffer
from tui.widgets.chat_input import ChatInput
from tui.widgets.conversation import ConversationView
from tui.widgets.level_meter import LevelMeter
from tui.widgets.message import MessageView
from tui.widgets.message_box import MessageBox
from tui.widgets.status_line import StatusLine

PLACEHOLDER = "Message your model · Enter sends · Ctrl+J new line · /help for commands"


class ChatScreen(Screen[None]):
    """Talk to the model, rate its replies, see what it learned."""

    class Pieces(Message):
        """New reply text is waiting in a buffer (posted from the generating thread)."""

        def __init__(self, buffer: PieceBuffer, reply: MessageView) -> None:
            super().__init__()
            self.buffer = buffer
            self.reply = reply

    BINDINGS = [
        # a priority binding changes focus before the next key is handed to the message box
        Binding("tab", "focus_replies", "replies", key_display="tab", priority=True),
        Binding("escape", "stop", "stop", key_display="esc"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.stop_event: threading.Event | None = None
        self.generating = False
        self._after_reply: list[Any] = []
        #: Set to end the recording that is running (None when none is).
        self.recording: threading.Event | None = None
        #: The message whose pasted file is being read (None when none is).
        self.attaching: str | None = None

    def compose(self) -> ComposeResult:
        """Header, conversation, status line, message box, footer."""
        yield Header()
        yield ConversationView(id="conversation")
        yield StatusLine(id="status")
        yield ChatInput(placeholder=PLACEHOLDER, id="input")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Start in the message box."""
        self.chat_input.focus()

    def on_text_area_changed(self, event: Any) -> None:
        """Typing tells the evolution worker to pause."""
        self.app.mark_active()  # type: ignore[attr-defined]

    @property
    def conversation(self) -> ConversationView:
        """Return the conversation view."""
        return self.query_one(ConversationView)

    @property
    def chat_input(self) -> ChatInput:
        """Return the message box."""
        return self.query_one(ChatInput)

    @property
    def status(self) -> StatusLine:
        """Return the status line."""
        return self.query_one(StatusLine)

    @property
    def session(self) -> SessionLike | None:
        """Return the app's session (None while loading or after a failure)."""
        return self.app.session  # type: ignore[attr-defined]

    # -- showing conversations -------------------------------------------------------------
    def show_messages(self, rows: list[dict[str, Any]], label: str) -> None:
        """Replace the view with stored messages (ratings, tags and corrections included)."""
        self.conversation.clear()
        views: list[Widget] = []
        for row in rows:
            role = str(row.get("role", "user"))
            if role not in ("user", "assistant"):
                continue
            view = MessageView(role, str(row.get("text") or ""), message_id=row.get("id"),
                               label=label if role == "assistant" else "you")
            rating = row.get("rating")
            if rating:
                view.rating = 1 if int(rating) > 0 else -1
            for tag in row.get("tags") or []:
                text = tag.get("tag", "") if isinstance(tag, dict) else str(tag)
                auto = isinstance(tag, dict) and tag.get("source") == "sentiment"
                (view.auto_tags if auto else view.tags).append(text)
            if row.get("correction"):
                view.correction = str(row["correction"])
            view.stopped = row.get("notice") == "stopped"
            views.append(view)
        if views:
            self.conversation.add(*views)
        self.conversation.follow()

    # -- sending ---------------------------------------------------------------------------
    def on_message_box_submitted(self, event: MessageBox.Submitted) -> None:
        """Run a slash command, attach a pasted file path, or send a message.

        1. A known slash command runs (the box is emptied).
        2. A message starting with the path of an existing file attaches it (tui/pasted.py);
           the box keeps the text until the file was read and sent.
        3. Another '/word' without a second '/' is an unknown command; the rest is sent as text
           (so a path to a file that does not exist is text).
        """
        text = event.text
        head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
        known = is_command(text) and head[1:].lower() in BY_NAME
        pasted = None if known else pasted_file(text)
        if pasted is not None:
            if self.attaching == text:
                return  # Enter again while the file is still being read
            box = event.box
            self.attaching = text

            def sent() -> None:
                """Empty the box once the file was sent (unless the person typed on)."""
                if box.text == text:
                    box.clear_text()

            def ended() -> None:
                """Allow the next attachment."""
                self.attaching = None

            self.app.handlers.attach_pasted(pasted, sent, ended)  # type: ignore[attr-defined]
            return
        if known or (is_command(text) and not looks_like_path(head[1:])):
            event.box.clear_text()
            self.app.run_slash(text)  # type: ignore[attr-defined]
            return
        if self.send(unescape(text)):
            event.box.clear_text()

    # -- recording -------------------------------------------------------------------------
    def start_recording(self, seconds: float, stop: threading.Event) -> LevelMeter:
        """Show a level meter above the message box; Esc sets `stop` until it ends."""
        self.recording = stop
        meter = LevelMeter(seconds, id="level-meter")
        self.mount(meter, before=self.chat_input)
        self.refresh_bindings()
        return meter

    def end_recording(self, meter: LevelMeter) -> None:
        """Take the level meter away once the recording ended (sent, stopped or failed)."""
        self.recording = None
        meter.remove()
        self.refresh_bindings()

    def send(self, text: str, attachments: list[Widget] | None = None,
             parts: list[Any] | None = None) -> bool:  # fmt: skip
        """Show and send a message (with media `parts`), then stream the reply; return False if
        it was not sent."""
        if not text.strip():
            self.notify("type a message first (an empty message is not sent)",
                        severity="warning")
            return False
        session = self.session
        if session is None:
            self.notify("no model is loaded yet; wait a moment, or open a profile with "
                        "/profile NAME", severity="warning")
            return False
        if self.generating:
            self.notify("the model is still replying; press Esc to stop it first",
                        severity="warning")
            return False
        user = MessageView("user", text)
        reply = MessageView("assistant", label=session.model_label, streaming=True)
        self.conversation.add(user, *(attachments or []), reply)
        self.conversation.follow()
        self.stop_event = threading.Event()
        self.generating = True
        self.refresh_bindings()
        self.status.say("thinking…", "dim")
        buffer = PieceBuffer(lambda: self.post_message(self.Pieces(buffer, reply)))
        self._generate(session, text, user, reply, self.stop_event, buffer, parts)
        return True

    @work(thread=True, group="reply")
    def _generate(self, session: SessionLike, text: str, user: MessageView,
                  reply: MessageView, stop: threading.Event, buffer: PieceBuffer,
                  parts: list[Any] | None = None) -> None:
        """Store the message, then stream the reply into the view (runs in a thread)."""
        call = self.app.call_from_thread
        previous = session.last_reply_id
        error: BaseException | None = None
        count = 0
        try:
            user.message_id = session.send(text, parts) if parts else session.send(text)
            notice = getattr(session, "last_notice", None)
            if notice:
                call(self.notify, f"your message was {notice}", severity="warning",
                     markup=False)
            call(self._mood, previous)
            for piece in session.reply(stop):
                count += len(piece)
                buffer.push(piece)
        except Exception as exc:  # shown as a notification; the chat goes on
            error = exc
        reply_id = session.last_reply_id if session.last_reply_id != previous else None
        call(self._finished, reply, buffer, reply_id, stop.is_set(), error, count)

    def on_chat_screen_pieces(self, event: Pieces) -> None:
        """Show the pieces streamed since the last update."""
        text = event.buffer.take()
        if text:
            event.reply.append(text)
            self.app.mark_active()  # type: ignore[attr-defined]

    def _finished(self, reply: MessageView, buffer: PieceBuffer, reply_id: str | None,
                  stopped: bool, error: BaseException | None, chars: int) -> None:
        """End a reply: enable rating, report errors, run what waited for it."""
        tail = buffer.take()
        if tail:
            reply.append(tail)
        reply.finish(reply_id, stopped=stopped, failed=error is not None)
        self.generating = False
        self.refresh_bindings()
        if error is not None:
            self.app.show_error(error, "the reply failed")  # type: ignore[attr-defined]
            self.status.say("the reply failed; your message is saved, try again", "red")
        elif stopped:
            self.status.say("stopped; rate or correct what it said so far", "yellow")
        else:
            self.status.say(f"replied {chars} characters · rate it: Tab then + or -, or click "
                            "👍 👎", "dim")
        waiting, self._after_reply = self._after_reply, []
        for callback in waiting:
            callback()

    def _mood(self, reply_id: str | None) -> None:
        """Show the automatic sentiment tag the session gave the previous reply."""
        if reply_id:
            self.app.show_auto_tags(reply_id)  # type: ignore[attr-defined]

    def find_reply(self, message_id: str) -> MessageView | None:
        """Return the view of a stored reply."""
        for view in self.conversation.replies():
            if view.message_id == message_id:
                return view
        return None

    def after_reply(self, callback: Any) -> None:
        """Run `callback` now, or (stopping the reply) as soon as the reply has ended."""
        if not self.generating:
            callback()
            return
        self._after_reply.append(callback)
        if self.stop_event is not None:
            self.stop_event.set()

    # -- keys ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc is dimmed when there is nothing to stop and the message box has focus."""
        if action == "stop" and not self.generating and self.recording is None \
                and self.focused is self.chat_input:
            return None
        if action == "focus_replies":
            return self.focused is self.chat_input
        return True

    def action_stop(self) -> None:
        """Stop a recording or the reply being written, else go back to the message box."""
        if self.recording is not None:
            self.recording.set()
            self.status.say("stopping the recording…", "yellow")
        elif self.generating and self.stop_event is not None:
            self.stop_event.set()
            self.status.say("stopping…", "yellow")
        else:
            self.chat_input.focus()

    def action_focus_replies(self) -> None:
        """Tab in the message box selects the latest reply (at once: the next key goes there)."""
        last = self.conversation.last_reply()
        if last is None:
            self.notify("no reply to select yet", severity="information")
        else:
            self.set_focus(last)

    def move_from(self, view: MessageView, step: int) -> None:
        """Arrow keys move between replies; past the newest (or `i`), back to the message box."""
        target = self.conversation.neighbour(view, step) if step else None
        if target is not None:
            self.set_focus(target)
        elif step >= 0:
            self.set_focus(self.chat_input)

    # -- signals ---------------------------------------------------------------------------
    def on_message_view_signal(self, event: MessageView.Signal) -> None:
        """Rate, tag or correct a reply."""
        view = event.view
        if view.failed:
            self.notify("this reply failed and was not saved, so there is nothing to rate: send "
                        "your message again", severity="warning")
            return
        if view.streaming or view.message_id is None:
            self.notify("wait until the reply is finished to rate it", severity="warning")
            return
        app: Any = self.app
        if event.action in ("up", "down"):
            app.rate(view, 1 if event.action == "up" else -1)
        elif event.action == "tag":
            self.app.push_screen(TagModal(), lambda tag: tag and app.tag(view, tag))
        elif event.action == "correct":
            self.app.push_screen(CorrectModal(view.text),
                                 lambda text: text and app.correct(view, text))
