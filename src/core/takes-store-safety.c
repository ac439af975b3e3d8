/* takes-store-safety.c: the log of blocked prompts.
 *
 * The prompt is the one part of a request the log keeps, and people paste
 * links and keys into prompts by accident; so what looks like a credential
 * is cut out before the row is written, not when it is shown.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <sqlite3.h>
#include <string.h>

#include "takes-store-private.h"
#include "takes-store-safety.h"

#define MAX_RULE_BYTES 1024
#define REDACTED "[redacted]"

static const char *const source_names[] = { "cli", "queue", "studio", "server" };

const char *
takes_safety_source_to_string (TakesSafetySource source)
{
  g_return_val_if_fail ((guint)source < G_N_ELEMENTS (source_names), "cli");

  return source_names[source];
}

gboolean
takes_safety_source_from_string (const char *name, TakesSafetySource *source)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (source_names); i++)
    if (g_str_equal (name, source_names[i]))
      {
        if (source != NULL)
          *source = (TakesSafetySource)i;
        return TRUE;
      }
  return FALSE;
}

TakesSafetyLogEntry *
takes_safety_log_entry_copy (const TakesSafetyLogEntry *entry)
{
  TakesSafetyLogEntry *copy;

  g_return_val_if_fail (entry != NULL, NULL);

  copy = g_memdup2 (entry, sizeof *entry);
  copy->prompt = g_strdup (entry->prompt);
  copy->rule = g_strdup (entry->rule);
  return copy;
}

void
takes_safety_log_entry_free (TakesSafetyLogEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->prompt);
  g_free (entry->rule);
  g_free (entry);
}

G_DEFINE_BOXED_TYPE (TakesSafetyLogEntry,
                     takes_safety_log_entry,
                     takes_safety_log_entry_copy,
                     takes_safety_log_entry_free)

/* Redaction --------------------------------------------------------------- */

static gboolean
is_url_char (char c)
{
  return c != '\0' && !g_ascii_isspace (c) && c != '"' && c != '\'' && c != '<' && c != '>' && c != '`';
}

static gboolean
is_token_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/'
         || c == '=';
}

/* Length of a URL starting at @p ("scheme://…"), or 0 when there is none. */
static gsize
url_length (const char *p)
{
  const char *q = p;

  if (!g_ascii_isalpha (*q))
    return 0;
  while (g_ascii_isalnum (*q) || *q == '+' || *q == '-' || *q == '.')
    q++;
  if (!g_str_has_prefix (q, "://"))
    return 0;
  q += 3;
  while (is_url_char (*q))
    q++;
  return (gsize)(q - p);
}

/* Appends the URL @url (@len bytes) without its user information, query and
 * fragment, the places where links carry passwords, tokens and signatures. */
static void
append_clean_url (GString *out, const char *url, gsize len)
{
  const char *end = url + len;
  const char *authority = strstr (url, "://") + 3;
  const char *path = authority;
  const char *at = NULL;
  const char *cut;

  while (path < end && *path != '/' && *path != '?' && *path != '#')
    {
      if (*path == '@')
        at = path;
      path++;
    }
  g_string_append_len (out, url, authority - url);
  if (at != NULL)
    {
      g_string_append (out, REDACTED "@");
      authority = at + 1;
    }
  for (cut = path; cut < end && *cut != '?' && *cut != '#'; cut++)
    ;
  g_string_append_len (out, authority, cut - authority);
  if (cut < end)
    g_string_append (out, "?" REDACTED);
}

static gboolean
at_word_start (const char *text, const char *p)
{
  return p == text || !is_token_char (p[-1]);
}

/* Length of a secret-looking word at @p: "sk-" and the like followed by a
 * long run of key characters. */
static gsize
key_length (const char *text, const char *p)
{
  static const char *const prefixes[] = { "sk-", "ak-", "ghp_", "gho_", "xoxb-", "xoxp-", "AKIA" };
  gsize n;

  if (!at_word_start (text, p))
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (p, prefixes[i]))
      {
        const char *q = p + strlen (prefixes[i]);

        for (n = 0; g_ascii_isalnum (q[n]) || q[n] == '-' || q[n] == '_'; n++)
          ;
        if (n >= 12)
          return (gsize)(q + n - p);
      }
  return 0;
}

/* Length of "Bearer " (or "Basic ") and the credential after it, or 0. */
static gsize
auth_length (const char *text, const char *p, gsize *scheme_len)
{
  static const char *const schemes[] = { "bearer ", "basic ", "token " };

  if (!at_word_start (text, p))
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_ascii_strncasecmp (p, schemes[i], strlen (schemes[i])) == 0)
      {
        const char *q = p + strlen (schemes[i]);
        gsize n = 0;

        while (*q == ' ')
          q++;
        while (is_token_char (q[n]))
          n++;
        if (n >= 8)
          {
            *scheme_len = strlen (schemes[i]);
            return (gsize)(q + n - p);
          }
      }
  return 0;
}

