/* umt5-tokenizer.c: the umT5 SentencePiece Unigram tokenizer.
 *
 * It follows what the Hugging Face fast tokenizer does with the same files,
 * since the official pipeline tokenizes through it: added tokens are split
 * off first, each remaining segment is normalized (the SentencePiece
 * precompiled character map, Replace, Strip, NFKC, …), split by the Metaspace
 * pre-tokenizer into words that start with "▁", and each word is segmented by
 * Viterbi over the piece scores, consecutive unknown characters fusing into
 * one unknown token (or bytes, with byte fallback).
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "takes-engine-private.h"
#include "umt5-text.h"

#define METASPACE "\xe2\x96\x81" /* ▁ U+2581 */
/* What SentencePiece subtracts from the lowest piece score for an unknown. */
#define UNK_PENALTY 10.0

typedef enum
{
  NORM_PRECOMPILED,
  NORM_REPLACE,
  NORM_STRIP,
  NORM_NFC,
  NORM_NFD,
  NORM_NFKC,
  NORM_NFKD,
  NORM_LOWERCASE,
  NORM_PREPEND,
  NORM_COLLAPSE_SPACES, /* SentencePiece's remove_extra_whitespaces */
} NormKind;

typedef struct
{
  NormKind kind;
  char *pattern; /* literal pattern, or NULL with regex */
  GRegex *regex;
  char *content;
  gboolean left;
  gboolean right;
} NormStep;

typedef enum
{
  PRE_METASPACE,
  PRE_WHITESPACE_SPLIT,
} PreKind;

typedef enum
{
  PREPEND_NEVER,
  PREPEND_FIRST,
  PREPEND_ALWAYS,
} Prepend;

typedef struct
{
  PreKind kind;
  char *replacement;
  Prepend prepend;
  gboolean split;
} PreStep;

typedef struct
{
  char *content;
  gsize length;
  gint32 id;
  gboolean lstrip;
  gboolean rstrip;
} AddedToken;

struct _Umt5Tokenizer
{
  guint n_pieces;
  char **pieces;
  double *scores;
  GHashTable *piece_ids; /* piece → id + 1 */
  gint32 unk_id;
  gint32 eos_id;
  gint32 pad_id;
  gboolean byte_fallback;
  gint32 byte_ids[256];
  double unk_score;

  /* The pieces as a byte trie: node 0 is the root; the children of node n
   * are child_byte/child_node[first[n] .. first[n] + count[n]), by byte. */
  guint n_nodes;
  guint32 *first;
  guint16 *count;
  guint8 *child_byte;
  guint32 *child_node;
  gint32 *node_piece;

  GPtrArray *norm;
  GPtrArray *pre;
  GPtrArray *added; /* AddedToken, longest first */
  GPtrArray *added_by_byte[256];

  /* The precompiled character map: a Darts double-array trie over UTF-8
   * and the replacement strings it points into. */
  guint8 *charsmap;
  const guint8 *charsmap_units;
  gsize n_charsmap_units;
  const char *charsmap_strings;
  gsize charsmap_strings_len;

  GArray *prefix_ids;
  GArray *suffix_ids;
};

static void
norm_step_free (NormStep *step)
{
  g_free (step->pattern);
  g_clear_pointer (&step->regex, g_regex_unref);
  g_free (step->content);
  g_free (step);
}

static void
pre_step_free (PreStep *step)
{
  g_free (step->replacement);
  g_free (step);
}

static void
added_token_free (AddedToken *token)
{
  g_free (token->content);
  g_free (token);
}

static Umt5Tokenizer *
tokenizer_new (void)
{
  Umt5Tokenizer *tok = g_new0 (Umt5Tokenizer, 1);

  tok->piece_ids = g_hash_table_new (g_str_hash, g_str_equal);
  tok->norm = g_ptr_array_new_with_free_func ((GDestroyNotify)norm_step_free);
  tok->pre = g_ptr_array_new_with_free_func ((GDestroyNotify)pre_step_free);
  tok->added = g_ptr_array_new_with_free_func ((GDestroyNotify)added_token_free);
  tok->prefix_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  tok->suffix_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  tok->unk_id = -1;
  tok->eos_id = -1;
  tok->pad_id = -1;
  for (int i = 0; i < 256; i++)
    tok->byte_ids[i] = -1;
  return tok;
}

void
umt5_tokenizer_free (Umt5Tokenizer *tok)
{
  if (tok == NULL)
    return;
  for (guint i = 0; i < tok->n_pieces && tok->pieces != NULL; i++)
    g_free (tok->pieces[i]);
  g_free (tok->pieces);
  g_free (tok->scores);
  g_hash_table_unref (tok->piece_ids);
  g_free (tok->first);
  g_free (tok->count);
  g_free (tok->child_byte);
  g_free (tok->child_node);
  g_free (tok->node_piece);
  g_ptr_array_unref (tok->norm);
  g_ptr_array_unref (tok->pre);
  for (int i = 0; i < 256; i++)
    if (tok->added_by_byte[i] != NULL)
      g_ptr_array_unref (tok->added_by_byte[i]);
  g_ptr_array_unref (tok->added);
  g_free (tok->charsmap);
  g_array_unref (tok->prefix_ids);
  g_array_unref (tok->suffix_ids);
  g_free (tok);
}

guint
umt5_tokenizer_get_vocab_size (const Umt5Tokenizer *tok)
{
  return tok->n_pieces;
}

gint32
umt5_tokenizer_get_pad_id (const Umt5Tokenizer *tok)
{
  return tok->pad_id;
}

gint32
umt5_tokenizer_get_eos_id (const Umt5Tokenizer *tok)
{
  return tok->eos_id;
}

gint32
umt5_tokenizer_get_unk_id (const Umt5Tokenizer *tok)
{
  return tok->unk_id;
}

const char *
umt5_tokenizer_get_piece (const Umt5Tokenizer *tok, gint32 id)
{
  if (id < 0 || (guint)id >= tok->n_pieces)
    return NULL;
  return tok->pieces[id];
}

static gint32
piece_id (const Umt5Tokenizer *tok, const char *piece)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (tok->piece_ids, piece)) - 1;
}

static void G_GNUC_PRINTF (3, 4) set_bad_file (GError **error, const char *file, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (
      error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
      _ ("The tokenizer “%s” cannot be used: %s. Download tokenizer.json from google/umt5-xxl again."), file,
      detail);
}

/* The vocabulary and its trie */

typedef struct
{
  const char *piece;
  gint32 id;
} SortedPiece;

static int
compare_sorted_piece (const void *a, const void *b)
{
  const SortedPiece *pa = a, *pb = b;
  int c = strcmp (pa->piece, pb->piece);

  if (c != 0)
    return c;
  return pa->id < pb->id ? -1 : pa->id > pb->id;
}

