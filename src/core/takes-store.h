/* takes-store.h: the gallery library, a SQLite database plus video files.
 *
 * One TakesStore is one SQLite connection and must be used from one thread
 * only: a worker thread that needs the library opens its own store on the
 * same data directory (WAL mode lets readers and one writer work at once,
 * and busy_timeout makes the writers wait for each other).
 *
 * On disk: <data>/library.db and <data>/media/<project-slug>/<take-id>.mp4.
 * A row only ever points at a file that exists: files are written under a
 * temporary name, synced and renamed into place before the row is committed.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "takes-recipe.h"
#include "takes-take.h"

G_BEGIN_DECLS

#define TAKES_STORE_ERROR (takes_store_error_quark ())

typedef enum
{
  /* The library could not be opened or created (permissions, missing folder). */
  TAKES_STORE_ERROR_OPEN,
  /* There is no library yet and the caller asked not to create one. */
  TAKES_STORE_ERROR_NO_LIBRARY,
  /* The file is not a Takes library, or it is damaged. */
  TAKES_STORE_ERROR_CORRUPT,
  /* A newer version of Takes made this library. */
  TAKES_STORE_ERROR_TOO_NEW,
  /* No take, project, shot or batch with that id. */
  TAKES_STORE_ERROR_NOT_FOUND,
  /* A value the library does not accept (a rating of 7, an empty tag…). */
  TAKES_STORE_ERROR_INVALID,
  /* The video file is missing, unreadable, or could not be written. */
  TAKES_STORE_ERROR_MEDIA,
  /* The disk is full or the file is larger than the system allows. */
  TAKES_STORE_ERROR_NO_SPACE,
  /* Another program kept the library locked for too long. */
  TAKES_STORE_ERROR_BUSY,
  /* Any other database failure. */
  TAKES_STORE_ERROR_FAILED,
} TakesStoreError;

/* The schema version this build writes; see the migration list in
 * takes-store.c. */
#define TAKES_STORE_SCHEMA_VERSION 4

typedef enum
{
  TAKES_STORE_OPEN_DEFAULT = 0,
  /* Fail with TAKES_STORE_ERROR_NO_LIBRARY instead of creating a library. */
  TAKES_STORE_OPEN_EXISTING = 1 << 0,
  /* Skip the media check, for callers that run takes_store_check() in the
   * background after opening. */
  TAKES_STORE_OPEN_SKIP_MEDIA_CHECK = 1 << 1,
  /* A connection that only reads an existing, current library: nothing is
   * created, migrated, recovered or checked, and every write fails. For a
   * worker thread that pages through takes while the main store writes. */
  TAKES_STORE_OPEN_READ_ONLY = 1 << 2,
  /* One more connection to a library this process has opened already, for
   * a worker thread that writes: the first connection migrated it and
   * finished any interrupted delete, so this one does neither. */
  TAKES_STORE_OPEN_SECONDARY = 1 << 3,
} TakesStoreOpenFlags;

typedef enum
{
  TAKES_STORE_CHECK_MEDIA = 1 << 0,    /* files against rows */
  TAKES_STORE_CHECK_DATABASE = 1 << 1, /* integrity, foreign keys, full-text index */
  TAKES_STORE_CHECK_RECIPES = 1 << 2,  /* every stored recipe can be read */
  TAKES_STORE_CHECK_ALL = 0x7,
} TakesStoreCheckFlags;

typedef enum
{
  TAKES_STORE_ISSUE_FILE_WITHOUT_TAKE, /* a video under media/ that no take points at */
  TAKES_STORE_ISSUE_TAKE_WITHOUT_FILE, /* a take whose video is missing */
  TAKES_STORE_ISSUE_TEMPORARY_FILE,    /* a partial copy left by an interrupted write */
  TAKES_STORE_ISSUE_DATABASE,          /* an integrity or foreign-key problem */
  TAKES_STORE_ISSUE_RECIPE,            /* a take whose recipe cannot be read */
} TakesStoreIssueKind;

typedef struct
{
  TakesStoreIssueKind kind;
  gint64 take_id; /* 0 when no take is involved */
  char *path;     /* absolute path of the file involved, or NULL */
  char *message;  /* one sentence for people */
} TakesStoreIssue;

