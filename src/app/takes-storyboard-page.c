/* takes-storyboard-page.c: a project's storyboard, its animatic and exports.
 *
 * The shots are read from the store on the main thread (a few small
 * queries); each chosen take's file is then probed in a worker thread, so a
 * damaged file is named on its shot before anyone presses play. Exports get
 * their own copy of the shots and run in a worker thread.
 */
#include "config.h"

#include <inttypes.h>

#define G_LOG_DOMAIN "takes-storyboard-page"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "takes-media.h"
#include "takes-store-review.h"
#include "takes-storyboard-page.h"

typedef struct
{
  TakesShot *shot;
  GArray *alternatives; /* gint64 take ids */
  char *media_path;     /* of the chosen take, or NULL */
  char *problem;        /* NULL when the shot can play */
  GtkWidget *row;
  GtkWidget *down_button;
  GtkLabel *problem_label;
} ShotInfo;

struct _TakesStoryboardPage
{
  GtkWidget parent_instance;

  /* Template children */
  GtkWidget *paned;
  GtkListBox *shots_list;
  GtkLabel *status_label;
  GtkLabel *empty_label;
  TakesPlayer *player;

  TakesStore *store;
  gint64 project_id;
  GPtrArray *shots; /* ShotInfo */
  GCancellable *cancellable;
  guint generation; /* counts reloads */
  gboolean exporting;
};

G_DEFINE_FINAL_TYPE (TakesStoryboardPage, takes_storyboard_page, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_STORE,
  PROP_PROJECT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
shot_info_free (gpointer data)
{
  ShotInfo *info = data;

  takes_shot_free (info->shot);
  g_clear_pointer (&info->alternatives, g_array_unref);
  g_free (info->media_path);
  g_free (info->problem);
  g_free (info);
}

static void
set_status (TakesStoryboardPage *self, const char *message)
{
  gtk_label_set_text (self->status_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), message != NULL);
}

static void
update_actions (TakesStoryboardPage *self)
{
  gboolean have_shots = self->shots->len > 0;
  gboolean can_play = FALSE;

  for (guint i = 0; i < self->shots->len; i++)
    {
      ShotInfo *info = g_ptr_array_index (self->shots, i);

      can_play = can_play || (info->problem == NULL && info->media_path != NULL);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "storyboard.play", can_play);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "storyboard.add-shot",
                                 self->store != NULL && self->project_id > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "storyboard.export-mp4", have_shots && !self->exporting);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "storyboard.export-edl", have_shots && !self->exporting);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "storyboard.export-fcpxml",
                                 have_shots && !self->exporting);
}

static void
set_problem (TakesStoryboardPage *self, ShotInfo *info, char *problem)
{
  g_free (info->problem);
  info->problem = problem;
  if (info->problem_label != NULL)
    {
      gtk_label_set_text (info->problem_label, problem != NULL ? problem : "");
      gtk_widget_set_visible (GTK_WIDGET (info->problem_label), problem != NULL);
    }
  update_actions (self);
}

/* Rows */

static GtkWidget *
row_label (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static void
alternative_clicked_cb (GtkButton *button, TakesStoryboardPage *self)
{
  gint64 *shot_id = g_object_get_data (G_OBJECT (button), "shot-id");
  gint64 *take_id = g_object_get_data (G_OBJECT (button), "take-id");
  g_autoptr (GError) error = NULL;

  if (!takes_storyboard_page_choose_take (self, *shot_id, *take_id, &error))
    set_status (self, error->message);
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, TakesStoryboardPage *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (target));
  gint64 *shot_id = g_object_get_data (G_OBJECT (row), "shot-id");
  g_autoptr (GError) error = NULL;
  gint64 take_id = 0;

  if (G_VALUE_HOLDS_INT64 (value))
    take_id = g_value_get_int64 (value);
  else if (G_VALUE_HOLDS (value, TAKES_TYPE_TAKE) && g_value_get_object (value) != NULL)
    take_id = takes_take_get_id (g_value_get_object (value));
  if (shot_id == NULL || take_id <= 0)
    return FALSE;
  if (!takes_storyboard_page_choose_take (self, *shot_id, take_id, &error))
    {
      set_status (self, error->message);
      return FALSE;
    }
  return TRUE;
}

