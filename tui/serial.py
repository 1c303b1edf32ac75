"""One background thread that runs signal writes in the order they were given."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

Job = tuple[Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None]]


class SerialRunner:
    """Runs jobs one at a time off the UI thread; results go back through `deliver`."""

    def __init__(self, deliver: Callable[..., Any], name: str = "insitu-signals") -> None:
        self._deliver = deliver
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(
        self,
        job: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        """Queue `job`; `done(result)` or `failed(error)` then runs through `deliver`."""
        self._jobs.put((job, done, failed))

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job has run; return False on timeout."""
        done = threading.Event()
        self._jobs.put((done.set, lambda _r: None, lambda _e: None))
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs, then stop the thread."""
        self._jobs.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        """Run jobs until the None sentinel arrives."""
        while (item := self._jobs.get()) is not None:
            job, done, failed = item
            try:
                result = job()
            except Exception as exc:  # shown to the person, never raised into the UI
                self._safe(failed, exc)
            else:
                self._safe(done, result)

    def _safe(self, callback: Callable[[Any], None], value: Any) -> None:
        """Deliver a callback to the UI thread; ignore an app that already exited."""
        try:
            self._deliver(callback, value)
        except Exception:  # the app is gone: nothing left to show it on
            pass
