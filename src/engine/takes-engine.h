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

/* The Wan VAE */

typedef struct _WanVae WanVae;

/* A VAE over a weight file (kept, not owned: it must outlive the VAE), for
 * the Wan2.1 (z 16, 8x spatial) or the Wan2.2 (z 48, 16x spatial) design,
 * every width read from the tensor shapes; weights in any float dtype are
 * unpacked to F32 once. @n_threads threads, 0 for one per CPU. Reads the
 * latent mean and standard deviation of its version from the engine data
 * folder. One decode or encode at a time per VAE. */
WanVae *wan_vae_new (WanWeights *weights, int n_threads, GError **error);
/* The same with the latent tables read from @engine_data_dir (NULL: the
 * default engine data folder). */
WanVae *
wan_vae_new_with_data (WanWeights *weights, int n_threads, const char *engine_data_dir, GError **error);
void wan_vae_free (WanVae *vae);
const WanVaeConfig *wan_vae_get_config (const WanVae *vae);
/* Pixels per latent cell along each side: 8 (2.1) or 16 (2.2). */
int wan_vae_get_spatial_factor (const WanVae *vae);
/* Latent channels: 16 (2.1) or 48 (2.2). */
int wan_vae_get_z_dim (const WanVae *vae);
/* Bytes of weights the VAE keeps in memory (unpacked to F32 and packed for
 * its convolutions); the file's pages are handed back as it reads them. */
guint64 wan_vae_get_weight_bytes (const WanVae *vae);

/* Peak bytes a decode of a latent [z_dim, T, h, w] needs beyond the weights
 * (caches, activations, the output video), and the same for an encode of a
 * video [3, F, H, W] (the input video and the latent included). 0 for a
 * shape the VAE cannot take, or an encode without encoder weights. */
guint64 wan_vae_estimate_decode_bytes (const WanVae *vae, int T, int h, int w);
/* Peak bytes of a WanVaeDecoder for latents of h x w beyond the weights:
 * the streaming decode, which never holds the whole video. */
guint64 wan_vae_estimate_decoder_bytes (const WanVae *vae, int h, int w);
guint64 wan_vae_estimate_encode_bytes (const WanVae *vae, int F, int H, int W);

/* Decodes the normalised latent @z [z_dim, T, h, w] causally, one latent
 * frame at a time with the feature cache, into @video [3, 1+4(T-1), H, W]
 * (H = h * factor), clamped to [-1, 1]. Scratch is allocated once per call.
 * @cancel (may be NULL) is asked between latent frames and between blocks;
 * @progress counts latent frames. */
gboolean wan_vae_decode (WanVae *vae,
                         const float *z,
                         int T,
                         int h,
                         int w,
                         float *video,
                         WanCancelFunc cancel,
                         WanProgressFunc progress,
                         gpointer user_data,
                         GError **error);

/* Encodes @video [3, F, H, W] in [-1, 1] (F = 1+4n, H and W multiples of the
 * spatial factor) in chunks of 1, 4, 4, … frames to the normalised mean
 * @z [z_dim, 1+(F-1)/4, H/factor, W/factor]. Fails with
 * TAKES_ENGINE_ERROR_INCOMPLETE for a file without encoder weights.
 * @progress counts latent frames. */
gboolean wan_vae_encode (WanVae *vae,
                         const float *video,
                         int F,
                         int H,
                         int W,
                         float *z,
                         WanCancelFunc cancel,
                         WanProgressFunc progress,
                         gpointer user_data,
                         GError **error);

/* A decode that hands out the frames as they are produced: one latent frame
 * in, 1 (the first) or 4 video frames out. Its caches and scratch are
 * allocated once for latents of @h x @w. */
typedef struct _WanVaeDecoder WanVaeDecoder;

WanVaeDecoder *wan_vae_decoder_new (WanVae *vae, int h, int w, GError **error);
void wan_vae_decoder_free (WanVaeDecoder *decoder);
/* Decodes the next latent frame @z_frame [z_dim, h, w] (normalised) into
 * @frames [3, n, H, W] with n = 1 for the first call and 4 after; sets
 * @n_frames to n. @frames must hold 4 frames. Clamped to [-1, 1]. After a
 * failed or cancelled push the decoder's caches are partly updated: free it
 * and start again. */
gboolean wan_vae_decoder_push (WanVaeDecoder *decoder,
                               const float *z_frame,
                               float *frames,
                               int *n_frames,
                               WanCancelFunc cancel,
                               gpointer user_data,
                               GError **error);

/* Spatial tiling of a decode, for frames whose caches would not fit: the
 * latent is cut into tiles of tile_h x tile_w cells that share @overlap
 * cells (at most half a tile) with their neighbours, the last tile along a
 * side cut short at the edge. The latent-size part of the decoder (with its
 * attention) still runs on whole frames; the levels run tile by tile over
 * every frame with their own caches, so the memory follows the tile and not
 * the frame. Tiles are blended across the shared pixels: weight 0 in the
 * quarter nearest the cut, a linear ramp across the middle half. The
 * wider the overlap, the closer the video is to the untiled one (the
 * levels see about 12 latent cells around a pixel). A tile side of 0 or of
 * the whole side means no cut along it. */
