/* takes-store.c: the library database and the video files it points at.
 *
 * The invariant this file keeps: a take row only ever names a file that is
 * on disk. Adding writes the file first (temporary name, fsync, rename) and
 * commits the row after; deleting stages the file inside the data folder,
 * commits, and only then hands the file to the trash. A crash can leave a
 * file that no row names, which opening reports, but never the reverse.
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "takes-paths.h"
#include "takes-store-private.h"
#include "takes-store-schema.h"
#include "takes-store.h"

#define BUSY_TIMEOUT_MS 5000
#define MAX_NAME_CHARS 200
#define MAX_TAG_CHARS 64
#define MAX_NOTES_CHARS 20000
#define MAX_TEMPLATE_CHARS 20000
#define COPY_BUFFER_SIZE (1024 * 1024)
#define PENDING_PREFIX ".pending~"
#define DEFAULT_SLUG "default"

struct _TakesStore
{
  GObject parent_instance;

  sqlite3 *db;
  char *data_dir;
  char *db_path;
  char *media_dir;
  char *trash_dir;
  gint64 default_project;
  GPtrArray *open_issues;
};

G_DEFINE_FINAL_TYPE (TakesStore, takes_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (takes - store - error - quark, takes_store_error)

/* Boxed types ------------------------------------------------------------ */

TakesStoreIssue *
takes_store_issue_copy (const TakesStoreIssue *issue)
{
  TakesStoreIssue *copy = g_new0 (TakesStoreIssue, 1);

  copy->kind = issue->kind;
  copy->take_id = issue->take_id;
  copy->path = g_strdup (issue->path);
  copy->message = g_strdup (issue->message);
  return copy;
}

void
takes_store_issue_free (TakesStoreIssue *issue)
{
  if (issue == NULL)
    return;
  g_free (issue->path);
  g_free (issue->message);
  g_free (issue);
}

G_DEFINE_BOXED_TYPE (TakesStoreIssue, takes_store_issue, takes_store_issue_copy, takes_store_issue_free)

const char *
takes_store_issue_kind_to_string (TakesStoreIssueKind kind)
{
  switch (kind)
    {
      case TAKES_STORE_ISSUE_FILE_WITHOUT_TAKE:
        return "file-without-take";
      case TAKES_STORE_ISSUE_TAKE_WITHOUT_FILE:
        return "take-without-file";
      case TAKES_STORE_ISSUE_TEMPORARY_FILE:
        return "temporary-file";
      case TAKES_STORE_ISSUE_DATABASE:
        return "database";
      case TAKES_STORE_ISSUE_RECIPE:
        return "recipe";
      default:
        g_return_val_if_reached (NULL);
    }
}

TakesProject *
takes_project_copy (const TakesProject *project)
{
  TakesProject *copy = g_new0 (TakesProject, 1);

  copy->id = project->id;
  copy->slug = g_strdup (project->slug);
  copy->name = g_strdup (project->name);
  copy->created = project->created;
  return copy;
}

void
takes_project_free (TakesProject *project)
{
  if (project == NULL)
    return;
  g_free (project->slug);
  g_free (project->name);
  g_free (project);
}

G_DEFINE_BOXED_TYPE (TakesProject, takes_project, takes_project_copy, takes_project_free)

TakesShot *
takes_shot_copy (const TakesShot *shot)
{
  TakesShot *copy = g_memdup2 (shot, sizeof *shot);

  copy->title = g_strdup (shot->title);
  copy->prompt = g_strdup (shot->prompt);
  copy->notes = g_strdup (shot->notes);
  return copy;
}

void
takes_shot_free (TakesShot *shot)
{
  if (shot == NULL)
    return;
  g_free (shot->title);
  g_free (shot->prompt);
  g_free (shot->notes);
  g_free (shot);
}

G_DEFINE_BOXED_TYPE (TakesShot, takes_shot, takes_shot_copy, takes_shot_free)

TakesBatch *
takes_batch_copy (const TakesBatch *batch)
{
  TakesBatch *copy = g_memdup2 (batch, sizeof *batch);

  copy->name = g_strdup (batch->name);
  copy->template_text = g_strdup (batch->template_text);
  copy->variables = batch->variables != NULL ? json_object_ref (batch->variables) : NULL;
  return copy;
}

void
takes_batch_free (TakesBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->name);
  g_free (batch->template_text);
  g_clear_pointer (&batch->variables, json_object_unref);
  g_free (batch);
}

G_DEFINE_BOXED_TYPE (TakesBatch, takes_batch, takes_batch_copy, takes_batch_free)

/* SQLite helpers --------------------------------------------------------- */

static void
set_sqlite_error (GError **error, sqlite3 *db, int rc, const char *what)
{
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_BUSY,
                     _ ("Could not %s: another program kept the library locked; close it and try again."),
                     what);
        break;
      case SQLITE_FULL:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NO_SPACE,
                     _ ("Could not %s: the disk is full; free some space and try again."), what);
        break;
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_CORRUPT,
                     _ ("Could not %s: the library database is damaged (%s); restore it from a backup."),
                     what, detail);
        break;
      case SQLITE_READONLY:
      case SQLITE_PERM:
      case SQLITE_CANTOPEN:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_OPEN,
                     _ ("Could not %s: the library cannot be written (%s); check the folder’s permissions."),
                     what, detail);
        break;
      case SQLITE_CONSTRAINT:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                     _ ("Could not %s: the library refused the change (%s)."), what, detail);
        break;
      default:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_FAILED, _ ("Could not %s: %s."), what,
                     detail);
    }
}

gboolean
takes_store_exec (TakesStore *self, const char *sql, const char *what, GError **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, rc, what);
      return FALSE;
    }
  return TRUE;
}

sqlite3_stmt *
takes_store_prepare (TakesStore *self, const char *sql, const char *what, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, rc, what);
      return NULL;
    }
  return stmt;
}

gboolean
takes_store_step_done (TakesStore *self, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, what);
      return FALSE;
    }
  return TRUE;
}

static void
bind_text_or_null (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

static void
bind_id_or_null (sqlite3_stmt *stmt, int index, gint64 id)
{
  if (id > 0)
    sqlite3_bind_int64 (stmt, index, id);
  else
    sqlite3_bind_null (stmt, index);
}

static char *
column_dup (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *)sqlite3_column_text (stmt, column));
}

void
takes_store_transaction_clear (TakesStoreTransaction *txn)
{
  if (txn->active)
    sqlite3_exec (txn->db, "ROLLBACK", NULL, NULL, NULL);
  txn->active = FALSE;
}

gboolean
takes_store_transaction_begin (TakesStore *self, TakesStoreTransaction *txn, GError **error)
{
  txn->db = self->db;
  /* IMMEDIATE takes the write lock now, so a busy library fails here and
   * not half way through. */
  if (!takes_store_exec (self, "BEGIN IMMEDIATE", _ ("start a change to the library"), error))
    return FALSE;
  txn->active = TRUE;
  return TRUE;
}

gboolean
takes_store_transaction_commit (TakesStoreTransaction *txn, GError **error)
{
  int rc = sqlite3_exec (txn->db, "COMMIT", NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, txn->db, rc, _ ("save the change to the library"));
      return FALSE;
    }
  txn->active = FALSE;
  return TRUE;
}

/* Files ------------------------------------------------------------------ */

typedef enum
{
  FILE_READ,
  FILE_WRITE,
  FILE_MOVE,
  FILE_MOVE_IN,
  FILE_MKDIR,
  FILE_PLACE,
  FILE_TRASH,
} FileAction;

static void
set_file_error (GError **error, int saved_errno, FileAction action, const char *path)
{
  g_autofree char *display = g_filename_display_name (path);
  const char *reason = g_strerror (saved_errno);

  if (saved_errno == ENOSPC || saved_errno == EDQUOT)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NO_SPACE,
                   _ ("There is not enough space on the disk for “%s”; free some space and try again."),
                   display);
      return;
    }
  if (saved_errno == EFBIG)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NO_SPACE,
                   _ ("“%s” is larger than this system lets a program write; raise the file size limit "
                      "(ulimit -f) and try again."),
                   display);
      return;
    }
  switch (action)
    {
      case FILE_READ:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                     _ ("Could not read “%s” (%s); check that the file exists and may be read."), display,
                     reason);
        break;
      case FILE_WRITE:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                     _ ("Could not write “%s” (%s); check the library folder’s permissions."), display,
                     reason);
        break;
      case FILE_MOVE:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                     _ ("Could not move “%s” (%s); check the library folder’s permissions."), display,
                     reason);
        break;
      case FILE_MOVE_IN:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                     _ ("Could not move “%s” into the library (%s); check that the file may be moved."),
                     display, reason);
        break;
      case FILE_MKDIR:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                     _ ("Could not create the folder “%s” (%s); check the library folder’s permissions."),
                     display, reason);
        break;
      case FILE_PLACE:
        g_set_error (
            error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
            _ ("Could not put the video “%s” in place (%s); check the library folder’s permissions."),
            display, reason);
        break;
      case FILE_TRASH:
      default:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                     _ ("Could not move “%s” to the trash (%s); check the library folder’s permissions."),
                     display, reason);
        break;
    }
}

static gboolean
fsync_path (const char *path, gboolean directory)
{
  int fd = open (path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = fsync (fd) == 0;
  close (fd);
  return ok;
}

static gboolean
write_all (int fd, const char *buf, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }
      buf += n;
      len -= (gsize)n;
    }
  return TRUE;
}

/* Copies @source to @dest (created or truncated) and syncs it. */
static gboolean
copy_file (const char *source, const char *dest, GError **error)
{
  g_autofree char *buf = NULL;
  int in = -1;
  int out = -1;
  int saved_errno;

  in = open (source, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    {
      saved_errno = errno;
      set_file_error (error, saved_errno, FILE_READ, source);
      return FALSE;
    }
  out = open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (out < 0)
    {
      saved_errno = errno;
      close (in);
      set_file_error (error, saved_errno, FILE_WRITE, dest);
      return FALSE;
    }

  buf = g_malloc (COPY_BUFFER_SIZE);
  for (;;)
    {
      ssize_t n = read (in, buf, COPY_BUFFER_SIZE);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved_errno = errno;
          set_file_error (error, saved_errno, FILE_READ, source);
          goto fail;
        }
      if (n == 0)
        break;
      if (!write_all (out, buf, (gsize)n))
        {
          saved_errno = errno;
          set_file_error (error, saved_errno, FILE_WRITE, dest);
          goto fail;
        }
    }
  if (fsync (out) != 0)
    {
      saved_errno = errno;
      set_file_error (error, saved_errno, FILE_WRITE, dest);
      goto fail;
    }
  close (in);
  if (close (out) != 0)
    {
      saved_errno = errno;
      g_unlink (dest);
      set_file_error (error, saved_errno, FILE_WRITE, dest);
      return FALSE;
    }
  return TRUE;

fail:
  close (in);
  close (out);
  g_unlink (dest);
  return FALSE;
}

/* rename() that refuses to replace an existing file. */
static int
rename_noreplace (const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
#endif
  /* Filesystems without RENAME_NOREPLACE: the library is written by one
   * process at a time (the write lock is held), so checking first is safe. */
  if (g_file_test (to, G_FILE_TEST_EXISTS))
    {
      errno = EEXIST;
      return -1;
    }
  return rename (from, to);
}

/* Renames @from into @dir as @basename, or "stem (2).ext" and so on when
 * that name is taken; returns the path used. */
static char *
rename_unique (const char *from, const char *dir, const char *basename, GError **error)
{
  g_autofree char *stem = g_strdup (basename);
  const char *dot = strrchr (basename, '.');
  const char *ext = dot != NULL && dot != basename ? dot : "";
  int saved_errno = 0;

  stem[strlen (basename) - strlen (ext)] = '\0';
  for (guint n = 1; n < 10000; n++)
    {
      g_autofree char *name = n == 1 ? g_strdup (basename) : g_strdup_printf ("%s (%u)%s", stem, n, ext);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (rename_noreplace (from, path) == 0)
        return g_steal_pointer (&path);
      saved_errno = errno;
      if (saved_errno != EEXIST)
        break;
    }
  set_file_error (error, saved_errno, FILE_MOVE, from);
  return NULL;
}

static char *
media_extension (const char *source)
{
  g_autofree char *base = g_path_get_basename (source);
  const char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base && strlen (dot) <= 6)
    {
      for (const char *p = dot + 1; *p != '\0'; p++)
        if (!g_ascii_isalnum (*p))
          return g_strdup (".mp4");
      return g_ascii_strdown (dot, -1);
    }
  return g_strdup (".mp4");
}

