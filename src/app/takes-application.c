/* takes-application.c: the studio's application object. */
#include "config.h"

#include <glib/gi18n.h>

#include "takes-application.h"
#include "takes-backend-registry.h"
#include "takes-paths.h"
#include "takes-window.h"

struct _TakesApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  TakesStore *store;
  TakesQueue *queue;
  GError *open_error;
  GPtrArray *problems; /* char*, start-up problems not yet shown */
};

G_DEFINE_FINAL_TYPE (TakesApplication, takes_application, ADW_TYPE_APPLICATION)

char *
takes_application_get_data_dir (GSettings *settings)
{
  const char *env = g_getenv ("TAKES_DATA_DIR");
  g_autofree char *location = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (settings != NULL)
    location = g_settings_get_string (settings, "storage-location");
  if (location != NULL && *location != '\0')
    return g_steal_pointer (&location);
  return takes_paths_data_dir ();
}

static void
open_library (TakesApplication *self)
{
  g_autofree char *data_dir = takes_application_get_data_dir (self->settings);
  g_autoptr (GPtrArray) backends = NULL;
  GPtrArray *issues;

  /* The media check reads every file name; with a large library it would
   * delay the first frame, so it is left to `takes-cli check`. */
  self->store = takes_store_open (data_dir, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &self->open_error);
  if (self->store == NULL)
    return;
  issues = takes_store_get_open_issues (self->store);
  if (issues != NULL && issues->len > 0)
    {
      TakesStoreIssue *first = g_ptr_array_index (issues, 0);

      if (issues->len == 1)
        g_ptr_array_add (self->problems, g_strdup (first->message));
      else
        /* Translators: %s is the first problem found; %u counts the others. */
        g_ptr_array_add (
            self->problems,
            g_strdup_printf (ngettext ("%s (and %u more problem; run “takes-cli check” to see it)",
                                       "%s (and %u more problems; run “takes-cli check” to see them)",
                                       issues->len - 1),
                             first->message, issues->len - 1));
    }

  self->queue = takes_queue_new (self->store, &self->open_error);
  if (self->queue == NULL)
    return;
  backends = takes_backend_registry_create_all (self->settings, self->problems);
  for (guint i = 0; i < backends->len; i++)
    takes_queue_add_backend (self->queue, g_ptr_array_index (backends, i));
  /* The log keeps them for bug reports; the window shows them as toasts. */
  for (guint i = 0; i < self->problems->len; i++)
    g_message ("%s", (const char *)g_ptr_array_index (self->problems, i));
  takes_queue_start (self->queue);
}

static void
quit_action_cb (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_action_cb (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  const char *developers[] = { _ ("The Takes developers"), NULL };

  adw_show_about_window (gtk_application_get_active_window (app), "application-name", _ ("Takes"),
                         "application-icon", APP_ID, "version", PACKAGE_VERSION, "comments",
                         _ ("Make short videos with open video models and keep the best takes"),
                         "license-type", GTK_LICENSE_GPL_3_0, "developers", developers,
                         /* Translators: put your names here, one per line. */
                         "translator-credits", _ ("translator-credits"), NULL);
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_action_cb },
  { .name = "about", .activate = about_action_cb },
};

static void
takes_application_startup (GApplication *app)
{
  TakesApplication *self = TAKES_APPLICATION (app);
  const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (takes_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  {
    const char *generate[] = { "<Control>Return", "<Control>KP_Enter", NULL };
    const char *preferences[] = { "<Control>comma", NULL };
    const char *search[] = { "<Control>f", NULL };
    const char *queue[] = { "<Control>j", NULL };
    const char *assistant[] = { "<Control>e", NULL };
    const char *compare[] = { "<Control>d", NULL };

    gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.generate", generate);
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.preferences", preferences);
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.search", search);
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-queue", queue);
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-assistant", assistant);
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.compare", compare);
  }

  self->settings = g_settings_new ("io.github.takes.Takes");
  open_library (self);
}

static void
takes_application_activate (GApplication *app)
{
  TakesApplication *self = TAKES_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    {
      window = GTK_WINDOW (takes_window_new (GTK_APPLICATION (app), self->store, self->queue));
      if (self->open_error != NULL)
        takes_window_show_error (TAKES_WINDOW (window), self->open_error);
      for (guint i = 0; i < self->problems->len; i++)
        takes_window_show_message (TAKES_WINDOW (window), g_ptr_array_index (self->problems, i));
      g_ptr_array_set_size (self->problems, 0);
    }
  gtk_window_present (window);
}

static void
takes_application_shutdown (GApplication *app)
{
  TakesApplication *self = TAKES_APPLICATION (app);

  /* Stopping lets remote jobs go on; the next start resumes them. */
  if (self->queue != NULL)
    takes_queue_stop (self->queue);

  G_APPLICATION_CLASS (takes_application_parent_class)->shutdown (app);
}

static void
takes_application_finalize (GObject *object)
{
  TakesApplication *self = TAKES_APPLICATION (object);

  g_clear_object (&self->queue);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_error (&self->open_error);
  g_clear_pointer (&self->problems, g_ptr_array_unref);

  G_OBJECT_CLASS (takes_application_parent_class)->finalize (object);
}

static void
takes_application_class_init (TakesApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = takes_application_finalize;
  app_class->startup = takes_application_startup;
  app_class->activate = takes_application_activate;
  app_class->shutdown = takes_application_shutdown;
}

static void
takes_application_init (TakesApplication *self)
{
  self->problems = g_ptr_array_new_with_free_func (g_free);
}

TakesApplication *
takes_application_new (void)
{
  /* The Devel build has its own id but shares the resources and settings. */
  return g_object_new (TAKES_TYPE_APPLICATION, "application-id", APP_ID, "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/takes/Takes", NULL);
}

TakesStore *
takes_application_get_store (TakesApplication *self)
{
  g_return_val_if_fail (TAKES_IS_APPLICATION (self), NULL);
  return self->store;
}

TakesQueue *
takes_application_get_queue (TakesApplication *self)
{
  g_return_val_if_fail (TAKES_IS_APPLICATION (self), NULL);
  return self->queue;
}
