/* test-pipeline.c: the text-to-video pipeline on make-tiny models and the
 * golden pipeline cases. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "takes-engine.h"
#include "wan-golden.h"

typedef struct
{
  char *dir;
  WanModelSet *set;
  WanPipeline *pipeline;
} Tiny;

static void
tiny_free (Tiny *tiny)
{
  g_clear_pointer (&tiny->pipeline, wan_pipeline_free);
  g_clear_pointer (&tiny->set, wan_model_set_free);
  if (tiny->dir != NULL)
    {
      GDir *d;

      /* The tree is ours and shallow: remove it file by file. */
      const char *sub[] = { "", "high_noise_model", "low_noise_model", "google/umt5-xxl", "google" };
      for (guint i = 0; i < G_N_ELEMENTS (sub); i++)
        {
          g_autofree char *path = g_build_filename (tiny->dir, sub[i], NULL);
          const char *name;

          d = g_dir_open (path, 0, NULL);
          while (d != NULL && (name = g_dir_read_name (d)) != NULL)
            {
              g_autofree char *file = g_build_filename (path, name, NULL);
              if (!g_file_test (file, G_FILE_TEST_IS_DIR))
                g_unlink (file);
            }
          if (d != NULL)
            g_dir_close (d);
        }
      for (guint i = G_N_ELEMENTS (sub); i > 1; i--)
        {
          g_autofree char *path = g_build_filename (tiny->dir, sub[i - 1], NULL);
          g_rmdir (path);
        }
      g_rmdir (tiny->dir);
      g_free (tiny->dir);
    }
  g_free (tiny);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tiny, tiny_free)

static Tiny *
tiny_new (WanArch like, int n_threads)
{
  g_autoptr (GError) error = NULL;
  Tiny *tiny = g_new0 (Tiny, 1);

  tiny->dir = g_dir_make_tmp ("takes-pipeline-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_true (wan_tiny_model_write (tiny->dir, like, 11, &error));
  g_assert_no_error (error);
  tiny->set = wan_model_set_load (tiny->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wan_model_set_get_arch (tiny->set), ==, WAN_ARCH_TINY);
  tiny->pipeline = wan_pipeline_new (tiny->set, n_threads, &error);
  g_assert_no_error (error);
  return tiny;
}

static void
init_request (WanRequest *r)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (wan_request_init_defaults (r, WAN_ARCH_TINY, &error));
  g_assert_no_error (error);
  r->prompt = "a red cat walking in the rain at night";
  r->steps = 3;
  r->seed = 42;
  r->width = 64;
  r->height = 32;
  r->frames = 5;
}

static float *
run_denoise (WanPipeline *pipeline, const WanRequest *r, int shape[4])
{
  g_autoptr (GError) error = NULL;
  float *x = wan_pipeline_denoise (pipeline, r, shape, NULL, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (x);
  return x;
}

static gsize
shape_size (const int shape[4])
{
  return (gsize)shape[0] * (gsize)shape[1] * (gsize)shape[2] * (gsize)shape[3];
}

static void
test_defaults (void)
{
  g_autoptr (GError) error = NULL;
  WanRequest r;

  g_assert_true (wan_request_init_defaults (&r, WAN_ARCH_WAN21_T2V_1_3B, &error));
  g_assert_cmpint (r.width, ==, 832);
  g_assert_cmpint (r.height, ==, 480);
  g_assert_cmpint (r.frames, ==, 81);
  g_assert_cmpint (r.steps, ==, 50);
  g_assert_cmpstr (r.solver, ==, "unipc");
  g_assert_true (wan_request_init_defaults (&r, WAN_ARCH_WAN22_T2V_A14B, &error));
  g_assert_cmpint (r.steps, ==, 40);
  g_assert_cmpfloat (r.shift, ==, 12.0);
  g_assert_cmpfloat (r.guidance, ==, 3.0);
  g_assert_cmpfloat (r.guidance_high, ==, 4.0);
  g_assert_cmpfloat (r.boundary, ==, 0.875);
  g_assert_true (wan_request_init_defaults (&r, WAN_ARCH_WAN22_TI2V_5B, &error));
  g_assert_cmpint (r.width, ==, 1280);
  g_assert_cmpint (r.height, ==, 704);
  g_assert_cmpint (r.frames, ==, 121);
}

static void
test_deterministic_across_threads (void)
{
  g_autoptr (Tiny) one = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 1);
  g_autoptr (Tiny) two = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 2);
  g_autofree float *a = NULL, *b = NULL, *c = NULL, *d = NULL;
  int sa[4], sb[4], sc[4], sd[4];
  WanRequest r;
  gboolean differs = FALSE;

  init_request (&r);
  a = run_denoise (one->pipeline, &r, sa);
  b = run_denoise (one->pipeline, &r, sb);
  c = run_denoise (two->pipeline, &r, sc);
  g_assert_cmpint (sa[0], ==, 16);
  g_assert_cmpint (sa[1], ==, 2);
  g_assert_cmpint (sa[2], ==, 4);
  g_assert_cmpint (sa[3], ==, 8);
  g_assert_cmpmem (sa, sizeof sa, sc, sizeof sc);
  g_assert_cmpmem (a, shape_size (sa) * sizeof (float), b, shape_size (sb) * sizeof (float));
  g_assert_cmpmem (a, shape_size (sa) * sizeof (float), c, shape_size (sc) * sizeof (float));
  for (gsize k = 0; k < shape_size (sa); k++)
    g_assert_true (isfinite (a[k]));

  r.seed = 43;
  d = run_denoise (one->pipeline, &r, sd);
  for (gsize k = 0; k < shape_size (sa); k++)
    differs |= a[k] != d[k];
  g_assert_true (differs);
}

