/* takes-optimizer-panel.c: the prompt assistant beside the editor. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "takes-optimizer-panel.h"
#include "takes-prompt-diff.h"
#include "takes-secrets.h"

/* The secrets of the prompt assistant's endpoint are filed under this id. */
#define LLM_SECRET_ID "llm"

struct _TakesOptimizerPanel
{
  GtkWidget parent_instance;

  GtkListBox *suggestions_list;
  GtkLabel *suggestions_status;
  GtkButton *ask_button;
  GtkSpinner *spinner;
  GtkLabel *llm_status;
  GtkBox *llm_box;
  GtkTextView *rewrite_view;
  GtkButton *accept_rewrite_button;
  GtkToggleButton *edit_rewrite_button;
  GtkButton *restore_button;

  GtkTextBuffer *buffer;
  TakesOptimizer *optimizer;
  TakesPromptAnalysis *analysis;
  GArray *shown;        /* guint: the analysis's suggestion indices shown, in order */
  GHashTable *rejected; /* suggestion texts rejected for this prompt */
  TakesLlmClient *llm;
  GCancellable *cancellable;
  char *original;
  char *rewrite;
  GString *stream;
  GtkTextTag *insert_tag;
  GtkTextTag *delete_tag;
  gboolean applying;
};

G_DEFINE_FINAL_TYPE (TakesOptimizerPanel, takes_optimizer_panel, GTK_TYPE_WIDGET)

static char *
get_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* Replaces the buffer's text as one undoable step (set_text cannot be undone). */
static void
replace_text (TakesOptimizerPanel *self, const char *text)
{
  GtkTextIter start, end;

  self->applying = TRUE;
  gtk_text_buffer_begin_user_action (self->buffer);
  gtk_text_buffer_get_bounds (self->buffer, &start, &end);
  gtk_text_buffer_delete (self->buffer, &start, &end);
  gtk_text_buffer_insert (self->buffer, &start, text, -1);
  gtk_text_buffer_end_user_action (self->buffer);
  self->applying = FALSE;
}

static void
set_prompt (TakesOptimizerPanel *self, const char *text)
{
  g_autofree char *before = get_text (self->buffer);

  if (self->original == NULL)
    self->original = g_steal_pointer (&before);
  replace_text (self, text);
  gtk_widget_set_visible (GTK_WIDGET (self->restore_button), TRUE);
}

/* Offline suggestions ---------------------------------------------------- */

static void
accept_clicked_cb (GtkButton *button, TakesOptimizerPanel *self)
{
  takes_optimizer_panel_accept (self,
                                GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "takes-index")));
}

static void
reject_clicked_cb (GtkButton *button, TakesOptimizerPanel *self)
{
  takes_optimizer_panel_reject (self,
                                GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "takes-index")));
}

static GtkWidget *
make_suggestion_row (TakesOptimizerPanel *self, const TakesPromptSuggestion *suggestion, guint position)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *accept = gtk_button_new_from_icon_name ("object-select-symbolic");
  GtkWidget *reject = gtk_button_new_from_icon_name ("window-close-symbolic");
  g_autofree char *title = g_markup_escape_text (suggestion->text, -1);
  g_autofree char *subtitle = NULL;

  subtitle = g_markup_printf_escaped ("%s · %s", takes_prompt_fact_get_label (suggestion->kind),
                                      suggestion->explanation != NULL ? suggestion->explanation : "");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  gtk_widget_set_valign (accept, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (accept, _ ("Add to the prompt"));
  gtk_widget_add_css_class (accept, "flat");
  g_object_set_data (G_OBJECT (accept), "takes-index", GUINT_TO_POINTER (position));
  g_signal_connect (accept, "clicked", G_CALLBACK (accept_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), accept);

  gtk_widget_set_valign (reject, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (reject, _ ("Leave out"));
  gtk_widget_add_css_class (reject, "flat");
  g_object_set_data (G_OBJECT (reject), "takes-index", GUINT_TO_POINTER (position));
  g_signal_connect (reject, "clicked", G_CALLBACK (reject_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), reject);
  return row;
}

static void
rebuild_rows (TakesOptimizerPanel *self)
{
  GPtrArray *suggestions
      = self->analysis != NULL ? takes_prompt_analysis_get_suggestions (self->analysis) : NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->suggestions_list))) != NULL)
    gtk_list_box_remove (self->suggestions_list, child);
  for (guint i = 0; i < self->shown->len; i++)
    gtk_list_box_append (
        self->suggestions_list,
        make_suggestion_row (self, g_ptr_array_index (suggestions, g_array_index (self->shown, guint, i)),
                             i));
  gtk_widget_set_visible (GTK_WIDGET (self->suggestions_list), self->shown->len > 0);
  gtk_label_set_text (self->suggestions_status,
                      self->shown->len > 0
                          ? _ ("Each suggestion adds a detail the prompt leaves open.")
                          : _ ("No suggestions: the prompt already states what the optimizer looks "
                               "for."));
}

