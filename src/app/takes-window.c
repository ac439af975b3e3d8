/* takes-window.c: the studio window: a library view (prompt editor |
 * gallery | inspector), the compare view and the storyboard. */
#include "config.h"

#include <glib/gi18n.h>

#include "takes-backend-registry.h"
#include "takes-compare-view.h"
#include "takes-preferences-window.h"
#include "takes-queue-panel.h"
#include "takes-storyboard-page.h"
#include "takes-thumbnail-cache.h"
#include "takes-window.h"

/* A job that ran at least this long earns a notification when it ends while
 * the window is in the background; short ones would only be noise. */
#define NOTIFY_AFTER_SECONDS 20

struct _TakesWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  GtkDropDown *project_dropdown;
  GtkPaned *outer_paned;
  GtkPaned *inner_paned;
  TakesPromptEditor *editor;
  TakesGallery *gallery;
  TakesInspector *inspector;
  GtkMenuButton *queue_button;
  TakesQueuePanel *queue_panel;
  AdwViewStack *view_stack;
  GtkStack *compare_stack;
  TakesCompareView *compare_view;
  TakesStoryboardPage *storyboard_page;

  GSettings *settings;
  TakesStore *store;
  TakesQueue *queue;
  TakesThumbnailCache *thumbnails;
  GPtrArray *projects; /* TakesProject, in the dropdown's order */
  gint64 project_id;
  gboolean inspector_position_restored;
};

G_DEFINE_FINAL_TYPE (TakesWindow, takes_window, ADW_TYPE_APPLICATION_WINDOW)

void
takes_window_show_error (TakesWindow *self, const GError *error)
{
  AdwToast *toast;

  g_return_if_fail (TAKES_IS_WINDOW (self));
  toast = adw_toast_new (error->message);
  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
show_message (TakesWindow *self, const char *message)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

/* Projects -------------------------------------------------------------- */

static void
fill_projects (TakesWindow *self)
{
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  g_autoptr (GError) error = NULL;
  guint selected = 0;

  g_clear_pointer (&self->projects, g_ptr_array_unref);
  if (self->store != NULL)
    self->projects = takes_store_list_projects (self->store, &error);
  if (self->projects == NULL)
    self->projects = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_project_free);
  if (error != NULL)
    takes_window_show_error (self, error);

  for (guint i = 0; i < self->projects->len; i++)
    {
      TakesProject *project = g_ptr_array_index (self->projects, i);

      gtk_string_list_append (names, project->name);
      if (project->id == self->project_id)
        selected = i;
    }
  gtk_drop_down_set_model (self->project_dropdown, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->project_dropdown, selected);
  gtk_widget_set_sensitive (GTK_WIDGET (self->project_dropdown), self->projects->len > 0);
}

static void
project_selected_cb (TakesWindow *self)
{
  guint selected = gtk_drop_down_get_selected (self->project_dropdown);

  if (self->projects == NULL || selected >= self->projects->len)
    return;
  takes_window_set_project_id (self, ((TakesProject *)g_ptr_array_index (self->projects, selected))->id);
}

gint64
takes_window_get_project_id (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), 0);
  return self->project_id;
}

void
takes_window_set_project_id (TakesWindow *self, gint64 project_id)
{
  g_return_if_fail (TAKES_IS_WINDOW (self));

  if (project_id == 0 && self->store != NULL)
    project_id = takes_store_get_default_project (self->store);
  if (self->project_id == project_id)
    return;
  self->project_id = project_id;
  takes_gallery_set_project_id (self->gallery, project_id);
  takes_storyboard_page_set_project (self->storyboard_page, project_id);
  for (guint i = 0; self->projects != NULL && i < self->projects->len; i++)
    {
      TakesProject *project = g_ptr_array_index (self->projects, i);

      if (project->id == project_id)
        {
          gtk_drop_down_set_selected (self->project_dropdown, i);
          g_settings_set_string (self->settings, "last-project", project->slug);
        }
    }
}

static void
new_project_response_cb (AdwMessageDialog *dialog, const char *response, TakesWindow *self)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  g_autoptr (TakesProject) project = NULL;
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "create") != 0 || self->store == NULL)
    return;
  project = takes_store_create_project (self->store, gtk_editable_get_text (entry), &error);
  if (project == NULL)
    {
      takes_window_show_error (self, error);
      return;
    }
  self->project_id = project->id;
  fill_projects (self);
  self->project_id = 0;
  takes_window_set_project_id (self, project->id);
}

