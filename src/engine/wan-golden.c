/* wan-golden.c: the golden-set checker and its case runners.
 *
 * Each case kind has one runner in the table below; a kind without a runner
 * is reported as skipped. A runner reads the case's inputs and parameters
 * and adds its outputs; reading the manifest, comparing and writing the
 * result files are shared.
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "safetensors.h"
#include "takes-engine.h"
#include "takes-kernels.h"
#include "wan-golden.h"
#include "wan-pipeline.h"
#include "wan-sampler.h"

typedef struct
{
  char *name;
  guint n_dims;
  gint64 shape[SAFETENSORS_MAX_DIMS];
  gsize n;
  float *data;
} GoldenTensor;

typedef struct
{
  const char *name;
  const char *dir;
  JsonObject *params;       /* never NULL: an empty object when the manifest has none */
  JsonObject *tensors;      /* the manifest's tensor table of the case */
  JsonObject *weights;      /* output name or pattern → weight file, or NULL */
  JsonObject *weight_files; /* the manifest's "weight_files", or NULL */
  Safetensors *file;
  GPtrArray *outputs; /* GoldenTensor */
} GoldenCase;

typedef gboolean (*GoldenRunFunc) (GoldenCase *gcase, GError **error);

static gboolean run_sched_case (GoldenCase *gcase, GError **error);
static gboolean run_t5_case (GoldenCase *gcase, GError **error);
static gboolean run_dit_case (GoldenCase *gcase, GError **error);
static gboolean run_vae_case (GoldenCase *gcase, GError **error);
static gboolean run_pipe_case (GoldenCase *gcase, GError **error);

/* Kinds are matched on the case name's first word without its trailing
 * digits, so "dit16_case" and "dit48_case" are both "dit". */
static const struct
{
  const char *kind;
  GoldenRunFunc run;
  const char *what; /* for the skip message */
} runners[] = {
  { "sched", run_sched_case, NULL },
  { "dit", run_dit_case, NULL },
  { "t5", run_t5_case, NULL },
  { "vae", run_vae_case, NULL },
  { "pipe", run_pipe_case, NULL },
};

static void
golden_tensor_free (GoldenTensor *t)
{
  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

static void
golden_result_free (WanGoldenResult *r)
{
  g_free (r->case_name);
  g_free (r->tensor);
  g_free (r->message);
  g_free (r);
}

void
wan_golden_report_free (WanGoldenReport *report)
{
  if (report == NULL)
    return;
  g_ptr_array_unref (report->results);
  g_free (report);
}

char *
wan_golden_case_kind (const char *case_name, const char *manifest_kind)
{
  const char *end;
  gsize len;

  if (manifest_kind != NULL && *manifest_kind != '\0')
    return g_strdup (manifest_kind);
  end = strchr (case_name, '_');
  len = end != NULL ? (gsize)(end - case_name) : strlen (case_name);
  while (len > 2 && g_ascii_isdigit (case_name[len - 1]))
    len--;
  return g_strndup (case_name, len);
}

/* Manifest members of the wrong JSON type read as absent rather than
 * tripping json-glib's precondition checks. */
static const char *
member_string (JsonObject *obj, const char *member, const char *fallback)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (node);
}

static gboolean
member_number (JsonObject *obj, const char *member, double *out)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;
  GType type
      = node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double (node);
  return !isnan (*out);
}

/* Case inputs and outputs */

static GoldenTensor *
golden_case_add_output (GoldenCase *gcase, const char *name, guint n_dims, const gint64 *shape, float *data)
{
  GoldenTensor *t = g_new0 (GoldenTensor, 1);

  t->name = g_strdup (name);
  t->n_dims = n_dims;
  t->n = 1;
  for (guint d = 0; d < n_dims; d++)
    {
      t->shape[d] = shape[d];
      t->n *= (gsize)shape[d];
    }
  t->data = data;
  g_ptr_array_add (gcase->outputs, t);
  return t;
}

/* Reads the float input @name of the case; returns NULL with @error set. */
static float *
golden_case_read_input (GoldenCase *gcase, const char *name, const SafetensorsTensor **tensor, GError **error)
{
  const SafetensorsTensor *t = safetensors_lookup (gcase->file, name);
  g_autofree float *data = NULL;

  if (t == NULL || !safetensors_dtype_is_float (t->dtype) || t->n_elements <= 0)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISSING_TENSOR,
                   _ ("The golden case “%s” has no float input tensor “%s”. Check its case file."),
                   gcase->name, name);
      return NULL;
    }
  data = g_try_new (float, (gsize)t->n_elements);
  if (data == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory to read the tensor “%s”. Close other programs and try again."),
          name);
      return NULL;
    }
  if (!safetensors_tensor_read_f32 (t, data, (gsize)t->n_elements, error))
    return NULL;
  *tensor = t;
  return g_steal_pointer (&data);
}

static gboolean
params_get_int (
    JsonObject *obj, const char *member, int min, int max, int *out, const char *case_name, GError **error)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;
  GType type
      = node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE)
    {
      double value = json_node_get_double (node);

      if (value >= min && value <= max && value == floor (value))
        {
          *out = (int)value;
          return TRUE;
        }
    }
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
               _ ("The golden case “%s” lacks a whole number “%s” between %d and %d in its parameters. Check "
                  "manifest.json."),
               case_name, member, min, max);
  return FALSE;
}

static gboolean
params_get_double (JsonObject *obj, const char *member, double *out, const char *case_name, GError **error)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;
  GType type
      = node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE)
    {
      *out = json_node_get_double (node);
      if (isfinite (*out))
        return TRUE;
    }
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
               _ ("The golden case “%s” lacks a number “%s” in its parameters. Check manifest.json."),
               case_name, member);
  return FALSE;
}

/* The sched runner */

/* The fake model of the sched case, in float32:
 * v(x, t) = 0.3·x + 0.1·sin(x) + c + 0.001·t. */
static void
fake_model (const float *x, const float *c, gint64 t, float *v, gsize n)
{
  const float tt = 0.001f * (float)t;

  for (gsize k = 0; k < n; k++)
    v[k] = 0.3f * x[k] + 0.1f * sinf (x[k]) + c[k] + tt;
}

static void
add_schedule_outputs (
    GoldenCase *gcase, const char *prefix, int n_steps, const float *sigmas, const gint64 *timesteps)
{
  g_autofree char *sigmas_name = g_strdup_printf ("%s_sigmas", prefix);
  g_autofree char *timesteps_name = g_strdup_printf ("%s_timesteps", prefix);
  float *s = g_new (float, n_steps + 1);
  float *t = g_new (float, n_steps);
  gint64 shape_s = n_steps + 1, shape_t = n_steps;

  memcpy (s, sigmas, (gsize)(n_steps + 1) * sizeof (float));
  /* Timesteps are at most 1000, exact in float32. */
  for (int i = 0; i < n_steps; i++)
    t[i] = (float)timesteps[i];
  golden_case_add_output (gcase, sigmas_name, 1, &shape_s, s);
  golden_case_add_output (gcase, timesteps_name, 1, &shape_t, t);
}

