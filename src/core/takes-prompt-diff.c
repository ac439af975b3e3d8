/* takes-prompt-diff.c: longest common subsequence over word tokens.
 *
 * The common head and tail are cut off first, so the quadratic table covers
 * only the part that changed; past a size limit the changed middle is shown
 * as one deletion and one insertion rather than spending memory on it.
 */
#include "config.h"

#include <string.h>

#include "takes-prompt-diff.h"
#include "takes-term-matcher.h"

/* 16 Mi cells of 4 bytes: 64 MiB at worst, far beyond any prompt. */
#define MAX_TABLE_CELLS (16u * 1024u * 1024u)

typedef struct
{
  const char *text;
  gsize length;
} Token;

void
takes_diff_chunk_free (TakesDiffChunk *chunk)
{
  if (chunk == NULL)
    return;
  g_free (chunk->text);
  g_free (chunk);
}

static GArray *
tokenize (const char *text)
{
  GArray *tokens = g_array_new (FALSE, FALSE, sizeof (Token));
  const char *p = text;

  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char (p);
      const char *end = g_utf8_next_char (p);
      Token t;

      if (takes_fold_is_word_char (c))
        {
          while (*end != '\0' && takes_fold_is_word_char (g_utf8_get_char (end)))
            end = g_utf8_next_char (end);
        }
      else if (g_unichar_isspace (c))
        {
          while (*end != '\0' && g_unichar_isspace (g_utf8_get_char (end)))
            end = g_utf8_next_char (end);
        }
      t.text = p;
      t.length = end - p;
      g_array_append_val (tokens, t);
      p = end;
    }
  return tokens;
}

static gboolean
token_equal (const Token *a, const Token *b)
{
  return a->length == b->length && memcmp (a->text, b->text, a->length) == 0;
}

static void
emit (GPtrArray *chunks, TakesDiffOp op, const char *text, gsize length)
{
  TakesDiffChunk *last = chunks->len > 0 ? g_ptr_array_index (chunks, chunks->len - 1) : NULL;

  if (length == 0)
    return;
  if (last != NULL && last->op == op)
    {
      char *joined = g_strdup_printf ("%s%.*s", last->text, (int)length, text);

      g_free (last->text);
      last->text = joined;
      return;
    }
  last = g_new0 (TakesDiffChunk, 1);
  last->op = op;
  last->text = g_strndup (text, length);
  g_ptr_array_add (chunks, last);
}

static void
emit_tokens (GPtrArray *chunks, TakesDiffOp op, GArray *tokens, guint from, guint to)
{
  for (guint i = from; i < to; i++)
    {
      const Token *t = &g_array_index (tokens, Token, i);

      emit (chunks, op, t->text, t->length);
    }
}

/* "the{+ deep+} snow" and "the {+deep +}snow" are the same edit; the second
 * reads as a word added, so a lone change that starts with the spaces its
 * follower starts with slides right over them (never emptying the follower). */
static void
slide_to_words (GPtrArray *chunks)
{
  for (guint i = 1; i + 1 < chunks->len; i++)
    {
      TakesDiffChunk *prev = g_ptr_array_index (chunks, i - 1);
      TakesDiffChunk *change = g_ptr_array_index (chunks, i);
      TakesDiffChunk *next = g_ptr_array_index (chunks, i + 1);
      gsize w = 0;
      char *moved;

      if (prev->op != TAKES_DIFF_EQUAL || next->op != TAKES_DIFF_EQUAL || change->op == TAKES_DIFF_EQUAL)
        continue;
      while (g_ascii_isspace (change->text[w]))
        w++;
      if (w == 0 || change->text[w] == '\0' || strncmp (change->text, next->text, w) != 0
          || next->text[w] == '\0')
        continue;
      moved = g_strdup_printf ("%s%.*s", prev->text, (int)w, change->text);
      g_free (prev->text);
      prev->text = moved;
      moved = g_strdup_printf ("%s%.*s", change->text + w, (int)w, change->text);
      g_free (change->text);
      change->text = moved;
      moved = g_strdup (next->text + w);
      g_free (next->text);
      next->text = moved;
    }
}

/* Turns runs like EQUAL(" ") between two changes into part of the change,
 * and orders each change as all deletions, then all insertions. */
