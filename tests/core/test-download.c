/* test-download.c: TakesDownload against a loopback file host with faults. */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fake-loop.h"
#include "fake-oss.h"
#include "takes-backend.h"
#include "takes-download.h"

#define FILE_SIZE (300 * 1024 + 17)

/* The TLS test loads GnuTLS through glib-networking, whose threads get
 * dynamic TLS blocks that the leak checker of GCC 12's sanitizer runtime
 * misreads and crashes on at exit. Not intercepting __tls_get_addr avoids
 * that; leak checking itself stays on. Ignored in builds without ASan. */
const char *__asan_default_options (void);

const char *
__asan_default_options (void)
{
  return "intercept_tls_get_addr=0";
}

/* A self-signed certificate for 127.0.0.1, for the TLS failure test only. */
static const char tls_pem[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIBfzCCASWgAwIBAgIUa/p00UC274MhTXrcsqhGGJSS3gIwCgYIKoZIzj0EAwIw\n"
                              "FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyMTA1MTQwNFoYDzIxMjYxMDI4\n"
                              "MDUxNDA0WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO\n"
                              "PQMBBwNCAAQQi5MTyjZrC9ct6Fb4ntRMQsGm1BsT9olyQacaXUUHgj7zAgnSrxf9\n"
                              "wJNgzP7rMGF9gbAoGVxhX4ia2qwb/tBXo1MwUTAdBgNVHQ4EFgQUSH33c2c6EoHg\n"
                              "T9wKyxAlKrTknrAwHwYDVR0jBBgwFoAUSH33c2c6EoHgT9wKyxAlKrTknrAwDwYD\n"
                              "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAzXx11uJCBXU5nkbJnaK4\n"
                              "DF6ZIwHTyjyLaSwsAAYGnagCIFaq2t9stvJjYztOwgW8PFal549a3TkkH0KwSWZ3\n"
                              "zH+t\n"
                              "-----END CERTIFICATE-----\n"
                              "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbFVUehtbWjUtG1mA\n"
                              "WMhwGk9VEWjUyFsGcA+5gt3qDv6hRANCAAQQi5MTyjZrC9ct6Fb4ntRMQsGm1BsT\n"
                              "9olyQacaXUUHgj7zAgnSrxf9wJNgzP7rMGF9gbAoGVxhX4ia2qwb/tBX\n"
                              "-----END PRIVATE KEY-----\n";

typedef struct
{
  SoupServer *server;
  char *origin;
  FakeOss *oss;
  SoupSession *session;
  char *dir;
  GBytes *content;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->server = fake_http_server_new (&fixture->origin);
  fixture->oss = fake_oss_new (fixture->server, "/oss");
  fixture->session = soup_session_new ();
  fixture->dir = g_dir_make_tmp ("takes-download-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->content = fake_oss_make_content (FILE_SIZE, 7);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
  g_bytes_unref (fixture->content);
  g_clear_object (&fixture->session);
  fake_oss_free (fixture->oss);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  g_free (fixture->origin);
  fake_loop_drain ();
}

static char *
url_for (Fixture *fixture, const char *name)
{
  return g_strdup_printf ("%s/oss/%s?Expires=1700000000&Signature=abc%%2Bdef", fixture->origin, name);
}

/* Names in the folder, sorted and joined, to see what a run left behind. */
static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static char *
dir_listing (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **)names->pdata);
}

static void
progress_cb (TakesDownload *download, guint64 received, guint64 total, gpointer user_data)
{
  guint *count = user_data;

  (*count)++;
}

static gboolean
run_download (TakesDownload *download, GCancellable *cancellable, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_download_run_async (download, cancellable, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_download_run_finish (download, result, error);
}

static void
assert_file_equals (const char *path, GBytes *expected)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, ==, g_bytes_get_size (expected));
  g_assert_true (memcmp (contents, g_bytes_get_data (expected, NULL), length) == 0);
}

static void
test_download_complete (Fixture *fixture, gconstpointer data)
{
  g_autofree char *url = url_for (fixture, "a.mp4");
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;
  guint progress = 0;

  fake_oss_put (fixture->oss, "a.mp4", fixture->content, FAKE_OSS_OK);
  g_signal_connect (download, "progress", G_CALLBACK (progress_cb), &progress);
  g_assert_true (run_download (download, NULL, &error));
  g_assert_no_error (error);
  assert_file_equals (dest, fixture->content);
  g_assert_cmpuint (takes_download_get_received (download), ==, FILE_SIZE);
  g_assert_cmpuint (takes_download_get_total (download), ==, FILE_SIZE);
  g_assert_cmpuint (takes_download_get_resumes (download), ==, 0);
  g_assert_cmpuint (progress, >=, 1);
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "take.mp4");
  g_assert_false (fake_oss_saw_authorization (fixture->oss));
}

