/* takes-prompt-editor.c: the prompt, its parameters and its batch variables. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#include "takes-backend-local.h"
#include "takes-backend-registry.h"
#include "takes-backend.h"
#include "takes-batch-plan.h"
#include "takes-estimate.h"
#include "takes-prompt-editor.h"
#include "takes-take.h"
#include "takes-template.h"

/* Checking the prompt on every key would make typing lag on long lists. */
#define CHECK_DELAY_MS 250

typedef struct
{
  guint width;
  guint height;
} Size;

/* Wan's native sizes by aspect ratio, smallest first within each ratio. */
static const Size default_sizes[] = {
  { 832, 480 },  { 480, 832 }, { 624, 624 },  { 1280, 720 },
  { 720, 1280 }, { 960, 960 }, { 1088, 832 }, { 832, 1088 },
};

static const char *const fallback_models[] = {
  "wan2.1-t2v-1.3b", "wan2.2-ti2v-5b", "wan2.2-t2v-a14b", "tiny", NULL,
};

struct _TakesPromptEditor
{
  GtkWidget parent_instance;

  GtkTextView *prompt_view;
  GtkTextView *negative_view;
  GtkLabel *count_label;
  GtkLabel *problem_label;
  GtkFrame *negative_frame;
  GtkToggleButton *assistant_button;
  TakesOptimizerPanel *optimizer_panel;
  AdwComboRow *backend_row;
  AdwComboRow *model_row;
  AdwComboRow *size_row;
  AdwActionRow *frames_row;
  GtkSpinButton *frames_spin;
  AdwActionRow *fps_row;
  GtkSpinButton *fps_spin;
  AdwActionRow *steps_row;
  GtkSpinButton *steps_spin;
  AdwActionRow *guidance_row;
  GtkSpinButton *guidance_spin;
  AdwActionRow *shift_row;
  GtkSpinButton *shift_spin;
  AdwComboRow *sampler_row;
  AdwActionRow *seed_row;
  GtkSpinButton *seed_spin;
  GtkToggleButton *seed_lock_button;
  GtkBox *variables_box;
  GtkListBox *variables_list;
  GtkLabel *campaign_label;

  GSettings *settings;
  GtkTextTag *variable_tag;
  GtkTextTag *blocked_tag;
  GPtrArray *backends;       /* TakesBackend, may be empty */
  GStrv backend_ids;         /* the backend row's entries */
  GStrv model_ids;           /* the model row's entries */
  GArray *sizes;             /* Size, the size row's entries */
  GStrv variable_names;      /* the rows of the variables table */
  GHashTable *variable_text; /* name → the comma-separated values typed */
  TakesSafety *safety;
  TakesPricing *pricing;
  gint64 parent_id;
  guint check_source;
  guint n_takes;
  gboolean loading;
};

G_DEFINE_FINAL_TYPE (TakesPromptEditor, takes_prompt_editor, GTK_TYPE_WIDGET)

static void update_campaign (TakesPromptEditor *self);

/* Helpers --------------------------------------------------------------- */

