/* takes-preferences-window.c: settings, endpoints and their keys. */
#include "config.h"

#include <glib/gi18n.h>

#include "takes-backend-comfyui.h"
#include "takes-backend-dashscope.h"
#include "takes-backend-registry.h"
#include "takes-preferences-window.h"
#include "takes-safety.h"
#include "takes-secrets.h"

struct _TakesPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  AdwComboRow *default_backend_row;
  AdwEntryRow *default_model_row;
  GtkSpinButton *default_frames_spin;
  GtkSpinButton *default_steps_spin;
  GtkSpinButton *default_guidance_spin;
  GtkSpinButton *budget_spin;
  GtkSwitch *notifications_switch;
  GtkListBox *folders_list;
  AdwComboRow *region_row;
  AdwPasswordEntryRow *dashscope_key_row;
  AdwEntryRow *comfyui_url_row;
  AdwPasswordEntryRow *comfyui_token_row;
  AdwEntryRow *server_url_row;
  AdwPasswordEntryRow *server_token_row;
  AdwEntryRow *llm_url_row;
  AdwEntryRow *llm_model_row;
  AdwPasswordEntryRow *llm_key_row;
  AdwActionRow *storage_row;
  GtkListBox *safety_list;
  AdwActionRow *user_safety_row;
  GtkButton *dashscope_test_button;
  GtkButton *comfyui_test_button;
  GtkButton *server_test_button;

  GSettings *settings;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (TakesPreferencesWindow, takes_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
toast (TakesPreferencesWindow *self, const char *message)
{
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (message));
}

/* Keys -------------------------------------------------------------------- */

char *
takes_preferences_window_get_key_endpoint (TakesPreferencesWindow *self, const char *backend_id)
{
  g_autoptr (TakesBackend) backend = NULL;

  g_return_val_if_fail (TAKES_IS_PREFERENCES_WINDOW (self), NULL);

  if (g_strcmp0 (backend_id, "llm") == 0)
    return g_settings_get_string (self->settings, "llm-endpoint-url");
  backend = takes_backend_registry_create (backend_id, self->settings, NULL);
  if (backend == NULL)
    return NULL;
  if (TAKES_IS_BACKEND_DASHSCOPE (backend))
    return g_strdup (takes_backend_dashscope_get_base_url (TAKES_BACKEND_DASHSCOPE (backend)));
  if (TAKES_IS_BACKEND_COMFYUI (backend))
    return g_strdup (takes_backend_comfyui_get_url (TAKES_BACKEND_COMFYUI (backend)));
  return NULL;
}

