/* takes-safety.c: loading the lists and checking prompts against them.
 *
 * Two automata are built from the same terms. The first runs over the folded
 * prompt (words separated by single spaces) and finds terms as written. The
 * second runs over the squeezed prompt (no separators) and finds terms whose
 * letters were spread apart; a hit there that crosses word breaks counts only
 * when the pieces look like evasion (single letters apart, or pieces joined by
 * punctuation alone), so "pen is" and "at it" never read as one word while
 * "p e n i s" and "p.e.n.i.s" do. Whole-word terms must also start and end on
 * word breaks in both passes.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "takes-paths.h"
#include "takes-safety.h"
#include "takes-term-matcher.h"

#define MAX_LIST_BYTES (64 * 1024 * 1024)

typedef enum
{
  FLAG_WORD = 1 << 0,  /* whole words only */
  FLAG_ALLOW = 1 << 1, /* takes the term back */
  FLAG_MINOR = 1 << 2, /* signals a minor: blocks only together with a sexual term */
} EntryFlags;

typedef struct
{
  char *term;
  char *category;
  char **variants;
  char *source;
  guint line;
  EntryFlags flags;
  gboolean has_cjk;
  gboolean removed;
} Entry;

struct _TakesSafety
{
  GObject parent_instance;

  GArray *entries;      /* Entry */
  GHashTable *fold_map; /* gunichar → char * */
  TakesTermMatcher *text_matcher;
  TakesTermMatcher *squeezed_matcher;
  guint n_terms;
};

G_DEFINE_FINAL_TYPE (TakesSafety, takes_safety, G_TYPE_OBJECT)

GQuark
takes_safety_error_quark (void)
{
  return g_quark_from_static_string ("takes-safety-error-quark");
}

static void
entry_clear (gpointer data)
{
  Entry *e = data;

  g_clear_pointer (&e->term, g_free);
  g_clear_pointer (&e->category, g_free);
  g_clear_pointer (&e->variants, g_strfreev);
  g_clear_pointer (&e->source, g_free);
}

static void
takes_safety_finalize (GObject *object)
{
  TakesSafety *self = TAKES_SAFETY (object);

  g_clear_pointer (&self->entries, g_array_unref);
  g_clear_pointer (&self->fold_map, g_hash_table_unref);
  g_clear_pointer (&self->text_matcher, takes_term_matcher_free);
  g_clear_pointer (&self->squeezed_matcher, takes_term_matcher_free);

  G_OBJECT_CLASS (takes_safety_parent_class)->finalize (object);
}

static void
takes_safety_class_init (TakesSafetyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_safety_finalize;
}

static void
takes_safety_init (TakesSafety *self)
{
  self->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (self->entries, entry_clear);
  self->fold_map = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
}

void
takes_safety_match_free (TakesSafetyMatch *match)
{
  if (match == NULL)
    return;
  g_free (match->term);
  g_free (match->category);
  g_free (match->reason);
  g_free (match->matched);
  g_free (match->source);
  g_free (match);
}

static char *
category_reason (const char *category)
{
  if (g_str_equal (category, "minors"))
    return g_strdup (_ ("sexual content involving minors is never generated"));
  if (g_str_equal (category, "sexual"))
    return g_strdup (_ ("explicit sexual content is not allowed"));
  if (g_str_equal (category, "violence"))
    return g_strdup (_ ("extreme violence and gore are not allowed"));
  if (g_str_equal (category, "hate"))
    return g_strdup (_ ("hateful or dehumanising content is not allowed"));
  if (g_str_equal (category, "self-harm"))
    return g_strdup (_ ("content that shows or encourages self-harm is not allowed"));
  return g_strdup_printf (_ ("it is on a list under “%s”"), category);
}

char *
takes_safety_match_describe (const TakesSafetyMatch *match)
{
  if (match->evasion)
    return g_strdup_printf (_ ("“%s” matches the blocked term “%s” with its letters spread apart: %s."),
                            match->matched, match->term, match->reason);
  return g_strdup_printf (_ ("“%s” matches the blocked term “%s”: %s."), match->matched, match->term,
                          match->reason);
}

TakesSafety *
takes_safety_new (void)
{
  return g_object_new (TAKES_TYPE_SAFETY, NULL);
}

char *
takes_safety_get_user_list_path (void)
{
  g_autofree char *dir = takes_paths_data_dir ();

  return g_build_filename (dir, "safety.txt", NULL);
}

/* ------------------------------------------------------------------ compiling */

