/* takes-optimizer.c: the rule engine behind the offline prompt optimizer.
 *
 * Detection: every lexicon term of both languages goes into one Aho–Corasick
 * automaton; a prompt is folded (case, width, punctuation) and scanned once.
 * Latin-script terms must sit on word boundaries (an English plural "s" or
 * "es" is allowed after them, and a trailing "*" in the lexicon allows any
 * ending); CJK terms match anywhere. A hit inside a longer hit is dropped, so
 * "street lights" is a light source and not also a street.
 *
 * Suggestion: each missing fact is filled from the candidates of the prompt's
 * language whose conditions hold. Conditions are tags: those of the facts
 * found ("person", "night", "indoor"…), "has:<fact>", "no_subject", and the
 * tags of candidates chosen earlier in the same analysis, so a light source
 * follows the time of day it is proposed with.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "takes-optimizer.h"
#include "takes-paths.h"
#include "takes-term-matcher.h"

#define DEFAULT_MAX_SETTINGS 4

/* ------------------------------------------------------------------ facts */

static const char *const fact_ids[TAKES_PROMPT_N_FACTS] = {
  "subject",     "action",       "unfolding",       "scene",
  "time_of_day", "light_source", "light_direction", "light_hardness",
  "color_tone",  "shot_size",    "camera_angle",    "camera_movement",
  "lens",        "composition",  "style",           "sky",
};

const char *
takes_prompt_fact_to_string (TakesPromptFact fact)
{
  g_return_val_if_fail (fact < TAKES_PROMPT_N_FACTS, NULL);
  return fact_ids[fact];
}

gboolean
takes_prompt_fact_from_string (const char *id, TakesPromptFact *fact)
{
  for (guint i = 0; i < TAKES_PROMPT_N_FACTS; i++)
    if (g_str_equal (id, fact_ids[i]))
      {
        *fact = i;
        return TRUE;
      }
  return FALSE;
}

const char *
takes_prompt_fact_get_label (TakesPromptFact fact)
{
  switch (fact)
    {
      case TAKES_PROMPT_FACT_SUBJECT:
        return _ ("subject");
      case TAKES_PROMPT_FACT_ACTION:
        return _ ("action");
      case TAKES_PROMPT_FACT_UNFOLDING:
        return _ ("how the action unfolds");
      case TAKES_PROMPT_FACT_SCENE:
        return _ ("scene");
      case TAKES_PROMPT_FACT_TIME_OF_DAY:
        return _ ("time of day");
      case TAKES_PROMPT_FACT_LIGHT_SOURCE:
        return _ ("light source");
      case TAKES_PROMPT_FACT_LIGHT_DIRECTION:
        return _ ("light direction");
      case TAKES_PROMPT_FACT_LIGHT_HARDNESS:
        return _ ("light hardness");
      case TAKES_PROMPT_FACT_COLOR_TONE:
        return _ ("colour tone");
      case TAKES_PROMPT_FACT_SHOT_SIZE:
        return _ ("shot size");
      case TAKES_PROMPT_FACT_CAMERA_ANGLE:
        return _ ("camera angle");
      case TAKES_PROMPT_FACT_CAMERA_MOVEMENT:
        return _ ("camera movement");
      case TAKES_PROMPT_FACT_LENS:
        return _ ("lens");
      case TAKES_PROMPT_FACT_COMPOSITION:
        return _ ("composition");
      case TAKES_PROMPT_FACT_STYLE:
        return _ ("style");
      case TAKES_PROMPT_FACT_SKY:
        return _ ("sky");
      case TAKES_PROMPT_N_FACTS:
      default:
        return NULL;
    }
}

static char *
explanation_for (TakesPromptFact fact)
{
  switch (fact)
    {
      case TAKES_PROMPT_FACT_ACTION:
        return g_strdup (_ ("Nothing moves yet, and a video needs motion."));
      case TAKES_PROMPT_FACT_UNFOLDING:
        return g_strdup (_ ("Says how the action unfolds over the clip."));
      case TAKES_PROMPT_FACT_SCENE:
        return g_strdup (_ ("Gives the subject a setting."));
      case TAKES_PROMPT_FACT_TIME_OF_DAY:
        return g_strdup (_ ("No time of day is given; it sets the light of the whole shot."));
      case TAKES_PROMPT_FACT_LIGHT_SOURCE:
        return g_strdup (_ ("Names where the light comes from."));
      case TAKES_PROMPT_FACT_LIGHT_DIRECTION:
        return g_strdup (_ ("Gives the light a direction, which shapes the subject."));
      case TAKES_PROMPT_FACT_LIGHT_HARDNESS:
        return g_strdup (_ ("Says whether the light is soft or hard."));
      case TAKES_PROMPT_FACT_COLOR_TONE:
        return g_strdup (_ ("Sets an overall colour tone."));
      case TAKES_PROMPT_FACT_SHOT_SIZE:
        return g_strdup (_ ("No shot size is given; it decides how the subject is framed."));
      case TAKES_PROMPT_FACT_CAMERA_ANGLE:
        return g_strdup (_ ("Sets the height and angle of the camera."));
      case TAKES_PROMPT_FACT_CAMERA_MOVEMENT:
        return g_strdup (_ ("Says how the camera moves."));
      case TAKES_PROMPT_FACT_LENS:
        return g_strdup (_ ("Names a lens, which sets perspective and depth of field."));
      case TAKES_PROMPT_FACT_COMPOSITION:
        return g_strdup (_ ("Places the subject in the frame."));
      case TAKES_PROMPT_FACT_STYLE:
        return g_strdup (_ ("Moves your style to the front, where the model weighs it most."));
      case TAKES_PROMPT_FACT_SKY:
        return g_strdup (_ ("A clear blue sky keeps the sky from looking overexposed."));
      case TAKES_PROMPT_FACT_SUBJECT:
      case TAKES_PROMPT_N_FACTS:
      default:
        return g_strdup ("");
    }
}