static gint64 *
boxed_id (gint64 id)
{
  gint64 *copy = g_new (gint64, 1);

  *copy = id;
  return copy;
}

static void
move_clicked_cb (GtkButton *button, TakesStoryboardPage *self)
{
  gint64 *shot_id = g_object_get_data (G_OBJECT (button), "shot-id");
  int delta = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "delta"));
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < self->shots->len; i++)
    {
      ShotInfo *info = g_ptr_array_index (self->shots, i);

      if (info->shot->id != *shot_id)
        continue;
      if ((delta < 0 && i == 0) || (delta > 0 && i + 1 >= self->shots->len))
        return;
      if (!takes_storyboard_page_move_shot (self, *shot_id, (guint)((int)i + delta), &error))
        set_status (self, error->message);
      return;
    }
}

static void
delete_clicked_cb (GtkButton *button, TakesStoryboardPage *self)
{
  gint64 *shot_id = g_object_get_data (G_OBJECT (button), "shot-id");
  g_autoptr (GError) error = NULL;

  if (!takes_storyboard_page_delete_shot (self, *shot_id, &error))
    set_status (self, error->message);
  else
    set_status (self, _ ("The shot was deleted. Its takes are still in the library."));
}

static GtkWidget *
row_button (
    const char *icon, const char *tooltip, gint64 shot_id, GCallback callback, TakesStoryboardPage *self)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  g_object_set_data_full (G_OBJECT (button), "shot-id", boxed_id (shot_id), g_free);
  g_signal_connect (button, "clicked", callback, self);
  return button;
}

static GtkWidget *
make_row (TakesStoryboardPage *self, ShotInfo *info)
{
  TakesShot *shot = info->shot;
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *title_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *alternatives = gtk_flow_box_new ();
  GtkWidget *title, *duration, *chosen, *problem, *tool;
  GtkDropTarget *target;
  GType types[] = { G_TYPE_INT64, TAKES_TYPE_TAKE };
  g_autofree char *title_text = NULL;
  g_autofree char *duration_text = NULL;
  g_autofree char *chosen_text = NULL;

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);

  /* TRANSLATORS: a shot's number and title in the storyboard, e.g. "3. Close-up" */
  title_text
      = g_strdup_printf (_ ("%u. %s"), shot->position,
                         shot->title != NULL && *shot->title != '\0' ? shot->title : _ ("Untitled Shot"));
  title = row_label (title_text, "heading");
  gtk_widget_set_hexpand (title, TRUE);
  /* TRANSLATORS: a shot's planned duration in seconds */
  duration_text = shot->duration > 0 ? g_strdup_printf (_ ("%.1f s"), (double)shot->duration / G_USEC_PER_SEC)
                                     : g_strdup (_ ("No duration"));
  duration = row_label (duration_text, "dim-label");
  gtk_label_set_wrap (GTK_LABEL (duration), FALSE);
  gtk_box_append (GTK_BOX (title_box), title);
  gtk_box_append (GTK_BOX (title_box), duration);
  tool = row_button ("go-up-symbolic", _ ("Move Up"), shot->id, G_CALLBACK (move_clicked_cb), self);
  g_object_set_data (G_OBJECT (tool), "delta", GINT_TO_POINTER (-1));
  gtk_widget_set_sensitive (tool, shot->position > 1);
  gtk_box_append (GTK_BOX (title_box), tool);
  tool = row_button ("go-down-symbolic", _ ("Move Down"), shot->id, G_CALLBACK (move_clicked_cb), self);
  g_object_set_data (G_OBJECT (tool), "delta", GINT_TO_POINTER (1));
  gtk_box_append (GTK_BOX (title_box), tool);
  info->down_button = tool;
  gtk_box_append (GTK_BOX (title_box), row_button ("user-trash-symbolic", _ ("Delete Shot"), shot->id,
                                                   G_CALLBACK (delete_clicked_cb), self));
  gtk_box_append (GTK_BOX (box), title_box);

  if (shot->prompt != NULL && *shot->prompt != '\0')
    gtk_box_append (GTK_BOX (box), row_label (shot->prompt, NULL));
  if (shot->notes != NULL && *shot->notes != '\0')
    gtk_box_append (GTK_BOX (box), row_label (shot->notes, "dim-label"));

  chosen_text = shot->chosen_take_id > 0
                    ? g_strdup_printf (_ ("Chosen: take %" PRId64), shot->chosen_take_id)
                    : g_strdup (_ ("No take chosen. Drop a take from the gallery here."));
  chosen = row_label (chosen_text, shot->chosen_take_id > 0 ? NULL : "dim-label");
  gtk_box_append (GTK_BOX (box), chosen);

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (alternatives), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (alternatives), 8);
  for (guint i = 0; i < info->alternatives->len; i++)
    {
      gint64 take_id = g_array_index (info->alternatives, gint64, i);
      g_autofree char *label = g_strdup_printf (_ ("Take %" PRId64), take_id);
      GtkWidget *button = gtk_button_new_with_label (label);

      gtk_widget_set_tooltip_text (button, _ ("Choose This Take"));
      if (take_id == shot->chosen_take_id)
        gtk_widget_add_css_class (button, "suggested-action");
      g_object_set_data_full (G_OBJECT (button), "shot-id", boxed_id (shot->id), g_free);
      g_object_set_data_full (G_OBJECT (button), "take-id", boxed_id (take_id), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (alternative_clicked_cb), self);
      gtk_flow_box_append (GTK_FLOW_BOX (alternatives), button);
    }
  gtk_widget_set_visible (alternatives, info->alternatives->len > 0);
  gtk_box_append (GTK_BOX (box), alternatives);

  problem = row_label (info->problem, "error");
  gtk_widget_set_visible (problem, info->problem != NULL);
  info->problem_label = GTK_LABEL (problem);
  gtk_box_append (GTK_BOX (box), problem);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  g_object_set_data_full (G_OBJECT (row), "shot-id", boxed_id (shot->id), g_free);

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY | GDK_ACTION_LINK);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (target));
  info->row = row;
  return row;
}

