/* fake-dashscope.h: a loopback server that follows the documented DashScope
 * video-synthesis task protocol (remote-protocols.md §1), with scripted faults.
 * Reusable by the queue and takes-server tests.
 *
 * Routes under {base} = http://127.0.0.1:PORT/api/v1:
 *   POST {base}/services/aigc/video-generation/video-synthesis   create
 *   GET  {base}/tasks/{id}                                       query
 *   POST {base}/tasks/{id}/cancel                                cancel (PENDING only)
 *   GET  /oss/{id}.mp4?Expires=…&Signature=…                     the result (a FakeOss)
 *   GET  /held/{id}.mp4?Expires=…&Signature=…                    the result, held (see below)
 */
#pragma once

#include <json-glib/json-glib.h>

#include "fake-oss.h"

G_BEGIN_DECLS

typedef enum
{
  FAKE_DASHSCOPE_REPLY_OK,
  /* 429 Throttling.RateQuota with a Retry-After header (7 s unless set). */
  FAKE_DASHSCOPE_REPLY_429_RETRY_AFTER,
  /* 429 Throttling.RateQuota without Retry-After. */
  FAKE_DASHSCOPE_REPLY_429,
  FAKE_DASHSCOPE_REPLY_500,
  /* 200 with an HTML page instead of JSON. */
  FAKE_DASHSCOPE_REPLY_MALFORMED,
  /* 200 with JSON cut in the middle (Content-Length matches what is sent). */
  FAKE_DASHSCOPE_REPLY_TRUNCATED,
  /* The connection is closed without any reply. */
  FAKE_DASHSCOPE_REPLY_DROP,
  /* 200 with a 1 GiB body, generated as it is sent. */
  FAKE_DASHSCOPE_REPLY_HUGE,
} FakeDashscopeReply;

typedef struct _FakeDashscope FakeDashscope;

FakeDashscope *fake_dashscope_new (const char *api_key);
void fake_dashscope_free (FakeDashscope *self);
const char *fake_dashscope_get_base_url (FakeDashscope *self);
FakeOss *fake_dashscope_get_oss (FakeDashscope *self);

/* Faults for the next requests of a kind, consumed in order. */
void fake_dashscope_push_create_reply (FakeDashscope *self, FakeDashscopeReply reply);
void fake_dashscope_push_query_reply (FakeDashscope *self, FakeDashscopeReply reply);
void fake_dashscope_set_retry_after (FakeDashscope *self, guint seconds);
/* The next create fails with this HTTP status and DashScope error body. */
void
fake_dashscope_set_create_error (FakeDashscope *self, guint status, const char *code, const char *message);

/* The statuses successive queries of a new task return; the last repeats.
 * Default: PENDING, RUNNING, SUCCEEDED. */
void fake_dashscope_set_statuses (FakeDashscope *self, const char *const *statuses);
/* output.code / output.message of a FAILED task. */
void fake_dashscope_set_failure (FakeDashscope *self, const char *code, const char *message);
/* What a SUCCEEDED task's video_url serves, and how. */
void fake_dashscope_set_video (FakeDashscope *self, GBytes *video, FakeOssMode mode);

/* From now on a SUCCEEDED task's video_url points at a route that announces
 * the whole video, sends its first @bytes, then trickles on a few bytes at a
 * time but never sends the last one, until the client goes away or the fake
 * is freed: a download caught in the middle, for crash tests. 0 (the
 * default) serves videos whole through the OSS fake again. */
void fake_dashscope_set_video_hold (FakeDashscope *self, gsize bytes);
/* Downloads whose first part was written to the client and that are held. */
guint fake_dashscope_get_n_held (FakeDashscope *self);

guint fake_dashscope_get_n_creates (FakeDashscope *self);
guint fake_dashscope_get_n_queries (FakeDashscope *self);
guint fake_dashscope_get_n_cancels (FakeDashscope *self);
/* Queries of one task so far; 0 for a task the fake never created. */
guint fake_dashscope_get_task_queries (FakeDashscope *self, const char *task_id);
/* The body of the last create request, or NULL. */
JsonObject *fake_dashscope_get_last_create (FakeDashscope *self);
const char *fake_dashscope_get_last_task_id (FakeDashscope *self);
/* Every request line and body the server saw (not the headers, where the
 * key belongs), to check the key never travels anywhere else. */
const char *fake_dashscope_get_request_log (FakeDashscope *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeDashscope, fake_dashscope_free)

G_END_DECLS
