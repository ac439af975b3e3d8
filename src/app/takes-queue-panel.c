/* takes-queue-panel.c: the jobs of the queue with progress, ETA and controls. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "takes-queue-panel.h"

struct _TakesQueuePanel
{
  GtkWidget parent_instance;

  GtkToggleButton *pause_button;
  GtkStack *stack;
  GtkListView *list_view;

  TakesQueue *queue;
};

G_DEFINE_FINAL_TYPE (TakesQueuePanel, takes_queue_panel, GTK_TYPE_WIDGET)

typedef struct
{
  GtkLabel *title;
  GtkLabel *stage;
  GtkProgressBar *progress;
  GtkPicture *preview;
  GtkButton *cancel;
  GtkButton *retry;
  TakesJob *job;
  gulong notify_id;
  TakesBackendPreview *shown_preview;
} Row;

char *
takes_queue_panel_format_eta (double seconds)
{
  if (seconds < 0)
    return NULL;
  if (seconds < 60)
    return g_strdup (_ ("less than a minute left"));
  if (seconds < 3600)
    {
      guint minutes = (guint)(seconds / 60 + 0.5);
      return g_strdup_printf (ngettext ("about %u minute left", "about %u minutes left", minutes), minutes);
    }
  {
    guint hours = (guint)(seconds / 3600);
    guint minutes = (guint)((seconds - hours * 3600.0) / 60 + 0.5);
    /* Translators: hours and minutes left, e.g. "about 2 h 5 min left". */
    return g_strdup_printf (_ ("about %u h %u min left"), hours, minutes);
  }
}

static void
row_free (Row *row)
{
  if (row->job != NULL)
    g_signal_handler_disconnect (row->job, row->notify_id);
  g_clear_object (&row->job);
  g_clear_pointer (&row->shown_preview, takes_backend_preview_unref);
  g_free (row);
}

static GdkTexture *
preview_texture (TakesBackendPreview *preview)
{
  GBytes *data = takes_backend_preview_get_data (preview);
  guint width = takes_backend_preview_get_width (preview);
  guint height = takes_backend_preview_get_height (preview);

  if (takes_backend_preview_get_format (preview) == TAKES_BACKEND_PREVIEW_RGB)
    {
      if (width == 0 || height == 0 || g_bytes_get_size (data) < (gsize)width * height * 3)
        return NULL;
      return gdk_memory_texture_new ((int)width, (int)height, GDK_MEMORY_R8G8B8, data, (gsize)width * 3);
    }
  /* A preview that does not decode is skipped; the next one may. */
  return gdk_texture_new_from_bytes (data, NULL);
}

static void
update_row (Row *row)
{
  TakesJob *job = row->job;
  TakesJobState state = takes_job_get_state (job);
  g_autofree char *eta = takes_queue_panel_format_eta (takes_job_get_eta (job));
  g_autofree char *stage = NULL;
  TakesBackendPreview *preview = takes_job_get_preview (job);

  gtk_label_set_text (row->title, takes_recipe_get_prompt (takes_job_get_recipe (job)));
  if (state == TAKES_JOB_STATE_FAILED && takes_job_get_last_error (job) != NULL)
    stage = g_strdup (takes_job_get_last_error (job));
  else if (state == TAKES_JOB_STATE_RUNNING && takes_job_get_stage (job) != NULL && eta != NULL)
    stage = g_strdup_printf ("%s · %s", takes_job_get_stage (job), eta);
  else if (state == TAKES_JOB_STATE_RUNNING && takes_job_get_stage (job) != NULL)
    stage = g_strdup (takes_job_get_stage (job));
  else
    stage = g_strdup_printf ("%s · %s", takes_job_state_get_label (state), takes_job_get_backend (job));
  gtk_label_set_text (row->stage, stage);

  gtk_widget_set_visible (GTK_WIDGET (row->progress), state == TAKES_JOB_STATE_RUNNING);
  if (takes_job_get_has_progress (job))
    gtk_progress_bar_set_fraction (row->progress, takes_job_get_progress (job));
  else
    gtk_progress_bar_pulse (row->progress);

  if (preview != row->shown_preview)
    {
      g_autoptr (GdkTexture) texture = preview != NULL ? preview_texture (preview) : NULL;

      g_clear_pointer (&row->shown_preview, takes_backend_preview_unref);
      row->shown_preview = preview != NULL ? takes_backend_preview_ref (preview) : NULL;
      gtk_picture_set_paintable (row->preview, GDK_PAINTABLE (texture));
      gtk_widget_set_visible (GTK_WIDGET (row->preview), texture != NULL);
    }

  gtk_widget_set_visible (GTK_WIDGET (row->cancel), !takes_job_state_is_finished (state));
  gtk_widget_set_visible (GTK_WIDGET (row->retry),
                          state == TAKES_JOB_STATE_FAILED || state == TAKES_JOB_STATE_CANCELLED);
}