void
takes_optimizer_panel_refresh (TakesOptimizerPanel *self)
{
  g_autofree char *prompt = NULL;
  g_autofree char *trimmed = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *suggestions;

  g_return_if_fail (TAKES_IS_OPTIMIZER_PANEL (self));

  g_array_set_size (self->shown, 0);
  g_clear_object (&self->analysis);
  if (self->buffer == NULL)
    {
      rebuild_rows (self);
      return;
    }
  if (self->optimizer == NULL)
    self->optimizer = takes_optimizer_new_default (&error);
  if (self->optimizer == NULL)
    {
      gtk_label_set_text (self->suggestions_status, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->suggestions_list), FALSE);
      return;
    }
  prompt = get_text (self->buffer);
  trimmed = g_strstrip (g_strdup (prompt));
  if (*trimmed == '\0')
    {
      gtk_label_set_text (self->suggestions_status, _ ("Write a prompt to get suggestions."));
      gtk_widget_set_visible (GTK_WIDGET (self->suggestions_list), FALSE);
      while (gtk_widget_get_first_child (GTK_WIDGET (self->suggestions_list)) != NULL)
        gtk_list_box_remove (self->suggestions_list,
                             gtk_widget_get_first_child (GTK_WIDGET (self->suggestions_list)));
      return;
    }
  self->analysis = takes_optimizer_analyze (self->optimizer, prompt, 0);
  suggestions = takes_prompt_analysis_get_suggestions (self->analysis);
  for (guint i = 0; i < suggestions->len; i++)
    {
      TakesPromptSuggestion *suggestion = g_ptr_array_index (suggestions, i);

      if (!g_hash_table_contains (self->rejected, suggestion->text))
        g_array_append_val (self->shown, i);
    }
  rebuild_rows (self);
}

guint
takes_optimizer_panel_get_n_suggestions (TakesOptimizerPanel *self)
{
  g_return_val_if_fail (TAKES_IS_OPTIMIZER_PANEL (self), 0);
  return self->shown->len;
}

gboolean
takes_optimizer_panel_accept (TakesOptimizerPanel *self, guint index)
{
  g_autofree char *result = NULL;
  guint suggestion;

  g_return_val_if_fail (TAKES_IS_OPTIMIZER_PANEL (self), FALSE);
  if (self->analysis == NULL || index >= self->shown->len)
    return FALSE;

  suggestion = g_array_index (self->shown, guint, index);
  result = takes_prompt_analysis_apply (self->analysis, &suggestion, 1);
  set_prompt (self, result);
  takes_optimizer_panel_refresh (self);
  return TRUE;
}

gboolean
takes_optimizer_panel_reject (TakesOptimizerPanel *self, guint index)
{
  TakesPromptSuggestion *suggestion;

  g_return_val_if_fail (TAKES_IS_OPTIMIZER_PANEL (self), FALSE);
  if (self->analysis == NULL || index >= self->shown->len)
    return FALSE;

  suggestion = g_ptr_array_index (takes_prompt_analysis_get_suggestions (self->analysis),
                                  g_array_index (self->shown, guint, index));
  g_hash_table_add (self->rejected, g_strdup (suggestion->text));
  g_array_remove_index (self->shown, index);
  rebuild_rows (self);
  return TRUE;
}