/* Probing the chosen takes, in a worker thread */

typedef struct
{
  GPtrArray *paths;    /* char*, NULL where the shot has no file to probe */
  GPtrArray *problems; /* char*, filled by the thread */
  guint generation;    /* of the shots it was made for */
} ProbeJob;

static void
probe_job_free (gpointer data)
{
  ProbeJob *job = data;

  g_ptr_array_unref (job->paths);
  g_ptr_array_unref (job->problems);
  g_free (job);
}

static void
probe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ProbeJob *job = task_data;

  for (guint i = 0; i < job->paths->len; i++)
    {
      const char *path = g_ptr_array_index (job->paths, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesMediaInfo) info = NULL;

      if (g_cancellable_is_cancelled (cancellable))
        break;
      if (path != NULL && (info = takes_media_probe (path, &error)) == NULL)
        g_ptr_array_index (job->problems, i) = g_strdup (error->message);
    }
  g_task_return_boolean (task, TRUE);
}

/* The task holds only a weak reference, so the page can go away while the
 * files are still being probed. */
static void
probe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr (TakesStoryboardPage) self = g_weak_ref_get (weak);
  ProbeJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  g_weak_ref_clear (weak);
  g_free (weak);
  if (!g_task_propagate_boolean (G_TASK (result), &error) || self == NULL
      || job->generation != self->generation)
    return;
  for (guint i = 0; i < job->problems->len && i < self->shots->len; i++)
    {
      ShotInfo *info = g_ptr_array_index (self->shots, i);
      char *problem = g_ptr_array_index (job->problems, i);

      if (problem != NULL)
        {
          /* TRANSLATORS: the shot number, then why its take cannot play */
          set_problem (self, info,
                       g_strdup_printf (_ ("Shot %u cannot play: %s"), info->shot->position, problem));
        }
    }
}

static void
check_files (TakesStoryboardPage *self)
{
  g_autoptr (GTask) task = NULL;
  ProbeJob *job = g_new0 (ProbeJob, 1);
  GWeakRef *weak;

  job->paths = g_ptr_array_new_with_free_func (g_free);
  job->problems = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->shots->len; i++)
    {
      ShotInfo *info = g_ptr_array_index (self->shots, i);

      g_ptr_array_add (job->paths, info->problem == NULL ? g_strdup (info->media_path) : NULL);
      g_ptr_array_add (job->problems, NULL);
    }
  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  job->generation = self->generation;
  task = g_task_new (NULL, self->cancellable, probe_done_cb, weak);
  g_task_set_source_tag (task, check_files);
  g_task_set_task_data (task, job, probe_job_free);
  g_task_run_in_thread (task, probe_thread);
}

