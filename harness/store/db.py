"""The profile database: SQLite in WAL mode, short IMMEDIATE transactions, retries on busy."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from harness.errors import CorruptStoreError, StoreBusyError, StoreError
from harness.store.migrations import migrations

T = TypeVar("T")

#: How long SQLite itself waits for a lock before answering "busy" (milliseconds).
BUSY_TIMEOUT_MS = 5_000
#: How long a write keeps retrying on "busy" before giving up (seconds).
WRITE_PATIENCE_S = 120.0


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Return True for SQLite's "database is locked" / "busy" errors."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store:
    """One profile's SQLite database, safe to share between threads and processes."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(
                f"no database at {self.path}",
                "create the profile with `insitu profile create NAME`",
            )
        self._lock = threading.RLock()
        try:
            conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            self.db = Database(conn, execute_plugins=False)
            self._pragmas()
            self._retry(self._migrate)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise self._busy_error() from exc
            raise self._corrupt_error(exc) from exc

    # -- setup -------------------------------------------------------------------------------
    def _pragmas(self) -> None:
        """Set WAL mode, full sync on commit, foreign keys and the busy timeout."""
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = self._retry(lambda: self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if str(mode).lower() != "wal":
            raise StoreError(
                f"cannot use WAL mode on {self.path} (got {mode})",
                "put INSITU_HOME on a local disk (not a network share) and try again",
            )
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("PRAGMA foreign_keys = ON")

    def _migrate(self) -> None:
        """Apply pending named migrations inside one IMMEDIATE transaction."""
        if not migrations.pending(self.db):
            return
        with self.write():
            migrations.apply(self.db)

    def _corrupt_error(self, exc: BaseException) -> CorruptStoreError:
        """Build the error shown for a damaged database file."""
        return CorruptStoreError(
            f"the profile database {self.path} is damaged ({exc})",
            "move the profile folder aside and restore it from a backup or a bundle "
            "(`insitu import`); nothing was changed",
        )

    def _busy_error(self) -> StoreBusyError:
        """Build the error shown when another process holds the database too long."""
        return StoreBusyError(
            f"the profile database {self.path} stayed locked by another process for "
            f"{WRITE_PATIENCE_S:.0f} s",
            "stop other insitu processes using this profile (chat, worker) and try again",
        )

    # -- transactions ------------------------------------------------------------------------
    def _retry(self, fn: Callable[[], T]) -> T:
        """Call `fn`, retrying with jittered backoff while SQLite answers busy."""
        deadline = time.monotonic() + WRITE_PATIENCE_S
        delay = 0.005
        rng = random.Random()
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    if _is_busy(exc):
                        raise self._busy_error() from exc
                    raise
                time.sleep(delay * (0.5 + rng.random()))
                delay = min(delay * 2, 0.25)

    @contextlib.contextmanager
    def write(self) -> Iterator[Database]:
        """Run a short write transaction (BEGIN IMMEDIATE ... COMMIT); nested calls join it.

        When the block returns, the transaction is committed and synced: the write is
        acknowledged and survives a kill at any later moment.
        """
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                yield self.db
                return
            self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                self._retry(lambda: conn.execute("COMMIT"))
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts (retrying while busy)."""
        with self._lock:
            try:
                return self._retry(lambda: list(self.db.query(sql, params)))
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):
                    raise
                raise self._corrupt_error(exc) from exc

    def count(self, table: str) -> int:
        """Return the number of rows in `table`."""
        return int(self.query(f"SELECT count(*) AS n FROM [{table}]")[0]["n"])

    def integrity_check(self) -> list[str]:
        """Return SQLite's integrity_check messages (['ok'] when healthy)."""
        return [row["integrity_check"] for row in self.query("PRAGMA integrity_check")]

    def schema(self) -> str:
        """Return the schema SQL of every table and index, sorted, for pinning in tests."""
        rows = self.query(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name"
        )
        return ";\n".join(r["sql"] for r in rows) + ";\n"

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
