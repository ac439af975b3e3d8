/* takes-engine.h: the public C API of the local Wan engine.
 *
 * The engine reads a model set (a diffusion transformer, the umT5 text
 * encoder, a VAE and a tokenizer) from a folder, in the official Wan-AI layout
 * or as ComfyUI single files, and later turns prompts into frames. It never
 * prints: it reports through the log callback and through GErrors in the
 * TAKES_ENGINE_ERROR domain.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Errors */

#define TAKES_ENGINE_ERROR (takes_engine_error_quark ())
GQuark takes_engine_error_quark (void);

typedef enum
{
  TAKES_ENGINE_ERROR_NOT_FOUND,      /* a file or folder does not exist */
  TAKES_ENGINE_ERROR_IO,             /* a file exists but could not be read */
  TAKES_ENGINE_ERROR_CORRUPT,        /* a file is malformed or truncated: download it again */
  TAKES_ENGINE_ERROR_UNSUPPORTED,    /* a valid file in a form the engine does not read: convert it */
  TAKES_ENGINE_ERROR_NOT_A_MODEL,    /* a readable weight file that holds no Wan model part */
  TAKES_ENGINE_ERROR_MISSING_TENSOR, /* a weight file lacks a tensor the model needs */
  TAKES_ENGINE_ERROR_SHAPE,          /* a tensor or configuration value has the wrong size */
  TAKES_ENGINE_ERROR_INCOMPLETE,     /* a model set lacks a part (tokenizer, text encoder, VAE, …) */
  TAKES_ENGINE_ERROR_MISMATCH,       /* the parts of a model set do not belong together */
  TAKES_ENGINE_ERROR_INVALID_INPUT,  /* a prompt or argument the engine cannot take */
  TAKES_ENGINE_ERROR_NO_MEMORY,      /* an allocation failed */
  TAKES_ENGINE_ERROR_CANCELLED,      /* the caller cancelled the run */
} TakesEngineError;

/* Logging: the engine never prints; it hands messages to one callback. */

typedef enum
{
  TAKES_ENGINE_LOG_DEBUG,
  TAKES_ENGINE_LOG_INFO,
  TAKES_ENGINE_LOG_WARNING,
} TakesEngineLogLevel;

typedef void (*TakesEngineLogFunc) (TakesEngineLogLevel level, const char *message, gpointer user_data);

/* Sets the process-wide log callback; NULL drops every message (the default).
 * Safe to call from any thread; the callback may run on engine threads. */
void takes_engine_set_log_func (TakesEngineLogFunc func, gpointer user_data);

/* Architectures */

typedef enum
{
  WAN_ARCH_UNKNOWN,
  WAN_ARCH_TINY,           /* a test model far smaller than any release: its output is noise */
  WAN_ARCH_WAN21_T2V_1_3B, /* dim 1536, 30 layers, Wan2.1 VAE */
  WAN_ARCH_WAN21_T2V_14B,  /* dim 5120, 40 layers, one model */
  WAN_ARCH_WAN22_TI2V_5B,  /* dim 3072, 48 latent channels, Wan2.2 VAE */
  WAN_ARCH_WAN22_T2V_A14B, /* two dim-5120 experts, high and low noise */
  WAN_ARCH_CUSTOM,         /* a Wan DiT of another size */
} WanArch;

/* "Wan2.1-T2V-1.3B", "Wan2.2-TI2V-5B", "Wan2.2-T2V-A14B", "tiny", …; not translated. */
const char *wan_arch_get_name (WanArch arch);

/* Configurations, read from config.json where present and otherwise inferred
 * from tensor shapes. */

typedef struct
{
  int dim;
  int ffn_dim;
  int num_heads; /* dim / 128 unless config.json says otherwise */
  int num_layers;
  int in_dim;
  int out_dim;
  int text_dim; /* width of the text encoder output (4096 for umT5-XXL) */
  int text_len; /* 512 */
  int freq_dim; /* 256 */
  int patch_size[3];
  double eps;
} WanDitConfig;

typedef struct
{
  int vocab;
  int dim;
  int dim_attn;
  int dim_ffn;
  int num_heads; /* columns of the relative position bias table */
  int num_layers;
  int num_buckets;
  gboolean shared_pos; /* one relative bias table for all layers (T5) instead of one per layer (umT5) */
} Umt5Config;