/* Loading */

static ShotInfo *
load_shot (TakesStoryboardPage *self, TakesShot *shot, GError **error)
{
  ShotInfo *info = g_new0 (ShotInfo, 1);

  info->shot = takes_shot_copy (shot);
  info->alternatives = takes_store_list_shot_alternatives (self->store, shot->id, error);
  if (info->alternatives == NULL)
    {
      shot_info_free (info);
      return NULL;
    }
  if (shot->chosen_take_id <= 0)
    {
      info->problem = g_strdup_printf (_ ("Shot %u has no chosen take. Drop a take on it or choose an "
                                          "alternative."),
                                       shot->position);
      return info;
    }
  {
    g_autoptr (GError) take_error = NULL;
    g_autoptr (TakesTake) take = takes_store_get_take (self->store, shot->chosen_take_id, &take_error);

    if (take == NULL)
      info->problem = g_strdup_printf (_ ("Shot %u: %s"), shot->position, take_error->message);
    else if ((info->media_path = takes_store_get_media_file (self->store, take)) == NULL)
      info->problem
          = g_strdup_printf (_ ("Shot %u: take %" PRId64 " has no video yet. Wait until it "
                                "is generated or choose another take."),
                             shot->position, shot->chosen_take_id);
    else if (!g_file_test (info->media_path, G_FILE_TEST_IS_REGULAR))
      {
        g_autofree char *name = g_filename_display_name (info->media_path);

        info->problem
            = g_strdup_printf (_ ("Shot %u: the video of take %" PRId64 " is missing (“%s”). "
                                  "Restore the file or choose another take."),
                               shot->position, shot->chosen_take_id, name);
      }
  }
  return info;
}

static void
clear_rows (TakesStoryboardPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->shots_list))) != NULL)
    gtk_list_box_remove (self->shots_list, child);
  g_ptr_array_set_size (self->shots, 0);
}

