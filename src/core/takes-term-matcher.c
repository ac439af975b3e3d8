/* takes-term-matcher.c: text folding and an Aho–Corasick automaton.
 *
 * The automaton is built as a trie with sibling lists, then compiled into
 * sorted edge arrays (binary search per step) plus a dense table for the root,
 * where most steps of a scan start again. Failure links and "dictionary"
 * links (the nearest failure ancestor that ends a key) give every occurrence
 * in one pass.
 */
#include "config.h"

#include <string.h>

#include "takes-term-matcher.h"

#define NO_NODE G_MAXUINT32

/* ---------------------------------------------------------------- folding */

gboolean
takes_fold_is_cjk (gunichar c)
{
  GUnicodeScript script;

  if (c < 0x2E80)
    return FALSE;
  script = g_unichar_get_script (c);
  return script == G_UNICODE_SCRIPT_HAN || script == G_UNICODE_SCRIPT_HIRAGANA
         || script == G_UNICODE_SCRIPT_KATAKANA || script == G_UNICODE_SCRIPT_HANGUL
         || script == G_UNICODE_SCRIPT_BOPOMOFO;
}

gboolean
takes_fold_is_word_char (gunichar c)
{
  if (c < 0x80)
    return g_ascii_isalnum (c);
  return g_unichar_isalnum (c) && !takes_fold_is_cjk (c);
}

gboolean
takes_fold_is_boundary (const char *text, gsize length, gsize pos)
{
  gunichar prev;
  gunichar next;

  if (pos == 0 || pos >= length)
    return TRUE;
  prev = g_utf8_get_char (g_utf8_prev_char (text + pos));
  next = g_utf8_get_char (text + pos);
  return !(takes_fold_is_word_char (prev) && takes_fold_is_word_char (next));
}

void
takes_folded_text_init (TakesFoldedText *folded, gboolean with_squeezed)
{
  memset (folded, 0, sizeof *folded);
  folded->with_squeezed = with_squeezed;
  folded->text = g_string_sized_new (256);
  folded->text_src = g_array_sized_new (FALSE, FALSE, sizeof (TakesTextSpan), 256);
  if (with_squeezed)
    {
      folded->squeezed = g_string_sized_new (256);
      folded->squeezed_src = g_array_sized_new (FALSE, FALSE, sizeof (TakesTextSpan), 256);
      folded->squeezed_token = g_array_sized_new (FALSE, FALSE, sizeof (guint), 256);
      folded->tokens = g_array_sized_new (FALSE, FALSE, sizeof (TakesTextToken), 64);
    }
}

void
takes_folded_text_clear (TakesFoldedText *folded)
{
  if (folded->text != NULL)
    g_string_free (folded->text, TRUE);
  if (folded->squeezed != NULL)
    g_string_free (folded->squeezed, TRUE);
  g_clear_pointer (&folded->text_src, g_array_unref);
  g_clear_pointer (&folded->squeezed_src, g_array_unref);
  g_clear_pointer (&folded->squeezed_token, g_array_unref);
  g_clear_pointer (&folded->tokens, g_array_unref);
  folded->text = NULL;
  folded->squeezed = NULL;
}

typedef struct
{
  TakesFoldedText *folded;
  TakesTextSep pending;   /* the strongest separator seen since the last word character */
  TakesTextSpan sep_span; /* where that separator run lies in the input */
  gboolean prev_cjk;
  gboolean have_token;
} FoldState;

static void
fold_separator (FoldState *st, TakesTextSep kind, gsize start, gsize end)
{
  if (st->pending == TAKES_TEXT_SEP_NONE)
    st->sep_span.start = start;
  st->sep_span.end = end;
  if (kind > st->pending)
    st->pending = kind;
}