static char *
buffer_text (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static const char *
selected_string (GStrv strings, AdwComboRow *row)
{
  guint selected = adw_combo_row_get_selected (row);

  if (strings == NULL || selected == GTK_INVALID_LIST_POSITION || selected >= g_strv_length (strings))
    return NULL;
  return strings[selected];
}

static TakesBackend *
current_backend (TakesPromptEditor *self)
{
  const char *id = selected_string (self->backend_ids, self->backend_row);

  for (guint i = 0; id != NULL && i < self->backends->len; i++)
    {
      TakesBackend *backend = g_ptr_array_index (self->backends, i);
      if (g_strcmp0 (takes_backend_get_id (backend), id) == 0)
        return backend;
    }
  return NULL;
}

static TakesBackendModelCaps *
current_model_caps (TakesPromptEditor *self, TakesBackendCapabilities **caps_out)
{
  TakesBackend *backend = current_backend (self);
  TakesBackendCapabilities *caps;
  const char *model = selected_string (self->model_ids, self->model_row);

  *caps_out = NULL;
  if (backend == NULL)
    return NULL;
  caps = takes_backend_get_capabilities (backend);
  *caps_out = caps;
  return caps != NULL && model != NULL ? takes_backend_capabilities_lookup_model (caps, model) : NULL;
}

static guint
gcd (guint a, guint b)
{
  while (b != 0)
    {
      guint t = a % b;
      a = b;
      b = t;
    }
  return a;
}

static char *
format_size (guint width, guint height)
{
  guint g = gcd (width, height);
  guint aw = width / g, ah = height / g;

  /* 832×480 is 26:15, which nobody reads as widescreen. */
  if (ABS ((double)width / height - 16.0 / 9.0) < 0.1)
    aw = 16, ah = 9;
  else if (ABS ((double)height / width - 16.0 / 9.0) < 0.1)
    aw = 9, ah = 16;
  else if (ABS ((double)width / height - 4.0 / 3.0) < 0.05)
    aw = 4, ah = 3;
  else if (ABS ((double)height / width - 4.0 / 3.0) < 0.05)
    aw = 3, ah = 4;
  /* Translators: a video size: aspect ratio, then width × height in pixels. */
  return g_strdup_printf (_ ("%u:%u · %u × %u"), aw, ah, width, height);
}

/* Backends, models and sizes -------------------------------------------- */

static void
set_combo_strings (AdwComboRow *row, const char *const *labels, guint selected)
{
  g_autoptr (GtkStringList) list = gtk_string_list_new (labels);

  adw_combo_row_set_model (row, G_LIST_MODEL (list));
  adw_combo_row_set_selected (row, selected);
}

static void
fill_sizes (TakesPromptEditor *self, guint want_width, guint want_height)
{
  TakesBackendCapabilities *caps;
  TakesBackendModelCaps *model = current_model_caps (self, &caps);
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  guint selected = 0;
  gboolean found = FALSE;

  g_array_set_size (self->sizes, 0);
  if (model != NULL && model->sizes != NULL && model->sizes->len > 0)
    g_array_append_vals (self->sizes, model->sizes->data, model->sizes->len);
  else
    for (guint i = 0; i < G_N_ELEMENTS (default_sizes); i++)
      {
        if (model != NULL && model->max_side > 0
            && (default_sizes[i].width > model->max_side || default_sizes[i].height > model->max_side))
          continue;
        g_array_append_val (self->sizes, default_sizes[i]);
      }

  for (guint i = 0; i < self->sizes->len; i++)
    {
      Size *size = &g_array_index (self->sizes, Size, i);

      if (size->width == want_width && size->height == want_height)
        {
          selected = i;
          found = TRUE;
        }
    }
  if (!found && want_width > 0 && want_height > 0
      && (model == NULL || model->sizes == NULL || model->sizes->len == 0))
    {
      Size custom = { want_width, want_height };

      g_array_append_val (self->sizes, custom);
      selected = self->sizes->len - 1;
    }
  for (guint i = 0; i < self->sizes->len; i++)
    {
      Size *size = &g_array_index (self->sizes, Size, i);
      g_ptr_array_add (labels, format_size (size->width, size->height));
    }
  g_ptr_array_add (labels, NULL);
  set_combo_strings (self->size_row, (const char *const *)labels->pdata, selected);
}

static void
set_unsupported (GtkWidget *widget, gboolean supported, const char *why)
{
  gtk_widget_set_sensitive (widget, supported);
  gtk_widget_set_tooltip_text (widget, supported ? NULL : why);
}

/* The 4n+1 frame count (what every recipe needs) nearest to @seconds. */
static double
frames_for_seconds (guint seconds, guint fps)
{
  return 4 * round ((seconds * (double)fps - 1) / 4.0) + 1;
}

/* Models with fixed clip lengths (DashScope) count whole seconds at their own
 * frame rate, so the frame count starts on a length the model makes and
 * stays within the lengths it offers. */
static void
set_frame_range (TakesPromptEditor *self, const TakesBackendModelCaps *model)
{
  GtkAdjustment *frames = gtk_spin_button_get_adjustment (self->frames_spin);
  double value = gtk_adjustment_get_value (frames);

  if (model != NULL && model->durations->len > 0)
    {
      guint fps = model->fps > 0 ? (guint)model->fps : 16;
      guint shortest = G_MAXUINT, longest = 0;
      gboolean allowed = FALSE;

      for (guint i = 0; i < model->durations->len; i++)
        {
          guint seconds = g_array_index (model->durations, guint, i);

          shortest = MIN (shortest, seconds);
          longest = MAX (longest, seconds);
          allowed |= (guint)MAX (1.0, round (value / fps)) == seconds;
        }
      gtk_spin_button_set_value (self->fps_spin, fps);
      gtk_adjustment_configure (frames, allowed ? value : frames_for_seconds (shortest, fps),
                                frames_for_seconds (shortest, fps), frames_for_seconds (longest, fps), 4, fps,
                                0);
    }
  else
    gtk_adjustment_configure (frames, value, 1, TAKES_RECIPE_MAX_FRAMES, 4, 16, 0);
  {
    g_autofree char *tooltip = NULL;

    if (model != NULL && model->durations->len > 0)
      {
        g_autoptr (GString) list = g_string_new (NULL);

        for (guint i = 0; i < model->durations->len; i++)
          g_string_append_printf (list, "%s%u", i > 0 ? ", " : "",
                                  g_array_index (model->durations, guint, i));
        /* Translators: %s is a list of whole seconds, such as "5, 10". */
        tooltip = g_strdup_printf (_ ("This model makes clips of %s seconds."), list->str);
      }
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->frames_row), tooltip);
  }
}

