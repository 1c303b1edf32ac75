"""The fresh schema is pinned and migrations are append-only."""

from __future__ import annotations

from pathlib import Path

from harness.store.db import Store
from harness.store.migrations import migrations

HERE = Path(__file__).parent
# Names of every migration that has shipped, in order. Append new ones; never edit or remove.
SHIPPED = ["0001_initial", "0002_evolution", "0003_chat_search", "0004_games"]


def test_fresh_schema_matches_pinned(tmp_path: Path) -> None:
    """A new database has exactly the schema in schema.sql (update both on purpose)."""
    with Store(tmp_path / "p.db", create=True) as store:
        assert store.schema() == (HERE / "schema.sql").read_text()


def test_migrations_are_append_only() -> None:
    """Shipped migration names stay first and in order."""
    names = [m.name for m in migrations._migrations]
    assert names[: len(SHIPPED)] == SHIPPED


def test_reopen_applies_nothing_twice(tmp_path: Path) -> None:
    """Opening an existing database again applies no migration and keeps data."""
    with Store(tmp_path / "p.db", create=True) as store:
        with store.write() as db:
            db["settings"].insert({"key": "k", "value": "1"})
    with Store(tmp_path / "p.db") as store:
        assert [m.name for m in migrations.applied(store.db)] == SHIPPED
        assert store.query("SELECT value FROM settings WHERE key='k'") == [{"value": "1"}]


def test_wal_mode_and_pragmas(tmp_path: Path) -> None:
    """The store runs in WAL mode with foreign keys and a busy timeout."""
    with Store(tmp_path / "p.db", create=True) as store:
        assert store.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
        assert store.query("PRAGMA foreign_keys")[0]["foreign_keys"] == 1
        assert store.query("PRAGMA busy_timeout")[0]["timeout"] >= 1000
