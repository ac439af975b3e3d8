/* takes-download.c: a result file fetched over HTTP, safely.
 *
 * Two fixed buffers alternate: while one is written to disk (GIO runs the
 * write of a regular file in its thread pool), the other fills from the
 * network, so memory stays constant and disk and network overlap. Every
 * asynchronous operation in flight is counted; a failure cancels them all and
 * the temporary file is removed only when none is left using it.
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "takes-backend-http.h"
#include "takes-backend.h"
#include "takes-download.h"

#define BUFFER_SIZE (1024 * 1024)
#define DEFAULT_MAX_SIZE (G_GUINT64_CONSTANT (2) * 1024 * 1024 * 1024)
#define DEFAULT_MAX_RESUMES 5
#define PROGRESS_INTERVAL_US (100 * 1000)
#define RESUME_DELAY_MS 250

struct _TakesDownload
{
  GObject parent_instance;

  SoupSession *session;
  char *uri;
  char *destination;
  char *service;
  guint64 max_size;
  guint max_resumes;
  GPtrArray *headers; /* name, value, name, value… */

  /* One run. */
  GTask *task;
  GCancellable *op_cancellable;
  gulong cancel_handler;
  SoupMessage *message;
  GInputStream *body;
  char *temp_path;
  int fd;
  GOutputStream *out;
  guint8 *buffers[2];
  gsize fill[2];
  guint reading;
  guint writing;
  gboolean send_pending;
  gboolean read_pending;
  gboolean write_pending;
  gboolean restart_pending;
  gboolean eof;
  guint retry_source;
  guint64 received;
  guint64 total;
  guint resumes;
  char *validator;
  GError *error;
  gint64 last_progress;
};

G_DEFINE_FINAL_TYPE (TakesDownload, takes_download, G_TYPE_OBJECT)

enum
{
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void read_next (TakesDownload *self);
static void send_request (TakesDownload *self);
static void settle (TakesDownload *self);
static void start_write (TakesDownload *self, guint index);

static void
takes_download_dispose (GObject *object)
{
  TakesDownload *self = TAKES_DOWNLOAD (object);

  g_clear_object (&self->session);

  G_OBJECT_CLASS (takes_download_parent_class)->dispose (object);
}

static void
takes_download_finalize (GObject *object)
{
  TakesDownload *self = TAKES_DOWNLOAD (object);

  g_free (self->uri);
  g_free (self->destination);
  g_free (self->service);
  g_free (self->validator);
  g_ptr_array_unref (self->headers);

  G_OBJECT_CLASS (takes_download_parent_class)->finalize (object);
}

static void
takes_download_class_init (TakesDownloadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = takes_download_dispose;
  object_class->finalize = takes_download_finalize;

  /* Bytes received so far and the expected total (0 when the server did not
   * say); emitted at most ten times a second and once at the end. */
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                           NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
}

static void
takes_download_init (TakesDownload *self)
{
  self->max_size = DEFAULT_MAX_SIZE;
  self->max_resumes = DEFAULT_MAX_RESUMES;
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->fd = -1;
}

TakesDownload *
takes_download_new (SoupSession *session, const char *uri, const char *destination)
{
  TakesDownload *self;

  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);
  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (destination != NULL, NULL);

  self = g_object_new (TAKES_TYPE_DOWNLOAD, NULL);
  self->session = g_object_ref (session);
  self->uri = g_strdup (uri);
  self->destination = g_strdup (destination);
  self->service = g_strdup (_ ("The download server"));
  return self;
}

/* 0 means no limit. The default is 2 GiB, far above any take. */
void
takes_download_set_max_size (TakesDownload *self, guint64 max_bytes)
{
  g_return_if_fail (TAKES_IS_DOWNLOAD (self));
  self->max_size = max_bytes;
}

guint64
takes_download_get_max_size (TakesDownload *self)
{
  g_return_val_if_fail (TAKES_IS_DOWNLOAD (self), 0);
  return self->max_size;
}

void
takes_download_set_max_resumes (TakesDownload *self, guint max_resumes)
{
  g_return_if_fail (TAKES_IS_DOWNLOAD (self));
  self->max_resumes = max_resumes;
}

/* The name used in error messages ("DashScope", "ComfyUI"). */
void
takes_download_set_service (TakesDownload *self, const char *service)
{
  g_return_if_fail (TAKES_IS_DOWNLOAD (self));
  g_return_if_fail (service != NULL);

  g_free (self->service);
  self->service = g_strdup (service);
}