static void
update_capabilities (TakesPromptEditor *self)
{
  TakesBackendCapabilities *caps;
  TakesBackendModelCaps *model = current_model_caps (self, &caps);
  gboolean fixed_lengths = model != NULL && model->durations != NULL && model->durations->len > 0;
  const char *name
      = current_backend (self) != NULL ? takes_backend_get_display_name (current_backend (self)) : NULL;
  g_autofree char *no_negative = NULL;
  g_autofree char *no_seed = NULL;
  g_autofree char *lengths = NULL;
  g_autofree char *own_sampling = NULL;

  no_negative = g_strdup_printf (_ ("%s does not take a negative prompt."), name != NULL ? name : "");
  no_seed = g_strdup_printf (_ ("%s does not take a seed, so its takes cannot be repeated exactly."),
                             name != NULL ? name : "");
  lengths
      = g_strdup_printf (_ ("This model makes clips of fixed lengths in whole seconds; the length follows "
                            "from the frame rate of %s."),
                         name != NULL ? name : "");
  own_sampling = g_strdup_printf (_ ("%s chooses its own sampling settings."), name != NULL ? name : "");

  set_unsupported (GTK_WIDGET (self->negative_frame), caps == NULL || caps->negative_prompt, no_negative);
  set_unsupported (GTK_WIDGET (self->seed_row), caps == NULL || caps->seed, no_seed);
  set_unsupported (GTK_WIDGET (self->fps_row), !fixed_lengths, lengths);
  set_frame_range (self, fixed_lengths ? model : NULL);
  set_unsupported (GTK_WIDGET (self->steps_row), !fixed_lengths, own_sampling);
  set_unsupported (GTK_WIDGET (self->guidance_row), !fixed_lengths, own_sampling);
  set_unsupported (GTK_WIDGET (self->shift_row), !fixed_lengths, own_sampling);
  set_unsupported (GTK_WIDGET (self->sampler_row), !fixed_lengths, own_sampling);
}

static void
fill_models (TakesPromptEditor *self, const char *want_model)
{
  TakesBackend *backend = current_backend (self);
  TakesBackendCapabilities *caps = backend != NULL ? takes_backend_get_capabilities (backend) : NULL;
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  guint selected = 0;
  gboolean found = FALSE;
  guint n = 0;

  if (caps != NULL && caps->models != NULL && caps->models->len > 0)
    for (guint i = 0; i < caps->models->len; i++)
      {
        TakesBackendModelCaps *model = g_ptr_array_index (caps->models, i);
        g_strv_builder_add (ids, model->id);
        g_ptr_array_add (labels, model->display_name != NULL ? model->display_name : model->id);
        found |= g_strcmp0 (model->id, want_model) == 0;
        if (g_strcmp0 (model->id, want_model) == 0)
          selected = n;
        n++;
      }
  else
    for (guint i = 0; fallback_models[i] != NULL; i++)
      {
        g_strv_builder_add (ids, fallback_models[i]);
        g_ptr_array_add (labels, (gpointer)fallback_models[i]);
        found |= g_strcmp0 (fallback_models[i], want_model) == 0;
        if (g_strcmp0 (fallback_models[i], want_model) == 0)
          selected = n;
        n++;
      }
  /* A recipe loaded from an older take may name a model no longer offered;
   * keep it so that "Generate Again" repeats it. A backend picked by hand
   * starts from its own first model instead. */
  if (!found && self->loading && want_model != NULL && *want_model != '\0')
    {
      g_strv_builder_add (ids, want_model);
      g_ptr_array_add (labels, (gpointer)want_model);
      selected = n;
    }
  g_ptr_array_add (labels, NULL);

  g_strfreev (self->model_ids);
  self->model_ids = g_strv_builder_end (ids);
  set_combo_strings (self->model_row, (const char *const *)labels->pdata, selected);
}

static void
select_backend (TakesPromptEditor *self, const char *id)
{
  for (guint i = 0; self->backend_ids != NULL && self->backend_ids[i] != NULL; i++)
    if (g_strcmp0 (self->backend_ids[i], id) == 0)
      {
        adw_combo_row_set_selected (self->backend_row, i);
        return;
      }
}

static void
backend_changed_cb (TakesPromptEditor *self)
{
  g_autofree char *model = NULL;
  Size size = { 0, 0 };
  guint selected = adw_combo_row_get_selected (self->size_row);

  if (self->backend_ids == NULL)
    return;
  model = g_strdup (selected_string (self->model_ids, self->model_row));
  if (selected != GTK_INVALID_LIST_POSITION && selected < self->sizes->len)
    size = g_array_index (self->sizes, Size, selected);
  fill_models (self, model);
  fill_sizes (self, size.width, size.height);
  update_capabilities (self);
  update_campaign (self);
}

static void
model_changed_cb (TakesPromptEditor *self)
{
  Size size = { 0, 0 };
  guint selected = adw_combo_row_get_selected (self->size_row);

  if (self->model_ids == NULL)
    return;
  if (selected != GTK_INVALID_LIST_POSITION && selected < self->sizes->len)
    size = g_array_index (self->sizes, Size, selected);
  fill_sizes (self, size.width, size.height);
  update_capabilities (self);
  update_campaign (self);
}

static void
parameters_changed_cb (TakesPromptEditor *self)
{
  double seconds
      = gtk_spin_button_get_value (self->frames_spin) / MAX (gtk_spin_button_get_value (self->fps_spin), 1);
  g_autofree char *subtitle = g_strdup_printf (_ ("%.1f seconds"), seconds);

  adw_action_row_set_subtitle (self->frames_row, subtitle);
  update_campaign (self);
}

static void
new_seed_cb (TakesPromptEditor *self)
{
  gtk_spin_button_set_value (self->seed_spin, (double)g_random_int_range (0, G_MAXINT32));
}

/* Variables and checks --------------------------------------------------- */