typedef struct
{
  GArray *fractions;
  GArray *stages;
  double last_eta;
  int n_eta;
  int previews;
  int preview_steps[16];
  int cancel_after_blocks;
  int cancel_after_decode_units;
  int blocks;
  int decode_units;
  gint64 cancel_time;
} Watch;

static void
watch_progress_cb (const WanProgress *p, gpointer data)
{
  Watch *w = data;
  int stage = p->stage;

  g_array_append_val (w->fractions, p->fraction);
  g_array_append_val (w->stages, stage);
  g_assert_cmpfloat (p->fraction, >=, 0.0);
  g_assert_cmpfloat (p->fraction, <=, 1.0);
  g_assert_cmpint (p->step, <=, p->n_steps);
  if (p->eta_seconds >= 0)
    {
      /* A few-second run: the estimate must be finite and small. */
      g_assert_true (isfinite (p->eta_seconds));
      g_assert_cmpfloat (p->eta_seconds, <, 600.0);
      w->n_eta++;
    }
  if (p->stage == WAN_STAGE_DENOISE)
    w->blocks++;
  if (p->stage == WAN_STAGE_DECODE)
    w->decode_units = p->step;
}

static void
watch_preview_cb (const guint8 *rgb, int width, int height, int frames, int step, gpointer data)
{
  Watch *w = data;

  g_assert_cmpint (frames, ==, 1);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  g_assert_cmpint (MAX (width, height), <=, WAN_PREVIEW_MAX_SIZE);
  g_assert_cmpint (w->previews, <, (int)G_N_ELEMENTS (w->preview_steps));
  w->preview_steps[w->previews++] = step;
}

static gboolean
watch_cancel_cb (gpointer data)
{
  Watch *w = data;

  if (w->cancel_after_blocks > 0 && w->blocks >= w->cancel_after_blocks)
    {
      if (w->cancel_time == 0)
        w->cancel_time = g_get_monotonic_time ();
      return TRUE;
    }
  return w->cancel_after_decode_units > 0 && w->decode_units >= w->cancel_after_decode_units;
}

static void
watch_init (Watch *w)
{
  memset (w, 0, sizeof *w);
  w->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  w->stages = g_array_new (FALSE, FALSE, sizeof (int));
}

static void
watch_clear (Watch *w)
{
  g_array_unref (w->fractions);
  g_array_unref (w->stages);
}