static gboolean
contains_cjk (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if ((guchar)*p >= 0x80 && takes_fold_is_cjk (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static void
add_keys (TakesSafety *self, const char *form, guint32 index)
{
  g_autofree char *folded = takes_fold_term (form, self->fold_map, FALSE);
  g_autofree char *squeezed = takes_fold_term (form, self->fold_map, TRUE);

  if (*folded != '\0')
    takes_term_matcher_add (self->text_matcher, folded, strlen (folded), index);
  if (*squeezed != '\0')
    takes_term_matcher_add (self->squeezed_matcher, squeezed, strlen (squeezed), index);
}

static void
compile (TakesSafety *self)
{
  g_autoptr (GHashTable) by_form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_clear_pointer (&self->text_matcher, takes_term_matcher_free);
  g_clear_pointer (&self->squeezed_matcher, takes_term_matcher_free);
  self->text_matcher = takes_term_matcher_new ();
  self->squeezed_matcher = takes_term_matcher_new ();
  self->n_terms = 0;

  /* An "allow" line takes back every earlier entry with the same folded form. */
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = &g_array_index (self->entries, Entry, i);
      char *folded = takes_fold_term (e->term, self->fold_map, FALSE);

      e->removed = FALSE;
      if (e->flags & FLAG_ALLOW)
        {
          for (guint j = 0; j < i; j++)
            {
              Entry *earlier = &g_array_index (self->entries, Entry, j);
              g_autofree char *other = takes_fold_term (earlier->term, self->fold_map, FALSE);

              if (g_str_equal (other, folded))
                earlier->removed = TRUE;
            }
        }
      g_free (folded);
    }

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = &g_array_index (self->entries, Entry, i);

      if (e->removed || (e->flags & FLAG_ALLOW))
        continue;
      e->has_cjk = contains_cjk (e->term);
      add_keys (self, e->term, i);
      for (guint v = 0; e->variants != NULL && e->variants[v] != NULL; v++)
        {
          if (contains_cjk (e->variants[v]))
            e->has_cjk = TRUE;
          add_keys (self, e->variants[v], i);
        }
      if (!(e->flags & FLAG_MINOR))
        self->n_terms++;
    }
  takes_term_matcher_compile (self->text_matcher);
  takes_term_matcher_compile (self->squeezed_matcher);
}

/* ------------------------------------------------------------------ loading */

static gboolean
list_error (GError **error, const char *origin, guint line, const char *what)
{
  g_set_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST, _ ("%s, line %u: %s"), origin,
               line, what);
  return FALSE;
}

static gboolean
parse_flags (const char *text, EntryFlags *flags, const char *origin, guint line, GError **error)
{
  g_auto (GStrv) words = g_strsplit_set (text, ", ", -1);

  *flags = 0;
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0' || g_str_equal (words[i], "-"))
        continue;
      if (g_str_equal (words[i], "word"))
        *flags |= FLAG_WORD;
      else if (g_str_equal (words[i], "allow"))
        *flags |= FLAG_ALLOW;
      else if (g_str_equal (words[i], "minor"))
        *flags |= FLAG_MINOR;
      else
        {
          g_autofree char *what
              = g_strdup_printf (_ ("unknown flag “%s”; use “word”, “allow”, “minor” or “-”."), words[i]);

          return list_error (error, origin, line, what);
        }
    }
  return TRUE;
}

static gboolean
check_text (const char *data, gsize length, const char *origin, GError **error)
{
  const char *bad = NULL;
  guint line = 1;

  if (length > MAX_LIST_BYTES)
    {
      g_set_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST,
                   _ ("%s is larger than %u MiB; split it into smaller lists."), origin,
                   (guint)(MAX_LIST_BYTES / (1024 * 1024)));
      return FALSE;
    }
  if (g_utf8_validate (data, length, &bad) && memchr (data, '\0', length) == NULL)
    return TRUE;
  if (bad == NULL)
    bad = memchr (data, '\0', length);
  for (const char *p = data; p < bad; p++)
    if (*p == '\n')
      line++;
  return list_error (error, origin, line, _ ("the line is not UTF-8 text; save the list as UTF-8."));
}

