/* takes-compare-view.c: two to four takes played together for judging.
 *
 * The picture is a TakesPlayer holding every take in one pipeline; the modes
 * map onto its views, so moving the wipe or toggling the take changes only
 * how the composited frame is drawn. Verdicts and the next pair go through
 * the store's review API on the main thread: each is one small transaction.
 */
#include "config.h"

#include <inttypes.h>

#define G_LOG_DOMAIN "takes-compare-view"

#include <glib/gi18n.h>
#include <string.h>

#include "takes-compare-view.h"

/* Stop offering pairs once every neighbour in the ranking is this sure. */
#define NEXT_PAIR_MIN_CONFIDENCE 0.95

struct _TakesCompareView
{
  GtkWidget parent_instance;

  /* Template children */
  GtkWidget *paned;
  TakesPlayer *player;
  GtkDropDown *mode_dropdown;
  GtkToggleButton *wipe_button;
  GtkLabel *shown_label;
  GtkLabel *note_label;
  GtkLabel *status_label;
  GtkGrid *diff_grid;
  GtkLabel *diff_empty_label;

  TakesStore *store;
  GPtrArray *takes; /* TakesTake */
  gint64 batch_id;

  TakesCompareMode mode;
  TakesCompareWipe wipe;
  double split;
  guint shown;
  char *note;
  guint n_differences;
};

G_DEFINE_FINAL_TYPE (TakesCompareView, takes_compare_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_STORE,
  PROP_MODE,
  PROP_NOTE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_VERDICT_RECORDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static char
take_letter (guint index)
{
  return (char)('A' + index);
}

static void
set_status (TakesCompareView *self, const char *message)
{
  gtk_label_set_text (self->status_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), message != NULL);
}

/* Views */

static void
apply_view (TakesCompareView *self)
{
  guint n = self->takes->len;
  g_autofree char *shown = NULL;

  switch (self->mode)
    {
      case TAKES_COMPARE_WIPE:
        takes_player_set_view (self->player, TAKES_PLAYER_VIEW_WIPE);
        break;
      case TAKES_COMPARE_DIFFERENCE:
        takes_player_set_view (self->player, TAKES_PLAYER_VIEW_DIFFERENCE);
        break;
      case TAKES_COMPARE_TOGGLE:
        takes_player_set_view (self->player, TAKES_PLAYER_VIEW_SINGLE);
        break;
      case TAKES_COMPARE_SIDE_BY_SIDE:
      default:
        takes_player_set_view (self->player, TAKES_PLAYER_VIEW_GRID);
        break;
    }
  takes_player_set_view_source (self->player, self->shown);
  /* The paintable splits across its width for a vertical line. */
  takes_player_set_wipe (self->player, self->split,
                         self->wipe == TAKES_COMPARE_WIPE_VERTICAL ? GTK_ORIENTATION_HORIZONTAL
                                                                   : GTK_ORIENTATION_VERTICAL);

  gtk_widget_set_visible (GTK_WIDGET (self->wipe_button), self->mode == TAKES_COMPARE_WIPE);
  gtk_widget_set_visible (GTK_WIDGET (self->shown_label), self->mode == TAKES_COMPARE_TOGGLE && n > 0);
  if (n > 0)
    {
      /* TRANSLATORS: in toggle mode, which take is on screen, e.g. "Showing B" */
      shown = g_strdup_printf (_ ("Showing %c"), take_letter (self->shown));
      gtk_label_set_text (self->shown_label, shown);
    }
  if (gtk_drop_down_get_selected (self->mode_dropdown) != (guint)self->mode)
    gtk_drop_down_set_selected (self->mode_dropdown, (guint)self->mode);
  if (gtk_toggle_button_get_active (self->wipe_button) != (self->wipe == TAKES_COMPARE_WIPE_HORIZONTAL))
    gtk_toggle_button_set_active (self->wipe_button, self->wipe == TAKES_COMPARE_WIPE_HORIZONTAL);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.a-wins", n >= 2 && self->store != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.b-wins", n >= 2 && self->store != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.tie", n >= 2 && self->store != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.next-pair",
                                 self->batch_id > 0 && self->store != NULL);
}

/* The note */

