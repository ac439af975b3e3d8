/* umt5-text.h: the text clean-up before tokenization (internal). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Python's str.isspace(): what the official pipeline's \s and strip() see. */
gboolean umt5_py_isspace (gunichar c);
/* Python's html.unescape() on the HTML 4 entities, numeric references and
 * the legacy entities that may omit their semicolon. */
char *umt5_html_unescape (const char *text);
/* The repairs of ftfy.fix_text() with its default settings, approximated:
 * see umt5-text.c for what is covered. */
char *umt5_fix_text (const char *text);

G_END_DECLS