/* Camera and light settings, in the order they read at the front of a prompt
 * (the order of the official examples). */
static const TakesPromptFact setting_order[] = {
  TAKES_PROMPT_FACT_TIME_OF_DAY,    TAKES_PROMPT_FACT_LIGHT_SOURCE,    TAKES_PROMPT_FACT_LIGHT_DIRECTION,
  TAKES_PROMPT_FACT_LIGHT_HARDNESS, TAKES_PROMPT_FACT_COLOR_TONE,      TAKES_PROMPT_FACT_SHOT_SIZE,
  TAKES_PROMPT_FACT_CAMERA_ANGLE,   TAKES_PROMPT_FACT_CAMERA_MOVEMENT, TAKES_PROMPT_FACT_LENS,
  TAKES_PROMPT_FACT_COMPOSITION,
};

/* Which settings survive a cap: the defaults the official rules name first
 * (time of day, shot size, composition), then light, then the camera. */
static const TakesPromptFact setting_priority[] = {
  TAKES_PROMPT_FACT_TIME_OF_DAY,     TAKES_PROMPT_FACT_SHOT_SIZE,      TAKES_PROMPT_FACT_COMPOSITION,
  TAKES_PROMPT_FACT_LIGHT_SOURCE,    TAKES_PROMPT_FACT_CAMERA_ANGLE,   TAKES_PROMPT_FACT_COLOR_TONE,
  TAKES_PROMPT_FACT_LIGHT_DIRECTION, TAKES_PROMPT_FACT_LIGHT_HARDNESS, TAKES_PROMPT_FACT_LENS,
  TAKES_PROMPT_FACT_CAMERA_MOVEMENT,
};

/* Vocabulary of live-action film that a 2D style has no use for. */
static gboolean
is_camera_vocabulary (TakesPromptFact fact)
{
  return fact == TAKES_PROMPT_FACT_LIGHT_SOURCE || fact == TAKES_PROMPT_FACT_LIGHT_DIRECTION
         || fact == TAKES_PROMPT_FACT_LIGHT_HARDNESS || fact == TAKES_PROMPT_FACT_SHOT_SIZE
         || fact == TAKES_PROMPT_FACT_CAMERA_ANGLE || fact == TAKES_PROMPT_FACT_CAMERA_MOVEMENT
         || fact == TAKES_PROMPT_FACT_LENS;
}

/* ------------------------------------------------------------------ lexicons */

typedef struct
{
  TakesPromptFact kind;
  char *tag;   /* as written: one or more tags separated by spaces */
  char **tags; /* the same, split */
  char *unfold;
  guint lexicon; /* index of the lexicon it came from */
  gboolean prefix;
  gboolean cjk;
} Term;

typedef struct
{
  char *text;
  char **when;
  char **unless;
  char **adds;
} Candidate;

typedef struct
{
  char *language;
  char *separator;
  GPtrArray *candidates[TAKES_PROMPT_N_FACTS]; /* Candidate * */
} Lexicon;

struct _TakesOptimizer
{
  GObject parent_instance;

  GArray *terms;       /* Term */
  GPtrArray *lexicons; /* Lexicon * */
  TakesTermMatcher *matcher;
  guint max_settings;
};

G_DEFINE_FINAL_TYPE (TakesOptimizer, takes_optimizer, G_TYPE_OBJECT)

GQuark
takes_optimizer_error_quark (void)
{
  return g_quark_from_static_string ("takes-optimizer-error-quark");
}

enum
{
  PROP_0,
  PROP_MAX_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
term_clear (gpointer data)
{
  Term *t = data;

  g_clear_pointer (&t->tag, g_free);
  g_clear_pointer (&t->tags, g_strfreev);
  g_clear_pointer (&t->unfold, g_free);
}

static void
candidate_free (gpointer data)
{
  Candidate *c = data;

  g_free (c->text);
  g_strfreev (c->when);
  g_strfreev (c->unless);
  g_strfreev (c->adds);
  g_free (c);
}

static void
lexicon_free (gpointer data)
{
  Lexicon *lex = data;

  g_free (lex->language);
  g_free (lex->separator);
  for (guint i = 0; i < TAKES_PROMPT_N_FACTS; i++)
    g_clear_pointer (&lex->candidates[i], g_ptr_array_unref);
  g_free (lex);
}

static void
takes_optimizer_finalize (GObject *object)
{
  TakesOptimizer *self = TAKES_OPTIMIZER (object);

  g_clear_pointer (&self->terms, g_array_unref);
  g_clear_pointer (&self->lexicons, g_ptr_array_unref);
  g_clear_pointer (&self->matcher, takes_term_matcher_free);

  G_OBJECT_CLASS (takes_optimizer_parent_class)->finalize (object);
}

static void
takes_optimizer_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesOptimizer *self = TAKES_OPTIMIZER (object);