static void
update_note (TakesCompareView *self)
{
  g_autoptr (GString) note = g_string_new (NULL);
  int w0 = 0, h0 = 0, fn0 = 0, fd0 = 1;
  guint frames0 = 0;

  if (takes_player_get_source_info (self->player, 0, &w0, &h0, &fn0, &fd0, &frames0))
    for (guint i = 1; i < takes_player_get_n_sources (self->player); i++)
      {
        int w = 0, h = 0, fn = 0, fd = 1;
        guint frames = 0;

        if (!takes_player_get_source_info (self->player, i, &w, &h, &fn, &fd, &frames))
          continue;
        if (note->len > 0)
          g_string_append_c (note, ' ');
        if (w != w0 || h != h0)
          g_string_append_printf (note, _ ("%c is %d×%d and is scaled to fit %d×%d."), take_letter (i), w, h,
                                  w0, h0);
        if (fn0 > 0 && fn > 0 && (gint64)fn * fd0 != (gint64)fn0 * fd)
          {
            if (w != w0 || h != h0)
              g_string_append_c (note, ' ');
            g_string_append_printf (note, _ ("%c runs at %.3g fps and is retimed to %.3g fps."),
                                    take_letter (i), (double)fn / MAX (fd, 1), (double)fn0 / MAX (fd0, 1));
          }
        if (frames < frames0)
          {
            g_string_append_c (note, ' ');
            g_string_append_printf (note,
                                    _ ("%c is shorter than A; its picture is black after its last frame."),
                                    take_letter (i));
          }
      }
  g_strstrip (note->str);
  g_free (self->note);
  self->note = note->str[0] != '\0' ? g_strdup (note->str) : NULL;
  gtk_label_set_text (self->note_label, self->note != NULL ? self->note : "");
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), self->note != NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTE]);
}

static void
player_state_cb (TakesPlayer *player, GParamSpec *pspec, TakesCompareView *self)
{
  if (takes_player_get_state (player) == TAKES_PLAYER_STATE_PAUSED
      || takes_player_get_state (player) == TAKES_PLAYER_STATE_ERROR)
    update_note (self);
}

/* The recipe table */

static void
clear_grid (GtkGrid *grid)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (grid))) != NULL)
    gtk_grid_remove (grid, child);
}

static GtkWidget *
cell_label (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 28);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static int
compare_fields (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *)a, *(const char *const *)b);
}

/* The recipe's JSON member names are for files; people read these. Fields
 * added later (options of one backend) keep their member name. */