gboolean
takes_storyboard_page_reload (TakesStoryboardPage *self, GError **error)
{
  g_autoptr (GPtrArray) shots = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), FALSE);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  clear_rows (self);
  self->generation++;
  set_status (self, NULL);

  if (self->store != NULL && self->project_id > 0)
    {
      shots = takes_store_list_shots (self->store, self->project_id, &local_error);
      for (guint i = 0; shots != NULL && i < shots->len; i++)
        {
          ShotInfo *info = load_shot (self, g_ptr_array_index (shots, i), &local_error);

          if (info == NULL)
            break;
          g_ptr_array_add (self->shots, info);
          gtk_list_box_append (self->shots_list, make_row (self, info));
        }
    }
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), self->shots->len == 0 && local_error == NULL);
  if (self->shots->len > 0)
    {
      ShotInfo *last = g_ptr_array_index (self->shots, self->shots->len - 1);

      gtk_widget_set_sensitive (last->down_button, FALSE);
    }
  /* An empty boxed list would draw as a blank card under the hint. */
  gtk_widget_set_visible (GTK_WIDGET (self->shots_list), self->shots->len > 0);
  update_actions (self);
  if (local_error != NULL)
    {
      set_status (self, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  check_files (self);
  return TRUE;
}

/* Exporting */

typedef struct
{
  TakesStoryboardExport format;
  char *path;
  char *title;
  GPtrArray *shots;    /* TakesStoryboardShot */
  GPtrArray *warnings; /* GError */
} ExportJob;

static void
export_job_free (gpointer data)
{
  ExportJob *job = data;

  g_free (job->path);
  g_free (job->title);
  g_clear_pointer (&job->shots, g_ptr_array_unref);
  g_clear_pointer (&job->warnings, g_ptr_array_unref);
  g_free (job);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportJob *job = task_data;
  TakesStoryboardOptions options;
  GError *error = NULL;
  gboolean ok = FALSE;

  takes_storyboard_options_init (&options);
  options.title = job->title;
  options.slate = job->format == TAKES_STORYBOARD_EXPORT_MP4;
  switch (job->format)
    {
      case TAKES_STORYBOARD_EXPORT_MP4:
        ok = takes_storyboard_export_mp4 (job->shots, &options, job->path, job->warnings, &error);
        break;
      case TAKES_STORYBOARD_EXPORT_EDL:
        ok = takes_storyboard_export_edl (job->shots, &options, job->path, job->warnings, &error);
        break;
      case TAKES_STORYBOARD_EXPORT_FCPXML:
      default:
        ok = takes_storyboard_export_fcpxml (job->shots, &options, job->path, job->warnings, &error);
        break;
    }
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
takes_storyboard_page_export_async (TakesStoryboardPage *self,
                                    TakesStoryboardExport format,
                                    const char *path,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesProject) project = NULL;
  g_autofree char *project_key = NULL;
  ExportJob *job;

  g_return_if_fail (TAKES_IS_STORYBOARD_PAGE (self));
  g_return_if_fail (path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_storyboard_page_export_async);
  if (self->store == NULL)
    {
      g_task_return_new_error (task, TAKES_STORYBOARD_ERROR, TAKES_STORYBOARD_ERROR_EMPTY,
                               _ ("No library is open. Open a library before exporting a storyboard."));
      return;
    }
  job = g_new0 (ExportJob, 1);
  job->format = format;
  job->path = g_strdup (path);
  job->warnings = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  g_task_set_task_data (task, job, export_job_free);
  job->shots = takes_storyboard_load (self->store, self->project_id, &error);
  if (job->shots == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  project_key = g_strdup_printf ("%" PRId64, self->project_id);
  project = takes_store_find_project (self->store, project_key, NULL);
  job->title = g_strdup (project != NULL ? project->name : _ ("Storyboard"));
  self->exporting = TRUE;
  update_actions (self);
  g_task_run_in_thread (task, export_thread);
}

gboolean
takes_storyboard_page_export_finish (TakesStoryboardPage *self,
                                     GAsyncResult *result,
                                     GPtrArray **warnings,
                                     GError **error)
{
  ExportJob *job;

  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  self->exporting = FALSE;
  update_actions (self);
  job = g_task_get_task_data (G_TASK (result));
  if (warnings != NULL)
    *warnings = job != NULL && job->warnings != NULL ? g_ptr_array_ref (job->warnings) : NULL;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TakesStoryboardPage *self = TAKES_STORYBOARD_PAGE (source);
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = g_string_new (NULL);

  if (!takes_storyboard_page_export_finish (self, result, &warnings, &error))
    {
      set_status (self, error->message);
      return;
    }
  g_string_append (text, _ ("The storyboard was exported."));
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    {
      const GError *warning = g_ptr_array_index (warnings, i);

      g_string_append_c (text, '\n');
      g_string_append (text, warning->message);
    }
  set_status (self, text->str);
}

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, TakesStoryboardPage *self)
{
  TakesStoryboardExport format = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "format"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        takes_storyboard_page_export_async (self, format, path, self->cancellable, export_done_cb, NULL);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose_export_file (TakesStoryboardPage *self, TakesStoryboardExport format)
{
  static const char *const names[] = { "storyboard.mp4", "storyboard.edl", "storyboard.xml" };
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;

  chooser
      = gtk_file_chooser_native_new (_ ("Export Storyboard"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                     GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Export"), _ ("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), names[format]);
  g_object_set_data (G_OBJECT (chooser), "format", GINT_TO_POINTER (format));
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Adding a shot */

typedef struct
{
  GtkEditable *title;
  GtkEditable *prompt;
  GtkSpinButton *duration;
} ShotForm;

static void
add_shot_response_cb (AdwMessageDialog *dialog, const char *response, TakesStoryboardPage *self)
{
  ShotForm *form = g_object_get_data (G_OBJECT (dialog), "shot-form");
  g_autoptr (TakesShot) shot = NULL;
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "add") != 0)
    return;
  shot = takes_storyboard_page_add_shot (
      self, gtk_editable_get_text (form->title), gtk_editable_get_text (form->prompt),
      (gint64)(gtk_spin_button_get_value (form->duration) * G_USEC_PER_SEC), &error);
  if (shot == NULL)
    set_status (self, error->message);
}

static void
shot_title_changed_cb (GtkEditable *entry, AdwMessageDialog *dialog)
{
  g_autofree char *title = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "add", *title != '\0');
}

