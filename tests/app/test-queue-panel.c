/* test-queue-panel.c: the queue panel's rows and controls on a real queue
 * with a scripted backend, and the desktop notification the window sends
 * when a long job ends while it is in the background. */
#include "config.h"

#include "../core/queue-test-backend.h"
#include "app-test-util.h"
#include "takes-queue-panel.h"
#include "takes-window.h"

typedef struct
{
  TakesStore *store;
  TakesQueue *queue;
  TestBackend *backend;
  GtkWindow *window;
  TakesQueuePanel *panel;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (app_test_root, "backend-out", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  f->store = app_test_open_store (data);
  f->queue = takes_queue_new (f->store, &error);
  g_assert_no_error (error);
  f->backend = test_backend_new ("test", dir, 1);
  /* The test decides when each job ends. */
  f->backend->auto_complete = FALSE;
  takes_queue_add_backend (f->queue, TAKES_BACKEND (f->backend));
  takes_queue_start (f->queue);
}

static void
show_panel (Fixture *f)
{
  f->window = GTK_WINDOW (gtk_window_new ());
  f->panel = TAKES_QUEUE_PANEL (takes_queue_panel_new ());
  takes_queue_panel_set_queue (f->panel, f->queue);
  gtk_window_set_child (f->window, GTK_WIDGET (f->panel));
  gtk_window_set_default_size (f->window, 420, 360);
  gtk_window_present (f->window);
  g_object_ref (f->window);
  app_test_wait_frames (GTK_WIDGET (f->window), 3);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->window != NULL)
    {
      gtk_window_destroy (f->window);
      app_test_wait (50);
      g_assert_finalize_object (f->window);
    }
  takes_queue_stop (f->queue);
  g_clear_object (&f->queue);
  g_clear_object (&f->backend);
  g_clear_object (&f->store);
}

static gint64
enqueue (Fixture *f, const char *prompt)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (GError) error = NULL;
  gint64 id;

  takes_recipe_set_backend (recipe, "test");
  takes_recipe_set_model (recipe, "test-model");
  takes_recipe_set_prompt (recipe, prompt);
  takes_recipe_set_seed (recipe, 7);
  id = takes_queue_enqueue (f->queue, recipe, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until the job is in @state, at most ten seconds. */
static void
wait_for_state (Fixture *f, gint64 job_id, TakesJobState state)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (10, timeout_cb, &timed_out);

  while (takes_job_get_state (takes_queue_lookup_job (f->queue, job_id)) != state && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout);
}

static void
wait_for_submits (Fixture *f, guint n)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (10, timeout_cb, &timed_out);

  while (f->backend->n_submits < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout);
}