static void
job_notify_cb (TakesJob *job, GParamSpec *pspec, Row *row)
{
  update_row (row);
}

static void
report (TakesQueuePanel *self, const GError *error)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay == NULL)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkWidget *popover = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_POPOVER);

      /* The panel sits in a popover, outside the window's overlay. */
      if (popover != NULL)
        root = gtk_widget_get_root (gtk_widget_get_parent (popover));
      if (root != NULL)
        overlay = gtk_widget_get_ancestor (GTK_WIDGET (root), ADW_TYPE_TOAST_OVERLAY);
    }
  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (error->message));
}

static void
cancel_clicked_cb (GtkButton *button, TakesQueuePanel *self)
{
  Row *row = g_object_get_data (G_OBJECT (button), "takes-row");
  g_autoptr (GError) error = NULL;

  if (row->job != NULL && !takes_queue_cancel_job (self->queue, takes_job_get_id (row->job), &error))
    report (self, error);
}

static void
retry_clicked_cb (GtkButton *button, TakesQueuePanel *self)
{
  Row *row = g_object_get_data (G_OBJECT (button), "takes-row");
  g_autoptr (GError) error = NULL;

  if (row->job != NULL && !takes_queue_retry_job (self->queue, takes_job_get_id (row->job), &error))
    report (self, error);
}

/* Reordering: a row dragged onto another runs just before it. */
static GdkContentProvider *
drag_prepare_cb (GtkDragSource *source, double x, double y, Row *row)
{
  if (row->job == NULL || takes_job_state_is_finished (takes_job_get_state (row->job)))
    return NULL;
  return gdk_content_provider_new_typed (G_TYPE_INT64, takes_job_get_id (row->job));
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, Row *row)
{
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (target));
  gint64 dragged = g_value_get_int64 (value);

  if (row->job == NULL || dragged == takes_job_get_id (row->job))
    return FALSE;
  return gtk_widget_activate_action (widget, "queue-panel.move-before", "(xx)", dragged,
                                     takes_job_get_id (row->job));
}

static void
move_before_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesQueuePanel *self = TAKES_QUEUE_PANEL (widget);
  g_autoptr (GError) error = NULL;
  gint64 job_id;
  gint64 before_id;

  g_variant_get (parameter, "(xx)", &job_id, &before_id);
  if (self->queue != NULL && !takes_queue_move_job_before (self->queue, job_id, before_id, &error))
    report (self, error);
}

static void
setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item, TakesQueuePanel *self)
{
  GtkDragSource *drag;
  GtkDropTarget *drop;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  Row *row = g_new0 (Row, 1);

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  row->preview = GTK_PICTURE (gtk_picture_new ());
  gtk_widget_set_size_request (GTK_WIDGET (row->preview), 64, 36);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->preview));

  row->title = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_ellipsize (row->title, PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (row->title, 0);
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (row->title));
  row->stage = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->stage, 0);
  gtk_label_set_wrap (row->stage, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (row->stage), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (row->stage), "caption");
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (row->stage));
  row->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (row->progress));
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (box), text);

  row->retry = GTK_BUTTON (gtk_button_new_from_icon_name ("view-refresh-symbolic"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->retry), _ ("Retry"));
  gtk_widget_set_valign (GTK_WIDGET (row->retry), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (row->retry), "flat");
  g_object_set_data (G_OBJECT (row->retry), "takes-row", row);
  g_signal_connect (row->retry, "clicked", G_CALLBACK (retry_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->retry));

  row->cancel = GTK_BUTTON (gtk_button_new_from_icon_name ("process-stop-symbolic"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->cancel), _ ("Cancel"));
  gtk_widget_set_valign (GTK_WIDGET (row->cancel), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (row->cancel), "flat");
  g_object_set_data (G_OBJECT (row->cancel), "takes-row", row);
  g_signal_connect (row->cancel, "clicked", G_CALLBACK (cancel_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->cancel));

  g_object_set_data_full (G_OBJECT (box), "takes-row", row, (GDestroyNotify)row_free);
  gtk_list_item_set_child (item, box);

  drag = gtk_drag_source_new ();
  gtk_drag_source_set_actions (drag, GDK_ACTION_MOVE);
  g_signal_connect (drag, "prepare", G_CALLBACK (drag_prepare_cb), row);
  gtk_widget_add_controller (box, GTK_EVENT_CONTROLLER (drag));
  drop = gtk_drop_target_new (G_TYPE_INT64, GDK_ACTION_MOVE);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), row);
  gtk_widget_add_controller (box, GTK_EVENT_CONTROLLER (drop));
}