void
takes_download_set_request_header (TakesDownload *self, const char *name, const char *value)
{
  g_return_if_fail (TAKES_IS_DOWNLOAD (self));
  g_return_if_fail (name != NULL && value != NULL);

  g_ptr_array_add (self->headers, g_strdup (name));
  g_ptr_array_add (self->headers, g_strdup (value));
}

const char *
takes_download_get_destination (TakesDownload *self)
{
  g_return_val_if_fail (TAKES_IS_DOWNLOAD (self), NULL);
  return self->destination;
}

guint64
takes_download_get_received (TakesDownload *self)
{
  g_return_val_if_fail (TAKES_IS_DOWNLOAD (self), 0);
  return self->received;
}

guint64
takes_download_get_total (TakesDownload *self)
{
  g_return_val_if_fail (TAKES_IS_DOWNLOAD (self), 0);
  return self->total;
}

guint
takes_download_get_resumes (TakesDownload *self)
{
  g_return_val_if_fail (TAKES_IS_DOWNLOAD (self), 0);
  return self->resumes;
}

/* Errors -------------------------------------------------------------------- */

static void
emit_progress (TakesDownload *self, gboolean force)
{
  gint64 now = g_get_monotonic_time ();

  if (!force && now - self->last_progress < PROGRESS_INTERVAL_US)
    return;
  self->last_progress = now;
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, self->received, self->total);
}

/* Keeps the first error; cancels whatever is in flight so it ends soon. */
static void
fail (TakesDownload *self, GError *error)
{
  if (self->error == NULL)
    self->error = error;
  else
    g_error_free (error);
  g_cancellable_cancel (self->op_cancellable);
  if (self->retry_source != 0)
    g_clear_handle_id (&self->retry_source, g_source_remove);
  settle (self);
}

static GError *
status_error (TakesDownload *self)
{
  guint status = soup_message_get_status (self->message);
  g_autofree char *host = takes_backend_http_describe_host (self->message);

  switch (status)
    {
      case SOUP_STATUS_UNAUTHORIZED:
        return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED,
                            _ ("%s (%s) refused the download (HTTP 401). Check the API key or token."),
                            self->service, host);
      case SOUP_STATUS_FORBIDDEN:
      case SOUP_STATUS_GONE:
        return g_error_new (
            TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_EXPIRED,
            _ ("The download link from %s has expired or is no longer valid (HTTP %u). Result links "
               "last about 24 hours; make the take again."),
            self->service, status);
      case SOUP_STATUS_NOT_FOUND:
        return g_error_new (
            TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND,
            _ ("%s (%s) has no file at this address (HTTP 404). The result may have been deleted."),
            self->service, host);
      case 429: /* Too Many Requests: no constant in libsoup 3.2. */
        return takes_backend_error_new_rate_limited (
            takes_backend_http_retry_after (self->message),
            _ ("%s (%s) is limiting requests (HTTP 429). Takes will try "
               "again later."),
            self->service, host);
      default:
        if (SOUP_STATUS_IS_SERVER_ERROR (status))
          return g_error_new (
              TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
              _ ("%s (%s) had an internal error while sending the file (HTTP %u). Try again later."),
              self->service, host, status);
        return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                            _ ("%s (%s) answered the download with HTTP %u, which Takes did not expect."),
                            self->service, host, status);
    }
}

static GError *
too_large_error (TakesDownload *self)
{
  g_autofree char *limit = g_format_size (self->max_size);
  g_autofree char *host = takes_backend_http_describe_host (self->message);

  return g_error_new (
      TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_TOO_LARGE,
      _ ("%s (%s) is sending a file larger than %s, far more than a take should be, so the download "
         "was stopped. Raise the download limit if the file is really expected to be this large."),
      self->service, host, limit);
}

typedef enum
{
  FILE_STEP_FOLDER,
  FILE_STEP_CREATE,
  FILE_STEP_WRITE,
  FILE_STEP_SAVE,
} FileStep;

