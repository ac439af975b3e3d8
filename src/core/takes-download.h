/* takes-download.h: a result file fetched over HTTP, safely.
 *
 * The body is streamed to a temporary file next to the destination with a
 * fixed amount of memory, resumed with a Range request when the connection
 * drops, cut off with TAKES_BACKEND_ERROR_TOO_LARGE past a size limit, and
 * synced and renamed into place only when complete. On failure or cancel
 * nothing is left behind. HTTP errors map to TAKES_BACKEND_ERROR (403 from a
 * signed URL is EXPIRED); local file errors stay G_IO_ERROR.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define TAKES_TYPE_DOWNLOAD (takes_download_get_type ())

G_DECLARE_FINAL_TYPE (TakesDownload, takes_download, TAKES, DOWNLOAD, GObject)

TakesDownload *takes_download_new (SoupSession *session, const char *uri, const char *destination);
void takes_download_set_max_size (TakesDownload *self, guint64 max_bytes);
guint64 takes_download_get_max_size (TakesDownload *self);
void takes_download_set_max_resumes (TakesDownload *self, guint max_resumes);
void takes_download_set_service (TakesDownload *self, const char *service);
void takes_download_set_request_header (TakesDownload *self, const char *name, const char *value);
const char *takes_download_get_destination (TakesDownload *self);
guint64 takes_download_get_received (TakesDownload *self);
guint64 takes_download_get_total (TakesDownload *self);
guint takes_download_get_resumes (TakesDownload *self);

void takes_download_run_async (TakesDownload *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean takes_download_run_finish (TakesDownload *self, GAsyncResult *result, GError **error);

/* Removes the hidden temporary files (".NAME.XXXXXX.part") in @dir that no
 * running download holds: what a download killed with its process left.
 * Returns how many it removed. */
guint takes_download_remove_stale (const char *dir);

G_END_DECLS