char *
takes_safety_log_redact (const char *text)
{
  g_autoptr (GString) out = NULL;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text));
  p = text;
  while (*p != '\0')
    {
      gsize scheme_len = 0;
      gsize n;

      if ((n = url_length (p)) > 0 && at_word_start (text, p))
        {
          append_clean_url (out, p, n);
          p += n;
        }
      else if ((n = key_length (text, p)) > 0)
        {
          g_string_append (out, REDACTED);
          p += n;
        }
      else if ((n = auth_length (text, p, &scheme_len)) > 0)
        {
          g_string_append_len (out, p, scheme_len);
          g_string_append (out, REDACTED);
          p += n;
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Valid UTF-8 of at most @max_bytes, cut at a character with "…" added. */
static char *
shorten (const char *text, gsize max_bytes)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  const char *ellipsis = "…";
  gsize len = strlen (valid);
  const char *cut;

  if (len <= max_bytes)
    return g_steal_pointer (&valid);
  cut = g_utf8_find_prev_char (valid, valid + max_bytes - strlen (ellipsis) + 1);
  if (cut == NULL)
    cut = valid;
  return g_strdup_printf ("%.*s%s", (int)(cut - valid), valid, ellipsis);
}

char *
takes_safety_match_to_rule (const TakesSafetyMatch *match)
{
  g_autofree char *list = NULL;

  g_return_val_if_fail (match != NULL, NULL);

  list = match->source != NULL ? g_path_get_basename (match->source) : g_strdup ("?");
  return g_strdup_printf ("%s (%s; %s:%u)", match->term, match->category != NULL ? match->category : "", list,
                          match->line);
}

/* Writing ----------------------------------------------------------------- */

gint64
takes_store_log_safety_block (TakesStore *self,
                              gint64 project_id,
                              const char *prompt,
                              const char *rule,
                              TakesSafetySource source,
                              GError **error)
{
  sqlite3 *db;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *valid_prompt = NULL;
  g_autofree char *redacted = NULL;
  g_autofree char *stored_prompt = NULL;
  g_autofree char *stored_rule = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), 0);
  g_return_val_if_fail (prompt != NULL, 0);
  g_return_val_if_fail ((guint)source < G_N_ELEMENTS (source_names), 0);

  stored_rule = g_strstrip (g_strdup (rule != NULL ? rule : ""));
  if (stored_rule[0] == '\0')
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A safety block must name the rule that matched; give the term."));
      return 0;
    }
  if (project_id <= 0)
    project_id = takes_store_get_default_project (self);

  valid_prompt = g_utf8_make_valid (prompt, -1);
  redacted = takes_safety_log_redact (valid_prompt);
  stored_prompt = shorten (redacted, TAKES_SAFETY_LOG_MAX_PROMPT);
  {
    g_autofree char *valid_rule = g_utf8_make_valid (stored_rule, -1);
    g_autofree char *rule_redacted = takes_safety_log_redact (valid_rule);

    g_free (stored_rule);
    stored_rule = shorten (rule_redacted, MAX_RULE_BYTES);
  }

  db = takes_store_get_db (self);
  rc = sqlite3_prepare_v2 (db,
                           "INSERT INTO safety_log (project_id, prompt, rule, source, created_at) "
                           "SELECT id, ?2, ?3, ?4, ?5 FROM projects WHERE id = ?1",
                           -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("log the safety block"));
      return 0;
    }
  sqlite3_bind_int64 (stmt, 1, project_id);
  sqlite3_bind_text (stmt, 2, stored_prompt, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, stored_rule, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, source_names[source], -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time ());
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("log the safety block"));
      return 0;
    }
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                   _ ("There is no project %" PRId64 "; list the projects and pick one."),
                   project_id);
      return 0;
    }
  return sqlite3_last_insert_rowid (db);
}

gint64
takes_store_log_safety_match (TakesStore *self,
                              gint64 project_id,
                              const char *prompt,
                              const TakesSafetyMatch *match,
                              TakesSafetySource source,
                              GError **error)
{
  g_autofree char *rule = NULL;

  g_return_val_if_fail (match != NULL, 0);

  rule = takes_safety_match_to_rule (match);
  return takes_store_log_safety_block (self, project_id, prompt, rule, source, error);
}

/* Reading ----------------------------------------------------------------- */

void
takes_safety_log_query_init (TakesSafetyLogQuery *query)
{
  g_return_if_fail (query != NULL);

  memset (query, 0, sizeof *query);
  query->source = -1;
}

/* Builds the WHERE clause of @query; parameters are bound by bind_query()
 * under the same names. */