static GError *
file_error (TakesDownload *self, GIOErrorEnum code, const char *detail, FileStep step)
{
  g_autofree char *display = g_filename_display_name (self->destination);

  switch (step)
    {
      case FILE_STEP_FOLDER:
        return g_error_new (
            G_IO_ERROR, code,
            _ ("Could not create the folder for the video file %s: %s. Check that the folder is "
               "writable."),
            display, detail);
      case FILE_STEP_CREATE:
        return g_error_new (G_IO_ERROR, code,
                            _ ("Could not create the video file %s: %s. Check that the folder is writable."),
                            display, detail);
      case FILE_STEP_WRITE:
        return g_error_new (G_IO_ERROR, code,
                            _ ("Could not write the video file %s: %s. Check that the disk has free space."),
                            display, detail);
      case FILE_STEP_SAVE:
      default:
        return g_error_new (G_IO_ERROR, code,
                            _ ("Could not save the video file %s: %s. Check that the disk has free space."),
                            display, detail);
    }
}

static GError *
file_error_errno (TakesDownload *self, int saved_errno, FileStep step)
{
  return file_error (self, g_io_error_from_errno (saved_errno), g_strerror (saved_errno), step);
}

static gboolean
is_transient (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

/* Finishing ----------------------------------------------------------------- */

static void
cleanup_run (TakesDownload *self)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->task);

  if (self->cancel_handler != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), self->cancel_handler);
  self->cancel_handler = 0;
  g_clear_object (&self->op_cancellable);
  g_clear_object (&self->body);
  g_clear_object (&self->message);
  g_clear_object (&self->out);
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  if (self->temp_path != NULL)
    g_unlink (self->temp_path);
  g_clear_pointer (&self->temp_path, g_free);
  g_clear_pointer (&self->buffers[0], g_free);
  g_clear_pointer (&self->buffers[1], g_free);
  if (self->error != NULL)
    g_task_return_error (task, g_steal_pointer (&self->error));
  else
    g_task_return_boolean (task, TRUE);
}

typedef struct
{
  int fd;
  char *temp_path;
  char *destination;
} CommitData;

static void
commit_data_free (gpointer data)
{
  CommitData *commit = data;

  g_free (commit->temp_path);
  g_free (commit->destination);
  g_free (commit);
}

/* Runs in a worker thread: fsync of a large file can take seconds. */
static void
commit_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  CommitData *commit = data;
  g_autofree char *dir = g_path_get_dirname (commit->destination);
  int saved_errno = 0;
  int dir_fd;

  if (fsync (commit->fd) != 0)
    saved_errno = errno;
  if (close (commit->fd) != 0 && saved_errno == 0)
    saved_errno = errno;
  commit->fd = -1;
  if (saved_errno == 0 && g_rename (commit->temp_path, commit->destination) != 0)
    saved_errno = errno;
  if (saved_errno != 0)
    {
      g_unlink (commit->temp_path);
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s",
                               g_strerror (saved_errno));
      return;
    }
  /* The rename itself must survive a crash too. */
  dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0)
    {
      fsync (dir_fd);
      close (dir_fd);
    }
  g_task_return_boolean (task, TRUE);
}

static void
commit_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TakesDownload *self = TAKES_DOWNLOAD (source);
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      self->error = file_error (self, error->code, error->message, FILE_STEP_SAVE);
    }
  else
    {
      g_clear_pointer (&self->temp_path, g_free);
      emit_progress (self, TRUE);
    }
  cleanup_run (self);
}

static void
commit (TakesDownload *self)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, commit_cb, NULL);
  CommitData *data = g_new0 (CommitData, 1);

  /* The thread owns the descriptor and the rename; the run keeps the name
   * only to remove the file if the commit fails. */
  g_clear_object (&self->out);
  data->fd = self->fd;
  self->fd = -1;
  data->temp_path = g_strdup (self->temp_path);
  data->destination = g_strdup (self->destination);
  g_task_set_task_data (task, data, commit_data_free);
  g_task_run_in_thread (task, commit_thread);
}

/* Called whenever an operation ends: decides what happens next once nothing
 * that uses the buffers or the file is in flight. */
static void
settle (TakesDownload *self)
{
  if (self->send_pending || self->read_pending || self->write_pending || self->retry_source != 0)
    return;
  if (self->error != NULL)
    {
      cleanup_run (self);
      return;
    }
  if (self->eof && self->fill[self->reading] > 0)
    {
      guint last = self->reading;

      self->reading ^= 1;
      start_write (self, last);
      return;
    }
  if (self->eof && self->fill[0] == 0 && self->fill[1] == 0)
    {
      if (self->total > 0 && self->received != self->total)
        {
          g_autofree char *host = takes_backend_http_describe_host (self->message);

          fail (self,
                g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK,
                             _ ("The download from %s (%s) ended early. Try again."), self->service, host));
          return;
        }
      commit (self);
    }
}

