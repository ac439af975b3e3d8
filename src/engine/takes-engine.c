/* takes-engine.c: the error domain and the log callback. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "takes-engine-private.h"

G_DEFINE_QUARK (takes - engine - error - quark, takes_engine_error)

static GMutex log_lock;
static TakesEngineLogFunc log_func;
static gpointer log_data;

void
takes_engine_set_log_func (TakesEngineLogFunc func, gpointer user_data)
{
  g_mutex_lock (&log_lock);
  log_func = func;
  log_data = user_data;
  g_mutex_unlock (&log_lock);
}

void
takes_engine_log (TakesEngineLogLevel level, const char *format, ...)
{
  TakesEngineLogFunc func;
  gpointer data;
  g_autofree char *message = NULL;
  va_list args;

  g_mutex_lock (&log_lock);
  func = log_func;
  data = log_data;
  g_mutex_unlock (&log_lock);
  if (func == NULL)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  func (level, message, data);
}

const char *
wan_arch_get_name (WanArch arch)
{
  switch (arch)
    {
      case WAN_ARCH_TINY:
        return "tiny";
      case WAN_ARCH_WAN21_T2V_1_3B:
        return "Wan2.1-T2V-1.3B";
      case WAN_ARCH_WAN21_T2V_14B:
        return "Wan2.1-T2V-14B";
      case WAN_ARCH_WAN22_TI2V_5B:
        return "Wan2.2-TI2V-5B";
      case WAN_ARCH_WAN22_T2V_A14B:
        return "Wan2.2-T2V-A14B";
      case WAN_ARCH_CUSTOM:
        return "Wan (custom size)";
      case WAN_ARCH_UNKNOWN:
      default:
        return "unknown";
    }
}

TakesEngineError
takes_engine_error_from_file_error (int file_error_code)
{
  switch (file_error_code)
    {
      case G_FILE_ERROR_NOENT:
      case G_FILE_ERROR_NOTDIR:
        return TAKES_ENGINE_ERROR_NOT_FOUND;
      case G_FILE_ERROR_NOMEM:
        return TAKES_ENGINE_ERROR_NO_MEMORY;
      default:
        return TAKES_ENGINE_ERROR_IO;
    }
}

gboolean
takes_engine_read_file (const char *path, gsize max_size, char **contents, gsize *length, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, TAKES_ENGINE_ERROR,
                   takes_engine_error_from_file_error (g_file_error_from_errno (saved)),
                   _ ("Could not read “%s”: %s."), path, g_strerror (saved));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("“%s” is a folder, not a file; point to the file inside it."), path);
      return FALSE;
    }
  if ((guint64)st.st_size > max_size)
    {
      g_autofree char *size = g_format_size ((guint64)st.st_size);
      g_autofree char *limit = g_format_size (max_size);
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("“%s” is %s, more than the %s such a file can be; it is not the right file."), path,
                   size, limit);
      return FALSE;
    }
  if (!g_file_get_contents (path, contents, length, &local_error))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, takes_engine_error_from_file_error (local_error->code),
                   _ ("Could not read “%s”: %s."), path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* Counts bracket depth outside strings; json-glib recurses once per level. */
static gboolean
json_depth_ok (const char *data, gsize length)
{
  int depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > TAKES_ENGINE_JSON_MAX_DEPTH)
            return FALSE;
        }
      else if (c == ']' || c == '}')
        depth--;
    }
  return TRUE;
}

JsonNode *
takes_engine_parse_json (const char *data, gsize length, const char *file, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;

  if (length > G_MAXSSIZE || !json_depth_ok (data, length))
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
          _ ("“%s” is not valid JSON: it nests deeper than %d levels. Replace it with the original file."),
          file, TAKES_ENGINE_JSON_MAX_DEPTH);
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize)length, &local_error))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("“%s” is not valid JSON (%s). Replace it with the original file."), file,
                   local_error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("“%s” is empty. Replace it with the original file."), file);
      return NULL;
    }
  return json_parser_steal_root (parser);
}