static void
test_generate_progress_and_previews (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 2);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *rgb = NULL;
  WanRequest r;
  Watch w;
  int n_frames = 0;

  watch_init (&w);
  init_request (&r);
  r.steps = 6;
  r.preview_every = 2;
  rgb = wan_pipeline_generate (tiny->pipeline, &r, &n_frames, watch_cancel_cb, watch_progress_cb,
                               watch_preview_cb, &w, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rgb);
  g_assert_cmpint (n_frames, ==, 5);

  for (guint i = 1; i < w.fractions->len; i++)
    {
      g_assert_cmpfloat (g_array_index (w.fractions, double, i), >=,
                         g_array_index (w.fractions, double, i - 1));
      g_assert_cmpint (g_array_index (w.stages, int, i), >=, g_array_index (w.stages, int, i - 1));
    }
  g_assert_cmpfloat (g_array_index (w.fractions, double, w.fractions->len - 1), ==, 1.0);
  g_assert_cmpint (g_array_index (w.stages, int, w.stages->len - 1), ==, WAN_STAGE_DECODE);
  g_assert_cmpint (w.n_eta, >, 0);
  g_assert_cmpint (w.previews, ==, 3);
  g_assert_cmpint (w.preview_steps[0], ==, 2);
  g_assert_cmpint (w.preview_steps[1], ==, 4);
  g_assert_cmpint (w.preview_steps[2], ==, 6);
  watch_clear (&w);
}

static void
test_cancel_mid_dit (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 1);
  g_autoptr (GError) error = NULL;
  g_autofree float *x = NULL;
  WanRequest r;
  Watch w;
  int shape[4];
  gint64 end;

  watch_init (&w);
  init_request (&r);
  r.steps = 20;
  /* The tiny DiT has 2 blocks: after 3 blocks the run is inside step 0's
   * negative pass, between two blocks. */
  w.cancel_after_blocks = 3;
  x = wan_pipeline_denoise (tiny->pipeline, &r, shape, watch_cancel_cb, watch_progress_cb, NULL, &w, &error);
  end = g_get_monotonic_time ();
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED);
  g_assert_null (x);
  g_assert_cmpint (w.blocks, <=, 4);
  g_assert_cmpint (end - w.cancel_time, <, G_USEC_PER_SEC);
  watch_clear (&w);
}

static void
test_memory_refusal (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 1);
  g_autoptr (GError) error = NULL;
  WanMemoryPlan plan;
  WanRequest r;
  g_autofree char *limit = NULL;

  init_request (&r);
  g_setenv ("TAKES_ENGINE_MEMORY_LIMIT", "1000000000000", TRUE);
  g_assert_true (wan_pipeline_plan (tiny->pipeline, &r, &plan, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (plan.available, ==, G_GUINT64_CONSTANT (1000000000000));
  g_assert_cmpuint (plan.total, ==, MAX (plan.text, MAX (plan.dit, plan.vae)));
  g_assert_cmpuint (plan.dit, >, 0);
  g_assert_cmpuint (plan.weights, >, 8000000);

  limit = g_strdup_printf ("%" G_GUINT64_FORMAT, plan.total - 1);
  g_setenv ("TAKES_ENGINE_MEMORY_LIMIT", limit, TRUE);
  g_assert_false (wan_pipeline_plan (tiny->pipeline, &r, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "fewer frames"));
  g_clear_error (&error);
  g_assert_null (wan_pipeline_denoise (tiny->pipeline, &r, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY);
  g_unsetenv ("TAKES_ENGINE_MEMORY_LIMIT");
}

/* VAE tiling ------------------------------------------------------------------ */

static void
set_memory_limit (guint64 bytes)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);

  g_setenv ("TAKES_ENGINE_MEMORY_LIMIT", text, TRUE);
}

static WanMemoryPlan
plan_unlimited (WanPipeline *pipeline, const WanRequest *r)
{
  g_autoptr (GError) error = NULL;
  WanMemoryPlan plan;

  g_setenv ("TAKES_ENGINE_MEMORY_LIMIT", "1000000000000", TRUE);
  g_assert_true (wan_pipeline_plan (pipeline, r, &plan, &error));
  g_assert_no_error (error);
  return plan;
}

/* On the tiny model the VAE is the peak from 256×256 up: its whole-frame
 * caches outgrow the DiT's buffers. */
static void
init_large_request (WanRequest *r)
{
  init_request (r);
  r->width = 256;
  r->height = 256;
  r->frames = 5;
  r->steps = 2;
}