static void
new_project_entry_changed_cb (GtkEditable *entry, AdwMessageDialog *dialog)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "create", *name != '\0');
}

static void
new_project_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesWindow *self = TAKES_WINDOW (widget);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _ ("New Project"),
                                              _ ("Takes, shots and budgets are kept per project."));
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _ ("Project name"));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "create",
                                    _ ("C_reate"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "create", FALSE);
  g_signal_connect (entry, "changed", G_CALLBACK (new_project_entry_changed_cb), dialog);
  g_signal_connect (dialog, "response", G_CALLBACK (new_project_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Generating ------------------------------------------------------------- */

static void
generate_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesWindow *self = TAKES_WINDOW (widget);
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GError) error = NULL;

  if (self->queue == NULL)
    {
      show_message (self, _ ("Nothing can be queued because the library could not be opened."));
      return;
    }

  takes = takes_prompt_editor_build_takes (self->editor, self->project_id, &error);
  if (takes == NULL)
    {
      /* Safety blocks are already shown beside the prompt. */
      if (!g_error_matches (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED))
        takes_window_show_error (self, error);
      return;
    }
  if (!takes_queue_enqueue_takes (self->queue, takes, 0, NULL, &error))
    {
      takes_window_show_error (self, error);
      return;
    }
  {
    g_autofree char *message
        = g_strdup_printf (ngettext ("%u take queued", "%u takes queued", takes->len), takes->len);
    show_message (self, message);
  }
  takes_gallery_reload (self->gallery);
}

static void
generate_again_cb (TakesInspector *inspector, TakesTake *take, TakesWindow *self)
{
  TakesRecipe *recipe = takes_take_get_recipe (take);

  if (recipe == NULL)
    {
      show_message (self, _ ("The recipe of this take cannot be read, so it cannot be generated again."));
      return;
    }
  takes_prompt_editor_load_recipe (self->editor, recipe, takes_take_get_id (take));
  if (takes_take_get_prompt (take) != NULL)
    takes_prompt_editor_set_prompt (self->editor, takes_take_get_prompt (take));
  gtk_widget_grab_focus (GTK_WIDGET (self->editor));
}

/* Gallery and inspector ------------------------------------------------- */

static void update_compare_actions (TakesWindow *self);

static void
selected_take_cb (TakesWindow *self)
{
  takes_inspector_set_take (self->inspector, takes_gallery_get_selected_take (self->gallery));
  update_compare_actions (self);
}

static void
lineage_take_selected_cb (TakesInspector *inspector, gint64 take_id, TakesWindow *self)
{
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;

  if (takes_gallery_select_take (self->gallery, take_id))
    return;
  /* Outside the current filter: show it in the inspector alone. */
  take = takes_store_get_take (self->store, take_id, &error);
  if (take == NULL)
    takes_window_show_error (self, error);
  else
    takes_inspector_set_take (self->inspector, take);
}

static void
take_changed_cb (TakesInspector *inspector, TakesTake *take, TakesWindow *self)
{
  takes_gallery_reload (self->gallery);
}

/* Compare and storyboard ------------------------------------------------ */

/* The one place the enabled state of the compare actions is computed. */
static void
update_compare_actions (TakesWindow *self)
{
  guint n = takes_gallery_get_n_selected (self->gallery);
  TakesTake *take = takes_gallery_get_selected_take (self->gallery);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.compare",
                                 self->store != NULL && n >= 2 && n <= TAKES_PLAYER_MAX_SOURCES);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.compare-batch",
                                 self->store != NULL && take != NULL && takes_take_get_batch_id (take) > 0);
}

static void
show_compare (TakesWindow *self)
{
  gtk_stack_set_visible_child_name (self->compare_stack, "view");
  adw_view_stack_set_visible_child_name (self->view_stack, "compare");
  gtk_widget_grab_focus (GTK_WIDGET (self->compare_view));
}