static gboolean
build_vocab (Umt5Tokenizer *tok, const char *file, GError **error)
{
  g_autofree SortedPiece *sorted = g_new (SortedPiece, MAX (tok->n_pieces, 1));
  g_autofree guint32 *parent = NULL;
  g_autofree guint8 *byte = NULL;
  guint32 path[1024];
  gsize capacity = 1024, n_nodes = 1;
  gsize prev_len = 0;
  const char *prev = "";
  double min_score = 0.0;
  guint n_sorted = 0;

  if (tok->n_pieces == 0)
    {
      set_bad_file (error, file, _ ("its vocabulary is empty"));
      return FALSE;
    }
  for (guint i = 0; i < tok->n_pieces; i++)
    {
      const char *piece = tok->pieces[i];
      gsize len = strlen (piece);

      if (!isfinite (tok->scores[i]))
        {
          set_bad_file (error, file, _ ("the piece “%s” has a score that is not a number"), piece);
          return FALSE;
        }
      min_score = i == 0 ? tok->scores[i] : MIN (min_score, tok->scores[i]);
      g_hash_table_insert (tok->piece_ids, (gpointer)piece, GINT_TO_POINTER ((gint)i + 1));
      if (len == 6 && g_str_has_prefix (piece, "<0x") && piece[5] == '>' && g_ascii_isxdigit (piece[3])
          && g_ascii_isxdigit (piece[4]))
        tok->byte_ids[g_ascii_xdigit_value (piece[3]) * 16 + g_ascii_xdigit_value (piece[4])] = (gint32)i;
      if (len == 0)
        continue;
      if (len >= G_N_ELEMENTS (path))
        {
          set_bad_file (error, file, _ ("a piece is longer than %u bytes"), (guint)G_N_ELEMENTS (path) - 1);
          return FALSE;
        }
      sorted[n_sorted].piece = piece;
      sorted[n_sorted].id = (gint32)i;
      n_sorted++;
    }
  tok->unk_score = min_score - UNK_PENALTY;
  qsort (sorted, n_sorted, sizeof (SortedPiece), compare_sorted_piece);

  /* Sorted input creates each node's children in byte order, node by node
   * along the current path. */
  parent = g_new (guint32, capacity);
  byte = g_new (guint8, capacity);
  tok->node_piece = g_new (gint32, capacity);
  tok->node_piece[0] = -1;
  path[0] = 0;
  for (guint i = 0; i < n_sorted; i++)
    {
      const char *piece = sorted[i].piece;
      gsize len = strlen (piece), lcp = 0;

      while (lcp < len && lcp < prev_len && piece[lcp] == prev[lcp])
        lcp++;
      for (gsize k = lcp; k < len; k++)
        {
          if (n_nodes == capacity)
            {
              capacity *= 2;
              parent = g_renew (guint32, parent, capacity);
              byte = g_renew (guint8, byte, capacity);
              tok->node_piece = g_renew (gint32, tok->node_piece, capacity);
            }
          parent[n_nodes] = path[k];
          byte[n_nodes] = (guint8)piece[k];
          tok->node_piece[n_nodes] = -1;
          path[k + 1] = (guint32)n_nodes++;
        }
      tok->node_piece[path[len]] = sorted[i].id;
      prev = piece;
      prev_len = len;
    }

  tok->n_nodes = (guint)n_nodes;
  tok->first = g_new0 (guint32, n_nodes);
  tok->count = g_new0 (guint16, n_nodes);
  tok->child_byte = g_new (guint8, n_nodes);
  tok->child_node = g_new (guint32, n_nodes);
  for (gsize n = 1; n < n_nodes; n++)
    tok->count[parent[n]]++;
  {
    guint32 next = 0;

    for (gsize n = 0; n < n_nodes; n++)
      {
        tok->first[n] = next;
        next += tok->count[n];
      }
  }
  {
    g_autofree guint16 *filled = g_new0 (guint16, n_nodes);

    for (gsize n = 1; n < n_nodes; n++)
      {
        guint32 slot = tok->first[parent[n]] + filled[parent[n]]++;

        tok->child_byte[slot] = byte[n];
        tok->child_node[slot] = (guint32)n;
      }
  }
  return TRUE;
}

static gint64
trie_child (const Umt5Tokenizer *tok, guint32 node, guint8 b)
{
  guint32 lo = tok->first[node], hi = lo + tok->count[node];

  while (lo < hi)
    {
      guint32 mid = lo + (hi - lo) / 2;

      if (tok->child_byte[mid] == b)
        return tok->child_node[mid];
      if (tok->child_byte[mid] < b)
        lo = mid + 1;
      else
        hi = mid;
    }
  return -1;
}

/* The precompiled character map */

static gboolean
set_charsmap (Umt5Tokenizer *tok, const guint8 *blob, gsize length, const char *file, GError **error)
{
  guint32 trie_size;

  if (length == 0)
    return TRUE;
  if (length < 4)
    {
      set_bad_file (error, file, _ ("its precompiled character map is truncated"));
      return FALSE;
    }
  trie_size
      = (guint32)blob[0] | ((guint32)blob[1] << 8) | ((guint32)blob[2] << 16) | ((guint32)blob[3] << 24);
  if (trie_size % 4 != 0 || trie_size > length - 4 || trie_size == 0)
    {
      set_bad_file (error, file, _ ("its precompiled character map is malformed"));
      return FALSE;
    }
  tok->charsmap = g_memdup2 (blob, length);
  tok->charsmap_units = tok->charsmap + 4;
  tok->n_charsmap_units = trie_size / 4;
  tok->charsmap_strings = (const char *)tok->charsmap + 4 + trie_size;
  tok->charsmap_strings_len = length - 4 - trie_size;
  {
    NormStep *step = g_new0 (NormStep, 1);
    step->kind = NORM_PRECOMPILED;
    g_ptr_array_add (tok->norm, step);
  }
  return TRUE;
}

static guint32
charsmap_unit (const Umt5Tokenizer *tok, gsize pos)
{
  const guint8 *u = tok->charsmap_units + 4 * pos;

  return (guint32)u[0] | ((guint32)u[1] << 8) | ((guint32)u[2] << 16) | ((guint32)u[3] << 24);
}

/* Darts-clone common prefix search, first (shortest) hit, as the Hugging Face
 * Precompiled normalizer uses it. Returns the replacement, or NULL. */
