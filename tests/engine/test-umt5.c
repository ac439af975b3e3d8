/* test-umt5.c: the umT5 encoder against the golden tensors of t5_case. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "engine-test-util.h"
#include "umt5-encoder.h"

/* Results of the GEMM path that multiplies BF16 weights in BF16 are not the
 * F32 computation the golden data holds, so the tests use the exact path. */
static void
use_exact_gemm (void)
{
  tk_gemm_set_sbgemm (NULL);
}

static gint32 *
read_ids (const Safetensors *st, const char *name, int *n_valid)
{
  const SafetensorsTensor *ids = safetensors_lookup (st, name);
  g_autofree char *mask_name = g_strdup_printf ("mask%s", strchr (name, '_'));
  const SafetensorsTensor *mask = safetensors_lookup (st, mask_name);
  gint32 *out;

  g_assert_nonnull (ids);
  g_assert_nonnull (mask);
  g_assert_cmpint (ids->dtype, ==, SAFETENSORS_DTYPE_I64);
  out = g_new (gint32, ids->n_elements);
  *n_valid = 0;
  for (gint64 i = 0; i < ids->n_elements; i++)
    {
      gint64 v, m;

      memcpy (&v, ids->data + i * 8, 8);
      memcpy (&m, mask->data + i * 8, 8);
      out[i] = (gint32)v;
      *n_valid += m != 0;
    }
  return out;
}