static gboolean
run_sched_trajectory (GoldenCase *gcase,
                      const char *solver_name,
                      JsonObject *sp,
                      const float *x_init,
                      const float *c,
                      const SafetensorsTensor *x_tensor,
                      GError **error)
{
  gsize n = (gsize)x_tensor->n_elements;
  g_autoptr (WanSampler) sampler = NULL;
  g_autofree float *traj = NULL;
  g_autofree float *v = NULL;
  g_autofree char *traj_name = g_strdup_printf ("%s_traj", solver_name);
  gint64 shape[SAFETENSORS_MAX_DIMS];
  WanSolver solver;
  int n_steps;
  double shift;

  if (!wan_solver_from_name (solver_name, &solver))
    g_assert_not_reached ();
  if (!params_get_int (sp, "steps", 1, WAN_SAMPLER_MAX_STEPS, &n_steps, gcase->name, error)
      || !params_get_double (sp, "shift", &shift, gcase->name, error))
    return FALSE;
  if (x_tensor->n_dims + 1 > SAFETENSORS_MAX_DIMS || (gsize)n_steps + 1 > G_MAXSIZE / sizeof (float) / n)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The golden case “%s” asks for a trajectory too large to hold. Check manifest.json."),
                   gcase->name);
      return FALSE;
    }
  sampler = wan_sampler_new (solver, n_steps, shift, n, error);
  if (sampler == NULL)
    return FALSE;
  traj = g_try_new (float, n *(gsize)(n_steps + 1));
  v = g_try_new (float, n);
  if (traj == NULL || v == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
                   _ ("There is not enough memory for the trajectory of the golden case “%s”. Close other "
                      "programs and try again."),
                   gcase->name);
      return FALSE;
    }
  memcpy (traj, x_init, n * sizeof (float));
  for (int i = 0; i < n_steps; i++)
    {
      float *x = traj + (gsize)(i + 1) * n;

      memcpy (x, traj + (gsize)i * n, n * sizeof (float));
      fake_model (x, c, wan_sampler_get_timestep (sampler), v, n);
      if (!wan_sampler_step (sampler, x, v, error))
        return FALSE;
    }

  shape[0] = n_steps + 1;
  for (guint d = 0; d < x_tensor->n_dims; d++)
    shape[d + 1] = x_tensor->shape[d];
  golden_case_add_output (gcase, traj_name, x_tensor->n_dims + 1, shape, g_steal_pointer (&traj));
  add_schedule_outputs (gcase, solver_name, n_steps, wan_sampler_get_sigmas (sampler),
                        wan_sampler_get_timesteps (sampler));
  return TRUE;
}

static gboolean
run_sched_case (GoldenCase *gcase, GError **error)
{
  static const char *const solvers[] = { "unipc", "dpm", "euler" };
  const SafetensorsTensor *x_tensor = NULL, *c_tensor = NULL;
  g_autofree float *x_init = NULL;
  g_autofree float *c = NULL;
  JsonNode *full;

  x_init = golden_case_read_input (gcase, "x_init", &x_tensor, error);
  if (x_init == NULL)
    return FALSE;
  c = golden_case_read_input (gcase, "c", &c_tensor, error);
  if (c == NULL)
    return FALSE;
  if (c_tensor->n_elements != x_tensor->n_elements)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("In the golden case “%s”, the tensors “x_init” and “c” differ in size. Check its case "
                      "file."),
                   gcase->name);
      return FALSE;
    }

  for (guint s = 0; s < G_N_ELEMENTS (solvers); s++)
    {
      JsonNode *node = json_object_get_member (gcase->params, solvers[s]);

      if (node == NULL)
        continue;
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                       _ ("The golden case “%s” has parameters for “%s” that are not an object. Check "
                          "manifest.json."),
                       gcase->name, solvers[s]);
          return FALSE;
        }
      if (!run_sched_trajectory (gcase, solvers[s], json_node_get_object (node), x_init, c, x_tensor, error))
        return FALSE;
    }

  full = json_object_get_member (gcase->params, "full");
  if (full != NULL && !JSON_NODE_HOLDS_ARRAY (full))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The golden case “%s” has a “full” parameter that is not a list. Check manifest.json."),
                   gcase->name);
      return FALSE;
    }
  for (guint i = 0; full != NULL && i < json_array_get_length (json_node_get_array (full)); i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (full), i);
      JsonObject *obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *solver_name = member_string (obj, "solver", "");
      g_autofree float *sigmas = NULL;
      g_autofree gint64 *timesteps = NULL;
      g_autofree char *prefix = NULL;
      char shift_text[G_ASCII_DTOSTR_BUF_SIZE];
      WanSolver solver;
      int n_steps;
      double shift;

      if (!wan_solver_from_name (solver_name, &solver))
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                       _ ("The golden case “%s” names an unknown solver “%s” in its full schedules. Check "
                          "manifest.json."),
                       gcase->name, solver_name);
          return FALSE;
        }
      if (!params_get_int (obj, "steps", 1, WAN_SAMPLER_MAX_STEPS, &n_steps, gcase->name, error)
          || !params_get_double (obj, "shift", &shift, gcase->name, error))
        return FALSE;
      sigmas = g_new (float, n_steps + 1);
      timesteps = g_new (gint64, n_steps);
      if (!wan_schedule_compute (solver, n_steps, shift, sigmas, timesteps, error))
        return FALSE;
      /* Named like "sched_unipc_40_s12": the shift in its shortest form. */
      g_ascii_formatd (shift_text, sizeof shift_text, "%g", shift);
      prefix = g_strdup_printf ("sched_%s_%d_s%s", solver_name, n_steps, shift_text);
      add_schedule_outputs (gcase, prefix, n_steps, sigmas, timesteps);
    }
  return TRUE;
}

/* The t5 and dit runners */

/* The engine's results do not depend on its thread count (its own tests
 * check that), so the checker uses every CPU. */
#define GOLDEN_N_THREADS 0

/* One weight file and the models built over it, shared by the outputs of a
 * case that name the same file. */
typedef struct
{
  WanWeights *weights;
  Umt5Encoder *encoder;
  WanDit *dit;
  WanDitState *state;
} GoldenModel;

static void
golden_model_free (GoldenModel *model)
{
  /* The models refer to the weights, so those go last. */
  g_clear_pointer (&model->state, wan_dit_state_free);
  g_clear_pointer (&model->dit, wan_dit_free);
  g_clear_pointer (&model->encoder, umt5_encoder_free);
  g_clear_pointer (&model->weights, wan_weights_free);
  g_free (model);
}

static GHashTable *
golden_models_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)golden_model_free);
}

static gboolean
tensor_is_output (GoldenCase *gcase, const char *name)
{
  JsonNode *node = json_object_get_member (gcase->tensors, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
         && g_strcmp0 (member_string (json_node_get_object (node), "role", ""), "output") == 0;
}

/* The weight file manifest.json names for the output @name: an exact entry
 * of the case's "weights" first, otherwise the most specific pattern that
 * matches ("out_*_f16w" before "out_*"), by its characters other than
 * wildcards. */
static const char *
weights_from_manifest (JsonObject *weights, const char *name)
{
  g_autoptr (GList) patterns = NULL;
  const char *best;
  gsize best_len = 0;

  if (weights == NULL)
    return NULL;
  best = member_string (weights, name, NULL);
  if (best != NULL)
    return best;
  patterns = json_object_get_members (weights);
  for (GList *l = patterns; l != NULL; l = l->next)
    {
      const char *pattern = l->data;
      const char *file = member_string (weights, pattern, NULL);
      gsize len = 0;

      for (const char *p = pattern; *p != '\0'; p++)
        len += *p != '*' && *p != '?';
      if (file != NULL && strpbrk (pattern, "*?") != NULL && g_pattern_match_simple (pattern, name)
          && (best == NULL || len > best_len))
        {
          best = file;
          best_len = len;
        }
    }
  return best;
}

/* The weight files of the set: the manifest's "weight_files" where given,
 * otherwise the safetensors files of the folder that are not case files. */
static GPtrArray *
list_weight_files (GoldenCase *gcase)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);

  if (gcase->weight_files != NULL)
    {
      g_autoptr (GList) names = json_object_get_members (gcase->weight_files);

      for (GList *l = names; l != NULL; l = l->next)
        g_ptr_array_add (files, g_strdup (l->data));
    }
  else
    {
      g_autoptr (GDir) dir = g_dir_open (gcase->dir, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".safetensors") && !g_str_has_suffix (name, "_case.safetensors"))
          g_ptr_array_add (files, g_strdup (name));
    }
  return files;
}