static void
test_download_resume_after_cut (Fixture *fixture, gconstpointer data)
{
  g_autofree char *url = url_for (fixture, "cut.mp4");
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
  g_autoptr (GError) error = NULL;
  g_autofree char *expected_range = g_strdup_printf ("bytes=%d-", FILE_SIZE / 2);

  fake_oss_put (fixture->oss, "cut.mp4", fixture->content, FAKE_OSS_CUT_ONCE);
  g_assert_true (run_download (download, NULL, &error));
  g_assert_no_error (error);
  assert_file_equals (dest, fixture->content);
  g_assert_cmpuint (takes_download_get_resumes (download), ==, 1);
  g_assert_cmpuint (fake_oss_get_requests (fixture->oss, "cut.mp4"), ==, 2);
  /* The second request asked only for what was missing. */
  g_assert_cmpstr (fake_oss_get_last_range (fixture->oss), ==, expected_range);
}

static void
test_download_resume_range_ignored (Fixture *fixture, gconstpointer data)
{
  g_autofree char *url = url_for (fixture, "cut.mp4");
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
  g_autoptr (GError) error = NULL;

  fake_oss_put (fixture->oss, "cut.mp4", fixture->content, FAKE_OSS_CUT_IGNORE_RANGE);
  g_assert_true (run_download (download, NULL, &error));
  g_assert_no_error (error);
  /* The whole file came again with 200: the first half must not be doubled. */
  assert_file_equals (dest, fixture->content);
  g_assert_cmpuint (takes_download_get_resumes (download), ==, 1);
}

static void
test_download_resume_gives_up (Fixture *fixture, gconstpointer data)
{
  g_autofree char *url = url_for (fixture, "cut.mp4");
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;

  fake_oss_put (fixture->oss, "cut.mp4", fixture->content, FAKE_OSS_CUT_ALWAYS);
  takes_download_set_max_resumes (download, 2);
  g_assert_false (run_download (download, NULL, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK);
  g_assert_true (takes_backend_error_is_retryable (error));
  g_assert_cmpuint (fake_oss_get_requests (fixture->oss, "cut.mp4"), ==, 3);
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_download_expired (Fixture *fixture, gconstpointer data)
{
  g_autofree char *url = url_for (fixture, "old.mp4");
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) previous = g_bytes_new_static ("an older take", 13);
  g_autofree char *listing = NULL;

  /* A file already at the destination survives a failed download. */
  g_assert_true (g_file_set_contents (dest, "an older take", 13, NULL));
  fake_oss_put (fixture->oss, "old.mp4", fixture->content, FAKE_OSS_EXPIRED);
  takes_download_set_service (download, "DashScope");
  g_assert_false (run_download (download, NULL, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_EXPIRED);
  g_assert_false (takes_backend_error_is_retryable (error));
  g_assert_nonnull (strstr (error->message, "DashScope"));
  /* The signed part of the URL never reaches a message. */
  g_assert_null (strstr (error->message, "Signature"));
  assert_file_equals (dest, previous);
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "take.mp4");
}

static void
test_download_status_errors (Fixture *fixture, gconstpointer data)
{
  struct
  {
    FakeOssMode mode;
    int code;
  } cases[] = {
    { FAKE_OSS_NOT_FOUND, TAKES_BACKEND_ERROR_NOT_FOUND },
    { FAKE_OSS_SERVER_ERROR, TAKES_BACKEND_ERROR_SERVER },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *url = url_for (fixture, "x.mp4");
      g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
      g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
      g_autoptr (GError) error = NULL;
      g_autofree char *listing = NULL;

      fake_oss_put (fixture->oss, "x.mp4", fixture->content, cases[i].mode);
      g_assert_false (run_download (download, NULL, &error));
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].code);
      listing = dir_listing (fixture->dir);
      g_assert_cmpstr (listing, ==, "");
    }
}

static void
test_download_too_large (Fixture *fixture, gconstpointer data)
{
  FakeOssMode modes[] = { FAKE_OSS_HUGE, FAKE_OSS_HUGE_CHUNKED };

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autofree char *url = url_for (fixture, "huge.mp4");
      g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
      g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
      g_autoptr (GError) error = NULL;
      g_autofree char *listing = NULL;

      fake_oss_put (fixture->oss, "huge.mp4", fixture->content, modes[i]);
      takes_download_set_max_size (download, 4 * 1024 * 1024);
      g_assert_false (run_download (download, NULL, &error));
      g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_TOO_LARGE);
      g_assert_false (takes_backend_error_is_retryable (error));
      /* Cut off at the limit, not after the whole gigabyte. */
      g_assert_cmpuint (takes_download_get_received (download), <=, 4 * 1024 * 1024 + 1024 * 1024);
      listing = dir_listing (fixture->dir);
      g_assert_cmpstr (listing, ==, "");
    }
}

