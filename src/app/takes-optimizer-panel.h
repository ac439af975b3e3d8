/* takes-optimizer-panel.h: the prompt assistant beside the editor.
 *
 * Offline suggestions from the rule-based optimizer, each accepted or
 * rejected on its own, and a rewrite streamed from an LLM endpoint shown as
 * a diff against the prompt, to accept, edit or discard. The prompt as it
 * was before the first accepted change is kept and can be restored.
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-llm.h"
#include "takes-optimizer.h"

G_BEGIN_DECLS

#define TAKES_TYPE_OPTIMIZER_PANEL (takes_optimizer_panel_get_type ())
G_DECLARE_FINAL_TYPE (TakesOptimizerPanel, takes_optimizer_panel, TAKES, OPTIMIZER_PANEL, GtkWidget)

GtkWidget *takes_optimizer_panel_new (void);

/* The buffer the panel reads and changes (the editor's prompt). */
void takes_optimizer_panel_set_buffer (TakesOptimizerPanel *self, GtkTextBuffer *buffer);
/* NULL loads the shipped lexicons on first use. */
void takes_optimizer_panel_set_optimizer (TakesOptimizerPanel *self, TakesOptimizer *optimizer);
/* NULL makes one from the llm-endpoint-url and llm-model settings. */
void takes_optimizer_panel_set_llm_client (TakesOptimizerPanel *self, TakesLlmClient *client);

/* Analyses the buffer's text again and lists the suggestions. */
void takes_optimizer_panel_refresh (TakesOptimizerPanel *self);
guint takes_optimizer_panel_get_n_suggestions (TakesOptimizerPanel *self);
/* Applies suggestion @index of the current list to the buffer. */
gboolean takes_optimizer_panel_accept (TakesOptimizerPanel *self, guint index);
/* Drops suggestion @index from the list without changing the prompt. */
gboolean takes_optimizer_panel_reject (TakesOptimizerPanel *self, guint index);

/* Starts an LLM rewrite of the buffer's text. */
void takes_optimizer_panel_ask_llm (TakesOptimizerPanel *self);
/* The prompt before the first change the panel made, or NULL. */
const char *takes_optimizer_panel_get_original (TakesOptimizerPanel *self);

G_END_DECLS