/* The golden set's naming convention, for manifests without a "weights"
 * entry: the weights of "dit16_case" are "dit16_<dtype>.safetensors" (or the
 * one "dit16_*_<dtype>.safetensors"), where an output ending in "_f16w" or
 * "_bf16w" names the dtype, and any other output the F32 reference (or the
 * set's only file of that model). */
static char *
weights_from_convention (GoldenCase *gcase, const char *output)
{
  g_autoptr (GPtrArray) files = list_weight_files (gcase);
  g_autofree char *stem = g_str_has_suffix (gcase->name, "_case")
                              ? g_strndup (gcase->name, strlen (gcase->name) - strlen ("_case"))
                              : g_strdup (gcase->name);
  g_autofree char *prefix = g_strconcat (stem, "_", NULL);
  g_autofree char *dtype = NULL;
  g_autofree char *exact = NULL;
  g_autofree char *ending = NULL;
  const char *word = strrchr (output, '_');
  const char *found = NULL;
  guint n_found = 0, n_model = 0;
  SafetensorsDtype parsed;

  if (word != NULL && strlen (word) > 2 && g_str_has_suffix (word, "w"))
    {
      g_autofree char *upper = g_ascii_strup (word + 1, (gssize)strlen (word) - 2);

      if (safetensors_dtype_from_name (upper, &parsed) && safetensors_dtype_is_float (parsed))
        dtype = g_ascii_strdown (upper, -1);
    }
  exact = g_strdup_printf ("%s%s.safetensors", prefix, dtype != NULL ? dtype : "f32");
  ending = g_strdup_printf ("_%s.safetensors", dtype != NULL ? dtype : "f32");
  for (guint i = 0; i < files->len; i++)
    if (g_str_equal (g_ptr_array_index (files, i), exact))
      return g_strdup (exact);
  for (guint i = 0; i < files->len; i++)
    {
      const char *file = g_ptr_array_index (files, i);

      if (!g_str_has_prefix (file, prefix))
        continue;
      n_model++;
      if (g_str_has_suffix (file, ending))
        {
          found = file;
          n_found++;
        }
    }
  if (n_found == 1)
    return g_strdup (found);
  if (n_found == 0 && dtype == NULL && n_model == 1)
    for (guint i = 0; i < files->len; i++)
      if (g_str_has_prefix (g_ptr_array_index (files, i), prefix))
        return g_strdup (g_ptr_array_index (files, i));
  return NULL;
}

/* The models over the weight file of the output @name, opened once per
 * case. */
static GoldenModel *
golden_model_get (GoldenCase *gcase, GHashTable *models, const char *name, GError **error)
{
  const char *named = weights_from_manifest (gcase->weights, name);
  g_autofree char *file = named != NULL ? g_strdup (named) : weights_from_convention (gcase, name);
  g_autofree char *path = NULL;
  GoldenModel *model;

  if (file == NULL || *file == '\0' || strchr (file, '/') != NULL || file[0] == '.')
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The golden case “%s” names no usable weight file for its output “%s”. Add the file "
                      "name to the case’s “weights” in manifest.json."),
                   gcase->name, name);
      return NULL;
    }
  model = g_hash_table_lookup (models, file);
  if (model != NULL)
    return model;
  path = g_build_filename (gcase->dir, file, NULL);
  model = g_new0 (GoldenModel, 1);
  model->weights = wan_weights_open (path, NULL, error);
  if (model->weights == NULL)
    {
      golden_model_free (model);
      return NULL;
    }
  g_hash_table_insert (models, g_steal_pointer (&file), model);
  return model;
}

/* Reads the integer input @name (I64 or I32); NULL with @error set. */
static gint64 *
golden_case_read_ints (GoldenCase *gcase, const char *name, gsize *n_values, GError **error)
{
  const SafetensorsTensor *t = safetensors_lookup (gcase->file, name);
  gsize size = t != NULL ? safetensors_dtype_get_size (t->dtype) : 0;
  gint64 *data;
  gsize n;

  if (t == NULL || (t->dtype != SAFETENSORS_DTYPE_I64 && t->dtype != SAFETENSORS_DTYPE_I32)
      || t->n_elements <= 0 || t->n_bytes != (gsize)t->n_elements * size)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISSING_TENSOR,
                   _ ("The golden case “%s” has no integer input tensor “%s”. Check its case file."),
                   gcase->name, name);
      return NULL;
    }
  n = (gsize)t->n_elements;
  data = g_try_new (gint64, n);
  if (data == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory to read the tensor “%s”. Close other programs and try again."),
          name);
      return NULL;
    }
  for (gsize k = 0; k < n; k++)
    {
      if (size == 8)
        {
          gint64 v;

          memcpy (&v, t->data + k * 8, 8);
          data[k] = GINT64_FROM_LE (v);
        }
      else
        {
          gint32 v;

          memcpy (&v, t->data + k * 4, 4);
          data[k] = GINT32_FROM_LE (v);
        }
    }
  *n_values = n;
  return data;
}

static gboolean
set_no_memory (GoldenCase *gcase, const char *name, GError **error)
{
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
               _ ("There is not enough memory for the output “%s” of the golden case “%s”. Close other "
                  "programs and try again."),
               name, gcase->name);
  return FALSE;
}

/* The ids and mask inputs of the T5 output @name: "out_1" and "out_1_f16w"
 * come from "ids_1" and "mask_1", "out" from "ids". The longest suffix
 * wins, so "out_10" is not taken for "ids_1". */
static gboolean
t5_input_names (GoldenCase *gcase, const char *name, char **ids_name, char **mask_name, GError **error)
{
  g_autoptr (GList) inputs = json_object_get_members (gcase->tensors);
  const char *rest = g_str_has_prefix (name, "out") ? name + strlen ("out") : NULL;
  const char *best = NULL;

  for (GList *l = inputs; rest != NULL && l != NULL; l = l->next)
    {
      const char *input = l->data;
      const char *suffix = input + strlen ("ids");
      gsize len = strlen (suffix);

      if (!g_str_has_prefix (input, "ids") || safetensors_lookup (gcase->file, input) == NULL)
        continue;
      if ((g_str_equal (rest, suffix) || (g_str_has_prefix (rest, suffix) && rest[len] == '_'))
          && (best == NULL || len > strlen (best)))
        best = suffix;
    }
  if (best == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISSING_TENSOR,
                   _ ("The golden case “%s” has no “ids” input for its output “%s”. Check manifest.json "
                      "and the case file."),
                   gcase->name, name);
      return FALSE;
    }
  *ids_name = g_strconcat ("ids", best, NULL);
  *mask_name = g_strconcat ("mask", best, NULL);
  return TRUE;
}