/* The row showing the job whose prompt is @prompt: its box in the list. */
static GtkWidget *
find_row (GtkWidget *widget, const char *prompt)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), prompt) == 0)
    {
      /* label → text column → row box */
      return gtk_widget_get_parent (gtk_widget_get_parent (widget));
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_row (child, prompt);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_by_type (GtkWidget *widget, GType type, guint skip)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        {
          if (skip == 0)
            return child;
          skip--;
          continue;
        }
      found = find_by_type (child, type, skip);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_button (GtkWidget *row, const char *tooltip)
{
  for (GtkWidget *child = gtk_widget_get_first_child (row); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_BUTTON (child) && g_strcmp0 (gtk_widget_get_tooltip_text (child), tooltip) == 0)
      return child;
  return NULL;
}

static TakesBackendJob *
backend_job (Fixture *f, guint index)
{
  g_assert_cmpuint (f->backend->jobs->len, >, index);
  return g_ptr_array_index (f->backend->jobs, index);
}

static void
test_queue_panel_shows_progress_stage_and_eta (Fixture *f, gconstpointer data)
{
  gint64 id = enqueue (f, "a lighthouse in a storm");
  TakesBackendJob *job;
  GtkWidget *row;
  GtkWidget *stage;
  GtkWidget *bar;
  g_autofree char *eta = NULL;
  g_autofree char *expected = NULL;

  wait_for_state (f, id, TAKES_JOB_STATE_RUNNING);
  show_panel (f);
  job = backend_job (f, 0);
  /* Some time passes before the first progress, so the ETA has a rate. */
  app_test_wait (30);
  takes_backend_job_set_stage (job, "Denoising step 8 of 20");
  takes_backend_job_set_has_progress (job, TRUE);
  takes_backend_job_set_progress (job, 0.4);
  app_test_wait_frames (GTK_WIDGET (f->window), 2);

  row = find_row (GTK_WIDGET (f->panel), "a lighthouse in a storm");
  g_assert_nonnull (row);
  bar = find_by_type (row, GTK_TYPE_PROGRESS_BAR, 0);
  g_assert_nonnull (bar);
  g_assert_true (gtk_widget_get_visible (bar));
  g_assert_cmpfloat_with_epsilon (gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (bar)), 0.4, 1e-9);

  eta = takes_queue_panel_format_eta (takes_job_get_eta (takes_queue_lookup_job (f->queue, id)));
  g_assert_nonnull (eta);
  expected = g_strdup_printf ("Denoising step 8 of 20 · %s", eta);
  stage = find_by_type (row, GTK_TYPE_LABEL, 1);
  g_assert_nonnull (stage);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (stage)), ==, expected);
  g_assert_true (gtk_widget_get_visible (find_button (row, "Cancel")));
  g_assert_false (gtk_widget_get_visible (find_button (row, "Retry")));
  g_free (app_test_screenshot (GTK_WIDGET (f->window), "queue-panel"));

  /* Done: the bar goes and the row says so. */
  test_backend_complete (f->backend, job);
  wait_for_state (f, id, TAKES_JOB_STATE_DONE);
  app_test_wait_frames (GTK_WIDGET (f->window), 2);
  /* The job moved among the finished ones, so its row is another. */
  row = find_row (GTK_WIDGET (f->panel), "a lighthouse in a storm");
  g_assert_nonnull (row);
  g_assert_false (gtk_widget_get_visible (find_by_type (row, GTK_TYPE_PROGRESS_BAR, 0)));
  g_assert_false (gtk_widget_get_visible (find_button (row, "Cancel")));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_by_type (row, GTK_TYPE_LABEL, 1))), ==, "Done · test");
}

static void
test_queue_panel_cancel_and_retry (Fixture *f, gconstpointer data)
{
  gint64 id = enqueue (f, "a kite over a beach");
  GtkWidget *row;

  wait_for_state (f, id, TAKES_JOB_STATE_RUNNING);
  show_panel (f);
  row = find_row (GTK_WIDGET (f->panel), "a kite over a beach");
  g_assert_nonnull (row);

  g_signal_emit_by_name (find_button (row, "Cancel"), "clicked");
  wait_for_state (f, id, TAKES_JOB_STATE_CANCELLED);
  g_assert_cmpuint (f->backend->n_cancels, ==, 1);
  app_test_wait_frames (GTK_WIDGET (f->window), 2);
  row = find_row (GTK_WIDGET (f->panel), "a kite over a beach");
  g_assert_true (gtk_widget_get_visible (find_button (row, "Retry")));
  g_assert_false (gtk_widget_get_visible (find_button (row, "Cancel")));

  /* Retry sends the take again. */
  g_signal_emit_by_name (find_button (row, "Retry"), "clicked");
  wait_for_submits (f, 2);
  wait_for_state (f, id, TAKES_JOB_STATE_RUNNING);
  test_backend_complete (f->backend, backend_job (f, 1));
  wait_for_state (f, id, TAKES_JOB_STATE_DONE);
}