#define TAKES_TYPE_STORE_ISSUE (takes_store_issue_get_type ())
GType takes_store_issue_get_type (void);
TakesStoreIssue *takes_store_issue_copy (const TakesStoreIssue *issue);
void takes_store_issue_free (TakesStoreIssue *issue);
const char *takes_store_issue_kind_to_string (TakesStoreIssueKind kind);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesStoreIssue, takes_store_issue_free)

typedef struct
{
  gint64 id;
  char *slug; /* the folder under media/ */
  char *name;
  gint64 created;
} TakesProject;

#define TAKES_TYPE_PROJECT (takes_project_get_type ())
GType takes_project_get_type (void);
TakesProject *takes_project_copy (const TakesProject *project);
void takes_project_free (TakesProject *project);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesProject, takes_project_free)

typedef struct
{
  gint64 id;
  gint64 project_id;
  guint position; /* storyboard order, from 1 */
  char *title;
  char *prompt;
  char *notes;
  gint64 duration;       /* microseconds planned for the shot */
  gint64 chosen_take_id; /* 0 when none */
} TakesShot;

#define TAKES_TYPE_SHOT (takes_shot_get_type ())
GType takes_shot_get_type (void);
TakesShot *takes_shot_copy (const TakesShot *shot);
void takes_shot_free (TakesShot *shot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesShot, takes_shot_free)

typedef struct
{
  gint64 id;
  gint64 project_id;
  char *name;
  char *template_text;   /* the prompt template with its {variables} */
  JsonObject *variables; /* variable name → array of values */
  gint64 created;
} TakesBatch;

#define TAKES_TYPE_BATCH (takes_batch_get_type ())
GType takes_batch_get_type (void);
TakesBatch *takes_batch_copy (const TakesBatch *batch);
void takes_batch_free (TakesBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesBatch, takes_batch_free)

typedef enum
{
  TAKES_MEDIA_COPY, /* the source file stays where it is */
  TAKES_MEDIA_MOVE, /* the source file is moved into the library */
} TakesMediaTransfer;

#define TAKES_TYPE_STORE (takes_store_get_type ())
G_DECLARE_FINAL_TYPE (TakesStore, takes_store, TAKES, STORE, GObject)

GQuark takes_store_error_quark (void);

/* Opens (and creates, migrates) the library in @data_dir, or in
 * takes_paths_data_dir() when NULL. Unless SKIP_MEDIA_CHECK is given, files
 * are compared with rows; the problems found are in
 * takes_store_get_open_issues() and nothing is done about them. The one
 * change opening makes to files is finishing a delete a crash interrupted.
 * The media check reads every file name under media/: about 1 µs a file,
 * so a GUI with a large library passes SKIP_MEDIA_CHECK and runs
 * takes_store_check() on a worker thread's own store instead. */
TakesStore *takes_store_open (const char *data_dir, TakesStoreOpenFlags flags, GError **error);
const char *takes_store_get_data_dir (TakesStore *self);
const char *takes_store_get_database_path (TakesStore *self);
/* Array of TakesStoreIssue, empty when all is well. */
GPtrArray *takes_store_get_open_issues (TakesStore *self);
guint takes_store_get_schema_version (TakesStore *self);

/* Returns an array of TakesStoreIssue; an empty array means no problems. */
GPtrArray *
takes_store_check (TakesStore *self, TakesStoreCheckFlags flags, GCancellable *cancellable, GError **error);

/* Projects ---------------------------------------------------------------- */

/* The project created with the library; it cannot be removed. */
gint64 takes_store_get_default_project (TakesStore *self);
/* The slug (folder name) is derived from @name and made unique. */
TakesProject *takes_store_create_project (TakesStore *self, const char *name, GError **error);
GPtrArray *takes_store_list_projects (TakesStore *self, GError **error);
/* Finds a project by id ("3"), slug or name. */
TakesProject *takes_store_find_project (TakesStore *self, const char *id_slug_or_name, GError **error);

/* Shots and batches ----------------------------------------------------- */

/* Appended at the end of the project's storyboard. */
TakesShot *takes_store_create_shot (
    TakesStore *self, gint64 project_id, const char *title, const char *prompt, GError **error);
GPtrArray *takes_store_list_shots (TakesStore *self, gint64 project_id, GError **error);
TakesBatch *takes_store_create_batch (TakesStore *self,
                                      gint64 project_id,
                                      const char *name,
                                      const char *template_text,
                                      JsonObject *variables,
                                      GError **error);
GPtrArray *takes_store_list_batches (TakesStore *self, gint64 project_id, GError **error);

