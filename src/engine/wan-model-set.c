/* wan-model-set.c: finding the parts of a model set in a folder.
 *
 * Two layouts are understood, and may be mixed: the official Wan-AI one
 * (diffusion_pytorch_model*.safetensors with config.json, optionally in
 * high_noise_model/ and low_noise_model/, models_t5_*.pth, Wan2.x_VAE.pth,
 * google/umt5-xxl/) and ComfyUI single files (diffusion_models/,
 * text_encoders/, vae/, or all in one folder). Every weight file is classified
 * by its tensor names, never by its file name, except that file and folder
 * names say which expert of an A14B pair a diffusion model is.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "takes-engine-private.h"
#include "wan-weights.h"

/* Folders deeper than this are not searched; the known layouts need 3. */
#define MAX_DEPTH 3
#define MAX_FILES 512

typedef struct
{
  int code;
  char *message;
} Problem;

struct _WanModelSet
{
  char *dir;
  GArray *files; /* WanModelFile */
  GArray *problems;
  char **problem_strv;
  WanWeights *dit;
  WanWeights *dit_high;
  WanWeights *dit_low;
  WanWeights *t5;
  WanWeights *vae;
  Umt5Tokenizer *tokenizer;
  char *tokenizer_source;
  gboolean tokenizer_file_found;
  WanArch arch;
};

static void
clear_file (WanModelFile *file)
{
  g_free (file->path);
  g_clear_pointer (&file->weights, wan_weights_free);
  g_free (file->note);
}

static void
clear_problem (Problem *problem)
{
  g_free (problem->message);
}

void
wan_model_set_free (WanModelSet *set)
{
  if (set == NULL)
    return;
  g_free (set->dir);
  g_clear_pointer (&set->files, g_array_unref);
  g_clear_pointer (&set->problems, g_array_unref);
  g_free (set->problem_strv);
  g_clear_pointer (&set->tokenizer, umt5_tokenizer_free);
  g_free (set->tokenizer_source);
  g_free (set);
}

static void G_GNUC_PRINTF (3, 4) add_problem (WanModelSet *set, int code, const char *format, ...)
{
  Problem problem;
  va_list args;

  va_start (args, format);
  problem.code = code;
  problem.message = g_strdup_vprintf (format, args);
  va_end (args);
  g_array_append_val (set->problems, problem);
}

static WanModelFile *
add_file (WanModelSet *set, const char *path)
{
  WanModelFile file = { 0 };

  file.path = g_strdup (path);
  g_array_append_val (set->files, file);
  return &g_array_index (set->files, WanModelFile, set->files->len - 1);
}

static gboolean
is_weight_name (const char *name)
{
  return g_str_has_suffix (name, ".safetensors") || g_str_has_suffix (name, ".safetensors.index.json")
         || g_str_has_suffix (name, ".pth");
}

static void
collect (const char *dir, int depth, GPtrArray *paths)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  if (handle == NULL)
    return;
  while ((name = g_dir_read_name (handle)) != NULL && paths->len <= MAX_FILES)
    {
      g_autofree char *path = NULL;

      if (name[0] == '.')
        continue;
      path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (depth < MAX_DEPTH)
            collect (path, depth + 1, paths);
        }
      else if (is_weight_name (name))
        g_ptr_array_add (paths, g_steal_pointer (&path));
    }
}

/* The shard files an index names, so they are not listed on their own. */
static void
add_shards (const char *index_path, GHashTable *shards)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = g_path_get_dirname (index_path);
  g_autoptr (JsonNode) root = NULL;
  gsize length = 0;
  JsonObject *map;
  GList *values;

  if (!takes_engine_read_file (index_path, 64 * 1024 * 1024, &text, &length, NULL))
    return;
  root = takes_engine_parse_json (text, length, index_path, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), "weight_map")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (root), "weight_map")))
    return;
  map = json_object_get_object_member (json_node_get_object (root), "weight_map");
  values = json_object_get_values (map);
  for (GList *l = values; l != NULL; l = l->next)
    if (json_node_get_value_type (l->data) == G_TYPE_STRING)
      g_hash_table_add (shards, g_build_filename (dir, json_node_get_string (l->data), NULL));
  g_list_free (values);
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static int
compare_files (gconstpointer a, gconstpointer b)
{
  return strcmp (((const WanModelFile *)a)->path, ((const WanModelFile *)b)->path);
}

