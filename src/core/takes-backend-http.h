/* takes-backend-http.h: HTTP plumbing shared by the remote backends.
 *
 * Replies are read with a size limit (a misbehaving server cannot fill memory),
 * transport failures become TAKES_BACKEND_ERROR_NETWORK with a sentence that
 * names the host, and everything that may reach a message is redacted.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Replies of the JSON APIs are small; anything above this is a fault. */
#define TAKES_BACKEND_HTTP_MAX_REPLY (8 * 1024 * 1024)

SoupSession *takes_backend_http_session_new (void);
SoupMessage *
takes_backend_http_message_new (const char *method, const char *uri, const char *service, GError **error);
void takes_backend_http_set_json_body (SoupMessage *message, JsonNode *body);
char *takes_backend_http_describe_host (SoupMessage *message);

void takes_backend_http_fetch_async (SoupSession *session,
                                     SoupMessage *message,
                                     gsize max_bytes,
                                     const char *service,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GBytes *takes_backend_http_fetch_finish (GAsyncResult *result, GError **error);

GError *takes_backend_http_transport_error (const GError *error, SoupMessage *message, const char *service);
JsonNode *takes_backend_http_parse_json (GBytes *body, const char *service, GError **error);
char *takes_backend_http_body_excerpt (GBytes *body);
int takes_backend_http_retry_after (SoupMessage *message);

const char *takes_backend_json_get_string (JsonObject *object, const char *member);
JsonObject *takes_backend_json_get_object (JsonObject *object, const char *member);
gboolean takes_backend_json_get_number (JsonObject *object, const char *member, double *value);

/* Reads a DashScope size, "WIDTH*HEIGHT" with each side 1 to 16384. */
gboolean takes_backend_dashscope_parse_size (const char *text, guint *width, guint *height);

G_END_DECLS