static const char *
charsmap_transform (const Umt5Tokenizer *tok, const char *chunk, gsize length, gsize *out_len)
{
  gsize node = 0;
  guint32 unit = charsmap_unit (tok, 0);

  node ^= (unit >> 10) << ((unit & (1u << 9)) >> 6);
  for (gsize i = 0; i < length; i++)
    {
      guint8 c = (guint8)chunk[i];

      if (c == 0)
        return NULL;
      node ^= c;
      if (node >= tok->n_charsmap_units)
        return NULL;
      unit = charsmap_unit (tok, node);
      if ((unit & ((1u << 31) | 0xFF)) != c)
        return NULL;
      node ^= (unit >> 10) << ((unit & (1u << 9)) >> 6);
      if (node >= tok->n_charsmap_units)
        return NULL;
      if ((unit >> 8) & 1)
        {
          gsize index = charsmap_unit (tok, node) & 0x7FFFFFFFu;
          const char *s;
          const char *nul;

          if (index >= tok->charsmap_strings_len)
            return NULL;
          s = tok->charsmap_strings + index;
          nul = memchr (s, '\0', tok->charsmap_strings_len - index);
          *out_len = nul != NULL ? (gsize)(nul - s) : tok->charsmap_strings_len - index;
          return s;
        }
    }
  return NULL;
}

/* The end of the user-perceived character at @p: a base character and the
 * marks, joiners and modifiers that extend it. */
static const char *
grapheme_end (const char *p)
{
  gunichar c = g_utf8_get_char (p);
  const char *q = g_utf8_next_char (p);

  if (c == '\r' && *q == '\n')
    return q + 1;
  while (*q)
    {
      gunichar n = g_utf8_get_char (q);

      if (g_unichar_ismark (n) || (n >= 0x1F3FB && n <= 0x1F3FF) || n == 0x200D)
        {
          gboolean zwj = n == 0x200D;

          q = g_utf8_next_char (q);
          if (zwj && *q)
            q = g_utf8_next_char (q);
          continue;
        }
      break;
    }
  return q;
}

static char *
apply_charsmap (const Umt5Tokenizer *tok, const char *text)
{
  GString *out = g_string_sized_new (strlen (text));
  const char *p = text;

  while (*p)
    {
      const char *end = grapheme_end (p);
      const char *r;
      gsize rlen = 0;

      if (end - p < 6 && (r = charsmap_transform (tok, p, (gsize)(end - p), &rlen)) != NULL)
        {
          g_string_append_len (out, r, (gssize)rlen);
          p = end;
          continue;
        }
      while (p < end)
        {
          const char *next = g_utf8_next_char (p);

          if ((r = charsmap_transform (tok, p, (gsize)(next - p), &rlen)) != NULL)
            g_string_append_len (out, r, (gssize)rlen);
          else
            g_string_append_len (out, p, next - p);
          p = next;
        }
    }
  return g_string_free (out, FALSE);
}

/* Normalization */

static gboolean
is_unicode_whitespace (gunichar c)
{
  return umt5_py_isspace (c) && !(c >= 0x1C && c <= 0x1F);
}

static char *
strip (const char *text, gboolean left, gboolean right)
{
  const char *start = text;
  const char *end = text + strlen (text);

  while (left && *start && is_unicode_whitespace (g_utf8_get_char (start)))
    start = g_utf8_next_char (start);
  while (right && end > start)
    {
      const char *prev = g_utf8_prev_char (end);

      if (!is_unicode_whitespace (g_utf8_get_char (prev)))
        break;
      end = prev;
    }
  return g_strndup (start, (gsize)(end - start));
}