static char *
config_json_for (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *dir = NULL;
  g_autofree char *config = NULL;

  if (!g_str_has_prefix (base, "diffusion_pytorch_model"))
    return NULL;
  dir = g_path_get_dirname (path);
  config = g_build_filename (dir, "config.json", NULL);
  return g_file_test (config, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer (&config) : NULL;
}

static WanExpert
expert_of (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *parent = g_path_get_basename (dir);
  g_autofree char *base = g_path_get_basename (path);

  if (g_str_equal (parent, "high_noise_model") || strstr (base, "high_noise") != NULL)
    return WAN_EXPERT_HIGH_NOISE;
  if (g_str_equal (parent, "low_noise_model") || strstr (base, "low_noise") != NULL)
    return WAN_EXPERT_LOW_NOISE;
  return WAN_EXPERT_SINGLE;
}

static char *
relative (const WanModelSet *set, const char *path)
{
  gsize n = strlen (set->dir);

  if (strncmp (path, set->dir, n) == 0 && path[n] == G_DIR_SEPARATOR)
    return g_strdup (path + n + 1);
  return g_strdup (path);
}

/* Lists the relative paths of the files of one role, for messages. */
static char *
list_files (const WanModelSet *set, GPtrArray *files)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *rel = relative (set, ((WanModelFile *)g_ptr_array_index (files, i))->path);
      g_string_append_printf (s, "%s“%s”", i > 0 ? ", " : "", rel);
    }
  return g_string_free (s, FALSE);
}

static void
open_weights (WanModelSet *set, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config = config_json_for (path);
  WanModelFile *file = add_file (set, path);
  GStatBuf st;

  if (g_stat (path, &st) == 0)
    file->n_bytes = (guint64)st.st_size;
  file->weights = wan_weights_open (path, config, &error);
  if (file->weights != NULL)
    {
      file->n_bytes = wan_weights_get_n_bytes (file->weights);
      return;
    }
  if (g_error_matches (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_A_MODEL))
    {
      file->note = g_strdup (_ ("not a Wan model file"));
      return;
    }
  file->note = g_strdup (error->message);
  file->is_problem = TRUE;
  add_problem (set, error->code, "%s", error->message);
}

static void
find_tokenizer (WanModelSet *set)
{
  static const char *const candidates[] = {
    "google/umt5-xxl/tokenizer.json",
    "google/umt5-xxl/spiece.model",
    "tokenizer.json",
    "spiece.model",
    "tokenizer/tokenizer.json",
    "tokenizer/spiece.model",
    "text_encoders/tokenizer.json",
    "text_encoders/spiece.model",
  };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *path = g_build_filename (set->dir, candidates[i], NULL);
      g_autoptr (GError) error = NULL;
      WanModelFile *file;
      GStatBuf st;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      set->tokenizer_file_found = TRUE;
      file = add_file (set, path);
      file->role = WAN_FILE_ROLE_TOKENIZER;
      if (g_stat (path, &st) == 0)
        file->n_bytes = (guint64)st.st_size;
      set->tokenizer = umt5_tokenizer_load (path, &error);
      if (set->tokenizer == NULL)
        {
          file->role = WAN_FILE_ROLE_NONE;
          file->note = g_strdup (error->message);
          file->is_problem = TRUE;
          add_problem (set, error->code, "%s", error->message);
        }
      else
        set->tokenizer_source = g_strdup (path);
      return;
    }
}

