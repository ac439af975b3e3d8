/* takes-store-schema.h: the migrations of the library, one per schema
 * version, applied in order by takes-store.c.
 *
 * Each entry moves a library from version N-1 to N in one transaction. To
 * change the schema, append an entry (never edit a released one), raise
 * TAKES_STORE_SCHEMA_VERSION and add a test that opens a library made at
 * the previous version.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint version;
  const char *sql;
} TakesStoreMigration;

/* 'TAKE' in ASCII, so other tools can tell a Takes library apart. */
#define TAKES_STORE_APPLICATION_ID 0x54414b45

static const char takes_store_schema_v1[] =
    /* Projects group takes; the slug names the project's folder under media/
     * and never changes, even when the project is renamed. */
    "CREATE TABLE projects ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE batches ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  template TEXT NOT NULL,"
    "  variables TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(variables)),"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX batches_project ON batches(project_id);"
    "CREATE TABLE shots ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  prompt TEXT NOT NULL DEFAULT '',"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  duration_us INTEGER NOT NULL DEFAULT 0,"
    "  chosen_take_id INTEGER REFERENCES takes(id) ON DELETE SET NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX shots_project ON shots(project_id, position);"
    "CREATE INDEX shots_chosen ON shots(chosen_take_id) WHERE chosen_take_id IS NOT NULL;"
    /* AUTOINCREMENT so a deleted take's number is never given to a new one:
     * people refer to takes by number. */
    "CREATE TABLE takes ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,"
    "  shot_id INTEGER REFERENCES shots(id) ON DELETE SET NULL,"
    "  batch_id INTEGER REFERENCES batches(id) ON DELETE SET NULL,"
    "  parent_id INTEGER REFERENCES takes(id) ON DELETE SET NULL,"
    "  recipe TEXT NOT NULL CHECK (json_valid(recipe)),"
    "  cache_key TEXT NOT NULL,"
    "  backend TEXT NOT NULL,"
    "  model TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'queued'"
    "    CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),"
    "  media_path TEXT UNIQUE,"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  frames INTEGER NOT NULL DEFAULT 0,"
    "  fps REAL NOT NULL DEFAULT 0,"
    "  duration_us INTEGER NOT NULL DEFAULT 0,"
    "  seconds_spent REAL NOT NULL DEFAULT 0,"
    "  cost REAL NOT NULL DEFAULT 0,"
    "  rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),"
    "  decision TEXT NOT NULL DEFAULT 'none' CHECK (decision IN ('none', 'approved', 'rejected')),"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  prompt TEXT NOT NULL DEFAULT '',"
    "  optimized_prompt TEXT,"
    "  negative_prompt TEXT NOT NULL DEFAULT '',"
    "  variables TEXT CHECK (variables IS NULL OR json_valid(variables)),"
    "  is_tiny INTEGER NOT NULL DEFAULT 0 CHECK (is_tiny IN (0, 1)),"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    /* What the search index reads: the prompts and the notes with Chinese,
     * Japanese and Korean text cut into tokens (see takes-store.c). */
    "  search_prompts TEXT NOT NULL DEFAULT '',"
    "  search_notes TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX takes_project ON takes(project_id);"
    "CREATE INDEX takes_shot ON takes(shot_id) WHERE shot_id IS NOT NULL;"
    "CREATE INDEX takes_batch ON takes(batch_id) WHERE batch_id IS NOT NULL;"
    "CREATE INDEX takes_parent ON takes(parent_id) WHERE parent_id IS NOT NULL;"
    "CREATE INDEX takes_cache_key ON takes(cache_key);"
    "CREATE INDEX takes_status ON takes(status);"
    "CREATE INDEX takes_rating ON takes(rating);"
    "CREATE INDEX takes_updated ON takes(updated_at);"
    "CREATE TABLE tags ("
    "  take_id INTEGER NOT NULL REFERENCES takes(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  PRIMARY KEY (take_id, name)"
    ") WITHOUT ROWID;"
    "CREATE INDEX tags_name ON tags(name, take_id);"
    /* A NULL winner is a tie. */
    "CREATE TABLE comparisons ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  take_a INTEGER NOT NULL REFERENCES takes(id) ON DELETE CASCADE,"
    "  take_b INTEGER NOT NULL REFERENCES takes(id) ON DELETE CASCADE,"
    "  winner_id INTEGER CHECK (winner_id IS NULL OR winner_id = take_a OR winner_id = take_b),"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  CHECK (take_a <> take_b)"
    ");"
    "CREATE INDEX comparisons_a ON comparisons(take_a);"
    "CREATE INDEX comparisons_b ON comparisons(take_b);"
    /* The remote task id lets a restarted queue resume polling instead of
     * paying for the same video twice. */
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  take_id INTEGER NOT NULL UNIQUE REFERENCES takes(id) ON DELETE CASCADE,"
    "  backend TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'queued'"
    "    CHECK (state IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),"
    "  priority INTEGER NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  remote_task_id TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX jobs_ready ON jobs(state, priority DESC, next_attempt_at, id);"
    "CREATE TABLE safety_log ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,"
    "  prompt TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  source TEXT NOT NULL DEFAULT 'local',"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX safety_log_created ON safety_log(created_at);"
    "CREATE TABLE ledger ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  take_id INTEGER REFERENCES takes(id) ON DELETE SET NULL,"
    "  backend TEXT NOT NULL,"
    "  seconds REAL NOT NULL DEFAULT 0,"
    "  cost REAL NOT NULL DEFAULT 0,"
    "  currency TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX ledger_take ON ledger(take_id) WHERE take_id IS NOT NULL;"
    "CREATE INDEX ledger_created ON ledger(created_at);"
    /* Words for alphabetic scripts; for scripts written without spaces the
     * store writes overlapping pairs of characters plus the last one of each
     * run, so any one or two characters, or a longer phrase, can be found.
     * The prefix indexes make one- and two-character prefixes cheap. */
    "CREATE VIRTUAL TABLE takes_fts USING fts5("
    "  search_prompts, search_notes,"
    "  content='takes', content_rowid='id', tokenize='unicode61', prefix='1 2'"
    ");"
    "CREATE TRIGGER takes_fts_insert AFTER INSERT ON takes BEGIN"
    "  INSERT INTO takes_fts(rowid, search_prompts, search_notes)"
    "    VALUES (new.id, new.search_prompts, new.search_notes);"
    "END;"
    "CREATE TRIGGER takes_fts_delete AFTER DELETE ON takes BEGIN"
    "  INSERT INTO takes_fts(takes_fts, rowid, search_prompts, search_notes)"
    "    VALUES ('delete', old.id, old.search_prompts, old.search_notes);"
    "END;"
    "CREATE TRIGGER takes_fts_update AFTER UPDATE OF search_prompts, search_notes ON takes"
    "  WHEN old.search_prompts IS NOT new.search_prompts OR old.search_notes IS NOT new.search_notes BEGIN"
    "  INSERT INTO takes_fts(takes_fts, rowid, search_prompts, search_notes)"
    "    VALUES ('delete', old.id, old.search_prompts, old.search_notes);"
    "  INSERT INTO takes_fts(rowid, search_prompts, search_notes)"
    "    VALUES (new.id, new.search_prompts, new.search_notes);"
    "END;";

