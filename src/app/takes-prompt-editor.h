/* takes-prompt-editor.h: the prompt, its parameters and its batch variables.
 *
 * The editor turns what the person wrote into takes ready for the queue: one
 * take, or one per combination of the {variables} table. Parameters a
 * backend does not accept are insensitive with a tooltip saying why, and a
 * prompt the safety filter blocks is flagged in place before anything is sent.
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-optimizer-panel.h"
#include "takes-recipe.h"
#include "takes-safety.h"

G_BEGIN_DECLS

#define TAKES_TYPE_PROMPT_EDITOR (takes_prompt_editor_get_type ())
G_DECLARE_FINAL_TYPE (TakesPromptEditor, takes_prompt_editor, TAKES, PROMPT_EDITOR, GtkWidget)

GtkWidget *takes_prompt_editor_new (void);

/* The backends offered (array of TakesBackend); NULL offers every backend id
 * the build knows without their capabilities. */
void takes_prompt_editor_set_backends (TakesPromptEditor *self, GPtrArray *backends);
/* The filter used for the inline check; NULL loads the shipped lists. */
void takes_prompt_editor_set_safety (TakesPromptEditor *self, TakesSafety *safety);

char *takes_prompt_editor_get_prompt (TakesPromptEditor *self);
void takes_prompt_editor_set_prompt (TakesPromptEditor *self, const char *prompt);
char *takes_prompt_editor_get_negative_prompt (TakesPromptEditor *self);
void takes_prompt_editor_set_negative_prompt (TakesPromptEditor *self, const char *negative_prompt);
GtkTextBuffer *takes_prompt_editor_get_prompt_buffer (TakesPromptEditor *self);

/* Fills every field from @recipe; new takes become children of @parent_id
 * (0 for none). */
void takes_prompt_editor_load_recipe (TakesPromptEditor *self, TakesRecipe *recipe, gint64 parent_id);
/* The recipe the fields describe, with the template's variables unexpanded. */
TakesRecipe *takes_prompt_editor_get_recipe (TakesPromptEditor *self);

/* Sets the values of {@name} in the variables table (comma-separated in the
 * table's entry). */
void takes_prompt_editor_set_variable_values (TakesPromptEditor *self,
                                              const char *name,
                                              const char *const *values);
/* How many takes Generate would queue, 0 when the fields have an error. */
guint takes_prompt_editor_get_n_takes (TakesPromptEditor *self);

/* The takes Generate queues (array of TakesTake, not yet stored), in
 * @project_id. Fails with the first problem: a template or parameter error,
 * or TAKES_SAFETY_ERROR_BLOCKED, which is also shown in place. */
GPtrArray *takes_prompt_editor_build_takes (TakesPromptEditor *self, gint64 project_id, GError **error);

/* Whether the chosen backend and model accept a parameter ("negative-prompt",
 * "seed", "frames", "fps", "steps", "guidance", "shift", "sampler"); when not,
 * @why (may be NULL) receives the tooltip that says so. */
gboolean takes_prompt_editor_is_parameter_supported (TakesPromptEditor *self, const char *name, char **why);

TakesOptimizerPanel *takes_prompt_editor_get_optimizer_panel (TakesPromptEditor *self);
void takes_prompt_editor_show_assistant (TakesPromptEditor *self, gboolean show);

G_END_DECLS