/* A video placed in the library, and how to undo it. */
typedef struct
{
  char *final_path;
  char *relative;
  char *source; /* set when the source was renamed into place */
} PlacedMedia;

static void
placed_media_clear (PlacedMedia *placed)
{
  g_clear_pointer (&placed->final_path, g_free);
  g_clear_pointer (&placed->relative, g_free);
  g_clear_pointer (&placed->source, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlacedMedia, placed_media_clear)

/* Puts the file back the way it was before place_media(). */
static void
placed_media_undo (PlacedMedia *placed)
{
  if (placed->final_path == NULL)
    return;
  if (placed->source == NULL || rename (placed->final_path, placed->source) != 0)
    g_unlink (placed->final_path);
  g_clear_pointer (&placed->final_path, g_free);
}

static gboolean
place_media (TakesStore *self,
             const char *slug,
             gint64 take_id,
             const char *source,
             TakesMediaTransfer transfer,
             PlacedMedia *placed,
             GError **error)
{
  g_autofree char *dir = g_build_filename (self->media_dir, slug, NULL);
  g_autofree char *ext = media_extension (source);
  g_autofree char *tmp_name = g_strdup_printf (".%" PRId64 "%s.tmp", take_id, ext);
  g_autofree char *tmp = g_build_filename (dir, tmp_name, NULL);
  gboolean renamed = FALSE;
  int saved_errno;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      saved_errno = errno;
      set_file_error (error, saved_errno, FILE_MKDIR, dir);
      return FALSE;
    }

  if (transfer == TAKES_MEDIA_MOVE)
    {
      if (rename (source, tmp) == 0)
        renamed = TRUE;
      else if (errno != EXDEV)
        {
          saved_errno = errno;
          set_file_error (error, saved_errno, FILE_MOVE_IN, source);
          return FALSE;
        }
    }
  if (!renamed && !copy_file (source, tmp, error))
    return FALSE;
  if (renamed && !fsync_path (tmp, FALSE))
    {
      saved_errno = errno;
      if (rename (tmp, source) != 0)
        g_unlink (tmp);
      set_file_error (error, saved_errno, FILE_WRITE, tmp);
      return FALSE;
    }

  /* A crash can leave a file without a row, and ids of rolled-back rows are
   * reused, so the final name may be taken; such a file is never replaced. */
  for (guint n = 1; n < 1000; n++)
    {
      g_autofree char *name = n == 1 ? g_strdup_printf ("%" PRId64 "%s", take_id, ext)
                                     : g_strdup_printf ("%" PRId64 "-%u%s", take_id, n, ext);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (rename_noreplace (tmp, path) == 0)
        {
          placed->final_path = g_steal_pointer (&path);
          placed->relative = g_build_filename ("media", slug, name, NULL);
          placed->source = renamed ? g_strdup (source) : NULL;
          break;
        }
      if (errno != EEXIST)
        break;
    }
  if (placed->final_path == NULL)
    {
      saved_errno = errno;
      if (!renamed || rename (tmp, source) != 0)
        g_unlink (tmp);
      set_file_error (error, saved_errno, FILE_PLACE, tmp);
      return FALSE;
    }
  fsync_path (dir, TRUE);
  return TRUE;
}

/* Staged names record the take and its media path with '/' written as '~'
 * (slugs and our file names never contain '~'), so a later open can tell
 * where the file came from: ".pending~42~media~default~42.mp4". */
static char *
pending_name (gint64 take_id, const char *media_path)
{
  g_auto (GStrv) parts = g_strsplit (media_path, G_DIR_SEPARATOR_S, -1);
  g_autofree char *joined = g_strjoinv ("~", parts);

  return g_strdup_printf (PENDING_PREFIX "%" PRId64 "~%s", take_id, joined);
}

static gboolean
parse_pending_name (const char *name, gint64 *take_id, char **media_path)
{
  g_auto (GStrv) parts = NULL;
  guint64 id = 0;

  if (!g_str_has_prefix (name, PENDING_PREFIX))
    return FALSE;
  parts = g_strsplit (name + strlen (PENDING_PREFIX), "~", -1);
  if (g_strv_length (parts) < 3 || !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXINT64, &id, NULL))
    return FALSE;
  *take_id = (gint64)id;
  *media_path = g_build_filenamev (parts + 1);
  return TRUE;
}

/* Moves a file that no row names any more out of the data folder into the
 * desktop trash, or leaves it under its own name in <data>/trash/. */
static void
finish_trash (TakesStore *self, const char *path, const char *display_name)
{
  g_autofree char *nice = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) error = NULL;

  if (g_mkdir_with_parents (self->trash_dir, 0700) != 0)
    return;
  nice = rename_unique (path, self->trash_dir, display_name, NULL);
  if (nice == NULL)
    return;
  file = g_file_new_for_path (nice);
  if (!g_file_trash (file, NULL, &error))
    g_debug ("No desktop trash for %s (%s); it stays in %s", nice, error->message, self->trash_dir);
}

static gboolean
same_file (const char *a, const char *b)
{
  GStatBuf sa, sb;

  return g_lstat (a, &sa) == 0 && g_lstat (b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Rows ------------------------------------------------------------------- */

#define TAKE_COLUMNS                                                                                         \
  "t.id, t.project_id, t.shot_id, t.batch_id, t.parent_id, t.recipe, t.cache_key, t.backend, t.model, "      \
  "t.status, t.media_path, t.width, t.height, t.frames, t.fps, t.duration_us, t.seconds_spent, t.cost, "     \
  "t.rating, t.decision, t.notes, t.prompt, t.optimized_prompt, t.negative_prompt, t.variables, t.is_tiny, " \
  "t.created_at, t.updated_at, (SELECT group_concat(g.name, char(31)) FROM tags AS g WHERE g.take_id = "     \
  "t.id)"

static TakesTake *
take_from_stmt (sqlite3_stmt *stmt)
{
  TakesTakeRow row = { 0 };
  int c = 0;

  row.id = sqlite3_column_int64 (stmt, c++);
  row.project_id = sqlite3_column_int64 (stmt, c++);
  row.shot_id = sqlite3_column_int64 (stmt, c++);
  row.batch_id = sqlite3_column_int64 (stmt, c++);
  row.parent_id = sqlite3_column_int64 (stmt, c++);
  row.recipe_json = (const char *)sqlite3_column_text (stmt, c++);
  row.cache_key = (const char *)sqlite3_column_text (stmt, c++);
  row.backend = (const char *)sqlite3_column_text (stmt, c++);
  row.model = (const char *)sqlite3_column_text (stmt, c++);
  if (!takes_take_status_from_string ((const char *)sqlite3_column_text (stmt, c++), &row.status))
    row.status = TAKES_TAKE_STATUS_FAILED;
  row.media_path = (const char *)sqlite3_column_text (stmt, c++);
  row.width = (guint)sqlite3_column_int64 (stmt, c++);
  row.height = (guint)sqlite3_column_int64 (stmt, c++);
  row.frames = (guint)sqlite3_column_int64 (stmt, c++);
  row.fps = sqlite3_column_double (stmt, c++);
  row.duration = sqlite3_column_int64 (stmt, c++);
  row.seconds_spent = sqlite3_column_double (stmt, c++);
  row.cost = sqlite3_column_double (stmt, c++);
  row.rating = (guint)CLAMP (sqlite3_column_int64 (stmt, c), 0, TAKES_MAX_RATING);
  c++;
  if (!takes_decision_from_string ((const char *)sqlite3_column_text (stmt, c++), &row.decision))
    row.decision = TAKES_DECISION_NONE;
  row.notes = (const char *)sqlite3_column_text (stmt, c++);
  row.prompt = (const char *)sqlite3_column_text (stmt, c++);
  row.optimized_prompt = (const char *)sqlite3_column_text (stmt, c++);
  row.negative_prompt = (const char *)sqlite3_column_text (stmt, c++);
  row.variables_json = (const char *)sqlite3_column_text (stmt, c++);
  row.is_tiny = sqlite3_column_int (stmt, c++) != 0;
  row.created = sqlite3_column_int64 (stmt, c++);
  row.updated = sqlite3_column_int64 (stmt, c++);
  row.tags = (const char *)sqlite3_column_text (stmt, c++);
  return takes_take_new_from_row (&row);
}

static GPtrArray *
collect_takes (TakesStore *self, sqlite3_stmt *stmt, const char *what, GError **error)
{
  g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (takes, take_from_stmt (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, what);
      return NULL;
    }
  return g_steal_pointer (&takes);
}

static void
set_take_not_found (GError **error, gint64 take_id)
{
  g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
               _ ("There is no take %" PRId64 " in the library; check the number."), take_id);
}

int
takes_store_row_exists (TakesStore *self, const char *table, gint64 id, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT 1 FROM %s WHERE id = ?", table);
  g_autoptr (sqlite3_stmt) stmt = takes_store_prepare (self, sql, _ ("read the library"), error);
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  set_sqlite_error (error, self->db, rc, _ ("read the library"));
  return -1;
}

static gboolean
require_take (TakesStore *self, gint64 take_id, GError **error)
{
  int found = take_id > 0 ? takes_store_row_exists (self, "takes", take_id, error) : 0;

  if (found == 0)
    set_take_not_found (error, take_id);
  return found == 1;
}

static char *
project_slug (TakesStore *self, gint64 project_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
      = takes_store_prepare (self, "SELECT slug FROM projects WHERE id = ?", _ ("read the library"), error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, project_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return column_dup (stmt, 0);
  if (rc == SQLITE_DONE)
    g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                 _ ("There is no project %" PRId64 " in the library; check the number."), project_id);
  else
    set_sqlite_error (error, self->db, rc, _ ("read the library"));
  return NULL;
}

/* Object ----------------------------------------------------------------- */

static void
takes_store_finalize (GObject *object)
{
  TakesStore *self = TAKES_STORE (object);

  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->db_path, g_free);
  g_clear_pointer (&self->media_dir, g_free);
  g_clear_pointer (&self->trash_dir, g_free);
  g_clear_pointer (&self->open_issues, g_ptr_array_unref);

  G_OBJECT_CLASS (takes_store_parent_class)->finalize (object);
}

static void
takes_store_class_init (TakesStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_store_finalize;
}

static void
takes_store_init (TakesStore *self)
{
  self->open_issues = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_store_issue_free);
}

/* Opening and migrations --------------------------------------------------- */

static gboolean
read_pragma_int (TakesStore *self, const char *pragma, gint64 *value, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA %s", pragma);
  g_autoptr (sqlite3_stmt) stmt = takes_store_prepare (self, sql, _ ("read the library"), error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _ ("read the library"));
      return FALSE;
    }
  *value = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* Refuses, before anything is written, a file that is not ours or that a
 * newer version made. */