static const char *
field_label (const char *field)
{
  static const struct
  {
    const char *field;
    const char *label;
  } labels[] = {
    { "backend", N_ ("Backend") },
    { "fps", N_ ("Frames per second") },
    { "frames", N_ ("Frames") },
    { "guidance", N_ ("Guidance") },
    { "guidance_high", N_ ("Guidance (high noise)") },
    { "guidance_low", N_ ("Guidance (low noise)") },
    { "height", N_ ("Height") },
    { "model", N_ ("Model") },
    { "negative_prompt", N_ ("Negative prompt") },
    { "options", N_ ("Backend options") },
    { "prompt", N_ ("Prompt") },
    { "sampler", N_ ("Sampler") },
    { "seed", N_ ("Seed") },
    { "shift", N_ ("Shift") },
    { "steps", N_ ("Steps") },
    { "version", N_ ("Recipe version") },
    { "width", N_ ("Width") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_str_equal (labels[i].field, field))
      return _ (labels[i].label);
  return field;
}

/* Rows are the fields in which any take differs from A; a take's cell is
 * highlighted where it differs from A, and "—" marks a missing field. */
static void
update_differences (TakesCompareView *self)
{
  g_autoptr (GHashTable) rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) fields = g_ptr_array_new ();
  g_autoptr (GPtrArray) diffs = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
  guint n = self->takes->len;

  clear_grid (self->diff_grid);
  for (guint i = 1; i < n; i++)
    {
      GPtrArray *changes = takes_recipe_diff (takes_take_get_recipe (g_ptr_array_index (self->takes, 0)),
                                              takes_take_get_recipe (g_ptr_array_index (self->takes, i)));

      g_ptr_array_add (diffs, changes);
      for (guint c = 0; c < changes->len; c++)
        {
          TakesRecipeChange *change = g_ptr_array_index (changes, c);

          if (!g_hash_table_contains (rows, change->field))
            {
              char *field = g_strdup (change->field);

              g_hash_table_add (rows, field);
              g_ptr_array_add (fields, field);
            }
        }
    }
  g_ptr_array_sort (fields, compare_fields);

  self->n_differences = fields->len;
  gtk_widget_set_visible (GTK_WIDGET (self->diff_empty_label), n >= 2 && fields->len == 0);
  if (fields->len == 0)
    return;

  gtk_grid_attach (self->diff_grid, cell_label (_ ("Field"), "heading"), 0, 0, 1, 1);
  for (guint i = 0; i < n; i++)
    {
      char letter[2] = { take_letter (i), '\0' };

      gtk_grid_attach (self->diff_grid, cell_label (letter, "heading"), (int)i + 1, 0, 1, 1);
    }
  for (guint r = 0; r < fields->len; r++)
    {
      const char *field = g_ptr_array_index (fields, r);
      const char *value_a = NULL;
      gboolean a_known = FALSE;

      gtk_grid_attach (self->diff_grid, cell_label (field_label (field), "dim-label"), 0, (int)r + 1, 1, 1);
      for (guint i = 1; i < n; i++)
        {
          GPtrArray *changes = g_ptr_array_index (diffs, i - 1);
          const char *value = NULL;
          gboolean changed = FALSE;

          for (guint c = 0; c < changes->len; c++)
            {
              TakesRecipeChange *change = g_ptr_array_index (changes, c);

              if (g_str_equal (change->field, field))
                {
                  value = change->value_b;
                  changed = TRUE;
                  if (!a_known)
                    {
                      value_a = change->value_a;
                      a_known = TRUE;
                    }
                }
            }
          GtkWidget *cell = cell_label (changed ? (value != NULL ? value : "—") : NULL,
                                        changed ? "takes-recipe-changed" : NULL);

          /* Adwaita's accent colour marks what differs from A; a cell that
           * is the same as A gets A's text below. */
          if (changed)
            gtk_widget_add_css_class (cell, "accent");
          gtk_grid_attach (self->diff_grid, cell, (int)i + 1, (int)r + 1, 1, 1);
        }
      gtk_grid_attach (self->diff_grid, cell_label (value_a != NULL ? value_a : "—", NULL), 1, (int)r + 1, 1,
                       1);
      for (guint i = 1; i < n; i++)
        {
          GtkWidget *cell = gtk_grid_get_child_at (self->diff_grid, (int)i + 1, (int)r + 1);

          if (!gtk_widget_has_css_class (cell, "takes-recipe-changed"))
            gtk_label_set_text (GTK_LABEL (cell), value_a != NULL ? value_a : "—");
        }
    }
}

/* Verdicts and pairs */

static void
action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesCompareView *self = TAKES_COMPARE_VIEW (widget);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesComparison) comparison = NULL;

  if (g_str_equal (action_name, "compare.a-wins"))
    comparison = takes_compare_view_record_verdict (self, TAKES_VERDICT_A_WINS, &error);
  else if (g_str_equal (action_name, "compare.b-wins"))
    comparison = takes_compare_view_record_verdict (self, TAKES_VERDICT_B_WINS, &error);
  else if (g_str_equal (action_name, "compare.tie"))
    comparison = takes_compare_view_record_verdict (self, TAKES_VERDICT_TIE, &error);
  else if (g_str_equal (action_name, "compare.next-pair"))
    {
      if (!takes_compare_view_compare_next_pair (self, &error) && error == NULL)
        set_status (self, _ ("Every pair that could change the ranking has been judged."));
    }
  else if (g_str_equal (action_name, "compare.toggle"))
    takes_compare_view_toggle (self);
  else if (g_str_equal (action_name, "compare.turn-wipe"))
    takes_compare_view_set_wipe (self, self->split,
                                 self->wipe == TAKES_COMPARE_WIPE_VERTICAL ? TAKES_COMPARE_WIPE_HORIZONTAL
                                                                           : TAKES_COMPARE_WIPE_VERTICAL);
  else if (g_str_equal (action_name, "compare.mode"))
    takes_compare_view_set_mode (self, (TakesCompareMode)g_variant_get_int32 (parameter));
  else if (g_str_has_prefix (action_name, "compare.player-"))
    gtk_widget_activate_action (GTK_WIDGET (self->player), action_name + strlen ("compare."), NULL);

  if (error != NULL)
    set_status (self, error->message);
}