static void
compare_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesWindow *self = TAKES_WINDOW (widget);
  g_autoptr (GArray) ids = takes_gallery_get_selected_ids (self->gallery);
  g_autoptr (GError) error = NULL;
  gint64 batch_id = 0;

  if (ids->len < 2 || ids->len > TAKES_PLAYER_MAX_SOURCES)
    {
      show_message (self, _ ("Select two to four takes to compare them."));
      return;
    }
  if (!takes_compare_view_set_takes (self->compare_view, (const gint64 *)ids->data, ids->len, &error))
    {
      takes_window_show_error (self, error);
      return;
    }
  /* Takes of one batch keep "compare next pair" working from here. */
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (TakesTake) take = takes_store_get_take (self->store, g_array_index (ids, gint64, i), NULL);
      gint64 take_batch = take != NULL ? takes_take_get_batch_id (take) : 0;

      if (i == 0)
        batch_id = take_batch;
      else if (take_batch != batch_id)
        batch_id = 0;
    }
  takes_compare_view_set_batch (self->compare_view, batch_id);
  show_compare (self);
}

static void
compare_batch_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesWindow *self = TAKES_WINDOW (widget);
  TakesTake *take = takes_gallery_get_selected_take (self->gallery);
  g_autoptr (GError) error = NULL;

  if (take == NULL || takes_take_get_batch_id (take) <= 0)
    return;
  takes_window_compare_batch (self, takes_take_get_batch_id (take), &error);
  if (error != NULL)
    takes_window_show_error (self, error);
}

gboolean
takes_window_compare_batch (TakesWindow *self, gint64 batch_id, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (TAKES_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  takes_compare_view_set_batch (self->compare_view, batch_id);
  if (!takes_compare_view_compare_next_pair (self->compare_view, &local_error))
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        show_message (self,
                      _ ("Every pair of this batch that matters has been judged: its ranking is settled."));
      return FALSE;
    }
  show_compare (self);
  return TRUE;
}

static void
gallery_selection_cb (TakesWindow *self)
{
  update_compare_actions (self);
}

static void
view_changed_cb (TakesWindow *self)
{
  const char *name = adw_view_stack_get_visible_child_name (self->view_stack);

  /* The stack's first page is added while the template is still built. */
  if (self->compare_view == NULL || self->storyboard_page == NULL || self->inspector == NULL)
    return;

  /* Only the view on screen plays: a hidden player would keep the CPU and
   * the sound busy. */
  if (g_strcmp0 (name, "compare") != 0)
    takes_player_pause (takes_compare_view_get_player (self->compare_view));
  if (g_strcmp0 (name, "storyboard") != 0)
    takes_player_pause (takes_storyboard_page_get_player (self->storyboard_page));
  if (g_strcmp0 (name, "library") != 0)
    takes_inspector_pause (self->inspector);
  gtk_stack_set_visible_child_name (
      self->compare_stack, takes_compare_view_get_n_takes (self->compare_view) > 0 ? "view" : "empty");
  /* Takes may have been made or chosen since the storyboard was read. */
  if (g_strcmp0 (name, "storyboard") == 0)
    takes_storyboard_page_reload (self->storyboard_page, NULL);
}

static void
verdict_recorded_cb (TakesWindow *self)
{
  takes_gallery_reload (self->gallery);
}

/* Queue ----------------------------------------------------------------- */

static void
send_notification (TakesWindow *self, const char *id, const char *title, const char *body)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  g_autoptr (GNotification) notification = NULL;

  if (app == NULL)
    return;
  notification = g_notification_new (title);
  if (body != NULL)
    g_notification_set_body (notification, body);
  g_application_send_notification (G_APPLICATION (app), id, notification);
}

static TakesWindowNotifyFunc notify_func = send_notification;

void
takes_window_set_notify_func (TakesWindowNotifyFunc func)
{
  notify_func = func != NULL ? func : send_notification;
}

