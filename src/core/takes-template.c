/* takes-template.c: parsing and expanding prompt templates.
 *
 * The text is parsed once into literal pieces and variable slots, so each
 * expansion is a concatenation with no scanning.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "takes-template.h"

typedef struct
{
  char *literal;  /* NULL for a variable slot */
  gsize length;   /* of literal */
  guint variable; /* index into names, for a slot */
} Piece;

struct _TakesTemplate
{
  GObject parent_instance;

  char *text;
  GArray *pieces;    /* Piece */
  GPtrArray *names;  /* char *, NULL-terminated */
  GArray *locations; /* TakesTemplateLocation of each name's first use */
  gsize literal_length;
};

G_DEFINE_FINAL_TYPE (TakesTemplate, takes_template, G_TYPE_OBJECT)

GQuark
takes_template_error_quark (void)
{
  return g_quark_from_static_string ("takes-template-error-quark");
}

static void
piece_clear (gpointer data)
{
  Piece *piece = data;

  g_clear_pointer (&piece->literal, g_free);
}

static void
takes_template_finalize (GObject *object)
{
  TakesTemplate *self = TAKES_TEMPLATE (object);

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->pieces, g_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->locations, g_array_unref);

  G_OBJECT_CLASS (takes_template_parent_class)->finalize (object);
}

static void
takes_template_class_init (TakesTemplateClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_template_finalize;
}

static void
takes_template_init (TakesTemplate *self)
{
  self->pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  g_array_set_clear_func (self->pieces, piece_clear);
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->locations = g_array_new (FALSE, FALSE, sizeof (TakesTemplateLocation));
}

/* Walks the text one character at a time, keeping line and column. */
typedef struct
{
  const char *text;
  const char *p;
  guint line;
  guint column;
} Cursor;

static TakesTemplateLocation
cursor_location (const Cursor *c)
{
  TakesTemplateLocation loc = { c->line, c->column, (gsize)(c->p - c->text) };

  return loc;
}

static void
cursor_advance (Cursor *c)
{
  if (*c->p == '\n')
    {
      c->line++;
      c->column = 1;
    }
  else
    c->column++;
  c->p = g_utf8_next_char (c->p);
}

static gboolean
syntax_error (GError **error,
              TakesTemplateLocation *error_location,
              const TakesTemplateLocation *where,
              const char *what)
{
  if (error_location != NULL)
    *error_location = *where;
  g_set_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_SYNTAX, _ ("Line %u, column %u: %s"),
               where->line, where->column, what);
  return FALSE;
}

static gboolean
is_name_char (gunichar c)
{
  return c == '_' || c == '-' || g_unichar_isalnum (c);
}

static void
add_literal (TakesTemplate *self, GString *literal)
{
  Piece piece = { NULL, 0, 0 };

  if (literal->len == 0)
    return;
  piece.literal = g_strndup (literal->str, literal->len);
  piece.length = literal->len;
  self->literal_length += literal->len;
  g_array_append_val (self->pieces, piece);
  g_string_truncate (literal, 0);
}

static void
add_variable (TakesTemplate *self, const char *name, gsize length, const TakesTemplateLocation *where)
{
  Piece piece = { NULL, 0, 0 };
  g_autofree char *copy = g_strndup (name, length);
  int index = takes_template_find_variable (self, copy);

  if (index < 0)
    {
      /* names stays NULL-terminated for takes_template_get_variables(). */
      g_ptr_array_remove_index (self->names, self->names->len - 1);
      index = self->names->len;
      g_ptr_array_add (self->names, g_steal_pointer (&copy));
      g_ptr_array_add (self->names, NULL);
      g_array_append_val (self->locations, *where);
    }
  piece.variable = index;
  g_array_append_val (self->pieces, piece);
}

/* Reads "{name}" with the cursor on the "{"; leaves it after the "}". */
static gboolean
parse_variable (TakesTemplate *self, Cursor *c, TakesTemplateLocation *error_location, GError **error)
{
  TakesTemplateLocation open = cursor_location (c);
  const char *name_start;
  const char *name_end;

  cursor_advance (c);
  while (*c->p == ' ' || *c->p == '\t')
    cursor_advance (c);
  name_start = c->p;
  while (*c->p != '\0' && *c->p != '}' && *c->p != '\n' && *c->p != '{')
    {
      gunichar ch = g_utf8_get_char (c->p);

      if (ch == ' ' || ch == '\t')
        {
          TakesTemplateLocation space = cursor_location (c);

          while (*c->p == ' ' || *c->p == '\t')
            cursor_advance (c);
          if (*c->p == '}')
            break;
          return syntax_error (error, error_location, &space,
                               _ ("a variable name cannot contain spaces; use “_” or “-” between words."));
        }
      if (!is_name_char (ch))
        {
          TakesTemplateLocation bad = cursor_location (c);
          g_autofree char *shown = g_ucs4_to_utf8 (&ch, 1, NULL, NULL, NULL);
          g_autofree char *what
              = g_strdup_printf (_ ("“%s” cannot be part of a variable name; names use letters, "
                                    "digits, “_” and “-”. Write {{ for a literal brace."),
                                 shown != NULL ? shown : "?");

          return syntax_error (error, error_location, &bad, what);
        }
      cursor_advance (c);
    }
  name_end = c->p;
  while (name_end > name_start && (name_end[-1] == ' ' || name_end[-1] == '\t'))
    name_end--;

  if (*c->p != '}')
    return syntax_error (
        error, error_location, &open,
        _ ("this brace is never closed; close it with “}” or write {{ for a literal brace."));
  if (name_end == name_start)
    return syntax_error (error, error_location, &open,
                         _ ("the braces hold no variable name; write {{}} for literal braces."));
  add_variable (self, name_start, name_end - name_start, &open);
  cursor_advance (c);
  return TRUE;
}

