/* takes-prompt-diff.h: a word-level diff between two prompts.
 *
 * Latin-script text is compared word by word (spaces and punctuation are
 * tokens of their own); Chinese, Japanese and Korean text, which does not
 * mark words, character by character. Used to show an LLM rewrite as a
 * proposal against the original.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  TAKES_DIFF_EQUAL,
  TAKES_DIFF_DELETE, /* only in the first prompt */
  TAKES_DIFF_INSERT, /* only in the second prompt */
} TakesDiffOp;

typedef struct
{
  TakesDiffOp op;
  char *text;
} TakesDiffChunk;

void takes_diff_chunk_free (TakesDiffChunk *chunk);

/* TakesDiffChunk in reading order. Joining the EQUAL and DELETE chunks gives
 * @before, the EQUAL and INSERT chunks @after. Within a change, deletions come
 * before insertions; spaces alone between two changes join them. Inputs that
 * are not UTF-8 are compared in their valid form. */
GPtrArray *takes_prompt_diff (const char *before, const char *after);

/* The diff for a terminal: [-deleted-] and {+inserted+}. */
char *takes_prompt_diff_format (GPtrArray *chunks);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesDiffChunk, takes_diff_chunk_free)

G_END_DECLS