static gboolean
check_compatible (TakesStore *self, GError **error)
{
  g_autofree char *display = g_filename_display_name (self->db_path);
  gint64 version = 0;
  gint64 app_id = 0;
  gint64 n_tables = 0;

  if (!read_pragma_int (self, "user_version", &version, error)
      || !read_pragma_int (self, "application_id", &app_id, error))
    return FALSE;

  if (app_id != 0 && app_id != TAKES_STORE_APPLICATION_ID)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_CORRUPT,
                   _ ("“%s” is a database of another program, not a Takes library; choose another folder."),
                   display);
      return FALSE;
    }
  if (version > TAKES_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_TOO_NEW,
                   _ ("The library “%s” was made by a newer version of Takes (format %" PRId64
                      ", this version reads up to %d); update Takes to open it."),
                   display, version, TAKES_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (version == 0)
    {
      g_autoptr (sqlite3_stmt) stmt
          = takes_store_prepare (self, "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                                 _ ("read the library"), error);

      if (stmt == NULL)
        return FALSE;
      if (sqlite3_step (stmt) != SQLITE_ROW)
        {
          set_sqlite_error (error, self->db, sqlite3_errcode (self->db), _ ("read the library"));
          return FALSE;
        }
      n_tables = sqlite3_column_int64 (stmt, 0);
      if (n_tables > 0)
        {
          g_set_error (
              error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_CORRUPT,
              _ ("“%s” holds tables of another program, not a Takes library; choose another folder."),
              display);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
migrate (TakesStore *self, guint target, GError **error)
{
  gint64 version = 0;

  if (!read_pragma_int (self, "user_version", &version, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (takes_store_migrations); i++)
    {
      const TakesStoreMigration *step = &takes_store_migrations[i];
      g_auto (TakesStoreTransaction) txn = { 0 };
      g_autofree char *bump = NULL;

      if (step->version <= version || step->version > target)
        continue;
      g_debug ("Migrating %s to schema version %u", self->db_path, step->version);
      bump = g_strdup_printf ("PRAGMA user_version = %u; PRAGMA application_id = %d;", step->version,
                              TAKES_STORE_APPLICATION_ID);
      if (!takes_store_transaction_begin (self, &txn, error)
          || !takes_store_exec (self, step->sql, _ ("update the library to the current format"), error)
          || !takes_store_exec (self, bump, _ ("update the library to the current format"), error)
          || !takes_store_transaction_commit (&txn, error))
        return FALSE;
    }
  return TRUE;
}

/* A read-only connection cannot migrate, so it accepts only a library
 * already in this build's format. */
static gboolean
check_current (TakesStore *self, GError **error)
{
  g_autofree char *display = NULL;
  gint64 version = 0;

  if (!read_pragma_int (self, "user_version", &version, error))
    return FALSE;
  if (version == TAKES_STORE_SCHEMA_VERSION)
    return TRUE;
  display = g_filename_display_name (self->db_path);
  g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_OPEN,
               _ ("The library “%s” is in format %" PRId64 " and can only be read in format %d; open it "
                  "in Takes once so that it is updated."),
               display, version, TAKES_STORE_SCHEMA_VERSION);
  return FALSE;
}

static gboolean
find_default_project (TakesStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) find = NULL;
  int rc;

  find = takes_store_prepare (self, "SELECT id FROM projects WHERE slug = '" DEFAULT_SLUG "'",
                              _ ("read the library"), error);
  if (find == NULL)
    return FALSE;
  rc = sqlite3_step (find);
  if (rc == SQLITE_ROW)
    {
      self->default_project = sqlite3_column_int64 (find, 0);
      return TRUE;
    }
  if (rc == SQLITE_DONE)
    {
      g_autofree char *display = g_filename_display_name (self->db_path);

      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_CORRUPT,
                   _ ("The library “%s” has lost its default project; open it in Takes once so that it is "
                      "made again."),
                   display);
      return FALSE;
    }
  set_sqlite_error (error, self->db, rc, _ ("read the library"));
  return FALSE;
}

static gboolean
ensure_default_project (TakesStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (sqlite3_stmt) insert = NULL;
  gint64 now = g_get_real_time ();
  int rc;

  find = takes_store_prepare (self, "SELECT id FROM projects WHERE slug = '" DEFAULT_SLUG "'",
                              _ ("read the library"), error);
  if (find == NULL)
    return FALSE;
  rc = sqlite3_step (find);
  if (rc == SQLITE_ROW)
    {
      self->default_project = sqlite3_column_int64 (find, 0);
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _ ("read the library"));
      return FALSE;
    }

  insert = takes_store_prepare (
      self, "INSERT INTO projects (slug, name, created_at, updated_at) VALUES ('" DEFAULT_SLUG "', ?, ?, ?)",
      _ ("create the default project"), error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_text (insert, 1, _ ("My Takes"), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (insert, 2, now);
  sqlite3_bind_int64 (insert, 3, now);
  if (!takes_store_step_done (self, insert, _ ("create the default project"), error))
    return FALSE;
  self->default_project = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

/* Finishes or undoes deletions a crash interrupted. A staged link whose
 * take still exists belongs to a delete that never committed and is
 * dropped; one whose take is gone finishes its way to the trash. */
static void
recover_pending_deletes (TakesStore *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->trash_dir, 0, NULL);
  g_autoptr (GPtrArray) pending = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, PENDING_PREFIX))
      g_ptr_array_add (pending, g_strdup (name));

  for (guint i = 0; i < pending->len; i++)
    {
      const char *entry = g_ptr_array_index (pending, i);
      g_autofree char *path = g_build_filename (self->trash_dir, entry, NULL);
      g_autofree char *media_path = NULL;
      g_autofree char *original = NULL;
      g_autofree char *base = NULL;
      g_autoptr (sqlite3_stmt) stmt = NULL;
      gint64 id = 0;
      int rc;

      if (!parse_pending_name (entry, &id, &media_path))
        continue;
      original = g_build_filename (self->data_dir, media_path, NULL);
      stmt = takes_store_prepare (self, "SELECT 1 FROM takes WHERE id = ?", _ ("read the library"), NULL);
      if (stmt == NULL)
        return;
      sqlite3_bind_int64 (stmt, 1, id);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          if (same_file (path, original))
            g_unlink (path);
          else if (rename_noreplace (path, original) == 0)
            g_debug ("Restored %s after an interrupted delete", original);
          continue;
        }
      if (rc != SQLITE_DONE)
        return;
      if (same_file (path, original))
        g_unlink (original);
      base = g_path_get_basename (media_path);
      finish_trash (self, path, base);
    }
}

/* Opens the file, refuses what is not a compatible library, then sets the
 * connection up; nothing is written before the checks pass. */
static gboolean
open_database (TakesStore *self, gboolean create, gboolean read_only, GError **error)
{
  g_autofree char *display = g_filename_display_name (self->db_path);
  g_autofree char *mode = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  int rc;

  rc = sqlite3_open_v2 (self->db_path, &self->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (
          error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_OPEN,
          _ ("Could not open the library “%s” (%s); check that the folder exists and may be written."),
          display, self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return FALSE;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  /* The first read tells whether this is a database at all. */
  stmt = takes_store_prepare (self, "SELECT count(*) FROM sqlite_master", _ ("open the library"), NULL);
  rc = stmt != NULL ? sqlite3_step (stmt) : sqlite3_errcode (self->db);
  if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
    {
      g_set_error (
          error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_CORRUPT,
          _ ("“%s” is not a Takes library or it is damaged; move it away or restore it from a backup."),
          display);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _ ("open the library"));
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (!check_compatible (self, error))
    return FALSE;

  /* A reader must not change the mode; the writer that made the library
   * set it already. */
  stmt = takes_store_prepare (self, read_only ? "PRAGMA journal_mode" : "PRAGMA journal_mode = WAL",
                              _ ("open the library"), error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _ ("open the library"));
      return FALSE;
    }
  mode = g_ascii_strdown ((const char *)sqlite3_column_text (stmt, 0), -1);
  if (!g_str_equal (mode, "wal"))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_OPEN,
                   _ ("The library “%s” cannot use write-ahead logging; keep it on a local disk."), display);
      return FALSE;
    }

  /* FULL syncs the log on every commit: a rating clicked just before a power
   * cut is kept. Bulk inserts share one commit, so this costs little. */
  return takes_store_exec (self, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                           _ ("open the library"), error);
}

static gboolean scan_media (TakesStore *self, GPtrArray *issues, GCancellable *cancellable, GError **error);

TakesStore *
takes_store_open (const char *data_dir, TakesStoreOpenFlags flags, GError **error)
{
  g_autoptr (TakesStore) self = g_object_new (TAKES_TYPE_STORE, NULL);
  int saved_errno;

  self->data_dir = data_dir != NULL ? g_strdup (data_dir) : takes_paths_data_dir ();
  self->db_path = g_build_filename (self->data_dir, "library.db", NULL);
  self->media_dir = g_build_filename (self->data_dir, "media", NULL);
  self->trash_dir = g_build_filename (self->data_dir, "trash", NULL);

  if ((flags & (TAKES_STORE_OPEN_EXISTING | TAKES_STORE_OPEN_READ_ONLY | TAKES_STORE_OPEN_SECONDARY))
      && !g_file_test (self->db_path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *display = g_filename_display_name (self->data_dir);

      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NO_LIBRARY,
                   _ ("There is no library in “%s” yet; create one with “takes-cli init”."), display);
      return NULL;
    }
  if (g_mkdir_with_parents (self->data_dir, 0700) != 0)
    {
      g_autofree char *display = g_filename_display_name (self->data_dir);

      saved_errno = errno;
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_OPEN,
                   _ ("Could not create the library folder “%s” (%s); check that you may write there."),
                   display, g_strerror (saved_errno));
      return NULL;
    }

  if (flags & (TAKES_STORE_OPEN_READ_ONLY | TAKES_STORE_OPEN_SECONDARY))
    {
      if (!open_database (self, FALSE, (flags & TAKES_STORE_OPEN_READ_ONLY) != 0, error)
          || !check_current (self, error) || !find_default_project (self, error))
        return NULL;
      return g_steal_pointer (&self);
    }

  if (!open_database (self, !(flags & TAKES_STORE_OPEN_EXISTING), FALSE, error)
      || !migrate (self, TAKES_STORE_SCHEMA_VERSION, error) || !ensure_default_project (self, error))
    return NULL;

  recover_pending_deletes (self);
  if (!(flags & TAKES_STORE_OPEN_SKIP_MEDIA_CHECK) && !scan_media (self, self->open_issues, NULL, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
takes_store_create_at_version (const char *db_path, guint version, GError **error)
{
  g_autoptr (TakesStore) self = g_object_new (TAKES_TYPE_STORE, NULL);

  g_return_val_if_fail (db_path != NULL, FALSE);
  g_return_val_if_fail (version <= TAKES_STORE_SCHEMA_VERSION, FALSE);

  self->db_path = g_strdup (db_path);
  if (!open_database (self, TRUE, FALSE, error))
    return FALSE;
  return migrate (self, version, error);
}

const char *
takes_store_get_data_dir (TakesStore *self)
{
  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  return self->data_dir;
}

const char *
takes_store_get_database_path (TakesStore *self)
{
  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  return self->db_path;
}

GPtrArray *
takes_store_get_open_issues (TakesStore *self)
{
  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  return self->open_issues;
}

guint
takes_store_get_schema_version (TakesStore *self)
{
  gint64 version = 0;

  g_return_val_if_fail (TAKES_IS_STORE (self), 0);
  if (!read_pragma_int (self, "user_version", &version, NULL))
    return 0;
  return (guint)version;
}

/* Checks ----------------------------------------------------------------- */

static void
add_issue (GPtrArray *issues, TakesStoreIssueKind kind, gint64 take_id, const char *path, char *message)
{
  TakesStoreIssue *issue = g_new0 (TakesStoreIssue, 1);

  issue->kind = kind;
  issue->take_id = take_id;
  issue->path = g_strdup (path);
  issue->message = message;
  g_ptr_array_add (issues, issue);
}

static gboolean
scan_media (TakesStore *self, GPtrArray *issues, GCancellable *cancellable, GError **error)
{
  /* This runs over every file of the library, so the keys live in one
   * string chunk and the lookup path is built in one reused buffer. */
  g_autoptr (GHashTable) rows = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GStringChunk) keys = g_string_chunk_new (64 * 1024);
  g_autoptr (GString) relative = g_string_new (NULL);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GDir) media = NULL;
  GHashTableIter iter;
  gpointer key;
  const char *project;
  int rc;

  stmt = takes_store_prepare (self, "SELECT media_path FROM takes WHERE media_path IS NOT NULL",
                              _ ("check the library’s files"), error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (rows, g_string_chunk_insert (keys, (const char *)sqlite3_column_text (stmt, 0)));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _ ("check the library’s files"));
      return FALSE;
    }

  media = g_dir_open (self->media_dir, 0, NULL);
  while (media != NULL && (project = g_dir_read_name (media)) != NULL)
    {
      g_autofree char *project_dir = g_build_filename (self->media_dir, project, NULL);
      g_autoptr (GDir) dir = NULL;
      const char *name;
      gsize prefix_len;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (project[0] == '.' || !g_file_test (project_dir, G_FILE_TEST_IS_DIR))
        continue;
      dir = g_dir_open (project_dir, 0, NULL);
      g_string_printf (relative, "media" G_DIR_SEPARATOR_S "%s" G_DIR_SEPARATOR_S, project);
      prefix_len = relative->len;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = NULL;

          g_string_truncate (relative, prefix_len);
          g_string_append (relative, name);
          if (g_hash_table_remove (rows, relative->str))
            continue;
          path = g_build_filename (project_dir, name, NULL);
          if (name[0] == '.' && g_str_has_suffix (name, ".tmp"))
            add_issue (issues, TAKES_STORE_ISSUE_TEMPORARY_FILE, 0, path,
                       g_strdup_printf (_ ("“%s” is a partial copy left by an interrupted write; it can be "
                                           "deleted."),
                                        path));
          else if (name[0] != '.' && g_file_test (path, G_FILE_TEST_IS_REGULAR))
            add_issue (issues, TAKES_STORE_ISSUE_FILE_WITHOUT_TAKE, 0, path,
                       g_strdup_printf (_ ("“%s” is in the library folder but belongs to no take; import it "
                                           "again or move it away."),
                                        path));
        }
    }

  /* What is left in the table was not found under media/. A path outside
   * media/ is tested on its own. */
  g_hash_table_iter_init (&iter, rows);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autofree char *path = g_build_filename (self->data_dir, (const char *)key, NULL);
      g_autoptr (sqlite3_stmt) find = NULL;
      gint64 id = 0;

      if (!g_str_has_prefix (key, "media/") && g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      find = takes_store_prepare (self, "SELECT id FROM takes WHERE media_path = ?",
                                  _ ("check the library’s files"), error);
      if (find == NULL)
        return FALSE;
      sqlite3_bind_text (find, 1, key, -1, SQLITE_STATIC);
      if (sqlite3_step (find) == SQLITE_ROW)
        id = sqlite3_column_int64 (find, 0);
      add_issue (issues, TAKES_STORE_ISSUE_TAKE_WITHOUT_FILE, id, path,
                 g_strdup_printf (_ ("The video of take %" PRId64 " (“%s”) is missing; restore the file "
                                     "or delete the take."),
                                  id, path));
    }
  return TRUE;
}