static gboolean
run_t5_output (GoldenCase *gcase, GHashTable *models, const char *name, GError **error)
{
  g_autofree char *ids_name = NULL, *mask_name = NULL;
  g_autofree gint64 *ids64 = NULL, *mask = NULL;
  g_autofree gint32 *ids = NULL;
  g_autofree float *out = NULL;
  GoldenModel *model;
  gsize n_ids, n_mask, n_valid = 0;
  gint64 shape[2];
  int dim;

  if (!t5_input_names (gcase, name, &ids_name, &mask_name, error))
    return FALSE;
  ids64 = golden_case_read_ints (gcase, ids_name, &n_ids, error);
  if (ids64 == NULL)
    return FALSE;
  mask = golden_case_read_ints (gcase, mask_name, &n_mask, error);
  if (mask == NULL)
    return FALSE;
  /* The encoder takes the valid tokens alone, so they must come first. */
  while (n_valid < n_mask && mask[n_valid] != 0)
    n_valid++;
  for (gsize k = n_valid; k < n_mask; k++)
    if (mask[k] != 0)
      n_valid = 0;
  if (n_mask != n_ids || n_valid == 0 || n_valid > UMT5_TEXT_LEN)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("In the golden case “%s”, “%s” and “%s” are not a prompt of 1 to %d valid tokens "
                      "followed by padding. Check its case file."),
                   gcase->name, ids_name, mask_name, UMT5_TEXT_LEN);
      return FALSE;
    }
  ids = g_new (gint32, n_valid);
  /* Ids outside gint32 become -1, which the encoder rejects as out of range. */
  for (gsize k = 0; k < n_valid; k++)
    ids[k] = ids64[k] >= G_MININT32 && ids64[k] <= G_MAXINT32 ? (gint32)ids64[k] : -1;

  model = golden_model_get (gcase, models, name, error);
  if (model == NULL)
    return FALSE;
  if (model->encoder == NULL)
    {
      model->encoder = umt5_encoder_new (model->weights, GOLDEN_N_THREADS, error);
      if (model->encoder == NULL)
        return FALSE;
    }
  dim = umt5_encoder_get_dim (model->encoder);
  out = g_try_new (float, n_valid *(gsize)dim);
  if (out == NULL)
    return set_no_memory (gcase, name, error);
  if (!umt5_encoder_encode (model->encoder, ids, (int)n_valid, out, NULL, NULL, error))
    return FALSE;
  shape[0] = (gint64)n_valid;
  shape[1] = dim;
  golden_case_add_output (gcase, name, 2, shape, g_steal_pointer (&out));
  return TRUE;
}

static gboolean
run_t5_case (GoldenCase *gcase, GError **error)
{
  g_autoptr (GHashTable) models = golden_models_new ();
  g_autoptr (GList) names = json_object_get_members (gcase->tensors);

  for (GList *l = names; l != NULL; l = l->next)
    if (tensor_is_output (gcase, l->data) && !run_t5_output (gcase, models, l->data, error))
      return FALSE;
  return TRUE;
}

typedef struct
{
  const SafetensorsTensor *x_tensor;
  float *x;
  float *context;
  int ctx_rows;
  gint64 t;
  float *t_pertoken; /* read when an output needs it */
  gsize n_pertoken;
} DitInputs;

static gboolean
run_dit_output (GoldenCase *gcase, GHashTable *models, DitInputs *in, const char *name, GError **error)
{
  const gint64 *xs = in->x_tensor->shape;
  /* The TI2V form: one timestep per token, as the README's "out_pertoken". */
  gboolean per_token = strstr (name, "pertoken") != NULL;
  const SafetensorsTensor *ctx_tensor = safetensors_lookup (gcase->file, "context");
  const WanDitConfig *cfg;
  g_autofree float *out = NULL;
  GoldenModel *model;
  gint64 shape[4];
  gsize n_out;

  model = golden_model_get (gcase, models, name, error);
  if (model == NULL)
    return FALSE;
  if (model->dit == NULL)
    {
      model->dit = wan_dit_new (model->weights, GOLDEN_N_THREADS, error);
      if (model->dit == NULL)
        return FALSE;
    }
  cfg = wan_dit_get_config (model->dit);
  if (ctx_tensor->shape[1] != cfg->text_dim || xs[0] > G_MAXINT || xs[1] > G_MAXINT || xs[2] > G_MAXINT
      || xs[3] > G_MAXINT)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The inputs of the golden case “%s” do not fit the model of its output “%s”: the "
                      "context must have %d columns and the latent a size the model takes. Check the case "
                      "file and manifest.json."),
                   gcase->name, name, cfg->text_dim);
      return FALSE;
    }
  if (model->state == NULL)
    {
      model->state = wan_dit_state_new (model->dit, (int)xs[0], (int)xs[1], (int)xs[2], (int)xs[3],
                                        in->ctx_rows, error);
      if (model->state == NULL)
        return FALSE;
    }
  if (per_token)
    {
      const SafetensorsTensor *tt = NULL;
      gsize n_tokens = (gsize)(xs[1] / cfg->patch_size[0]) * (gsize)(xs[2] / cfg->patch_size[1])
                       * (gsize)(xs[3] / cfg->patch_size[2]);

      if (in->t_pertoken == NULL)
        {
          in->t_pertoken = golden_case_read_input (gcase, "t_pertoken", &tt, error);
          if (in->t_pertoken == NULL)
            return FALSE;
          in->n_pertoken = (gsize)tt->n_elements;
        }
      if (in->n_pertoken != n_tokens)
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                       _ ("In the golden case “%s”, “t_pertoken” has %zu values, but the latent has %zu tokens. Check its case file."),
                       gcase->name, in->n_pertoken, n_tokens);
          return FALSE;
        }
    }

  shape[0] = cfg->out_dim;
  shape[1] = xs[1];
  shape[2] = xs[2];
  shape[3] = xs[3];
  n_out = (gsize)shape[0] * (gsize)shape[1] * (gsize)shape[2] * (gsize)shape[3];
  out = g_try_new (float, n_out);
  if (out == NULL)
    return set_no_memory (gcase, name, error);
  if (!wan_dit_forward (model->dit, model->state, in->x, per_token ? in->t_pertoken : NULL, in->t,
                        in->context, in->ctx_rows, out, NULL, NULL, NULL, error))
    return FALSE;
  golden_case_add_output (gcase, name, 4, shape, g_steal_pointer (&out));
  return TRUE;
}

static gboolean
run_dit_case (GoldenCase *gcase, GError **error)
{
  g_autoptr (GHashTable) models = golden_models_new ();
  g_autoptr (GList) names = json_object_get_members (gcase->tensors);
  const SafetensorsTensor *ctx_tensor = NULL;
  g_autofree gint64 *t = NULL;
  DitInputs in = { 0 };
  gboolean ok = TRUE;
  gsize n_t = 0;

  in.x = golden_case_read_input (gcase, "x", &in.x_tensor, error);
  if (in.x != NULL)
    in.context = golden_case_read_input (gcase, "context", &ctx_tensor, error);
  if (in.context != NULL)
    t = golden_case_read_ints (gcase, "t", &n_t, error);
  ok = t != NULL;
  if (ok
      && (in.x_tensor->n_dims != 4 || ctx_tensor->n_dims != 2 || n_t != 1 || ctx_tensor->shape[0] > G_MAXINT))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The golden case “%s” needs a latent “x” [C, T, H, W], a context [rows, width] and one "
                      "timestep “t”. Check its case file."),
                   gcase->name);
      ok = FALSE;
    }
  if (ok)
    {
      in.t = t[0];
      in.ctx_rows = (int)ctx_tensor->shape[0];
    }
  for (GList *l = names; ok && l != NULL; l = l->next)
    if (tensor_is_output (gcase, l->data))
      ok = run_dit_output (gcase, models, &in, l->data, error);
  g_free (in.x);
  g_free (in.context);
  g_free (in.t_pertoken);
  return ok;
}