static void
assign_dit (WanModelSet *set, GPtrArray *dits)
{
  g_autoptr (GPtrArray) high = g_ptr_array_new ();
  g_autoptr (GPtrArray) low = g_ptr_array_new ();
  g_autofree char *names = list_files (set, dits);

  for (guint i = 0; i < dits->len; i++)
    {
      WanModelFile *file = g_ptr_array_index (dits, i);
      WanExpert expert = expert_of (file->path);

      if (expert == WAN_EXPERT_HIGH_NOISE)
        g_ptr_array_add (high, file);
      else if (expert == WAN_EXPERT_LOW_NOISE)
        g_ptr_array_add (low, file);
    }

  if (high->len > 0 || low->len > 0)
    {
      WanModelFile *h, *l;

      if (high->len != 1 || low->len != 1)
        {
          add_problem (
              set, TAKES_ENGINE_ERROR_INCOMPLETE,
              _ ("Found %u high-noise and %u low-noise diffusion models (%s); a Wan2.2-A14B set needs "
                 "exactly one of each, in high_noise_model/ and low_noise_model/."),
              high->len, low->len, names);
          return;
        }
      h = g_ptr_array_index (high, 0);
      l = g_ptr_array_index (low, 0);
      h->role = WAN_FILE_ROLE_DIT_HIGH_NOISE;
      l->role = WAN_FILE_ROLE_DIT_LOW_NOISE;
      set->dit_high = h->weights;
      set->dit_low = l->weights;
      for (guint i = 0; i < dits->len; i++)
        {
          WanModelFile *file = g_ptr_array_index (dits, i);
          if (file != h && file != l && file->note == NULL)
            file->note = g_strdup (_ ("not used: the folder holds a high-noise and low-noise pair"));
        }
      if (memcmp (wan_weights_get_dit_config (h->weights), wan_weights_get_dit_config (l->weights),
                  sizeof (WanDitConfig))
          != 0)
        add_problem (
            set, TAKES_ENGINE_ERROR_MISMATCH,
            _ ("The high-noise and low-noise diffusion models have different sizes; both experts must come "
               "from the same Wan2.2-A14B release."));
      return;
    }
  if (dits->len == 0)
    {
      add_problem (
          set, TAKES_ENGINE_ERROR_INCOMPLETE,
          _ ("No diffusion model was found. Put diffusion_pytorch_model.safetensors (with its config.json) "
             "or a ComfyUI file such as wan2.1_t2v_1.3B_fp16.safetensors into “%s”."),
          set->dir);
      return;
    }
  if (dits->len > 1)
    {
      add_problem (
          set, TAKES_ENGINE_ERROR_INCOMPLETE,
          _ ("Several diffusion models were found (%s). Keep one per folder, or a high_noise/low_noise "
             "pair."),
          names);
      return;
    }
  ((WanModelFile *)g_ptr_array_index (dits, 0))->role = WAN_FILE_ROLE_DIT;
  set->dit = ((WanModelFile *)g_ptr_array_index (dits, 0))->weights;
}

static void
assign_t5 (WanModelSet *set, GPtrArray *t5s)
{
  g_autofree char *names = list_files (set, t5s);

  if (t5s->len == 0)
    add_problem (set, TAKES_ENGINE_ERROR_INCOMPLETE,
                 _ ("No umT5 text encoder was found. Put models_t5_umt5-xxl-enc-bf16.pth or "
                    "umt5_xxl_fp16.safetensors into “%s”."),
                 set->dir);
  else if (t5s->len > 1)
    add_problem (set, TAKES_ENGINE_ERROR_INCOMPLETE,
                 _ ("Several umT5 text encoders were found (%s). Keep one per folder."), names);
  else
    {
      WanModelFile *file = g_ptr_array_index (t5s, 0);
      file->role = WAN_FILE_ROLE_T5;
      set->t5 = file->weights;
    }
}

static void
assign_vae (WanModelSet *set, GPtrArray *vaes)
{
  const WanWeights *dit = set->dit != NULL ? set->dit : set->dit_high;
  g_autoptr (GPtrArray) fitting = g_ptr_array_new ();
  g_autofree char *names = list_files (set, vaes);

  for (guint i = 0; i < vaes->len; i++)
    {
      WanModelFile *file = g_ptr_array_index (vaes, i);

      if (dit == NULL
          || wan_weights_get_vae_config (file->weights)->z_dim == wan_weights_get_dit_config (dit)->in_dim)
        g_ptr_array_add (fitting, file);
      else if (file->note == NULL)
        file->note = g_strdup_printf (_ ("not used: its %d latent channels do not fit the diffusion model"),
                                      wan_weights_get_vae_config (file->weights)->z_dim);
    }
  if (vaes->len == 0)
    add_problem (
        set, TAKES_ENGINE_ERROR_INCOMPLETE,
        _ ("No VAE was found. Put Wan2.1_VAE.pth (or wan_2.1_vae.safetensors; Wan2.2_VAE.pth for TI2V-5B) "
           "into “%s”."),
        set->dir);
  else if (fitting->len == 0)
    add_problem (
        set, TAKES_ENGINE_ERROR_MISMATCH,
        _ ("The VAE found (%s) does not fit the diffusion model, which works on %d latent channels: use "
           "%s."),
        names, wan_weights_get_dit_config (dit)->in_dim,
        wan_weights_get_dit_config (dit)->in_dim == 48 ? "Wan2.2_VAE.pth" : "Wan2.1_VAE.pth");
  else if (fitting->len > 1)
    {
      g_autofree char *fit_names = list_files (set, fitting);
      add_problem (set, TAKES_ENGINE_ERROR_INCOMPLETE,
                   _ ("Several VAEs were found (%s). Keep one per folder."), fit_names);
    }
  else
    {
      WanModelFile *file = g_ptr_array_index (fitting, 0);
      file->role = WAN_FILE_ROLE_VAE;
      set->vae = file->weights;
    }
}