/* Writing ------------------------------------------------------------------- */

static void
write_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesDownload) self = user_data;
  g_autoptr (GError) error = NULL;

  self->write_pending = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, g_steal_pointer (&error));
      else
        fail (self, file_error (self, error->code, error->message, FILE_STEP_WRITE));
      return;
    }
  self->fill[self->writing] = 0;
  if (self->error != NULL)
    {
      settle (self);
      return;
    }
  if (self->restart_pending)
    {
      /* The server ignored the Range request and sends the whole file again. */
      self->restart_pending = FALSE;
      self->fill[0] = self->fill[1] = 0;
      self->received = 0;
      if (ftruncate (self->fd, 0) != 0 || lseek (self->fd, 0, SEEK_SET) != 0)
        {
          fail (self, file_error_errno (self, errno, FILE_STEP_WRITE));
          return;
        }
      read_next (self);
      return;
    }
  if (self->fill[self->reading] == BUFFER_SIZE && !self->eof)
    {
      guint full = self->reading;

      self->reading ^= 1;
      start_write (self, full);
      read_next (self);
      return;
    }
  settle (self);
}

static void
start_write (TakesDownload *self, guint index)
{
  self->writing = index;
  self->write_pending = TRUE;
  g_output_stream_write_all_async (self->out, self->buffers[index], self->fill[index], G_PRIORITY_DEFAULT,
                                   self->op_cancellable, write_cb, g_object_ref (self));
}

/* Reading ------------------------------------------------------------------- */

static gboolean
retry_cb (gpointer user_data)
{
  TakesDownload *self = user_data;

  self->retry_source = 0;
  send_request (self);
  return G_SOURCE_REMOVE;
}

/* A dropped connection: ask again for the rest, after a short pause. */
static void
resume_or_fail (TakesDownload *self, GError *error)
{
  g_clear_object (&self->body);
  if (self->resumes >= self->max_resumes || !is_transient (error))
    {
      fail (self, takes_backend_http_transport_error (error, self->message, self->service));
      g_error_free (error);
      return;
    }
  g_debug ("Download dropped after %" PRIu64 " bytes (%s); resuming", self->received,
           self->service);
  g_error_free (error);
  self->resumes++;
  self->retry_source = g_timeout_add_full (G_PRIORITY_DEFAULT, RESUME_DELAY_MS * self->resumes, retry_cb,
                                           g_object_ref (self), g_object_unref);
}

/* Accounts for one read; FALSE when reading stops here (end of body, a
 * failure, a resume, or the run ending). Takes ownership of @error. */
static gboolean
after_read (TakesDownload *self, gssize n, GError *error)
{
  if (self->error != NULL)
    {
      g_clear_error (&error);
      settle (self);
      return FALSE;
    }
  if (n < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, error);
      else
        resume_or_fail (self, error);
      return FALSE;
    }
  if (n == 0)
    {
      if (self->total > 0 && self->received < self->total)
        {
          resume_or_fail (self,
                          g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                                               _ ("The connection closed before the whole file arrived")));
          return FALSE;
        }
      self->eof = TRUE;
      g_clear_object (&self->body);
      settle (self);
      return FALSE;
    }
  self->received += (guint64)n;
  self->fill[self->reading] += (gsize)n;
  if (self->max_size > 0 && self->received > self->max_size)
    {
      fail (self, too_large_error (self));
      return FALSE;
    }
  emit_progress (self, FALSE);
  return TRUE;
}

static void
read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesDownload) self = user_data;
  GError *error = NULL;
  gssize n;

  self->read_pending = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (after_read (self, n, error))
    read_next (self);
}

static gboolean
readable_cb (GObject *stream, gpointer user_data)
{
  TakesDownload *self = user_data;

  self->read_pending = FALSE;
  if (self->error != NULL)
    settle (self);
  else
    read_next (self);
  return G_SOURCE_REMOVE;
}

/* Reads until both buffers are full or the socket has nothing more for now.
 * A pollable body (libsoup's is) is read without a GTask per read, which is
 * what keeps the CPU cost per megabyte near curl's. */