static char *
collapse_spaces (const char *text)
{
  GString *out = g_string_new (NULL);
  gboolean space = TRUE;

  for (const char *p = text; *p; p++)
    {
      if (*p == ' ')
        {
          if (!space)
            g_string_append_c (out, ' ');
          space = TRUE;
          continue;
        }
      space = FALSE;
      g_string_append_c (out, *p);
    }
  if (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

static char *
normalize (const Umt5Tokenizer *tok, const char *text)
{
  char *current = g_strdup (text);

  for (guint i = 0; i < tok->norm->len; i++)
    {
      const NormStep *step = g_ptr_array_index (tok->norm, i);
      char *next = NULL;

      switch (step->kind)
        {
          case NORM_PRECOMPILED:
            next = apply_charsmap (tok, current);
            break;
          case NORM_REPLACE:
            if (step->regex != NULL)
              next = g_regex_replace_literal (step->regex, current, -1, 0, step->content, 0, NULL);
            else if (*step->pattern != '\0')
              {
                g_auto (GStrv) parts = g_strsplit (current, step->pattern, -1);
                next = g_strjoinv (step->content, parts);
              }
            break;
          case NORM_STRIP:
            next = strip (current, step->left, step->right);
            break;
          case NORM_NFC:
          case NORM_NFD:
          case NORM_NFKC:
          case NORM_NFKD:
            next = g_utf8_normalize (current, -1,
                                     step->kind == NORM_NFC    ? G_NORMALIZE_NFC
                                     : step->kind == NORM_NFD  ? G_NORMALIZE_NFD
                                     : step->kind == NORM_NFKC ? G_NORMALIZE_NFKC
                                                               : G_NORMALIZE_NFKD);
            break;
          case NORM_LOWERCASE:
            next = g_utf8_strdown (current, -1);
            break;
          case NORM_PREPEND:
            next = *current != '\0' ? g_strconcat (step->content, current, NULL) : NULL;
            break;
          case NORM_COLLAPSE_SPACES:
            next = collapse_spaces (current);
            break;
          default:
            break;
        }
      if (next != NULL)
        {
          g_free (current);
          current = next;
        }
    }
  return current;
}

/* Pre-tokenization into words. */

static GPtrArray *
pre_tokenize (const Umt5Tokenizer *tok, const char *text, gboolean first_segment)
{
  GPtrArray *words = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (words, g_strdup (text));
  for (guint s = 0; s < tok->pre->len; s++)
    {
      const PreStep *step = g_ptr_array_index (tok->pre, s);
      GPtrArray *next = g_ptr_array_new_with_free_func (g_free);

      for (guint w = 0; w < words->len; w++)
        {
          const char *word = g_ptr_array_index (words, w);

          if (step->kind == PRE_WHITESPACE_SPLIT)
            {
              const char *p = word;

              while (*p)
                {
                  const char *start;

                  while (*p && is_unicode_whitespace (g_utf8_get_char (p)))
                    p = g_utf8_next_char (p);
                  start = p;
                  while (*p && !is_unicode_whitespace (g_utf8_get_char (p)))
                    p = g_utf8_next_char (p);
                  if (p > start)
                    g_ptr_array_add (next, g_strndup (start, (gsize)(p - start)));
                }
              continue;
            }
          {
            g_auto (GStrv) parts = g_strsplit (word, " ", -1);
            g_autofree char *replaced = g_strjoinv (step->replacement, parts);
            g_autofree char *prefixed = NULL;
            const char *r = step->replacement;
            gsize rlen = strlen (r);
            const char *p;

            if ((step->prepend == PREPEND_ALWAYS
                 || (step->prepend == PREPEND_FIRST && first_segment && w == 0))
                && !g_str_has_prefix (replaced, r))
              prefixed = g_strconcat (r, replaced, NULL);
            else
              prefixed = g_strdup (replaced);
            if (!step->split || rlen == 0)
              {
                if (*prefixed)
                  g_ptr_array_add (next, g_steal_pointer (&prefixed));
                continue;
              }
            /* Each replacement character starts a new word. */
            p = prefixed;
            while (*p)
              {
                const char *start = p;
                const char *found = strstr (p + (g_str_has_prefix (p, r) ? rlen : 0), r);

                p = found != NULL ? found : p + strlen (p);
                g_ptr_array_add (next, g_strndup (start, (gsize)(p - start)));
              }
          }
        }
      g_ptr_array_unref (words);
      words = next;
    }
  return words;
}

/* The Unigram model */

typedef struct
{
  double score;
  gint32 start; /* -1 until reached */
  gint32 id;
} Node;

static void
append_id (GArray *ids, gint32 id)
{
  g_array_append_val (ids, id);
}

static void
emit_unknown (const Umt5Tokenizer *tok, const char *bytes, gsize length, GArray *ids)
{
  if (tok->byte_fallback)
    {
      gboolean all = TRUE;

      for (gsize i = 0; i < length && all; i++)
        all = tok->byte_ids[(guint8)bytes[i]] >= 0;
      if (all)
        {
          for (gsize i = 0; i < length; i++)
            append_id (ids, tok->byte_ids[(guint8)bytes[i]]);
          return;
        }
    }
  append_id (ids, tok->unk_id);
}

static void
viterbi (const Umt5Tokenizer *tok, const char *word, GArray *ids)
{
  gsize len = strlen (word);
  g_autofree Node *best = g_new (Node, len + 1);
  g_autoptr (GArray) path = g_array_new (FALSE, FALSE, sizeof (gint32));
  gsize pos = 0;

  for (gsize i = 0; i <= len; i++)
    {
      best[i].score = 0.0;
      best[i].start = -1;
      best[i].id = -1;
    }
  best[0].start = 0;
  while (pos < len)
    {
      gsize char_len = (gsize)(g_utf8_next_char (word + pos) - (word + pos));
      double here = best[pos].score;
      gboolean single = FALSE;
      guint32 node = 0;

      for (gsize k = pos; k < len; k++)
        {
          gint64 child = trie_child (tok, node, (guint8)word[k]);
          gint32 id;

          if (child < 0)
            break;
          node = (guint32)child;
          id = tok->node_piece[node];
          if (id >= 0)
            {
              gsize end = k + 1;
              double candidate = here + tok->scores[id];

              if (best[end].start < 0 || candidate > best[end].score)
                {
                  best[end].score = candidate;
                  best[end].start = (gint32)pos;
                  best[end].id = id;
                }
              if (end - pos == char_len)
                single = TRUE;
            }
        }
      if (!single)
        {
          gsize end = pos + char_len;
          double candidate = here + tok->unk_score;

          if (best[end].start < 0 || candidate > best[end].score)
            {
              best[end].score = candidate;
              best[end].start = (gint32)pos;
              best[end].id = tok->unk_id;
            }
        }
      pos += char_len;
    }

  /* Walks back from the end; unknown runs fuse into one token. */
  for (gsize end = len; end > 0;)
    {
      gint32 start = best[end].start;

      g_array_append_val (path, end);
      end = (gsize)start;
    }
  {
    gsize start = 0;

    for (guint i = path->len; i-- > 0;)
      {
        gsize end = (gsize)g_array_index (path, gint32, i);
        gint32 id = best[end].id;

        if (id == tok->unk_id)
          {
            gsize run_start = start;

            while (i > 0 && best[(gsize)g_array_index (path, gint32, i - 1)].id == tok->unk_id)
              end = (gsize)g_array_index (path, gint32, --i);
            {
              g_autofree char *run = g_strndup (word + run_start, end - run_start);
              gint32 known = piece_id (tok, run);

              if (known >= 0)
                append_id (ids, known);
              else
                emit_unknown (tok, run, end - run_start, ids);
            }
          }
        else
          append_id (ids, id);
        start = end;
      }
  }
}

/* Added tokens split the input before anything else. */
static const AddedToken *
match_added (const Umt5Tokenizer *tok, const char *p)
{
  GPtrArray *candidates = tok->added_by_byte[(guint8)*p];

  if (candidates == NULL)
    return NULL;
  for (guint i = 0; i < candidates->len; i++)
    {
      const AddedToken *t = g_ptr_array_index (candidates, i);

      if (strncmp (p, t->content, t->length) == 0)
        return t;
    }
  return NULL;
}

static void
tokenize_segment (const Umt5Tokenizer *tok, const char *segment, gboolean first, GArray *ids)
{
  g_autofree char *normalized = normalize (tok, segment);
  g_autoptr (GPtrArray) words = pre_tokenize (tok, normalized, first);

  for (guint i = 0; i < words->len; i++)
    viterbi (tok, g_ptr_array_index (words, i), ids);
}

GArray *
umt5_tokenizer_tokenize (const Umt5Tokenizer *tok, const char *text, GError **error)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  const char *p = text;
  const char *segment = text;
  gboolean first = TRUE;

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The prompt is not valid UTF-8 text. Retype it or save it as UTF-8."));
      g_array_unref (ids);
      return NULL;
    }
  while (*p)
    {
      const AddedToken *t = match_added (tok, p);
      const char *seg_end, *next;

      if (t == NULL)
        {
          p = g_utf8_next_char (p);
          continue;
        }
      seg_end = p;
      next = p + t->length;
      if (t->lstrip)
        while (seg_end > segment && is_unicode_whitespace (g_utf8_get_char (g_utf8_prev_char (seg_end))))
          seg_end = g_utf8_prev_char (seg_end);
      if (t->rstrip)
        while (*next && is_unicode_whitespace (g_utf8_get_char (next)))
          next = g_utf8_next_char (next);
      if (seg_end > segment)
        {
          g_autofree char *part = g_strndup (segment, (gsize)(seg_end - segment));
          tokenize_segment (tok, part, first, ids);
        }
      append_id (ids, t->id);
      first = FALSE;
      segment = p = next;
    }
  if (*segment)
    tokenize_segment (tok, segment, first, ids);
  return ids;
}

