/* takes-server.h: a backend served over the DashScope task protocol.
 *
 * takes-server lets a team share one machine's engine: any TakesBackend (the
 * local engine in the takes-server program) is offered at the DashScope paths
 * under /api/v1, so the DashScope backend of another Takes talks to it
 * unchanged. Results are served by the server itself at a video_url that
 * carries its own secret, as DashScope's signed URLs do, and are kept for the
 * task lifetime (24 hours by default).
 */
#pragma once

#include "takes-backend.h"

G_BEGIN_DECLS

#define TAKES_SERVER_ERROR (takes_server_error_quark ())

typedef enum
{
  /* An address other than loopback without a bearer token. */
  TAKES_SERVER_ERROR_INSECURE,
  /* The address is malformed or cannot be listened on. */
  TAKES_SERVER_ERROR_ADDRESS,
  /* A token file or data folder that cannot be used. */
  TAKES_SERVER_ERROR_CONFIG,
} TakesServerError;

GQuark takes_server_error_quark (void);

#define TAKES_SERVER_DEFAULT_MAX_BODY (256 * 1024)
#define TAKES_SERVER_DEFAULT_MAX_CONCURRENT 4
#define TAKES_SERVER_DEFAULT_TASK_LIFETIME (24 * 60 * 60)

#define TAKES_TYPE_SERVER (takes_server_get_type ())

G_DECLARE_FINAL_TYPE (TakesServer, takes_server, TAKES, SERVER, GObject)

/* @data_dir holds the results until they expire; it is made if missing. */
TakesServer *takes_server_new (TakesBackend *backend, const char *data_dir);

TakesBackend *takes_server_get_backend (TakesServer *self);
const char *takes_server_get_data_dir (TakesServer *self);

/* The bearer token clients must send; NULL (the default) lets any client on
 * loopback in. Only settable before listening. */
void takes_server_set_token (TakesServer *self, const char *token);
gboolean takes_server_get_has_token (TakesServer *self);
/* Reads the token from the first line of @path. */
gboolean takes_server_load_token_file (TakesServer *self, const char *path, GError **error);

/* Unfinished tasks (pending and running) beyond which creates get 429. */
guint takes_server_get_max_concurrent (TakesServer *self);
void takes_server_set_max_concurrent (TakesServer *self, guint max_concurrent);
/* The largest create body accepted, in bytes; larger ones get 413. */
gsize takes_server_get_max_body_size (TakesServer *self);
void takes_server_set_max_body_size (TakesServer *self, gsize max_bytes);
/* Seconds a finished task and its video are kept. */
guint takes_server_get_task_lifetime (TakesServer *self);
void takes_server_set_task_lifetime (TakesServer *self, guint seconds);

/* The fields the protocol does not carry (steps, guidance, shift, sampler)
 * come from a copy of @defaults; NULL uses the recipe defaults. */
void takes_server_set_recipe_defaults (TakesServer *self, TakesRecipe *defaults);

/* Parses "HOST:PORT" ("[::1]:PORT" for IPv6; port 0 picks a free one). */
gboolean takes_server_parse_address (const char *text, char **host, guint *port, GError **error);

/* Starts listening. Refuses with TAKES_SERVER_ERROR_INSECURE on any address
 * other than loopback unless a token is set. */
gboolean takes_server_listen (TakesServer *self, const char *host, guint port, GError **error);
/* The port actually listened on, and "http://HOST:PORT". */
guint takes_server_get_port (TakesServer *self);
const char *takes_server_get_origin (TakesServer *self);
/* The DashScope base URL clients are given: "http://HOST:PORT/api/v1". */
char *takes_server_get_base_url (TakesServer *self);

/* Stops listening and stops every unfinished task; their partial files are
 * removed by the backend. The journal keeps them unfinished, so a server
 * started later on the same data folder runs them again under the same ids. */
void takes_server_shutdown (TakesServer *self);
/* Tasks not yet finished. */
guint takes_server_get_n_active (TakesServer *self);

G_END_DECLS