static gboolean
check_database (TakesStore *self, GPtrArray *issues, GError **error)
{
  static const char *const checks[] = { "PRAGMA integrity_check", "PRAGMA foreign_key_check" };
  int rc;

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      g_autoptr (sqlite3_stmt) stmt = takes_store_prepare (self, checks[i], _ ("check the library"), error);

      if (stmt == NULL)
        return FALSE;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          if (i == 0)
            {
              const char *result = (const char *)sqlite3_column_text (stmt, 0);

              if (g_strcmp0 (result, "ok") != 0)
                add_issue (
                    issues, TAKES_STORE_ISSUE_DATABASE, 0, self->db_path,
                    g_strdup_printf (_ ("The database is damaged: %s; restore it from a backup."), result));
            }
          else
            add_issue (issues, TAKES_STORE_ISSUE_DATABASE, 0, self->db_path,
                       g_strdup_printf (_ ("Row %" PRId64 " of “%s” refers to a row of “%s” that does "
                                           "not exist."),
                                        (gint64)sqlite3_column_int64 (stmt, 1), sqlite3_column_text (stmt, 0),
                                        sqlite3_column_text (stmt, 2)));
        }
      if (rc != SQLITE_DONE)
        {
          set_sqlite_error (error, self->db, rc, _ ("check the library"));
          return FALSE;
        }
    }

  rc = sqlite3_exec (self->db, "INSERT INTO takes_fts(takes_fts, rank) VALUES ('integrity-check', 1)", NULL,
                     NULL, NULL);
  if (rc != SQLITE_OK)
    add_issue (issues, TAKES_STORE_ISSUE_DATABASE, 0, self->db_path,
               g_strdup_printf (_ ("The search index does not match the takes (%s); search results may be "
                                   "wrong."),
                                sqlite3_errmsg (self->db)));
  return TRUE;
}

static gboolean
check_recipes (TakesStore *self, GPtrArray *issues, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
      = takes_store_prepare (self, "SELECT id, recipe FROM takes", _ ("check the library"), error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (TakesRecipe) recipe
          = takes_recipe_new_from_json ((const char *)sqlite3_column_text (stmt, 1), -1, &local_error);

      if (recipe == NULL)
        add_issue (issues, TAKES_STORE_ISSUE_RECIPE, sqlite3_column_int64 (stmt, 0), NULL,
                   g_strdup_printf (_ ("The recipe of take %" PRId64 " cannot be read: %s"),
                                    (gint64)sqlite3_column_int64 (stmt, 0), local_error->message));
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _ ("check the library"));
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
takes_store_check (TakesStore *self, TakesStoreCheckFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) issues = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_store_issue_free);

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if ((flags & TAKES_STORE_CHECK_DATABASE) && !check_database (self, issues, error))
    return NULL;
  if ((flags & TAKES_STORE_CHECK_RECIPES) && !check_recipes (self, issues, error))
    return NULL;
  if ((flags & TAKES_STORE_CHECK_MEDIA) && !scan_media (self, issues, cancellable, error))
    return NULL;
  return g_steal_pointer (&issues);
}

/* Projects ------------------------------------------------------------------ */

gint64
takes_store_get_default_project (TakesStore *self)
{
  g_return_val_if_fail (TAKES_IS_STORE (self), 0);
  return self->default_project;
}

static gboolean
check_name (const char *name, int max_chars, GError **error)
{
  g_autofree char *stripped = NULL;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The name is not valid UTF-8 text; type it again."));
      return FALSE;
    }
  stripped = g_strstrip (g_strdup (name));
  if (stripped[0] == '\0')
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The name is empty; give it a name."));
      return FALSE;
    }
  if (g_utf8_strlen (stripped, -1) > max_chars)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The name is longer than %d characters; shorten it."), max_chars);
      return FALSE;
    }
  return TRUE;
}

static char *
slug_from_name (const char *name)
{
  GString *slug = g_string_new (NULL);

  for (const char *p = name; *p != '\0' && slug->len < 48; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (slug, g_ascii_tolower (*p));
      else if (slug->len > 0 && slug->str[slug->len - 1] != '-')
        g_string_append_c (slug, '-');
    }
  while (slug->len > 0 && slug->str[slug->len - 1] == '-')
    g_string_truncate (slug, slug->len - 1);
  if (slug->len == 0)
    g_string_assign (slug, "project");
  return g_string_free (slug, FALSE);
}

static TakesProject *
project_from_stmt (sqlite3_stmt *stmt)
{
  TakesProject *project = g_new0 (TakesProject, 1);

  project->id = sqlite3_column_int64 (stmt, 0);
  project->slug = column_dup (stmt, 1);
  project->name = column_dup (stmt, 2);
  project->created = sqlite3_column_int64 (stmt, 3);
  return project;
}

TakesProject *
takes_store_create_project (TakesStore *self, const char *name, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autofree char *stripped = NULL;
  g_autofree char *base = NULL;
  g_autofree char *slug = NULL;
  g_autoptr (sqlite3_stmt) insert = NULL;
  TakesProject *project;
  gint64 now = g_get_real_time ();

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (!check_name (name, MAX_NAME_CHARS, error))
    return NULL;
  stripped = g_strstrip (g_strdup (name));
  base = slug_from_name (stripped);
  if (!takes_store_transaction_begin (self, &txn, error))
    return NULL;

  for (guint n = 1;; n++)
    {
      g_autoptr (sqlite3_stmt) find = NULL;
      int rc;

      g_free (slug);
      slug = n == 1 ? g_strdup (base) : g_strdup_printf ("%s-%u", base, n);
      find = takes_store_prepare (self, "SELECT 1 FROM projects WHERE slug = ?", _ ("create the project"),
                                  error);
      if (find == NULL)
        return NULL;
      sqlite3_bind_text (find, 1, slug, -1, SQLITE_STATIC);
      rc = sqlite3_step (find);
      if (rc == SQLITE_DONE)
        break;
      if (rc != SQLITE_ROW)
        {
          set_sqlite_error (error, self->db, rc, _ ("create the project"));
          return NULL;
        }
    }

  insert = takes_store_prepare (
      self, "INSERT INTO projects (slug, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
      _ ("create the project"), error);
  if (insert == NULL)
    return NULL;
  sqlite3_bind_text (insert, 1, slug, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 2, stripped, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 3, now);
  sqlite3_bind_int64 (insert, 4, now);
  if (!takes_store_step_done (self, insert, _ ("create the project"), error)
      || !takes_store_transaction_commit (&txn, error))
    return NULL;

  project = g_new0 (TakesProject, 1);
  project->id = sqlite3_last_insert_rowid (self->db);
  project->slug = g_steal_pointer (&slug);
  project->name = g_steal_pointer (&stripped);
  project->created = now;
  return project;
}

GPtrArray *
takes_store_list_projects (TakesStore *self, GError **error)
{
  g_autoptr (GPtrArray) projects = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_project_free);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self, "SELECT id, slug, name, created_at FROM projects ORDER BY id",
                              _ ("list the projects"), error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (projects, project_from_stmt (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _ ("list the projects"));
      return NULL;
    }
  return g_steal_pointer (&projects);
}

TakesProject *
takes_store_find_project (TakesStore *self, const char *id_slug_or_name, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  guint64 id = 0;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  g_return_val_if_fail (id_slug_or_name != NULL, NULL);

  if (!g_ascii_string_to_unsigned (id_slug_or_name, 10, 1, G_MAXINT64, &id, NULL))
    id = 0;
  stmt = takes_store_prepare (self,
                              "SELECT id, slug, name, created_at FROM projects WHERE id = ?1 OR slug = ?2 "
                              "OR name = ?2 COLLATE NOCASE ORDER BY id = ?1 DESC, slug = ?2 DESC, id LIMIT 1",
                              _ ("find the project"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, (gint64)id);
  sqlite3_bind_text (stmt, 2, id_slug_or_name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return project_from_stmt (stmt);
  if (rc == SQLITE_DONE)
    g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                 _ ("There is no project “%s” in the library; check its name or number."), id_slug_or_name);
  else
    set_sqlite_error (error, self->db, rc, _ ("find the project"));
  return NULL;
}

/* Shots and batches ------------------------------------------------------ */

static TakesShot *
shot_from_stmt (sqlite3_stmt *stmt)
{
  TakesShot *shot = g_new0 (TakesShot, 1);

  shot->id = sqlite3_column_int64 (stmt, 0);
  shot->project_id = sqlite3_column_int64 (stmt, 1);
  shot->position = (guint)sqlite3_column_int64 (stmt, 2);
  shot->title = column_dup (stmt, 3);
  shot->prompt = column_dup (stmt, 4);
  shot->notes = column_dup (stmt, 5);
  shot->duration = sqlite3_column_int64 (stmt, 6);
  shot->chosen_take_id = sqlite3_column_int64 (stmt, 7);
  return shot;
}

#define SHOT_COLUMNS "id, project_id, position, title, prompt, notes, duration_us, chosen_take_id"

static gboolean
require_project (TakesStore *self, gint64 project_id, GError **error)
{
  g_autofree char *slug = project_slug (self, project_id, error);

  return slug != NULL;
}

TakesShot *
takes_store_create_shot (
    TakesStore *self, gint64 project_id, const char *title, const char *prompt, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (sqlite3_stmt) read = NULL;
  gint64 now = g_get_real_time ();

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (project_id <= 0)
    project_id = self->default_project;
  if (title == NULL || !g_utf8_validate (title, -1, NULL) || g_utf8_strlen (title, -1) > MAX_NAME_CHARS)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A shot title must be UTF-8 text of at most %d characters; shorten it."),
                   MAX_NAME_CHARS);
      return NULL;
    }
  if (prompt != NULL
      && (!g_utf8_validate (prompt, -1, NULL) || g_utf8_strlen (prompt, -1) > TAKES_RECIPE_MAX_PROMPT))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A shot prompt must be UTF-8 text of at most %d characters; shorten it."),
                   TAKES_RECIPE_MAX_PROMPT);
      return NULL;
    }
  if (!takes_store_transaction_begin (self, &txn, error) || !require_project (self, project_id, error))
    return NULL;

  insert = takes_store_prepare (
      self,
      "INSERT INTO shots (project_id, position, title, prompt, created_at, updated_at) "
      "VALUES (?1, (SELECT ifnull(max(position), 0) + 1 FROM shots WHERE project_id = ?1), ?2, ?3, "
      "?4, ?4)",
      _ ("create the shot"), error);
  if (insert == NULL)
    return NULL;
  sqlite3_bind_int64 (insert, 1, project_id);
  sqlite3_bind_text (insert, 2, title, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 3, prompt != NULL ? prompt : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 4, now);
  if (!takes_store_step_done (self, insert, _ ("create the shot"), error))
    return NULL;

  read = takes_store_prepare (self, "SELECT " SHOT_COLUMNS " FROM shots WHERE id = ?", _ ("create the shot"),
                              error);
  if (read == NULL)
    return NULL;
  sqlite3_bind_int64 (read, 1, sqlite3_last_insert_rowid (self->db));
  if (sqlite3_step (read) != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, sqlite3_errcode (self->db), _ ("create the shot"));
      return NULL;
    }
  if (!takes_store_transaction_commit (&txn, error))
    return NULL;
  return shot_from_stmt (read);
}

GPtrArray *
takes_store_list_shots (TakesStore *self, gint64 project_id, GError **error)
{
  g_autoptr (GPtrArray) shots = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_shot_free);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self,
                              "SELECT " SHOT_COLUMNS " FROM shots WHERE project_id = ? ORDER BY position, id",
                              _ ("list the shots"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, project_id > 0 ? project_id : self->default_project);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (shots, shot_from_stmt (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _ ("list the shots"));
      return NULL;
    }
  return g_steal_pointer (&shots);
}

