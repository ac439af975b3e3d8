/* fake-loop.h: waiting for asynchronous results in tests that run a fake
 * server and its client on the same main context. */
#pragma once

#include <gio/gio.h>

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

/* Lets pending sources run (closing sockets, finishing server messages). */
static inline void
fake_loop_drain (void)
{
  for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

G_END_DECLS