/* Takes ----------------------------------------------------------------- */

/* Inserts @take (project 0 means the default project) with its tags. With @media_file the
 * file is copied or moved to media/<project>/<id>.mp4 first; on any failure
 * nothing is left behind: no row, no file, the source untouched. On success
 * the take's id, project, media path and timestamps are filled in. */
gboolean takes_store_add_take (
    TakesStore *self, TakesTake *take, const char *media_file, TakesMediaTransfer transfer, GError **error);
/* Inserts takes without video (a queued batch) in one transaction. */
gboolean takes_store_add_takes (TakesStore *self, GPtrArray *takes, GError **error);
/* Gives a take without a video its video (the queue calls this when a job
 * finishes); a take that has one already is refused. */
gboolean takes_store_attach_media (
    TakesStore *self, gint64 take_id, const char *media_file, TakesMediaTransfer transfer, GError **error);
/* Writes the recipe, status, shot, batch, parent, prompts, variables,
 * video info, seconds spent, cost and tiny flag of @take. Rating, decision,
 * notes, tags, project and media have their own calls. */
gboolean takes_store_update_take (TakesStore *self, TakesTake *take, GError **error);

TakesTake *takes_store_get_take (TakesStore *self, gint64 take_id, GError **error);
/* A finished take with this cache key and a video, or NULL (no error) when
 * there is none. */
TakesTake *takes_store_find_cached (TakesStore *self, const char *cache_key, GError **error);
/* Array of TakesTake. */
GPtrArray *takes_store_query_takes (TakesStore *self, const TakesTakeQuery *query, GError **error);
/* Where a page of takes ended: the sort key and id of its last take. The
 * next page continues after it (keyset paging), which reads one page however
 * deep in the list it is, where an OFFSET reads and skips every row before. */
typedef struct
{
  gint64 key; /* the take's value of the sort column: id, updated time, rating or duration */
  gint64 id;
} TakesTakeCursor;

/* Sets @cursor to the position of @take in a list sorted by @sort. */
void takes_take_cursor_set (TakesTakeCursor *cursor, TakesTakeSort sort, TakesTake *take);
/* The takes of @query that come after @after in the query's order, or from
 * the start when @after is NULL; the query's offset then skips that many
 * more. A take whose sort key changed since @after was taken is placed by
 * its new value. */
GPtrArray *takes_store_query_takes_after (TakesStore *self,
                                          const TakesTakeQuery *query,
                                          const TakesTakeCursor *after,
                                          GError **error);
/* How many takes match @query, ignoring its limit and offset. */
gboolean
takes_store_count_takes (TakesStore *self, const TakesTakeQuery *query, guint64 *count, GError **error);

/* Lineage: direct children (oldest first), and ancestors (parent first). */
GPtrArray *takes_store_get_children (TakesStore *self, gint64 take_id, GError **error);
GPtrArray *takes_store_get_ancestors (TakesStore *self, gint64 take_id, GError **error);

gboolean takes_store_set_rating (TakesStore *self, gint64 take_id, guint rating, GError **error);
gboolean takes_store_set_decision (TakesStore *self, gint64 take_id, TakesDecision decision, GError **error);
gboolean takes_store_set_notes (TakesStore *self, gint64 take_id, const char *notes, GError **error);
/* Tags are compared without regard to ASCII case; adding a tag twice is
 * not an error, removing one the take lacks is. The plural forms change
 * all the tags in one transaction, or none. */
gboolean takes_store_add_tag (TakesStore *self, gint64 take_id, const char *tag, GError **error);
gboolean takes_store_remove_tag (TakesStore *self, gint64 take_id, const char *tag, GError **error);
gboolean takes_store_add_tags (TakesStore *self, gint64 take_id, const char *const *tags, GError **error);
gboolean takes_store_remove_tags (TakesStore *self, gint64 take_id, const char *const *tags, GError **error);
/* Every tag in use, sorted. */
GStrv takes_store_list_tags (TakesStore *self, GError **error);

/* Deletes the takes and moves their videos to the desktop trash (or to
 * <data>/trash/ where there is no desktop trash), all or nothing. */
gboolean
takes_store_delete_takes (TakesStore *self, const gint64 *take_ids, guint n_take_ids, GError **error);

/* The absolute path of the take's video, or NULL when it has none. */
char *takes_store_get_media_file (TakesStore *self, TakesTake *take);

G_END_DECLS
