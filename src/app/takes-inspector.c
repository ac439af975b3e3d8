/* takes-inspector.c: one take in detail: playback, recipe, lineage, review. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "takes-inspector.h"
#include "takes-player.h"
#include "takes-take-list.h"

struct _TakesInspector
{
  GtkWidget parent_instance;

  GtkStack *stack;
  TakesPlayer *player;
  GtkLabel *noise_label;
  GtkLabel *status_label;
  GtkLabel *prompt_label;
  GtkBox *rating_box;
  GtkToggleButton *approve_button;
  GtkToggleButton *reject_button;
  GtkFlowBox *tags_box;
  GtkEntry *tag_entry;
  GtkTextView *notes_view;
  GtkListBox *recipe_list;
  GtkBox *lineage_box;
  GtkLabel *lineage_empty;
  GtkButton *reveal_button;

  TakesStore *store;
  TakesTakeList *list; /* the gallery's, whose worker saves edits */
  TakesTake *take;
  gboolean loading;
};

G_DEFINE_FINAL_TYPE (TakesInspector, takes_inspector, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_TAKE_SELECTED,
  SIGNAL_GENERATE_AGAIN,
  SIGNAL_TAKE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void show_take (TakesInspector *self);

static void
report (TakesInspector *self, const GError *error)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (error->message));
}

/* Re-reads the take after a change and tells the window. */
static void
changed (TakesInspector *self)
{
  g_autoptr (TakesTake) fresh = NULL;
  g_autoptr (GError) error = NULL;

  fresh = takes_store_get_take (self->store, takes_take_get_id (self->take), &error);
  if (fresh == NULL)
    {
      report (self, error);
      return;
    }
  g_set_object (&self->take, fresh);
  show_take (self);
  g_signal_emit (self, signals[SIGNAL_TAKE_CHANGED], 0, self->take);
}

/* Review ---------------------------------------------------------------- */

typedef struct
{
  TakesInspector *self; /* owned */
  gint64 take_id;
} Edit;

static void
edit_free (Edit *edit)
{
  g_object_unref (edit->self);
  g_free (edit);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Edit, edit_free)

static void
edit_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Edit) edit = user_data;
  TakesInspector *self = edit->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) fresh = NULL;
  int position;

  if (!takes_take_list_edit_finish (TAKES_TAKE_LIST (source), result, &error))
    report (self, error);
  if (self->take == NULL || takes_take_get_id (self->take) != edit->take_id)
    return;
  /* The list has read the take again (saved or not); a take shown from
   * outside the list's filter is read here. */
  position = takes_take_list_find_cached (self->list, edit->take_id);
  if (position >= 0)
    fresh = g_list_model_get_item (G_LIST_MODEL (self->list), (guint)position);
  else
    fresh = takes_store_get_take (self->store, edit->take_id, NULL);
  if (fresh != NULL)
    {
      g_set_object (&self->take, fresh);
      show_take (self);
    }
}

/* Saves one change to the shown take. With the gallery's list the write runs
 * on the list's worker, which then replaces the take's card in place; without
 * one it is written here and the window is told to reload. */
static void
edit (TakesInspector *self, TakesTakeEditKind kind, guint value, const char *text)
{
  gint64 id = takes_take_get_id (self->take);
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;

  if (self->list != NULL && takes_take_list_get_store (self->list) == self->store)
    {
      Edit *data = g_new0 (Edit, 1);

      data->self = g_object_ref (self);
      data->take_id = id;
      takes_take_list_edit_async (self->list, kind, &id, 1, value, text, NULL, edit_cb, data);
      return;
    }
  switch (kind)
    {
      case TAKES_TAKE_EDIT_RATING:
        ok = takes_store_set_rating (self->store, id, value, &error);
        break;
      case TAKES_TAKE_EDIT_DECISION:
        ok = takes_store_set_decision (self->store, id, (TakesDecision)value, &error);
        break;
      case TAKES_TAKE_EDIT_NOTES:
        ok = takes_store_set_notes (self->store, id, text, &error);
        break;
      case TAKES_TAKE_EDIT_ADD_TAG:
        ok = takes_store_add_tag (self->store, id, text, &error);
        break;
      case TAKES_TAKE_EDIT_REMOVE_TAG:
      default:
        ok = takes_store_remove_tag (self->store, id, text, &error);
        break;
    }
  if (!ok)
    report (self, error);
  changed (self);
}