static void
test_queue_panel_pause_all (Fixture *f, gconstpointer data)
{
  GtkWidget *pause;
  gint64 id;

  show_panel (f);
  pause = find_by_type (GTK_WIDGET (f->panel), GTK_TYPE_TOGGLE_BUTTON, 0);
  g_assert_nonnull (pause);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (pause), TRUE);
  g_assert_true (takes_queue_get_paused (f->queue));

  /* Paused, a new take waits in the queue. */
  id = enqueue (f, "a paper boat on a river");
  app_test_wait (100);
  g_assert_cmpuint (f->backend->n_submits, ==, 0);
  g_assert_cmpint (takes_job_get_state (takes_queue_lookup_job (f->queue, id)), ==, TAKES_JOB_STATE_QUEUED);

  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (pause), FALSE);
  g_assert_false (takes_queue_get_paused (f->queue));
  wait_for_submits (f, 1);
  test_backend_complete (f->backend, backend_job (f, 0));
  wait_for_state (f, id, TAKES_JOB_STATE_DONE);
}

static gint64
job_id_at (Fixture *f, guint position)
{
  g_autoptr (TakesJob) job = g_list_model_get_item (takes_queue_get_jobs (f->queue), position);

  g_assert_nonnull (job);
  return takes_job_get_id (job);
}