static void
drag_cb (GtkGestureDrag *gesture, double offset_x, double offset_y, TakesCompareView *self)
{
  double start_x = 0, start_y = 0, fx = 0, fy = 0;

  if (self->mode != TAKES_COMPARE_WIPE)
    return;
  gtk_gesture_drag_get_start_point (gesture, &start_x, &start_y);
  if (!takes_player_get_picture_fraction (self->player, start_x + offset_x, start_y + offset_y, &fx, &fy))
    return;
  takes_compare_view_set_wipe (self, CLAMP (self->wipe == TAKES_COMPARE_WIPE_VERTICAL ? fx : fy, 0.0, 1.0),
                               self->wipe);
}

static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, TakesCompareView *self)
{
  if (self->mode != TAKES_COMPARE_WIPE)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  drag_cb (gesture, 0, 0, self);
}

static void
mode_selected_cb (GtkDropDown *dropdown, GParamSpec *pspec, TakesCompareView *self)
{
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (selected <= TAKES_COMPARE_TOGGLE)
    takes_compare_view_set_mode (self, (TakesCompareMode)selected);
}

static void
wipe_toggled_cb (GtkToggleButton *button, TakesCompareView *self)
{
  takes_compare_view_set_wipe (self, self->split,
                               gtk_toggle_button_get_active (button) ? TAKES_COMPARE_WIPE_HORIZONTAL
                                                                     : TAKES_COMPARE_WIPE_VERTICAL);
}

/* GObject */

static void
takes_compare_view_dispose (GObject *object)
{
  TakesCompareView *self = TAKES_COMPARE_VIEW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_COMPARE_VIEW);
  g_clear_object (&self->store);
  g_clear_pointer (&self->takes, g_ptr_array_unref);
  G_OBJECT_CLASS (takes_compare_view_parent_class)->dispose (object);
}

static void
takes_compare_view_finalize (GObject *object)
{
  TakesCompareView *self = TAKES_COMPARE_VIEW (object);

  g_free (self->note);
  G_OBJECT_CLASS (takes_compare_view_parent_class)->finalize (object);
}