static void
star_clicked_cb (GtkButton *button, TakesInspector *self)
{
  guint rating = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "takes-rating"));

  if (self->take == NULL)
    return;
  /* Clicking the current rating again clears it. */
  if (rating == takes_take_get_rating (self->take))
    rating = 0;
  edit (self, TAKES_TAKE_EDIT_RATING, rating, NULL);
}

static void
decision_toggled_cb (GtkToggleButton *button, TakesInspector *self)
{
  TakesDecision decision = TAKES_DECISION_NONE;

  if (self->loading || self->take == NULL)
    return;
  if (gtk_toggle_button_get_active (self->approve_button))
    decision = TAKES_DECISION_APPROVED;
  else if (gtk_toggle_button_get_active (self->reject_button))
    decision = TAKES_DECISION_REJECTED;
  edit (self, TAKES_TAKE_EDIT_DECISION, decision, NULL);
}

static void
tag_activate_cb (TakesInspector *self)
{
  g_autofree char *tag = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->tag_entry))));

  if (self->take == NULL || *tag == '\0')
    return;
  gtk_editable_set_text (GTK_EDITABLE (self->tag_entry), "");
  edit (self, TAKES_TAKE_EDIT_ADD_TAG, 0, tag);
}

static void
remove_tag_cb (GtkButton *button, TakesInspector *self)
{
  const char *tag = g_object_get_data (G_OBJECT (button), "takes-tag");

  if (self->take != NULL)
    edit (self, TAKES_TAKE_EDIT_REMOVE_TAG, 0, tag);
}

static void
save_notes (TakesInspector *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->notes_view);
  GtkTextIter start, end;
  g_autofree char *notes = NULL;

  if (self->loading || self->take == NULL)
    return;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  notes = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  if (g_strcmp0 (notes, takes_take_get_notes (self->take) != NULL ? takes_take_get_notes (self->take) : "")
      == 0)
    return;
  edit (self, TAKES_TAKE_EDIT_NOTES, 0, notes);
}

static void
notes_focus_leave_cb (GtkEventControllerFocus *controller, TakesInspector *self)
{
  save_notes (self);
}

/* Buttons --------------------------------------------------------------- */

static void
generate_again_cb (TakesInspector *self)
{
  if (self->take != NULL)
    g_signal_emit (self, signals[SIGNAL_GENERATE_AGAIN], 0, self->take);
}

static void
copy_recipe_cb (TakesInspector *self)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (self->take == NULL || takes_take_get_recipe_json (self->take) == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                          takes_take_get_recipe_json (self->take));
  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (_ ("Recipe copied")));
}

static void
reveal_file_cb (TakesInspector *self)
{
  g_autofree char *path = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFile) folder = NULL;
  g_autofree char *uri = NULL;

  if (self->take == NULL)
    return;
  path = takes_store_get_media_file (self->store, self->take);
  if (path == NULL)
    return;
  file = g_file_new_for_path (path);
  folder = g_file_get_parent (file);
  uri = g_file_get_uri (folder);
  gtk_show_uri (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), uri, GDK_CURRENT_TIME);
}

static void
lineage_clicked_cb (GtkButton *button, TakesInspector *self)
{
  gint64 *id = g_object_get_data (G_OBJECT (button), "takes-id");

  g_signal_emit (self, signals[SIGNAL_TAKE_SELECTED], 0, *id);
}

/* Showing a take ----------------------------------------------------------- */

static void
clear_children (GtkWidget *parent)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (parent)) != NULL)
    {
      if (GTK_IS_FLOW_BOX (parent))
        gtk_flow_box_remove (GTK_FLOW_BOX (parent), child);
      else if (GTK_IS_LIST_BOX (parent))
        gtk_list_box_remove (GTK_LIST_BOX (parent), child);
      else
        gtk_box_remove (GTK_BOX (parent), child);
    }
}

