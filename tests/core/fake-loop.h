/* fake-loop.h: waiting for asynchronous results in tests that run a fake
 * server and its client on the same main context. */
#pragma once

#include <gio/gio.h>

#include "takes-backend.h"

G_BEGIN_DECLS

/* Longer than any test needs: reaching it means a hang, which fails the test
 * with a message instead of stalling the whole suite. */
#define FAKE_LOOP_TIMEOUT_S 60

static inline gboolean
fake_loop_timeout_cb (gpointer user_data)
{
  g_error ("The test waited %d seconds for a result that never came", FAKE_LOOP_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

/* Iterates the default main context until *@done is TRUE. */
static inline void
fake_loop_run_until (const gboolean *done)
{
  guint guard = g_timeout_add_seconds (FAKE_LOOP_TIMEOUT_S, fake_loop_timeout_cb, NULL);

  while (!*done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
}

/* A GAsyncReadyCallback that keeps the result in the GAsyncResult ** passed
 * as user data. */
static inline void
fake_loop_result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* Iterates until the callback above filled @slot; returns it (owned). */
static inline GAsyncResult *
fake_loop_wait_result (GAsyncResult **slot)
{
  guint guard = g_timeout_add_seconds (FAKE_LOOP_TIMEOUT_S, fake_loop_timeout_cb, NULL);

  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
  return g_steal_pointer (slot);
}

/* Waits for @job to end while the fake server keeps answering. */
static inline gboolean
fake_loop_wait_job (TakesBackendJob *job, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_backend_job_wait_async (job, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_backend_job_wait_finish (job, result, error);
}

/* Lets pending sources run (closing sockets, finishing server messages). */
static inline void
fake_loop_drain (void)
{
  for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

/* Everything this process logs, so a test can prove a secret never appears
 * in it. Install fake_log_capture_writer with g_log_set_writer_func after
 * creating the string. */
static GString *fake_log_captured G_GNUC_UNUSED;

static inline GLogWriterOutput
fake_log_capture_writer (GLogLevelFlags log_level,
                         const GLogField *fields,
                         gsize n_fields,
                         gpointer user_data)
{
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0)
      message = fields[i].value;
  if (message != NULL)
    {
      g_string_append (fake_log_captured, message);
      g_string_append_c (fake_log_captured, '\n');
    }
  /* Debug output stays a TAP comment; warnings go their usual, fatal way. */
  if ((log_level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE)) != 0 && message != NULL)
    {
      g_test_message ("%s", message);
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

G_END_DECLS