static void
append_where (GString *sql, const TakesSafetyLogQuery *query)
{
  g_string_append (sql, " WHERE 1");
  if (query->project_id > 0)
    g_string_append (sql, " AND project_id = :project");
  if (query->source >= 0)
    g_string_append (sql, " AND source = :source");
  if (query->since > 0)
    g_string_append (sql, " AND created_at >= :since");
  if (query->until > 0)
    g_string_append (sql, " AND created_at < :until");
  if (query->text != NULL && query->text[0] != '\0')
    g_string_append (sql,
                     " AND (instr(lower(prompt), lower(:text)) > 0 OR instr(lower(rule), lower(:text)) > 0)");
}

static void
bind_query (sqlite3_stmt *stmt, const TakesSafetyLogQuery *query)
{
  int index;

  if ((index = sqlite3_bind_parameter_index (stmt, ":project")) > 0)
    sqlite3_bind_int64 (stmt, index, query->project_id);
  if ((index = sqlite3_bind_parameter_index (stmt, ":source")) > 0)
    sqlite3_bind_text (stmt, index, takes_safety_source_to_string ((TakesSafetySource)query->source), -1,
                       SQLITE_STATIC);
  if ((index = sqlite3_bind_parameter_index (stmt, ":since")) > 0)
    sqlite3_bind_int64 (stmt, index, query->since);
  if ((index = sqlite3_bind_parameter_index (stmt, ":until")) > 0)
    sqlite3_bind_int64 (stmt, index, query->until);
  if ((index = sqlite3_bind_parameter_index (stmt, ":text")) > 0)
    sqlite3_bind_text (stmt, index, query->text, -1, SQLITE_STATIC);
}

static gboolean
check_query (const TakesSafetyLogQuery *query, GError **error)
{
  if (query->source >= (int)G_N_ELEMENTS (source_names) || query->source < -1)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The source %d is not one the safety log knows; use cli, queue, studio or server."),
                   query->source);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
takes_store_list_safety_blocks (TakesStore *self, const TakesSafetyLogQuery *query, GError **error)
{
  g_autoptr (GPtrArray) entries
      = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_safety_log_entry_free);
  g_autoptr (GString) sql
      = g_string_new ("SELECT id, project_id, prompt, rule, source, created_at FROM safety_log");
  g_autoptr (sqlite3_stmt) stmt = NULL;
  TakesSafetyLogQuery all;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (query == NULL)
    {
      takes_safety_log_query_init (&all);
      query = &all;
    }
  if (!check_query (query, error))
    return NULL;
  append_where (sql, query);
  g_string_append (sql, " ORDER BY created_at DESC, id DESC");
  if (query->limit > 0 || query->offset > 0)
    g_string_append_printf (sql, " LIMIT %d OFFSET %u", query->limit > 0 ? (int)query->limit : -1,
                            query->offset);

  db = takes_store_get_db (self);
  rc = sqlite3_prepare_v2 (db, sql->str, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("read the safety log"));
      return NULL;
    }
  bind_query (stmt, query);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TakesSafetyLogEntry *entry = g_new0 (TakesSafetyLogEntry, 1);

      entry->id = sqlite3_column_int64 (stmt, 0);
      entry->project_id = sqlite3_column_int64 (stmt, 1);
      entry->prompt = g_strdup ((const char *)sqlite3_column_text (stmt, 2));
      entry->rule = g_strdup ((const char *)sqlite3_column_text (stmt, 3));
      if (!takes_safety_source_from_string ((const char *)sqlite3_column_text (stmt, 4), &entry->source))
        entry->source = TAKES_SAFETY_SOURCE_CLI;
      entry->created = sqlite3_column_int64 (stmt, 5);
      g_ptr_array_add (entries, entry);
    }
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("read the safety log"));
      return NULL;
    }
  return g_steal_pointer (&entries);
}

gboolean
takes_store_count_safety_blocks (TakesStore *self,
                                 const TakesSafetyLogQuery *query,
                                 guint64 *count,
                                 GError **error)
{
  g_autoptr (GString) sql = g_string_new ("SELECT count(*) FROM safety_log");
  g_autoptr (sqlite3_stmt) stmt = NULL;
  TakesSafetyLogQuery all;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (count != NULL, FALSE);

  if (query == NULL)
    {
      takes_safety_log_query_init (&all);
      query = &all;
    }
  if (!check_query (query, error))
    return FALSE;
  append_where (sql, query);
  db = takes_store_get_db (self);
  rc = sqlite3_prepare_v2 (db, sql->str, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("count the safety log"));
      return FALSE;
    }
  bind_query (stmt, query);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("count the safety log"));
      return FALSE;
    }
  *count = (guint64)sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
takes_store_prune_safety_blocks (TakesStore *self, gint64 before, guint64 *removed, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  db = takes_store_get_db (self);
  rc = sqlite3_prepare_v2 (db, "DELETE FROM safety_log WHERE created_at < ?1", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("prune the safety log"));
      return FALSE;
    }
  sqlite3_bind_int64 (stmt, 1, before);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("prune the safety log"));
      return FALSE;
    }
  if (removed != NULL)
    *removed = (guint64)sqlite3_changes (db);
  return TRUE;
}