char *
umt5_clean_text (const char *text)
{
  g_autofree char *fixed = umt5_fix_text (text);
  g_autofree char *once = umt5_html_unescape (fixed);
  g_autofree char *twice = umt5_html_unescape (once);
  GString *out = g_string_sized_new (strlen (twice));
  gboolean pending_space = FALSE;

  for (const char *p = twice; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (umt5_py_isspace (c))
        {
          pending_space = out->len > 0;
          continue;
        }
      if (pending_space)
        g_string_append_c (out, ' ');
      pending_space = FALSE;
      g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

gboolean
umt5_tokenizer_encode (const Umt5Tokenizer *tok,
                       const char *text,
                       guint max_len,
                       gint32 *ids,
                       gint32 *mask,
                       guint *n_valid,
                       GError **error)
{
  g_autofree char *clean = NULL;
  g_autoptr (GArray) body = NULL;
  guint n_special = tok->prefix_ids->len + tok->suffix_ids->len;
  guint n_body, n = 0;

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The prompt is not valid UTF-8 text. Retype it or save it as UTF-8."));
      return FALSE;
    }
  if (max_len <= n_special)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("A text length of %u tokens leaves no room for the prompt."), max_len);
      return FALSE;
    }
  clean = umt5_clean_text (text);
  body = umt5_tokenizer_tokenize (tok, clean, error);
  if (body == NULL)
    return FALSE;
  n_body = MIN (body->len, max_len - n_special);
  if (body->len > n_body)
    takes_engine_log (TAKES_ENGINE_LOG_INFO, "The prompt has %u tokens; the last %u are cut to fit %u.",
                      body->len, body->len - n_body, max_len);
  for (guint i = 0; i < tok->prefix_ids->len; i++)
    ids[n++] = g_array_index (tok->prefix_ids, gint32, i);
  for (guint i = 0; i < n_body; i++)
    ids[n++] = g_array_index (body, gint32, i);
  for (guint i = 0; i < tok->suffix_ids->len; i++)
    ids[n++] = g_array_index (tok->suffix_ids, gint32, i);
  for (guint i = 0; i < max_len; i++)
    {
      mask[i] = i < n;
      if (i >= n)
        ids[i] = tok->pad_id >= 0 ? tok->pad_id : 0;
    }
  *n_valid = n;
  return TRUE;
}

/* Finishing a load */

static int
compare_added_length (gconstpointer a, gconstpointer b)
{
  const AddedToken *ta = *(const AddedToken *const *)a;
  const AddedToken *tb = *(const AddedToken *const *)b;

  return ta->length > tb->length ? -1 : ta->length < tb->length;
}

static void
add_added_token (Umt5Tokenizer *tok, const char *content, gint32 id, gboolean lstrip, gboolean rstrip)
{
  AddedToken *t;

  if (*content == '\0' || id < 0)
    return;
  for (guint i = 0; i < tok->added->len; i++)
    if (g_str_equal (((AddedToken *)g_ptr_array_index (tok->added, i))->content, content))
      return;
  t = g_new0 (AddedToken, 1);
  t->content = g_strdup (content);
  t->length = strlen (content);
  t->id = id;
  t->lstrip = lstrip;
  t->rstrip = rstrip;
  g_ptr_array_add (tok->added, t);
}

static gboolean
finish_vocab (Umt5Tokenizer *tok, const char *file, GError **error)
{
  if (!build_vocab (tok, file, error))
    return FALSE;
  if (tok->unk_id < 0 || (guint)tok->unk_id >= tok->n_pieces)
    tok->unk_id = piece_id (tok, "<unk>");
  if (tok->unk_id < 0)
    {
      set_bad_file (error, file, _ ("it names no unknown-token piece"));
      return FALSE;
    }
  if (tok->eos_id < 0 || (guint)tok->eos_id >= tok->n_pieces)
    tok->eos_id = piece_id (tok, "</s>");
  if (tok->eos_id < 0)
    {
      set_bad_file (error, file, _ ("it has no end-of-sequence piece “</s>”"));
      return FALSE;
    }
  if (tok->pad_id < 0 || (guint)tok->pad_id >= tok->n_pieces)
    tok->pad_id = piece_id (tok, "<pad>");
  if (tok->pad_id < 0)
    tok->pad_id = 0;
  return TRUE;
}

static void
index_added (Umt5Tokenizer *tok)
{
  g_ptr_array_sort (tok->added, compare_added_length);
  for (guint i = 0; i < tok->added->len; i++)
    {
      AddedToken *t = g_ptr_array_index (tok->added, i);
      guint8 b = (guint8)t->content[0];

      if (tok->added_by_byte[b] == NULL)
        tok->added_by_byte[b] = g_ptr_array_new ();
      g_ptr_array_add (tok->added_by_byte[b], t);
    }
}

/* tokenizer.json */

static const char *
member_string (JsonObject *obj, const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  return node != NULL && json_node_get_value_type (node) == G_TYPE_STRING ? json_node_get_string (node)
                                                                          : NULL;
}

static gboolean
member_bool (JsonObject *obj, const char *name, gboolean fallback)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  return node != NULL && json_node_get_value_type (node) == G_TYPE_BOOLEAN ? json_node_get_boolean (node)
                                                                           : fallback;
}

static JsonObject *
member_object (JsonObject *obj, const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
member_array (JsonObject *obj, const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static gboolean
parse_normalizer (Umt5Tokenizer *tok, JsonObject *obj, const char *file, int depth, GError **error)
{
  const char *type;
  NormStep *step;

  if (obj == NULL)
    return TRUE;
  type = member_string (obj, "type");
  if (type == NULL || depth > 8)
    {
      set_bad_file (error, file, _ ("a normalizer has no type"));
      return FALSE;
    }
  if (g_str_equal (type, "Sequence"))
    {
      JsonArray *list = member_array (obj, "normalizers");

      for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
        {
          JsonNode *node = json_array_get_element (list, i);

          if (!JSON_NODE_HOLDS_OBJECT (node)
              || !parse_normalizer (tok, json_node_get_object (node), file, depth + 1, error))
            {
              if (error != NULL && *error == NULL)
                set_bad_file (error, file, _ ("a normalizer has no type"));
              return FALSE;
            }
        }
      return TRUE;
    }
  if (g_str_equal (type, "Precompiled"))
    {
      const char *b64 = member_string (obj, "precompiled_charsmap");
      g_autofree guint8 *blob = NULL;
      gsize length = 0;

      if (b64 == NULL || *b64 == '\0')
        return TRUE;
      blob = g_base64_decode (b64, &length);
      return set_charsmap (tok, blob, length, file, error);
    }

  step = g_new0 (NormStep, 1);
  if (g_str_equal (type, "Replace"))
    {
      JsonObject *pattern = member_object (obj, "pattern");
      const char *literal = member_string (pattern, "String");
      const char *regex = member_string (pattern, "Regex");
      const char *content = member_string (obj, "content");

      step->kind = NORM_REPLACE;
      step->content = g_strdup (content != NULL ? content : "");
      if (literal != NULL)
        step->pattern = g_strdup (literal);
      else if (regex != NULL)
        {
          g_autoptr (GError) local_error = NULL;

          step->regex = g_regex_new (regex, G_REGEX_OPTIMIZE, 0, &local_error);
          if (step->regex == NULL)
            {
              set_bad_file (error, file, _ ("its Replace pattern “%s” is not a valid regular expression"),
                            regex);
              norm_step_free (step);
              return FALSE;
            }
        }
      else
        {
          set_bad_file (error, file, _ ("a Replace normalizer has no pattern"));
          norm_step_free (step);
          return FALSE;
        }
    }
  else if (g_str_equal (type, "Strip"))
    {
      step->kind = NORM_STRIP;
      step->left = member_bool (obj, "strip_left", TRUE);
      step->right = member_bool (obj, "strip_right", TRUE);
    }
  else if (g_str_equal (type, "NFC"))
    step->kind = NORM_NFC;
  else if (g_str_equal (type, "NFD"))
    step->kind = NORM_NFD;
  else if (g_str_equal (type, "NFKC"))
    step->kind = NORM_NFKC;
  else if (g_str_equal (type, "NFKD"))
    step->kind = NORM_NFKD;
  else if (g_str_equal (type, "Lowercase"))
    step->kind = NORM_LOWERCASE;
  else if (g_str_equal (type, "Prepend"))
    {
      const char *prepend = member_string (obj, "prepend");

      step->kind = NORM_PREPEND;
      step->content = g_strdup (prepend != NULL ? prepend : "");
    }
  else
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("The tokenizer “%s” uses the normalizer “%s”, which Takes does not implement. Use the "
                      "tokenizer.json of google/umt5-xxl."),
                   file, type);
      norm_step_free (step);
      return FALSE;
    }
  g_ptr_array_add (tok->norm, step);
  return TRUE;
}