TakesTemplate *
takes_template_new (const char *text, TakesTemplateLocation *error_location, GError **error)
{
  g_autoptr (TakesTemplate) self = NULL;
  g_autoptr (GString) literal = NULL;
  Cursor c;
  gsize length;
  const char *invalid = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  length = strlen (text);
  if (length > TAKES_TEMPLATE_MAX_LENGTH)
    {
      g_set_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_TOO_LONG,
                   _ ("The template is %zu bytes long, more than the %u allowed; "
                      "shorten it."),
                   length, (guint)TAKES_TEMPLATE_MAX_LENGTH);
      return NULL;
    }
  if (!g_utf8_validate (text, length, &invalid))
    {
      g_set_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_INVALID_TEXT,
                   _ ("The template is not valid UTF-8 text (bad byte at offset %zu); save it as UTF-8."),
                   (gsize)(invalid - text));
      if (error_location != NULL)
        {
          error_location->offset = invalid - text;
          error_location->line = 0;
          error_location->column = 0;
        }
      return NULL;
    }

  self = g_object_new (TAKES_TYPE_TEMPLATE, NULL);
  self->text = g_strdup (text);
  g_ptr_array_add (self->names, NULL);
  literal = g_string_new (NULL);
  c.text = self->text;
  c.p = self->text;
  c.line = 1;
  c.column = 1;

  while (*c.p != '\0')
    {
      if (c.p[0] == '{' && c.p[1] == '{')
        {
          g_string_append_c (literal, '{');
          cursor_advance (&c);
          cursor_advance (&c);
        }
      else if (c.p[0] == '}' && c.p[1] == '}')
        {
          g_string_append_c (literal, '}');
          cursor_advance (&c);
          cursor_advance (&c);
        }
      else if (c.p[0] == '{')
        {
          add_literal (self, literal);
          if (!parse_variable (self, &c, error_location, error))
            return NULL;
        }
      else if (c.p[0] == '}')
        {
          TakesTemplateLocation where = cursor_location (&c);

          syntax_error (error, error_location, &where,
                        _ ("this “}” closes no brace; write }} for a literal brace."));
          return NULL;
        }
      else
        {
          const char *next = g_utf8_next_char (c.p);

          g_string_append_len (literal, c.p, next - c.p);
          cursor_advance (&c);
        }
    }
  add_literal (self, literal);
  return g_steal_pointer (&self);
}

const char *
takes_template_get_text (TakesTemplate *self)
{
  g_return_val_if_fail (TAKES_IS_TEMPLATE (self), NULL);
  return self->text;
}

const char *const *
takes_template_get_variables (TakesTemplate *self)
{
  g_return_val_if_fail (TAKES_IS_TEMPLATE (self), NULL);
  return (const char *const *)self->names->pdata;
}

guint
takes_template_get_n_variables (TakesTemplate *self)
{
  g_return_val_if_fail (TAKES_IS_TEMPLATE (self), 0);
  return self->names->len - 1;
}

int
takes_template_find_variable (TakesTemplate *self, const char *name)
{
  g_return_val_if_fail (TAKES_IS_TEMPLATE (self), -1);
  for (guint i = 0; i + 1 < self->names->len; i++)
    if (g_str_equal (g_ptr_array_index (self->names, i), name))
      return (int)i;
  return -1;
}

gboolean
takes_template_get_variable_location (TakesTemplate *self, const char *name, TakesTemplateLocation *location)
{
  int index = takes_template_find_variable (self, name);

  if (index < 0)
    return FALSE;
  if (location != NULL)
    *location = g_array_index (self->locations, TakesTemplateLocation, index);
  return TRUE;
}

char *
takes_template_expand (TakesTemplate *self, GHashTable *values, GError **error)
{
  guint n = takes_template_get_n_variables (self);
  g_autofree const char **ordered = g_new0 (const char *, n + 1);

  for (guint i = 0; i < n; i++)
    {
      const char *name = g_ptr_array_index (self->names, i);

      ordered[i] = values != NULL ? g_hash_table_lookup (values, name) : NULL;
      if (ordered[i] == NULL)
        {
          const TakesTemplateLocation *loc = &g_array_index (self->locations, TakesTemplateLocation, i);

          g_set_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_UNKNOWN_VARIABLE,
                       _ ("Line %u, column %u: the variable “%s” has no value; give it one or remove it."),
                       loc->line, loc->column, name);
          return NULL;
        }
    }
  return takes_template_expand_indexed (self, ordered);
}

gsize
takes_template_expanded_length (TakesTemplate *self, const gsize *value_lengths)
{
  gsize total = 0;

  for (guint i = 0; i < self->pieces->len; i++)
    {
      const Piece *piece = &g_array_index (self->pieces, Piece, i);

      total += piece->literal != NULL ? piece->length : value_lengths[piece->variable];
    }
  return total;
}

char *
takes_template_expand_indexed (TakesTemplate *self, const char *const *values)
{
  GString *out;

  g_return_val_if_fail (TAKES_IS_TEMPLATE (self), NULL);

  out = g_string_sized_new (self->literal_length + 64);
  for (guint i = 0; i < self->pieces->len; i++)
    {
      const Piece *piece = &g_array_index (self->pieces, Piece, i);

      if (piece->literal != NULL)
        g_string_append_len (out, piece->literal, piece->length);
      else
        g_string_append (out, values[piece->variable]);
    }
  return g_string_free (out, FALSE);
}

char *
takes_template_escape (const char *literal)
{
  GString *out = g_string_sized_new (strlen (literal) + 8);

  for (const char *p = literal; *p != '\0'; p++)
    {
      if (*p == '{' || *p == '}')
        g_string_append_c (out, *p);
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}