static void
read_next (TakesDownload *self)
{
  while (self->body != NULL && self->error == NULL && !self->read_pending)
    {
      guint index = self->reading;
      GError *error = NULL;
      gssize n;

      if (self->fill[index] == BUFFER_SIZE)
        {
          if (self->write_pending)
            return; /* write_cb hands over the full buffer and reads on. */
          self->reading ^= 1;
          start_write (self, index);
          index = self->reading;
        }
      if (!G_IS_POLLABLE_INPUT_STREAM (self->body)
          || !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (self->body)))
        {
          self->read_pending = TRUE;
          g_input_stream_read_async (self->body, self->buffers[index] + self->fill[index],
                                     BUFFER_SIZE - self->fill[index], G_PRIORITY_DEFAULT,
                                     self->op_cancellable, read_cb, g_object_ref (self));
          return;
        }
      n = g_pollable_input_stream_read_nonblocking (
          G_POLLABLE_INPUT_STREAM (self->body), self->buffers[index] + self->fill[index],
          BUFFER_SIZE - self->fill[index], self->op_cancellable, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          GSource *source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->body),
                                                                   self->op_cancellable);

          g_clear_error (&error);
          self->read_pending = TRUE;
          g_source_set_callback (source, G_SOURCE_FUNC (readable_cb), g_object_ref (self), g_object_unref);
          g_source_attach (source, g_main_context_get_thread_default ());
          g_source_unref (source);
          return;
        }
      if (!after_read (self, n, error))
        return;
    }
}

/* Requests ------------------------------------------------------------------ */

static gboolean
check_range_reply (TakesDownload *self, SoupMessageHeaders *headers)
{
  goffset start = 0, end = 0, total = 0;

  if (!soup_message_headers_get_content_range (headers, &start, &end, &total))
    return FALSE;
  if ((guint64)start != self->received)
    return FALSE;
  if (total > 0)
    self->total = (guint64)total;
  return TRUE;
}

static void
send_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesDownload) self = user_data;
  GError *error = NULL;
  GInputStream *body;
  SoupMessageHeaders *headers;
  guint status;

  self->send_pending = FALSE;
  body = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (self->error != NULL)
    {
      g_clear_object (&body);
      g_clear_error (&error);
      settle (self);
      return;
    }
  if (body == NULL)
    {
      /* Only a dropped transfer is resumed; a server that cannot be reached
       * at all is reported at once. */
      if (self->received > 0 || self->resumes > 0)
        resume_or_fail (self, error);
      else
        {
          fail (self, takes_backend_http_transport_error (error, self->message, self->service));
          g_error_free (error);
        }
      return;
    }
  self->body = body;
  status = soup_message_get_status (self->message);
  headers = soup_message_get_response_headers (self->message);

  if (self->received > 0 && status == SOUP_STATUS_PARTIAL_CONTENT && check_range_reply (self, headers))
    {
      /* The rest of the file follows. */
    }
  else if (self->received > 0 && status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && self->total > 0
           && self->received == self->total)
    {
      g_clear_object (&self->body);
      self->eof = TRUE;
      settle (self);
      return;
    }
  else if (status == SOUP_STATUS_OK)
    {
      if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
        self->total = (guint64)soup_message_headers_get_content_length (headers);
      else
        self->total = 0;
      if (self->received > 0)
        {
          g_debug ("%s ignored the Range request; downloading again from the start", self->service);
          if (self->write_pending)
            self->restart_pending = TRUE;
          else
            {
              self->fill[0] = self->fill[1] = 0;
              self->received = 0;
              if (ftruncate (self->fd, 0) != 0 || lseek (self->fd, 0, SEEK_SET) != 0)
                {
                  fail (self, file_error_errno (self, errno, FILE_STEP_WRITE));
                  return;
                }
            }
        }
    }
  else if (SOUP_STATUS_IS_SUCCESSFUL (status) && status != SOUP_STATUS_PARTIAL_CONTENT)
    {
      fail (self, status_error (self));
      return;
    }
  else
    {
      fail (self, SOUP_STATUS_IS_SUCCESSFUL (status) ? g_error_new (
                      TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                      _ ("%s sent a part of the file Takes did not ask for. Try again."), self->service)
                                                     : status_error (self));
      return;
    }

  if (self->validator == NULL)
    {
      const char *etag = soup_message_headers_get_one (headers, "ETag");
      const char *modified = soup_message_headers_get_one (headers, "Last-Modified");

      if (etag != NULL && !g_str_has_prefix (etag, "W/"))
        self->validator = g_strdup (etag);
      else if (modified != NULL)
        self->validator = g_strdup (modified);
    }
  if (self->max_size > 0 && self->total > self->max_size)
    {
      fail (self, too_large_error (self));
      return;
    }
  emit_progress (self, TRUE);
  if (!self->restart_pending)
    read_next (self);
}