typedef struct
{
  int tile_h, tile_w;
  int overlap;
} WanVaeTiling;

/* Cells neighbouring tiles share when the planner picks the tiles, at most,
 * and the smallest tile side it tries. */
#define WAN_VAE_TILE_OVERLAP 16
#define WAN_VAE_TILE_MIN 8

/* Peak bytes of a tiled decode beyond the weights (the same as
 * wan_vae_estimate_decode_bytes() for a single tile); 0 for a shape or a
 * tiling the VAE cannot take. */
guint64
wan_vae_estimate_decode_tiled_bytes (const WanVae *vae, int T, int h, int w, const WanVaeTiling *tiling);
/* How many tiles @tiling cuts a latent of h x w into; 0 for a bad tiling. */
int wan_vae_tiling_count (int h, int w, const WanVaeTiling *tiling);
/* Fills @tiling with the whole frame when an untiled decode fits in
 * @budget bytes (beyond the weights), else with the largest square tiles
 * that fit. FALSE when even the smallest tiles do not fit. */
gboolean wan_vae_plan_tiling (const WanVae *vae, int T, int h, int w, guint64 budget, WanVaeTiling *tiling);
/* wan_vae_decode() tile by tile as @tiling says; a single tile (or a NULL
 * @tiling) is exactly wan_vae_decode(). @progress counts latent frames over
 * all tiles. */
gboolean wan_vae_decode_tiled (WanVae *vae,
                               const float *z,
                               int T,
                               int h,
                               int w,
                               const WanVaeTiling *tiling,
                               float *video,
                               WanCancelFunc cancel,
                               WanProgressFunc progress,
                               gpointer user_data,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanVae, wan_vae_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanVaeDecoder, wan_vae_decoder_free)

/* The pipeline */

/* One text-to-video request. Sizes are in pixels; zero or negative numbers
 * (and NULL strings) take the model's defaults when the pipeline plans the
 * run, so a request filled by wan_request_init_defaults() and then edited is
 * always complete. */
typedef struct
{
  const char *prompt;          /* UTF-8; longer prompts are cut to UMT5_TEXT_LEN tokens */
  const char *negative_prompt; /* NULL or "": the model's default negative prompt */
  int width;                   /* a multiple of wan_pipeline_get_size_multiple() */
  int height;
  int frames; /* 4n + 1 */
  int steps;
  double guidance;      /* the low-noise expert's for a two-expert (A14B) set */
  double guidance_high; /* the high-noise expert's; <= 0: the same as guidance */
  double shift;
  const char *solver; /* "unipc", "dpm++" or "euler"; NULL: the model's (unipc) */
  guint64 seed;
  double boundary;   /* A14B: the high-noise expert runs while t >= boundary·1000; <= 0: 0.875 */
  int preview_every; /* a preview after every this many steps; 0: none */
  /* The side of the square tiles the VAE decodes, in latent cells: at least
   * WAN_VAE_TILE_MIN, or 0 to decode whole frames and cut tiles only when
   * those do not fit in the available memory (wan_vae_plan_tiling()). A
   * tile as large as the latent is an untiled decode. */
  int vae_tile;
} WanRequest;

/* Fills @request with the defaults of @arch (the table in model-defaults.json
 * for the released models; 96×64, 9 frames and 8 steps for the tiny test
 * model) and no prompt. Fails when the engine's data files cannot be read. */
gboolean wan_request_init_defaults (WanRequest *request, WanArch arch, GError **error);

typedef enum
{
  WAN_STAGE_LOAD,    /* binding weights and allocating the run's buffers */
  WAN_STAGE_TEXT,    /* encoding the prompt and the negative prompt */
  WAN_STAGE_DENOISE, /* the sampling steps */
  WAN_STAGE_DECODE,  /* the VAE */
} WanStage;

typedef struct
{
  WanStage stage;
  int step;           /* units of the stage done: steps, or latent frames (of every tile) while decoding */
  int n_steps;        /* units of the stage */
  double fraction;    /* of the whole run, from 0 to 1, never decreasing */
  double eta_seconds; /* time left, from the measured time per unit of work; < 0 while unknown */
} WanProgress;

typedef void (*WanPipelineProgressFunc) (const WanProgress *progress, gpointer user_data);

/* A small RGB preview of the current x0 estimate after step @step (1-based):
 * @frames images (now always 1: the first frame, which the causal VAE
 * decodes alone) of @width × @height pixels, packed 8-bit RGB rows, one
 * image after another. It is decoded by the model's own VAE and scaled down
 * so its longer side is at most WAN_PREVIEW_MAX_SIZE; each costs about
 * 1/T of the final decode. */
#define WAN_PREVIEW_MAX_SIZE 256
typedef void (*WanPreviewFunc) (
    const guint8 *rgb, int width, int height, int frames, int step, gpointer user_data);