static char *
object_to_json (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
  GString *out = g_string_new (NULL);

  takes_json_write_canonical (out, node);
  return g_string_free (out, FALSE);
}

static JsonObject *
object_from_json (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL))
    return json_object_new ();
  root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_dup_object (root) : json_object_new ();
}

static TakesBatch *
batch_from_stmt (sqlite3_stmt *stmt)
{
  TakesBatch *batch = g_new0 (TakesBatch, 1);

  batch->id = sqlite3_column_int64 (stmt, 0);
  batch->project_id = sqlite3_column_int64 (stmt, 1);
  batch->name = column_dup (stmt, 2);
  batch->template_text = column_dup (stmt, 3);
  batch->variables = object_from_json ((const char *)sqlite3_column_text (stmt, 4));
  batch->created = sqlite3_column_int64 (stmt, 5);
  return batch;
}

TakesBatch *
takes_store_create_batch (TakesStore *self,
                          gint64 project_id,
                          const char *name,
                          const char *template_text,
                          JsonObject *variables,
                          GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (JsonObject) empty = json_object_new ();
  g_autofree char *variables_json = NULL;
  TakesBatch *batch;
  gint64 now = g_get_real_time ();

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (project_id <= 0)
    project_id = self->default_project;
  if (name == NULL)
    name = "";
  if (!g_utf8_validate (name, -1, NULL) || g_utf8_strlen (name, -1) > MAX_NAME_CHARS)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A batch name must be UTF-8 text of at most %d characters; shorten it."),
                   MAX_NAME_CHARS);
      return NULL;
    }
  if (template_text == NULL || !g_utf8_validate (template_text, -1, NULL) || template_text[0] == '\0'
      || g_utf8_strlen (template_text, -1) > MAX_TEMPLATE_CHARS)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A batch needs a template of 1 to %d characters; write one."), MAX_TEMPLATE_CHARS);
      return NULL;
    }
  variables_json = object_to_json (variables != NULL ? variables : empty);
  if (!takes_store_transaction_begin (self, &txn, error) || !require_project (self, project_id, error))
    return NULL;

  insert = takes_store_prepare (
      self, "INSERT INTO batches (project_id, name, template, variables, created_at) VALUES (?, ?, ?, ?, ?)",
      _ ("create the batch"), error);
  if (insert == NULL)
    return NULL;
  sqlite3_bind_int64 (insert, 1, project_id);
  sqlite3_bind_text (insert, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 3, template_text, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 4, variables_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 5, now);
  if (!takes_store_step_done (self, insert, _ ("create the batch"), error)
      || !takes_store_transaction_commit (&txn, error))
    return NULL;

  batch = g_new0 (TakesBatch, 1);
  batch->id = sqlite3_last_insert_rowid (self->db);
  batch->project_id = project_id;
  batch->name = g_strdup (name);
  batch->template_text = g_strdup (template_text);
  batch->variables = object_from_json (variables_json);
  batch->created = now;
  return batch;
}

GPtrArray *
takes_store_list_batches (TakesStore *self, gint64 project_id, GError **error)
{
  g_autoptr (GPtrArray) batches = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_batch_free);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self,
                              "SELECT id, project_id, name, template, variables, created_at FROM batches "
                              "WHERE project_id = ? ORDER BY id",
                              _ ("list the batches"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, project_id > 0 ? project_id : self->default_project);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (batches, batch_from_stmt (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _ ("list the batches"));
      return NULL;
    }
  return g_steal_pointer (&batches);
}

/* Search text ------------------------------------------------------------ */

/* Chinese, Japanese and Korean are written without spaces between words,
 * so a word tokenizer sees a whole sentence as one token. */
static gboolean
is_unspaced_script (gunichar c)
{
  switch (g_unichar_get_script (c))
    {
      case G_UNICODE_SCRIPT_HAN:
      case G_UNICODE_SCRIPT_HIRAGANA:
      case G_UNICODE_SCRIPT_KATAKANA:
      case G_UNICODE_SCRIPT_HANGUL:
      case G_UNICODE_SCRIPT_BOPOMOFO:
        return TRUE;
      default:
        return FALSE;
    }
}

/* Writes @text for the index: other scripts unchanged (the tokenizer splits
 * them into words), each run of unspaced script as overlapping pairs plus its
 * last character. "一只橘猫 at dawn" becomes "一只 只橘 橘猫 猫 at dawn": every
 * character starts a pair or is the last one, so one character is a prefix
 * search, two are one token and longer words are a phrase of pairs. */
static void
append_search_text (GString *out, const char *text)
{
  gunichar previous = 0;
  guint run = 0;

  if (text == NULL)
    return;
  if (out->len > 0)
    g_string_append_c (out, '\n');
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_unspaced_script (c))
        {
          g_string_append_c (out, ' ');
          if (run > 0)
            {
              g_string_append_unichar (out, previous);
              g_string_append_unichar (out, c);
            }
          previous = c;
          run++;
          continue;
        }
      if (run > 0)
        {
          g_string_append_c (out, ' ');
          g_string_append_unichar (out, previous);
          g_string_append_c (out, ' ');
          run = 0;
        }
      g_string_append_unichar (out, c);
    }
  if (run > 0)
    {
      g_string_append_c (out, ' ');
      g_string_append_unichar (out, previous);
    }
}

static char *
search_prompts_for (TakesTake *take)
{
  GString *out = g_string_new (NULL);

  append_search_text (out, takes_take_get_prompt (take));
  append_search_text (out, takes_take_get_optimized_prompt (take));
  append_search_text (out, takes_take_get_negative_prompt (take));
  return g_string_free (out, FALSE);
}

static char *
search_notes_for (const char *notes)
{
  GString *out = g_string_new (NULL);

  append_search_text (out, notes);
  return g_string_free (out, FALSE);
}

/* Adding and updating takes ------------------------------------------------ */

static gboolean
check_take_text (TakesTake *take, GError **error)
{
  const char *texts[] = { takes_take_get_prompt (take), takes_take_get_optimized_prompt (take),
                          takes_take_get_negative_prompt (take) };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    if (texts[i] != NULL
        && (!g_utf8_validate (texts[i], -1, NULL) || g_utf8_strlen (texts[i], -1) > TAKES_RECIPE_MAX_PROMPT))
      {
        g_set_error (
            error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
            _ ("A prompt of the take is not UTF-8 text or is longer than %d characters; shorten it."),
            TAKES_RECIPE_MAX_PROMPT);
        return FALSE;
      }
  return TRUE;
}

/* The shot and batch must exist and belong to the take's project, and the
 * parent must exist and not descend from the take itself. */
static gboolean
check_links (TakesStore *self,
             gint64 take_id,
             gint64 project_id,
             gint64 shot_id,
             gint64 batch_id,
             gint64 parent_id,
             GError **error)
{
  static const struct
  {
    const char *table;
    const char *label;
  } owned[] = { { "shots", N_ ("shot") }, { "batches", N_ ("batch") } };
  gint64 ids[] = { shot_id, batch_id };

  for (guint i = 0; i < G_N_ELEMENTS (owned); i++)
    {
      g_autofree char *sql = NULL;
      g_autoptr (sqlite3_stmt) stmt = NULL;
      int rc;

      if (ids[i] <= 0)
        continue;
      sql = g_strdup_printf ("SELECT project_id FROM %s WHERE id = ?", owned[i].table);
      stmt = takes_store_prepare (self, sql, _ ("read the library"), error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, ids[i]);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_DONE)
        {
          g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                       _ ("There is no %s %" PRId64 " in the library; check the number."), _ (owned[i].label),
                       ids[i]);
          return FALSE;
        }
      if (rc != SQLITE_ROW)
        {
          set_sqlite_error (error, self->db, rc, _ ("read the library"));
          return FALSE;
        }
      if (sqlite3_column_int64 (stmt, 0) != project_id)
        {
          g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                       _ ("The %s %" PRId64 " belongs to another project; choose one of this project."),
                       _ (owned[i].label), ids[i]);
          return FALSE;
        }
    }

  if (parent_id > 0)
    {
      g_autoptr (sqlite3_stmt) stmt = NULL;
      int found = takes_store_row_exists (self, "takes", parent_id, error);

      if (found < 0)
        return FALSE;
      if (found == 0)
        {
          g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                       _ ("There is no take %" PRId64 " to use as the parent; check the number."), parent_id);
          return FALSE;
        }
      if (take_id <= 0)
        return TRUE;
      stmt = takes_store_prepare (
          self,
          "WITH RECURSIVE up(id) AS (SELECT ?1 UNION SELECT t.parent_id FROM takes AS t JOIN up "
          "ON t.id = up.id WHERE t.parent_id IS NOT NULL) SELECT 1 FROM up WHERE id = ?2",
          _ ("read the library"), error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, parent_id);
      sqlite3_bind_int64 (stmt, 2, take_id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                       _ ("Take %" PRId64 " cannot be the parent of take %" PRId64
                          ", which it comes from; choose another parent."),
                       parent_id, take_id);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean insert_tags (TakesStore *self, gint64 take_id, const char *const *tags, GError **error);

/* The take columns that INSERT and UPDATE share, bound from parameter @first
 * on in the order shot, batch, parent, recipe … is_tiny. */
static void
bind_take_columns (sqlite3_stmt *stmt, int first, TakesTake *take, const char *variables)
{
  bind_id_or_null (stmt, first, takes_take_get_shot_id (take));
  bind_id_or_null (stmt, first + 1, takes_take_get_batch_id (take));
  bind_id_or_null (stmt, first + 2, takes_take_get_parent_id (take));
  sqlite3_bind_text (stmt, first + 3, takes_take_get_recipe_json (take), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, first + 4, takes_take_get_cache_key (take), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, first + 5, takes_take_get_backend (take), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, first + 6, takes_take_get_model (take), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, first + 7, takes_take_status_to_string (takes_take_get_status (take)), -1,
                     SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, first + 8, takes_take_get_width (take));
  sqlite3_bind_int64 (stmt, first + 9, takes_take_get_height (take));
  sqlite3_bind_int64 (stmt, first + 10, takes_take_get_frames (take));
  sqlite3_bind_double (stmt, first + 11, takes_take_get_fps (take));
  sqlite3_bind_int64 (stmt, first + 12, takes_take_get_duration (take));
  sqlite3_bind_double (stmt, first + 13, takes_take_get_seconds_spent (take));
  sqlite3_bind_double (stmt, first + 14, takes_take_get_cost (take));
  sqlite3_bind_text (stmt, first + 15, takes_take_get_prompt (take), -1, SQLITE_STATIC);
  bind_text_or_null (stmt, first + 16, takes_take_get_optimized_prompt (take));
  sqlite3_bind_text (stmt, first + 17, takes_take_get_negative_prompt (take), -1, SQLITE_STATIC);
  bind_text_or_null (stmt, first + 18, variables);
  sqlite3_bind_int (stmt, first + 19, takes_take_get_is_tiny (take) ? 1 : 0);
}

static const char insert_take_sql[] = "INSERT INTO takes (project_id, shot_id, batch_id, parent_id, recipe, "
                                      "cache_key, backend, model, status, "
                                      "width, height, frames, fps, duration_us, seconds_spent, cost, prompt, "
                                      "optimized_prompt, negative_prompt, "
                                      "variables, is_tiny, created_at, updated_at, search_prompts) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                                      "?15, ?16, ?17, ?18, ?19, ?20, ?21, "
                                      "?22, ?22, ?23)";

static gboolean
insert_take (
    TakesStore *self, sqlite3_stmt *stmt, TakesTake *take, gint64 project_id, gint64 now, GError **error)
{
  g_autofree char *variables = takes_take_dup_variables_json (take);
  g_autofree char *search = search_prompts_for (take);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  sqlite3_bind_int64 (stmt, 1, project_id);
  bind_take_columns (stmt, 2, take, variables);
  sqlite3_bind_int64 (stmt, 22, now);
  sqlite3_bind_text (stmt, 23, search, -1, SQLITE_STATIC);
  return takes_store_step_done (self, stmt, _ ("add the take"), error);
}

/* Inserts @take and its tags as a new row, its id in @id. */
static gboolean
insert_new_take (TakesStore *self, TakesTake *take, gint64 project_id, gint64 now, gint64 *id, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = takes_store_prepare (self, insert_take_sql, _ ("add the take"), error);

  if (insert == NULL || !insert_take (self, insert, take, project_id, now, error))
    return FALSE;
  *id = sqlite3_last_insert_rowid (self->db);
  return insert_tags (self, *id, takes_take_get_tags (take), error);
}