static void
takes_compare_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesCompareView *self = TAKES_COMPARE_VIEW (object);

  switch (prop_id)
    {
      case PROP_STORE:
        g_value_set_object (value, self->store);
        break;
      case PROP_MODE:
        g_value_set_int (value, self->mode);
        break;
      case PROP_NOTE:
        g_value_set_string (value, self->note);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_compare_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesCompareView *self = TAKES_COMPARE_VIEW (object);

  switch (prop_id)
    {
      case PROP_STORE:
        takes_compare_view_set_store (self, g_value_get_object (value));
        break;
      case PROP_MODE:
        takes_compare_view_set_mode (self, (TakesCompareMode)g_value_get_int (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_compare_view_class_init (TakesCompareViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const struct
  {
    const char *name;
    guint key;
  } bindings[] = {
    { "compare.a-wins", GDK_KEY_a },
    { "compare.b-wins", GDK_KEY_b },
    { "compare.tie", GDK_KEY_t },
    { "compare.next-pair", GDK_KEY_n },
    { "compare.toggle", GDK_KEY_x },
    { "compare.turn-wipe", GDK_KEY_v },
    { "compare.player-play-pause", GDK_KEY_space },
    { "compare.player-shuttle-back", GDK_KEY_j },
    { "compare.player-shuttle-stop", GDK_KEY_k },
    { "compare.player-shuttle-forward", GDK_KEY_l },
    { "compare.player-step-back", GDK_KEY_comma },
    { "compare.player-step-forward", GDK_KEY_period },
  };

  object_class->dispose = takes_compare_view_dispose;
  object_class->finalize = takes_compare_view_finalize;
  object_class->get_property = takes_compare_view_get_property;
  object_class->set_property = takes_compare_view_set_property;

  properties[PROP_STORE]
      = g_param_spec_object ("store", NULL, NULL, TAKES_TYPE_STORE,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MODE] = g_param_spec_int (
      "mode", NULL, NULL, TAKES_COMPARE_SIDE_BY_SIDE, TAKES_COMPARE_TOGGLE, TAKES_COMPARE_SIDE_BY_SIDE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_NOTE]
      = g_param_spec_string ("note", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The comparison's id. */
  signals[SIGNAL_VERDICT_RECORDED]
      = g_signal_new ("verdict-recorded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 1, G_TYPE_INT64);

  g_type_ensure (TAKES_TYPE_PLAYER);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/takes/Takes/ui/takes-compare-view.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, paned);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, player);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, mode_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, wipe_button);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, shown_label);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, note_label);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, status_label);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, diff_grid);
  gtk_widget_class_bind_template_child (widget_class, TakesCompareView, diff_empty_label);
  gtk_widget_class_bind_template_callback (widget_class, mode_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, wipe_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, player_state_cb);

  for (guint i = 0; i < G_N_ELEMENTS (bindings); i++)
    {
      gtk_widget_class_install_action (widget_class, bindings[i].name, NULL, action_cb);
      gtk_widget_class_add_binding_action (widget_class, bindings[i].key, 0, bindings[i].name, NULL);
    }
  gtk_widget_class_install_action (widget_class, "compare.mode", "i", action_cb);
  for (int mode = TAKES_COMPARE_SIDE_BY_SIDE; mode <= TAKES_COMPARE_TOGGLE; mode++)
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + (guint)mode, 0, "compare.mode", "i", mode);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "takes-compare-view");
}

static void
takes_compare_view_init (TakesCompareView *self)
{
  GtkGesture *drag;

  self->takes = g_ptr_array_new_with_free_func (g_object_unref);
  self->split = 0.5;
  self->wipe = TAKES_COMPARE_WIPE_VERTICAL;
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->player), GTK_EVENT_CONTROLLER (drag));
  apply_view (self);
}

/* Public API */

GtkWidget *
takes_compare_view_new (void)
{
  return g_object_new (TAKES_TYPE_COMPARE_VIEW, NULL);
}

void
takes_compare_view_set_store (TakesCompareView *self, TakesStore *store)
{
  g_return_if_fail (TAKES_IS_COMPARE_VIEW (self));
  g_return_if_fail (store == NULL || TAKES_IS_STORE (store));
  if (!g_set_object (&self->store, store))
    return;
  apply_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE]);
}

TakesStore *
takes_compare_view_get_store (TakesCompareView *self)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), NULL);
  return self->store;
}

gboolean
takes_compare_view_set_takes (TakesCompareView *self, const gint64 *take_ids, guint n_takes, GError **error)
{
  g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), FALSE);
  g_return_val_if_fail (n_takes >= 2 && n_takes <= TAKES_PLAYER_MAX_SOURCES, FALSE);
  g_return_val_if_fail (take_ids != NULL, FALSE);
  if (self->store == NULL)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("No library is open. Open a library before comparing takes."));
      return FALSE;
    }
  for (guint i = 0; i < n_takes; i++)
    {
      TakesTake *take = takes_store_get_take (self->store, take_ids[i], error);

      if (take == NULL)
        return FALSE;
      g_ptr_array_add (takes, take);
      if (takes_take_get_media_path (take) == NULL)
        {
          g_set_error (
              error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA,
              _ ("Take %" PRId64 " has no video yet. Wait until it is generated, then compare it."),
              take_ids[i]);
          return FALSE;
        }
      g_ptr_array_add (paths, takes_store_get_media_file (self->store, take));
    }
  g_ptr_array_add (paths, NULL);

  g_ptr_array_unref (self->takes);
  self->takes = g_steal_pointer (&takes);
  self->shown = 0;
  set_status (self, NULL);
  update_differences (self);
  takes_player_set_paths (self->player, (const char *const *)paths->pdata);
  update_note (self);
  apply_view (self);
  return TRUE;
}