static void
test_tiles_when_untiled_does_not_fit (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 2);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *untiled = NULL, *tiled = NULL;
  WanMemoryPlan full, plan;
  WanRequest r;
  Watch w;
  int n_untiled = 0, n_tiled = 0, decode_reports = 0;
  double diff = 0.0;
  gsize n_bytes = (gsize)256 * 256 * 3 * 5;

  init_large_request (&r);
  full = plan_unlimited (tiny->pipeline, &r);
  g_assert_false (full.vae_tiled);
  g_assert_cmpint (full.vae_tiles, ==, 1);
  g_assert_cmpuint (full.total, ==, full.vae);
  untiled = wan_pipeline_generate (tiny->pipeline, &r, &n_untiled, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  /* Room for the denoiser but not for whole-frame decoder caches. */
  set_memory_limit ((MAX (full.dit, full.text) + full.vae) / 2);
  g_assert_true (wan_pipeline_plan (tiny->pipeline, &r, &plan, &error));
  g_assert_no_error (error);
  g_assert_true (plan.vae_tiled);
  g_assert_cmpint (plan.vae_tiles, >, 1);
  g_assert_cmpint (plan.vae_tiles, ==, wan_vae_tiling_count (32, 32, &plan.vae_tiling));
  g_assert_cmpint (plan.vae_tiling.tile_h, >=, WAN_VAE_TILE_MIN);
  g_assert_cmpint (plan.vae_tiling.tile_h, <, 32);
  g_assert_cmpint (plan.vae_tiling.overlap, >, 0);
  g_assert_cmpuint (plan.vae, <, full.vae);
  g_assert_cmpuint (plan.total, <=, plan.available);

  watch_init (&w);
  r.preview_every = 1;
  tiled = wan_pipeline_generate (tiny->pipeline, &r, &n_tiled, watch_cancel_cb, watch_progress_cb,
                                 watch_preview_cb, &w, &error);
  g_unsetenv ("TAKES_ENGINE_MEMORY_LIMIT");
  g_assert_no_error (error);
  g_assert_nonnull (tiled);
  g_assert_cmpint (n_tiled, ==, n_untiled);
  g_assert_cmpint (n_tiled, ==, 5);
  g_assert_cmpint (w.previews, ==, 2);
  for (guint i = 1; i < w.fractions->len; i++)
    g_assert_cmpfloat (g_array_index (w.fractions, double, i), >=,
                       g_array_index (w.fractions, double, i - 1));
  for (guint i = 0; i < w.stages->len; i++)
    decode_reports += g_array_index (w.stages, int, i) == WAN_STAGE_DECODE;
  /* A report at the start, one per latent frame of each tile, and the end. */
  g_assert_cmpint (decode_reports, ==, 2 + plan.vae_tiles * 2);
  g_assert_cmpfloat (g_array_index (w.fractions, double, w.fractions->len - 1), ==, 1.0);
  watch_clear (&w);

  /* The tiles are blended where they overlap, so the video stays close to
   * the untiled one; frames of the wrong size or order would not. */
  for (gsize k = 0; k < n_bytes; k++)
    diff += fabs ((double)tiled[k] - (double)untiled[k]);
  g_test_message ("mean difference tiled - untiled: %.3f of 255", diff / (double)n_bytes);
  g_assert_cmpfloat (diff / (double)n_bytes, <, 2.0);
}

static void
test_tiled_decode_cancels (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 1);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *rgb = NULL;
  WanMemoryPlan plan;
  WanRequest r;
  Watch w;
  int n_frames = 0;

  init_large_request (&r);
  r.steps = 1;
  r.vae_tile = 16;
  plan = plan_unlimited (tiny->pipeline, &r);
  g_unsetenv ("TAKES_ENGINE_MEMORY_LIMIT");
  g_assert_cmpint (plan.vae_tiles, ==, 9);
  watch_init (&w);
  /* Inside the second tile of nine, two latent frames each. */
  w.cancel_after_decode_units = 3;
  rgb = wan_pipeline_generate (tiny->pipeline, &r, &n_frames, watch_cancel_cb, watch_progress_cb, NULL, &w,
                               &error);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED);
  g_assert_null (rgb);
  g_assert_cmpint (w.decode_units, ==, 3);
  watch_clear (&w);
}

static void
test_whole_latent_tile_is_untiled (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 2);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *untiled = NULL, *whole = NULL;
  WanMemoryPlan plan;
  WanRequest r;
  int n_untiled = 0, n_whole = 0;

  init_request (&r);
  untiled = wan_pipeline_generate (tiny->pipeline, &r, &n_untiled, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  /* 64×32 pixels are 8×4 latent cells. */
  r.vae_tile = 8;
  plan = plan_unlimited (tiny->pipeline, &r);
  g_assert_true (plan.vae_tiled);
  g_assert_cmpint (plan.vae_tiles, ==, 1);
  whole = wan_pipeline_generate (tiny->pipeline, &r, &n_whole, NULL, NULL, NULL, NULL, &error);
  g_unsetenv ("TAKES_ENGINE_MEMORY_LIMIT");
  g_assert_no_error (error);
  g_assert_cmpint (n_whole, ==, n_untiled);
  g_assert_cmpmem (whole, (gsize)n_whole * 64 * 32 * 3, untiled, (gsize)n_untiled * 64 * 32 * 3);
}

