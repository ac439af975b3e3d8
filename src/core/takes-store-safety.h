/* takes-store-safety.h: the log of prompts the safety filter stopped.
 *
 * Every block of a real submission (the queue, `takes-cli batch run`, the
 * studio) is logged with the prompt, the rule that matched and where it came
 * from. Nothing else of the request is kept: no headers, no keys, and URLs in
 * the prompt lose their user name, password and query before they are
 * written. A check that only asks (`takes-cli safety check`) is not logged.
 *
 * Same rules as takes-store.h: one thread per store, errors in the
 * TAKES_STORE_ERROR domain.
 */
#pragma once

#include "takes-safety.h"
#include "takes-store.h"

G_BEGIN_DECLS

typedef enum
{
  TAKES_SAFETY_SOURCE_CLI,    /* takes-cli (generate, batch run) */
  TAKES_SAFETY_SOURCE_QUEUE,  /* the queue, when a job is enqueued */
  TAKES_SAFETY_SOURCE_STUDIO, /* the studio's prompt editor */
  TAKES_SAFETY_SOURCE_SERVER, /* takes-server, for a remote client */
} TakesSafetySource;

/* "cli", "queue", "studio", "server"; from_string returns FALSE for
 * another word. */
const char *takes_safety_source_to_string (TakesSafetySource source);
gboolean takes_safety_source_from_string (const char *name, TakesSafetySource *source);

/* The most of a prompt a log entry keeps, in bytes; longer prompts are cut
 * at a character boundary and end with "…". */
#define TAKES_SAFETY_LOG_MAX_PROMPT 8192

typedef struct
{
  gint64 id;
  gint64 project_id; /* 0 when the project was deleted */
  char *prompt;      /* as logged: redacted and possibly shortened */
  char *rule;        /* the term and category that matched */
  TakesSafetySource source;
  gint64 created; /* microseconds since the epoch */
} TakesSafetyLogEntry;

#define TAKES_TYPE_SAFETY_LOG_ENTRY (takes_safety_log_entry_get_type ())
GType takes_safety_log_entry_get_type (void);
TakesSafetyLogEntry *takes_safety_log_entry_copy (const TakesSafetyLogEntry *entry);
void takes_safety_log_entry_free (TakesSafetyLogEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesSafetyLogEntry, takes_safety_log_entry_free)

/* @text with what could be a credential removed: the user and password and
 * the query of URLs, "Bearer …" tokens, and key-like words ("sk-…"). */
char *takes_safety_log_redact (const char *text);

/* The rule text a match is logged with: "term (category; list:line)". */
char *takes_safety_match_to_rule (const TakesSafetyMatch *match);

/* Logs one block of @prompt by @rule in @project_id (0: the default
 * project). The prompt is redacted and shortened as described above; an
 * empty rule, or a project that does not exist, is refused. Returns the
 * entry's id, or 0 with @error set. */
gint64 takes_store_log_safety_block (TakesStore *self,
                                     gint64 project_id,
                                     const char *prompt,
                                     const char *rule,
                                     TakesSafetySource source,
                                     GError **error);
/* The same for a match of takes_safety_check(). */
gint64 takes_store_log_safety_match (TakesStore *self,
                                     gint64 project_id,
                                     const char *prompt,
                                     const TakesSafetyMatch *match,
                                     TakesSafetySource source,
                                     GError **error);

/* A filter over the log. Start from takes_safety_log_query_init(). */
typedef struct
{
  gint64 project_id; /* 0: any */
  int source;        /* a TakesSafetySource, or -1: any */
  gint64 since;      /* microseconds since the epoch, inclusive; 0: no bound */
  gint64 until;      /* exclusive; 0: no bound */
  const char *text;  /* a substring of the prompt or the rule (ASCII case ignored); NULL: any */
  guint limit;       /* 0: no limit */
  guint offset;
} TakesSafetyLogQuery;

void takes_safety_log_query_init (TakesSafetyLogQuery *query);

/* TakesSafetyLogEntry matching @query (NULL: all), newest first. */
GPtrArray *
takes_store_list_safety_blocks (TakesStore *self, const TakesSafetyLogQuery *query, GError **error);
/* How many entries match @query, ignoring its limit and offset. */
gboolean takes_store_count_safety_blocks (TakesStore *self,
                                          const TakesSafetyLogQuery *query,
                                          guint64 *count,
                                          GError **error);
/* Removes the entries older than @before (microseconds since the epoch);
 * @removed (may be NULL) receives how many. */
gboolean takes_store_prune_safety_blocks (TakesStore *self, gint64 before, guint64 *removed, GError **error);

G_END_DECLS
