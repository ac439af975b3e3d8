/* takes-term-matcher.h: text folding and multi-term search shared by the
 * prompt optimizer and the safety filter.
 *
 * Folding turns a prompt into the form the word lists are written in:
 * compatibility forms (full-width letters, ligatures) decomposed, accents and
 * zero-width characters dropped, lower case, optional per-character
 * replacements (traditional → simplified, look-alike letters of other
 * scripts), and every run of spaces or punctuation turned into one space. A
 * second, "squeezed" form drops the separators altogether, so a word written
 * with spaces or dots between its letters can still be found. Every byte of
 * both forms remembers where it came from in the input.
 *
 * The matcher is an Aho–Corasick automaton over the bytes of folded terms: one
 * pass over a prompt finds every listed term, however long the list.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where one folded byte came from: the input bytes [start, end). */
typedef struct
{
  gsize start;
  gsize end;
} TakesTextSpan;

/* How the separator before a squeezed token looked in the input. */
typedef enum
{
  TAKES_TEXT_SEP_NONE,        /* no separator: a change of script, or the start */
  TAKES_TEXT_SEP_PUNCTUATION, /* punctuation or symbols only */
  TAKES_TEXT_SEP_SPACE,       /* contains white space */
} TakesTextSep;

/* A run of word characters in the squeezed form. Each CJK character is a token
 * of its own, since those scripts do not mark words. */
typedef struct
{
  gsize start;
  gsize end;
  guint n_chars;
  TakesTextSep sep_before;
} TakesTextToken;

typedef struct
{
  GString *text;          /* folded, one space between words */
  GArray *text_src;       /* TakesTextSpan per byte of text */
  GString *squeezed;      /* folded, no separators (only when asked for) */
  GArray *squeezed_src;   /* TakesTextSpan per byte of squeezed */
  GArray *squeezed_token; /* guint per byte of squeezed: index into tokens */
  GArray *tokens;         /* TakesTextToken */
  gboolean with_squeezed;
} TakesFoldedText;

/* Buffers are kept between calls to takes_folded_text_fold(), so a loop over
 * many prompts allocates only while the longest one grows them. */
void takes_folded_text_init (TakesFoldedText *folded, gboolean with_squeezed);
void takes_folded_text_clear (TakesFoldedText *folded);

/* @fold_map: gunichar (GUINT_TO_POINTER) → UTF-8 replacement, or NULL.
 * @input must be valid UTF-8. */
void takes_folded_text_fold (TakesFoldedText *folded, const char *input, gsize length, GHashTable *fold_map);

/* The folded form of a list term (one space between words), or with
 * @squeezed the form without separators. Returns an empty string for a term
 * made only of separators. */
char *takes_fold_term (const char *term, GHashTable *fold_map, gboolean squeezed);

/* Letters and digits of scripts that separate words with spaces. */
gboolean takes_fold_is_word_char (gunichar c);
/* Han, kana, Hangul and the CJK symbols that go with them. */
gboolean takes_fold_is_cjk (gunichar c);

/* TRUE when the folded @text has a word boundary at byte @pos (between the
 * character ending there and the one starting there). */
gboolean takes_fold_is_boundary (const char *text, gsize length, gsize pos);

typedef struct _TakesTermMatcher TakesTermMatcher;

/* Called for every occurrence, overlapping ones included, in order of their
 * end; [start, end) are byte offsets in the scanned text. Return FALSE to
 * stop the scan. */
typedef gboolean (*TakesTermMatchFunc) (guint32 value, gsize start, gsize end, gpointer user_data);

TakesTermMatcher *takes_term_matcher_new (void);
void takes_term_matcher_free (TakesTermMatcher *matcher);

/* Adds @key (bytes, not empty) carrying @value; the same key may be added
 * with several values. Only before takes_term_matcher_compile(). */
void takes_term_matcher_add (TakesTermMatcher *matcher, const char *key, gsize length, guint32 value);
void takes_term_matcher_compile (TakesTermMatcher *matcher);
guint takes_term_matcher_get_n_keys (const TakesTermMatcher *matcher);

/* Thread-safe once compiled: scanning reads the automaton only. */
void takes_term_matcher_scan (const TakesTermMatcher *matcher,
                              const char *text,
                              gsize length,
                              TakesTermMatchFunc func,
                              gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesTermMatcher, takes_term_matcher_free)

G_END_DECLS