static GtkWidget *
form_label (const char *text, GtkWidget *mnemonic_widget)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), mnemonic_widget);
  return label;
}

static void
add_shot_dialog (TakesStoryboardPage *self)
{
  GtkWidget *dialog;
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *title = gtk_entry_new ();
  GtkWidget *prompt = gtk_entry_new ();
  GtkWidget *duration = gtk_spin_button_new_with_range (0.5, 60.0, 0.5);
  ShotForm *form = g_new0 (ShotForm, 1);

  if (self->store == NULL || self->project_id <= 0)
    {
      set_status (self, _ ("Shots can be added once a library and a project are open."));
      return;
    }
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _ ("Add a Shot"),
                                   _ ("The shot is added at the end of the storyboard."));
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_entry_set_activates_default (GTK_ENTRY (title), TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (prompt), _ ("What the shot shows"));
  gtk_entry_set_activates_default (GTK_ENTRY (prompt), TRUE);
  gtk_widget_set_hexpand (title, TRUE);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (duration), 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (duration), 3.0);
  gtk_grid_attach (GTK_GRID (grid), form_label (_ ("_Title"), title), 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), title, 1, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), form_label (_ ("_Prompt"), prompt), 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), prompt, 1, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), form_label (_ ("_Duration (seconds)"), duration), 0, 2, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), duration, 1, 2, 1, 1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), grid);

  form->title = GTK_EDITABLE (title);
  form->prompt = GTK_EDITABLE (prompt);
  form->duration = GTK_SPIN_BUTTON (duration);
  g_object_set_data_full (G_OBJECT (dialog), "shot-form", form, g_free);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "add",
                                    _ ("_Add Shot"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "add", FALSE);
  g_signal_connect (title, "changed", G_CALLBACK (shot_title_changed_cb), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (add_shot_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesStoryboardPage *self = TAKES_STORYBOARD_PAGE (widget);

  if (g_str_equal (action_name, "storyboard.add-shot"))
    add_shot_dialog (self);
  else if (g_str_equal (action_name, "storyboard.play"))
    takes_storyboard_page_play (self);
  else if (g_str_equal (action_name, "storyboard.export-mp4"))
    choose_export_file (self, TAKES_STORYBOARD_EXPORT_MP4);
  else if (g_str_equal (action_name, "storyboard.export-edl"))
    choose_export_file (self, TAKES_STORYBOARD_EXPORT_EDL);
  else if (g_str_equal (action_name, "storyboard.export-fcpxml"))
    choose_export_file (self, TAKES_STORYBOARD_EXPORT_FCPXML);
}

/* A take that fails while playing names its file; the shot gets the error. */
static void
player_state_cb (TakesPlayer *player, GParamSpec *pspec, TakesStoryboardPage *self)
{
  const GError *error = takes_player_get_error (player);

  if (takes_player_get_state (player) != TAKES_PLAYER_STATE_ERROR || error == NULL)
    return;
  for (guint i = 0; i < self->shots->len; i++)
    {
      ShotInfo *info = g_ptr_array_index (self->shots, i);
      g_autofree char *name = info->media_path != NULL ? g_filename_display_name (info->media_path) : NULL;

      if (info->problem == NULL && name != NULL && strstr (error->message, name) != NULL)
        set_problem (self, info,
                     g_strdup_printf (_ ("Shot %u cannot play: %s"), info->shot->position, error->message));
    }
}

/* GObject */

static void
takes_storyboard_page_dispose (GObject *object)
{
  TakesStoryboardPage *self = TAKES_STORYBOARD_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_STORYBOARD_PAGE);
  g_clear_pointer (&self->shots, g_ptr_array_unref);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (takes_storyboard_page_parent_class)->dispose (object);
}