gboolean
takes_store_add_take (
    TakesStore *self, TakesTake *take, const char *media_file, TakesMediaTransfer transfer, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_auto (PlacedMedia) placed = { 0 };
  g_autofree char *slug = NULL;
  gint64 project_id;
  gint64 now = g_get_real_time ();
  gint64 id;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (TAKES_IS_TAKE (take), FALSE);
  g_return_val_if_fail (takes_take_get_id (take) == 0, FALSE);

  project_id
      = takes_take_get_project_id (take) > 0 ? takes_take_get_project_id (take) : self->default_project;
  if (!check_take_text (take, error))
    return FALSE;
  if (media_file != NULL && !g_file_test (media_file, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *display = g_filename_display_name (media_file);

      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                   _ ("“%s” is not a file that can be read; check the path."), display);
      return FALSE;
    }
  if (!takes_store_transaction_begin (self, &txn, error))
    return FALSE;
  slug = project_slug (self, project_id, error);
  if (slug == NULL
      || !check_links (self, 0, project_id, takes_take_get_shot_id (take), takes_take_get_batch_id (take),
                       takes_take_get_parent_id (take), error))
    return FALSE;

  if (!insert_new_take (self, take, project_id, now, &id, error))
    return FALSE;

  if (media_file != NULL)
    {
      g_autoptr (sqlite3_stmt) update = NULL;

      if (!place_media (self, slug, id, media_file, transfer, &placed, error))
        return FALSE;
      update = takes_store_prepare (self, "UPDATE takes SET media_path = ? WHERE id = ?", _ ("add the take"),
                                    error);
      if (update == NULL)
        {
          placed_media_undo (&placed);
          return FALSE;
        }
      sqlite3_bind_text (update, 1, placed.relative, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (update, 2, id);
      if (!takes_store_step_done (self, update, _ ("add the take"), error))
        {
          placed_media_undo (&placed);
          return FALSE;
        }
    }

  if (!takes_store_transaction_commit (&txn, error))
    {
      placed_media_undo (&placed);
      return FALSE;
    }
  /* A file that crossed filesystems was copied; the move is finished by
   * removing the original only now that the row holds the copy. */
  if (media_file != NULL && transfer == TAKES_MEDIA_MOVE && placed.source == NULL)
    g_unlink (media_file);
  takes_take_set_stored (take, id, project_id, placed.relative, now, now);
  return TRUE;
}

gboolean
takes_store_add_takes (TakesStore *self, GPtrArray *takes, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (GArray) ids = NULL;
  gint64 checked_project = 0;
  gint64 now = g_get_real_time ();

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (takes != NULL, FALSE);

  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), takes->len);
  if (!takes_store_transaction_begin (self, &txn, error))
    return FALSE;
  insert = takes_store_prepare (self, insert_take_sql, _ ("add the takes"), error);
  if (insert == NULL)
    return FALSE;
  for (guint i = 0; i < takes->len; i++)
    {
      TakesTake *take = g_ptr_array_index (takes, i);
      gint64 project_id
          = takes_take_get_project_id (take) > 0 ? takes_take_get_project_id (take) : self->default_project;
      gint64 id;

      g_return_val_if_fail (takes_take_get_id (take) == 0, FALSE);
      if (!check_take_text (take, error))
        return FALSE;
      if (project_id != checked_project)
        {
          if (!require_project (self, project_id, error))
            return FALSE;
          checked_project = project_id;
        }
      if ((takes_take_get_shot_id (take) > 0 || takes_take_get_batch_id (take) > 0
           || takes_take_get_parent_id (take) > 0)
          && !check_links (self, 0, project_id, takes_take_get_shot_id (take), takes_take_get_batch_id (take),
                           takes_take_get_parent_id (take), error))
        return FALSE;
      if (!insert_take (self, insert, take, project_id, now, error))
        return FALSE;
      id = sqlite3_last_insert_rowid (self->db);
      if (!insert_tags (self, id, takes_take_get_tags (take), error))
        return FALSE;
      g_array_append_val (ids, id);
    }
  if (!takes_store_transaction_commit (&txn, error))
    return FALSE;
  for (guint i = 0; i < takes->len; i++)
    {
      TakesTake *take = g_ptr_array_index (takes, i);
      gint64 project_id
          = takes_take_get_project_id (take) > 0 ? takes_take_get_project_id (take) : self->default_project;

      takes_take_set_stored (take, g_array_index (ids, gint64, i), project_id, NULL, now, now);
    }
  return TRUE;
}

gboolean
takes_store_attach_media (
    TakesStore *self, gint64 take_id, const char *media_file, TakesMediaTransfer transfer, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_auto (PlacedMedia) placed = { 0 };
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (sqlite3_stmt) update = NULL;
  g_autofree char *slug = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (media_file != NULL, FALSE);

  if (!g_file_test (media_file, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *display = g_filename_display_name (media_file);

      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
                   _ ("“%s” is not a file that can be read; check the path."), display);
      return FALSE;
    }
  if (!takes_store_transaction_begin (self, &txn, error))
    return FALSE;
  find = takes_store_prepare (
      self,
      "SELECT p.slug, t.media_path FROM takes AS t JOIN projects AS p ON p.id = t.project_id "
      "WHERE t.id = ?",
      _ ("read the library"), error);
  if (find == NULL)
    return FALSE;
  sqlite3_bind_int64 (find, 1, take_id);
  rc = sqlite3_step (find);
  if (rc == SQLITE_DONE)
    {
      set_take_not_found (error, take_id);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _ ("read the library"));
      return FALSE;
    }
  if (sqlite3_column_type (find, 1) != SQLITE_NULL)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("Take %" PRId64 " already has a video; make a new take for another one."), take_id);
      return FALSE;
    }
  slug = column_dup (find, 0);
  if (!place_media (self, slug, take_id, media_file, transfer, &placed, error))
    return FALSE;
  update = takes_store_prepare (self, "UPDATE takes SET media_path = ?, updated_at = ? WHERE id = ?",
                                _ ("save the video"), error);
  if (update == NULL)
    {
      placed_media_undo (&placed);
      return FALSE;
    }
  sqlite3_bind_text (update, 1, placed.relative, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (update, 2, g_get_real_time ());
  sqlite3_bind_int64 (update, 3, take_id);
  if (!takes_store_step_done (self, update, _ ("save the video"), error)
      || !takes_store_transaction_commit (&txn, error))
    {
      placed_media_undo (&placed);
      return FALSE;
    }
  if (transfer == TAKES_MEDIA_MOVE && placed.source == NULL)
    g_unlink (media_file);
  return TRUE;
}

gboolean
takes_store_update_take (TakesStore *self, TakesTake *take, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (sqlite3_stmt) read = NULL;
  g_autofree char *variables = NULL;
  g_autofree char *search = NULL;
  gint64 id;
  gint64 project_id = 0;
  gint64 now = g_get_real_time ();
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (TAKES_IS_TAKE (take), FALSE);

  id = takes_take_get_id (take);
  if (!check_take_text (take, error) || !takes_store_transaction_begin (self, &txn, error))
    return FALSE;
  read = takes_store_prepare (self, "SELECT project_id, media_path, created_at FROM takes WHERE id = ?",
                              _ ("read the library"), error);
  if (read == NULL)
    return FALSE;
  sqlite3_bind_int64 (read, 1, id);
  rc = sqlite3_step (read);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        set_take_not_found (error, id);
      else
        set_sqlite_error (error, self->db, rc, _ ("read the library"));
      return FALSE;
    }
  project_id = sqlite3_column_int64 (read, 0);
  if (!check_links (self, id, project_id, takes_take_get_shot_id (take), takes_take_get_batch_id (take),
                    takes_take_get_parent_id (take), error))
    return FALSE;

  variables = takes_take_dup_variables_json (take);
  search = search_prompts_for (take);
  stmt = takes_store_prepare (
      self,
      "UPDATE takes SET shot_id = ?1, batch_id = ?2, parent_id = ?3, recipe = ?4, cache_key = ?5, "
      "backend = ?6, model = ?7, status = ?8, width = ?9, height = ?10, frames = ?11, fps = ?12, "
      "duration_us = ?13, seconds_spent = ?14, cost = ?15, prompt = ?16, optimized_prompt = ?17, "
      "negative_prompt = ?18, variables = ?19, is_tiny = ?20, updated_at = ?21, search_prompts = ?23 "
      "WHERE id = ?22",
      _ ("update the take"), error);
  if (stmt == NULL)
    return FALSE;
  bind_take_columns (stmt, 1, take, variables);
  sqlite3_bind_int64 (stmt, 21, now);
  sqlite3_bind_int64 (stmt, 22, id);
  sqlite3_bind_text (stmt, 23, search, -1, SQLITE_STATIC);
  if (!takes_store_step_done (self, stmt, _ ("update the take"), error)
      || !takes_store_transaction_commit (&txn, error))
    return FALSE;
  takes_take_set_stored (take, id, project_id, (const char *)sqlite3_column_text (read, 1),
                         sqlite3_column_int64 (read, 2), now);
  return TRUE;
}

/* Reading takes -------------------------------------------------------------- */