static void
test_explicit_tiles_planned (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 1);
  g_autoptr (GError) error = NULL;
  WanMemoryPlan plan;
  WanRequest r;

  init_large_request (&r);
  r.vae_tile = WAN_VAE_TILE_MIN;
  plan = plan_unlimited (tiny->pipeline, &r);
  g_assert_true (plan.vae_tiled);
  g_assert_cmpint (plan.vae_tiling.tile_h, ==, 8);
  g_assert_cmpint (plan.vae_tiling.tile_w, ==, 8);
  g_assert_cmpint (plan.vae_tiling.overlap, ==, 2);
  /* 32 cells in tiles of 8 every 6 cells: 5 tiles a side. */
  g_assert_cmpint (plan.vae_tiles, ==, 25);

  /* Explicit tiles are kept even where they do not fit, and the refusal
   * says to make them smaller. */
  set_memory_limit (plan.vae - 1);
  g_assert_false (wan_pipeline_plan (tiny->pipeline, &r, &plan, &error));
  g_unsetenv ("TAKES_ENGINE_MEMORY_LIMIT");
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "smaller VAE tiles"));
  g_assert_cmpint (plan.vae_tiling.tile_h, ==, 8);
}

static void
test_refused_even_in_tiles (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 1);
  g_autoptr (GError) error = NULL;
  WanMemoryPlan plan;
  WanRequest r;

  init_large_request (&r);
  set_memory_limit (1000000);
  g_assert_false (wan_pipeline_plan (tiny->pipeline, &r, &plan, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY);
  g_assert_true (plan.vae_tiled);
  g_assert_cmpint (plan.vae_tiling.tile_h, ==, WAN_VAE_TILE_MIN);
  g_assert_nonnull (strstr (error->message, "tiles of 8×8 latent cells"));
  g_assert_nonnull (strstr (error->message, "fewer frames"));
  g_clear_error (&error);
  g_assert_null (wan_pipeline_generate (tiny->pipeline, &r, &plan.vae_tiles, NULL, NULL, NULL, NULL, &error));
  g_unsetenv ("TAKES_ENGINE_MEMORY_LIMIT");
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY);
}