static void
takes_storyboard_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesStoryboardPage *self = TAKES_STORYBOARD_PAGE (object);

  switch (prop_id)
    {
      case PROP_STORE:
        g_value_set_object (value, self->store);
        break;
      case PROP_PROJECT:
        g_value_set_int64 (value, self->project_id);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_storyboard_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesStoryboardPage *self = TAKES_STORYBOARD_PAGE (object);

  switch (prop_id)
    {
      case PROP_STORE:
        takes_storyboard_page_set_store (self, g_value_get_object (value));
        break;
      case PROP_PROJECT:
        takes_storyboard_page_set_project (self, g_value_get_int64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_storyboard_page_class_init (TakesStoryboardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = takes_storyboard_page_dispose;
  object_class->get_property = takes_storyboard_page_get_property;
  object_class->set_property = takes_storyboard_page_set_property;

  properties[PROP_STORE]
      = g_param_spec_object ("store", NULL, NULL, TAKES_TYPE_STORE,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PROJECT]
      = g_param_spec_int64 ("project", NULL, NULL, 0, G_MAXINT64, 0,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TAKES_TYPE_PLAYER);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/takes/Takes/ui/takes-storyboard-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesStoryboardPage, paned);
  gtk_widget_class_bind_template_child (widget_class, TakesStoryboardPage, shots_list);
  gtk_widget_class_bind_template_child (widget_class, TakesStoryboardPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, TakesStoryboardPage, empty_label);
  gtk_widget_class_bind_template_child (widget_class, TakesStoryboardPage, player);
  gtk_widget_class_bind_template_callback (widget_class, player_state_cb);

  gtk_widget_class_install_action (widget_class, "storyboard.add-shot", NULL, action_cb);
  gtk_widget_class_install_action (widget_class, "storyboard.play", NULL, action_cb);
  gtk_widget_class_install_action (widget_class, "storyboard.export-mp4", NULL, action_cb);
  gtk_widget_class_install_action (widget_class, "storyboard.export-edl", NULL, action_cb);
  gtk_widget_class_install_action (widget_class, "storyboard.export-fcpxml", NULL, action_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "takes-storyboard-page");
}

static void
takes_storyboard_page_init (TakesStoryboardPage *self)
{
  self->shots = g_ptr_array_new_with_free_func (shot_info_free);
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  update_actions (self);
}

/* Public API */

GtkWidget *
takes_storyboard_page_new (void)
{
  return g_object_new (TAKES_TYPE_STORYBOARD_PAGE, NULL);
}

void
takes_storyboard_page_set_store (TakesStoryboardPage *self, TakesStore *store)
{
  g_return_if_fail (TAKES_IS_STORYBOARD_PAGE (self));
  g_return_if_fail (store == NULL || TAKES_IS_STORE (store));
  if (!g_set_object (&self->store, store))
    return;
  takes_storyboard_page_reload (self, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE]);
}

TakesStore *
takes_storyboard_page_get_store (TakesStoryboardPage *self)
{
  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), NULL);
  return self->store;
}

void
takes_storyboard_page_set_project (TakesStoryboardPage *self, gint64 project_id)
{
  g_return_if_fail (TAKES_IS_STORYBOARD_PAGE (self));
  if (self->project_id == project_id)
    return;
  self->project_id = project_id;
  takes_storyboard_page_reload (self, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROJECT]);
}

gint64
takes_storyboard_page_get_project (TakesStoryboardPage *self)
{
  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), 0);
  return self->project_id;
}

guint
takes_storyboard_page_get_n_shots (TakesStoryboardPage *self)
{
  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), 0);
  return self->shots->len;
}

static ShotInfo *
shot_at (TakesStoryboardPage *self, guint index)
{
  return index < self->shots->len ? g_ptr_array_index (self->shots, index) : NULL;
}

gint64
takes_storyboard_page_get_shot_id (TakesStoryboardPage *self, guint index)
{
  ShotInfo *info;

  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), 0);
  info = shot_at (self, index);
  return info != NULL ? info->shot->id : 0;
}

gint64
takes_storyboard_page_get_chosen_take (TakesStoryboardPage *self, guint index)
{
  ShotInfo *info;

  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), 0);
  info = shot_at (self, index);
  return info != NULL ? info->shot->chosen_take_id : 0;
}

