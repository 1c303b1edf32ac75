"""Named schema migrations (sqlite-utils). Append only: never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("insitu")


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    """Create the tables of DESIGN.md section 6."""
    db.table("settings").create({"key": str, "value": str}, pk="key")
    db.table("conversations").create(
        {"id": str, "title": str, "created_at": float, "updated_at": float}, pk="id"
    )
    db.table("messages").create(
        {
            "id": str,
            "conversation_id": str,
            "role": str,
            "text": str,
            "parts": str,
            "individual_id": str,
            "created_at": float,
        },
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id")],
        not_null={"conversation_id", "role", "created_at"},
    )
    db.table("messages").create_index(["conversation_id", "created_at"])
    db.table("attachments").create(
        {"sha256": str, "kind": str, "mime": str, "size": int, "path": str, "created_at": float},
        pk="sha256",
        not_null={"kind", "size", "path"},
    )
    db.table("message_attachments").create(
        {"message_id": str, "position": int, "sha256": str},
        pk=("message_id", "position"),
        foreign_keys=[("message_id", "messages", "id"), ("sha256", "attachments", "sha256")],
    )
    db.table("ratings").create(
        {"id": str, "message_id": str, "value": int, "source": str, "created_at": float},
        pk="id",
        foreign_keys=[("message_id", "messages", "id")],
        not_null={"message_id", "value", "source", "created_at"},
    )
    db.table("ratings").create_index(["message_id"])
    db.table("tags").create(
        {
            "id": str,
            "message_id": str,
            "tag": str,
            "source": str,
            "score": float,
            "created_at": float,
        },
        pk="id",
        foreign_keys=[("message_id", "messages", "id")],
        not_null={"message_id", "tag", "source", "created_at"},
    )
    db.table("tags").create_index(["message_id"])
    db.table("tasks").create(
        {"name": str, "kind": str, "config": str, "created_at": float},
        pk="name",
        not_null={"kind"},
    )
    db.table("examples").create(
        {
            "id": str,
            "task": str,
            "prompt": str,
            "answer": str,
            "source": str,
            "split": str,
            "weight": float,
            "hash": str,
            "message_id": str,
            "provenance": str,
            "created_at": float,
        },
        pk="id",
        not_null={"task", "prompt", "source", "split", "hash", "created_at"},
        defaults={"split": "train", "weight": 1.0},
    )
    db.table("examples").create_index(["task", "hash"], unique=True)
    db.table("examples").create_index(["task", "split"])
    db.table("genomes").create(
        {"id": str, "family": str, "params": int, "json": str, "created_at": float},
        pk="id",
        not_null={"json"},
    )
    db.table("individuals").create(
        {
            "id": str,
            "genome_id": str,
            "status": str,
            "generation": int,
            "checkpoint": str,
            "checkpoint_sha256": str,
            "metrics": str,
            "fitness": float,
            "born_at": float,
            "died_at": float,
        },
        pk="id",
        foreign_keys=[("genome_id", "genomes", "id")],
        not_null={"genome_id", "status", "born_at"},
        defaults={"status": "alive", "generation": 0},
    )
    db.table("individuals").create_index(["status"])
    db.table("lineage").create(
        {
            "id": str,
            "child_id": str,
            "parent_id": str,
            "role": str,
            "operator": str,
            "created_at": float,
        },
        pk="id",
        foreign_keys=[("child_id", "individuals", "id")],
        not_null={"child_id", "role"},
    )
    db.table("lineage").create_index(["child_id"])
    db.table("events").create(
        {"id": str, "kind": str, "individual_id": str, "payload": str, "created_at": float},
        pk="id",
        not_null={"kind", "created_at"},
    )
    db.table("events").create_index(["kind", "created_at"])


@migrations(name="0002_evolution")
def m0002_evolution(db: Database) -> None:
    """Add evolution runs (resumable state), planned evaluation slots and individual columns."""
    db.table("evolution_runs").create(
        {
            "id": str,
            "tasks": str,
            "seed": int,
            "settings": str,
            "state": str,
            "status": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"tasks", "state", "status"},
    )
    db.table("evolution_slots").create(
        {
            "run_id": str,
            "generation": int,
            "slot": int,
            "birth": int,
            "plan": str,
            "state": str,
            "individual_id": str,
            "created_at": float,
        },
        pk=("run_id", "generation", "slot"),
        foreign_keys=[("run_id", "evolution_runs", "id")],
        not_null={"plan", "state"},
    )
    individuals = db.table("individuals")
    individuals.add_column("run_id", str)
    individuals.add_column("birth", int)
    individuals.add_column("phase", str)
    individuals.add_column("operator", str)
    individuals.create_index(["run_id", "birth"])


@migrations(name="0003_chat_search")
def m0003_chat_search(db: Database) -> None:
    """Add full-text search over message text (FTS5, kept in sync by triggers) and notices."""
    db.table("messages").add_column("notice", str)
    # the index keys rows by message id, not rowid: a VACUUM may renumber a TEXT-keyed table
    db.execute("CREATE VIRTUAL TABLE messages_fts USING fts5(text, message_id UNINDEXED)")
    insert = ("INSERT INTO messages_fts (text, message_id) "
              "VALUES (coalesce(new.text, ''), new.id);")
    delete = "DELETE FROM messages_fts WHERE message_id = old.id;"
    db.execute("INSERT INTO messages_fts (text, message_id) "
               "SELECT coalesce(text, ''), id FROM messages")
    db.execute(f"CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN {insert} END")
    db.execute(f"CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN {delete} END")
    db.execute("CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages "
               f"BEGIN {delete} {insert} END")


@migrations(name="0004_games")
def m0004_games(db: Database) -> None:
    """Add game ratings: each individual's Elo, tournament record and fixed-opponent results."""
    db.table("game_ratings").create(
        {
            "individual_id": str,
            "game": str,
            "run_id": str,
            "elo": float,
            "games": int,
            "wins": int,
            "draws": int,
            "losses": int,
            "results": str,
            "fitness": float,
            "champion": int,
            "checkpoint": str,
            "updated_at": float,
        },
        pk=("individual_id", "game"),
        foreign_keys=[("individual_id", "individuals", "id")],
        not_null={"game", "elo", "updated_at"},
        defaults={"games": 0, "wins": 0, "draws": 0, "losses": 0, "champion": 0},
    )
    db.table("game_ratings").create_index(["game", "champion"])
    db.table("game_ratings").create_index(["run_id"])
