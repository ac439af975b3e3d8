/* libFuzzer target: tokenizer.json (and, for inputs that do not start with
 * '{', spiece.model) loading, then tokenizing fixed prompts and the input. */
#include <stdint.h>
#include <string.h>

#include "takes-engine.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
exercise (const Umt5Tokenizer *tok, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = umt5_tokenizer_tokenize (tok, text, &error);
  gint32 out[UMT5_TEXT_LEN], mask[UMT5_TEXT_LEN];
  guint n = 0;

  if (ids != NULL)
    for (guint i = 0; i < ids->len; i++)
      g_assert (g_array_index (ids, gint32, i) >= 0);
  g_clear_error (&error);
  if (umt5_tokenizer_encode (tok, text, UMT5_TEXT_LEN, out, mask, &n, &error))
    g_assert (n >= 1 && n <= UMT5_TEXT_LEN && mask[n - 1] == 1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *prompts[] = { "A red fox runs through the snowy forest at dawn.",
                            "  ｆｕｌｌ-width\tand “quotes” &amp; caf\xc3\x83\xc2\xa9 </s> <unk>",
                            "\xe4\xb8\x80\xe5\x8f\xaa\xe5\xb0\x8f\xe7\x8c\xab", "" };
  g_autoptr (GError) error = NULL;
  g_autoptr (Umt5Tokenizer) tok = NULL;

  if (size > 0 && data[0] == '{')
    tok = umt5_tokenizer_new_from_json ((const char *)data, size, &error);
  else
    tok = umt5_tokenizer_new_from_spiece (data, size, &error);
  if (tok == NULL)
    {
      g_assert (error != NULL);
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (prompts); i++)
    exercise (tok, prompts[i]);
  if (size < 4096)
    {
      g_autofree char *text = g_strndup ((const char *)data, size);

      if (g_utf8_validate (text, -1, NULL))
        exercise (tok, text);
    }
  return 0;
}