typedef struct
{
  int version; /* 21 for the Wan2.1 VAE (z 16), 22 for the Wan2.2 VAE (z 48) */
  int dim;     /* encoder base width: 96 (2.1) or 160 (2.2) */
  int dec_dim; /* decoder base width: 96 (2.1) or 256 (2.2) */
  int z_dim;
  int dim_mult[4];
  int num_res_blocks;
  gboolean has_encoder; /* a decoder-only file can make videos but cannot encode images */
} WanVaeConfig;

/* One weight file (or a sharded set behind an index), classified and checked:
 * every tensor its architecture needs is present with the right shape. */

typedef enum
{
  WAN_WEIGHTS_DIT,
  WAN_WEIGHTS_T5,
  WAN_WEIGHTS_VAE,
} WanWeightsKind;

typedef struct _WanWeights WanWeights;

/* Opens @path (.safetensors, .safetensors.index.json or a PyTorch .pth
 * archive), memory-mapped and read-only. @config_json, if not NULL, is the
 * official config.json of a diffusion model; its values must agree with the
 * tensor shapes. Fails with TAKES_ENGINE_ERROR_NOT_A_MODEL when the file is
 * readable but is no Wan part. */
WanWeights *wan_weights_open (const char *path, const char *config_json, GError **error);
void wan_weights_free (WanWeights *weights);

WanWeightsKind wan_weights_get_kind (const WanWeights *weights);
const char *wan_weights_get_path (const WanWeights *weights);
/* The configuration of the matching kind, or NULL for another kind. */
const WanDitConfig *wan_weights_get_dit_config (const WanWeights *weights);
const Umt5Config *wan_weights_get_t5_config (const WanWeights *weights);
const WanVaeConfig *wan_weights_get_vae_config (const WanWeights *weights);
/* The architecture a diffusion model alone suggests (UNKNOWN for other kinds). */
WanArch wan_weights_get_arch (const WanWeights *weights);
/* Number of model parameters (scales and other bookkeeping tensors excluded). */
guint64 wan_weights_get_n_params (const WanWeights *weights);
/* Total size of the files on disk. */
guint64 wan_weights_get_n_bytes (const WanWeights *weights);
/* The storage dtypes by share of parameters, e.g. "BF16" or "F8_E4M3 (scaled) + F32". */
const char *wan_weights_get_dtype_summary (const WanWeights *weights);
/* TRUE when the names were HF/ComfyUI names (umT5 "shared.weight", a
 * "model.diffusion_model." prefix) and were mapped to the official ones. */
gboolean wan_weights_get_renamed (const WanWeights *weights);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanWeights, wan_weights_free)

/* The umT5 tokenizer */

#define UMT5_TEXT_LEN 512

typedef struct _Umt5Tokenizer Umt5Tokenizer;

/* Loads a Hugging Face tokenizer.json (Unigram model) or a SentencePiece
 * .model file, told apart by content. */
Umt5Tokenizer *umt5_tokenizer_load (const char *path, GError **error);
Umt5Tokenizer *umt5_tokenizer_new_from_json (const char *data, gsize length, GError **error);
Umt5Tokenizer *umt5_tokenizer_new_from_spiece (const guint8 *data, gsize length, GError **error);
void umt5_tokenizer_free (Umt5Tokenizer *tokenizer);

guint umt5_tokenizer_get_vocab_size (const Umt5Tokenizer *tokenizer);
gint32 umt5_tokenizer_get_pad_id (const Umt5Tokenizer *tokenizer);
gint32 umt5_tokenizer_get_eos_id (const Umt5Tokenizer *tokenizer);
gint32 umt5_tokenizer_get_unk_id (const Umt5Tokenizer *tokenizer);
/* The piece of @id, or NULL when out of range. */
const char *umt5_tokenizer_get_piece (const Umt5Tokenizer *tokenizer, gint32 id);

/* The text cleaning of the official pipeline: an ftfy-like repair (mojibake,
 * curly quotes, full-width forms, ligatures, control characters, NFC), HTML
 * entities decoded, whitespace runs collapsed to one space and the ends
 * stripped. @text must be valid UTF-8. */