/* The pipe runner */

typedef struct
{
  gsize n;
  float *latents; /* [steps + 1, C, T, h, w] */
  float *timesteps;
  float *experts;
} PipeRecord;

static gboolean
pipe_step_cb (const WanStepInfo *info, gpointer data, GError **error)
{
  PipeRecord *rec = data;

  rec->timesteps[info->step] = (float)info->timestep;
  rec->experts[info->step] = info->expert == WAN_EXPERT_HIGH_NOISE ? 1.0f : 0.0f;
  memcpy (rec->latents + (gsize)(info->step + 1) * rec->n, info->x, rec->n * sizeof (float));
  return TRUE;
}

/* The encoder output for the saved "ids_@which" and "mask_@which". */
static float *
pipe_context (GoldenCase *gcase, Umt5Encoder *encoder, const char *which, int *n_rows, GError **error)
{
  g_autofree char *ids_name = g_strconcat ("ids_", which, NULL);
  g_autofree char *mask_name = g_strconcat ("mask_", which, NULL);
  g_autofree gint64 *ids64 = NULL, *mask = NULL;
  g_autofree gint32 *ids = NULL;
  g_autofree float *out = NULL;
  gsize n_ids = 0, n_mask = 0, n_valid = 0;

  ids64 = golden_case_read_ints (gcase, ids_name, &n_ids, error);
  if (ids64 == NULL)
    return NULL;
  mask = golden_case_read_ints (gcase, mask_name, &n_mask, error);
  if (mask == NULL)
    return NULL;
  while (n_valid < n_mask && mask[n_valid] != 0)
    n_valid++;
  if (n_mask != n_ids || n_valid == 0 || n_valid > UMT5_TEXT_LEN)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("In the golden case “%s”, “%s” and “%s” are not a prompt of 1 to %d valid tokens "
                      "followed by padding. Check its case file."),
                   gcase->name, ids_name, mask_name, UMT5_TEXT_LEN);
      return NULL;
    }
  ids = g_new (gint32, n_valid);
  for (gsize k = 0; k < n_valid; k++)
    ids[k] = ids64[k] >= G_MININT32 && ids64[k] <= G_MAXINT32 ? (gint32)ids64[k] : -1;
  out = g_try_new (float, n_valid *(gsize)umt5_encoder_get_dim (encoder));
  if (out == NULL)
    {
      set_no_memory (gcase, ids_name, error);
      return NULL;
    }
  if (!umt5_encoder_encode (encoder, ids, (int)n_valid, out, NULL, NULL, error))
    return NULL;
  *n_rows = (int)n_valid;
  return g_steal_pointer (&out);
}

/* The guidance of a case: one number, or [low, high] for an expert pair. */
static gboolean
pipe_guidance (GoldenCase *gcase, double *low, double *high, GError **error)
{
  JsonNode *node = json_object_get_member (gcase->params, "guide_scale");

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) == 2)
    {
      JsonArray *a = json_node_get_array (node);

      *low = json_array_get_double_element (a, 0);
      *high = json_array_get_double_element (a, 1);
      return TRUE;
    }
  if (!params_get_double (gcase->params, "guide_scale", low, gcase->name, error))
    return FALSE;
  *high = *low;
  return TRUE;
}

static gboolean
run_pipe_case (GoldenCase *gcase, GError **error)
{
  g_autoptr (GHashTable) models = golden_models_new ();
  g_autoptr (WanSampler) sampler = NULL;
  g_autoptr (WanVae) vae = NULL;
  g_autofree float *noise = NULL, *ctx_pos = NULL, *ctx_neg = NULL, *x = NULL;
  const SafetensorsTensor *nt = NULL;
  gboolean pair = weights_from_manifest (gcase->weights, "high_noise_model") != NULL;
  GoldenModel *t5, *low, *high = NULL, *vae_model;
  WanDenoiseSetup setup = { 0 };
  PipeRecord rec = { 0 };
  WanSolver solver;
  double shift, boundary = 0.875;
  int steps, n_pos = 0, n_neg = 0, factor, F;
  gint64 shape_l[5], shape_v[4], shape_s;
  gsize n, n_video;
  float *video;

  if ((t5 = golden_model_get (gcase, models, "t5", error)) == NULL
      || (low = golden_model_get (gcase, models, pair ? "low_noise_model" : "model", error)) == NULL
      || (pair && (high = golden_model_get (gcase, models, "high_noise_model", error)) == NULL)
      || (vae_model = golden_model_get (gcase, models, "vae", error)) == NULL)
    return FALSE;
  if (!params_get_int (gcase->params, "steps", 1, WAN_SAMPLER_MAX_STEPS, &steps, gcase->name, error)
      || !params_get_double (gcase->params, "shift", &shift, gcase->name, error)
      || !pipe_guidance (gcase, &setup.guidance, &setup.guidance_high, error)
      || (pair && !params_get_double (gcase->params, "boundary", &boundary, gcase->name, error)))
    return FALSE;
  if (!wan_solver_from_name (member_string (gcase->params, "solver", "unipc"), &solver))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The golden case “%s” names a solver the engine does not know. Check manifest.json."),
                   gcase->name);
      return FALSE;
    }
  noise = golden_case_read_input (gcase, "noise", &nt, error);
  if (noise == NULL)
    return FALSE;
  if (nt->n_dims != 4 || nt->shape[0] > G_MAXINT || nt->shape[1] > G_MAXINT || nt->shape[2] > G_MAXINT
      || nt->shape[3] > G_MAXINT)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The golden case “%s” needs a latent “noise” [C, T, H, W]. Check its case file."),
                   gcase->name);
      return FALSE;
    }
  for (int d = 0; d < 4; d++)
    setup.shape[d] = (int)nt->shape[d];
  n = (gsize)nt->n_elements;

  t5->encoder = umt5_encoder_new (t5->weights, GOLDEN_N_THREADS, error);
  if (t5->encoder == NULL || (ctx_pos = pipe_context (gcase, t5->encoder, "pos", &n_pos, error)) == NULL
      || (ctx_neg = pipe_context (gcase, t5->encoder, "neg", &n_neg, error)) == NULL)
    return FALSE;
  low->dit = wan_dit_new (low->weights, GOLDEN_N_THREADS, error);
  if (low->dit == NULL
      || (high != NULL && (high->dit = wan_dit_new (high->weights, GOLDEN_N_THREADS, error)) == NULL))
    return FALSE;
  low->state = wan_dit_state_new (low->dit, setup.shape[0], setup.shape[1], setup.shape[2], setup.shape[3],
                                  MAX (n_pos, n_neg), error);
  sampler = low->state != NULL ? wan_sampler_new (solver, steps, shift, n, error) : NULL;
  if (sampler == NULL)
    return FALSE;

  setup.dit = low->dit;
  setup.dit_high = high != NULL ? high->dit : NULL;
  setup.state = low->state;
  setup.context_pos = ctx_pos;
  setup.n_pos = n_pos;
  setup.context_neg = ctx_neg;
  setup.n_neg = n_neg;
  setup.boundary = boundary;
  rec.n = n;
  rec.latents = g_try_new (float, (gsize)(steps + 1) * n);
  if (rec.latents == NULL)
    return set_no_memory (gcase, "latents", error);
  rec.timesteps = g_new (float, steps);
  rec.experts = g_new (float, steps);
  memcpy (rec.latents, noise, n * sizeof (float));
  x = g_steal_pointer (&noise);
  if (!wan_denoise_loop (&setup, sampler, x, NULL, NULL, pipe_step_cb, &rec, error))
    {
      g_free (rec.latents);
      g_free (rec.timesteps);
      g_free (rec.experts);
      return FALSE;
    }
  shape_s = steps;
  golden_case_add_output (gcase, "timesteps", 1, &shape_s, rec.timesteps);
  if (pair)
    golden_case_add_output (gcase, "experts", 1, &shape_s, rec.experts);
  else
    g_free (rec.experts);
  shape_l[0] = steps + 1;
  for (int d = 0; d < 4; d++)
    shape_l[d + 1] = setup.shape[d];
  golden_case_add_output (gcase, "latents", 5, shape_l, rec.latents);

  vae = wan_vae_new (vae_model->weights, GOLDEN_N_THREADS, error);
  if (vae == NULL)
    return FALSE;
  factor = wan_vae_get_spatial_factor (vae);
  F = 1 + 4 * (setup.shape[1] - 1);
  shape_v[0] = 3;
  shape_v[1] = F;
  shape_v[2] = (gint64)setup.shape[2] * factor;
  shape_v[3] = (gint64)setup.shape[3] * factor;
  n_video = 3 * (gsize)shape_v[1] * (gsize)shape_v[2] * (gsize)shape_v[3];
  video = g_try_new (float, n_video);
  if (video == NULL)
    return set_no_memory (gcase, "video", error);
  if (!wan_vae_decode (vae, x, setup.shape[1], setup.shape[2], setup.shape[3], video, NULL, NULL, NULL,
                       error))
    {
      g_free (video);
      return FALSE;
    }
  golden_case_add_output (gcase, "video", 4, shape_v, video);
  return TRUE;
}