gboolean
takes_safety_load_data (
    TakesSafety *self, const char *data, gssize length, const char *origin, GError **error)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GArray) added = g_array_new (FALSE, TRUE, sizeof (Entry));

  g_return_val_if_fail (TAKES_IS_SAFETY (self), FALSE);

  if (length < 0)
    length = strlen (data);
  if (!check_text (data, length, origin, error))
    return FALSE;
  g_array_set_clear_func (added, entry_clear);

  {
    g_autofree char *copy = g_strndup (data, length);

    lines = g_strsplit (copy, "\n", -1);
  }
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = NULL;
      char *line = g_strstrip (lines[i]);
      Entry e = { 0 };
      guint n_fields;

      if (*line == '\0' || *line == '#')
        continue;
      fields = g_strsplit (line, "|", 4);
      n_fields = g_strv_length (fields);
      for (guint f = 0; f < n_fields; f++)
        g_strstrip (fields[f]);

      if (*fields[0] == '\0')
        return list_error (error, origin, i + 1, _ ("the line has no term before the first “|”."));
      if (n_fields > 1 && !parse_flags (fields[1], &e.flags, origin, i + 1, error))
        return FALSE;
      if (!(e.flags & FLAG_ALLOW) && (n_fields < 3 || *fields[2] == '\0'))
        return list_error (error, origin, i + 1,
                           _ ("the term has no category; write TERM | FLAGS | CATEGORY, for example "
                              "“gore | word | violence”."));
      {
        g_autofree char *folded = takes_fold_term (fields[0], self->fold_map, TRUE);

        if (*folded == '\0')
          return list_error (error, origin, i + 1,
                             _ ("the term has no letters or digits, so it cannot match."));
      }

      e.term = g_strdup (fields[0]);
      e.category = g_strdup (n_fields >= 3 && *fields[2] != '\0' ? fields[2] : "allow");
      e.source = g_strdup (origin);
      e.line = i + 1;
      if (n_fields == 4 && *fields[3] != '\0')
        {
          g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
          g_auto (GStrv) parts = g_strsplit (fields[3], ",", -1);

          for (guint p = 0; parts[p] != NULL; p++)
            {
              g_autofree char *folded = NULL;

              g_strstrip (parts[p]);
              if (*parts[p] == '\0')
                continue;
              folded = takes_fold_term (parts[p], self->fold_map, TRUE);
              if (*folded == '\0')
                {
                  entry_clear (&e);
                  return list_error (error, origin, i + 1,
                                     _ ("a variant has no letters or digits, so it cannot match."));
                }
              g_strv_builder_add (builder, parts[p]);
            }
          e.variants = g_strv_builder_end (builder);
        }
      g_array_append_val (added, e);
    }

  /* Only a list that loaded whole is added, so a bad line loses nothing. */
  for (guint i = 0; i < added->len; i++)
    {
      Entry *e = &g_array_index (added, Entry, i);

      g_array_append_val (self->entries, *e);
      memset (e, 0, sizeof *e);
    }
  compile (self);
  return TRUE;
}

gboolean
takes_safety_load_file (TakesSafety *self, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST,
                   _ ("Could not read the safety list: %s"), local_error->message);
      return FALSE;
    }
  return takes_safety_load_data (self, contents, length, path, error);
}

gboolean
takes_safety_load_fold_data (
    TakesSafety *self, const char *data, gssize length, const char *origin, GError **error)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) added = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  GHashTableIter iter;
  gpointer key;
  gpointer value;

  g_return_val_if_fail (TAKES_IS_SAFETY (self), FALSE);

  if (length < 0)
    length = strlen (data);
  if (!check_text (data, length, origin, error))
    return FALSE;
  {
    g_autofree char *copy = g_strndup (data, length);

    lines = g_strsplit (copy, "\n", -1);
  }
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      char *hash = strchr (line, '#');
      g_auto (GStrv) fields = NULL;
      gunichar from;

      if (hash != NULL)
        *hash = '\0';
      g_strstrip (line);
      if (*line == '\0')
        continue;
      fields = g_strsplit_set (line, " \t", -1);
      {
        guint n = 0;

        for (guint f = 0; fields[f] != NULL; f++)
          if (*fields[f] != '\0')
            fields[n++] = fields[f];
          else
            g_free (fields[f]);
        fields[n] = NULL;
        if (n != 2 || g_utf8_strlen (fields[0], -1) != 1)
          return list_error (error, origin, i + 1,
                             _ ("write one character, a space, and what it stands for, like “體 体”."));
      }
      from = g_unichar_tolower (g_utf8_get_char (fields[0]));
      /* Plain ASCII is matched as written: folding "4" to "a" would turn
       * "4k" and "3d" into words. */
      if (from < 0x80)
        return list_error (
            error, origin, i + 1,
            _ ("only characters beyond ASCII can be folded; letters, digits and punctuation are "
               "matched as they are."));
      g_hash_table_replace (added, GUINT_TO_POINTER (from), g_utf8_strdown (fields[1], -1));
    }

  g_hash_table_iter_init (&iter, added);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_replace (self->fold_map, key, value);
      g_hash_table_iter_steal (&iter);
    }
  compile (self);
  return TRUE;
}