static void
add_recipe_row (TakesInspector *self, const char *title, const char *value)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *escaped = g_markup_escape_text (value != NULL ? value : "", -1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), escaped);
  gtk_list_box_append (self->recipe_list, row);
}

static void
add_lineage_button (TakesInspector *self, const char *label, TakesTake *take)
{
  GtkWidget *button = gtk_button_new_with_label (label);
  gint64 id = takes_take_get_id (take);

  gtk_widget_set_tooltip_text (button, takes_take_get_prompt (take));
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  g_object_set_data_full (G_OBJECT (button), "takes-id", g_memdup2 (&id, sizeof id), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (lineage_clicked_cb), self);
  gtk_box_append (self->lineage_box, button);
}

static void
show_recipe (TakesInspector *self)
{
  TakesRecipe *recipe = takes_take_get_recipe (self->take);
  g_autofree char *size = NULL;
  g_autofree char *frames = NULL;
  g_autofree char *steps = NULL;
  g_autofree char *guidance = NULL;
  g_autofree char *shift = NULL;
  g_autofree char *seed = NULL;

  clear_children (GTK_WIDGET (self->recipe_list));
  if (recipe == NULL)
    {
      add_recipe_row (self, _ ("Recipe"), _ ("The stored recipe cannot be read."));
      return;
    }
  size = g_strdup_printf ("%u × %u", takes_recipe_get_width (recipe), takes_recipe_get_height (recipe));
  frames = g_strdup_printf (
      _ ("%u frames at %u fps (%.1f s)"), takes_recipe_get_frames (recipe), takes_recipe_get_fps (recipe),
      (double)takes_recipe_get_frames (recipe) / MAX (takes_recipe_get_fps (recipe), 1));
  steps = g_strdup_printf ("%u", takes_recipe_get_steps (recipe));
  guidance = g_strdup_printf ("%.1f", takes_recipe_get_guidance (recipe));
  shift = g_strdup_printf ("%.1f", takes_recipe_get_shift (recipe));
  seed = g_strdup_printf ("%" G_GINT64_FORMAT, takes_recipe_get_seed (recipe));

  add_recipe_row (self, _ ("Backend"), takes_recipe_get_backend (recipe));
  add_recipe_row (self, _ ("Model"), takes_recipe_get_model (recipe));
  add_recipe_row (self, _ ("Size"), size);
  add_recipe_row (self, _ ("Length"), frames);
  add_recipe_row (self, _ ("Steps"), steps);
  add_recipe_row (self, _ ("Guidance"), guidance);
  add_recipe_row (self, _ ("Shift"), shift);
  add_recipe_row (self, _ ("Sampler"), takes_recipe_get_sampler (recipe));
  add_recipe_row (self, _ ("Seed"), seed);
  if (takes_recipe_get_negative_prompt (recipe) != NULL && *takes_recipe_get_negative_prompt (recipe) != '\0')
    add_recipe_row (self, _ ("Negative prompt"), takes_recipe_get_negative_prompt (recipe));
  if (takes_take_get_optimized_prompt (self->take) != NULL)
    add_recipe_row (self, _ ("Sent prompt"), takes_recipe_get_prompt (recipe));
}

static void
show_lineage (TakesInspector *self)
{
  g_autoptr (GPtrArray) children = NULL;
  g_autoptr (TakesTake) parent = NULL;
  gint64 parent_id = takes_take_get_parent_id (self->take);

  clear_children (GTK_WIDGET (self->lineage_box));
  if (parent_id != 0)
    parent = takes_store_get_take (self->store, parent_id, NULL);
  if (parent != NULL)
    {
      /* Translators: a button that goes to the take this one was made from. */
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, parent_id);
      g_autofree char *label = g_strdup_printf (_ ("Made from take %s"), id);
      add_lineage_button (self, label, parent);
    }
  children = takes_store_get_children (self->store, takes_take_get_id (self->take), NULL);
  for (guint i = 0; children != NULL && i < children->len; i++)
    {
      TakesTake *child = g_ptr_array_index (children, i);
      /* Translators: a button that goes to a take made from this one. */
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, takes_take_get_id (child));
      g_autofree char *label = g_strdup_printf (_ ("Take %s was made from this one"), id);
      add_lineage_button (self, label, child);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->lineage_empty),
                          gtk_widget_get_first_child (GTK_WIDGET (self->lineage_box)) == NULL);
}