/* The VAE runner: "video" decodes the input "z", "enc_out" encodes
 * "enc_in". */

static float *
vae_read_4d (GoldenCase *gcase, const char *name, gint64 *shape, GError **error)
{
  const SafetensorsTensor *t = NULL;
  g_autofree float *data = golden_case_read_input (gcase, name, &t, error);

  if (data == NULL)
    return NULL;
  if (t->n_dims != 4 || t->shape[0] > G_MAXINT || t->shape[1] > G_MAXINT || t->shape[2] > G_MAXINT
      || t->shape[3] > G_MAXINT)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The input “%s” of the golden case “%s” is not a [channels, frames, height, width] "
                      "tensor. Check its case file."),
                   name, gcase->name);
      return NULL;
    }
  memcpy (shape, t->shape, 4 * sizeof (gint64));
  return g_steal_pointer (&data);
}

static gboolean
run_vae_output (GoldenCase *gcase, WanVae *vae, const char *name, GError **error)
{
  gboolean decode = g_str_has_prefix (name, "video");
  int zd = wan_vae_get_z_dim (vae), f = wan_vae_get_spatial_factor (vae);
  g_autofree float *in = NULL;
  g_autofree float *out = NULL;
  gint64 s[4], o[4];

  if (!decode && !g_str_has_prefix (name, "enc_out"))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The golden case “%s” has an output “%s” the VAE runner does not know; it computes "
                      "“video” and “enc_out”. Check manifest.json."),
                   gcase->name, name);
      return FALSE;
    }
  in = vae_read_4d (gcase, decode ? "z" : "enc_in", s, error);
  if (in == NULL)
    return FALSE;
  if (decode ? s[0] != zd : s[0] != 3 || (s[1] - 1) % 4 != 0 || s[2] % f != 0 || s[3] % f != 0)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The input of the golden case “%s” does not fit its VAE: it needs a latent of %d channels "
                      "or a video of 3 channels, 1 + 4·n frames and sides that are multiples of %d. Check its "
                      "case file."),
                   gcase->name, zd, f);
      return FALSE;
    }
  o[0] = decode ? 3 : zd;
  o[1] = decode ? 1 + 4 * (s[1] - 1) : 1 + (s[1] - 1) / 4;
  o[2] = decode ? s[2] * f : s[2] / f;
  o[3] = decode ? s[3] * f : s[3] / f;
  out = g_try_new (float, (gsize)(o[0] * o[1] * o[2] * o[3]));
  if (out == NULL)
    return set_no_memory (gcase, name, error);
  if (decode ? !wan_vae_decode (vae, in, (int)s[1], (int)s[2], (int)s[3], out, NULL, NULL, NULL, error)
             : !wan_vae_encode (vae, in, (int)s[1], (int)s[2], (int)s[3], out, NULL, NULL, NULL, error))
    return FALSE;
  golden_case_add_output (gcase, name, 4, o, g_steal_pointer (&out));
  return TRUE;
}

static gboolean
run_vae_case (GoldenCase *gcase, GError **error)
{
  g_autoptr (GHashTable) models = golden_models_new ();
  g_autoptr (GList) names = json_object_get_members (gcase->tensors);
  g_autoptr (WanVae) vae = NULL;
  WanWeights *vae_weights = NULL;

  for (GList *l = names; l != NULL; l = l->next)
    {
      GoldenModel *model;

      if (!tensor_is_output (gcase, l->data))
        continue;
      model = golden_model_get (gcase, models, l->data, error);
      if (model == NULL)
        return FALSE;
      if (vae == NULL || vae_weights != model->weights)
        {
          g_clear_pointer (&vae, wan_vae_free);
          vae = wan_vae_new (model->weights, GOLDEN_N_THREADS, error);
          if (vae == NULL)
            return FALSE;
          vae_weights = model->weights;
        }
      if (!run_vae_output (gcase, vae, l->data, error))
        return FALSE;
    }
  return TRUE;
}

/* Comparison */

static const GoldenTensor *
find_output (GoldenCase *gcase, const char *name)
{
  for (guint i = 0; i < gcase->outputs->len; i++)
    {
      const GoldenTensor *t = g_ptr_array_index (gcase->outputs, i);

      if (g_str_equal (t->name, name))
        return t;
    }
  return NULL;
}

static JsonObject *
find_tolerance (JsonObject *tolerances, const char *name)
{
  JsonNode *node;
  g_autoptr (GList) members = NULL;

  if (tolerances == NULL)
    return NULL;
  node = json_object_get_member (tolerances, name);
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    return json_node_get_object (node);
  /* Entries like "out_*" cover a family of tensors. */
  members = json_object_get_members (tolerances);
  for (GList *l = members; l != NULL; l = l->next)
    {
      node = json_object_get_member (tolerances, l->data);
      if (strchr (l->data, '*') != NULL && g_pattern_match_simple (l->data, name)
          && JSON_NODE_HOLDS_OBJECT (node))
        return json_node_get_object (node);
    }
  return NULL;
}