static gboolean
parse_pre_tokenizer (Umt5Tokenizer *tok, JsonObject *obj, const char *file, int depth, GError **error)
{
  const char *type;

  if (obj == NULL)
    return TRUE;
  type = member_string (obj, "type");
  if (type == NULL || depth > 8)
    {
      set_bad_file (error, file, _ ("a pre-tokenizer has no type"));
      return FALSE;
    }
  if (g_str_equal (type, "Sequence"))
    {
      JsonArray *list = member_array (obj, "pretokenizers");

      for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
        {
          JsonNode *node = json_array_get_element (list, i);

          if (!JSON_NODE_HOLDS_OBJECT (node))
            {
              set_bad_file (error, file, _ ("a pre-tokenizer has no type"));
              return FALSE;
            }
          if (!parse_pre_tokenizer (tok, json_node_get_object (node), file, depth + 1, error))
            return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (type, "WhitespaceSplit"))
    {
      PreStep *step = g_new0 (PreStep, 1);
      step->kind = PRE_WHITESPACE_SPLIT;
      g_ptr_array_add (tok->pre, step);
      return TRUE;
    }
  if (g_str_equal (type, "Metaspace"))
    {
      PreStep *step = g_new0 (PreStep, 1);
      const char *replacement = member_string (obj, "replacement");
      const char *scheme = member_string (obj, "prepend_scheme");

      step->kind = PRE_METASPACE;
      step->replacement = g_strdup (replacement != NULL ? replacement : METASPACE);
      step->split = member_bool (obj, "split", TRUE);
      if (scheme != NULL)
        step->prepend = g_str_equal (scheme, "first")   ? PREPEND_FIRST
                        : g_str_equal (scheme, "never") ? PREPEND_NEVER
                                                        : PREPEND_ALWAYS;
      else
        step->prepend = member_bool (obj, "add_prefix_space", TRUE) ? PREPEND_ALWAYS : PREPEND_NEVER;
      g_ptr_array_add (tok->pre, step);
      return TRUE;
    }
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
               _ ("The tokenizer “%s” uses the pre-tokenizer “%s”, which Takes does not implement. Use the "
                  "tokenizer.json of google/umt5-xxl."),
               file, type);
  return FALSE;
}

static gboolean
special_ids (JsonObject *special, const char *name, GArray *out)
{
  JsonObject *entry = member_object (special, name);
  JsonArray *ids = member_array (entry, "ids");

  if (ids == NULL || json_array_get_length (ids) == 0)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonNode *node = json_array_get_element (ids, i);
      gint32 id;

      if (json_node_get_value_type (node) != G_TYPE_INT64)
        return FALSE;
      id = (gint32)CLAMP (json_node_get_int (node), -1, G_MAXINT32);
      g_array_append_val (out, id);
    }
  return TRUE;
}

static gboolean
parse_post_processor (Umt5Tokenizer *tok, JsonObject *obj, const char *file, GError **error)
{
  JsonArray *single;
  JsonObject *special;
  gboolean after = FALSE;

  if (obj == NULL || g_strcmp0 (member_string (obj, "type"), "TemplateProcessing") != 0)
    {
      /* T5 tokenizers append EOS even when the file spells no template. */
      g_array_append_val (tok->suffix_ids, tok->eos_id);
      return TRUE;
    }
  single = member_array (obj, "single");
  special = member_object (obj, "special_tokens");
  for (guint i = 0; single != NULL && i < json_array_get_length (single); i++)
    {
      JsonNode *node = json_array_get_element (single, i);
      JsonObject *item = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonObject *token = member_object (item, "SpecialToken");

      if (member_object (item, "Sequence") != NULL)
        {
          after = TRUE;
          continue;
        }
      if (token == NULL || member_string (token, "id") == NULL
          || !special_ids (special, member_string (token, "id"), after ? tok->suffix_ids : tok->prefix_ids))
        {
          set_bad_file (error, file,
                        _ ("its post-processor template names a special token it does not define"));
          return FALSE;
        }
    }
  /* The encoder was trained with EOS closing every prompt, and the official
   * pipeline always adds it; a template that leaves it out still gets it. */
  if (tok->suffix_ids->len == 0)
    g_array_append_val (tok->suffix_ids, tok->eos_id);
  for (guint i = 0; i < tok->prefix_ids->len + tok->suffix_ids->len; i++)
    {
      gint32 id = i < tok->prefix_ids->len
                      ? g_array_index (tok->prefix_ids, gint32, i)
                      : g_array_index (tok->suffix_ids, gint32, i - tok->prefix_ids->len);
      if (id < 0 || (guint)id >= tok->n_pieces)
        {
          set_bad_file (error, file, _ ("its post-processor uses the id %d, outside the vocabulary"), id);
          return FALSE;
        }
    }
  return TRUE;
}

