/* fake-oss.h: a file host on loopback that behaves like the signed result
 * URLs of DashScope (Alibaba OSS), faults included. Reusable by any test that
 * downloads: mount it on a SoupServer under a path prefix and put files in it.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum
{
  FAKE_OSS_OK,
  /* 403 with OSS's XML body, as a signed URL answers after it expired. */
  FAKE_OSS_EXPIRED,
  /* The first GET announces the full length, sends half and drops the
   * connection; later GETs honour Range with 206. */
  FAKE_OSS_CUT_ONCE,
  /* Every reply is cut halfway through what it announced. */
  FAKE_OSS_CUT_ALWAYS,
  /* Cut once, then answers a Range request with the whole file (200). */
  FAKE_OSS_CUT_IGNORE_RANGE,
  /* Content-Length of 1 GiB, the body generated lazily in 64 KiB chunks. */
  FAKE_OSS_HUGE,
  /* Chunked, no length, 1 GiB generated lazily. */
  FAKE_OSS_HUGE_CHUNKED,
  FAKE_OSS_NOT_FOUND,
  FAKE_OSS_SERVER_ERROR,
  /* 4 KiB every 20 ms: slow enough to cancel in the middle. */
  FAKE_OSS_SLOW,
} FakeOssMode;

typedef struct _FakeOss FakeOss;

/* A SoupServer listening on 127.0.0.1 on an ephemeral port; @origin receives
 * "http://127.0.0.1:PORT". */
SoupServer *fake_http_server_new (char **origin);

FakeOss *fake_oss_new (SoupServer *server, const char *prefix);
void fake_oss_free (FakeOss *self);
void fake_oss_put (FakeOss *self, const char *name, GBytes *content, FakeOssMode mode);
void fake_oss_set_mode (FakeOss *self, const char *name, FakeOssMode mode);
guint fake_oss_get_requests (FakeOss *self, const char *name);
guint fake_oss_get_total_requests (FakeOss *self);
const char *fake_oss_get_last_range (FakeOss *self);
gboolean fake_oss_saw_authorization (FakeOss *self);
GBytes *fake_oss_make_content (gsize size, guint seed);
/* Answers @msg with @size filler bytes generated as they are written. */
void fake_oss_stream_filler (SoupServerMessage *msg, guint64 size, gboolean chunked);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeOss, fake_oss_free)

G_END_DECLS