static void
check_fit (WanModelSet *set)
{
  const WanWeights *dit = set->dit != NULL ? set->dit : set->dit_high;

  if (dit != NULL)
    {
      const WanDitConfig *c = wan_weights_get_dit_config (dit);

      if (c->in_dim != c->out_dim)
        add_problem (set, TAKES_ENGINE_ERROR_UNSUPPORTED,
                     _ ("The diffusion model takes %d latent channels but returns %d; Takes runs "
                        "text-to-video models, "
                        "whose two match."),
                     c->in_dim, c->out_dim);
      if (set->t5 != NULL && wan_weights_get_t5_config (set->t5)->dim != c->text_dim)
        add_problem (
            set, TAKES_ENGINE_ERROR_MISMATCH,
            _ ("The text encoder gives vectors of %d values, but the diffusion model expects %d: they come "
               "from different models."),
            wan_weights_get_t5_config (set->t5)->dim, c->text_dim);
    }
  if (set->tokenizer != NULL && set->t5 != NULL
      && umt5_tokenizer_get_vocab_size (set->tokenizer) > (guint)wan_weights_get_t5_config (set->t5)->vocab)
    add_problem (
        set, TAKES_ENGINE_ERROR_MISMATCH,
        _ ("The tokenizer has %u pieces, but the text encoder knows only %d: they come from different "
           "models. Use the tokenizer of google/umt5-xxl."),
        umt5_tokenizer_get_vocab_size (set->tokenizer), wan_weights_get_t5_config (set->t5)->vocab);
}

static WanArch
set_arch (const WanModelSet *set)
{
  if (set->dit_high != NULL)
    {
      WanArch arch = wan_weights_get_arch (set->dit_high);

      if (arch == WAN_ARCH_WAN21_T2V_14B)
        return WAN_ARCH_WAN22_T2V_A14B;
      return arch == WAN_ARCH_TINY ? WAN_ARCH_TINY : WAN_ARCH_CUSTOM;
    }
  if (set->dit != NULL)
    return wan_weights_get_arch (set->dit);
  return WAN_ARCH_UNKNOWN;
}

WanModelSet *
wan_model_set_scan (const char *dir, GError **error)
{
  g_autoptr (WanModelSet) set = g_new0 (WanModelSet, 1);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) shards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) dits = g_ptr_array_new ();
  g_autoptr (GPtrArray) t5s = g_ptr_array_new ();
  g_autoptr (GPtrArray) vaes = g_ptr_array_new ();
  g_autoptr (GDir) probe = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND,
                   _ ("The model folder “%s” does not exist. Check the path."), dir);
      return NULL;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("“%s” is a file; give the folder that holds the model files."), dir);
      return NULL;
    }
  probe = g_dir_open (dir, 0, &local_error);
  if (probe == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("Could not read the model folder “%s”: %s."), dir, local_error->message);
      return NULL;
    }

  set->dir = g_path_is_absolute (dir) ? g_strdup (dir) : g_canonicalize_filename (dir, NULL);
  while (g_str_has_suffix (set->dir, G_DIR_SEPARATOR_S) && strlen (set->dir) > 1)
    set->dir[strlen (set->dir) - 1] = '\0';
  set->files = g_array_new (FALSE, TRUE, sizeof (WanModelFile));
  g_array_set_clear_func (set->files, (GDestroyNotify)clear_file);
  set->problems = g_array_new (FALSE, TRUE, sizeof (Problem));
  g_array_set_clear_func (set->problems, (GDestroyNotify)clear_problem);

  collect (set->dir, 0, paths);
  if (paths->len > MAX_FILES)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("“%s” holds more than %d weight files; point to the folder of one model set."), dir,
                   MAX_FILES);
      return NULL;
    }
  g_ptr_array_sort (paths, compare_paths);
  for (guint i = 0; i < paths->len; i++)
    if (g_str_has_suffix (g_ptr_array_index (paths, i), ".index.json"))
      add_shards (g_ptr_array_index (paths, i), shards);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);

      if (!g_hash_table_contains (shards, path))
        open_weights (set, path);
    }
  find_tokenizer (set);
  g_array_sort (set->files, compare_files);

  for (guint i = 0; i < set->files->len; i++)
    {
      WanModelFile *file = &g_array_index (set->files, WanModelFile, i);

      if (file->weights == NULL)
        continue;
      switch (wan_weights_get_kind (file->weights))
        {
          case WAN_WEIGHTS_DIT:
            g_ptr_array_add (dits, file);
            break;
          case WAN_WEIGHTS_T5:
            g_ptr_array_add (t5s, file);
            break;
          case WAN_WEIGHTS_VAE:
          default:
            g_ptr_array_add (vaes, file);
            break;
        }
    }
  assign_dit (set, dits);
  assign_t5 (set, t5s);
  assign_vae (set, vaes);

  if (set->tokenizer == NULL && set->t5 != NULL && wan_weights_get_spiece_model (set->t5) != NULL)
    {
      const SafetensorsTensor *sp = wan_weights_get_spiece_model (set->t5);
      g_autoptr (GError) tok_error = NULL;

      set->tokenizer = umt5_tokenizer_new_from_spiece (sp->data, sp->n_bytes, &tok_error);
      if (set->tokenizer != NULL)
        set->tokenizer_source = g_strconcat (wan_weights_get_path (set->t5), "#spiece_model", NULL);
      else
        add_problem (set, tok_error->code, "%s", tok_error->message);
    }
  if (set->tokenizer == NULL && !set->tokenizer_file_found)
    {
      g_autofree char *target = g_build_filename (set->dir, "google", "umt5-xxl", NULL);
      add_problem (
          set, TAKES_ENGINE_ERROR_INCOMPLETE,
          _ ("No tokenizer was found: put tokenizer.json from google/umt5-xxl into %s%s (ComfyUI files do "
             "not include it)."),
          target, G_DIR_SEPARATOR_S);
    }
  check_fit (set);
  set->arch = set_arch (set);

  set->problem_strv = g_new0 (char *, set->problems->len + 1);
  for (guint i = 0; i < set->problems->len; i++)
    set->problem_strv[i] = g_array_index (set->problems, Problem, i).message;
  return g_steal_pointer (&set);
}