/* LLM rewrite ------------------------------------------------------------ */

static void
show_diff (TakesOptimizerPanel *self, const char *before, const char *after)
{
  GtkTextBuffer *view = gtk_text_view_get_buffer (self->rewrite_view);
  g_autoptr (GPtrArray) chunks = takes_prompt_diff (before, after);
  GtkTextIter end;

  gtk_text_buffer_set_text (view, "", 0);
  for (guint i = 0; i < chunks->len; i++)
    {
      TakesDiffChunk *chunk = g_ptr_array_index (chunks, i);

      gtk_text_buffer_get_end_iter (view, &end);
      if (chunk->op == TAKES_DIFF_EQUAL)
        gtk_text_buffer_insert (view, &end, chunk->text, -1);
      else
        gtk_text_buffer_insert_with_tags (
            view, &end, chunk->text, -1, chunk->op == TAKES_DIFF_INSERT ? self->insert_tag : self->delete_tag,
            NULL);
    }
}

static void
llm_delta_cb (const char *delta, gpointer user_data)
{
  TakesOptimizerPanel *self = user_data;
  GtkTextBuffer *view = gtk_text_view_get_buffer (self->rewrite_view);
  GtkTextIter end;

  g_string_append (self->stream, delta);
  gtk_text_buffer_get_end_iter (view, &end);
  gtk_text_buffer_insert (view, &end, delta, -1);
}

static void
rewrite_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesOptimizerPanel) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) rewrite
      = takes_llm_client_rewrite_finish (TAKES_LLM_CLIENT (source), result, &error);

  if (rewrite == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ask_button), TRUE);
  if (rewrite == NULL)
    {
      gtk_label_set_text (self->llm_status, error->message);
      return;
    }
  if (rewrite->fell_back)
    {
      gtk_label_set_text (self->llm_status, rewrite->error != NULL ? rewrite->error->message
                                                                   : _ ("The assistant gave no rewrite."));
      gtk_widget_set_visible (GTK_WIDGET (self->llm_box), FALSE);
      return;
    }
  g_free (self->rewrite);
  self->rewrite = g_strdup (rewrite->rewrite);
  gtk_label_set_text (self->llm_status, _ ("Inserted words are green, removed ones struck through."));
  show_diff (self, rewrite->original, rewrite->rewrite);
  gtk_widget_set_sensitive (GTK_WIDGET (self->accept_rewrite_button), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->edit_rewrite_button), TRUE);
}

typedef struct
{
  TakesOptimizerPanel *self;
  char *prompt;
} AskData;

static void
ask_data_free (AskData *data)
{
  g_object_unref (data->self);
  g_free (data->prompt);
  g_free (data);
}

static void
start_rewrite (TakesOptimizerPanel *self, const char *prompt, const char *key)
{
  takes_llm_client_set_api_key (self->llm, key);
  takes_llm_client_rewrite_async (self->llm, prompt, NULL, -1, llm_delta_cb, self, NULL, self->cancellable,
                                  rewrite_done_cb, g_object_ref (self));
}

static void
key_lookup_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AskData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_auto (TakesSecret) key = takes_secrets_lookup_finish (result, &error);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    /* No keyring is fine: local servers usually need no key. */
    start_rewrite (data->self, data->prompt, key);
  ask_data_free (data);
}