static gboolean
read_golden_values (const SafetensorsTensor *t, double *dst, gboolean *exact, GError **error)
{
  gsize n = (gsize)t->n_elements;

  *exact = !safetensors_dtype_is_float (t->dtype);
  if (t->dtype == SAFETENSORS_DTYPE_I64 || t->dtype == SAFETENSORS_DTYPE_I32)
    {
      gsize size = safetensors_dtype_get_size (t->dtype);

      for (gsize k = 0; k < n; k++)
        {
          if (size == 8)
            {
              gint64 v;
              memcpy (&v, t->data + k * 8, 8);
              dst[k] = (double)GINT64_FROM_LE (v);
            }
          else
            {
              gint32 v;
              memcpy (&v, t->data + k * 4, 4);
              dst[k] = (double)GINT32_FROM_LE (v);
            }
        }
      return TRUE;
    }
  if (safetensors_dtype_is_float (t->dtype))
    {
      g_autofree float *f = g_try_new (float, n);

      if (f == NULL)
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
                       _ ("There is not enough memory to read the tensor “%s”. Close other programs and try "
                          "again."),
                       t->name);
          return FALSE;
        }
      if (!safetensors_tensor_read_f32 (t, f, n, error))
        return FALSE;
      for (gsize k = 0; k < n; k++)
        dst[k] = f[k];
      return TRUE;
    }
  g_set_error (
      error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
      _ ("The golden tensor “%s” has the dtype %s, which the checker cannot compare. Store it as F32 or "
         "I64."),
      t->name, safetensors_dtype_get_name (t->dtype));
  return FALSE;
}

static WanGoldenResult *
compare_tensor (GoldenCase *gcase, const char *name, JsonObject *tolerances)
{
  WanGoldenResult *r = g_new0 (WanGoldenResult, 1);
  const SafetensorsTensor *golden = safetensors_lookup (gcase->file, name);
  const GoldenTensor *mine = find_output (gcase, name);
  JsonObject *tol = find_tolerance (tolerances, name);
  g_autofree double *ref = NULL;
  g_autoptr (GError) error = NULL;
  double diff2 = 0.0, ref2 = 0.0, max_abs = 0.0;

  r->case_name = g_strdup (gcase->name);
  r->tensor = g_strdup (name);
  r->status = WAN_GOLDEN_FAILED;
  r->max_abs = r->rel_l2 = r->tol_max_abs = r->tol_rel_l2 = NAN;
  if (golden == NULL)
    {
      r->message = g_strdup_printf (_ ("The case file has no tensor “%s”, which manifest.json lists."), name);
      return r;
    }
  if (mine == NULL)
    {
      r->message = g_strdup (_ ("The engine produced no tensor of this name."));
      return r;
    }
  if (mine->n != (gsize)golden->n_elements || mine->n_dims != golden->n_dims
      || memcmp (mine->shape, golden->shape, golden->n_dims * sizeof (gint64)) != 0)
    {
      g_autofree char *want = safetensors_tensor_format_shape (golden);

      r->message = g_strdup_printf (
          _ ("The engine produced a tensor of another shape; the golden shape is %s."), want);
      return r;
    }
  ref = g_try_new (double, MAX (mine->n, 1));
  if (ref == NULL)
    {
      r->message = g_strdup (_ ("There is not enough memory to compare this tensor."));
      return r;
    }
  if (!read_golden_values (golden, ref, &r->exact, &error))
    {
      r->message = g_strdup (error->message);
      return r;
    }
  if (r->exact)
    {
      r->tol_max_abs = 0.0;
      r->tol_rel_l2 = 0.0;
    }
  else if (!member_number (tol, "suggested_max_abs", &r->tol_max_abs)
           || !member_number (tol, "suggested_rel_l2", &r->tol_rel_l2))
    {
      r->tol_max_abs = r->tol_rel_l2 = NAN;
      r->message = g_strdup (_ ("manifest.json gives no tolerance for this tensor."));
      return r;
    }

  for (gsize k = 0; k < mine->n; k++)
    {
      double d = (double)mine->data[k] - ref[k];

      /* A NaN anywhere must fail, so it is carried into the maximum. */
      if (!(fabs (d) <= max_abs))
        max_abs = fabs (d);
      diff2 += d * d;
      ref2 += ref[k] * ref[k];
    }
  r->max_abs = max_abs;
  r->rel_l2 = ref2 > 0.0 ? sqrt (diff2 / ref2) : sqrt (diff2);
  if (r->max_abs <= r->tol_max_abs && r->rel_l2 <= r->tol_rel_l2)
    r->status = WAN_GOLDEN_OK;
  return r;
}

/* Writing */

static void
append_le32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { (guint8)v, (guint8)(v >> 8), (guint8)(v >> 16), (guint8)(v >> 24) };

  g_byte_array_append (out, b, 4);
}