  switch (prop_id)
    {
      case PROP_MAX_SETTINGS:
        g_value_set_uint (value, self->max_settings);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_optimizer_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesOptimizer *self = TAKES_OPTIMIZER (object);

  switch (prop_id)
    {
      case PROP_MAX_SETTINGS:
        takes_optimizer_set_max_settings (self, g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_optimizer_class_init (TakesOptimizerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = takes_optimizer_finalize;
  object_class->get_property = takes_optimizer_get_property;
  object_class->set_property = takes_optimizer_set_property;

  properties[PROP_MAX_SETTINGS]
      = g_param_spec_uint ("max-settings", NULL, NULL, 0, G_N_ELEMENTS (setting_order), DEFAULT_MAX_SETTINGS,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_optimizer_init (TakesOptimizer *self)
{
  self->terms = g_array_new (FALSE, TRUE, sizeof (Term));
  g_array_set_clear_func (self->terms, term_clear);
  self->lexicons = g_ptr_array_new_with_free_func (lexicon_free);
  self->matcher = takes_term_matcher_new ();
  self->max_settings = DEFAULT_MAX_SETTINGS;
}

guint
takes_optimizer_get_max_settings (TakesOptimizer *self)
{
  g_return_val_if_fail (TAKES_IS_OPTIMIZER (self), 0);
  return self->max_settings;
}

void
takes_optimizer_set_max_settings (TakesOptimizer *self, guint max_settings)
{
  g_return_if_fail (TAKES_IS_OPTIMIZER (self));
  max_settings = MIN (max_settings, G_N_ELEMENTS (setting_order));
  if (self->max_settings == max_settings)
    return;
  self->max_settings = max_settings;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_SETTINGS]);
}

static gboolean
lexicon_error (GError **error, const char *origin, const char *what)
{
  g_set_error (error, TAKES_OPTIMIZER_ERROR, TAKES_OPTIMIZER_ERROR_INVALID_LEXICON,
               _ ("The optimizer lexicon %s is damaged: %s Reinstall Takes or fix the file."), origin, what);
  return FALSE;
}

static gboolean
has_cjk (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if ((guchar)*p >= 0x80 && takes_fold_is_cjk (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static gboolean
add_term (TakesOptimizer *self,
          TakesPromptFact kind,
          const char *tag,
          JsonNode *node,
          const char *origin,
          GError **error)
{
  const char *text = NULL;
  const char *unfold = NULL;
  g_autofree char *written = NULL;
  g_autofree char *folded = NULL;
  Term term = { kind, NULL, NULL, NULL, self->lexicons->len - 1, FALSE, FALSE };

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    text = json_node_get_string (node);
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);

      text = json_object_get_string_member_with_default (o, "term", NULL);
      unfold = json_object_get_string_member_with_default (o, "unfold", NULL);
    }
  if (text == NULL || *text == '\0')
    return lexicon_error (error, origin, _ ("a term must be a non-empty string or {\"term\": …}."));

  written = g_strdup (text);
  if (g_str_has_suffix (written, "*"))
    {
      written[strlen (written) - 1] = '\0';
      term.prefix = TRUE;
    }
  folded = takes_fold_term (written, NULL, FALSE);
  if (*folded == '\0')
    return lexicon_error (error, origin, _ ("a term has no letters or digits."));

  term.tag = g_strdup (tag);
  term.tags = g_strsplit_set (tag, " ", -1);
  term.unfold = g_strdup (unfold);
  term.cjk = has_cjk (folded);
  g_array_append_val (self->terms, term);
  takes_term_matcher_add (self->matcher, folded, strlen (folded), self->terms->len - 1);
  return TRUE;
}

static char **
read_tags (JsonObject *o, const char *key)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonNode *node = json_object_get_member (o, key);

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);

          if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
            g_strv_builder_add (builder, json_node_get_string (e));
        }
    }
  return g_strv_builder_end (builder);
}

static gboolean
load_lexicon (TakesOptimizer *self, const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonObject *top;
  JsonObject *detect;
  JsonObject *suggest;
  Lexicon *lex;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  if (!json_parser_load_from_mapped_file (parser, path, &local_error))
    {
      g_set_error (error, TAKES_OPTIMIZER_ERROR, TAKES_OPTIMIZER_ERROR_INVALID_LEXICON,
                   _ ("Could not read the optimizer lexicon %s: %s"), path, local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return lexicon_error (error, path, _ ("it must hold one JSON object."));
  top = json_node_get_object (root);
  if (json_object_get_string_member_with_default (top, "language", NULL) == NULL
      || json_object_get_string_member_with_default (top, "separator", NULL) == NULL
      || !json_object_has_member (top, "detect")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (top, "detect"))
      || !json_object_has_member (top, "suggest")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (top, "suggest")))
    return lexicon_error (error, path, _ ("it needs “language”, “separator”, “detect” and “suggest”."));

  lex = g_new0 (Lexicon, 1);
  g_ptr_array_add (self->lexicons, lex);
  lex->language = g_strdup (json_object_get_string_member (top, "language"));
  lex->separator = g_strdup (json_object_get_string_member (top, "separator"));
  for (guint i = 0; i < TAKES_PROMPT_N_FACTS; i++)
    lex->candidates[i] = g_ptr_array_new_with_free_func (candidate_free);

  detect = json_object_get_object_member (top, "detect");
  json_object_iter_init_ordered (&iter, detect);
  while (json_object_iter_next_ordered (&iter, &name, &node))
    {
      TakesPromptFact kind;
      JsonObjectIter tags;
      const char *tag;
      JsonNode *list;

      if (!takes_prompt_fact_from_string (name, &kind) || kind == TAKES_PROMPT_FACT_SKY
          || !JSON_NODE_HOLDS_OBJECT (node))
        return lexicon_error (error, path,
                              _ ("“detect” has an unknown fact or a fact that is not an object."));
      json_object_iter_init_ordered (&tags, json_node_get_object (node));
      while (json_object_iter_next_ordered (&tags, &tag, &list))
        {
          JsonArray *a;

          if (!JSON_NODE_HOLDS_ARRAY (list))
            return lexicon_error (error, path, _ ("the terms of a tag must be a list."));
          a = json_node_get_array (list);
          for (guint i = 0; i < json_array_get_length (a); i++)
            if (!add_term (self, kind, tag, json_array_get_element (a, i), path, error))
              return FALSE;
        }
    }

  suggest = json_object_get_object_member (top, "suggest");
  json_object_iter_init_ordered (&iter, suggest);
  while (json_object_iter_next_ordered (&iter, &name, &node))
    {
      TakesPromptFact kind;
      JsonArray *a;

      if (!takes_prompt_fact_from_string (name, &kind) || kind == TAKES_PROMPT_FACT_SUBJECT
          || kind == TAKES_PROMPT_FACT_STYLE || !JSON_NODE_HOLDS_ARRAY (node))
        return lexicon_error (
            error, path,
            _ ("“suggest” lists a fact that cannot be suggested, or its candidates are not a list."));
      a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          JsonObject *o;
          Candidate *c;
          const char *text;

          if (!JSON_NODE_HOLDS_OBJECT (e))
            return lexicon_error (error, path, _ ("a candidate must be an object with “text”."));
          o = json_node_get_object (e);
          text = json_object_get_string_member_with_default (o, "text", NULL);
          if (text == NULL || *text == '\0')
            return lexicon_error (error, path, _ ("a candidate has no “text”."));
          c = g_new0 (Candidate, 1);
          c->text = g_strdup (text);
          c->when = read_tags (o, "when");
          c->unless = read_tags (o, "unless");
          c->adds = read_tags (o, "adds");
          g_ptr_array_add (lex->candidates[kind], c);
        }
    }
  return TRUE;
}