static void
job_finished_cb (TakesQueue *queue, TakesJob *job, TakesWindow *self)
{
  g_autoptr (TakesTake) take = NULL;
  const char *title;
  const char *body;
  g_autofree char *id = NULL;

  takes_gallery_reload (self->gallery);

  if (gtk_window_is_active (GTK_WINDOW (self)) || !g_settings_get_boolean (self->settings, "notifications"))
    return;
  take = takes_store_get_take (self->store, takes_job_get_take_id (job), NULL);
  if (take != NULL && takes_take_get_seconds_spent (take) > 0
      && takes_take_get_seconds_spent (take) < NOTIFY_AFTER_SECONDS)
    return;

  switch (takes_job_get_state (job))
    {
      case TAKES_JOB_STATE_DONE:
        title = _ ("Take Ready");
        body = takes_recipe_get_prompt (takes_job_get_recipe (job));
        break;
      case TAKES_JOB_STATE_FAILED:
        title = _ ("Take Failed");
        body = takes_job_get_last_error (job);
        break;
      case TAKES_JOB_STATE_QUEUED:
      case TAKES_JOB_STATE_RUNNING:
      case TAKES_JOB_STATE_PAUSED:
      case TAKES_JOB_STATE_CANCELLED:
      default:
        return;
    }
  id = g_strdup_printf ("job-%" G_GINT64_FORMAT, takes_job_get_id (job));
  notify_func (self, id, title, body);
}

static void
update_queue_button (TakesWindow *self)
{
  guint n = self->queue != NULL ? takes_queue_get_n_active (self->queue) : 0;
  g_autofree char *label = NULL;

  if (n > 0)
    {
      label = g_strdup_printf ("%u", n);
      gtk_menu_button_set_label (self->queue_button, label);
      gtk_widget_add_css_class (GTK_WIDGET (self->queue_button), "accent");
    }
  else
    {
      gtk_menu_button_set_icon_name (self->queue_button, "view-list-ordered-symbolic");
      gtk_widget_remove_css_class (GTK_WIDGET (self->queue_button), "accent");
    }
}

/* Other actions ------------------------------------------------------------ */

static void
preferences_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  GtkWindow *preferences = GTK_WINDOW (takes_preferences_window_new (GTK_WINDOW (widget)));

  gtk_window_present (preferences);
}

static void
search_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesWindow *self = TAKES_WINDOW (widget);

  gtk_widget_activate_action (GTK_WIDGET (self->gallery), "gallery.focus-search", NULL);
}

static void
show_queue_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  gtk_menu_button_popup (TAKES_WINDOW (widget)->queue_button);
}

static void
show_assistant_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  takes_prompt_editor_show_assistant (TAKES_WINDOW (widget)->editor, TRUE);
}

static void
use_test_model_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesWindow *self = TAKES_WINDOW (widget);
  g_autoptr (TakesRecipe) recipe = takes_prompt_editor_get_recipe (self->editor);

  takes_recipe_set_backend (recipe, "local");
  takes_recipe_set_model (recipe, "tiny");
  /* The tiny model is only a check that generation works: keep it quick. */
  takes_recipe_set_width (recipe, 64);
  takes_recipe_set_height (recipe, 64);
  takes_recipe_set_frames (recipe, 9);
  takes_recipe_set_steps (recipe, 4);
  takes_prompt_editor_load_recipe (self->editor, recipe, 0);
  show_message (self, _ ("The test model is selected: its takes are noise, made in seconds."));
}

/* Window state ------------------------------------------------------------ */

static void
restore_inspector_position_cb (TakesWindow *self)
{
  int max = 0;
  int width = g_settings_get_int (self->settings, "inspector-pane-position");

  g_object_get (self->inner_paned, "max-position", &max, NULL);
  /* Allocations before the window is mapped are not its real size. */
  if (self->inspector_position_restored || !gtk_widget_get_mapped (GTK_WIDGET (self->inner_paned)) || max <= 0
      || max == G_MAXINT)
    return;
  self->inspector_position_restored = TRUE;
  gtk_paned_set_position (
      self->inner_paned, CLAMP (gtk_widget_get_width (GTK_WIDGET (self->inner_paned)) - width, max / 3, max));
}

static gboolean
restore_inspector_idle_cb (gpointer user_data)
{
  TakesWindow *self = user_data;

  restore_inspector_position_cb (self);
  return G_SOURCE_REMOVE;
}

static void
inner_paned_map_cb (TakesWindow *self)
{
  /* The max-position of the first allocation may come before mapping, and
   * not change after it. */
  g_idle_add_full (G_PRIORITY_DEFAULT, restore_inspector_idle_cb, g_object_ref (self), g_object_unref);
}