WanModelSet *
wan_model_set_load (const char *dir, GError **error)
{
  g_autoptr (WanModelSet) set = wan_model_set_scan (dir, error);

  if (set == NULL || !wan_model_set_check (set, error))
    return NULL;
  return g_steal_pointer (&set);
}

gboolean
wan_model_set_check (const WanModelSet *set, GError **error)
{
  GString *message;

  if (set->problems->len == 0)
    return TRUE;
  message = g_string_new (NULL);
  g_string_append_printf (message, _ ("The model set in “%s” cannot be used:"), set->dir);
  for (guint i = 0; i < set->problems->len; i++)
    g_string_append_printf (message, "\n• %s", g_array_index (set->problems, Problem, i).message);
  g_set_error_literal (error, TAKES_ENGINE_ERROR, g_array_index (set->problems, Problem, 0).code,
                       message->str);
  g_string_free (message, TRUE);
  return FALSE;
}

const char *
wan_model_set_get_dir (const WanModelSet *set)
{
  return set->dir;
}

WanArch
wan_model_set_get_arch (const WanModelSet *set)
{
  return set->arch;
}

gboolean
wan_model_set_is_complete (const WanModelSet *set)
{
  return set->problems->len == 0;
}

const char *const *
wan_model_set_get_problems (const WanModelSet *set)
{
  return (const char *const *)set->problem_strv;
}

WanWeights *
wan_model_set_get_dit (const WanModelSet *set, WanExpert expert)
{
  switch (expert)
    {
      case WAN_EXPERT_HIGH_NOISE:
        return set->dit_high;
      case WAN_EXPERT_LOW_NOISE:
        return set->dit_low;
      case WAN_EXPERT_SINGLE:
      default:
        return set->dit;
    }
}

WanWeights *
wan_model_set_get_t5 (const WanModelSet *set)
{
  return set->t5;
}

WanWeights *
wan_model_set_get_vae (const WanModelSet *set)
{
  return set->vae;
}

Umt5Tokenizer *
wan_model_set_get_tokenizer (const WanModelSet *set)
{
  return set->tokenizer;
}

const char *
wan_model_set_get_tokenizer_source (const WanModelSet *set)
{
  return set->tokenizer_source;
}

guint64
wan_model_set_get_n_params (const WanModelSet *set)
{
  WanWeights *parts[] = { set->dit, set->dit_high, set->dit_low, set->t5, set->vae };
  guint64 n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL)
      n += wan_weights_get_n_params (parts[i]);
  return n;
}

const WanModelFile *
wan_model_set_get_files (const WanModelSet *set, guint *n_files)
{
  *n_files = set->files->len;
  return (const WanModelFile *)(gpointer)set->files->data;
}