static void
store_key_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (takes_secrets_store_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
takes_preferences_window_store_key_async (TakesPreferencesWindow *self,
                                          const char *backend_id,
                                          const char *key,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *endpoint = NULL;

  g_return_if_fail (TAKES_IS_PREFERENCES_WINDOW (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_preferences_window_store_key_async);
  endpoint = takes_preferences_window_get_key_endpoint (self, backend_id);
  if (endpoint == NULL || *endpoint == '\0')
    {
      g_task_return_new_error (
          task, TAKES_BACKEND_REGISTRY_ERROR, TAKES_BACKEND_REGISTRY_ERROR_NOT_CONFIGURED, "%s",
          _ ("Enter the address of this endpoint first; its key is kept with the address."));
      return;
    }
  takes_secrets_store_async (backend_id, endpoint, key, cancellable, store_key_cb, g_steal_pointer (&task));
}

gboolean
takes_preferences_window_store_key_finish (TakesPreferencesWindow *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
key_stored_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TakesPreferencesWindow *self = TAKES_PREFERENCES_WINDOW (source);
  g_autoptr (AdwPasswordEntryRow) row = user_data;
  g_autoptr (GError) error = NULL;

  if (!takes_preferences_window_store_key_finish (self, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
      return;
    }
  /* The field is emptied so the key is not left readable on screen. */
  gtk_editable_set_text (GTK_EDITABLE (row), "");
  toast (self, _ ("The key is saved in the keyring."));
}

static void
key_apply_cb (AdwEntryRow *row, TakesPreferencesWindow *self)
{
  const char *backend_id = g_object_get_data (G_OBJECT (row), "takes-backend");
  const char *key = gtk_editable_get_text (GTK_EDITABLE (row));
  g_autoptr (GError) error = NULL;

  if (!takes_secrets_check_key (key, &error))
    {
      toast (self, error->message);
      return;
    }
  takes_preferences_window_store_key_async (self, backend_id, key, self->cancellable, key_stored_cb,
                                            g_object_ref (row));
}

/* Test connection --------------------------------------------------------- */

static void
checked_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesPreferencesWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;

  if (takes_backend_check_available_finish (TAKES_BACKEND (source), result, &error))
    message = g_strdup_printf (_ ("%s answers and accepts the key."),
                               takes_backend_get_display_name (TAKES_BACKEND (source)));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  else
    message = g_strdup (error->message);
  toast (self, message);
}

static void
test_clicked_cb (GtkButton *button, TakesPreferencesWindow *self)
{
  const char *backend_id = g_object_get_data (G_OBJECT (button), "takes-backend");
  g_autoptr (TakesBackend) backend = NULL;
  g_autoptr (GError) error = NULL;

  backend = takes_backend_registry_create (backend_id, self->settings, &error);
  if (backend == NULL)
    {
      toast (self, error->message);
      return;
    }
  toast (self, _ ("Testing the connection…"));
  takes_backend_check_available_async (backend, self->cancellable, checked_cb, g_object_ref (self));
}

/* Folders and lists --------------------------------------------------------- */

typedef struct
{
  guint n_files;
  guint64 n_bytes;
} ScanResult;

static void
scan_dir (GFile *dir, guint depth, ScanResult *result, GCancellable *cancellable)
{
  g_autoptr (GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (dir,
                                        G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE
                                                                       "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                        G_FILE_QUERY_INFO_NONE, cancellable, NULL);
  if (children == NULL)
    return;
  while ((info = g_file_enumerator_next_file (children, cancellable, NULL)) != NULL)
    {
      const char *name = g_file_info_get_name (info);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY && depth > 0)
        {
          g_autoptr (GFile) child = g_file_get_child (dir, name);
          scan_dir (child, depth - 1, result, cancellable);
        }
      else if (g_str_has_suffix (name, ".safetensors") || g_str_has_suffix (name, ".pth"))
        {
          result->n_files++;
          result->n_bytes += g_file_info_get_size (info);
        }
      g_object_unref (info);
    }
}

static void
scan_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (GFile) dir = g_file_new_for_path (task_data);
  ScanResult *result = g_new0 (ScanResult, 1);

  /* Model sets sit in the folder or one level down (see takes-backend-local.h),
   * and the official layout keeps some parts one more level down. */
  scan_dir (dir, 2, result, cancellable);
  g_task_return_pointer (task, result, g_free);
}

static void
scan_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (AdwActionRow) row = user_data;
  g_autofree ScanResult *scan = g_task_propagate_pointer (G_TASK (result), NULL);
  g_autofree char *size = NULL;
  g_autofree char *subtitle = NULL;

  if (scan == NULL)
    return;
  if (scan->n_files == 0)
    subtitle = g_strdup (_ ("No weight files found here"));
  else
    {
      size = g_format_size (scan->n_bytes);
      subtitle = g_strdup_printf (ngettext ("%u weight file, %s", "%u weight files, %s", scan->n_files),
                                  scan->n_files, size);
    }
  adw_action_row_set_subtitle (row, subtitle);
}

static void fill_path_list (TakesPreferencesWindow *self, GtkListBox *list, const char *key, gboolean scan);

static void
remove_path_cb (GtkButton *button, TakesPreferencesWindow *self)
{
  const char *key = g_object_get_data (G_OBJECT (button), "takes-key");
  const char *path = g_object_get_data (G_OBJECT (button), "takes-path");
  g_auto (GStrv) paths = g_settings_get_strv (self->settings, key);
  g_autoptr (GStrvBuilder) kept = g_strv_builder_new ();
  g_auto (GStrv) result = NULL;

  for (guint i = 0; paths[i] != NULL; i++)
    if (g_strcmp0 (paths[i], path) != 0)
      g_strv_builder_add (kept, paths[i]);
  result = g_strv_builder_end (kept);
  g_settings_set_strv (self->settings, key, (const char *const *)result);
}

static void
fill_path_list (TakesPreferencesWindow *self, GtkListBox *list, const char *key, gboolean scan)
{
  g_auto (GStrv) paths = g_settings_get_strv (self->settings, key);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
  for (guint i = 0; paths[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *title = g_markup_escape_text (paths[i], -1);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _ ("Remove"));
      g_object_set_data (G_OBJECT (remove), "takes-key", (gpointer)key);
      g_object_set_data_full (G_OBJECT (remove), "takes-path", g_strdup (paths[i]), g_free);
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_path_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      gtk_list_box_append (list, row);

      if (scan)
        {
          g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, scan_done_cb, g_object_ref (row));

          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _ ("Looking for weight files…"));
          g_task_set_task_data (task, g_strdup (paths[i]), g_free);
          g_task_run_in_thread (task, scan_thread);
        }
    }
  gtk_widget_set_visible (GTK_WIDGET (list), paths[0] != NULL);
}