static gboolean
takes_window_close_request (GtkWindow *window)
{
  TakesWindow *self = TAKES_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  g_settings_set_string (
      self->settings, "last-view",
      g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "storyboard") == 0 ? "storyboard"
                                                                                              : "library");
  if (!gtk_window_is_maximized (window))
    {
      g_settings_set_int (self->settings, "window-width", MAX (width, 360));
      g_settings_set_int (self->settings, "window-height", MAX (height, 294));
    }
  if (self->inspector_position_restored)
    {
      int inner_width = gtk_widget_get_width (GTK_WIDGET (self->inner_paned));
      g_settings_set_int (self->settings, "inspector-pane-position",
                          CLAMP (inner_width - gtk_paned_get_position (self->inner_paned), 0, 32768));
    }
  g_settings_apply (self->settings);

  return GTK_WINDOW_CLASS (takes_window_parent_class)->close_request (window);
}

static void
takes_window_dispose (GObject *object)
{
  TakesWindow *self = TAKES_WINDOW (object);

  if (self->queue != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->queue, self);
      g_signal_handlers_disconnect_by_data (takes_queue_get_jobs (self->queue), self);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_WINDOW);
  g_clear_object (&self->queue);
  g_clear_object (&self->store);
  g_clear_object (&self->thumbnails);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->projects, g_ptr_array_unref);

  G_OBJECT_CLASS (takes_window_parent_class)->dispose (object);
}

static void
takes_window_class_init (TakesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = takes_window_dispose;
  window_class->close_request = takes_window_close_request;

  g_type_ensure (TAKES_TYPE_PROMPT_EDITOR);
  g_type_ensure (TAKES_TYPE_GALLERY);
  g_type_ensure (TAKES_TYPE_INSPECTOR);
  g_type_ensure (TAKES_TYPE_QUEUE_PANEL);
  g_type_ensure (TAKES_TYPE_COMPARE_VIEW);
  g_type_ensure (TAKES_TYPE_STORYBOARD_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/takes/Takes/ui/takes-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, project_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, outer_paned);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, inner_paned);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, editor);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, gallery);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, inspector);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, queue_button);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, queue_panel);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, compare_stack);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, compare_view);
  gtk_widget_class_bind_template_child (widget_class, TakesWindow, storyboard_page);
  gtk_widget_class_bind_template_callback (widget_class, view_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, project_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, selected_take_cb);
  gtk_widget_class_bind_template_callback (widget_class, restore_inspector_position_cb);

  gtk_widget_class_install_action (widget_class, "win.generate", NULL, generate_action_cb);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action_cb);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action_cb);
  gtk_widget_class_install_action (widget_class, "win.show-queue", NULL, show_queue_action_cb);
  gtk_widget_class_install_action (widget_class, "win.show-assistant", NULL, show_assistant_action_cb);
  gtk_widget_class_install_action (widget_class, "win.use-test-model", NULL, use_test_model_action_cb);
  gtk_widget_class_install_action (widget_class, "win.new-project", NULL, new_project_action_cb);
  gtk_widget_class_install_action (widget_class, "win.compare", NULL, compare_action_cb);
  gtk_widget_class_install_action (widget_class, "win.compare-batch", NULL, compare_batch_action_cb);

  /* The same keys work without an application (tests, and before startup). */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "win.generate", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK, "win.generate",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK, "win.compare", NULL);
}