/* ------------------------------------------------------------------ detection */

typedef struct
{
  guint32 term;
  gsize start; /* folded text */
  gsize end;
} Hit;

typedef struct
{
  TakesOptimizer *self;
  const TakesFoldedText *folded;
  GArray *hits;
} ScanState;

static gboolean
scan_hit_cb (guint32 value, gsize start, gsize end, gpointer user_data)
{
  ScanState *st = user_data;
  const Term *t = &g_array_index (st->self->terms, Term, value);
  const char *text = st->folded->text->str;
  gsize len = st->folded->text->len;
  Hit hit = { value, start, end };

  if (!t->cjk)
    {
      if (!takes_fold_is_boundary (text, len, start))
        return TRUE;
      if (!t->prefix && !takes_fold_is_boundary (text, len, end))
        {
          /* English plurals and third persons: "girls", "drinks", "dishes". */
          if (end < len && text[end] == 's' && takes_fold_is_boundary (text, len, end + 1))
            hit.end = end + 1;
          else if (end + 1 < len && text[end] == 'e' && text[end + 1] == 's'
                   && takes_fold_is_boundary (text, len, end + 2))
            hit.end = end + 2;
          else
            return TRUE;
        }
      else if (t->prefix)
        {
          while (hit.end < len && takes_fold_is_word_char (g_utf8_get_char (text + hit.end)))
            hit.end = g_utf8_next_char (text + hit.end) - text;
        }
    }
  g_array_append_val (st->hits, hit);
  return TRUE;
}

static int
compare_hits_cb (gconstpointer a, gconstpointer b)
{
  const Hit *ha = a;
  const Hit *hb = b;

  if (ha->start != hb->start)
    return ha->start < hb->start ? -1 : 1;
  if (ha->end != hb->end)
    return ha->end > hb->end ? -1 : 1;
  return ha->term < hb->term ? -1 : ha->term > hb->term;
}

/* Hits, sorted, without those strictly inside a longer one. Sorted by start
 * and then by length, a hit is inside an earlier one exactly when an earlier
 * hit ends after it, or ends with it but starts before it. */
static GArray *
detect (TakesOptimizer *self, const TakesFoldedText *folded)
{
  ScanState st = { self, folded, g_array_new (FALSE, FALSE, sizeof (Hit)) };
  GArray *kept = g_array_new (FALSE, FALSE, sizeof (Hit));
  gsize max_end = 0;
  gsize max_end_start = 0;

  takes_term_matcher_scan (self->matcher, folded->text->str, folded->text->len, scan_hit_cb, &st);
  g_array_sort (st.hits, compare_hits_cb);
  for (guint i = 0; i < st.hits->len; i++)
    {
      const Hit *h = &g_array_index (st.hits, Hit, i);
      gboolean inside = i > 0 && (max_end > h->end || (max_end == h->end && max_end_start < h->start));

      if (i == 0 || h->end > max_end)
        {
          max_end = h->end;
          max_end_start = h->start;
        }
      if (inside)
        continue;
      /* Overlapping phrases of one fact ("slow push-in" and "push-in shot")
       * state it once, over their joint span. */
      if (kept->len > 0)
        {
          Hit *last = &g_array_index (kept, Hit, kept->len - 1);

          if (h->start < last->end
              && g_array_index (self->terms, Term, h->term).kind
                     == g_array_index (self->terms, Term, last->term).kind)
            {
              last->end = MAX (last->end, h->end);
              continue;
            }
        }
      g_array_append_val (kept, *h);
    }
  g_array_unref (st.hits);
  return kept;
}

/* ------------------------------------------------------------------ analysis */

struct _TakesPromptAnalysis
{
  GObject parent_instance;

  char *prompt;
  char *language;
  char *separator;
  GPtrArray *facts;       /* TakesPromptFactMatch */
  GPtrArray *suggestions; /* TakesPromptSuggestion */
  gsize core_end;         /* where the prompt's last clause ends, before closing punctuation */
};

G_DEFINE_FINAL_TYPE (TakesPromptAnalysis, takes_prompt_analysis, G_TYPE_OBJECT)

static void
fact_match_free (gpointer data)
{
  TakesPromptFactMatch *m = data;

  g_free (m->tag);
  g_free (m->text);
  g_free (m);
}

static void
suggestion_free (gpointer data)
{
  TakesPromptSuggestion *s = data;

  g_free (s->text);
  g_free (s->explanation);
  g_free (s);
}

static void
takes_prompt_analysis_finalize (GObject *object)
{
  TakesPromptAnalysis *self = TAKES_PROMPT_ANALYSIS (object);

  g_clear_pointer (&self->prompt, g_free);
  g_clear_pointer (&self->language, g_free);
  g_clear_pointer (&self->separator, g_free);
  g_clear_pointer (&self->facts, g_ptr_array_unref);
  g_clear_pointer (&self->suggestions, g_ptr_array_unref);

  G_OBJECT_CLASS (takes_prompt_analysis_parent_class)->finalize (object);
}

static void
takes_prompt_analysis_class_init (TakesPromptAnalysisClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_prompt_analysis_finalize;
}

static void
takes_prompt_analysis_init (TakesPromptAnalysis *self)
{
  self->facts = g_ptr_array_new_with_free_func (fact_match_free);
  self->suggestions = g_ptr_array_new_with_free_func (suggestion_free);
}