char *umt5_clean_text (const char *text);

/* Tokenizes @text as given (no cleaning, no EOS, no truncation): the ids the
 * Hugging Face tokenizer gives with add_special_tokens=False. */
GArray *umt5_tokenizer_tokenize (const Umt5Tokenizer *tokenizer, const char *text, GError **error);

/* The whole official preparation: cleans @text, tokenizes it, appends EOS,
 * truncates to @max_len ids keeping EOS last, pads with the pad id. Fills
 * @ids and @mask (1 on real tokens, EOS included; 0 on padding), both of
 * @max_len entries, and returns the number of real tokens in @n_valid.
 * Fails with TAKES_ENGINE_ERROR_INVALID_INPUT for text that is not UTF-8. */
gboolean umt5_tokenizer_encode (const Umt5Tokenizer *tokenizer,
                                const char *text,
                                guint max_len,
                                gint32 *ids,
                                gint32 *mask,
                                guint *n_valid,
                                GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Umt5Tokenizer, umt5_tokenizer_free)

/* Model sets */

typedef enum
{
  WAN_EXPERT_SINGLE,     /* the one diffusion model of a non-MoE set */
  WAN_EXPERT_HIGH_NOISE, /* A14B: runs while t >= boundary */
  WAN_EXPERT_LOW_NOISE,  /* A14B: runs below the boundary */
} WanExpert;

typedef enum
{
  WAN_FILE_ROLE_NONE, /* not used: not a model file, damaged, or a duplicate */
  WAN_FILE_ROLE_DIT,
  WAN_FILE_ROLE_DIT_HIGH_NOISE,
  WAN_FILE_ROLE_DIT_LOW_NOISE,
  WAN_FILE_ROLE_T5,
  WAN_FILE_ROLE_VAE,
  WAN_FILE_ROLE_TOKENIZER,
} WanFileRole;

/* One file the scan looked at. */
typedef struct
{
  char *path;      /* absolute */
  guint64 n_bytes; /* on disk; all shards for an index */
  WanFileRole role;
  WanWeights *weights; /* NULL for tokenizer files and files that are no model part */
  char *note;          /* why it is not used, or NULL */
  gboolean is_problem; /* the note describes a damaged or unusable model file */
} WanModelFile;

typedef struct _WanModelSet WanModelSet;

/* Looks through @dir (the official layout, ComfyUI single files, or both) and
 * reads every weight file's header. Fails only when @dir cannot be read; what
 * is missing or wrong is listed by wan_model_set_get_problems(). */
WanModelSet *wan_model_set_scan (const char *dir, GError **error);
/* wan_model_set_scan() that also fails, with every problem in the message,
 * unless the set is complete and its parts fit together. */
WanModelSet *wan_model_set_load (const char *dir, GError **error);
void wan_model_set_free (WanModelSet *set);

const char *wan_model_set_get_dir (const WanModelSet *set);
WanArch wan_model_set_get_arch (const WanModelSet *set);
gboolean wan_model_set_is_complete (const WanModelSet *set);
/* Full sentences, translated, each saying what to do; empty when complete. */
const char *const *wan_model_set_get_problems (const WanModelSet *set);
/* Fails with the first problem's code and every problem in the message. */
gboolean wan_model_set_check (const WanModelSet *set, GError **error);

/* Parts in use, or NULL when missing. */
WanWeights *wan_model_set_get_dit (const WanModelSet *set, WanExpert expert);
WanWeights *wan_model_set_get_t5 (const WanModelSet *set);
WanWeights *wan_model_set_get_vae (const WanModelSet *set);
Umt5Tokenizer *wan_model_set_get_tokenizer (const WanModelSet *set);
/* The file the tokenizer came from ("…/t5.safetensors#spiece_model" for one
 * embedded in a ComfyUI text encoder), or NULL. */
const char *wan_model_set_get_tokenizer_source (const WanModelSet *set);
/* Parameters of the parts in use (both experts counted). */
guint64 wan_model_set_get_n_params (const WanModelSet *set);