void
takes_optimizer_panel_ask_llm (TakesOptimizerPanel *self)
{
  AskData *data;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (TAKES_IS_OPTIMIZER_PANEL (self));
  if (self->buffer == NULL)
    return;

  if (self->llm == NULL)
    {
      g_autoptr (GSettings) settings = g_settings_new ("io.github.takes.Takes");
      g_autofree char *url = g_settings_get_string (settings, "llm-endpoint-url");
      g_autofree char *model = g_settings_get_string (settings, "llm-model");

      self->llm = takes_llm_client_new (url, model, &error);
      if (self->llm == NULL)
        {
          gtk_label_set_text (self->llm_status, error->message);
          return;
        }
    }

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_string_truncate (self->stream, 0);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->rewrite_view), "", 0);
  gtk_text_view_set_editable (self->rewrite_view, FALSE);
  gtk_toggle_button_set_active (self->edit_rewrite_button, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->llm_box), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->accept_rewrite_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->edit_rewrite_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ask_button), FALSE);
  gtk_label_set_text (self->llm_status, _ ("Asking the assistant…"));
  gtk_spinner_start (self->spinner);

  data = g_new0 (AskData, 1);
  data->self = g_object_ref (self);
  data->prompt = get_text (self->buffer);
  takes_secrets_lookup_async (LLM_SECRET_ID, takes_llm_client_get_endpoint (self->llm), self->cancellable,
                              key_lookup_cb, data);
}

static void
ask_clicked_cb (TakesOptimizerPanel *self)
{
  takes_optimizer_panel_ask_llm (self);
}

static void
accept_rewrite_cb (TakesOptimizerPanel *self)
{
  g_autofree char *text = NULL;

  if (gtk_toggle_button_get_active (self->edit_rewrite_button))
    text = get_text (gtk_text_view_get_buffer (self->rewrite_view));
  else
    text = g_strdup (self->rewrite);
  if (text == NULL)
    return;
  set_prompt (self, text);
  gtk_widget_set_visible (GTK_WIDGET (self->llm_box), FALSE);
  gtk_label_set_text (self->llm_status, NULL);
  takes_optimizer_panel_refresh (self);
}

static void
edit_rewrite_toggled_cb (TakesOptimizerPanel *self)
{
  GtkTextBuffer *view = gtk_text_view_get_buffer (self->rewrite_view);
  gboolean editing = gtk_toggle_button_get_active (self->edit_rewrite_button);

  if (self->rewrite == NULL)
    return;
  gtk_text_view_set_editable (self->rewrite_view, editing);
  if (editing)
    {
      gtk_text_buffer_set_text (view, self->rewrite, -1);
      gtk_widget_grab_focus (GTK_WIDGET (self->rewrite_view));
    }
  else
    {
      g_autofree char *before = get_text (self->buffer);
      g_autofree char *edited = get_text (view);

      g_free (self->rewrite);
      self->rewrite = g_steal_pointer (&edited);
      show_diff (self, before, self->rewrite);
    }
}

static void
discard_rewrite_cb (TakesOptimizerPanel *self)
{
  g_cancellable_cancel (self->cancellable);
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ask_button), TRUE);
  g_clear_pointer (&self->rewrite, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->llm_box), FALSE);
  gtk_label_set_text (self->llm_status, NULL);
}

static void
restore_cb (TakesOptimizerPanel *self)
{
  g_autofree char *original = g_steal_pointer (&self->original);

  if (original == NULL)
    return;
  replace_text (self, original);
  gtk_widget_set_visible (GTK_WIDGET (self->restore_button), FALSE);
  takes_optimizer_panel_refresh (self);
}

static void
buffer_changed_cb (GtkTextBuffer *buffer, TakesOptimizerPanel *self)
{
  if (self->applying)
    return;
  /* A prompt typed anew is a new start: what was rejected may fit again. */
  g_hash_table_remove_all (self->rejected);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    takes_optimizer_panel_refresh (self);
}

/* GObject --------------------------------------------------------------- */

static void
takes_optimizer_panel_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (takes_optimizer_panel_parent_class)->map (widget);
  takes_optimizer_panel_refresh (TAKES_OPTIMIZER_PANEL (widget));
}

