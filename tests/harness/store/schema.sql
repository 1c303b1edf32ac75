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
);
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
);
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