/* Every file the scan looked at, sorted by path. */
const WanModelFile *wan_model_set_get_files (const WanModelSet *set, guint *n_files);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanModelSet, wan_model_set_free)

/* Callbacks of long computations, called on the thread that runs them. A
 * cancel callback returns TRUE to stop; the run then fails with
 * TAKES_ENGINE_ERROR_CANCELLED. Progress counts done out of total units. */
typedef gboolean (*WanCancelFunc) (gpointer user_data);
typedef void (*WanProgressFunc) (int done, int total, gpointer user_data);

/* The umT5 text encoder */

typedef struct _Umt5Encoder Umt5Encoder;

/* An encoder over a text-encoder weight file (kept, not owned: it must
 * outlive the encoder), with @n_threads threads (0: one per CPU) and its
 * scratch for UMT5_TEXT_LEN tokens allocated here. */
Umt5Encoder *umt5_encoder_new (WanWeights *weights, int n_threads, GError **error);
void umt5_encoder_free (Umt5Encoder *encoder);
/* Width of each output row (4096 for umT5-XXL). */
int umt5_encoder_get_dim (const Umt5Encoder *encoder);
/* Encodes the @n_valid real tokens of @ids (EOS included, padding left out)
 * into @out [n_valid, dim]: the rows the official masked 512-token run gives
 * for them. @cancel (may be NULL) is asked between layers. */
gboolean umt5_encoder_encode (Umt5Encoder *encoder,
                              const gint32 *ids,
                              int n_valid,
                              float *out,
                              WanCancelFunc cancel,
                              gpointer user_data,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Umt5Encoder, umt5_encoder_free)

/* The Wan diffusion transformer */

typedef struct _WanDit WanDit;
typedef struct _WanDitState WanDitState;

/* A diffusion model over a weight file (kept, not owned: it must outlive the
 * model). Weights stay in their stored dtype (F32, F16, BF16, FP8 with
 * scale); activations are F32. @n_threads threads, 0 for one per CPU. */
WanDit *wan_dit_new (WanWeights *weights, int n_threads, GError **error);
void wan_dit_free (WanDit *dit);
const WanDitConfig *wan_dit_get_config (const WanDit *dit);

/* Every activation and scratch buffer of a run on latents [channels, frames,
 * height, width] with contexts of at most @ctx_len rows (up to text_len),
 * allocated once; wan_dit_forward() allocates nothing. A state serves any
 * model of the same configuration and thread count (both A14B experts). */
WanDitState *
wan_dit_state_new (WanDit *dit, int channels, int frames, int height, int width, int ctx_len, GError **error);
void wan_dit_state_free (WanDitState *state);

typedef struct
{
  guint64 weights;     /* the mapped files plus the small F32 copies */
  guint64 activations; /* the state's tensors */
  guint64 scratch;     /* the kernels' workspaces (an estimate) */
} WanDitMemory;

/* Estimates the memory of a run of the model in @weights on latents
 * [channels, frames, height, width] with @n_threads threads (0: one per CPU).
 * Fails for a latent shape the model cannot take. */
gboolean wan_dit_estimate_memory (const WanWeights *weights,
                                  int channels,
                                  int frames,
                                  int height,
                                  int width,
                                  int n_threads,
                                  WanDitMemory *memory,
                                  GError **error);

/* One forward pass: the velocity @out [out_dim, frames, height, width] for
 * the latent @x [in_dim, frames, height, width] at integer timestep @t (or,
 * when @t_per_token is not NULL, one timestep per token in (f, h, w) order,
 * at most one distinct value per latent frame plus one), with @context
 * [ctx_rows, text_dim], the valid rows of the text encoder output. The
 * context is zero-padded to text_len rows before the text embedding and
 * cross-attended unmasked, as the official model does. @cancel is asked
 * between blocks; @progress hears of each block. */
gboolean wan_dit_forward (WanDit *dit,
                          WanDitState *state,
                          const float *x,
                          const float *t_per_token,
                          gint64 t,
                          const float *context,
                          int ctx_rows,
                          float *out,
                          WanCancelFunc cancel,
                          WanProgressFunc progress,
                          gpointer user_data,
                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanDit, wan_dit_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanDitState, wan_dit_state_free)

G_END_DECLS