static void
send_request (TakesDownload *self)
{
  g_autoptr (GError) error = NULL;
  SoupMessageHeaders *headers;

  g_clear_object (&self->message);
  self->message = takes_backend_http_message_new ("GET", self->uri, self->service, &error);
  if (self->message == NULL)
    {
      fail (self, g_steal_pointer (&error));
      return;
    }
  headers = soup_message_get_request_headers (self->message);
  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    soup_message_headers_replace (headers, g_ptr_array_index (self->headers, i),
                                  g_ptr_array_index (self->headers, i + 1));
  /* Bytes as they are: a transparently decompressed body would not match the
   * offsets of a Range request. */
  soup_message_headers_replace (headers, "Accept-Encoding", "identity");
  if (self->received > 0)
    {
      soup_message_headers_set_range (headers, (goffset)self->received, -1);
      if (self->validator != NULL)
        soup_message_headers_replace (headers, "If-Range", self->validator);
    }
  self->send_pending = TRUE;
  soup_session_send_async (self->session, self->message, G_PRIORITY_DEFAULT, self->op_cancellable, send_cb,
                           g_object_ref (self));
}

static void
user_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GCancellable *op_cancellable = user_data;

  g_cancellable_cancel (op_cancellable);
}

void
takes_download_run_async (TakesDownload *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  int saved_errno;

  g_return_if_fail (TAKES_IS_DOWNLOAD (self));
  g_return_if_fail (self->task == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_download_run_async);

  dir = g_path_get_dirname (self->destination);
  base = g_path_get_basename (self->destination);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      saved_errno = errno;
      g_task_return_error (task, file_error_errno (self, saved_errno, FILE_STEP_FOLDER));
      return;
    }
  /* Next to the destination, so the final rename stays on one file system;
   * hidden, so a half-written file is never mistaken for a take. */
  self->temp_path = g_strdup_printf ("%s/.%s.XXXXXX.part", dir, base);
  self->fd = g_mkstemp_full (self->temp_path, O_RDWR | O_CLOEXEC, 0644);
  if (self->fd < 0)
    {
      saved_errno = errno;
      g_clear_pointer (&self->temp_path, g_free);
      g_task_return_error (task, file_error_errno (self, saved_errno, FILE_STEP_CREATE));
      return;
    }
  /* Held until the file is closed, or until the process dies: a temporary
   * file nobody holds was left by a killed download and may be removed. */
  flock (self->fd, LOCK_EX | LOCK_NB);
  self->out = g_unix_output_stream_new (self->fd, FALSE);
  self->buffers[0] = g_malloc (BUFFER_SIZE);
  self->buffers[1] = g_malloc (BUFFER_SIZE);
  self->fill[0] = self->fill[1] = 0;
  self->reading = 0;
  self->received = 0;
  self->total = 0;
  self->resumes = 0;
  self->eof = FALSE;
  self->restart_pending = FALSE;
  g_clear_pointer (&self->validator, g_free);
  self->last_progress = 0;
  self->op_cancellable = g_cancellable_new ();
  self->task = g_steal_pointer (&task);
  if (cancellable != NULL)
    self->cancel_handler = g_cancellable_connect (cancellable, G_CALLBACK (user_cancelled_cb),
                                                  g_object_ref (self->op_cancellable), g_object_unref);
  send_request (self);
}

gboolean
takes_download_run_finish (TakesDownload *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

guint
takes_download_remove_stale (const char *dir)
{
  g_autoptr (GDir) folder = g_dir_open (dir, 0, NULL);
  const char *name;
  guint removed = 0;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *path = NULL;
      int fd;

      if (name[0] != '.' || !g_str_has_suffix (name, ".part"))
        continue;
      path = g_build_filename (dir, name, NULL);
      fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        continue;
      /* A download still running, in this process or another, holds it. */
      if (flock (fd, LOCK_EX | LOCK_NB) == 0 && g_unlink (path) == 0)
        removed++;
      close (fd);
    }
  return removed;
}
