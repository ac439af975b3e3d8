/* takes-llm.h: prompt rewriting through an OpenAI-compatible chat endpoint.
 *
 * Works with llama.cpp's llama-server, Ollama, vLLM and DashScope's
 * compatible mode: a streamed chat completion with our own system prompt for
 * the target language (data/prompt/rewrite-system-{en,zh}.txt), written after
 * the rules of the official Wan prompt extension. Text arrives token by token
 * through a callback. A failure of any kind (no connection, an HTTP error, a
 * stream that stalls, breaks off or cannot be read) falls back to the
 * original prompt and says why; only cancelling ends without a result.
 *
 * The API key stays in memory: it is sent as a bearer token and never
 * appears in a log or an error message.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TAKES_LLM_ERROR (takes_llm_error_quark ())

typedef enum
{
  TAKES_LLM_ERROR_INVALID_URL,  /* not an http(s) address */
  TAKES_LLM_ERROR_NETWORK,      /* could not connect, or the connection failed */
  TAKES_LLM_ERROR_TIMEOUT,      /* no answer in time, or the stream stalled */
  TAKES_LLM_ERROR_UNAUTHORIZED, /* 401 or 403: the key is missing or wrong */
  TAKES_LLM_ERROR_NOT_FOUND,    /* 404: wrong address or model */
  TAKES_LLM_ERROR_RATE_LIMITED, /* 429 */
  TAKES_LLM_ERROR_SERVER,       /* 5xx, another status, or an error in the stream */
  TAKES_LLM_ERROR_BAD_RESPONSE, /* the answer is not the documented format */
  TAKES_LLM_ERROR_INCOMPLETE,   /* the stream ended before the rewrite did */
  TAKES_LLM_ERROR_REFUSED,      /* the endpoint's content filter stopped it */
  TAKES_LLM_ERROR_EMPTY,        /* the answer held no text */
} TakesLlmError;

/* Defaults: a model may take a while to load before its first token, but
 * once streaming, long silences mean trouble. */
#define TAKES_LLM_DEFAULT_FIRST_BYTE_TIMEOUT_MS 60000
#define TAKES_LLM_DEFAULT_STALL_TIMEOUT_MS 20000
/* The largest answer read; more is treated as a bad response. */
#define TAKES_LLM_MAX_RESPONSE_BYTES (4 * 1024 * 1024)

typedef struct
{
  char *original;
  char *rewrite; /* the proposal; a copy of @original when @fell_back */
  gboolean fell_back;
  GError *error;       /* why it fell back; NULL otherwise */
  char *language;      /* "en" or "zh": what the rewrite was asked in */
  char *model;         /* as the endpoint reported it, or as asked for */
  char *finish_reason; /* "stop", "length"…, or NULL */
} TakesRewrite;

void takes_rewrite_free (TakesRewrite *rewrite);
/* Both texts and how the rewrite came about, for storing with a take. */
JsonNode *takes_rewrite_to_json (const TakesRewrite *rewrite);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesRewrite, takes_rewrite_free)

/* Called on the calling thread's main context for every piece of text. */
typedef void (*TakesLlmDeltaFunc) (const char *delta, gpointer user_data);

#define TAKES_TYPE_LLM_CLIENT (takes_llm_client_get_type ())
G_DECLARE_FINAL_TYPE (TakesLlmClient, takes_llm_client, TAKES, LLM_CLIENT, GObject)

GQuark takes_llm_error_quark (void);

/* @base_url: the API base ("http://127.0.0.1:8080/v1"); "/chat/completions"
 * is added unless it is already there. @model may be empty for servers that
 * serve one model. Reads the shipped system prompts. */
TakesLlmClient *takes_llm_client_new (const char *base_url, const char *model, GError **error);

const char *takes_llm_client_get_endpoint (TakesLlmClient *self);
const char *takes_llm_client_get_model (TakesLlmClient *self);
/* NULL or "" sends no Authorization header. */
void takes_llm_client_set_api_key (TakesLlmClient *self, const char *api_key);
/* Milliseconds until the response starts, and allowed between two pieces of
 * the stream; 0 keeps the default. */
void takes_llm_client_set_timeouts (TakesLlmClient *self, guint first_byte_ms, guint stall_ms);
/* Replaces the system prompt for "en" or "zh". */
void takes_llm_client_set_system_prompt (TakesLlmClient *self, const char *language, const char *text);

/* Rewrites @prompt in @language ("en", "zh", or NULL to follow the prompt).
 * @seed ≥ 0 is passed on (the official tool uses the video's seed) so the
 * same request can give the same rewrite. */
void takes_llm_client_rewrite_async (TakesLlmClient *self,
                                     const char *prompt,
                                     const char *language,
                                     gint64 seed,
                                     TakesLlmDeltaFunc delta_func,
                                     gpointer delta_data,
                                     GDestroyNotify delta_destroy,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
/* A rewrite, or a fallback to the original with the reason in its @error;
 * NULL with G_IO_ERROR_CANCELLED only when @cancellable was cancelled. */
TakesRewrite *takes_llm_client_rewrite_finish (TakesLlmClient *self, GAsyncResult *result, GError **error);

/* The text of an answer without what models add around a prompt: a
 * <think>…</think> block, a "Rewritten prompt:" line, enclosing quotes. */
char *takes_llm_clean_rewrite (const char *text);

G_END_DECLS
