CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN DELETE FROM messages_fts WHERE message_id = old.id; END;
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN INSERT INTO messages_fts (text, message_id) VALUES (coalesce(new.text, ''), new.id); END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN DELETE FROM messages_fts WHERE message_id = old.id; INSERT INTO messages_fts (text, message_id) VALUES (coalesce(new.text, ''), new.id); END;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
CREATE TABLE "attachments" (
   "sha256" TEXT PRIMARY KEY,
   "kind" TEXT NOT NULL,
   "mime" TEXT,
   "size" INTEGER NOT NULL,
   "path" TEXT NOT NULL,
   "created_at" REAL
);
CREATE TABLE "conversations" (
   "id" TEXT PRIMARY KEY,
   "title" TEXT,
   "created_at" REAL,
   "updated_at" REAL
);
CREATE TABLE "events" (
   "id" TEXT PRIMARY KEY,
   "kind" TEXT NOT NULL,
   "individual_id" TEXT,
   "payload" TEXT,
   "created_at" REAL NOT NULL
);
CREATE TABLE "evolution_runs" (
   "id" TEXT PRIMARY KEY,
   "tasks" TEXT NOT NULL,
   "seed" INTEGER,
   "settings" TEXT,
   "state" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "created_at" REAL,
   "updated_at" REAL
);
CREATE TABLE "evolution_slots" (
   "run_id" TEXT REFERENCES "evolution_runs"("id"),
   "generation" INTEGER,
   "slot" INTEGER,
   "birth" INTEGER,
   "plan" TEXT NOT NULL,
   "state" TEXT NOT NULL,
   "individual_id" TEXT,
   "created_at" REAL,
   PRIMARY KEY ("run_id", "generation", "slot")
);
CREATE TABLE "examples" (
   "id" TEXT PRIMARY KEY,
   "task" TEXT NOT NULL,
   "prompt" TEXT NOT NULL,
   "answer" TEXT,
   "source" TEXT NOT NULL,
   "split" TEXT NOT NULL DEFAULT 'train',
   "weight" REAL DEFAULT 1.0,
   "hash" TEXT NOT NULL,
   "message_id" TEXT,
   "provenance" TEXT,
   "created_at" REAL NOT NULL
);
CREATE TABLE "game_ratings" (
   "individual_id" TEXT REFERENCES "individuals"("id"),
   "game" TEXT NOT NULL,
   "run_id" TEXT,
   "elo" REAL NOT NULL,
   "games" INTEGER DEFAULT 0,
   "wins" INTEGER DEFAULT 0,
   "draws" INTEGER DEFAULT 0,
   "losses" INTEGER DEFAULT 0,
   "results" TEXT,
   "fitness" REAL,
   "champion" INTEGER DEFAULT 0,
   "checkpoint" TEXT,
   "updated_at" REAL NOT NULL,
   PRIMARY KEY ("individual_id", "game")
);
CREATE TABLE "genomes" (
   "id" TEXT PRIMARY KEY,
   "family" TEXT,
   "params" INTEGER,
   "json" TEXT NOT NULL,
   "created_at" REAL
);
CREATE TABLE "individuals" (
   "id" TEXT PRIMARY KEY,
   "genome_id" TEXT NOT NULL REFERENCES "genomes"("id"),
   "status" TEXT NOT NULL DEFAULT 'alive',
   "generation" INTEGER DEFAULT 0,
   "checkpoint" TEXT,
   "checkpoint_sha256" TEXT,
   "metrics" TEXT,
   "fitness" REAL,
   "born_at" REAL NOT NULL,
   "died_at" REAL
, "run_id" TEXT, "birth" INTEGER, "phase" TEXT, "operator" TEXT);
CREATE TABLE "lineage" (
   "id" TEXT PRIMARY KEY,
   "child_id" TEXT NOT NULL REFERENCES "individuals"("id"),
   "parent_id" TEXT,
   "role" TEXT NOT NULL,
   "operator" TEXT,
   "created_at" REAL
);
CREATE TABLE "message_attachments" (
   "message_id" TEXT REFERENCES "messages"("id"),
   "position" INTEGER,
   "sha256" TEXT REFERENCES "attachments"("sha256"),
   PRIMARY KEY ("message_id", "position")
);
CREATE TABLE "messages" (
   "id" TEXT PRIMARY KEY,
   "conversation_id" TEXT NOT NULL REFERENCES "conversations"("id"),
   "role" TEXT NOT NULL,
   "text" TEXT,
   "parts" TEXT,
   "individual_id" TEXT,
   "created_at" REAL NOT NULL
, "notice" TEXT);
CREATE VIRTUAL TABLE messages_fts USING fts5(text, message_id UNINDEXED);
CREATE TABLE 'messages_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE 'messages_fts_content'(id INTEGER PRIMARY KEY, c0, c1);
CREATE TABLE 'messages_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
CREATE TABLE 'messages_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
CREATE TABLE 'messages_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
CREATE TABLE "ratings" (
   "id" TEXT PRIMARY KEY,
   "message_id" TEXT NOT NULL REFERENCES "messages"("id"),
   "value" INTEGER NOT NULL,
   "source" TEXT NOT NULL,
   "created_at" REAL NOT NULL
);
CREATE TABLE "settings" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT
);
CREATE TABLE "tags" (
   "id" TEXT PRIMARY KEY,
   "message_id" TEXT NOT NULL REFERENCES "messages"("id"),
   "tag" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "score" REAL,
   "created_at" REAL NOT NULL
);
CREATE TABLE "tasks" (
   "name" TEXT PRIMARY KEY,
   "kind" TEXT NOT NULL,
   "config" TEXT,
   "created_at" REAL
);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE INDEX "idx_events_kind_created_at"
    ON "events" ("kind", "created_at");
CREATE UNIQUE INDEX "idx_examples_task_hash"
    ON "examples" ("task", "hash");
CREATE INDEX "idx_examples_task_split"
    ON "examples" ("task", "split");
CREATE INDEX "idx_game_ratings_game_champion"
    ON "game_ratings" ("game", "champion");
CREATE INDEX "idx_game_ratings_run_id"
    ON "game_ratings" ("run_id");
CREATE INDEX "idx_individuals_run_id_birth"
    ON "individuals" ("run_id", "birth");
CREATE INDEX "idx_individuals_status"
    ON "individuals" ("status");
CREATE INDEX "idx_lineage_child_id"
    ON "lineage" ("child_id");
CREATE INDEX "idx_messages_conversation_id_created_at"
    ON "messages" ("conversation_id", "created_at");
CREATE INDEX "idx_ratings_message_id"
    ON "ratings" ("message_id");
CREATE INDEX "idx_tags_message_id"
    ON "tags" ("message_id");