const char *
takes_prompt_guess_language (const char *prompt)
{
  guint han = 0;
  guint latin = 0;

  for (const char *p = prompt; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x80)
        latin += g_ascii_isalpha (c) ? 1 : 0;
      else if (takes_fold_is_cjk (c))
        han++;
    }
  /* One Han character carries about as much as a short English word. */
  return han > 0 && han * 3 >= latin ? "zh" : "en";
}

static gboolean
is_closing_char (gunichar c)
{
  return g_unichar_isspace (c) || c == '.' || c == ',' || c == ';' || c == '!' || c == '?' || c == 0x3002
         || c == 0xFF0C || c == 0xFF1B || c == 0xFF01 || c == 0xFF1F || c == 0x3001;
}

static gboolean
is_clause_break (gunichar c)
{
  return c == ',' || c == ';' || c == '.' || c == '\n' || c == 0x3002 || c == 0xFF0C || c == 0xFF1B
         || c == 0x3001;
}

static gsize
find_core_end (const char *prompt)
{
  const char *end = prompt + strlen (prompt);

  while (end > prompt)
    {
      const char *prev = g_utf8_prev_char (end);

      if (!is_closing_char (g_utf8_get_char (prev)))
        break;
      end = prev;
    }
  return end - prompt;
}

typedef struct
{
  GHashTable *tags;
  guint64 seed;
  guint prompt_hash;
} Context;

static gboolean
candidate_fits (const Candidate *c, GHashTable *tags)
{
  for (guint i = 0; c->when[i] != NULL; i++)
    if (!g_hash_table_contains (tags, c->when[i]))
      return FALSE;
  for (guint i = 0; c->unless[i] != NULL; i++)
    if (g_hash_table_contains (tags, c->unless[i]))
      return FALSE;
  return TRUE;
}

static guint64
mix (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return x ^ (x >> 31);
}

/* The first fitting candidate for seed 0 (the lexicon lists the defaults
 * first), else one picked by the seed, the prompt and the fact. */
static const Candidate *
pick (const Lexicon *lex, TakesPromptFact kind, Context *ctx)
{
  g_autoptr (GPtrArray) fitting = g_ptr_array_new ();
  const Candidate *chosen;

  for (guint i = 0; i < lex->candidates[kind]->len; i++)
    {
      const Candidate *c = g_ptr_array_index (lex->candidates[kind], i);
      gboolean duplicate = FALSE;

      if (!candidate_fits (c, ctx->tags))
        continue;
      for (guint j = 0; j < fitting->len; j++)
        if (g_str_equal (((const Candidate *)g_ptr_array_index (fitting, j))->text, c->text))
          duplicate = TRUE;
      if (!duplicate)
        g_ptr_array_add (fitting, (gpointer)c);
    }
  if (fitting->len == 0)
    return NULL;
  if (ctx->seed == 0)
    chosen = g_ptr_array_index (fitting, 0);
  else
    chosen = g_ptr_array_index (fitting,
                                mix (ctx->seed ^ ((guint64)ctx->prompt_hash << 16) ^ kind) % fitting->len);
  for (guint i = 0; chosen->adds[i] != NULL; i++)
    g_hash_table_add (ctx->tags, chosen->adds[i]);
  return chosen;
}

static TakesPromptSuggestion *
suggestion_new (TakesPromptFact kind, const char *text, gsize position)
{
  TakesPromptSuggestion *s = g_new0 (TakesPromptSuggestion, 1);

  s->kind = kind;
  s->edit = TAKES_PROMPT_EDIT_INSERT;
  s->text = g_strdup (text);
  s->explanation = explanation_for (kind);
  s->position = position;
  return s;
}

/* A style stated after the first clause is moved to the front when its
 * clause is short enough to be the style alone ("…, watercolor style"). */
static TakesPromptSuggestion *
style_move (TakesPromptAnalysis *self, const TakesPromptFactMatch *style)
{
  const char *p = self->prompt;
  const char *clause_start = p + style->start;
  const char *clause_end = p + style->end;
  const char *remove_start;
  g_autofree char *clause = NULL;
  guint words = 0;
  TakesPromptSuggestion *s;

  while (clause_start > p && !is_clause_break (g_utf8_get_char (g_utf8_prev_char (clause_start))))
    clause_start = g_utf8_prev_char (clause_start);
  if (clause_start == p)
    return NULL;
  while (*clause_end != '\0' && !is_clause_break (g_utf8_get_char (clause_end)))
    clause_end = g_utf8_next_char (clause_end);
  while (clause_end > clause_start && g_unichar_isspace (g_utf8_get_char (g_utf8_prev_char (clause_end))))
    clause_end = g_utf8_prev_char (clause_end);
  remove_start = g_utf8_prev_char (clause_start);
  while (*clause_start != '\0' && g_unichar_isspace (g_utf8_get_char (clause_start)))
    clause_start = g_utf8_next_char (clause_start);
  if (clause_end <= clause_start)
    return NULL;

  clause = g_strndup (clause_start, clause_end - clause_start);
  for (const char *c = clause; *c != '\0'; c = g_utf8_next_char (c))
    {
      gunichar ch = g_utf8_get_char (c);

      if (takes_fold_is_cjk (ch))
        words++;
      else if (g_unichar_isspace (ch))
        words++;
    }
  if ((g_str_equal (self->language, "zh") && words > 12)
      || (!g_str_equal (self->language, "zh") && words > 6))
    return NULL;

  s = suggestion_new (TAKES_PROMPT_FACT_STYLE, clause, 0);
  s->edit = TAKES_PROMPT_EDIT_MOVE;
  s->remove_start = remove_start - p;
  s->remove_end = clause_end - p;
  return s;
}

static const Lexicon *
lexicon_for (TakesOptimizer *self, const char *language)
{
  for (guint i = 0; i < self->lexicons->len; i++)
    {
      const Lexicon *lex = g_ptr_array_index (self->lexicons, i);

      if (g_str_equal (lex->language, language))
        return lex;
    }
  return self->lexicons->len > 0 ? g_ptr_array_index (self->lexicons, 0) : NULL;
}