static void
settings_changed_cb (GSettings *settings, const char *key, TakesPreferencesWindow *self)
{
  if (g_strcmp0 (key, "model-folders") == 0)
    fill_path_list (self, self->folders_list, "model-folders", TRUE);
  else if (g_strcmp0 (key, "safety-list-paths") == 0)
    fill_path_list (self, self->safety_list, "safety-list-paths", FALSE);
  else if (g_strcmp0 (key, "storage-location") == 0)
    {
      g_autofree char *location = g_settings_get_string (settings, key);
      adw_action_row_set_subtitle (self->storage_row,
                                   *location != '\0' ? location : _ ("The default folder"));
    }
}

typedef struct
{
  TakesPreferencesWindow *self;
  const char *key;
  gboolean append;
} ChooseData;

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, ChooseData *data)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL && data->append)
        {
          g_auto (GStrv) paths = g_settings_get_strv (data->self->settings, data->key);
          g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
          g_auto (GStrv) result = NULL;

          g_strv_builder_addv (builder, (const char **)paths);
          if (!g_strv_contains ((const char *const *)paths, path))
            g_strv_builder_add (builder, path);
          result = g_strv_builder_end (builder);
          g_settings_set_strv (data->self->settings, data->key, (const char *const *)result);
        }
      else if (path != NULL)
        {
          g_settings_set_string (data->self->settings, data->key, path);
          toast (data->self, _ ("The new library location is used from the next start of Takes."));
        }
    }
  g_object_unref (data->self);
  g_free (data);
  g_object_unref (dialog);
}