TakesTake *
takes_store_get_take (TakesStore *self, gint64 take_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self, "SELECT " TAKE_COLUMNS " FROM takes AS t WHERE t.id = ?",
                              _ ("read the take"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, take_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return take_from_stmt (stmt);
  if (rc == SQLITE_DONE)
    set_take_not_found (error, take_id);
  else
    set_sqlite_error (error, self->db, rc, _ ("read the take"));
  return NULL;
}

TakesTake *
takes_store_find_cached (TakesStore *self, const char *cache_key, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  g_return_val_if_fail (cache_key != NULL, NULL);

  stmt = takes_store_prepare (self,
                              "SELECT " TAKE_COLUMNS
                              " FROM takes AS t WHERE t.cache_key = ? AND t.status = 'done' "
                              "AND t.media_path IS NOT NULL ORDER BY t.id DESC LIMIT 1",
                              _ ("look up the cache"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, cache_key, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return take_from_stmt (stmt);
  if (rc != SQLITE_DONE)
    set_sqlite_error (error, self->db, rc, _ ("look up the cache"));
  return NULL;
}

/* One value bound to a query parameter. */
typedef struct
{
  gboolean is_text;
  gint64 number;
  char *text;
} Binding;

static void
binding_clear (gpointer data)
{
  g_free (((Binding *)data)->text);
}

static void
bind_number (GArray *bindings, gint64 number)
{
  Binding b = { FALSE, number, NULL };

  g_array_append_val (bindings, b);
}

static void
bind_text (GArray *bindings, char *text)
{
  Binding b = { TRUE, 0, text };

  g_array_append_val (bindings, b);
}

/* Splits search text into words, keeping "quoted phrases" together. */
static GPtrArray *
split_search (const char *text)
{
  GPtrArray *terms = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;

  while (*p != '\0')
    {
      const char *start;
      gunichar end_char = 0;

      while (*p != '\0' && g_unichar_isspace (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (*p == '\0')
        break;
      if (*p == '"')
        {
          end_char = '"';
          p++;
        }
      start = p;
      while (*p != '\0' && (end_char != 0 ? *p != '"' : !g_unichar_isspace (g_utf8_get_char (p))))
        p = g_utf8_next_char (p);
      if (p > start)
        g_ptr_array_add (terms, g_strndup (start, (gsize)(p - start)));
      if (end_char != 0 && *p == '"')
        p++;
    }
  return terms;
}

static void
append_clause (GString *match, const char *clause)
{
  if (match->len > 0)
    g_string_append (match, " AND ");
  g_string_append (match, clause);
}

/* A quoted FTS5 string: double quotes are doubled, nothing else is syntax. */
static void
append_quoted (GString *out, const char *text, gssize length)
{
  g_string_append_c (out, '"');
  for (const char *p = text; length < 0 ? *p != '\0' : p < text + length; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* Turns one search word into index clauses, cut the way
 * append_search_text() cuts the text: alphabetic words match as prefixes
 * ("fox" finds "foxes"), one unspaced character as a prefix of the pairs,
 * two or more as the phrase of their pairs. Punctuation alone is ignored. */
static void
append_term_clauses (GString *match, const char *term)
{
  const char *p = term;

  while (*p != '\0')
    {
      const char *start = p;
      gboolean unspaced = is_unspaced_script (g_utf8_get_char (p));
      gboolean has_word_char = FALSE;
      g_autoptr (GString) clause = g_string_new (NULL);

      while (*p != '\0' && is_unspaced_script (g_utf8_get_char (p)) == unspaced)
        {
          has_word_char |= g_unichar_isalnum (g_utf8_get_char (p));
          p = g_utf8_next_char (p);
        }

      if (!unspaced)
        {
          if (!has_word_char)
            continue;
          append_quoted (clause, start, p - start);
          g_string_append_c (clause, '*');
        }
      else if (g_utf8_next_char (start) == p)
        {
          append_quoted (clause, start, p - start);
          g_string_append_c (clause, '*');
        }
      else
        {
          GString *pairs = g_string_new (NULL);

          for (const char *c = start; g_utf8_next_char (c) < p; c = g_utf8_next_char (c))
            {
              const char *next = g_utf8_next_char (c);

              if (pairs->len > 0)
                g_string_append_c (pairs, ' ');
              g_string_append_len (pairs, c, g_utf8_next_char (next) - c);
            }
          append_quoted (clause, pairs->str, -1);
          g_string_free (pairs, TRUE);
        }
      append_clause (match, clause->str);
    }
}

static gboolean
check_query (const TakesTakeQuery *query, GError **error)
{
  if (query->text != NULL && !g_utf8_validate (query->text, -1, NULL))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The search text is not valid UTF-8; type it again."));
      return FALSE;
    }
  if (query->text != NULL && strlen (query->text) > 1000)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The search text is longer than 1000 bytes; search for fewer words."));
      return FALSE;
    }
  if (query->min_rating > TAKES_MAX_RATING)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A rating goes from 0 to %d stars; %u is not one of them."), TAKES_MAX_RATING,
                   query->min_rating);
      return FALSE;
    }
  return TRUE;
}

static void
append_mask (GString *where, const char *column, guint mask, guint n_values, const char *(*to_string) (int))
{
  gboolean first = TRUE;

  if (mask == 0)
    return;
  g_string_append_printf (where, " AND %s IN (", column);
  for (guint v = 0; v < n_values; v++)
    if (mask & (1u << v))
      {
        g_string_append_printf (where, "%s'%s'", first ? "" : ", ", to_string ((int)v));
        first = FALSE;
      }
  if (first)
    g_string_append (where, "NULL");
  g_string_append_c (where, ')');
}

static const char *
status_name (int value)
{
  return takes_take_status_to_string ((TakesTakeStatus)value);
}

static const char *
decision_name (int value)
{
  return takes_decision_to_string ((TakesDecision)value);
}

/* Builds "FROM … WHERE …" for @query. A search drives the query from the
 * full-text index, so a page of the newest matches is read without visiting
 * the other matches. */
static char *
build_from_where (const TakesTakeQuery *query, GArray *bindings, gboolean *uses_fts)
{
  g_autoptr (GString) where = g_string_new (NULL);
  g_autoptr (GString) match = g_string_new (NULL);

  if (query->text != NULL)
    {
      g_autoptr (GPtrArray) terms = split_search (query->text);

      for (guint i = 0; i < terms->len; i++)
        append_term_clauses (match, g_ptr_array_index (terms, i));
    }

  if (query->project_id > 0)
    {
      g_string_append (where, " AND t.project_id = ?");
      bind_number (bindings, query->project_id);
    }
  if (query->shot_id > 0)
    {
      g_string_append (where, " AND t.shot_id = ?");
      bind_number (bindings, query->shot_id);
    }
  if (query->batch_id > 0)
    {
      g_string_append (where, " AND t.batch_id = ?");
      bind_number (bindings, query->batch_id);
    }
  if (query->parent_id > 0)
    {
      g_string_append (where, " AND t.parent_id = ?");
      bind_number (bindings, query->parent_id);
    }
  if (query->tag != NULL)
    {
      g_string_append (where, " AND EXISTS (SELECT 1 FROM tags AS g WHERE g.take_id = t.id AND g.name = ?)");
      bind_text (bindings, g_strstrip (g_strdup (query->tag)));
    }
  if (query->backend != NULL)
    {
      g_string_append (where, " AND t.backend = ?");
      bind_text (bindings, g_strdup (query->backend));
    }
  if (query->min_rating > 0)
    {
      g_string_append (where, " AND t.rating >= ?");
      bind_number (bindings, query->min_rating);
    }
  append_mask (where, "t.status", query->status_mask, TAKES_TAKE_STATUS_CANCELLED + 1, status_name);
  append_mask (where, "t.decision", query->decision_mask, TAKES_DECISION_REJECTED + 1, decision_name);

  *uses_fts = match->len > 0;
  if (*uses_fts)
    {
      /* The MATCH parameter comes first in the text, so it is bound first. */
      Binding b = { TRUE, 0, g_strdup (match->str) };

      g_array_prepend_val (bindings, b);
      return g_strdup_printf (
          " FROM takes_fts JOIN takes AS t ON t.id = takes_fts.rowid WHERE takes_fts MATCH ?%s", where->str);
    }
  return g_strdup_printf (" FROM takes AS t WHERE 1%s", where->str);
}

static void
bind_all (sqlite3_stmt *stmt, GArray *bindings)
{
  for (guint i = 0; i < bindings->len; i++)
    {
      Binding *b = &g_array_index (bindings, Binding, i);

      if (b->is_text)
        sqlite3_bind_text (stmt, (int)i + 1, b->text, -1, SQLITE_STATIC);
      else
        sqlite3_bind_int64 (stmt, (int)i + 1, b->number);
    }
}

void
takes_take_cursor_set (TakesTakeCursor *cursor, TakesTakeSort sort, TakesTake *take)
{
  g_return_if_fail (cursor != NULL);
  g_return_if_fail (TAKES_IS_TAKE (take));

  cursor->id = takes_take_get_id (take);
  switch (sort)
    {
      case TAKES_TAKE_SORT_UPDATED:
        cursor->key = takes_take_get_updated (take);
        break;
      case TAKES_TAKE_SORT_RATING:
        cursor->key = takes_take_get_rating (take);
        break;
      case TAKES_TAKE_SORT_DURATION:
        cursor->key = takes_take_get_duration (take);
        break;
      case TAKES_TAKE_SORT_CREATED:
      default:
        cursor->key = cursor->id;
        break;
    }
}

/* Appends @from's bindings to @to, which then owns their text. */
static void
move_bindings (GArray *to, GArray *from)
{
  for (guint i = 0; i < from->len; i++)
    {
      Binding *b = &g_array_index (from, Binding, i);

      g_array_append_vals (to, b, 1);
      b->text = NULL;
    }
}

/* The column a sort orders by before the id, or NULL for creation order,
 * which is the id itself. */
static const char *
sort_column (TakesTakeSort sort)
{
  switch (sort)
    {
      case TAKES_TAKE_SORT_UPDATED:
        return "t.updated_at";
      case TAKES_TAKE_SORT_RATING:
        return "t.rating";
      case TAKES_TAKE_SORT_DURATION:
        return "t.duration_us";
      case TAKES_TAKE_SORT_CREATED:
      default:
        return NULL;
    }
}

GPtrArray *
takes_store_query_takes_after (TakesStore *self,
                               const TakesTakeQuery *query,
                               const TakesTakeCursor *after,
                               GError **error)
{
  g_autoptr (GArray) bindings = g_array_new (FALSE, TRUE, sizeof (Binding));
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *from_where = NULL;
  g_autofree char *sql = NULL;
  const char *column;
  const char *dir;
  const char *beyond;
  gboolean uses_fts = FALSE;
  int limit;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);

  if (!check_query (query, error))
    return NULL;
  g_array_set_clear_func (bindings, binding_clear);
  from_where = build_from_where (query, bindings, &uses_fts);

  dir = query->ascending ? "ASC" : "DESC";
  beyond = query->ascending ? ">" : "<";
  limit = query->limit > 0 ? (int)MIN (query->limit, (guint)G_MAXINT) : -1;
  column = sort_column (query->sort);
  if (column != NULL && after != NULL)
    {
      /* Two seeks of the (key, rowid) index: the takes after the cursor
       * that share its key, then those beyond its key. The row value
       * (key, id) < (?, ?) would say it in one, but SQLite 3.40 then
       * constrains the key alone and walks every take with an equal key,
       * most of the library when few takes are rated. */
      g_autoptr (GArray) beyond_bindings = g_array_new (FALSE, TRUE, sizeof (Binding));
      g_autofree char *beyond_from_where = NULL;
      gint64 arm_limit = limit < 0 ? -1 : (gint64)limit + query->offset;

      g_array_set_clear_func (beyond_bindings, binding_clear);
      bind_number (bindings, after->key);
      bind_number (bindings, after->id);
      beyond_from_where = build_from_where (query, beyond_bindings, &uses_fts);
      bind_number (beyond_bindings, after->key);
      move_bindings (bindings, beyond_bindings);
      sql = g_strdup_printf (
          "SELECT * FROM (SELECT " TAKE_COLUMNS "%s AND %s = ? AND t.id %s ? ORDER BY t.id %s "
          "LIMIT %" G_GINT64_FORMAT ") UNION ALL SELECT * FROM (SELECT " TAKE_COLUMNS
          "%s AND %s %s ? ORDER BY %s %s, t.id %s LIMIT %" G_GINT64_FORMAT
          ") ORDER BY %s %s, id %s LIMIT %d OFFSET %u",
          from_where, column, beyond, dir, arm_limit, beyond_from_where, column, beyond, column, dir, dir,
          arm_limit, column + strlen ("t."), dir, dir, limit, query->offset);
    }
  else
    {
      g_autofree char *order_by = NULL;
      g_autofree char *keyset = NULL;

      if (column != NULL)
        order_by = g_strdup_printf ("%s %s, t.id %s", column, dir, dir);
      else
        {
          /* Ordering by the index's own rowid lets it stop after one page. */
          const char *id = uses_fts ? "takes_fts.rowid" : "t.id";

          order_by = g_strdup_printf ("%s %s", id, dir);
          if (after != NULL)
            {
              keyset = g_strdup_printf (" AND %s %s ?", id, beyond);
              bind_number (bindings, after->id);
            }
        }
      sql = g_strdup_printf ("SELECT " TAKE_COLUMNS "%s%s ORDER BY %s LIMIT %d OFFSET %u", from_where,
                             keyset != NULL ? keyset : "", order_by, limit, query->offset);
    }

  stmt = takes_store_prepare (self, sql, _ ("search the takes"), error);
  if (stmt == NULL)
    return NULL;
  bind_all (stmt, bindings);
  return collect_takes (self, stmt, _ ("search the takes"), error);
}

GPtrArray *
takes_store_query_takes (TakesStore *self, const TakesTakeQuery *query, GError **error)
{
  return takes_store_query_takes_after (self, query, NULL, error);
}

gboolean
takes_store_count_takes (TakesStore *self, const TakesTakeQuery *query, guint64 *count, GError **error)
{
  g_autoptr (GArray) bindings = g_array_new (FALSE, TRUE, sizeof (Binding));
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *from_where = NULL;
  g_autofree char *sql = NULL;
  gboolean uses_fts = FALSE;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (query != NULL, FALSE);
  g_return_val_if_fail (count != NULL, FALSE);

  if (!check_query (query, error))
    return FALSE;
  g_array_set_clear_func (bindings, binding_clear);
  from_where = build_from_where (query, bindings, &uses_fts);
  sql = g_strdup_printf ("SELECT count(*)%s", from_where);
  stmt = takes_store_prepare (self, sql, _ ("count the takes"), error);
  if (stmt == NULL)
    return FALSE;
  bind_all (stmt, bindings);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _ ("count the takes"));
      return FALSE;
    }
  *count = (guint64)sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

GPtrArray *
takes_store_get_children (TakesStore *self, gint64 take_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (!require_take (self, take_id, error))
    return NULL;
  stmt = takes_store_prepare (self,
                              "SELECT " TAKE_COLUMNS " FROM takes AS t WHERE t.parent_id = ? ORDER BY t.id",
                              _ ("read the lineage"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, take_id);
  return collect_takes (self, stmt, _ ("read the lineage"), error);
}

GPtrArray *
takes_store_get_ancestors (TakesStore *self, gint64 take_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (!require_take (self, take_id, error))
    return NULL;
  /* UNION (not UNION ALL) stops at a cycle, should a damaged file hold one. */
  stmt = takes_store_prepare (
      self,
      "WITH RECURSIVE up(id, depth) AS ("
      "  SELECT parent_id, 1 FROM takes WHERE id = ?1 AND parent_id IS NOT NULL"
      "  UNION SELECT t.parent_id, up.depth + 1 FROM takes AS t JOIN up ON t.id = up.id"
      "    WHERE t.parent_id IS NOT NULL AND t.parent_id <> ?1 AND up.depth < 10000) "
      "SELECT " TAKE_COLUMNS " FROM up JOIN takes AS t ON t.id = up.id ORDER BY up.depth",
      _ ("read the lineage"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, take_id);
  return collect_takes (self, stmt, _ ("read the lineage"), error);
}

/* Judging takes -------------------------------------------------------------- */

/* Runs an UPDATE of one take that binds ?1 to the id; a missing take is an
 * error rather than a silent no-op. */
static gboolean
update_one (TakesStore *self, sqlite3_stmt *stmt, gint64 take_id, const char *what, GError **error)
{
  sqlite3_bind_int64 (stmt, 1, take_id);
  if (!takes_store_step_done (self, stmt, what, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      set_take_not_found (error, take_id);
      return FALSE;
    }
  return TRUE;
}

gboolean
takes_store_set_rating (TakesStore *self, gint64 take_id, guint rating, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (rating > TAKES_MAX_RATING)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A rating goes from 0 to %d stars; %u is not one of them."), TAKES_MAX_RATING, rating);
      return FALSE;
    }
  stmt = takes_store_prepare (self, "UPDATE takes SET rating = ?2, updated_at = ?3 WHERE id = ?1",
                              _ ("rate the take"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 2, rating);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  return update_one (self, stmt, take_id, _ ("rate the take"), error);
}

gboolean
takes_store_set_decision (TakesStore *self, gint64 take_id, TakesDecision decision, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (takes_decision_to_string (decision) == NULL)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A take is approved, rejected or undecided; %d is none of these."), (int)decision);
      return FALSE;
    }
  stmt = takes_store_prepare (self, "UPDATE takes SET decision = ?2, updated_at = ?3 WHERE id = ?1",
                              _ ("decide on the take"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 2, takes_decision_to_string (decision), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  return update_one (self, stmt, take_id, _ ("decide on the take"), error);
}

gboolean
takes_store_set_notes (TakesStore *self, gint64 take_id, const char *notes, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *search = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (notes == NULL)
    notes = "";
  if (!g_utf8_validate (notes, -1, NULL))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The notes are not valid UTF-8 text; type them again."));
      return FALSE;
    }
  if (g_utf8_strlen (notes, -1) > MAX_NOTES_CHARS)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The notes have more than %d characters; shorten them."), MAX_NOTES_CHARS);
      return FALSE;
    }
  search = search_notes_for (notes);
  stmt = takes_store_prepare (self,
                              "UPDATE takes SET notes = ?2, updated_at = ?3, search_notes = ?4 WHERE id = ?1",
                              _ ("save the notes"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 2, notes, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  sqlite3_bind_text (stmt, 4, search, -1, SQLITE_STATIC);
  return update_one (self, stmt, take_id, _ ("save the notes"), error);
}

static char *
clean_tag (const char *tag, GError **error)
{
  g_autofree char *stripped = NULL;

  if (tag == NULL || !g_utf8_validate (tag, -1, NULL))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The tag is not valid UTF-8 text; type it again."));
      return NULL;
    }
  stripped = g_strstrip (g_strdup (tag));
  if (stripped[0] == '\0')
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID, _ ("The tag is empty; type a word."));
      return NULL;
    }
  if (g_utf8_strlen (stripped, -1) > MAX_TAG_CHARS)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The tag “%s” is longer than %d characters; shorten it."), stripped, MAX_TAG_CHARS);
      return NULL;
    }
  for (const char *p = stripped; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                     _ ("The tag contains control characters; use plain words."));
        return NULL;
      }
  return g_steal_pointer (&stripped);
}