static void
highlight_variables (TakesPromptEditor *self, const char *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->prompt_view);
  GtkTextIter start, end;
  glong offset = 0;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag (buffer, self->variable_tag, &start, &end);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p), offset++)
    {
      const char *close;

      if (*p != '{')
        continue;
      if (p[1] == '{')
        {
          /* "{{" is a literal brace. */
          p++;
          offset++;
          continue;
        }
      close = strchr (p, '}');
      if (close == NULL || memchr (p + 1, '{', close - p - 1) != NULL)
        continue;
      {
        glong length = g_utf8_strlen (p, close - p + 1);

        gtk_text_buffer_get_iter_at_offset (buffer, &start, (int)offset);
        gtk_text_buffer_get_iter_at_offset (buffer, &end, (int)(offset + length));
        gtk_text_buffer_apply_tag (buffer, self->variable_tag, &start, &end);
        offset += length - 1;
        p = close;
      }
    }
}

static void
variable_entry_changed_cb (GtkEditable *entry, TakesPromptEditor *self)
{
  const char *name = g_object_get_data (G_OBJECT (entry), "takes-variable");

  g_hash_table_replace (self->variable_text, g_strdup (name), g_strdup (gtk_editable_get_text (entry)));
  update_campaign (self);
}

static void
update_variables_table (TakesPromptEditor *self, TakesTemplate *template)
{
  const char *const *names = template != NULL ? takes_template_get_variables (template) : NULL;
  GtkWidget *child;

  if (names == NULL)
    return;
  if (self->variable_names != NULL && g_strv_equal ((const char *const *)self->variable_names, names))
    return;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->variables_list))) != NULL)
    gtk_list_box_remove (self->variables_list, child);
  g_strfreev (self->variable_names);
  self->variable_names = g_strdupv ((char **)names);

  for (guint i = 0; names[i] != NULL; i++)
    {
      GtkWidget *row = adw_entry_row_new ();
      g_autofree char *title = g_strdup_printf ("{%s}", names[i]);
      const char *text = g_hash_table_lookup (self->variable_text, names[i]);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      g_object_set_data_full (G_OBJECT (row), "takes-variable", g_strdup (names[i]), g_free);
      gtk_editable_set_text (GTK_EDITABLE (row), text != NULL ? text : "");
      g_signal_connect (row, "changed", G_CALLBACK (variable_entry_changed_cb), self);
      gtk_list_box_append (self->variables_list, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->variables_box), names[0] != NULL);
}

static char **
split_values (const char *text)
{
  g_auto (GStrv) parts = g_strsplit (text != NULL ? text : "", ",", -1);
  g_autoptr (GStrvBuilder) values = g_strv_builder_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (*parts[i] != '\0')
        g_strv_builder_add (values, parts[i]);
    }
  return g_strv_builder_end (values);
}

static void
show_problem (TakesPromptEditor *self, const char *message)
{
  gtk_label_set_text (self->problem_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->problem_label), message != NULL);
}

static TakesSafety *
get_safety (TakesPromptEditor *self)
{
  g_autoptr (GError) error = NULL;

  if (self->safety == NULL)
    {
      self->safety = takes_safety_new_default (&error);
      if (self->safety == NULL)
        {
          /* The queue checks again and refuses to run without its lists, so
           * the editor only has to say why it cannot check here. */
          show_problem (self, error->message);
          self->safety = takes_safety_new ();
        }
    }
  return self->safety;
}

/* Marks blocked terms in the prompt; TRUE when the prompt is clean. */
static gboolean
check_safety (TakesPromptEditor *self, const char *prompt, GError **error)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->prompt_view);
  g_autoptr (GPtrArray) matches = takes_safety_check (get_safety (self), prompt);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag (buffer, self->blocked_tag, &start, &end);
  for (guint i = 0; i < matches->len; i++)
    {
      TakesSafetyMatch *match = g_ptr_array_index (matches, i);

      gtk_text_buffer_get_iter_at_offset (buffer, &start,
                                          (int)g_utf8_pointer_to_offset (prompt, prompt + match->start));
      gtk_text_buffer_get_iter_at_offset (buffer, &end,
                                          (int)g_utf8_pointer_to_offset (prompt, prompt + match->end));
      gtk_text_buffer_apply_tag (buffer, self->blocked_tag, &start, &end);
    }
  if (matches->len > 0)
    {
      g_autofree char *description = takes_safety_match_describe (g_ptr_array_index (matches, 0));

      g_set_error_literal (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED, description);
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
build_plan_object (TakesPromptEditor *self, TakesTemplate *template)
{
  JsonObject *object = json_object_new ();
  JsonObject *variables = json_object_new ();
  g_autofree char *prompt = buffer_text (self->prompt_view);
  g_autofree char *negative = buffer_text (self->negative_view);
  const char *const *names = template != NULL ? takes_template_get_variables (template) : NULL;
  guint selected_size = adw_combo_row_get_selected (self->size_row);
  const char *backend = selected_string (self->backend_ids, self->backend_row);
  const char *model = selected_string (self->model_ids, self->model_row);
  const char *sampler = gtk_string_object_get_string (
      GTK_STRING_OBJECT (adw_combo_row_get_selected_item (self->sampler_row)));

  json_object_set_string_member (object, "template", prompt);
  if (*g_strstrip (negative) != '\0' && gtk_widget_get_sensitive (GTK_WIDGET (self->negative_frame)))
    json_object_set_string_member (object, "negative", negative);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_auto (GStrv) values = split_values (g_hash_table_lookup (self->variable_text, names[i]));
      JsonArray *array = json_array_new ();

      for (guint j = 0; values[j] != NULL; j++)
        json_array_add_string_element (array, values[j]);
      json_object_set_array_member (variables, names[i], array);
    }
  json_object_set_object_member (object, "variables", variables);
  json_object_set_int_member (object, "max_variants", TAKES_BATCH_PLAN_DEFAULT_MAX_VARIANTS);
  if (gtk_toggle_button_get_active (self->seed_lock_button))
    json_object_set_int_member (object, "seed", (gint64)gtk_spin_button_get_value (self->seed_spin));
  else
    json_object_set_string_member (object, "seed", "vary");
  if (backend != NULL)
    json_object_set_string_member (object, "backend", backend);
  if (model != NULL)
    json_object_set_string_member (object, "model", model);
  if (selected_size != GTK_INVALID_LIST_POSITION && selected_size < self->sizes->len)
    {
      Size *size = &g_array_index (self->sizes, Size, selected_size);
      json_object_set_int_member (object, "width", size->width);
      json_object_set_int_member (object, "height", size->height);
    }
  json_object_set_int_member (object, "frames", gtk_spin_button_get_value_as_int (self->frames_spin));
  json_object_set_int_member (object, "fps", gtk_spin_button_get_value_as_int (self->fps_spin));
  json_object_set_int_member (object, "steps", gtk_spin_button_get_value_as_int (self->steps_spin));
  json_object_set_double_member (object, "guidance", gtk_spin_button_get_value (self->guidance_spin));
  json_object_set_double_member (object, "shift", gtk_spin_button_get_value (self->shift_spin));
  if (sampler != NULL)
    json_object_set_string_member (object, "sampler", sampler);
  return object;
}