gboolean
takes_safety_load_fold_file (TakesSafety *self, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST,
                   _ ("Could not read the safety fold table: %s"), local_error->message);
      return FALSE;
    }
  return takes_safety_load_fold_data (self, contents, length, path, error);
}

TakesSafety *
takes_safety_new_default (GError **error)
{
  g_autoptr (TakesSafety) self = takes_safety_new ();
  g_autofree char *fold = takes_paths_datafile ("prompt/safety-fold.txt");
  g_autofree char *en = takes_paths_datafile ("prompt/safety-en.txt");
  g_autofree char *zh = takes_paths_datafile ("prompt/safety-zh.txt");
  g_autofree char *user = takes_safety_get_user_list_path ();

  if (!takes_safety_load_fold_file (self, fold, error) || !takes_safety_load_file (self, en, error)
      || !takes_safety_load_file (self, zh, error))
    return NULL;
  if (g_file_test (user, G_FILE_TEST_EXISTS) && !takes_safety_load_file (self, user, error))
    return NULL;
  return g_steal_pointer (&self);
}

guint
takes_safety_get_n_terms (TakesSafety *self)
{
  g_return_val_if_fail (TAKES_IS_SAFETY (self), 0);
  return self->n_terms;
}

/* ------------------------------------------------------------------ checking */

typedef struct
{
  TakesSafety *self;
  TakesFoldedText *folded;
  const char *prompt;
  GHashTable *seen;   /* entry index → TakesSafetyMatch (borrowed from matches or minors) */
  GPtrArray *matches; /* blocking matches */
  GPtrArray *minors;  /* "minor" context matches */
} CheckState;

static void
record (CheckState *st, guint32 index, gsize orig_start, gsize orig_end, gboolean evasion)
{
  const Entry *e = &g_array_index (st->self->entries, Entry, index);
  TakesSafetyMatch *m;

  if (g_hash_table_contains (st->seen, GUINT_TO_POINTER (index)))
    return;
  m = g_new0 (TakesSafetyMatch, 1);
  m->term = g_strdup (e->term);
  m->category = g_strdup (e->category);
  m->reason = category_reason (e->category);
  m->matched = g_strndup (st->prompt + orig_start, orig_end - orig_start);
  m->start = orig_start;
  m->end = orig_end;
  m->evasion = evasion;
  m->source = g_strdup (e->source);
  m->line = e->line;
  g_hash_table_insert (st->seen, GUINT_TO_POINTER (index), m);
  g_ptr_array_add ((e->flags & FLAG_MINOR) ? st->minors : st->matches, m);
}

static gboolean
text_hit_cb (guint32 value, gsize start, gsize end, gpointer user_data)
{
  CheckState *st = user_data;
  const Entry *e = &g_array_index (st->self->entries, Entry, value);
  const GString *text = st->folded->text;
  const TakesTextSpan *src = (const TakesTextSpan *)st->folded->text_src->data;

  if ((e->flags & FLAG_WORD)
      && (!takes_fold_is_boundary (text->str, text->len, start)
          || !takes_fold_is_boundary (text->str, text->len, end)))
    return TRUE;
  record (st, value, src[start].start, src[end - 1].end, FALSE);
  return TRUE;
}

static gboolean
squeezed_hit_cb (guint32 value, gsize start, gsize end, gpointer user_data)
{
  CheckState *st = user_data;
  const Entry *e = &g_array_index (st->self->entries, Entry, value);
  const TakesTextSpan *src = (const TakesTextSpan *)st->folded->squeezed_src->data;
  const guint *token_of = (const guint *)st->folded->squeezed_token->data;
  const TakesTextToken *tokens = (const TakesTextToken *)st->folded->tokens->data;
  guint first = token_of[start];
  guint last = token_of[end - 1];
  gboolean short_pieces = TRUE;
  gboolean punctuation_only = TRUE;

  if (g_hash_table_contains (st->seen, GUINT_TO_POINTER (value)))
    return TRUE;
  if (e->has_cjk)
    {
      gboolean spread = FALSE;

      for (guint t = first + 1; t <= last; t++)
        if (tokens[t].sep_before != TAKES_TEXT_SEP_NONE)
          spread = TRUE;
      record (st, value, src[start].start, src[end - 1].end, spread);
      return TRUE;
    }
  if ((e->flags & FLAG_WORD) && (tokens[first].start != start || tokens[last].end != end))
    return TRUE;
  if (first == last)
    {
      record (st, value, src[start].start, src[end - 1].end, FALSE);
      return TRUE;
    }
  for (guint t = first; t <= last; t++)
    {
      if (tokens[t].n_chars > 1)
        short_pieces = FALSE;
      if (t > first && tokens[t].sep_before == TAKES_TEXT_SEP_SPACE)
        punctuation_only = FALSE;
    }
  if (short_pieces || punctuation_only)
    record (st, value, src[start].start, src[end - 1].end, TRUE);
  return TRUE;
}