static void
check_golden (const char *weights_file, const char *suffix)
{
  g_autofree char *wpath = test_golden_path (weights_file);
  g_autofree char *cpath = test_golden_path ("t5_case.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  g_autoptr (Safetensors) golden = NULL;
  g_autoptr (Umt5Encoder) enc = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *tolerances = test_golden_tolerances (parser, "t5_case");

  g_assert_no_error (error);
  golden = safetensors_open (cpath, &error);
  g_assert_no_error (error);
  enc = umt5_encoder_new (weights, 2, &error);
  g_assert_no_error (error);

  for (int p = 0; p < 2; p++)
    {
      g_autofree char *ids_name = g_strdup_printf ("ids_%d", p);
      g_autofree char *out_name = g_strdup_printf ("out_%d%s", p, suffix);
      int n_valid;
      g_autofree gint32 *ids = read_ids (golden, ids_name, &n_valid);
      gsize n_want;
      g_autofree float *want = test_read_f32 (golden, out_name, &n_want, NULL);
      g_autofree float *got = g_new0 (float, n_want);
      JsonObject *tol = json_object_get_object_member (tolerances, out_name);

      g_assert_cmpuint (n_want, ==, (gsize)n_valid * umt5_encoder_get_dim (enc));
      umt5_encoder_encode (enc, ids, n_valid, got, NULL, NULL, &error);
      g_assert_no_error (error);
      test_compare_f32 (got, want, n_want, json_object_get_double_member (tol, "suggested_max_abs"),
                        json_object_get_double_member (tol, "suggested_rel_l2"), out_name);
    }
}

static void
test_golden_official_names (void)
{
  check_golden ("t5_f32.safetensors", "");
}

static void
test_golden_hf_names_f16 (void)
{
  check_golden ("t5_hf_f16.safetensors", "_f16w");
}

/* The formula of the official _relative_position_bucket, in double, with
 * the float rounding only where the reference rounds. */
static int
reference_bucket (int rel)
{
  int nb = 16, max_exact = 8, bucket = rel > 0 ? nb : 0, a = abs (rel);
  float ratio;

  if (a < max_exact)
    return bucket + a;
  ratio = logf ((float)a / 8.0f) / (float)log (128.0 / 8.0);
  return bucket + MIN (nb - 1, max_exact + (int)(ratio * 8.0f));
}

static void
test_buckets_match_reference (void)
{
  const int lq = 301, lk = 301;
  g_autofree gint32 *table = g_new (gint32, lq + lk - 1);

  g_assert_cmpint (tk_attention_t5_buckets (lq, lk, 32, UMT5_MAX_DISTANCE, table), ==, TK_OK);
  for (int rel = -300; rel <= 300; rel++)
    {
      int want = reference_bucket (rel);

      g_assert_cmpint (umt5_relative_bucket (rel, 32, UMT5_MAX_DISTANCE), ==, want);
      g_assert_cmpint (table[rel + lq - 1], ==, want);
    }
  /* The landmarks of the table: exact below 8, the log range, the clamp. */
  g_assert_cmpint (reference_bucket (7), ==, 16 + 7);
  g_assert_cmpint (reference_bucket (-7), ==, 7);
  g_assert_cmpint (reference_bucket (0), ==, 0);
  g_assert_cmpint (reference_bucket (127), ==, 16 + 15);
  g_assert_cmpint (reference_bucket (-300), ==, 15);
}

static float *
encode_with (WanWeights *weights, int n_threads, const gint32 *ids, int n_valid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Umt5Encoder) enc = umt5_encoder_new (weights, n_threads, &error);
  float *out;

  g_assert_no_error (error);
  out = g_new0 (float, (gsize)n_valid *umt5_encoder_get_dim (enc));
  umt5_encoder_encode (enc, ids, n_valid, out, NULL, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static void
test_deterministic_across_threads (void)
{
  g_autofree char *wpath = test_golden_path ("t5_f32.safetensors");
  g_autofree char *cpath = test_golden_path ("t5_case.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  g_autoptr (Safetensors) golden = safetensors_open (cpath, &error);
  int n_valid;
  g_autofree gint32 *ids = read_ids (golden, "ids_1", &n_valid);
  g_autofree float *one = encode_with (weights, 1, ids, n_valid);
  g_autofree float *two = encode_with (weights, 2, ids, n_valid);
  g_autofree float *again = encode_with (weights, 2, ids, n_valid);
  gsize n = (gsize)n_valid * wan_weights_get_t5_config (weights)->dim;

  g_assert_no_error (error);
  g_assert_cmpmem (one, n * sizeof (float), two, n * sizeof (float));
  g_assert_cmpmem (two, n * sizeof (float), again, n * sizeof (float));
}

static gboolean
cancel_now_cb (gpointer user_data)
{
  int *calls = user_data;

  (*calls)++;
  return *calls > 1;
}

static void
test_rejects_bad_input_and_cancels (void)
{
  g_autofree char *wpath = test_golden_path ("t5_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  g_autoptr (Umt5Encoder) enc = umt5_encoder_new (weights, 1, &error);
  const Umt5Config *c = wan_weights_get_t5_config (weights);
  g_autofree gint32 *ids = g_new0 (gint32, UMT5_TEXT_LEN + 1);
  g_autofree float *out = g_new0 (float, (gsize)(UMT5_TEXT_LEN + 1) * c->dim);
  int calls = 0;

  g_assert_no_error (error);
  g_assert_false (umt5_encoder_encode (enc, ids, UMT5_TEXT_LEN + 1, out, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (umt5_encoder_encode (enc, ids, 0, out, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);

  ids[1] = c->vocab;
  g_assert_false (umt5_encoder_encode (enc, ids, 3, out, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  ids[1] = -1;
  g_assert_false (umt5_encoder_encode (enc, ids, 3, out, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  ids[1] = 1;

  g_assert_false (umt5_encoder_encode (enc, ids, 3, out, cancel_now_cb, &calls, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED);
  g_assert_cmpint (calls, ==, 2);
}

static void
test_rejects_other_model_kinds (void)
{
  g_autofree char *wpath = test_golden_path ("dit48_bf16.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  g_autoptr (Umt5Encoder) enc = NULL;

  g_assert_no_error (error);
  enc = umt5_encoder_new (weights, 1, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_A_MODEL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  use_exact_gemm ();

  g_test_add_func ("/umt5/golden/official-names-f32", test_golden_official_names);
  g_test_add_func ("/umt5/golden/hf-names-f16", test_golden_hf_names_f16);
  g_test_add_func ("/umt5/buckets/match-reference", test_buckets_match_reference);
  g_test_add_func ("/umt5/determinism/across-thread-counts", test_deterministic_across_threads);
  g_test_add_func ("/umt5/input/rejects-bad-ids-and-honours-cancel", test_rejects_bad_input_and_cancels);
  g_test_add_func ("/umt5/input/rejects-other-model-kinds", test_rejects_other_model_kinds);
  return g_test_run ();
}