static void
assert_invalid (WanPipeline *pipeline, const WanRequest *r, const char *fragment)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (wan_pipeline_plan (pipeline, r, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_bad_requests (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 1);
  g_autoptr (Tiny) ti2v = tiny_new (WAN_ARCH_WAN22_TI2V_5B, 1);
  WanRequest r;

  init_request (&r);
  r.frames = 8;
  assert_invalid (tiny->pipeline, &r, "4n+1");
  init_request (&r);
  r.width = 72;
  assert_invalid (tiny->pipeline, &r, "multiples of 16");
  init_request (&r);
  r.height = 48;
  /* 48 is a multiple of 16 but not of the 5B-like model's 32. */
  g_assert_cmpint (wan_pipeline_get_size_multiple (tiny->pipeline), ==, 16);
  g_assert_cmpint (wan_pipeline_get_size_multiple (ti2v->pipeline), ==, 32);
  assert_invalid (ti2v->pipeline, &r, "multiples of 32");
  init_request (&r);
  r.prompt = "   ";
  assert_invalid (tiny->pipeline, &r, "prompt is empty");
  r.prompt = NULL;
  assert_invalid (tiny->pipeline, &r, "prompt is empty");
  init_request (&r);
  r.solver = "heun";
  assert_invalid (tiny->pipeline, &r, "heun");
  init_request (&r);
  r.prompt = "caf\xc3";
  assert_invalid (tiny->pipeline, &r, "UTF-8");
  init_request (&r);
  r.vae_tile = WAN_VAE_TILE_MIN - 1;
  assert_invalid (tiny->pipeline, &r, "at least 8 cells");
  r.vae_tile = -1;
  assert_invalid (tiny->pipeline, &r, "at least 8 cells");
}

static void
test_long_prompt_truncated (void)
{
  g_autoptr (Tiny) tiny = tiny_new (WAN_ARCH_WAN21_T2V_1_3B, 2);
  GString *text = g_string_new (NULL);
  g_autofree float *x = NULL;
  int shape[4];
  WanRequest r;

  while (text->len < 100 * 1024)
    g_string_append (text, "a slow camera motion over the city at night, ");
  init_request (&r);
  r.steps = 1;
  r.prompt = text->str;
  x = run_denoise (tiny->pipeline, &r, shape);
  for (gsize k = 0; k < shape_size (shape); k++)
    g_assert_true (isfinite (x[k]));
  g_string_free (text, TRUE);
}

static void
test_ti2v_and_a14b (void)
{
  WanArch likes[] = { WAN_ARCH_WAN22_TI2V_5B, WAN_ARCH_WAN22_T2V_A14B };

  for (guint i = 0; i < G_N_ELEMENTS (likes); i++)
    {
      g_autoptr (Tiny) tiny = tiny_new (likes[i], 2);
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *rgb = NULL;
      WanRequest r;
      int n_frames = 0;

      init_request (&r);
      r.width = 64;
      r.height = 64;
      rgb = wan_pipeline_generate (tiny->pipeline, &r, &n_frames, NULL, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n_frames, ==, 5);
      g_assert_cmpint (wan_pipeline_get_latent_channels (tiny->pipeline), ==,
                       likes[i] == WAN_ARCH_WAN22_TI2V_5B ? 48 : 16);
    }
}

/* The golden pipeline cases, through the same runner the CLI uses. */
static void
test_golden_pipeline (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "wan-tiny-public", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = g_dir_make_tmp ("takes-golden-XXXXXX", &error);
  g_autoptr (WanGoldenReport) report = NULL;
  guint n_pipe = 0;

  g_assert_no_error (error);
  report = wan_golden_check (dir, out, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < report->results->len; i++)
    {
      WanGoldenResult *res = g_ptr_array_index (report->results, i);

      if (!g_str_has_prefix (res->case_name, "pipe_"))
        continue;
      if (res->status != WAN_GOLDEN_OK)
        g_test_message ("%s %s: %s", res->case_name, res->tensor != NULL ? res->tensor : "",
                        res->message != NULL ? res->message : "");
      g_assert_cmpint (res->status, ==, WAN_GOLDEN_OK);
      n_pipe++;
    }
  /* pipe_a14b: timesteps, experts, latents, video; pipe_ti2v: three. */
  g_assert_cmpuint (n_pipe, ==, 7);
  {
    GDir *d = g_dir_open (out, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *file = g_build_filename (out, name, NULL);
        g_unlink (file);
      }
    if (d != NULL)
      g_dir_close (d);
    g_rmdir (out);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pipeline/defaults/per-model-table", test_defaults);
  g_test_add_func ("/pipeline/denoise/deterministic-across-threads", test_deterministic_across_threads);
  g_test_add_func ("/pipeline/generate/progress-monotone-and-previews", test_generate_progress_and_previews);
  g_test_add_func ("/pipeline/cancel/mid-dit", test_cancel_mid_dit);
  g_test_add_func ("/pipeline/plan/memory-refusal", test_memory_refusal);
  g_test_add_func ("/pipeline/plan/bad-requests", test_bad_requests);
  g_test_add_func ("/pipeline/vae-tiling/tiles-when-untiled-does-not-fit",
                   test_tiles_when_untiled_does_not_fit);
  g_test_add_func ("/pipeline/vae-tiling/tiled-decode-cancels", test_tiled_decode_cancels);
  g_test_add_func ("/pipeline/vae-tiling/whole-latent-tile-is-untiled", test_whole_latent_tile_is_untiled);
  g_test_add_func ("/pipeline/vae-tiling/explicit-tiles-planned", test_explicit_tiles_planned);
  g_test_add_func ("/pipeline/vae-tiling/refused-even-in-tiles", test_refused_even_in_tiles);
  g_test_add_func ("/pipeline/prompt/long-truncated", test_long_prompt_truncated);
  g_test_add_func ("/pipeline/generate/ti2v-and-a14b", test_ti2v_and_a14b);
  g_test_add_func ("/pipeline/golden/pipe-cases", test_golden_pipeline);
  return g_test_run ();
}