gboolean
wan_golden_write_safetensors (const char *path,
                              guint n_tensors,
                              const char *const *names,
                              const guint *n_dims,
                              const gint64 *const *shapes,
                              const float *const *data,
                              GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *header = NULL;
  gsize header_len, padded;
  guint64 offset = 0;
  guint8 len_bytes[8];

  json_builder_begin_object (builder);
  for (guint i = 0; i < n_tensors; i++)
    {
      guint64 n = 1;

      for (guint d = 0; d < n_dims[i]; d++)
        n *= (guint64)shapes[i][d];
      json_builder_set_member_name (builder, names[i]);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder, "F32");
      json_builder_set_member_name (builder, "shape");
      json_builder_begin_array (builder);
      for (guint d = 0; d < n_dims[i]; d++)
        json_builder_add_int_value (builder, shapes[i][d]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "data_offsets");
      json_builder_begin_array (builder);
      json_builder_add_int_value (builder, (gint64)offset);
      json_builder_add_int_value (builder, (gint64)(offset + n * 4));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      offset += n * 4;
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  header = json_generator_to_data (generator, &header_len);

  /* The data starts on an 8-byte boundary, padded with spaces as the
   * reference writer does. */
  padded = (header_len + 7) / 8 * 8;
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8)((guint64)padded >> (8 * i));
  g_byte_array_append (out, len_bytes, 8);
  g_byte_array_append (out, (const guint8 *)header, (guint)header_len);
  for (gsize i = header_len; i < padded; i++)
    g_byte_array_append (out, (const guint8 *)" ", 1);
  for (guint i = 0; i < n_tensors; i++)
    {
      guint64 n = 1;

      for (guint d = 0; d < n_dims[i]; d++)
        n *= (guint64)shapes[i][d];
      for (guint64 k = 0; k < n; k++)
        {
          guint32 bits;

          memcpy (&bits, &data[i][k], 4);
          append_le32 (out, bits);
        }
    }

  /* g_file_set_contents writes a temporary file and renames it into place. */
  if (!g_file_set_contents (path, (const char *)out->data, (gssize)out->len, &local_error))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("The results could not be written to “%s”: %s. Check the folder and the free space."),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_case_outputs (GoldenCase *gcase, const char *path, GError **error)
{
  guint n = gcase->outputs->len;
  g_autofree const char **names = g_new0 (const char *, MAX (n, 1));
  g_autofree guint *n_dims = g_new0 (guint, MAX (n, 1));
  g_autofree const gint64 **shapes = g_new0 (const gint64 *, MAX (n, 1));
  g_autofree const float **data = g_new0 (const float *, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    {
      const GoldenTensor *t = g_ptr_array_index (gcase->outputs, i);

      names[i] = t->name;
      n_dims[i] = t->n_dims;
      shapes[i] = t->shape;
      data[i] = t->data;
    }
  return wan_golden_write_safetensors (path, n, names, n_dims, shapes, data, error);
}

/* The check */

static WanGoldenResult *
case_result (const char *case_name, WanGoldenStatus status, char *message)
{
  WanGoldenResult *r = g_new0 (WanGoldenResult, 1);

  r->case_name = g_strdup (case_name);
  r->status = status;
  r->message = message;
  r->max_abs = r->rel_l2 = r->tol_max_abs = r->tol_rel_l2 = NAN;
  return r;
}

static void
report_add (WanGoldenReport *report, WanGoldenResult *r)
{
  if (r->status == WAN_GOLDEN_OK)
    report->n_ok++;
  else if (r->status == WAN_GOLDEN_FAILED)
    report->n_failed++;
  else
    report->n_skipped++;
  g_ptr_array_add (report->results, r);
}

static void
check_case (WanGoldenReport *report,
            const char *golden_dir,
            const char *out_dir,
            const char *case_name,
            JsonObject *desc,
            JsonObject *weight_files)
{
  g_autoptr (JsonObject) empty = json_object_new ();
  g_autoptr (GPtrArray) outputs = g_ptr_array_new_with_free_func ((GDestroyNotify)golden_tensor_free);
  g_autoptr (Safetensors) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *case_path = NULL;
  g_autofree char *out_path = NULL;
  JsonNode *node;
  JsonObject *tensors = NULL, *tolerances = NULL;
  GoldenRunFunc run = NULL;
  const char *what = NULL;
  gboolean known = FALSE;
  GoldenCase gcase = { 0 };

  kind = wan_golden_case_kind (case_name, member_string (desc, "kind", NULL));
  for (guint i = 0; i < G_N_ELEMENTS (runners); i++)
    if (g_str_equal (kind, runners[i].kind))
      {
        run = runners[i].run;
        what = runners[i].what;
        known = TRUE;
      }
  if (run == NULL)
    {
      report_add (report,
                  case_result (case_name, WAN_GOLDEN_SKIPPED,
                               known ? g_strdup_printf (_ ("The engine cannot run %s cases yet."), _ (what))
                                     : g_strdup_printf (_ ("The engine has no runner for cases of kind "
                                                           "“%s”."),
                                                        kind)));
      return;
    }

  node = json_object_get_member (desc, "tensors");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    tensors = json_node_get_object (node);
  node = json_object_get_member (desc, "tolerances");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    tolerances = json_node_get_object (node);
  file_name = g_strdup (member_string (desc, "file", ""));
  if (tensors == NULL || *file_name == '\0' || strchr (file_name, '/') != NULL || file_name[0] == '.')
    {
      report_add (report, case_result (case_name, WAN_GOLDEN_FAILED,
                                       g_strdup (_ ("manifest.json describes this case without a case file "
                                                    "name or a tensor table."))));
      return;
    }
  case_path = g_build_filename (golden_dir, file_name, NULL);
  file = safetensors_open (case_path, &error);
  if (file == NULL)
    {
      report_add (report, case_result (case_name, WAN_GOLDEN_FAILED, g_strdup (error->message)));
      return;
    }

  gcase.name = case_name;
  gcase.dir = golden_dir;
  node = json_object_get_member (desc, "params");
  gcase.params = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : empty;
  gcase.tensors = tensors;
  node = json_object_get_member (desc, "weights");
  gcase.weights = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  gcase.weight_files = weight_files;
  gcase.file = file;
  gcase.outputs = outputs;
  if (!run (&gcase, &error))
    {
      report_add (report, case_result (case_name, WAN_GOLDEN_FAILED, g_strdup (error->message)));
      return;
    }
  out_path = g_build_filename (out_dir, file_name, NULL);
  if (!write_case_outputs (&gcase, out_path, &error))
    {
      report_add (report, case_result (case_name, WAN_GOLDEN_FAILED, g_strdup (error->message)));
      return;
    }

  {
    g_autoptr (GList) names = json_object_get_members (tensors);

    for (GList *l = names; l != NULL; l = l->next)
      {
        JsonNode *tn = json_object_get_member (tensors, l->data);
        JsonObject *t = JSON_NODE_HOLDS_OBJECT (tn) ? json_node_get_object (tn) : NULL;

        if (t != NULL && g_strcmp0 (member_string (t, "role", ""), "output") == 0)
          report_add (report, compare_tensor (&gcase, l->data, tolerances));
      }
  }
}

WanGoldenReport *
wan_golden_check (const char *golden_dir, const char *out_dir, GError **error)
{
  g_autofree char *manifest_path = g_build_filename (golden_dir, "manifest.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (WanGoldenReport) report = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GList) names = NULL;
  JsonNode *root, *cases_node, *weight_files_node;
  JsonObject *cases, *weight_files = NULL;
  tk_sbgemm_fn sbgemm;

  if (!g_file_test (manifest_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND,
          _ ("The folder “%s” has no manifest.json, so it is not a golden data set. Choose the folder "
             "that holds manifest.json."),
          golden_dir);
      return NULL;
    }
  if (!json_parser_load_from_file (parser, manifest_path, &local_error))
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
          _ ("The golden manifest “%s” is not valid JSON: %s. Repair or download the golden set again."),
          manifest_path, local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  cases_node = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
                   ? json_object_get_member (json_node_get_object (root), "cases")
                   : NULL;
  if (cases_node == NULL || !JSON_NODE_HOLDS_OBJECT (cases_node))
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
          _ ("The golden manifest “%s” has no “cases” object. Repair or download the golden set again."),
          manifest_path);
      return NULL;
    }
  {
    g_autofree char *golden_abs = g_canonicalize_filename (golden_dir, NULL);
    g_autofree char *out_abs = g_canonicalize_filename (out_dir, NULL);

    /* The results are named like the case files, so writing them into the
     * golden folder would overwrite the reference. */
    if (g_str_equal (golden_abs, out_abs))
      {
        g_set_error (
            error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
            _ ("The output folder “%s” is the golden folder itself, and the results would overwrite the "
               "golden files. Choose another output folder."),
            out_dir);
        return NULL;
      }
  }
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("The output folder “%s” could not be created: %s. Choose another folder."), out_dir,
                   g_strerror (saved_errno));
      return NULL;
    }

  weight_files_node = json_object_get_member (json_node_get_object (root), "weight_files");
  if (weight_files_node != NULL && JSON_NODE_HOLDS_OBJECT (weight_files_node))
    weight_files = json_node_get_object (weight_files_node);
  /* The golden outputs are the F32 computation; a BF16 GEMM would round the
   * activations far beyond the F32 tolerances, so the check runs without it
   * and its verdict does not depend on the CPU. */
  sbgemm = tk_gemm_set_sbgemm (NULL);

  report = g_new0 (WanGoldenReport, 1);
  report->results = g_ptr_array_new_with_free_func ((GDestroyNotify)golden_result_free);
  cases = json_node_get_object (cases_node);
  names = json_object_get_members (cases);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *desc = json_object_get_member (cases, l->data);

      if (!JSON_NODE_HOLDS_OBJECT (desc))
        {
          report_add (report, case_result (l->data, WAN_GOLDEN_FAILED,
                                           g_strdup (_ ("manifest.json describes this case with something "
                                                        "other than an object."))));
          continue;
        }
      check_case (report, golden_dir, out_dir, l->data, json_node_get_object (desc), weight_files);
    }
  tk_gemm_set_sbgemm (sbgemm);
  return g_steal_pointer (&report);
}