/* Version 2: the queue and the ledger. Jobs keep an order within a
 * priority (so one can be moved before another) and the estimated cost that
 * counts against the project's budget until the job ends; ledger entries
 * keep their project when the take is deleted, so spending stays known. */
static const char takes_store_schema_v2[] =
    "ALTER TABLE jobs ADD COLUMN position REAL NOT NULL DEFAULT 0;"
    "UPDATE jobs SET position = id;"
    "ALTER TABLE jobs ADD COLUMN estimated_cost REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN currency TEXT NOT NULL DEFAULT '';"
    "DROP INDEX jobs_ready;"
    "CREATE INDEX jobs_ready ON jobs(state, priority DESC, position, id);"
    "ALTER TABLE ledger ADD COLUMN project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL;"
    "UPDATE ledger SET project_id = (SELECT t.project_id FROM takes AS t WHERE t.id = ledger.take_id);"
    "CREATE INDEX ledger_project ON ledger(project_id, created_at);"
    "CREATE TABLE budgets ("
    "  project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,"
    "  amount REAL NOT NULL CHECK (amount >= 0),"
    "  currency TEXT NOT NULL CHECK (length(currency) = 3),"
    "  updated_at INTEGER NOT NULL"
    ");";

/* Version 3: a shot's in and out points within its chosen take, and the
 * takes kept as its alternatives. */
static const char takes_store_schema_v3[] =
    "ALTER TABLE shots ADD COLUMN in_us INTEGER NOT NULL DEFAULT 0 CHECK (in_us >= 0);"
    "ALTER TABLE shots ADD COLUMN out_us INTEGER NOT NULL DEFAULT 0 CHECK (out_us >= 0);"
    "CREATE TABLE shot_takes ("
    "  shot_id INTEGER NOT NULL REFERENCES shots(id) ON DELETE CASCADE,"
    "  take_id INTEGER NOT NULL REFERENCES takes(id) ON DELETE CASCADE,"
    "  added_at INTEGER NOT NULL,"
    "  PRIMARY KEY (shot_id, take_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX shot_takes_take ON shot_takes(take_id);"
    "INSERT INTO shot_takes (shot_id, take_id, added_at)"
    "  SELECT id, chosen_take_id, updated_at FROM shots WHERE chosen_take_id IS NOT NULL;"
    "CREATE INDEX comparisons_created ON comparisons(created_at);";

/* Version 4: a batch keeps its whole plan, not only the template and the
 * values: the negative template, how variables combine, how seeds are
 * chosen, the variables in the order of the file (the JSON of "variables"
 * has its keys sorted) and the recipe parameters. */
static const char takes_store_schema_v4[] =
    "ALTER TABLE batches ADD COLUMN negative TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE batches ADD COLUMN mode TEXT NOT NULL DEFAULT 'cross' CHECK (mode IN ('cross', 'zip'));"
    "ALTER TABLE batches ADD COLUMN seed_mode TEXT NOT NULL DEFAULT 'vary'"
    "  CHECK (seed_mode IN ('fixed', 'vary', 'list'));"
    "ALTER TABLE batches ADD COLUMN seed TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(seed));"
    "ALTER TABLE batches ADD COLUMN axes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(axes));"
    "ALTER TABLE batches ADD COLUMN params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params));"
    "UPDATE batches SET axes = (SELECT json_group_array(key) FROM json_each(batches.variables));";

static const TakesStoreMigration takes_store_migrations[] = {
  { 1, takes_store_schema_v1 },
  { 2, takes_store_schema_v2 },
  { 3, takes_store_schema_v3 },
  { 4, takes_store_schema_v4 },
};

G_END_DECLS