static TakesBatchPlan *
build_plan (TakesPromptEditor *self, GError **error)
{
  g_autofree char *prompt = buffer_text (self->prompt_view);
  g_autoptr (TakesTemplate) template = NULL;
  g_autoptr (JsonObject) object = NULL;

  if (*g_strstrip (prompt) == '\0')
    {
      g_set_error_literal (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MISSING,
                           _ ("Write a prompt first: describe what the video shows."));
      return NULL;
    }
  template = takes_template_new (prompt, NULL, error);
  if (template == NULL)
    return NULL;
  object = build_plan_object (self, template);
  return takes_batch_plan_new_from_object (object, 0, error);
}

static TakesPricing *
get_pricing (TakesPromptEditor *self)
{
  if (self->pricing == NULL)
    self->pricing = takes_pricing_new_default (NULL);
  return self->pricing;
}

static void
update_campaign (TakesPromptEditor *self)
{
  g_autoptr (TakesBatchPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesEstimate) estimate = NULL;
  g_autofree char *cost = NULL;
  g_autofree char *time = NULL;
  g_autofree char *text = NULL;
  TakesPricing *pricing;
  guint width = 0, height = 0;

  if (self->loading)
    return;
  plan = build_plan (self, &error);
  if (plan == NULL)
    {
      self->n_takes = 0;
      gtk_label_set_text (self->campaign_label, error->message);
      return;
    }
  self->n_takes = takes_batch_plan_get_n_variants (plan);
  pricing = get_pricing (self);
  if (pricing != NULL)
    {
      takes_batch_plan_get_size (plan, &width, &height);
      estimate = takes_pricing_estimate (pricing, takes_batch_plan_get_backend (plan),
                                         takes_batch_plan_get_model (plan), width, height,
                                         takes_batch_plan_get_duration (plan), self->n_takes);
      cost = takes_estimate_format_cost (estimate);
      time = takes_estimate_format_time (estimate);
      /* Translators: the campaign preview before queueing: number of takes, estimated time, estimated cost.
       */
      text = g_strdup_printf (ngettext ("%u take · %s · %s", "%u takes · %s · %s", self->n_takes),
                              self->n_takes, time, cost);
    }
  else
    text = g_strdup_printf (ngettext ("%u take", "%u takes", self->n_takes), self->n_takes);
  gtk_label_set_text (self->campaign_label, text);
}

static gboolean
check_prompt_cb (gpointer user_data)
{
  TakesPromptEditor *self = user_data;
  g_autofree char *prompt = buffer_text (self->prompt_view);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTemplate) template = NULL;
  TakesTemplateLocation location;

  self->check_source = 0;
  template = takes_template_new (prompt, &location, &error);
  if (template == NULL)
    {
      g_autofree char *message
          = g_strdup_printf (_ ("Line %u, column %u: %s"), location.line, location.column, error->message);
      show_problem (self, message);
    }
  else if (!check_safety (self, prompt, &error))
    show_problem (self, error->message);
  else
    show_problem (self, NULL);
  update_variables_table (self, template);
  update_campaign (self);
  return G_SOURCE_REMOVE;
}

static void
prompt_changed_cb (GtkTextBuffer *buffer, TakesPromptEditor *self)
{
  g_autofree char *prompt = buffer_text (self->prompt_view);
  guint max = TAKES_RECIPE_MAX_PROMPT;
  TakesBackendCapabilities *caps;
  TakesBackendModelCaps *model = current_model_caps (self, &caps);
  glong length = g_utf8_strlen (prompt, -1);
  g_autofree char *count = NULL;

  if (model != NULL && model->max_prompt_chars > 0)
    max = model->max_prompt_chars;
  count = g_strdup_printf ("%ld / %u", length, max);
  gtk_label_set_text (self->count_label, count);
  if ((guint)length > max)
    gtk_widget_add_css_class (GTK_WIDGET (self->count_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->count_label), "error");

  highlight_variables (self, prompt);
  g_clear_handle_id (&self->check_source, g_source_remove);
  self->check_source = g_timeout_add (CHECK_DELAY_MS, check_prompt_cb, self);
}