static GPtrArray *
tidy (GPtrArray *raw)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_diff_chunk_free);
  g_autoptr (GString) deleted = g_string_new (NULL);
  g_autoptr (GString) inserted = g_string_new (NULL);

  for (guint i = 0; i < raw->len; i++)
    {
      TakesDiffChunk *c = g_ptr_array_index (raw, i);
      gboolean blank = TRUE;

      for (const char *p = c->text; *p != '\0'; p = g_utf8_next_char (p))
        if (!g_unichar_isspace (g_utf8_get_char (p)))
          blank = FALSE;
      if (c->op == TAKES_DIFF_EQUAL && blank && (deleted->len > 0 || inserted->len > 0) && i + 1 < raw->len)
        {
          g_string_append (deleted, c->text);
          g_string_append (inserted, c->text);
          continue;
        }
      if (c->op == TAKES_DIFF_DELETE)
        g_string_append (deleted, c->text);
      else if (c->op == TAKES_DIFF_INSERT)
        g_string_append (inserted, c->text);
      else
        {
          emit (out, TAKES_DIFF_DELETE, deleted->str, deleted->len);
          emit (out, TAKES_DIFF_INSERT, inserted->str, inserted->len);
          g_string_truncate (deleted, 0);
          g_string_truncate (inserted, 0);
          emit (out, TAKES_DIFF_EQUAL, c->text, strlen (c->text));
        }
    }
  emit (out, TAKES_DIFF_DELETE, deleted->str, deleted->len);
  emit (out, TAKES_DIFF_INSERT, inserted->str, inserted->len);
  slide_to_words (out);
  return out;
}

GPtrArray *
takes_prompt_diff (const char *before, const char *after)
{
  g_autofree char *a_text = g_utf8_make_valid (before != NULL ? before : "", -1);
  g_autofree char *b_text = g_utf8_make_valid (after != NULL ? after : "", -1);
  g_autoptr (GArray) a = tokenize (a_text);
  g_autoptr (GArray) b = tokenize (b_text);
  g_autoptr (GPtrArray) raw = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_diff_chunk_free);
  guint head = 0;
  guint tail = 0;
  guint n;
  guint m;

  while (head < a->len && head < b->len
         && token_equal (&g_array_index (a, Token, head), &g_array_index (b, Token, head)))
    head++;
  while (tail < a->len - head && tail < b->len - head
         && token_equal (&g_array_index (a, Token, a->len - 1 - tail),
                         &g_array_index (b, Token, b->len - 1 - tail)))
    tail++;
  n = a->len - head - tail;
  m = b->len - head - tail;

  emit_tokens (raw, TAKES_DIFF_EQUAL, a, 0, head);
  if ((guint64)(n + 1) * (m + 1) > MAX_TABLE_CELLS)
    {
      emit_tokens (raw, TAKES_DIFF_DELETE, a, head, head + n);
      emit_tokens (raw, TAKES_DIFF_INSERT, b, head, head + m);
    }
  else
    {
      /* lcs[i][j]: common length of a[head+i…] and b[head+j…]. */
      g_autofree guint32 *lcs = g_new0 (guint32, (gsize)(n + 1) * (m + 1));
      guint i = 0;
      guint j = 0;

#define LCS(x, y) lcs[(gsize)(x) * (m + 1) + (y)]
      for (guint x = n; x-- > 0;)
        for (guint y = m; y-- > 0;)
          {
            if (token_equal (&g_array_index (a, Token, head + x), &g_array_index (b, Token, head + y)))
              LCS (x, y) = LCS (x + 1, y + 1) + 1;
            else
              LCS (x, y) = MAX (LCS (x + 1, y), LCS (x, y + 1));
          }
      while (i < n && j < m)
        {
          if (token_equal (&g_array_index (a, Token, head + i), &g_array_index (b, Token, head + j)))
            {
              emit_tokens (raw, TAKES_DIFF_EQUAL, a, head + i, head + i + 1);
              i++;
              j++;
            }
          else if (LCS (i + 1, j) >= LCS (i, j + 1))
            {
              emit_tokens (raw, TAKES_DIFF_DELETE, a, head + i, head + i + 1);
              i++;
            }
          else
            {
              emit_tokens (raw, TAKES_DIFF_INSERT, b, head + j, head + j + 1);
              j++;
            }
        }
#undef LCS
      emit_tokens (raw, TAKES_DIFF_DELETE, a, head + i, head + n);
      emit_tokens (raw, TAKES_DIFF_INSERT, b, head + j, head + m);
    }
  emit_tokens (raw, TAKES_DIFF_EQUAL, a, a->len - tail, a->len);
  return tidy (raw);
}

char *
takes_prompt_diff_format (GPtrArray *chunks)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < chunks->len; i++)
    {
      const TakesDiffChunk *c = g_ptr_array_index (chunks, i);

      if (c->op == TAKES_DIFF_DELETE)
        g_string_append_printf (out, "[-%s-]", c->text);
      else if (c->op == TAKES_DIFF_INSERT)
        g_string_append_printf (out, "{+%s+}", c->text);
      else
        g_string_append (out, c->text);
    }
  return g_string_free (out, FALSE);
}