static void
fold_word_char (FoldState *st, gunichar c, gsize start, gsize end)
{
  TakesFoldedText *f = st->folded;
  char buf[8];
  int n = g_unichar_to_utf8 (c, buf);
  TakesTextSpan span = { start, end };
  gboolean cjk = c >= 0x80 && takes_fold_is_cjk (c);

  if (st->pending != TAKES_TEXT_SEP_NONE && f->text->len > 0)
    {
      g_string_append_c (f->text, ' ');
      g_array_append_val (f->text_src, st->sep_span);
    }
  g_string_append_len (f->text, buf, n);
  for (int i = 0; i < n; i++)
    g_array_append_val (f->text_src, span);

  if (f->with_squeezed)
    {
      TakesTextToken *token;
      guint index;

      if (!st->have_token || st->pending != TAKES_TEXT_SEP_NONE || cjk || st->prev_cjk)
        {
          TakesTextToken fresh
              = { f->squeezed->len, f->squeezed->len, 0, st->have_token ? st->pending : TAKES_TEXT_SEP_NONE };

          g_array_append_val (f->tokens, fresh);
          st->have_token = TRUE;
        }
      index = f->tokens->len - 1;
      token = &g_array_index (f->tokens, TakesTextToken, index);
      g_string_append_len (f->squeezed, buf, n);
      for (int i = 0; i < n; i++)
        {
          g_array_append_val (f->squeezed_src, span);
          g_array_append_val (f->squeezed_token, index);
        }
      token->end = f->squeezed->len;
      token->n_chars++;
    }
  st->pending = TAKES_TEXT_SEP_NONE;
  st->prev_cjk = cjk;
}

static void
fold_classify (FoldState *st, gunichar c, gsize start, gsize end)
{
  if (g_unichar_isalnum (c))
    fold_word_char (st, c, start, end);
  else if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
    fold_separator (st, TAKES_TEXT_SEP_SPACE, start, end);
  else
    fold_separator (st, TAKES_TEXT_SEP_PUNCTUATION, start, end);
}