static const TakesPromptFactMatch *
first_fact (TakesPromptAnalysis *self, TakesPromptFact kind)
{
  for (guint i = 0; i < self->facts->len; i++)
    {
      const TakesPromptFactMatch *m = g_ptr_array_index (self->facts, i);

      if (m->kind == kind)
        return m;
    }
  return NULL;
}

TakesPromptAnalysis *
takes_optimizer_analyze (TakesOptimizer *self, const char *prompt, guint64 seed)
{
  g_autoptr (TakesPromptAnalysis) analysis = NULL;
  g_autoptr (GHashTable) tags = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) hits = NULL;
  g_autoptr (GPtrArray) settings = g_ptr_array_new ();
  g_autofree gboolean *has = g_new0 (gboolean, TAKES_PROMPT_N_FACTS);
  TakesFoldedText folded;
  Context ctx;
  const Lexicon *lex;
  const TakesPromptFactMatch *style;
  const char *unfold = NULL;
  gboolean two_d;
  guint n_settings = 0;
  char has_tags[TAKES_PROMPT_N_FACTS][32];

  g_return_val_if_fail (TAKES_IS_OPTIMIZER (self), NULL);
  g_return_val_if_fail (prompt != NULL, NULL);

  analysis = g_object_new (TAKES_TYPE_PROMPT_ANALYSIS, NULL);
  analysis->prompt = g_utf8_make_valid (prompt, -1);
  analysis->language = g_strdup (takes_prompt_guess_language (analysis->prompt));
  analysis->core_end = find_core_end (analysis->prompt);
  lex = lexicon_for (self, analysis->language);
  analysis->separator = g_strdup (lex != NULL ? lex->separator : ", ");

  takes_folded_text_init (&folded, FALSE);
  takes_folded_text_fold (&folded, analysis->prompt, strlen (analysis->prompt), NULL);
  hits = detect (self, &folded);
  for (guint i = 0; i < hits->len; i++)
    {
      const Hit *h = &g_array_index (hits, Hit, i);
      const Term *t = &g_array_index (self->terms, Term, h->term);
      const TakesTextSpan *src = (const TakesTextSpan *)folded.text_src->data;
      TakesPromptFactMatch *m;

      /* Spellings that fold alike ("low angle", "low-angle") are one fact. */
      if (i > 0 && g_array_index (hits, Hit, i - 1).start == h->start
          && g_array_index (hits, Hit, i - 1).end == h->end
          && g_array_index (self->terms, Term, g_array_index (hits, Hit, i - 1).term).kind == t->kind
          && g_str_equal (g_array_index (self->terms, Term, g_array_index (hits, Hit, i - 1).term).tag,
                          t->tag))
        continue;
      m = g_new0 (TakesPromptFactMatch, 1);
      m->kind = t->kind;
      m->tag = g_strdup (t->tag);
      m->start = src[h->start].start;
      m->end = src[h->end - 1].end;
      m->text = g_strndup (analysis->prompt + m->start, m->end - m->start);
      g_ptr_array_add (analysis->facts, m);
      has[t->kind] = TRUE;
      for (guint k = 0; t->tags[k] != NULL; k++)
        if (*t->tags[k] != '\0')
          g_hash_table_add (tags, t->tags[k]);
      if (t->kind == TAKES_PROMPT_FACT_ACTION && unfold == NULL)
        unfold = t->unfold;
    }
  takes_folded_text_clear (&folded);

  for (guint k = 0; k < TAKES_PROMPT_N_FACTS; k++)
    if (has[k])
      {
        g_snprintf (has_tags[k], sizeof has_tags[k], "has:%s", fact_ids[k]);
        g_hash_table_add (tags, has_tags[k]);
      }
  if (!has[TAKES_PROMPT_FACT_SUBJECT])
    g_hash_table_add (tags, (gpointer) "no_subject");
  if (lex == NULL)
    return g_steal_pointer (&analysis);

  ctx.tags = tags;
  ctx.seed = seed;
  ctx.prompt_hash = g_str_hash (analysis->prompt);
  two_d = g_hash_table_contains (tags, "2d");

  style = first_fact (analysis, TAKES_PROMPT_FACT_STYLE);
  if (style != NULL)
    {
      TakesPromptSuggestion *move = style_move (analysis, style);

      if (move != NULL)
        g_ptr_array_add (analysis->suggestions, move);
    }

  for (guint i = 0; i < G_N_ELEMENTS (setting_order); i++)
    {
      TakesPromptFact kind = setting_order[i];
      const Candidate *c;

      if (has[kind] || (two_d && is_camera_vocabulary (kind)))
        continue;
      /* The official rules leave the angle to a camera move that is given. */
      if (kind == TAKES_PROMPT_FACT_CAMERA_ANGLE && has[TAKES_PROMPT_FACT_CAMERA_MOVEMENT])
        continue;
      c = pick (lex, kind, &ctx);
      g_ptr_array_add (settings, c != NULL ? suggestion_new (kind, c->text, 0) : NULL);
    }
  for (guint p = 0; p < G_N_ELEMENTS (setting_priority); p++)
    for (guint i = 0; i < settings->len; i++)
      {
        TakesPromptSuggestion *s = g_ptr_array_index (settings, i);

        if (s == NULL || s->kind != setting_priority[p])
          continue;
        if (self->max_settings != 0 && n_settings >= self->max_settings)
          {
            suggestion_free (s);
            settings->pdata[i] = NULL;
            continue;
          }
        n_settings++;
      }
  for (guint i = 0; i < settings->len; i++)
    if (g_ptr_array_index (settings, i) != NULL)
      g_ptr_array_add (analysis->suggestions, g_ptr_array_index (settings, i));

  if (!has[TAKES_PROMPT_FACT_ACTION])
    {
      const Candidate *c = pick (lex, TAKES_PROMPT_FACT_ACTION, &ctx);

      if (c != NULL)
        g_ptr_array_add (analysis->suggestions,
                         suggestion_new (TAKES_PROMPT_FACT_ACTION, c->text, analysis->core_end));
    }
  else if (!has[TAKES_PROMPT_FACT_UNFOLDING])
    {
      const Candidate *c = NULL;

      if (unfold == NULL || (has_cjk (unfold) != g_str_equal (analysis->language, "zh")))
        {
          c = pick (lex, TAKES_PROMPT_FACT_UNFOLDING, &ctx);
          unfold = c != NULL ? c->text : NULL;
        }
      if (unfold != NULL)
        g_ptr_array_add (analysis->suggestions,
                         suggestion_new (TAKES_PROMPT_FACT_UNFOLDING, unfold, analysis->core_end));
    }
  if (!has[TAKES_PROMPT_FACT_SCENE])
    {
      const Candidate *c = pick (lex, TAKES_PROMPT_FACT_SCENE, &ctx);

      if (c != NULL)
        g_ptr_array_add (analysis->suggestions,
                         suggestion_new (TAKES_PROMPT_FACT_SCENE, c->text, analysis->core_end));
    }
  if (g_hash_table_contains (tags, "sky") && !g_hash_table_contains (tags, "sky_described") && !two_d)
    {
      const Candidate *c = pick (lex, TAKES_PROMPT_FACT_SKY, &ctx);

      if (c != NULL)
        g_ptr_array_add (analysis->suggestions,
                         suggestion_new (TAKES_PROMPT_FACT_SKY, c->text, analysis->core_end));
    }
  return g_steal_pointer (&analysis);
}

