/* takes-template.h: prompts with named variables.
 *
 * Syntax: "{name}" is replaced by a value; "{{" and "}}" stand for literal
 * braces. Names are letters (any script), digits, "_" and "-"; spaces just
 * inside the braces are ignored ("{ city }" is "{city}"). Values are inserted
 * as they are and never expanded again.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define TAKES_TEMPLATE_ERROR (takes_template_error_quark ())

typedef enum
{
  /* A brace is not closed, a "}" stands alone, or a name is empty or has a
   * character names cannot have. The location says where. */
  TAKES_TEMPLATE_ERROR_SYNTAX,
  /* Expansion was asked for without a value for a variable it uses. */
  TAKES_TEMPLATE_ERROR_UNKNOWN_VARIABLE,
  /* The text is longer than TAKES_TEMPLATE_MAX_LENGTH bytes. */
  TAKES_TEMPLATE_ERROR_TOO_LONG,
  /* The text is not valid UTF-8. */
  TAKES_TEMPLATE_ERROR_INVALID_TEXT,
} TakesTemplateError;

#define TAKES_TEMPLATE_MAX_LENGTH (64 * 1024)

/* A place in the template text: line and column count from 1, columns in
 * characters; @offset is in bytes from the start. */
typedef struct
{
  guint line;
  guint column;
  gsize offset;
} TakesTemplateLocation;

#define TAKES_TYPE_TEMPLATE (takes_template_get_type ())
G_DECLARE_FINAL_TYPE (TakesTemplate, takes_template, TAKES, TEMPLATE, GObject)

GQuark takes_template_error_quark (void);

/* Parses @text. On failure, @error_location (may be NULL) receives the place
 * of the problem, for an editor to put the cursor on. */
TakesTemplate *takes_template_new (const char *text, TakesTemplateLocation *error_location, GError **error);

const char *takes_template_get_text (TakesTemplate *self);

/* The variables used, each once, in order of first use; NULL-terminated. */
const char *const *takes_template_get_variables (TakesTemplate *self);
guint takes_template_get_n_variables (TakesTemplate *self);
/* Index of @name in takes_template_get_variables(), or -1. */
int takes_template_find_variable (TakesTemplate *self, const char *name);
/* Where @name is first used. */
gboolean
takes_template_get_variable_location (TakesTemplate *self, const char *name, TakesTemplateLocation *location);

/* Expands with @values (name → value, both strings). A variable without a
 * value is an error that names it and where it is used. */
char *takes_template_expand (TakesTemplate *self, GHashTable *values, GError **error);
/* Expands with @values[i] for variable i of takes_template_get_variables();
 * the array must have that many entries. The fast path for batches. */
char *takes_template_expand_indexed (TakesTemplate *self, const char *const *values);
/* The length in bytes takes_template_expand_indexed() would return, without
 * building the text. */
gsize takes_template_expanded_length (TakesTemplate *self, const gsize *value_lengths);

/* @literal with its braces doubled, so it expands to itself. */
char *takes_template_escape (const char *literal);

G_END_DECLS
