/* takes-safety.h: the word-list filter a prompt passes before it is sent.
 *
 * Lists are plain text, one term a line (see data/prompt/safety-en.txt for
 * the format). A term matches after folding: case, full-width forms, accents,
 * zero-width characters, and the character replacements of the fold file
 * (traditional → simplified Chinese, look-alike letters of other scripts).
 * It also matches when spaces or punctuation are put between its letters
 * ("n a k e d", "n.a.k.e.d", "裸 体"), but whole-word terms never match
 * inside a longer word ("class" does not contain "ass").
 *
 * Only the prompt is checked: a negative prompt names what the video must
 * not show, so listed words are expected there.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define TAKES_SAFETY_ERROR (takes_safety_error_quark ())

typedef enum
{
  /* A list or fold file cannot be read or has a malformed line. */
  TAKES_SAFETY_ERROR_INVALID_LIST,
  /* The prompt matched a blocked term; it must not be sent. */
  TAKES_SAFETY_ERROR_BLOCKED,
} TakesSafetyError;

typedef struct
{
  char *term;     /* as written in the list */
  char *category; /* "minors", "sexual", "violence", "hate", "self-harm" or a list's own word */
  char *reason;   /* why the category is blocked, translated */
  char *matched;  /* the prompt's text that matched */
  gsize start;    /* byte offsets of @matched in the prompt */
  gsize end;
  gboolean evasion; /* the letters were spread out with spaces or punctuation */
  char *source;     /* the list file (or label) and line the term came from */
  guint line;
} TakesSafetyMatch;

void takes_safety_match_free (TakesSafetyMatch *match);
/* One sentence for people: what matched, which term, and why it is blocked. */
char *takes_safety_match_describe (const TakesSafetyMatch *match);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesSafetyMatch, takes_safety_match_free)

#define TAKES_TYPE_SAFETY (takes_safety_get_type ())
G_DECLARE_FINAL_TYPE (TakesSafety, takes_safety, TAKES, SAFETY, GObject)

GQuark takes_safety_error_quark (void);

/* An empty filter; add lists with the load functions. */
TakesSafety *takes_safety_new (void);
/* The shipped fold file and lists (prompt/safety-fold.txt, safety-en.txt,
 * safety-zh.txt) and the user's own list when it exists. */
TakesSafety *takes_safety_new_default (GError **error);

/* Where the user's own list lives: safety.txt in the library folder. */
char *takes_safety_get_user_list_path (void);

/* Adds the terms of a list. @origin names it in messages. A term flagged
 * "allow" takes back the same term from lists loaded before it. */
gboolean takes_safety_load_file (TakesSafety *self, const char *path, GError **error);
gboolean takes_safety_load_data (
    TakesSafety *self, const char *data, gssize length, const char *origin, GError **error);
/* Adds character replacements ("FROM TO" per line; FROM one character
 * beyond ASCII). */
gboolean takes_safety_load_fold_file (TakesSafety *self, const char *path, GError **error);
gboolean takes_safety_load_fold_data (
    TakesSafety *self, const char *data, gssize length, const char *origin, GError **error);

/* Terms in force (variants not counted, terms taken back not counted). */
guint takes_safety_get_n_terms (TakesSafety *self);

/* Every blocked term @prompt matches, each once, in order of position;
 * empty when the prompt is clean. Safe to call from several threads. */
GPtrArray *takes_safety_check (TakesSafety *self, const char *prompt);
/* TRUE when clean; otherwise FALSE with TAKES_SAFETY_ERROR_BLOCKED and a
 * message that names the first match. */
gboolean takes_safety_check_prompt (TakesSafety *self, const char *prompt, GError **error);

G_END_DECLS