static int
compare_matches_cb (gconstpointer a, gconstpointer b)
{
  const TakesSafetyMatch *ma = *(const TakesSafetyMatch *const *)a;
  const TakesSafetyMatch *mb = *(const TakesSafetyMatch *const *)b;

  if (ma->start != mb->start)
    return ma->start < mb->start ? -1 : 1;
  return g_strcmp0 (ma->term, mb->term);
}

GPtrArray *
takes_safety_check (TakesSafety *self, const char *prompt)
{
  TakesFoldedText folded;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GPtrArray) minors = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_safety_match_free);
  GPtrArray *matches = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_safety_match_free);
  CheckState st = { self, &folded, prompt, seen, matches, minors };
  gsize length;

  g_return_val_if_fail (TAKES_IS_SAFETY (self), matches);
  g_return_val_if_fail (prompt != NULL, matches);

  length = strlen (prompt);
  if (self->text_matcher == NULL || !g_utf8_validate (prompt, length, NULL))
    {
      if (self->text_matcher == NULL)
        return matches;
      /* Text that is not UTF-8 is checked as its valid form, so bad bytes
       * cannot hide a term. */
      {
        g_autofree char *valid = g_utf8_make_valid (prompt, length);
        GPtrArray *result;

        g_ptr_array_unref (matches);
        result = takes_safety_check (self, valid);
        for (guint i = 0; i < result->len; i++)
          {
            TakesSafetyMatch *m = g_ptr_array_index (result, i);

            m->start = MIN (m->start, length);
            m->end = MIN (m->end, length);
          }
        return result;
      }
    }

  takes_folded_text_init (&folded, TRUE);
  takes_folded_text_fold (&folded, prompt, length, self->fold_map);
  takes_term_matcher_scan (self->text_matcher, folded.text->str, folded.text->len, text_hit_cb, &st);
  takes_term_matcher_scan (self->squeezed_matcher, folded.squeezed->str, folded.squeezed->len,
                           squeezed_hit_cb, &st);
  takes_folded_text_clear (&folded);

  /* A word for a child is harmless alone and decisive next to a sexual term. */
  if (minors->len > 0)
    {
      TakesSafetyMatch *minor = g_ptr_array_index (minors, 0);

      for (guint i = 0; i < matches->len; i++)
        {
          TakesSafetyMatch *m = g_ptr_array_index (matches, i);

          if (g_str_equal (m->category, "sexual"))
            {
              TakesSafetyMatch *both = g_new0 (TakesSafetyMatch, 1);

              both->term = g_strdup_printf ("%s + %s", minor->term, m->term);
              both->category = g_strdup ("minors");
              both->reason = category_reason ("minors");
              both->start = MIN (minor->start, m->start);
              both->end = MAX (minor->end, m->end);
              both->matched = g_strndup (prompt + both->start, both->end - both->start);
              both->evasion = minor->evasion || m->evasion;
              both->source = g_strdup (m->source);
              both->line = m->line;
              g_ptr_array_add (matches, both);
              break;
            }
        }
    }
  g_ptr_array_sort (matches, compare_matches_cb);
  return matches;
}

gboolean
takes_safety_check_prompt (TakesSafety *self, const char *prompt, GError **error)
{
  g_autoptr (GPtrArray) matches = takes_safety_check (self, prompt);
  g_autofree char *described = NULL;
  const TakesSafetyMatch *first;

  if (matches->len == 0)
    return TRUE;
  /* A match about minors outranks whatever else matched. */
  first = g_ptr_array_index (matches, 0);
  for (guint i = 0; i < matches->len; i++)
    if (g_str_equal (((TakesSafetyMatch *)g_ptr_array_index (matches, i))->category, "minors"))
      first = g_ptr_array_index (matches, i);
  described = takes_safety_match_describe (first);
  if (g_str_equal (first->category, "minors"))
    {
      g_set_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED, _ ("The prompt was not sent. %s"),
                   described);
      return FALSE;
    }
  g_set_error (
      error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED,
      _ ("The prompt was not sent. %s Reword the prompt; if this is a false alarm, add the line “%s | allow” "
         "to your own list."),
      described, first->term);
  return FALSE;
}