/* Reads the Unigram vocabulary of tokenizer.json. */
static gboolean
parse_model (Umt5Tokenizer *tok, JsonObject *model, const char *file, GError **error)
{
  const char *type = member_string (model, "type");
  JsonArray *vocab = member_array (model, "vocab");
  JsonNode *unk = model != NULL ? json_object_get_member (model, "unk_id") : NULL;
  guint n;

  if (model == NULL)
    {
      set_bad_file (error, file, _ ("it has no model"));
      return FALSE;
    }
  if (type != NULL && !g_str_equal (type, "Unigram"))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("The tokenizer “%s” is a %s tokenizer; umT5 needs the Unigram tokenizer.json of "
                      "google/umt5-xxl."),
                   file, type);
      return FALSE;
    }
  if (vocab == NULL)
    {
      set_bad_file (error, file, _ ("its model has no vocabulary"));
      return FALSE;
    }
  n = json_array_get_length (vocab);
  if (n > 16 * 1024 * 1024)
    {
      set_bad_file (error, file, _ ("its vocabulary has %u pieces, more than any real tokenizer"), n);
      return FALSE;
    }
  tok->pieces = g_new0 (char *, MAX (n, 1));
  tok->scores = g_new0 (double, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (vocab, i);
      JsonArray *pair = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
      JsonNode *piece
          = pair != NULL && json_array_get_length (pair) == 2 ? json_array_get_element (pair, 0) : NULL;
      JsonNode *score
          = pair != NULL && json_array_get_length (pair) == 2 ? json_array_get_element (pair, 1) : NULL;
      GType score_type = score != NULL ? json_node_get_value_type (score) : G_TYPE_INVALID;

      if (piece == NULL || json_node_get_value_type (piece) != G_TYPE_STRING
          || (score_type != G_TYPE_DOUBLE && score_type != G_TYPE_INT64))
        {
          tok->n_pieces = i;
          set_bad_file (error, file, _ ("vocabulary entry %u is not a [piece, score] pair"), i);
          return FALSE;
        }
      tok->pieces[i] = g_strdup (json_node_get_string (piece));
      tok->scores[i] = json_node_get_double (score);
      tok->n_pieces = i + 1;
    }
  if (unk != NULL && json_node_get_value_type (unk) == G_TYPE_INT64)
    {
      gint64 id = json_node_get_int (unk);

      if (id < 0 || id >= n)
        {
          set_bad_file (error, file,
                        _ ("its unknown-token id %" PRId64 " is outside the vocabulary"), id);
          return FALSE;
        }
      tok->unk_id = (gint32)id;
    }
  tok->byte_fallback = member_bool (model, "byte_fallback", FALSE);
  return TRUE;
}

static gboolean
parse_added_tokens (Umt5Tokenizer *tok, JsonArray *list, const char *file, GError **error)
{
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonNode *id = obj != NULL ? json_object_get_member (obj, "id") : NULL;
      const char *content = member_string (obj, "content");

      if (content == NULL || id == NULL || json_node_get_value_type (id) != G_TYPE_INT64
          || json_node_get_int (id) < 0 || json_node_get_int (id) > G_MAXINT32)
        {
          set_bad_file (error, file, _ ("added token %u has no valid id or content"), i);
          return FALSE;
        }
      add_added_token (tok, content, (gint32)json_node_get_int (id), member_bool (obj, "lstrip", FALSE),
                       member_bool (obj, "rstrip", FALSE));
    }
  return TRUE;
}

static Umt5Tokenizer *
tokenizer_from_json (const char *data, gsize length, const char *file, GError **error)
{
  g_autoptr (Umt5Tokenizer) tok = tokenizer_new ();
  g_autoptr (JsonNode) root = takes_engine_parse_json (data, length, file, error);
  JsonObject *obj;

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      set_bad_file (error, file, _ ("it is not a JSON object"));
      return NULL;
    }
  obj = json_node_get_object (root);
  if (!parse_model (tok, member_object (obj, "model"), file, error) || !finish_vocab (tok, file, error)
      || !parse_normalizer (tok, member_object (obj, "normalizer"), file, 0, error)
      || !parse_pre_tokenizer (tok, member_object (obj, "pre_tokenizer"), file, 0, error)
      || !parse_added_tokens (tok, member_array (obj, "added_tokens"), file, error))
    return NULL;
  index_added (tok);
  if (!parse_post_processor (tok, member_object (obj, "post_processor"), file, error))
    return NULL;
  return g_steal_pointer (&tok);
}

Umt5Tokenizer *
umt5_tokenizer_new_from_json (const char *data, gsize length, GError **error)
{
  return tokenizer_from_json (data, length, "tokenizer.json", error);
}

/* spiece.model: a SentencePiece ModelProto */

typedef struct
{
  const guint8 *p;
  const guint8 *end;
} Pb;