static void
takes_optimizer_panel_dispose (GObject *object)
{
  TakesOptimizerPanel *self = TAKES_OPTIMIZER_PANEL (object);

  g_cancellable_cancel (self->cancellable);
  if (self->buffer != NULL)
    g_signal_handlers_disconnect_by_data (self->buffer, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_OPTIMIZER_PANEL);
  /* The template's top box has no id, so dispose_template leaves it. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  g_clear_object (&self->buffer);
  g_clear_object (&self->optimizer);
  g_clear_object (&self->analysis);
  g_clear_object (&self->llm);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (takes_optimizer_panel_parent_class)->dispose (object);
}

static void
takes_optimizer_panel_finalize (GObject *object)
{
  TakesOptimizerPanel *self = TAKES_OPTIMIZER_PANEL (object);

  g_clear_pointer (&self->shown, g_array_unref);
  g_clear_pointer (&self->rejected, g_hash_table_unref);
  g_clear_pointer (&self->original, g_free);
  g_clear_pointer (&self->rewrite, g_free);
  g_string_free (self->stream, TRUE);

  G_OBJECT_CLASS (takes_optimizer_panel_parent_class)->finalize (object);
}

static void
takes_optimizer_panel_class_init (TakesOptimizerPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = takes_optimizer_panel_dispose;
  object_class->finalize = takes_optimizer_panel_finalize;
  widget_class->map = takes_optimizer_panel_map;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/takes/Takes/ui/takes-optimizer-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, suggestions_list);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, suggestions_status);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, ask_button);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, spinner);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, llm_status);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, llm_box);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, rewrite_view);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, accept_rewrite_button);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, edit_rewrite_button);
  gtk_widget_class_bind_template_child (widget_class, TakesOptimizerPanel, restore_button);
  gtk_widget_class_bind_template_callback (widget_class, ask_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, accept_rewrite_cb);
  gtk_widget_class_bind_template_callback (widget_class, edit_rewrite_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, discard_rewrite_cb);
  gtk_widget_class_bind_template_callback (widget_class, restore_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "optimizerpanel");
}

static void
takes_optimizer_panel_init (TakesOptimizerPanel *self)
{
  GtkTextBuffer *view;

  self->shown = g_array_new (FALSE, FALSE, sizeof (guint));
  self->rejected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->stream = g_string_new (NULL);
  gtk_widget_init_template (GTK_WIDGET (self));

  view = gtk_text_view_get_buffer (self->rewrite_view);
  self->insert_tag = gtk_text_buffer_create_tag (view, "insert", "foreground", "#26a269", "weight",
                                                 PANGO_WEIGHT_BOLD, NULL);
  self->delete_tag
      = gtk_text_buffer_create_tag (view, "delete", "foreground", "#c01c28", "strikethrough", TRUE, NULL);
}

GtkWidget *
takes_optimizer_panel_new (void)
{
  return g_object_new (TAKES_TYPE_OPTIMIZER_PANEL, NULL);
}

void
takes_optimizer_panel_set_buffer (TakesOptimizerPanel *self, GtkTextBuffer *buffer)
{
  g_return_if_fail (TAKES_IS_OPTIMIZER_PANEL (self));

  if (self->buffer != NULL)
    g_signal_handlers_disconnect_by_data (self->buffer, self);
  g_set_object (&self->buffer, buffer);
  if (buffer != NULL)
    g_signal_connect (buffer, "changed", G_CALLBACK (buffer_changed_cb), self);
  g_clear_pointer (&self->original, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->restore_button), FALSE);
}

void
takes_optimizer_panel_set_optimizer (TakesOptimizerPanel *self, TakesOptimizer *optimizer)
{
  g_return_if_fail (TAKES_IS_OPTIMIZER_PANEL (self));
  g_set_object (&self->optimizer, optimizer);
}

void
takes_optimizer_panel_set_llm_client (TakesOptimizerPanel *self, TakesLlmClient *client)
{
  g_return_if_fail (TAKES_IS_OPTIMIZER_PANEL (self));
  g_set_object (&self->llm, client);
}

const char *
takes_optimizer_panel_get_original (TakesOptimizerPanel *self)
{
  g_return_val_if_fail (TAKES_IS_OPTIMIZER_PANEL (self), NULL);
  return self->original;
}