guint
takes_compare_view_get_n_takes (TakesCompareView *self)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), 0);
  return self->takes->len;
}

gint64
takes_compare_view_get_take_id (TakesCompareView *self, guint index)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), 0);
  g_return_val_if_fail (index < self->takes->len, 0);
  return takes_take_get_id (g_ptr_array_index (self->takes, index));
}

void
takes_compare_view_set_batch (TakesCompareView *self, gint64 batch_id)
{
  g_return_if_fail (TAKES_IS_COMPARE_VIEW (self));
  self->batch_id = batch_id;
  apply_view (self);
}

gint64
takes_compare_view_get_batch (TakesCompareView *self)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), 0);
  return self->batch_id;
}

gboolean
takes_compare_view_compare_next_pair (TakesCompareView *self, GError **error)
{
  g_autoptr (TakesRanking) ranking = NULL;
  g_autoptr (GArray) take_ids = NULL;
  gint64 pair[2];
  guint a = 0, b = 0;

  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), FALSE);
  if (self->store == NULL || self->batch_id <= 0)
    return FALSE;
  ranking = takes_store_rank_batch (self->store, self->batch_id, &take_ids, error);
  if (ranking == NULL)
    return FALSE;
  if (!takes_ranking_next_pair (ranking, NEXT_PAIR_MIN_CONFIDENCE, &a, &b))
    return FALSE;
  pair[0] = g_array_index (take_ids, gint64, a);
  pair[1] = g_array_index (take_ids, gint64, b);
  return takes_compare_view_set_takes (self, pair, 2, error);
}

void
takes_compare_view_set_mode (TakesCompareView *self, TakesCompareMode mode)
{
  g_return_if_fail (TAKES_IS_COMPARE_VIEW (self));
  g_return_if_fail (mode <= TAKES_COMPARE_TOGGLE);
  if (self->mode == mode)
    return;
  self->mode = mode;
  apply_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

TakesCompareMode
takes_compare_view_get_mode (TakesCompareView *self)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), TAKES_COMPARE_SIDE_BY_SIDE);
  return self->mode;
}

void
takes_compare_view_set_wipe (TakesCompareView *self, double split, TakesCompareWipe wipe)
{
  g_return_if_fail (TAKES_IS_COMPARE_VIEW (self));
  self->split = CLAMP (split, 0.0, 1.0);
  self->wipe = wipe;
  apply_view (self);
}

void
takes_compare_view_toggle (TakesCompareView *self)
{
  g_return_if_fail (TAKES_IS_COMPARE_VIEW (self));
  if (self->takes->len == 0)
    return;
  self->shown = (self->shown + 1) % self->takes->len;
  apply_view (self);
}

TakesComparison *
takes_compare_view_record_verdict (TakesCompareView *self, TakesVerdict verdict, GError **error)
{
  TakesComparison *comparison;

  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), NULL);
  if (self->store == NULL || self->takes->len < 2)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("There are no two takes to judge. Choose two takes to compare first."));
      return NULL;
    }
  comparison = takes_store_add_comparison (self->store, takes_compare_view_get_take_id (self, 0),
                                           takes_compare_view_get_take_id (self, 1), verdict, NULL, error);
  if (comparison == NULL)
    return NULL;
  switch (verdict)
    {
      case TAKES_VERDICT_A_WINS:
        set_status (self, _ ("Saved: A wins."));
        break;
      case TAKES_VERDICT_B_WINS:
        set_status (self, _ ("Saved: B wins."));
        break;
      case TAKES_VERDICT_TIE:
      default:
        set_status (self, _ ("Saved: a tie."));
        break;
    }
  g_signal_emit (self, signals[SIGNAL_VERDICT_RECORDED], 0, comparison->id);
  return comparison;
}

TakesPlayer *
takes_compare_view_get_player (TakesCompareView *self)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), NULL);
  return self->player;
}

const char *
takes_compare_view_get_note (TakesCompareView *self)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), NULL);
  return self->note;
}

guint
takes_compare_view_get_n_differences (TakesCompareView *self)
{
  g_return_val_if_fail (TAKES_IS_COMPARE_VIEW (self), 0);
  return self->n_differences;
}