static gboolean
cancel_soon_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
cancel_on_progress_cb (TakesDownload *download, guint64 received, guint64 total, gpointer user_data)
{
  GCancellable *cancellable = user_data;

  if (received > 0 && !g_cancellable_is_cancelled (cancellable))
    g_idle_add_full (G_PRIORITY_DEFAULT, cancel_soon_cb, g_object_ref (cancellable), g_object_unref);
}

static void
test_download_cancel (Fixture *fixture, gconstpointer data)
{
  g_autofree char *url = url_for (fixture, "slow.mp4");
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;

  fake_oss_put (fixture->oss, "slow.mp4", fixture->content, FAKE_OSS_SLOW);
  g_signal_connect (download, "progress", G_CALLBACK (cancel_on_progress_cb), cancellable);
  g_assert_false (run_download (download, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (takes_download_get_received (download), <, FILE_SIZE);
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_download_unreachable (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = NULL;
  g_autofree char *listing = NULL;
  guint port;

  /* A port that was free a moment ago and has nobody listening. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u/oss/a.mp4", port);
  download = takes_download_new (fixture->session, url, dest);
  g_assert_false (run_download (download, NULL, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK);
  g_assert_true (takes_backend_error_is_retryable (error));
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_download_tls_failure (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autofree char *url = NULL;
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = NULL;
  g_autofree char *listing = NULL;
  GSList *uris;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("No TLS backend (glib-networking) is installed");
      return;
    }
  certificate = g_tls_certificate_new_from_pem (tls_pem, -1, &error);
  g_assert_no_error (error);
  server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("https://127.0.0.1:%d/oss/a.mp4", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);

  download = takes_download_new (fixture->session, url, dest);
  g_assert_false (run_download (download, NULL, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "secure connection"));
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "");
  soup_server_disconnect (server);
}

static void
test_download_bad_destination (Fixture *fixture, gconstpointer data)
{
  g_autofree char *url = url_for (fixture, "a.mp4");
  g_autofree char *blocker = g_build_filename (fixture->dir, "not-a-folder", NULL);
  g_autofree char *dest = g_build_filename (blocker, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, url, dest);
  g_autoptr (GError) error = NULL;

  fake_oss_put (fixture->oss, "a.mp4", fixture->content, FAKE_OSS_OK);
  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  g_assert_false (run_download (download, NULL, &error));
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_nonnull (strstr (error->message, "take.mp4"));
  g_assert_cmpuint (fake_oss_get_total_requests (fixture->oss), ==, 0);
}

static void
test_download_invalid_url (Fixture *fixture, gconstpointer data)
{
  g_autofree char *dest = g_build_filename (fixture->dir, "take.mp4", NULL);
  g_autoptr (TakesDownload) download = takes_download_new (fixture->session, "not a url", dest);
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;

  g_assert_false (run_download (download, NULL, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "");
}

/* A temporary file a live download holds is kept; one left by a download
 * killed with its process (nobody holds it) is removed, and so is nothing
 * else in the folder. */
static void
test_download_remove_stale (Fixture *fixture, gconstpointer data)
{
  g_autofree char *held = g_build_filename (fixture->dir, ".a.mp4.AAAAAA.part", NULL);
  g_autofree char *left = g_build_filename (fixture->dir, ".b.mp4.BBBBBB.part", NULL);
  g_autofree char *video = g_build_filename (fixture->dir, "c.mp4", NULL);
  g_autofree char *listing = NULL;
  int fd;

  g_assert_true (g_file_set_contents (held, "x", 1, NULL));
  g_assert_true (g_file_set_contents (left, "x", 1, NULL));
  g_assert_true (g_file_set_contents (video, "x", 1, NULL));
  fd = g_open (held, O_RDONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);

  /* flock() locks belong to the open file, not the process, so this open
   * descriptor holds the file against any other, here or elsewhere. */
  g_assert_cmpuint (takes_download_remove_stale (fixture->dir), ==, 1);
  close (fd);
  listing = dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, ".a.mp4.AAAAAA.part,c.mp4");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/download/complete", test_download_complete);
  ADD ("/download/resume/after-cut", test_download_resume_after_cut);
  ADD ("/download/resume/range-ignored-restarts", test_download_resume_range_ignored);
  ADD ("/download/resume/gives-up-after-limit", test_download_resume_gives_up);
  ADD ("/download/expired-url-keeps-old-file", test_download_expired);
  ADD ("/download/status-errors", test_download_status_errors);
  ADD ("/download/too-large-is-cut-off", test_download_too_large);
  ADD ("/download/cancel-leaves-nothing", test_download_cancel);
  ADD ("/download/unreachable-host", test_download_unreachable);
  ADD ("/download/tls-failure", test_download_tls_failure);
  ADD ("/download/bad-destination", test_download_bad_destination);
  ADD ("/download/invalid-url", test_download_invalid_url);
  ADD ("/download/remove-stale-temporary-files", test_download_remove_stale);
#undef ADD

  return g_test_run ();
}