const char *
takes_prompt_analysis_get_prompt (TakesPromptAnalysis *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), NULL);
  return self->prompt;
}

const char *
takes_prompt_analysis_get_language (TakesPromptAnalysis *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), NULL);
  return self->language;
}

GPtrArray *
takes_prompt_analysis_get_facts (TakesPromptAnalysis *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), NULL);
  return self->facts;
}

gboolean
takes_prompt_analysis_has_fact (TakesPromptAnalysis *self, TakesPromptFact kind)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), FALSE);
  return first_fact (self, kind) != NULL;
}

GPtrArray *
takes_prompt_analysis_get_suggestions (TakesPromptAnalysis *self)
{
  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), NULL);
  return self->suggestions;
}

static void
join_items (GString *out, GPtrArray *items, const char *separator)
{
  for (guint i = 0; i < items->len; i++)
    {
      if (i > 0)
        g_string_append (out, separator);
      g_string_append (out, g_ptr_array_index (items, i));
    }
}

/* Words that are capitalised only because they open the prompt, and read
 * lower case once settings are put in front of them. Names stay as written. */
static gboolean
starts_with_function_word (const char *text)
{
  static const char *const words[] = {
    "A",    "An",   "The",  "One",   "Two",   "Three", "Four", "Five", "Six",   "Some", "Several",
    "Many", "This", "That", "These", "Those", "His",   "Her",  "Its",  "Their", "Our",  "My",
  };

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    {
      gsize n = strlen (words[i]);

      if (strncmp (text, words[i], n) == 0 && text[n] == ' ')
        return TRUE;
    }
  return FALSE;
}

char *
takes_prompt_analysis_apply (TakesPromptAnalysis *self, const guint *indices, guint n_indices)
{
  g_autofree gboolean *chosen = NULL;
  g_autoptr (GPtrArray) front = g_ptr_array_new ();
  g_autoptr (GPtrArray) back = g_ptr_array_new ();
  g_autoptr (GString) body = NULL;
  GString *out;
  gsize core_end;
  const char *sep;
  gboolean english;

  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), NULL);

  chosen = g_new0 (gboolean, self->suggestions->len + 1);
  for (guint i = 0; i < n_indices; i++)
    if (indices[i] < self->suggestions->len)
      chosen[indices[i]] = TRUE;

  body = g_string_new (self->prompt);
  core_end = self->core_end;
  for (guint i = 0; i < self->suggestions->len; i++)
    {
      const TakesPromptSuggestion *s = g_ptr_array_index (self->suggestions, i);

      if (!chosen[i])
        continue;
      if (s->edit == TAKES_PROMPT_EDIT_MOVE)
        {
          g_string_erase (body, s->remove_start, s->remove_end - s->remove_start);
          if (core_end >= s->remove_end)
            core_end -= s->remove_end - s->remove_start;
          else if (core_end > s->remove_start)
            core_end = s->remove_start;
        }
      if (s->position == 0 && s->kind != TAKES_PROMPT_FACT_ACTION && s->kind != TAKES_PROMPT_FACT_UNFOLDING
          && s->kind != TAKES_PROMPT_FACT_SCENE && s->kind != TAKES_PROMPT_FACT_SKY)
        g_ptr_array_add (front, s->text);
      else
        g_ptr_array_add (back, s->text);
    }

  /* A moved style can leave the core ending on a separator or space. */
  while (core_end > 0 && is_closing_char (g_utf8_get_char (g_utf8_prev_char (body->str + core_end))))
    core_end = g_utf8_prev_char (body->str + core_end) - body->str;

  sep = self->separator;
  english = !g_str_equal (self->language, "zh");
  out = g_string_sized_new (body->len + 128);
  if (front->len > 0)
    {
      const char *start = body->str;

      join_items (out, front, sep);
      g_string_append (out, sep);
      while (*start != '\0' && g_unichar_isspace (g_utf8_get_char (start)))
        start = g_utf8_next_char (start);
      if (english && starts_with_function_word (start))
        {
          g_string_append_c (out, g_ascii_tolower (*start));
          start++;
        }
      g_string_append_len (out, start, body->str + core_end - start);
      if (english && g_ascii_islower (out->str[0]))
        out->str[0] = g_ascii_toupper (out->str[0]);
    }
  else
    g_string_append_len (out, body->str, core_end);
  if (back->len > 0)
    {
      if (core_end > 0)
        g_string_append (out, sep);
      join_items (out, back, sep);
    }
  g_string_append (out, body->str + core_end);
  return g_string_free (out, FALSE);
}

