/* takes-engine-private.h: helpers shared by the engine's source files. */
#pragma once

#include <json-glib/json-glib.h>

#include "takes-engine.h"

G_BEGIN_DECLS

/* Hands a message to the log callback, if one is set. */
void takes_engine_log (TakesEngineLogLevel level, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Deepest nesting accepted in JSON files: the real files need 6 levels, and
 * a bound keeps a hostile file from exhausting the parser's stack. */
#define TAKES_ENGINE_JSON_MAX_DEPTH 64

/* Parses JSON text from @file (a name for messages) into a new root node,
 * refusing nesting deeper than TAKES_ENGINE_JSON_MAX_DEPTH. */
JsonNode *takes_engine_parse_json (const char *data, gsize length, const char *file, GError **error);

/* Reads a whole small file (config, index, tokenizer) with an upper bound on
 * its size, mapping GIO errors to TAKES_ENGINE_ERROR codes. */
gboolean
takes_engine_read_file (const char *path, gsize max_size, char **contents, gsize *length, GError **error);

/* Maps a GFileError code to the engine code a user can act on. */
TakesEngineError takes_engine_error_from_file_error (int file_error_code);

G_END_DECLS