static gboolean
pb_varint (Pb *pb, guint64 *value)
{
  guint64 v = 0;

  for (int shift = 0; shift < 64; shift += 7)
    {
      guint8 b;

      if (pb->p >= pb->end)
        return FALSE;
      b = *pb->p++;
      v |= (guint64)(b & 0x7F) << shift;
      if (!(b & 0x80))
        {
          *value = v;
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
pb_key (Pb *pb, guint32 *field, guint32 *wire)
{
  guint64 key;

  if (!pb_varint (pb, &key) || (key >> 3) == 0 || (key >> 3) > G_MAXUINT32)
    return FALSE;
  *field = (guint32)(key >> 3);
  *wire = (guint32)(key & 7);
  return TRUE;
}

static gboolean
pb_bytes (Pb *pb, Pb *inner)
{
  guint64 len;

  if (!pb_varint (pb, &len) || len > (guint64)(pb->end - pb->p))
    return FALSE;
  inner->p = pb->p;
  inner->end = pb->p + len;
  pb->p += len;
  return TRUE;
}

static gboolean
pb_skip (Pb *pb, guint32 wire)
{
  guint64 v;
  Pb inner;

  switch (wire)
    {
      case 0:
        return pb_varint (pb, &v);
      case 1:
        if (pb->end - pb->p < 8)
          return FALSE;
        pb->p += 8;
        return TRUE;
      case 2:
        return pb_bytes (pb, &inner);
      case 5:
        if (pb->end - pb->p < 4)
          return FALSE;
        pb->p += 4;
        return TRUE;
      default:
        return FALSE;
    }
}

typedef struct
{
  GPtrArray *pieces;
  GArray *scores;
  GArray *types;
  guint64 model_type;
  gboolean byte_fallback;
  gint32 unk_id, eos_id, pad_id;
  Pb charsmap;
  gboolean add_dummy_prefix;
  gboolean remove_extra_whitespaces;
  gboolean escape_whitespaces;
} Spiece;

static gboolean
parse_spiece_piece (Spiece *sp, Pb *msg)
{
  g_autofree char *piece = NULL;
  float score = 0.0f;
  guint64 type = 1;

  while (msg->p < msg->end)
    {
      guint32 field, wire;

      if (!pb_key (msg, &field, &wire))
        return FALSE;
      if (field == 1 && wire == 2)
        {
          Pb s;

          if (!pb_bytes (msg, &s) || !g_utf8_validate ((const char *)s.p, s.end - s.p, NULL)
              || memchr (s.p, '\0', (gsize)(s.end - s.p)) != NULL)
            return FALSE;
          g_free (piece);
          piece = g_strndup ((const char *)s.p, (gsize)(s.end - s.p));
        }
      else if (field == 2 && wire == 5)
        {
          guint32 bits;

          if (msg->end - msg->p < 4)
            return FALSE;
          bits = (guint32)msg->p[0] | ((guint32)msg->p[1] << 8) | ((guint32)msg->p[2] << 16)
                 | ((guint32)msg->p[3] << 24);
          memcpy (&score, &bits, sizeof score);
          msg->p += 4;
        }
      else if (field == 3 && wire == 0)
        {
          if (!pb_varint (msg, &type))
            return FALSE;
        }
      else if (!pb_skip (msg, wire))
        return FALSE;
    }
  {
    double d = score;
    guint32 t = (guint32)type;

    g_ptr_array_add (sp->pieces, piece != NULL ? g_steal_pointer (&piece) : g_strdup (""));
    g_array_append_val (sp->scores, d);
    g_array_append_val (sp->types, t);
  }
  return TRUE;
}

static gboolean
parse_spiece_trainer (Spiece *sp, Pb *msg)
{
  while (msg->p < msg->end)
    {
      guint32 field, wire;
      guint64 v;

      if (!pb_key (msg, &field, &wire))
        return FALSE;
      if (wire == 0 && (field == 3 || field == 35 || (field >= 40 && field <= 43)))
        {
          if (!pb_varint (msg, &v))
            return FALSE;
          if (field == 3)
            sp->model_type = v;
          else if (field == 35)
            sp->byte_fallback = v != 0;
          else if (field == 40)
            sp->unk_id = (gint32)(gint64)v;
          else if (field == 42)
            sp->eos_id = (gint32)(gint64)v;
          else if (field == 43)
            sp->pad_id = (gint32)(gint64)v;
        }
      else if (!pb_skip (msg, wire))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_spiece_normalizer (Spiece *sp, Pb *msg)
{
  while (msg->p < msg->end)
    {
      guint32 field, wire;
      guint64 v;

      if (!pb_key (msg, &field, &wire))
        return FALSE;
      if (field == 2 && wire == 2)
        {
          if (!pb_bytes (msg, &sp->charsmap))
            return FALSE;
        }
      else if (wire == 0 && field >= 3 && field <= 5)
        {
          if (!pb_varint (msg, &v))
            return FALSE;
          if (field == 3)
            sp->add_dummy_prefix = v != 0;
          else if (field == 4)
            sp->remove_extra_whitespaces = v != 0;
          else
            sp->escape_whitespaces = v != 0;
        }
      else if (!pb_skip (msg, wire))
        return FALSE;
    }
  return TRUE;
}

static Umt5Tokenizer *
tokenizer_from_spiece (const guint8 *data, gsize length, const char *file, GError **error)
{
  g_autoptr (Umt5Tokenizer) tok = tokenizer_new ();
  g_autoptr (GPtrArray) pieces = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) scores = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) types = g_array_new (FALSE, FALSE, sizeof (guint32));
  Spiece sp = { pieces, scores, types, 1, FALSE, 0, 2, -1, { NULL, NULL }, TRUE, TRUE, TRUE };
  Pb pb = { data, data + length };

  while (pb.p < pb.end)
    {
      guint32 field, wire;
      Pb msg;
      gboolean ok;

      if (!pb_key (&pb, &field, &wire))
        goto bad;
      if (wire != 2 || field > 3)
        {
          if (!pb_skip (&pb, wire))
            goto bad;
          continue;
        }
      if (!pb_bytes (&pb, &msg))
        goto bad;
      ok = field == 1   ? parse_spiece_piece (&sp, &msg)
           : field == 2 ? parse_spiece_trainer (&sp, &msg)
                        : parse_spiece_normalizer (&sp, &msg);
      if (!ok)
        goto bad;
      if (pieces->len > 16 * 1024 * 1024)
        goto bad;
    }
  if (sp.model_type != 1)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("The SentencePiece model “%s” is not a Unigram model; umT5 needs the spiece.model of "
                      "google/umt5-xxl."),
                   file);
      return NULL;
    }

  tok->n_pieces = pieces->len;
  tok->pieces = g_new0 (char *, MAX (pieces->len, 1));
  tok->scores = g_new0 (double, MAX (pieces->len, 1));
  for (guint i = 0; i < pieces->len; i++)
    {
      tok->pieces[i] = g_strdup (g_ptr_array_index (pieces, i));
      tok->scores[i] = g_array_index (scores, double, i);
    }
  tok->unk_id = sp.unk_id;
  tok->eos_id = sp.eos_id;
  tok->pad_id = sp.pad_id;
  tok->byte_fallback = sp.byte_fallback;
  if (!finish_vocab (tok, file, error))
    return NULL;
  if (sp.charsmap.p != NULL
      && !set_charsmap (tok, sp.charsmap.p, (gsize)(sp.charsmap.end - sp.charsmap.p), file, error))
    return NULL;
  if (sp.remove_extra_whitespaces)
    {
      NormStep *step = g_new0 (NormStep, 1);
      step->kind = NORM_COLLAPSE_SPACES;
      g_ptr_array_add (tok->norm, step);
    }
  if (sp.escape_whitespaces)
    {
      PreStep *step = g_new0 (PreStep, 1);
      step->kind = PRE_METASPACE;
      step->replacement = g_strdup (METASPACE);
      step->prepend = sp.add_dummy_prefix ? PREPEND_ALWAYS : PREPEND_NEVER;
      step->split = TRUE;
      g_ptr_array_add (tok->pre, step);
    }
  /* Control, unknown and user-defined pieces match whole, as the Hugging
   * Face conversion of this file makes them added tokens. */
  for (guint i = 0; i < types->len; i++)
    {
      guint32 type = g_array_index (types, guint32, i);

      if (type == 2 || type == 3 || type == 4)
        add_added_token (tok, tok->pieces[i], (gint32)i, FALSE, FALSE);
    }
  index_added (tok);
  g_array_append_val (tok->suffix_ids, tok->eos_id);
  return g_steal_pointer (&tok);

bad:
  set_bad_file (error, file, _ ("it is not a valid SentencePiece model"));
  return NULL;
}

Umt5Tokenizer *
umt5_tokenizer_new_from_spiece (const guint8 *data, gsize length, GError **error)
{
  return tokenizer_from_spiece (data, length, "spiece.model", error);
}

Umt5Tokenizer *
umt5_tokenizer_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  gsize i = 0;

  if (!takes_engine_read_file (path, 512 * 1024 * 1024, &data, &length, error))
    return NULL;
  while (i < length && g_ascii_isspace (data[i]))
    i++;
  if (i < length && data[i] == '{')
    return tokenizer_from_json (data, length, path, error);
  return tokenizer_from_spiece ((const guint8 *)data, length, path, error);
}