static void
test_queue_panel_drop_reorders (Fixture *f, gconstpointer data)
{
  gint64 a, b, c;

  /* Paused, so that the three wait in order. */
  takes_queue_pause (f->queue);
  a = enqueue (f, "first");
  b = enqueue (f, "second");
  c = enqueue (f, "third");
  show_panel (f);
  g_assert_cmpint (job_id_at (f, 0), ==, a);
  g_assert_cmpint (job_id_at (f, 1), ==, b);
  g_assert_cmpint (job_id_at (f, 2), ==, c);

  /* What dropping "third" on "first" does. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->panel), "queue-panel.move-before", "(xx)", c, a));
  g_assert_cmpint (job_id_at (f, 0), ==, c);
  g_assert_cmpint (job_id_at (f, 1), ==, a);
  g_assert_cmpint (job_id_at (f, 2), ==, b);
  app_test_wait_frames (GTK_WIDGET (f->window), 2);
  {
    GtkWidget *top = find_row (GTK_WIDGET (f->panel), "third");
    GtkWidget *next = find_row (GTK_WIDGET (f->panel), "first");
    graphene_point_t top_at, next_at;

    g_assert_true (
        gtk_widget_compute_point (top, GTK_WIDGET (f->panel), &GRAPHENE_POINT_INIT (0, 0), &top_at));
    g_assert_true (
        gtk_widget_compute_point (next, GTK_WIDGET (f->panel), &GRAPHENE_POINT_INIT (0, 0), &next_at));
    g_assert_cmpfloat (top_at.y, <, next_at.y);
  }

  /* The order is the queue's: the first to run is the one moved up. */
  takes_queue_resume (f->queue);
  wait_for_submits (f, 1);
  g_assert_cmpstr (g_ptr_array_index (f->backend->prompts, 0), ==, "third");
  test_backend_complete (f->backend, backend_job (f, 0));
  wait_for_state (f, c, TAKES_JOB_STATE_DONE);

  /* A finished job cannot be moved; the panel says why and nothing moves. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->panel), "queue-panel.move-before", "(xx)", c, b));
  g_assert_cmpint (takes_job_get_state (takes_queue_lookup_job (f->queue, c)), ==, TAKES_JOB_STATE_DONE);
  takes_queue_pause (f->queue);
}

/* Notifications ------------------------------------------------------------ */

typedef struct
{
  char *id;
  char *title;
  char *body;
} Sent;

static GPtrArray *sent;

static void
sent_free (gpointer data)
{
  Sent *s = data;

  g_free (s->id);
  g_free (s->title);
  g_free (s->body);
  g_free (s);
}

static void
record_notification (TakesWindow *window, const char *id, const char *title, const char *body)
{
  Sent *s = g_new0 (Sent, 1);

  s->id = g_strdup (id);
  s->title = g_strdup (title);
  s->body = g_strdup (body);
  g_ptr_array_add (sent, s);
}

static void
finish_long (Fixture *f, TakesBackendJob *job, double seconds)
{
  g_autofree char *path = g_build_filename (f->backend->dir, "long.mp4", NULL);

  g_assert_true (g_file_set_contents (path, "video", -1, NULL));
  takes_backend_job_set_seconds_spent (job, seconds);
  takes_backend_job_succeed (job, path);
}

static void
test_queue_panel_notifies_when_long_job_ends_in_background (Fixture *f, gconstpointer data)
{
  TakesWindow *window;
  GtkWindow *other;
  gint64 id;

  sent = g_ptr_array_new_with_free_func (sent_free);
  takes_window_set_notify_func (record_notification);
  window = g_object_ref (takes_window_new (NULL, f->store, f->queue));
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_frames (GTK_WIDGET (window), 3);

  /* Even a long job says nothing while the window is in front. */
  g_assert_true (gtk_window_is_active (GTK_WINDOW (window)));
  id = enqueue (f, "a long one in front");
  wait_for_state (f, id, TAKES_JOB_STATE_RUNNING);
  finish_long (f, backend_job (f, 0), 95);
  wait_for_state (f, id, TAKES_JOB_STATE_DONE);
  g_assert_cmpuint (sent->len, ==, 0);

  /* Another window comes to the front. */
  other = GTK_WINDOW (gtk_window_new ());
  gtk_window_present (other);
  app_test_wait_frames (GTK_WIDGET (other), 3);
  g_assert_false (gtk_window_is_active (GTK_WINDOW (window)));

  /* In the background, a short job is still not worth a notification. */
  id = enqueue (f, "another quick one");
  wait_for_state (f, id, TAKES_JOB_STATE_RUNNING);
  finish_long (f, backend_job (f, 1), 3);
  wait_for_state (f, id, TAKES_JOB_STATE_DONE);
  g_assert_cmpuint (sent->len, ==, 0);

  id = enqueue (f, "a long one");
  wait_for_state (f, id, TAKES_JOB_STATE_RUNNING);
  finish_long (f, backend_job (f, 2), 95);
  wait_for_state (f, id, TAKES_JOB_STATE_DONE);
  g_assert_cmpuint (sent->len, ==, 1);
  {
    Sent *s = g_ptr_array_index (sent, 0);
    g_autofree char *expected_id = g_strdup_printf ("job-%" G_GINT64_FORMAT, id);

    g_assert_cmpstr (s->id, ==, expected_id);
    g_assert_cmpstr (s->title, ==, "Take Ready");
    g_assert_cmpstr (s->body, ==, "a long one");
  }

  /* A long job that fails says why. */
  test_backend_fail_next (f->backend,
                          g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                                               "The model does not make videos this long."));
  id = enqueue (f, "a failing one");
  wait_for_state (f, id, TAKES_JOB_STATE_FAILED);
  g_assert_cmpuint (sent->len, ==, 2);
  {
    Sent *s = g_ptr_array_index (sent, 1);

    g_assert_cmpstr (s->title, ==, "Take Failed");
    g_assert_nonnull (strstr (s->body, "does not make videos this long"));
  }

  gtk_window_destroy (other);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
  takes_window_set_notify_func (NULL);
  g_clear_pointer (&sent, g_ptr_array_unref);
}

int
main (int argc, char **argv)
{
  app_test_setup_env ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

#define ADD(path, name, func)                                                                                \
  g_test_add ("/queue-panel/" path, Fixture, name, fixture_set_up, func, fixture_tear_down)
  ADD ("job/shows-progress-stage-and-eta", "progress", test_queue_panel_shows_progress_stage_and_eta);
  ADD ("job/cancel-and-retry-act-on-the-queue", "cancel", test_queue_panel_cancel_and_retry);
  ADD ("queue/pause-all-holds-new-jobs", "pause", test_queue_panel_pause_all);
  ADD ("queue/drop-moves-a-job-before-another", "reorder", test_queue_panel_drop_reorders);
  ADD ("notification/long-job-ending-in-background", "notify",
       test_queue_panel_notifies_when_long_job_ends_in_background);
#undef ADD
  return g_test_run ();
}
