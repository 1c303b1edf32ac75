"""An OpenAI-compatible HTTP server for a profile's champion (stdlib `http.server`, threads).

See `harness.serve.handler` for the routes; `make_server` loads the champion and binds.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from harness.serve.engine import ChampionModel, champion_row
from harness.serve.handler import ApiError, Handler

if TYPE_CHECKING:
    from harness.graph.generate import Sampling
    from harness.profile import Profile

log = logging.getLogger("insitu.serve")
MAX_TOKENS_LIMIT = 4096


class ServeApp:
    """The state shared by request threads: the profile, its champion and the API key."""

    def __init__(self, profile: Profile, api_key: str | None = None,
                 model_name: str | None = None, learn: bool = True) -> None:  # fmt: skip
        self.profile = profile
        self.learn = learn  # posted ratings teach the served model online, as in the chat
        self.model = ChampionModel.load(profile, learn)
        self.model_name = model_name or profile.name
        self.api_key = api_key
        self.record = True  # store every exchange in the profile (benchmarks switch it off)
        self.created = int(time.time())
        self._reload = threading.Lock()

    def current(self) -> ChampionModel:
        """Return the champion, reloading it when the evolution engine has crowned a new one."""
        row = champion_row(self.profile)
        if row is not None and str(row["id"]) != self.model.individual_id:
            with self._reload:
                if str(row["id"]) != self.model.individual_id:
                    self.model = ChampionModel.load(self.profile, self.learn,
                                                    self.model.learning)  # fmt: skip
                    log.info("serving the new champion %s", self.model.individual_id)
        return self.model

    def model_names(self) -> set[str]:
        """Return the names a request may use for the model."""
        return {self.model_name, self.model.individual_id, "insitu"}

    def sampling(self, body: dict[str, Any]) -> Sampling:
        """Return sampling settings from a request, defaulting to the profile's."""
        from harness.graph.generate import Sampling

        cfg = self.profile.config.generation
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or cfg.max_tokens
        try:
            return Sampling(
                temperature=float(_or(body.get("temperature"), cfg.temperature)),
                top_k=int(_or(body.get("top_k"), cfg.top_k)),
                top_p=float(_or(body.get("top_p"), cfg.top_p)),
                max_tokens=min(int(max_tokens), MAX_TOKENS_LIMIT),
            )
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"bad sampling settings: {exc}") from None


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


class InsituServer(ThreadingHTTPServer):
    """A threading HTTP server holding one ServeApp."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: ServeApp) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def server_close(self) -> None:
        """Close the socket, then let online learning finish and save the adapters."""
        super().server_close()
        learning = self.app.model.learning
        if learning is not None:
            learning.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed request; a client that hung up (reset, broken pipe) is not an error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        log.exception("request from %s failed", client_address[0])

    @property
    def url(self) -> str:
        """Return the base URL of the API (ending in /v1)."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"


def make_server(
    profile: Profile,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    model_name: str | None = None,
    learn: bool = True,
) -> InsituServer:
    """Load the champion and bind a server (port 0 picks a free port); serve_forever runs it."""
    from harness.serve.auth import is_loopback

    if api_key is None and not is_loopback(host):
        from harness.serve.auth import api_key_for

        api_key_for(host, None)  # raises the refusal
    app = ServeApp(profile, api_key, model_name, learn)
    return InsituServer((host, port), app)


def serve_in_thread(server: InsituServer, poll_interval: float = 0.05) -> threading.Thread:
    """Run `server.serve_forever` in a daemon thread and return the thread."""
    thread = threading.Thread(target=server.serve_forever, args=(poll_interval,),
                              name="insitu-serve", daemon=True)  # fmt: skip
    thread.start()
    return thread