static void
show_take (TakesInspector *self)
{
  g_autofree char *media = NULL;
  const char *const *tags;
  const char *notes;
  guint rating;
  GtkWidget *star;
  guint i = 1;

  if (self->take == NULL || self->store == NULL)
    {
      takes_player_set_path (self->player, NULL);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  self->loading = TRUE;
  gtk_stack_set_visible_child_name (self->stack, "take");

  media = takes_store_get_media_file (self->store, self->take);
  /* Re-reading the same take after a rating must not restart its playback. */
  if (g_strcmp0 (media, takes_player_get_path (self->player)) != 0)
    takes_player_set_path (self->player, media);
  gtk_widget_set_visible (GTK_WIDGET (self->player), media != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->reveal_button), media != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->noise_label), takes_take_get_is_tiny (self->take));

  switch (takes_take_get_status (self->take))
    {
      case TAKES_TAKE_STATUS_FAILED:
        gtk_label_set_text (self->status_label, _ ("This take failed; its notes say why."));
        break;
      case TAKES_TAKE_STATUS_QUEUED:
        gtk_label_set_text (self->status_label, _ ("Waiting in the queue."));
        break;
      case TAKES_TAKE_STATUS_RUNNING:
        gtk_label_set_text (self->status_label, _ ("Being made now."));
        break;
      case TAKES_TAKE_STATUS_CANCELLED:
        gtk_label_set_text (self->status_label, _ ("This take was cancelled."));
        break;
      case TAKES_TAKE_STATUS_DONE:
      default:
        gtk_label_set_text (self->status_label, NULL);
        break;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->status_label),
                          takes_take_get_status (self->take) != TAKES_TAKE_STATUS_DONE);
  gtk_label_set_text (self->prompt_label, takes_take_get_prompt (self->take));

  rating = takes_take_get_rating (self->take);
  for (star = gtk_widget_get_first_child (GTK_WIDGET (self->rating_box)); star != NULL;
       star = gtk_widget_get_next_sibling (star), i++)
    gtk_button_set_icon_name (GTK_BUTTON (star), i <= rating ? "starred-symbolic" : "non-starred-symbolic");

  gtk_toggle_button_set_active (self->approve_button,
                                takes_take_get_decision (self->take) == TAKES_DECISION_APPROVED);
  gtk_toggle_button_set_active (self->reject_button,
                                takes_take_get_decision (self->take) == TAKES_DECISION_REJECTED);

  clear_children (GTK_WIDGET (self->tags_box));
  tags = takes_take_get_tags (self->take);
  for (guint t = 0; tags[t] != NULL; t++)
    {
      GtkWidget *button = gtk_button_new ();
      GtkWidget *content = adw_button_content_new ();

      adw_button_content_set_label (ADW_BUTTON_CONTENT (content), tags[t]);
      adw_button_content_set_icon_name (ADW_BUTTON_CONTENT (content), "window-close-symbolic");
      gtk_button_set_child (GTK_BUTTON (button), content);
      gtk_widget_set_tooltip_text (button, _ ("Remove Tag"));
      gtk_widget_add_css_class (button, "pill");
      gtk_widget_add_css_class (button, "small");
      g_object_set_data_full (G_OBJECT (button), "takes-tag", g_strdup (tags[t]), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (remove_tag_cb), self);
      gtk_flow_box_append (self->tags_box, button);
    }

  notes = takes_take_get_notes (self->take);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->notes_view), notes != NULL ? notes : "", -1);

  show_recipe (self);
  show_lineage (self);
  self->loading = FALSE;
}

/* GObject --------------------------------------------------------------- */