static void
choose (TakesPreferencesWindow *self,
        const char *title,
        GtkFileChooserAction action,
        const char *key,
        gboolean append)
{
  GtkFileChooserNative *chooser
      = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, _ ("_Add"), _ ("_Cancel"));
  ChooseData *data = g_new0 (ChooseData, 1);

  data->self = g_object_ref (self);
  data->key = key;
  data->append = append;
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), data);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
add_folder_cb (TakesPreferencesWindow *self)
{
  choose (self, _ ("Add a Model Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "model-folders", TRUE);
}

static void
add_safety_list_cb (TakesPreferencesWindow *self)
{
  choose (self, _ ("Add a Word List"), GTK_FILE_CHOOSER_ACTION_OPEN, "safety-list-paths", TRUE);
}

static void
choose_storage_cb (TakesPreferencesWindow *self)
{
  choose (self, _ ("Choose the Library Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "storage-location",
          FALSE);
}

/* Enum rows ---------------------------------------------------------------- */

static void
region_selected_cb (TakesPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->region_row);

  if (selected != GTK_INVALID_LIST_POSITION
      && (int)selected != g_settings_get_enum (self->settings, "dashscope-region"))
    g_settings_set_enum (self->settings, "dashscope-region", (int)selected);
}

static void
default_backend_selected_cb (TakesPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->default_backend_row);

  if (selected != GTK_INVALID_LIST_POSITION
      && (int)selected != g_settings_get_enum (self->settings, "default-backend"))
    g_settings_set_enum (self->settings, "default-backend", (int)selected);
}

/* GObject ------------------------------------------------------------------ */

static void
takes_preferences_window_dispose (GObject *object)
{
  TakesPreferencesWindow *self = TAKES_PREFERENCES_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (takes_preferences_window_parent_class)->dispose (object);
}

static void
takes_preferences_window_class_init (TakesPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = takes_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/takes/Takes/ui/takes-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, default_backend_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, default_model_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, default_frames_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, default_steps_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, default_guidance_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, budget_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, folders_list);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, region_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, dashscope_key_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, comfyui_url_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, comfyui_token_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, server_url_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, server_token_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, llm_url_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, llm_model_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, llm_key_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, storage_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, safety_list);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, user_safety_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, dashscope_test_button);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, comfyui_test_button);
  gtk_widget_class_bind_template_child (widget_class, TakesPreferencesWindow, server_test_button);
  gtk_widget_class_bind_template_callback (widget_class, key_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, test_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, add_folder_cb);
  gtk_widget_class_bind_template_callback (widget_class, add_safety_list_cb);
  gtk_widget_class_bind_template_callback (widget_class, choose_storage_cb);
  gtk_widget_class_bind_template_callback (widget_class, region_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, default_backend_selected_cb);
}

static void
tag_row (gpointer row, const char *backend_id)
{
  g_object_set_data (G_OBJECT (row), "takes-backend", (gpointer)backend_id);
}

static void
takes_preferences_window_init (TakesPreferencesWindow *self)
{
  g_autofree char *user_list = takes_safety_get_user_list_path ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new ("io.github.takes.Takes");

  tag_row (self->dashscope_key_row, "dashscope");
  tag_row (self->comfyui_token_row, "comfyui");
  tag_row (self->server_token_row, "takes-server");
  tag_row (self->llm_key_row, "llm");
  tag_row (self->dashscope_test_button, "dashscope");
  tag_row (self->comfyui_test_button, "comfyui");
  tag_row (self->server_test_button, "takes-server");

  adw_combo_row_set_selected (self->region_row,
                              (guint)g_settings_get_enum (self->settings, "dashscope-region"));
  adw_combo_row_set_selected (self->default_backend_row,
                              (guint)g_settings_get_enum (self->settings, "default-backend"));
  g_settings_bind (self->settings, "default-model", self->default_model_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "default-frames", self->default_frames_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "default-steps", self->default_steps_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "default-guidance", self->default_guidance_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "project-budget", self->budget_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notifications", self->notifications_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "comfyui-url", self->comfyui_url_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "takes-server-url", self->server_url_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "llm-endpoint-url", self->llm_url_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "llm-model", self->llm_model_row, "text", G_SETTINGS_BIND_DEFAULT);

  adw_action_row_set_subtitle (self->user_safety_row, user_list);
  g_signal_connect (self->settings, "changed", G_CALLBACK (settings_changed_cb), self);
  settings_changed_cb (self->settings, "model-folders", self);
  settings_changed_cb (self->settings, "safety-list-paths", self);
  settings_changed_cb (self->settings, "storage-location", self);
}

GtkWidget *
takes_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (TAKES_TYPE_PREFERENCES_WINDOW, "transient-for", parent, "modal", parent != NULL, NULL);
}