static void
bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, TakesQueuePanel *self)
{
  Row *row = g_object_get_data (G_OBJECT (gtk_list_item_get_child (item)), "takes-row");

  row->job = g_object_ref (gtk_list_item_get_item (item));
  row->notify_id = g_signal_connect (row->job, "notify", G_CALLBACK (job_notify_cb), row);
  update_row (row);
}

static void
unbind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, TakesQueuePanel *self)
{
  Row *row = g_object_get_data (G_OBJECT (gtk_list_item_get_child (item)), "takes-row");

  if (row->job != NULL)
    g_signal_handler_disconnect (row->job, row->notify_id);
  row->notify_id = 0;
  g_clear_pointer (&row->shown_preview, takes_backend_preview_unref);
  g_clear_object (&row->job);
}

static void
update_empty (TakesQueuePanel *self)
{
  guint n = self->queue != NULL ? g_list_model_get_n_items (takes_queue_get_jobs (self->queue)) : 0;

  gtk_stack_set_visible_child_name (self->stack, n > 0 ? "jobs" : "empty");
}

static void
pause_toggled_cb (TakesQueuePanel *self)
{
  if (self->queue == NULL)
    return;
  if (gtk_toggle_button_get_active (self->pause_button))
    takes_queue_pause (self->queue);
  else
    takes_queue_resume (self->queue);
}

static void
clear_finished_cb (TakesQueuePanel *self)
{
  g_autoptr (GError) error = NULL;

  if (self->queue != NULL && !takes_queue_clear_finished (self->queue, &error))
    report (self, error);
}

static void
takes_queue_panel_dispose (GObject *object)
{
  TakesQueuePanel *self = TAKES_QUEUE_PANEL (object);

  if (self->queue != NULL)
    g_signal_handlers_disconnect_by_data (takes_queue_get_jobs (self->queue), self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_QUEUE_PANEL);
  /* The template's top box has no id, so dispose_template leaves it. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  g_clear_object (&self->queue);

  G_OBJECT_CLASS (takes_queue_panel_parent_class)->dispose (object);
}

static void
takes_queue_panel_class_init (TakesQueuePanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = takes_queue_panel_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/takes/Takes/ui/takes-queue-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesQueuePanel, pause_button);
  gtk_widget_class_bind_template_child (widget_class, TakesQueuePanel, stack);
  gtk_widget_class_bind_template_child (widget_class, TakesQueuePanel, list_view);
  gtk_widget_class_bind_template_callback (widget_class, pause_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, clear_finished_cb);
  gtk_widget_class_install_action (widget_class, "queue-panel.move-before", "(xx)", move_before_action_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "queuepanel");
}

static void
takes_queue_panel_init (TakesQueuePanel *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  update_empty (self);
}

GtkWidget *
takes_queue_panel_new (void)
{
  return g_object_new (TAKES_TYPE_QUEUE_PANEL, NULL);
}

void
takes_queue_panel_set_queue (TakesQueuePanel *self, TakesQueue *queue)
{
  g_autoptr (GtkNoSelection) selection = NULL;

  g_return_if_fail (TAKES_IS_QUEUE_PANEL (self));

  if (self->queue != NULL)
    g_signal_handlers_disconnect_by_data (takes_queue_get_jobs (self->queue), self);
  g_set_object (&self->queue, queue);
  if (queue != NULL)
    {
      selection = gtk_no_selection_new (g_object_ref (takes_queue_get_jobs (queue)));
      g_signal_connect_object (takes_queue_get_jobs (queue), "items-changed", G_CALLBACK (update_empty), self,
                               G_CONNECT_SWAPPED);
      gtk_toggle_button_set_active (self->pause_button, takes_queue_get_paused (queue));
    }
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
  update_empty (self);
}