static void
takes_inspector_dispose (GObject *object)
{
  TakesInspector *self = TAKES_INSPECTOR (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_INSPECTOR);
  /* The template's top box has no id, so dispose_template leaves it. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  g_clear_object (&self->store);
  g_clear_object (&self->list);
  g_clear_object (&self->take);

  G_OBJECT_CLASS (takes_inspector_parent_class)->dispose (object);
}

static void
takes_inspector_class_init (TakesInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = takes_inspector_dispose;

  g_type_ensure (TAKES_TYPE_PLAYER);

  signals[SIGNAL_TAKE_SELECTED] = g_signal_new ("take-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_GENERATE_AGAIN]
      = g_signal_new ("generate-again", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 1, TAKES_TYPE_TAKE);
  signals[SIGNAL_TAKE_CHANGED] = g_signal_new ("take-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                               0, NULL, NULL, NULL, G_TYPE_NONE, 1, TAKES_TYPE_TAKE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/takes/Takes/ui/takes-inspector.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, stack);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, player);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, noise_label);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, status_label);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, prompt_label);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, rating_box);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, approve_button);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, reject_button);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, tags_box);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, tag_entry);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, notes_view);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, recipe_list);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, lineage_box);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, lineage_empty);
  gtk_widget_class_bind_template_child (widget_class, TakesInspector, reveal_button);
  gtk_widget_class_bind_template_callback (widget_class, decision_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, tag_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, generate_again_cb);
  gtk_widget_class_bind_template_callback (widget_class, copy_recipe_cb);
  gtk_widget_class_bind_template_callback (widget_class, reveal_file_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "inspector");
}

static void
takes_inspector_init (TakesInspector *self)
{
  GtkEventController *focus;

  gtk_widget_init_template (GTK_WIDGET (self));
  /* Takes are seconds long: judging one means watching it several times. */
  takes_player_set_loop (self->player, TRUE);

  for (guint i = 1; i <= TAKES_MAX_RATING; i++)
    {
      GtkWidget *star = gtk_button_new_from_icon_name ("non-starred-symbolic");
      g_autofree char *tooltip = g_strdup_printf (ngettext ("Rate %u star", "Rate %u stars", i), i);

      gtk_widget_add_css_class (star, "flat");
      gtk_widget_add_css_class (star, "star");
      gtk_widget_set_tooltip_text (star, tooltip);
      g_object_set_data (G_OBJECT (star), "takes-rating", GUINT_TO_POINTER (i));
      g_signal_connect (star, "clicked", G_CALLBACK (star_clicked_cb), self);
      gtk_box_append (self->rating_box, star);
    }

  focus = gtk_event_controller_focus_new ();
  g_signal_connect (focus, "leave", G_CALLBACK (notes_focus_leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->notes_view), focus);
}

GtkWidget *
takes_inspector_new (void)
{
  return g_object_new (TAKES_TYPE_INSPECTOR, NULL);
}

void
takes_inspector_set_store (TakesInspector *self, TakesStore *store)
{
  g_return_if_fail (TAKES_IS_INSPECTOR (self));
  if (g_set_object (&self->store, store))
    takes_inspector_set_take (self, NULL);
}

void
takes_inspector_set_take_list (TakesInspector *self, TakesTakeList *list)
{
  g_return_if_fail (TAKES_IS_INSPECTOR (self));
  g_return_if_fail (list == NULL || TAKES_IS_TAKE_LIST (list));

  g_set_object (&self->list, list);
}

void
takes_inspector_set_take (TakesInspector *self, TakesTake *take)
{
  g_return_if_fail (TAKES_IS_INSPECTOR (self));

  if (self->take != NULL && take != NULL && takes_take_get_id (self->take) == takes_take_get_id (take)
      && takes_take_get_updated (self->take) == takes_take_get_updated (take))
    return;
  /* Notes typed but not yet saved go with the take they were typed for. */
  if (self->take != NULL && gtk_widget_has_focus (GTK_WIDGET (self->notes_view)))
    save_notes (self);
  g_set_object (&self->take, take);
  show_take (self);
}

TakesTake *
takes_inspector_get_take (TakesInspector *self)
{
  g_return_val_if_fail (TAKES_IS_INSPECTOR (self), NULL);
  return self->take;
}

void
takes_inspector_pause (TakesInspector *self)
{
  g_return_if_fail (TAKES_IS_INSPECTOR (self));
  takes_player_pause (self->player);
}

TakesPlayer *
takes_inspector_get_player (TakesInspector *self)
{
  g_return_val_if_fail (TAKES_IS_INSPECTOR (self), NULL);
  return self->player;
}