const char *
takes_storyboard_page_get_shot_problem (TakesStoryboardPage *self, guint index)
{
  ShotInfo *info;

  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), NULL);
  info = shot_at (self, index);
  return info != NULL ? info->problem : NULL;
}

gboolean
takes_storyboard_page_choose_take (TakesStoryboardPage *self, gint64 shot_id, gint64 take_id, GError **error)
{
  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), FALSE);
  if (self->store == NULL)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("No library is open. Open a library before choosing takes."));
      return FALSE;
    }
  if (!takes_store_pick_shot_take (self->store, shot_id, take_id, error))
    return FALSE;
  return takes_storyboard_page_reload (self, error);
}

void
takes_storyboard_page_play (TakesStoryboardPage *self)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  g_autoptr (GString) skipped = g_string_new (NULL);
  guint n_skipped = 0;

  g_return_if_fail (TAKES_IS_STORYBOARD_PAGE (self));
  for (guint i = 0; i < self->shots->len; i++)
    {
      ShotInfo *info = g_ptr_array_index (self->shots, i);

      if (info->problem == NULL && info->media_path != NULL)
        g_ptr_array_add (paths, info->media_path);
      else
        {
          g_string_append_printf (skipped, "%s%u", skipped->len > 0 ? ", " : "", info->shot->position);
          n_skipped++;
        }
    }
  g_ptr_array_add (paths, NULL);
  if (skipped->len > 0)
    {
      /* TRANSLATORS: the numbers of the shots left out, e.g. "2, 5" */
      g_autofree char *message
          = g_strdup_printf (ngettext ("Shot %s is left out of the play-through: it has no "
                                       "playable take.",
                                       "Shots %s are left out of the play-through: they have "
                                       "no playable take.",
                                       n_skipped),
                             skipped->str);

      set_status (self, message);
    }
  else
    set_status (self, NULL);
  if (paths->len <= 1)
    return;
  takes_player_set_sequence (self->player, (const char *const *)paths->pdata);
  takes_player_play (self->player);
}

TakesPlayer *
takes_storyboard_page_get_player (TakesStoryboardPage *self)
{
  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), NULL);
  return self->player;
}

TakesShot *
takes_storyboard_page_add_shot (
    TakesStoryboardPage *self, const char *title, const char *prompt, gint64 duration, GError **error)
{
  g_autoptr (TakesShot) shot = NULL;
  g_autofree char *clean_title = NULL;

  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  clean_title = g_strstrip (g_strdup (title != NULL ? title : ""));
  if (self->store == NULL || self->project_id <= 0 || *clean_title == '\0')
    {
      g_set_error_literal (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                           *clean_title == '\0'
                               ? _ ("A shot needs a title. Type one and try again.")
                               : _ ("Shots can be added once a library and a project are open."));
      return NULL;
    }
  shot = takes_store_create_shot (self->store, self->project_id, clean_title, prompt, error);
  if (shot == NULL)
    return NULL;
  if (duration > 0 && !takes_store_update_shot (self->store, shot->id, NULL, NULL, NULL, duration, error))
    {
      /* The shot was added, only without its duration: show it anyway. */
      takes_storyboard_page_reload (self, NULL);
      return NULL;
    }
  shot->duration = duration > 0 ? duration : shot->duration;
  takes_storyboard_page_reload (self, NULL);
  return g_steal_pointer (&shot);
}

gboolean
takes_storyboard_page_move_shot (TakesStoryboardPage *self, gint64 shot_id, guint index, GError **error)
{
  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), FALSE);
  g_return_val_if_fail (self->store != NULL, FALSE);

  if (!takes_store_move_shot (self->store, shot_id, index + 1, error))
    return FALSE;
  takes_storyboard_page_reload (self, NULL);
  return TRUE;
}

gboolean
takes_storyboard_page_delete_shot (TakesStoryboardPage *self, gint64 shot_id, GError **error)
{
  g_return_val_if_fail (TAKES_IS_STORYBOARD_PAGE (self), FALSE);
  g_return_val_if_fail (self->store != NULL, FALSE);

  if (!takes_store_delete_shot (self->store, shot_id, error))
    return FALSE;
  takes_storyboard_page_reload (self, NULL);
  return TRUE;
}