static void
takes_window_init (TakesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new ("io.github.takes.Takes");
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  g_settings_bind (self->settings, "editor-pane-position", self->outer_paned, "position",
                   G_SETTINGS_BIND_DEFAULT);

  g_signal_connect_object (self->inner_paned, "map", G_CALLBACK (inner_paned_map_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->inspector, "take-selected", G_CALLBACK (lineage_take_selected_cb), self, 0);
  g_signal_connect_object (self->inspector, "generate-again", G_CALLBACK (generate_again_cb), self, 0);
  g_signal_connect_object (self->inspector, "take-changed", G_CALLBACK (take_changed_cb), self, 0);
  g_signal_connect_object (self->gallery, "notify::n-selected", G_CALLBACK (gallery_selection_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->compare_view, "verdict-recorded", G_CALLBACK (verdict_recorded_cb), self,
                           G_CONNECT_SWAPPED);

  if (g_strcmp0 (PROFILE, "development") == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
}

TakesWindow *
takes_window_new (GtkApplication *app, TakesStore *store, TakesQueue *queue)
{
  TakesWindow *self = g_object_new (TAKES_TYPE_WINDOW, "application", app, NULL);
  g_autofree char *last = g_settings_get_string (self->settings, "last-project");
  g_autoptr (TakesProject) project = NULL;
  g_autoptr (GPtrArray) backends = g_ptr_array_new_with_free_func (g_object_unref);

  /* AdwApplication loads style.css and the icons itself; a window made
   * without one (tests, benchmarks) loads them here so it looks the same. */
  if (app == NULL)
    {
      GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (self));
      g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();

      gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (display),
                                        "/io/github/takes/Takes/icons");
      gtk_css_provider_load_from_resource (css, "/io/github/takes/Takes/style.css");
      gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    }
  g_set_object (&self->store, store);
  g_set_object (&self->queue, queue);
  self->thumbnails = takes_thumbnail_cache_new (NULL, g_settings_get_int (self->settings, "thumbnail-size"));

  if (store != NULL)
    {
      if (*last != '\0')
        project = takes_store_find_project (store, last, NULL);
      self->project_id = project != NULL ? project->id : takes_store_get_default_project (store);
    }
  fill_projects (self);
  takes_gallery_set_project_id (self->gallery, self->project_id);
  {
    g_autofree char *view = g_settings_get_string (self->settings, "last-view");

    adw_view_stack_set_visible_child_name (self->view_stack, view);
  }
  takes_gallery_set_store (self->gallery, store, self->thumbnails);
  takes_inspector_set_store (self->inspector, store);
  takes_inspector_set_take_list (self->inspector, takes_gallery_get_list (self->gallery));
  takes_compare_view_set_store (self->compare_view, store);
  takes_storyboard_page_set_store (self->storyboard_page, store);
  takes_storyboard_page_set_project (self->storyboard_page, self->project_id);
  update_compare_actions (self);

  if (queue != NULL)
    {
      for (const char *const *id = takes_backend_registry_list_ids (); *id != NULL; id++)
        {
          TakesBackend *backend = takes_queue_lookup_backend (queue, *id);
          if (backend != NULL)
            g_ptr_array_add (backends, g_object_ref (backend));
        }
      takes_prompt_editor_set_backends (self->editor, backends);
      takes_queue_panel_set_queue (self->queue_panel, queue);
      takes_gallery_set_queue (self->gallery, queue);
      g_signal_connect_object (queue, "job-changed", G_CALLBACK (update_queue_button), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (queue, "job-finished", G_CALLBACK (job_finished_cb), self, 0);
      g_signal_connect_object (takes_queue_get_jobs (queue), "items-changed",
                               G_CALLBACK (update_queue_button), self, G_CONNECT_SWAPPED);
    }
  else
    takes_prompt_editor_set_backends (self->editor, NULL);
  update_queue_button (self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->queue_button), queue != NULL);
  return self;
}

TakesStore *
takes_window_get_store (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), NULL);
  return self->store;
}

TakesGallery *
takes_window_get_gallery (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), NULL);
  return self->gallery;
}

TakesPromptEditor *
takes_window_get_editor (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), NULL);
  return self->editor;
}

TakesCompareView *
takes_window_get_compare_view (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), NULL);
  return self->compare_view;
}

TakesStoryboardPage *
takes_window_get_storyboard_page (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), NULL);
  return self->storyboard_page;
}

const char *
takes_window_get_visible_view (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), NULL);
  return adw_view_stack_get_visible_child_name (self->view_stack);
}

void
takes_window_set_visible_view (TakesWindow *self, const char *name)
{
  g_return_if_fail (TAKES_IS_WINDOW (self));
  adw_view_stack_set_visible_child_name (self->view_stack, name);
}

void
takes_window_show_message (TakesWindow *self, const char *message)
{
  g_return_if_fail (TAKES_IS_WINDOW (self));
  show_message (self, message);
}

TakesInspector *
takes_window_get_inspector (TakesWindow *self)
{
  g_return_val_if_fail (TAKES_IS_WINDOW (self), NULL);
  return self->inspector;
}