static void
fold_unichar (FoldState *st, gunichar c, gsize start, gsize end, GHashTable *fold_map)
{
  gunichar parts[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
  gsize n_parts = g_unichar_fully_decompose (c, TRUE, parts, G_N_ELEMENTS (parts));

  for (gsize i = 0; i < n_parts; i++)
    {
      gunichar d = parts[i];
      GUnicodeType type = g_unichar_type (d);
      const char *replacement;

      /* Accents and zero-width characters change nothing a reader sees in a
       * word, so they must not change what the lists match either. */
      if (type == G_UNICODE_NON_SPACING_MARK || type == G_UNICODE_SPACING_MARK
          || type == G_UNICODE_ENCLOSING_MARK || type == G_UNICODE_FORMAT)
        continue;
      d = g_unichar_tolower (d);
      replacement = fold_map != NULL ? g_hash_table_lookup (fold_map, GUINT_TO_POINTER (d)) : NULL;
      if (replacement == NULL)
        {
          fold_classify (st, d, start, end);
          continue;
        }
      for (const char *r = replacement; *r != '\0'; r = g_utf8_next_char (r))
        fold_classify (st, g_utf8_get_char (r), start, end);
    }
}

void
takes_folded_text_fold (TakesFoldedText *folded, const char *input, gsize length, GHashTable *fold_map)
{
  FoldState st = { folded, TAKES_TEXT_SEP_NONE, { 0, 0 }, FALSE, FALSE };
  const char *end = input + length;

  g_string_truncate (folded->text, 0);
  g_array_set_size (folded->text_src, 0);
  if (folded->with_squeezed)
    {
      g_string_truncate (folded->squeezed, 0);
      g_array_set_size (folded->squeezed_src, 0);
      g_array_set_size (folded->squeezed_token, 0);
      g_array_set_size (folded->tokens, 0);
    }

  for (const char *p = input; p < end;)
    {
      guchar b = (guchar)*p;
      gsize start = p - input;

      if (b < 0x80)
        {
          if (g_ascii_isalnum (b))
            fold_word_char (&st, g_ascii_tolower (b), start, start + 1);
          else if (g_ascii_isspace (b) || b < 0x20 || b == 0x7f)
            fold_separator (&st, TAKES_TEXT_SEP_SPACE, start, start + 1);
          else
            fold_separator (&st, TAKES_TEXT_SEP_PUNCTUATION, start, start + 1);
          p++;
          continue;
        }
      {
        const char *next = g_utf8_next_char (p);
        gunichar c = g_utf8_get_char (p);

        if (next > end)
          next = end;
        fold_unichar (&st, c, start, next - input, fold_map);
        p = next;
      }
    }
}

char *
takes_fold_term (const char *term, GHashTable *fold_map, gboolean squeezed)
{
  TakesFoldedText folded;
  char *result;

  takes_folded_text_init (&folded, squeezed);
  takes_folded_text_fold (&folded, term, strlen (term), fold_map);
  result = g_strdup (squeezed ? folded.squeezed->str : folded.text->str);
  takes_folded_text_clear (&folded);
  return result;
}

/* ---------------------------------------------------------------- matcher */

typedef struct
{
  guint32 first_edge; /* into the edge arrays, after compile */
  guint32 n_edges;
  guint32 fail;
  guint32 dict; /* nearest node on the failure chain that ends a key */
  guint32 out;  /* first output of this node, or NO_NODE */
  guint32 depth;
  /* build-time trie links */
  guint32 child;
  guint32 sibling;
  guint8 byte;
} MatcherNode;

typedef struct
{
  guint32 value;
  guint32 next;
} MatcherOutput;

struct _TakesTermMatcher
{
  GArray *nodes;   /* MatcherNode */
  GArray *outputs; /* MatcherOutput */
  guint8 *edge_bytes;
  guint32 *edge_targets;
  guint32 root_next[256];
  guint n_keys;
  gboolean compiled;
};

TakesTermMatcher *
takes_term_matcher_new (void)
{
  TakesTermMatcher *m = g_new0 (TakesTermMatcher, 1);
  MatcherNode root = { 0, 0, 0, NO_NODE, NO_NODE, 0, NO_NODE, NO_NODE, 0 };

  m->nodes = g_array_new (FALSE, FALSE, sizeof (MatcherNode));
  m->outputs = g_array_new (FALSE, FALSE, sizeof (MatcherOutput));
  g_array_append_val (m->nodes, root);
  return m;
}

void
takes_term_matcher_free (TakesTermMatcher *matcher)
{
  if (matcher == NULL)
    return;
  g_array_unref (matcher->nodes);
  g_array_unref (matcher->outputs);
  g_free (matcher->edge_bytes);
  g_free (matcher->edge_targets);
  g_free (matcher);
}

static guint32
build_child (TakesTermMatcher *m, guint32 parent, guint8 byte)
{
  MatcherNode *p = &g_array_index (m->nodes, MatcherNode, parent);
  MatcherNode fresh = { 0, 0, 0, NO_NODE, NO_NODE, p->depth + 1, NO_NODE, NO_NODE, byte };
  guint32 index;

  for (guint32 c = p->child; c != NO_NODE; c = g_array_index (m->nodes, MatcherNode, c).sibling)
    if (g_array_index (m->nodes, MatcherNode, c).byte == byte)
      return c;
  fresh.sibling = p->child;
  index = m->nodes->len;
  g_array_append_val (m->nodes, fresh);
  g_array_index (m->nodes, MatcherNode, parent).child = index;
  return index;
}

void
takes_term_matcher_add (TakesTermMatcher *matcher, const char *key, gsize length, guint32 value)
{
  guint32 node = 0;
  MatcherOutput output = { value, NO_NODE };
  MatcherNode *n;

  g_return_if_fail (!matcher->compiled);
  g_return_if_fail (length > 0);

  for (gsize i = 0; i < length; i++)
    node = build_child (matcher, node, (guint8)key[i]);
  n = &g_array_index (matcher->nodes, MatcherNode, node);
  output.next = n->out;
  n->out = matcher->outputs->len;
  g_array_append_val (matcher->outputs, output);
  matcher->n_keys++;
}

guint
takes_term_matcher_get_n_keys (const TakesTermMatcher *matcher)
{
  return matcher->n_keys;
}

static inline guint32
matcher_step (const TakesTermMatcher *m, const MatcherNode *nodes, guint32 state, guint8 byte)
{
  const MatcherNode *n = &nodes[state];
  const guint8 *bytes = m->edge_bytes + n->first_edge;
  guint32 lo = 0;
  guint32 hi = n->n_edges;

  while (lo < hi)
    {
      guint32 mid = (lo + hi) / 2;

      if (bytes[mid] < byte)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo < n->n_edges && bytes[lo] == byte)
    return m->edge_targets[n->first_edge + lo];
  return NO_NODE;
}

static int
compare_bytes_cb (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const MatcherNode *nodes = user_data;

  return (int)nodes[*(const guint32 *)a].byte - (int)nodes[*(const guint32 *)b].byte;
}

void
takes_term_matcher_compile (TakesTermMatcher *matcher)
{
  MatcherNode *nodes;
  guint32 n_nodes = matcher->nodes->len;
  g_autofree guint32 *queue = g_new (guint32, n_nodes);
  g_autoptr (GArray) children = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 head = 0;
  guint32 tail = 0;
  guint32 n_edges = 0;

  g_return_if_fail (!matcher->compiled);

  nodes = (MatcherNode *)matcher->nodes->data;
  matcher->edge_bytes = g_new (guint8, MAX (n_nodes, 1));
  matcher->edge_targets = g_new (guint32, MAX (n_nodes, 1));

  /* Breadth first, so a node's failure target is final before its children
   * need it. */
  queue[tail++] = 0;
  while (head < tail)
    {
      guint32 node = queue[head++];

      g_array_set_size (children, 0);
      for (guint32 c = nodes[node].child; c != NO_NODE; c = nodes[c].sibling)
        g_array_append_val (children, c);
      g_qsort_with_data (children->data, children->len, sizeof (guint32), compare_bytes_cb, nodes);
      nodes[node].first_edge = n_edges;
      nodes[node].n_edges = children->len;
      for (guint i = 0; i < children->len; i++)
        {
          guint32 c = g_array_index (children, guint32, i);

          matcher->edge_bytes[n_edges] = nodes[c].byte;
          matcher->edge_targets[n_edges] = c;
          n_edges++;
          queue[tail++] = c;
        }
    }

  memset (matcher->root_next, 0, sizeof matcher->root_next);
  for (guint32 e = 0; e < nodes[0].n_edges; e++)
    matcher->root_next[matcher->edge_bytes[e]] = matcher->edge_targets[e];

  for (guint32 q = 1; q < tail; q++)
    {
      guint32 node = queue[q];

      for (guint32 e = 0; e < nodes[node].n_edges; e++)
        {
          guint32 child = matcher->edge_targets[nodes[node].first_edge + e];
          guint8 byte = matcher->edge_bytes[nodes[node].first_edge + e];
          guint32 f = nodes[node].fail;
          guint32 target;

          for (;;)
            {
              if (f == 0)
                {
                  target = matcher->root_next[byte];
                  break;
                }
              target = matcher_step (matcher, nodes, f, byte);
              if (target != NO_NODE)
                break;
              f = nodes[f].fail;
            }
          nodes[child].fail = target;
          nodes[child].dict = nodes[target].out != NO_NODE ? target : nodes[target].dict;
        }
    }
  for (guint32 e = 0; e < nodes[0].n_edges; e++)
    {
      guint32 child = matcher->edge_targets[e];

      nodes[child].fail = 0;
      nodes[child].dict = NO_NODE;
    }
  matcher->compiled = TRUE;
}

void
takes_term_matcher_scan (const TakesTermMatcher *matcher,
                         const char *text,
                         gsize length,
                         TakesTermMatchFunc func,
                         gpointer user_data)
{
  const MatcherNode *nodes = (const MatcherNode *)matcher->nodes->data;
  const MatcherOutput *outputs = (const MatcherOutput *)matcher->outputs->data;
  guint32 state = 0;

  g_return_if_fail (matcher->compiled);
  if (matcher->n_keys == 0)
    return;

  for (gsize i = 0; i < length; i++)
    {
      guint8 byte = (guint8)text[i];
      guint32 hit;

      for (;;)
        {
          guint32 next;

          if (state == 0)
            {
              state = matcher->root_next[byte];
              break;
            }
          next = matcher_step (matcher, nodes, state, byte);
          if (next != NO_NODE)
            {
              state = next;
              break;
            }
          state = nodes[state].fail;
        }
      hit = nodes[state].out != NO_NODE ? state : nodes[state].dict;
      while (hit != NO_NODE)
        {
          for (guint32 o = nodes[hit].out; o != NO_NODE; o = outputs[o].next)
            if (!func (outputs[o].value, i + 1 - nodes[hit].depth, i + 1, user_data))
              return;
          hit = nodes[hit].dict;
        }
    }
}