/* Estimated peak memory of a run, in bytes. Each stage counts the weights it
 * reads and its own buffers; the peak is the largest stage. */
typedef struct
{
  guint64 weights;   /* every weight file of the set */
  guint64 text;      /* the text encoder stage */
  guint64 dit;       /* one diffusion model, its buffers and the latents */
  guint64 vae;       /* the VAE decode and the video */
  guint64 total;     /* the peak: the largest stage */
  guint64 available; /* MemAvailable, or TAKES_ENGINE_MEMORY_LIMIT when set */
  /* TRUE when the decode goes through wan_vae_decode_tiled() with
   * @vae_tiling, cutting the latent into @vae_tiles tiles (1: whole frames,
   * with the whole video in memory at once); FALSE for the frame-by-frame
   * decode, which hands frames on as they come (@vae_tiles is then 1). */
  gboolean vae_tiled;
  WanVaeTiling vae_tiling;
  int vae_tiles;
} WanMemoryPlan;

typedef struct _WanPipeline WanPipeline;

/* A pipeline over a complete model set (kept, not owned: it must outlive the
 * pipeline), with @n_threads threads (0: one per CPU). Fails with the set's
 * problems when it is incomplete. */
WanPipeline *wan_pipeline_new (WanModelSet *set, int n_threads, GError **error);
void wan_pipeline_free (WanPipeline *pipeline);

WanModelSet *wan_pipeline_get_model_set (const WanPipeline *pipeline);
/* Latent channels (16 or 48) and pixels per latent cell (8 or 16). */
int wan_pipeline_get_latent_channels (const WanPipeline *pipeline);
int wan_pipeline_get_spatial_factor (const WanPipeline *pipeline);
/* Widths and heights must be multiples of this: the VAE factor times the
 * DiT patch (16 for Wan2.1 models, 32 for TI2V-5B). */
int wan_pipeline_get_size_multiple (const WanPipeline *pipeline);

/* Checks @request against the models (sizes, frames 4n+1, steps, a solver
 * it knows, a prompt that is not empty, a VAE tile size) with
 * TAKES_ENGINE_ERROR_INVALID_INPUT and a message saying what to change, then
 * estimates the peak memory into @plan (may be NULL). With no VAE tile asked
 * for, a decode of whole frames that would not fit is planned in tiles
 * instead. Fails with TAKES_ENGINE_ERROR_NO_MEMORY, giving the estimate and
 * what to change (fewer frames, a smaller size, smaller VAE tiles), when it
 * would not fit in the available memory even so. */
gboolean
wan_pipeline_plan (WanPipeline *pipeline, const WanRequest *request, WanMemoryPlan *plan, GError **error);

/* Plans, tokenizes and encodes the prompt and the negative prompt, and
 * denoises Philox noise of the request's seed: the final latents
 * [C, T, h, w] (free with g_free()), whose shape goes to @shape. @cancel is
 * asked between DiT blocks and between steps; a cancelled run fails with
 * TAKES_ENGINE_ERROR_CANCELLED. @progress and @preview (each may be NULL) run
 * on the calling thread. */
float *wan_pipeline_denoise (WanPipeline *pipeline,
                             const WanRequest *request,
                             int shape[4],
                             WanCancelFunc cancel,
                             WanPipelineProgressFunc progress,
                             WanPreviewFunc preview,
                             gpointer user_data,
                             GError **error);

/* The whole run: wan_pipeline_denoise(), then the VAE decode (cancel is also
 * asked between VAE frames), in tiles when the plan says so; previews then
 * use the same tiles. Returns @n_frames frames of
 * request->height × request->width packed 8-bit RGB, [frames][height][width][3]
 * (free with g_free()), mapped from [-1, 1] as the official code does. */
guint8 *wan_pipeline_generate (WanPipeline *pipeline,
                               const WanRequest *request,
                               int *n_frames,
                               WanCancelFunc cancel,
                               WanPipelineProgressFunc progress,
                               WanPreviewFunc preview,
                               gpointer user_data,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanPipeline, wan_pipeline_free)

/* The tiny test model */

/* Writes a complete model set of random weights to @dir (created if needed)
 * in the official layout and with the official tensor names: a DiT like
 * @like's (WAN_ARCH_WAN21_T2V_1_3B: 16 channels and the Wan2.1 VAE;
 * WAN_ARCH_WAN22_TI2V_5B: 48 channels and the Wan2.2 VAE;
 * WAN_ARCH_WAN22_T2V_A14B: a high-noise and a low-noise expert) but only
 * dim 256 with 2 layers, a small umT5 encoder, a VAE of base width 4, and a
 * tokenizer.json whose pieces cover ASCII and common CJK. The same @seed
 * gives byte-identical files. wan_model_set_load() reports it as
 * WAN_ARCH_TINY; its videos are noise. */
gboolean wan_tiny_model_write (const char *dir, WanArch like, guint64 seed, GError **error);

G_END_DECLS