/* GObject --------------------------------------------------------------- */

static void
takes_prompt_editor_dispose (GObject *object)
{
  TakesPromptEditor *self = TAKES_PROMPT_EDITOR (object);

  g_clear_handle_id (&self->check_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_PROMPT_EDITOR);
  /* The template's top box has no id, so dispose_template leaves it. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  g_clear_object (&self->settings);
  g_clear_object (&self->safety);
  g_clear_object (&self->pricing);
  g_clear_pointer (&self->backends, g_ptr_array_unref);

  G_OBJECT_CLASS (takes_prompt_editor_parent_class)->dispose (object);
}

static void
takes_prompt_editor_finalize (GObject *object)
{
  TakesPromptEditor *self = TAKES_PROMPT_EDITOR (object);

  g_clear_pointer (&self->backend_ids, g_strfreev);
  g_clear_pointer (&self->model_ids, g_strfreev);
  g_clear_pointer (&self->variable_names, g_strfreev);
  g_clear_pointer (&self->variable_text, g_hash_table_unref);
  g_clear_pointer (&self->sizes, g_array_unref);

  G_OBJECT_CLASS (takes_prompt_editor_parent_class)->finalize (object);
}

static gboolean
takes_prompt_editor_grab_focus (GtkWidget *widget)
{
  return gtk_widget_grab_focus (GTK_WIDGET (TAKES_PROMPT_EDITOR (widget)->prompt_view));
}

static void
takes_prompt_editor_class_init (TakesPromptEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = takes_prompt_editor_dispose;
  object_class->finalize = takes_prompt_editor_finalize;
  widget_class->grab_focus = takes_prompt_editor_grab_focus;

  g_type_ensure (TAKES_TYPE_OPTIMIZER_PANEL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/takes/Takes/ui/takes-prompt-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, prompt_view);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, negative_view);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, count_label);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, problem_label);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, negative_frame);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, assistant_button);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, optimizer_panel);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, backend_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, model_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, size_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, frames_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, frames_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, fps_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, fps_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, steps_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, steps_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, guidance_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, guidance_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, shift_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, shift_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, sampler_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, seed_row);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, seed_spin);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, seed_lock_button);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, variables_box);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, variables_list);
  gtk_widget_class_bind_template_child (widget_class, TakesPromptEditor, campaign_label);
  gtk_widget_class_bind_template_callback (widget_class, backend_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, model_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, parameters_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, new_seed_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "prompteditor");
}

static void
takes_prompt_editor_init (TakesPromptEditor *self)
{
  GtkTextBuffer *buffer;
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autofree char *model = NULL;
  g_autofree char *sampler = NULL;

  self->backends = g_ptr_array_new_with_free_func (g_object_unref);
  self->sizes = g_array_new (FALSE, FALSE, sizeof (Size));
  self->variable_text = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gtk_widget_init_template (GTK_WIDGET (self));

  buffer = gtk_text_view_get_buffer (self->prompt_view);
  self->variable_tag = gtk_text_buffer_create_tag (buffer, "variable", "weight", PANGO_WEIGHT_BOLD,
                                                   "foreground", "#1c71d8", NULL);
  self->blocked_tag = gtk_text_buffer_create_tag (buffer, "blocked", "underline", PANGO_UNDERLINE_ERROR,
                                                  "foreground", "#c01c28", NULL);
  g_signal_connect (buffer, "changed", G_CALLBACK (prompt_changed_cb), self);
  takes_optimizer_panel_set_buffer (self->optimizer_panel, buffer);

  self->settings = g_settings_new ("io.github.takes.Takes");
  g_settings_bind (self->settings, "seed-lock", self->seed_lock_button, "active", G_SETTINGS_BIND_DEFAULT);

  recipe = takes_recipe_new ();
  model = g_settings_get_string (self->settings, "default-model");
  sampler = g_settings_get_string (self->settings, "default-sampler");
  takes_recipe_set_model (recipe, model);
  takes_recipe_set_sampler (recipe, sampler);
  takes_recipe_set_width (recipe, g_settings_get_int (self->settings, "default-width"));
  takes_recipe_set_height (recipe, g_settings_get_int (self->settings, "default-height"));
  takes_recipe_set_frames (recipe, g_settings_get_int (self->settings, "default-frames"));
  takes_recipe_set_fps (recipe, g_settings_get_int (self->settings, "default-fps"));
  takes_recipe_set_steps (recipe, g_settings_get_int (self->settings, "default-steps"));
  takes_recipe_set_guidance (recipe, g_settings_get_double (self->settings, "default-guidance"));
  takes_recipe_set_shift (recipe, g_settings_get_double (self->settings, "default-shift"));
  if (g_settings_get_boolean (self->settings, "seed-lock"))
    takes_recipe_set_seed (recipe, g_settings_get_int64 (self->settings, "locked-seed"));
  else
    takes_recipe_randomize_seed (recipe);
  {
    g_autofree char *backend = takes_backend_registry_get_default_id (self->settings);
    takes_recipe_set_backend (recipe, backend);
  }
  takes_prompt_editor_set_backends (self, NULL);
  takes_prompt_editor_load_recipe (self, recipe, 0);
  prompt_changed_cb (buffer, self);
}

GtkWidget *
takes_prompt_editor_new (void)
{
  return g_object_new (TAKES_TYPE_PROMPT_EDITOR, NULL);
}

void
takes_prompt_editor_set_backends (TakesPromptEditor *self, GPtrArray *backends)
{
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  g_autofree char *current = NULL;

  g_return_if_fail (TAKES_IS_PROMPT_EDITOR (self));

  current = g_strdup (selected_string (self->backend_ids, self->backend_row));
  if (current == NULL)
    current = takes_backend_registry_get_default_id (self->settings);

  g_ptr_array_set_size (self->backends, 0);
  if (backends != NULL)
    for (guint i = 0; i < backends->len; i++)
      {
        TakesBackend *backend = g_ptr_array_index (backends, i);

        g_ptr_array_add (self->backends, g_object_ref (backend));
        g_strv_builder_add (ids, takes_backend_get_id (backend));
        g_ptr_array_add (labels, (gpointer)takes_backend_get_display_name (backend));
      }
  else
    for (const char *const *id = takes_backend_registry_list_ids (); *id != NULL; id++)
      {
        g_strv_builder_add (ids, *id);
        g_ptr_array_add (labels, (gpointer)*id);
      }
  g_ptr_array_add (labels, NULL);

  self->loading = TRUE;
  g_strfreev (self->backend_ids);
  self->backend_ids = g_strv_builder_end (ids);
  set_combo_strings (self->backend_row, (const char *const *)labels->pdata, 0);
  select_backend (self, current);
  self->loading = FALSE;
  backend_changed_cb (self);
}

void
takes_prompt_editor_set_safety (TakesPromptEditor *self, TakesSafety *safety)
{
  g_return_if_fail (TAKES_IS_PROMPT_EDITOR (self));
  g_set_object (&self->safety, safety);
}

char *
takes_prompt_editor_get_prompt (TakesPromptEditor *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), NULL);
  return buffer_text (self->prompt_view);
}

void
takes_prompt_editor_set_prompt (TakesPromptEditor *self, const char *prompt)
{
  g_return_if_fail (TAKES_IS_PROMPT_EDITOR (self));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->prompt_view), prompt != NULL ? prompt : "", -1);
  g_clear_handle_id (&self->check_source, g_source_remove);
  check_prompt_cb (self);
}

char *
takes_prompt_editor_get_negative_prompt (TakesPromptEditor *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), NULL);
  return buffer_text (self->negative_view);
}

void
takes_prompt_editor_set_negative_prompt (TakesPromptEditor *self, const char *negative_prompt)
{
  g_return_if_fail (TAKES_IS_PROMPT_EDITOR (self));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->negative_view),
                            negative_prompt != NULL ? negative_prompt : "", -1);
}

GtkTextBuffer *
takes_prompt_editor_get_prompt_buffer (TakesPromptEditor *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), NULL);
  return gtk_text_view_get_buffer (self->prompt_view);
}

void
takes_prompt_editor_load_recipe (TakesPromptEditor *self, TakesRecipe *recipe, gint64 parent_id)
{
  const char *sampler;
  GListModel *samplers;

  g_return_if_fail (TAKES_IS_PROMPT_EDITOR (self));
  g_return_if_fail (TAKES_IS_RECIPE (recipe));

  self->loading = TRUE;
  self->parent_id = parent_id;
  select_backend (self, takes_recipe_get_backend (recipe));
  fill_models (self, takes_recipe_get_model (recipe));
  fill_sizes (self, takes_recipe_get_width (recipe), takes_recipe_get_height (recipe));
  gtk_spin_button_set_value (self->frames_spin, takes_recipe_get_frames (recipe));
  gtk_spin_button_set_value (self->fps_spin, takes_recipe_get_fps (recipe));
  gtk_spin_button_set_value (self->steps_spin, takes_recipe_get_steps (recipe));
  gtk_spin_button_set_value (self->guidance_spin, takes_recipe_get_guidance (recipe));
  gtk_spin_button_set_value (self->shift_spin, takes_recipe_get_shift (recipe));
  gtk_spin_button_set_value (self->seed_spin, (double)takes_recipe_get_seed (recipe));
  sampler = takes_recipe_get_sampler (recipe);
  samplers = adw_combo_row_get_model (self->sampler_row);
  for (guint i = 0; i < g_list_model_get_n_items (samplers); i++)
    if (g_strcmp0 (gtk_string_list_get_string (GTK_STRING_LIST (samplers), i), sampler) == 0)
      adw_combo_row_set_selected (self->sampler_row, i);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->prompt_view), takes_recipe_get_prompt (recipe),
                            -1);
  takes_prompt_editor_set_negative_prompt (self, takes_recipe_get_negative_prompt (recipe));
  self->loading = FALSE;

  update_capabilities (self);
  parameters_changed_cb (self);
  g_clear_handle_id (&self->check_source, g_source_remove);
  check_prompt_cb (self);
}

TakesRecipe *
takes_prompt_editor_get_recipe (TakesPromptEditor *self)
{
  g_autoptr (JsonObject) object = NULL;
  TakesRecipe *recipe;
  g_autofree char *prompt = NULL;
  g_autofree char *negative = NULL;
  JsonNode *seed;

  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), NULL);

  object = build_plan_object (self, NULL);
  prompt = buffer_text (self->prompt_view);
  negative = buffer_text (self->negative_view);
  json_object_remove_member (object, "template");
  json_object_remove_member (object, "negative");
  json_object_remove_member (object, "variables");
  json_object_remove_member (object, "max_variants");
  seed = json_object_get_member (object, "seed");
  if (seed != NULL && json_node_get_value_type (seed) == G_TYPE_STRING)
    json_object_set_int_member (object, "seed", (gint64)gtk_spin_button_get_value (self->seed_spin));
  json_object_set_string_member (object, "prompt", prompt);
  json_object_set_string_member (object, "negative_prompt", negative);
  recipe = takes_recipe_new_from_object (object, NULL);
  return recipe != NULL ? recipe : takes_recipe_new ();
}

void
takes_prompt_editor_set_variable_values (TakesPromptEditor *self, const char *name, const char *const *values)
{
  g_autofree char *text = NULL;

  g_return_if_fail (TAKES_IS_PROMPT_EDITOR (self));
  text = g_strjoinv (", ", (char **)values);
  g_hash_table_replace (self->variable_text, g_strdup (name), g_strdup (text));
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->variables_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "takes-variable"), name) == 0)
      gtk_editable_set_text (GTK_EDITABLE (row), text);
  update_campaign (self);
}

guint
takes_prompt_editor_get_n_takes (TakesPromptEditor *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), 0);
  return self->n_takes;
}

GPtrArray *
takes_prompt_editor_build_takes (TakesPromptEditor *self, gint64 project_id, GError **error)
{
  g_autoptr (TakesBatchPlan) plan = NULL;
  g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *prompt = NULL;

  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), NULL);

  prompt = buffer_text (self->prompt_view);
  plan = build_plan (self, error);
  if (plan == NULL)
    return NULL;

  for (guint i = 0; i < takes_batch_plan_get_n_variants (plan); i++)
    {
      const TakesBatchVariant *variant = takes_batch_plan_get_variant (plan, i);
      g_autoptr (JsonObject) object = takes_batch_plan_get_variant_recipe (plan, i);
      g_autoptr (TakesRecipe) recipe = NULL;
      g_autoptr (GError) safety_error = NULL;
      TakesTake *take;

      if (!check_safety (self, variant->prompt, &safety_error))
        {
          show_problem (self, safety_error->message);
          g_propagate_error (error, g_steal_pointer (&safety_error));
          return NULL;
        }
      recipe = takes_recipe_new_from_object (object, error);
      if (recipe == NULL || !takes_recipe_validate (recipe, error))
        return NULL;
      take = takes_take_new (recipe);
      takes_take_set_project_id (take, project_id);
      takes_take_set_parent_id (take, self->parent_id);
      if (takes_template_get_n_variables (takes_batch_plan_get_template (plan)) > 0)
        {
          g_autoptr (JsonObject) tags = takes_batch_plan_get_variant_tags (plan, i);
          takes_take_set_variables (take, tags);
        }
      takes_take_set_is_tiny (
          take, g_strcmp0 (takes_recipe_get_model (recipe), TAKES_BACKEND_LOCAL_TINY_MODEL) == 0);
      g_ptr_array_add (takes, take);
    }
  if (gtk_toggle_button_get_active (self->seed_lock_button))
    g_settings_set_int64 (self->settings, "locked-seed", (gint64)gtk_spin_button_get_value (self->seed_spin));
  else
    new_seed_cb (self);
  return g_steal_pointer (&takes);
}

gboolean
takes_prompt_editor_is_parameter_supported (TakesPromptEditor *self, const char *name, char **why)
{
  const struct
  {
    const char *name;
    GtkWidget *widget;
  } parameters[] = {
    { "negative-prompt", GTK_WIDGET (self->negative_frame) },
    { "seed", GTK_WIDGET (self->seed_row) },
    { "frames", GTK_WIDGET (self->frames_row) },
    { "fps", GTK_WIDGET (self->fps_row) },
    { "steps", GTK_WIDGET (self->steps_row) },
    { "guidance", GTK_WIDGET (self->guidance_row) },
    { "shift", GTK_WIDGET (self->shift_row) },
    { "sampler", GTK_WIDGET (self->sampler_row) },
  };

  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (parameters); i++)
    if (g_strcmp0 (parameters[i].name, name) == 0)
      {
        gboolean supported = gtk_widget_get_sensitive (parameters[i].widget);

        if (why != NULL)
          *why = supported ? NULL
                 : gtk_widget_get_tooltip_text (parameters[i].widget) != NULL
                     ? g_strdup (gtk_widget_get_tooltip_text (parameters[i].widget))
                     : NULL;
        return supported;
      }
  g_return_val_if_reached (FALSE);
}

TakesOptimizerPanel *
takes_prompt_editor_get_optimizer_panel (TakesPromptEditor *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_EDITOR (self), NULL);
  return self->optimizer_panel;
}

void
takes_prompt_editor_show_assistant (TakesPromptEditor *self, gboolean show)
{
  g_return_if_fail (TAKES_IS_PROMPT_EDITOR (self));
  gtk_toggle_button_set_active (self->assistant_button, show);
  if (show)
    takes_optimizer_panel_refresh (self->optimizer_panel);
}