static gboolean
touch_take (TakesStore *self, gint64 take_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = takes_store_prepare (self, "UPDATE takes SET updated_at = ?2 WHERE id = ?1",
                                                       _ ("update the take"), error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  return update_one (self, stmt, take_id, _ ("update the take"), error);
}

static gboolean
insert_tags (TakesStore *self, gint64 take_id, const char *const *tags, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  if (tags == NULL || tags[0] == NULL)
    return TRUE;
  stmt = takes_store_prepare (self, "INSERT OR IGNORE INTO tags (take_id, name) VALUES (?, ?)",
                              _ ("tag the take"), error);
  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; tags[i] != NULL; i++)
    {
      g_autofree char *clean = clean_tag (tags[i], error);

      if (clean == NULL)
        return FALSE;
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, take_id);
      sqlite3_bind_text (stmt, 2, clean, -1, SQLITE_TRANSIENT);
      if (!takes_store_step_done (self, stmt, _ ("tag the take"), error))
        return FALSE;
    }
  return TRUE;
}

gboolean
takes_store_add_tags (TakesStore *self, gint64 take_id, const char *const *tags, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  return takes_store_transaction_begin (self, &txn, error) && touch_take (self, take_id, error)
         && insert_tags (self, take_id, tags, error) && takes_store_transaction_commit (&txn, error);
}

gboolean
takes_store_remove_tags (TakesStore *self, gint64 take_id, const char *const *tags, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (!takes_store_transaction_begin (self, &txn, error) || !touch_take (self, take_id, error))
    return FALSE;
  stmt = takes_store_prepare (self, "DELETE FROM tags WHERE take_id = ? AND name = ?", _ ("untag the take"),
                              error);
  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; tags != NULL && tags[i] != NULL; i++)
    {
      g_autofree char *clean = clean_tag (tags[i], error);

      if (clean == NULL)
        return FALSE;
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, take_id);
      sqlite3_bind_text (stmt, 2, clean, -1, SQLITE_TRANSIENT);
      if (!takes_store_step_done (self, stmt, _ ("untag the take"), error))
        return FALSE;
      if (sqlite3_changes (self->db) == 0)
        {
          g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                       _ ("Take %" PRId64 " has no tag “%s”; check the spelling."), take_id, clean);
          return FALSE;
        }
    }
  return takes_store_transaction_commit (&txn, error);
}

gboolean
takes_store_add_tag (TakesStore *self, gint64 take_id, const char *tag, GError **error)
{
  const char *tags[] = { tag, NULL };

  g_return_val_if_fail (tag != NULL, FALSE);
  return takes_store_add_tags (self, take_id, tags, error);
}

gboolean
takes_store_remove_tag (TakesStore *self, gint64 take_id, const char *tag, GError **error)
{
  const char *tags[] = { tag, NULL };

  g_return_val_if_fail (tag != NULL, FALSE);
  return takes_store_remove_tags (self, take_id, tags, error);
}

GStrv
takes_store_list_tags (TakesStore *self, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self, "SELECT DISTINCT name FROM tags ORDER BY name", _ ("list the tags"),
                              error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (builder, (const char *)sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _ ("list the tags"));
      return NULL;
    }
  return g_strv_builder_end (builder);
}

/* Deleting ------------------------------------------------------------------- */

/* A video on its way to the trash: @pending is a second name (a hard link)
 * made before the commit, so until then the original stays in place. When
 * links are not possible, @pending is NULL and the file moves after the
 * commit. */
typedef struct
{
  char *original;
  char *pending;
  char *display_name;
} StagedFile;

static void
staged_file_free (gpointer data)
{
  StagedFile *staged = data;

  g_free (staged->original);
  g_free (staged->pending);
  g_free (staged->display_name);
  g_free (staged);
}

static void
unstage_all (GPtrArray *staged)
{
  for (guint i = 0; i < staged->len; i++)
    {
      StagedFile *s = g_ptr_array_index (staged, i);

      if (s->pending != NULL)
        g_unlink (s->pending);
    }
  g_ptr_array_set_size (staged, 0);
}

static gboolean
stage_file (TakesStore *self, gint64 id, const char *media_path, GPtrArray *staged, GError **error)
{
  g_autofree char *original = g_build_filename (self->data_dir, media_path, NULL);
  g_autofree char *name = NULL;
  g_autofree char *pending = NULL;
  StagedFile *s;

  /* A file already gone (the problem the media check reports) does not
   * stop the row from going. */
  if (!g_file_test (original, G_FILE_TEST_EXISTS))
    return TRUE;
  if (g_mkdir_with_parents (self->trash_dir, 0700) != 0)
    {
      int saved_errno = errno;

      set_file_error (error, saved_errno, FILE_TRASH, original);
      return FALSE;
    }

  s = g_new0 (StagedFile, 1);
  s->display_name = g_path_get_basename (media_path);
  if (strchr (media_path, '~') == NULL)
    {
      name = pending_name (id, media_path);
      pending = g_build_filename (self->trash_dir, name, NULL);
      g_unlink (pending);
      if (link (original, pending) == 0)
        s->pending = g_steal_pointer (&pending);
    }
  s->original = g_steal_pointer (&original);
  g_ptr_array_add (staged, s);
  return TRUE;
}

gboolean
takes_store_delete_takes (TakesStore *self, const gint64 *take_ids, guint n_take_ids, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (GPtrArray) staged = g_ptr_array_new_with_free_func (staged_file_free);
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (sqlite3_stmt) del = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (take_ids != NULL || n_take_ids == 0, FALSE);

  if (!takes_store_transaction_begin (self, &txn, error))
    return FALSE;
  find = takes_store_prepare (self, "SELECT media_path FROM takes WHERE id = ?", _ ("delete the takes"),
                              error);
  del = takes_store_prepare (self, "DELETE FROM takes WHERE id = ?", _ ("delete the takes"), error);
  if (find == NULL || del == NULL)
    return FALSE;

  for (guint i = 0; i < n_take_ids; i++)
    {
      gint64 id = take_ids[i];
      int rc;

      sqlite3_reset (find);
      sqlite3_bind_int64 (find, 1, id);
      rc = sqlite3_step (find);
      if (rc != SQLITE_ROW)
        {
          unstage_all (staged);
          if (rc == SQLITE_DONE)
            set_take_not_found (error, id);
          else
            set_sqlite_error (error, self->db, rc, _ ("delete the takes"));
          return FALSE;
        }
      if (sqlite3_column_type (find, 0) != SQLITE_NULL
          && !stage_file (self, id, (const char *)sqlite3_column_text (find, 0), staged, error))
        {
          unstage_all (staged);
          return FALSE;
        }
      sqlite3_reset (del);
      sqlite3_bind_int64 (del, 1, id);
      if (!takes_store_step_done (self, del, _ ("delete the takes"), error))
        {
          unstage_all (staged);
          return FALSE;
        }
    }

  fsync_path (self->trash_dir, TRUE);
  if (!takes_store_transaction_commit (&txn, error))
    {
      unstage_all (staged);
      return FALSE;
    }

  /* The rows are gone: drop the original names and send the files on. A
   * crash from here on leaves files without rows, which the next open
   * finishes moving. */
  for (guint i = 0; i < staged->len; i++)
    {
      StagedFile *s = g_ptr_array_index (staged, i);

      if (s->pending != NULL)
        {
          g_unlink (s->original);
          finish_trash (self, s->pending, s->display_name);
        }
      else
        finish_trash (self, s->original, s->display_name);
    }
  return TRUE;
}

char *
takes_store_get_media_file (TakesStore *self, TakesTake *take)
{
  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  g_return_val_if_fail (TAKES_IS_TAKE (take), NULL);

  if (takes_take_get_media_path (take) == NULL)
    return NULL;
  return g_build_filename (self->data_dir, takes_take_get_media_path (take), NULL);
}

/* For the store's extensions ------------------------------------------------ */

sqlite3 *
takes_store_get_db (TakesStore *self)
{
  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  return self->db;
}

void
takes_store_set_sqlite_error (GError **error, sqlite3 *db, int rc, const char *what)
{
  set_sqlite_error (error, db, rc, what);
}

gboolean
takes_store_insert_take_in_transaction (TakesStore *self, TakesTake *take, GError **error)
{
  gint64 project_id;
  gint64 now = g_get_real_time ();
  gint64 id;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (TAKES_IS_TAKE (take), FALSE);
  g_return_val_if_fail (takes_take_get_id (take) == 0, FALSE);
  g_return_val_if_fail (!sqlite3_get_autocommit (self->db), FALSE);

  project_id
      = takes_take_get_project_id (take) > 0 ? takes_take_get_project_id (take) : self->default_project;
  if (!check_take_text (take, error) || !require_project (self, project_id, error)
      || !check_links (self, 0, project_id, takes_take_get_shot_id (take), takes_take_get_batch_id (take),
                       takes_take_get_parent_id (take), error))
    return FALSE;
  if (!insert_new_take (self, take, project_id, now, &id, error))
    return FALSE;
  takes_take_set_stored (take, id, project_id, NULL, now, now);
  return TRUE;
}