char *
takes_prompt_analysis_apply_all (TakesPromptAnalysis *self)
{
  g_autofree guint *all = NULL;

  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), NULL);
  all = g_new (guint, self->suggestions->len + 1);
  for (guint i = 0; i < self->suggestions->len; i++)
    all[i] = i;
  return takes_prompt_analysis_apply (self, all, self->suggestions->len);
}

JsonNode *
takes_prompt_analysis_to_json (TakesPromptAnalysis *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *result = NULL;

  g_return_val_if_fail (TAKES_IS_PROMPT_ANALYSIS (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, self->prompt);
  json_builder_set_member_name (b, "language");
  json_builder_add_string_value (b, self->language);

  json_builder_set_member_name (b, "facts");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->facts->len; i++)
    {
      const TakesPromptFactMatch *m = g_ptr_array_index (self->facts, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, fact_ids[m->kind]);
      json_builder_set_member_name (b, "tag");
      json_builder_add_string_value (b, m->tag);
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, m->text);
      json_builder_set_member_name (b, "start");
      json_builder_add_int_value (b, m->start);
      json_builder_set_member_name (b, "end");
      json_builder_add_int_value (b, m->end);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "suggestions");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->suggestions->len; i++)
    {
      const TakesPromptSuggestion *s = g_ptr_array_index (self->suggestions, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, fact_ids[s->kind]);
      json_builder_set_member_name (b, "edit");
      json_builder_add_string_value (b, s->edit == TAKES_PROMPT_EDIT_MOVE ? "move" : "insert");
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, s->text);
      json_builder_set_member_name (b, "explanation");
      json_builder_add_string_value (b, s->explanation);
      json_builder_set_member_name (b, "position");
      json_builder_add_int_value (b, s->position);
      if (s->edit == TAKES_PROMPT_EDIT_MOVE)
        {
          json_builder_set_member_name (b, "remove_start");
          json_builder_add_int_value (b, s->remove_start);
          json_builder_set_member_name (b, "remove_end");
          json_builder_add_int_value (b, s->remove_end);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  result = takes_prompt_analysis_apply_all (self);
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, result);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ------------------------------------------------------------------ loading */

typedef struct
{
  TakesOptimizer *self;
  const char *text;
  gsize length;
  const Term *subject;
} SubjectCheck;

static gboolean
subject_hit_cb (guint32 value, gsize start, gsize end, gpointer user_data)
{
  SubjectCheck *st = user_data;
  const Term *t = &g_array_index (st->self->terms, Term, value);

  if (t->kind != TAKES_PROMPT_FACT_SUBJECT)
    return TRUE;
  if (!t->cjk
      && (!takes_fold_is_boundary (st->text, st->length, start)
          || (!t->prefix && !takes_fold_is_boundary (st->text, st->length, end))))
    return TRUE;
  st->subject = t;
  return FALSE;
}

/* A suggestion that names a subject would add one to every prompt it is
 * applied to; the lexicon is refused rather than trusted. */
static gboolean
check_no_subjects (TakesOptimizer *self, GError **error)
{
  for (guint l = 0; l < self->lexicons->len; l++)
    {
      const Lexicon *lex = g_ptr_array_index (self->lexicons, l);

      for (guint k = 0; k < TAKES_PROMPT_N_FACTS; k++)
        for (guint i = 0; i < lex->candidates[k]->len; i++)
          {
            const Candidate *c = g_ptr_array_index (lex->candidates[k], i);
            g_autofree char *folded = takes_fold_term (c->text, NULL, FALSE);
            SubjectCheck st = { self, folded, strlen (folded), NULL };

            takes_term_matcher_scan (self->matcher, folded, st.length, subject_hit_cb, &st);
            if (st.subject != NULL)
              {
                g_autofree char *what = g_strdup_printf (
                    _ ("the suggestion “%s” names a subject, and suggestions may never add one."), c->text);

                return lexicon_error (error, lex->language, what);
              }
          }
    }
  for (guint i = 0; i < self->terms->len; i++)
    {
      const Term *t = &g_array_index (self->terms, Term, i);
      g_autofree char *folded = NULL;
      SubjectCheck st = { self, NULL, 0, NULL };

      if (t->unfold == NULL)
        continue;
      folded = takes_fold_term (t->unfold, NULL, FALSE);
      st.text = folded;
      st.length = strlen (folded);
      takes_term_matcher_scan (self->matcher, folded, st.length, subject_hit_cb, &st);
      if (st.subject != NULL)
        {
          g_autofree char *what = g_strdup_printf (
              _ ("the suggestion “%s” names a subject, and suggestions may never add one."), t->unfold);

          return lexicon_error (error, ((Lexicon *)g_ptr_array_index (self->lexicons, t->lexicon))->language,
                                what);
        }
    }
  return TRUE;
}

TakesOptimizer *
takes_optimizer_new_from_files (const char *const *paths, GError **error)
{
  g_autoptr (TakesOptimizer) self = g_object_new (TAKES_TYPE_OPTIMIZER, NULL);

  g_return_val_if_fail (paths != NULL && paths[0] != NULL, NULL);

  for (guint i = 0; paths[i] != NULL; i++)
    if (!load_lexicon (self, paths[i], error))
      return NULL;
  takes_term_matcher_compile (self->matcher);
  if (!check_no_subjects (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

TakesOptimizer *
takes_optimizer_new_default (GError **error)
{
  g_autofree char *en = takes_paths_datafile ("prompt/lexicon-en.json");
  g_autofree char *zh = takes_paths_datafile ("prompt/lexicon-zh.json");
  const char *paths[] = { en, zh, NULL };

  return takes_optimizer_new_from_files (paths, error);
}
