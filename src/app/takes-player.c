/* takes-player.c: the video player widget, the only GStreamer code in src/app.
 *
 * One pipeline per player. Each take is opened with the media core's file
 * source (so a damaged file's demuxer errors reach the bus) and decoded by
 * decodebin; one take goes through videoconvertscale to a BGRA appsink,
 * several are composited into a grid by the core's compare bin, a sequence is
 * joined by concat. The appsink syncs on the pipeline clock and never drops;
 * its samples are handed to the main thread through a one-slot mailbox, so a
 * slow main loop replaces a frame (counted as dropped) instead of queueing
 * them.
 *
 * Frames are converted straight to the size the picture is drawn at (in steps
 * of FIT_STEP pixels, so dragging the window renegotiates now and then, not at
 * every pixel): at 1080p, or four takes at 720p, most of the per-frame cost is
 * converting and drawing pixels that would only be scaled away.
 *
 * Seeks aim at the middle of a frame: the decoder keeps the frame that covers
 * that time, and compositor's output frames then start mid-frame too, so the
 * frame every input shows is the one covering the output's start.
 *
 * Forwards, a take loops by segment seeks without a flush, sent from its
 * demuxer's thread the moment the demuxer has read the loop's last frame:
 * the decoder then drains the last frames and goes straight on into the next
 * pass, whose first frames are decoded while the ones before the seam still
 * wait for their time, and the main thread never waits on the seek. Each new
 * segment is made to start at the running time where the loop begins again
 * (demuxers start it at the last frame's own time, which would show the two
 * at once). One take's decoded segments also start at the start of their
 * first frame, so that frame is shown as long as any other. Compositor
 * cannot take a segment seek: without a flush it ends its output (GStreamer
 * 1.22), so composited takes loop each on its own. The player's seek reaches
 * compositor without an end, and each take's branch is given the loop's end,
 * so compositor sees one endless stream in which every take shows the same
 * frame; output frames past the loop's end are numbered back into it.
 * Backwards, a take loops by a flushing seek at the end.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-player"

#include <glib/gi18n.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#include "takes-compare.h"
#include "takes-media-private.h"
#include "takes-media.h"
#include "takes-player.h"

#define NO_VIDEO_MESSAGE "takes-player-no-video"
#define BRANCH_KEY "takes-player-branch"
#define LOOP_MESSAGE "takes-player-loop"
#define SEAM_FAILED_MESSAGE "takes-player-seam-failed"
#define FIT_STEP 64

typedef enum
{
  LAYOUT_SINGLE,
  LAYOUT_GRID,
  LAYOUT_SEQUENCE,
} Layout;

/* The streaming threads' handover to the main thread. Shared by reference,
 * since a sample may still be in flight when the player goes away. */
typedef struct
{
  gatomicrefcount ref;
  GMutex lock;
  GWeakRef player;
  GstSample *pending;
  gboolean pending_played;           /* rendered while playing, not prerolled */
  GstClockTimeDiff pending_lateness; /* how late it reached the sink */
  gboolean scheduled;
  GstBuffer *last_buffer; /* the preroll buffer, rendered again on play */
  guint64 replaced;
  int n_async_done; /* atomic: ASYNC_DONE messages posted so far */
} Mailbox;

/* One take's branch of the pipeline: its own bin, because the media core's
 * file source keeps one plugging context per bin. Owned by the bin. */
typedef struct
{
  GstElement *pipeline; /* not owned */
  GstElement *bin;      /* not owned: the branch data belongs to it */
  GstPad *target;       /* where the decoded video is linked */
  guint index;
  GMutex lock;
  gboolean closing;
  gboolean have_stream;
  gboolean have_video;
  /* A grid's forward loop (under lock): where this take's segment ends
   * (NONE when it does not loop on its own), the running time its next
   * segment starts at (NONE: as it comes), the frames of the loop, where
   * the seek that started it went, and the times the take has gone back. */
  GstClockTime loop_stop;
  GstClockTime next_base;
  guint loop_first, loop_last, loop_from, loops;
  /* A forward loop, of a single take or of a grid's take (under lock). The
   * demuxer's thread sends the take back to seam_start as soon as it has
   * read the last frame, so the next pass is decoded while the frames before
   * the seam still wait for their time; 0 for seam_rate when the take does
   * not loop that way. */
  double seam_rate;
  GstClockTime seam_start, seam_stop;
  gboolean seam_failed; /* the demuxer refused that seek */
  /* The decoded side of a single take, forwards (streaming thread only):
   * the segment as passed on, where the last frame shown ends in running
   * time (NONE after a flush), and the first buffer's clipped time to put
   * back at the start of its frame. */
  int fps_n, fps_d;
  GstSegment segment;
  GstClockTime end_rt;
  GstClockTime clipped_pts, frame_pts;
} Branch;

struct _TakesPlayer
{
  GtkWidget parent_instance;

  /* Template children */
  GtkWidget *box;
  GtkScrolledWindow *scroller;
  GtkPicture *picture;
  GtkWidget *error_box;
  GtkLabel *error_title;
  GtkLabel *error_label;
  GtkWidget *loading_spinner;
  GtkWidget *controls;
  GtkButton *play_button;
  GtkScale *scrub;
  GtkAdjustment *scrub_adjustment;
  GtkLabel *position_label;
  GtkDropDown *speed_dropdown;
  GtkToggleButton *loop_button;
  GtkToggleButton *zoom_button;

  TakesPlayerPaintable *paintable;

  char **paths;
  Layout layout;
  TakesMediaInfo **infos; /* one per path once probed */
  guint n_infos;
  GCancellable *cancellable;

  GstElement *pipeline;
  TakesCompareLayout *plan;                   /* the grid's, from the probed takes */
  Branch *branches[TAKES_PLAYER_MAX_SOURCES]; /* owned by their bins */
  gboolean branch_looping;                    /* the grid loops forwards, each take on its own */
  GstElement *compare;                        /* the grid's compare bin, owned by the pipeline */
  GPtrArray *size_filters;                    /* the capsfilters that set one take's size */
  int full_width, full_height;                /* a frame at 1:1 */
  int out_width, out_height;                  /* the size frames are converted to now */
  guint fit_idle;
  GstBus *bus;
  guint bus_watch;
  Mailbox *mailbox;
  guint cols, rows;

  TakesPlayerState state;
  GError *error;
  gboolean want_playing;
  gboolean busy;         /* a state change or flushing seek is under way */
  gboolean have_pending; /* a seek asked for while busy */
  guint pending_frame;
  guint target_frame; /* where the latest seek goes */
  guint seek_order;   /* ASYNC_DONE messages posted before the latest flushing seek */
  gboolean at_end;    /* EOS, or the end of a loop segment while paused */

  double rate;
  gboolean loop;
  gboolean has_range;
  guint range_in, range_out;
  gboolean zoom_fit;

  guint frame;
  guint n_frames;
  int fps_n, fps_d;
  guint sequence_index;
  guint64 rendered;
  guint64 late;
};

G_DEFINE_FINAL_TYPE (TakesPlayer, takes_player, GTK_TYPE_WIDGET)

G_DEFINE_ENUM_TYPE (TakesPlayerState,
                    takes_player_state,
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_STATE_EMPTY, "empty"),
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_STATE_LOADING, "loading"),
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_STATE_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_STATE_PLAYING, "playing"),
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_STATE_ERROR, "error"))

enum
{
  FRAME_SHOWN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

enum
{
  PROP_0,
  PROP_STATE,
  PROP_FRAME,
  PROP_N_FRAMES,
  PROP_RATE,
  PROP_LOOP,
  PROP_ZOOM_FIT,
  PROP_VIEW,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const double speeds[] = { 0.25, 0.5, 1.0, 1.5, 2.0 };

static void start_pipeline (TakesPlayer *self);
static void stop_pipeline (TakesPlayer *self);
static void update_controls (TakesPlayer *self);
static void seek_to_frame (TakesPlayer *self, guint frame);

/* Mailbox */

static Mailbox *
mailbox_new (TakesPlayer *player)
{
  Mailbox *box = g_new0 (Mailbox, 1);

  g_atomic_ref_count_init (&box->ref);
  g_mutex_init (&box->lock);
  g_weak_ref_init (&box->player, player);
  return box;
}

static Mailbox *
mailbox_ref (Mailbox *box)
{
  g_atomic_ref_count_inc (&box->ref);
  return box;
}

static void
mailbox_unref (gpointer data)
{
  Mailbox *box = data;

  if (!g_atomic_ref_count_dec (&box->ref))
    return;
  g_weak_ref_clear (&box->player);
  g_clear_pointer (&box->pending, gst_sample_unref);
  gst_clear_buffer (&box->last_buffer);
  g_mutex_clear (&box->lock);
  g_free (box);
}

static void
mailbox_clear (Mailbox *box)
{
  g_mutex_lock (&box->lock);
  g_clear_pointer (&box->pending, gst_sample_unref);
  gst_clear_buffer (&box->last_buffer);
  g_mutex_unlock (&box->lock);
}

static GQuark
order_quark (void)
{
  return g_quark_from_static_string ("takes-player-order");
}

/* Numbers the ASYNC_DONE messages in the thread that posts them. */
static GstBusSyncReply
bus_sync_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  Mailbox *box = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ASYNC_DONE)
    gst_mini_object_set_qdata (GST_MINI_OBJECT (message), order_quark (),
                               GUINT_TO_POINTER ((guint)g_atomic_int_add (&box->n_async_done, 1) + 1), NULL);
  return GST_BUS_PASS;
}

static guint
message_order (GstMessage *message)
{
  return GPOINTER_TO_UINT (gst_mini_object_get_qdata (GST_MINI_OBJECT (message), order_quark ()));
}

/* Frame arithmetic */

static GstClockTime
frame_start_ns (TakesPlayer *self, guint frame)
{
  return gst_util_uint64_scale ((guint64)frame, (guint64)self->fps_d * GST_SECOND, (guint64)self->fps_n);
}

static GstClockTime
frame_middle_ns (TakesPlayer *self, guint frame)
{
  return gst_util_uint64_scale (2 * (guint64)frame + 1, (guint64)self->fps_d * GST_SECOND,
                                2 * (guint64)self->fps_n);
}

/* Three quarters into a frame: the end of a range that shows the frame and
 * never an empty segment, even when the range starts at the same frame. */
static GstClockTime
frame_late_ns (TakesPlayer *self, guint frame)
{
  return gst_util_uint64_scale (4 * (guint64)frame + 3, (guint64)self->fps_d * GST_SECOND,
                                4 * (guint64)self->fps_n);
}

/* A frame starts at its time, give or take the container's rounding; an output
 * frame of compositor starts half a frame later. A quarter frame of slack
 * names the right frame in both cases. */
static guint
frame_at_ns (TakesPlayer *self, GstClockTime t)
{
  double f = (double)t * self->fps_n / ((double)self->fps_d * GST_SECOND) + 0.25;

  return f < 0.0 ? 0 : (guint)floor (f);
}

static guint
last_frame (TakesPlayer *self)
{
  return self->n_frames > 0 ? self->n_frames - 1 : 0;
}

/* The in/out range applies while looping only. */
static gboolean
range_active (TakesPlayer *self)
{
  return self->loop && self->has_range;
}

static guint
first_playable (TakesPlayer *self)
{
  return range_active (self) ? self->range_in : 0;
}

static guint
last_playable (TakesPlayer *self)
{
  return range_active (self) ? MIN (self->range_out, last_frame (self)) : last_frame (self);
}

/* Where the picture is, or is about to be once the seek under way ends. */
static guint
current_frame (TakesPlayer *self)
{
  return self->busy ? self->target_frame : self->frame;
}

char *
takes_player_format_timecode (guint frame, int fps_n, int fps_d)
{
  guint fps = fps_n > 0 && fps_d > 0 ? (guint)MAX (1, (int)floor ((double)fps_n / fps_d + 0.5)) : 1;
  guint seconds = frame / fps;

  return g_strdup_printf ("%02u:%02u:%02u:%02u", seconds / 3600, (seconds / 60) % 60, seconds % 60,
                          frame % fps);
}

/* State */

static void
set_state (TakesPlayer *self, TakesPlayerState state)
{
  if (self->state == state)
    return;
  self->state = state;
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_frame (TakesPlayer *self, guint frame)
{
  if (self->frame == frame)
    return;
  self->frame = frame;
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
}

static void
show_error (TakesPlayer *self, GError *error)
{
  g_clear_error (&self->error);
  self->error = error;
  stop_pipeline (self);
  takes_player_paintable_set_frame (self->paintable, NULL, 0, 0, 0, 1, 1);
  gtk_label_set_text (self->error_label, error->message);
  set_state (self, TAKES_PLAYER_STATE_ERROR);
}

/* Showing frames (main thread) */

static void
show_sample (TakesPlayer *self, GstSample *sample, gboolean played, GstClockTimeDiff lateness)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstVideoInfo info;
  GstVideoMeta *meta;
  GstMapInfo map;
  gsize offset, stride;
  g_autoptr (GBytes) all = NULL;
  g_autoptr (GBytes) bytes = NULL;
  guint64 t = 0;

  if (buffer == NULL || caps == NULL || !gst_video_info_from_caps (&info, caps))
    return;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return;
  offset = GST_VIDEO_INFO_PLANE_OFFSET (&info, 0);
  stride = (gsize)GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
  meta = gst_buffer_get_video_meta (buffer);
  if (meta != NULL)
    {
      offset = meta->offset[0];
      stride = (gsize)meta->stride[0];
    }
  /* The bytes keep the buffer mapped for as long as GTK holds the texture;
   * no pixel is copied. */
  all = g_bytes_new_with_free_func (map.data, map.size, (GDestroyNotify)gst_buffer_unref,
                                    gst_buffer_ref (buffer));
  gst_buffer_unmap (buffer, &map);
  if (offset + (gsize)(GST_VIDEO_INFO_HEIGHT (&info) - 1) * stride + (gsize)GST_VIDEO_INFO_WIDTH (&info) * 4
      > g_bytes_get_size (all))
    return;
  bytes = g_bytes_new_from_bytes (all, offset, g_bytes_get_size (all) - offset);
  takes_player_paintable_set_frame (self->paintable, bytes, GST_VIDEO_INFO_WIDTH (&info),
                                    GST_VIDEO_INFO_HEIGHT (&info), stride, self->cols, self->rows);
  self->rendered++;

  if (GST_BUFFER_PTS_IS_VALID (buffer) && segment != NULL)
    {
      if (self->layout == LAYOUT_SEQUENCE)
        gst_segment_to_running_time_full (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer), &t);
      else
        gst_segment_to_stream_time_full (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer), &t);
      /* Backwards, compositor's output frames end mid-frame where the seek
       * stopped, so they start half a frame before the frame they show. */
      if (self->layout == LAYOUT_GRID && segment->rate < 0)
        t += frame_start_ns (self, 1) / 2;
    }
  if (self->layout == LAYOUT_SEQUENCE)
    {
      guint frame = frame_at_ns (self, t);
      guint start = 0;

      self->sequence_index = 0;
      for (guint i = 0; i < self->n_infos; i++)
        {
          if (frame >= start)
            self->sequence_index = i;
          start += self->infos[i]->n_frames;
        }
    }
  {
    guint frame = frame_at_ns (self, t);
    guint first = first_playable (self), last = last_playable (self);

    /* A grid looping take by take runs on past the loop's end. */
    if (self->layout == LAYOUT_GRID && self->branch_looping && frame > last)
      frame = first + (frame - last - 1) % (last - first + 1);
    set_frame (self, MIN (frame, last_frame (self)));
  }
  if (played)
    {
      guint64 due = 0;

      if (GST_BUFFER_PTS_IS_VALID (buffer) && segment != NULL)
        gst_segment_to_running_time_full (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer), &due);
      if (lateness > (GstClockTimeDiff)TAKES_PLAYER_LATE_NS)
        self->late++;
      g_signal_emit (self, signals[FRAME_SHOWN], 0, self->frame, (gint64)(due / GST_USECOND),
                     (gint64)(lateness / GST_USECOND));
    }
}

static gboolean
deliver_cb (gpointer data)
{
  Mailbox *box = data;
  g_autoptr (TakesPlayer) self = g_weak_ref_get (&box->player);
  g_autoptr (GstSample) sample = NULL;
  gboolean played;
  GstClockTimeDiff lateness;

  g_mutex_lock (&box->lock);
  sample = g_steal_pointer (&box->pending);
  played = box->pending_played;
  lateness = box->pending_lateness;
  box->scheduled = FALSE;
  g_mutex_unlock (&box->lock);

  if (self != NULL && sample != NULL && self->mailbox == box && self->state != TAKES_PLAYER_STATE_ERROR)
    show_sample (self, sample, played, lateness);
  return G_SOURCE_REMOVE;
}

/* Streaming threads */

static void
post_sample (Mailbox *box, GstSample *sample, gboolean preroll, GstClockTimeDiff lateness)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  gboolean schedule = FALSE;

  g_mutex_lock (&box->lock);
  /* Going to PLAYING renders the prerolled buffer a second time. */
  if (!preroll && buffer != NULL && buffer == box->last_buffer)
    {
      gst_clear_buffer (&box->last_buffer);
      g_mutex_unlock (&box->lock);
      gst_sample_unref (sample);
      return;
    }
  gst_clear_buffer (&box->last_buffer);
  if (preroll && buffer != NULL)
    box->last_buffer = gst_buffer_ref (buffer);
  if (box->pending != NULL)
    {
      box->replaced++;
      gst_sample_unref (box->pending);
    }
  box->pending = sample;
  box->pending_played = !preroll;
  box->pending_lateness = lateness;
  if (!box->scheduled)
    schedule = box->scheduled = TRUE;
  g_mutex_unlock (&box->lock);

  if (schedule)
    g_idle_add_full (G_PRIORITY_HIGH_IDLE, deliver_cb, mailbox_ref (box), mailbox_unref);
}

static GstFlowReturn
new_preroll_cb (GstAppSink *sink, gpointer user_data)
{
  GstSample *sample = gst_app_sink_pull_preroll (sink);

  if (sample != NULL)
    post_sample (user_data, sample, TRUE, 0);
  return GST_FLOW_OK;
}

/* How far past its running time a buffer reaches the sink, which syncs on
 * the clock: about 0 when the frame was ready in time. */
static GstClockTimeDiff
sample_lateness (GstAppSink *sink, GstSample *sample)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  g_autoptr (GstClock) clock = gst_element_get_clock (GST_ELEMENT (sink));
  guint64 due = 0;

  if (clock == NULL || buffer == NULL || segment == NULL || !GST_BUFFER_PTS_IS_VALID (buffer)
      || gst_segment_to_running_time_full (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer), &due) <= 0)
    return 0;
  return GST_CLOCK_DIFF ((GstClockTime)due + gst_element_get_base_time (GST_ELEMENT (sink)),
                         gst_clock_get_time (clock));
}

static GstFlowReturn
new_sample_cb (GstAppSink *sink, gpointer user_data)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);

  if (sample == NULL)
    return GST_FLOW_EOS;
  post_sample (user_data, sample, FALSE, sample_lateness (sink, sample));
  return GST_FLOW_OK;
}

static void
branch_free (gpointer data)
{
  Branch *branch = data;

  gst_clear_object (&branch->target);
  g_mutex_clear (&branch->lock);
  g_free (branch);
}

static gboolean
branch_claim (Branch *branch, gboolean *flag)
{
  gboolean claimed = !*flag;

  *flag = TRUE;
  return claimed;
}

static void
post_no_video (GstElement *pipeline)
{
  gst_element_post_message (pipeline, gst_message_new_application (
                                          GST_OBJECT (pipeline), gst_structure_new_empty (NO_VIDEO_MESSAGE)));
}

static void
decoded_pad_added_cb (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  Branch *branch = user_data;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&branch->lock);
  g_autoptr (GstCaps) caps = NULL;

  if (branch->closing)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps != NULL && !gst_caps_is_empty (caps) && !gst_caps_is_any (caps)
      && gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw")
      && branch_claim (branch, &branch->have_video))
    {
      GstPad *ghost = gst_ghost_pad_new (NULL, pad);

      gst_pad_set_active (ghost, TRUE);
      gst_element_add_pad (branch->bin, ghost);
      if (gst_pad_link (ghost, branch->target) != GST_PAD_LINK_OK)
        GST_ELEMENT_ERROR (branch->bin, CORE, NEGOTIATION, (_ ("The decoded video could not be shown.")),
                           (NULL));
      return;
    }
  takes_media_add_fakesink (branch->bin, pad);
}

static void
decoded_no_more_pads_cb (GstElement *decodebin, gpointer user_data)
{
  Branch *branch = user_data;
  gboolean have_video;

  g_mutex_lock (&branch->lock);
  have_video = branch->have_video;
  g_mutex_unlock (&branch->lock);
  if (!have_video)
    post_no_video (branch->pipeline);
}

/* The demuxer has read a take's last frame and the decoder still holds the
 * last few: the seek for the next pass goes from here, in the demuxer's own
 * thread, so the decoder goes straight on into the next pass once it has
 * drained. (From the main thread the seek would wait for this thread, which
 * is blocked while the frames before the seam wait for their time, and the
 * picture would stall meanwhile.) Each seek is a new event: demuxers ignore
 * a seek whose number they have seen.
 *
 * A grid's take starts pass k where the output has shown the frames up to
 * the loop's end once, from where the seek went, and then k − 1 whole
 * loops; an eighth of a frame early, so rounding never puts a frame in the
 * wrong output frame. */
static GstPadProbeReturn
demux_segment_done_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Branch *branch = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstEvent *seek = NULL;

  if (event == NULL || GST_EVENT_TYPE (event) != GST_EVENT_SEGMENT_DONE)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&branch->lock);
  if (branch->seam_rate > 0 && !branch->closing && GST_CLOCK_TIME_IS_VALID (branch->loop_stop))
    {
      guint64 eighths;

      branch->loops++;
      eighths = 8
                    * ((guint64)(branch->loop_last - branch->loop_from + 1)
                       + (guint64)(branch->loops - 1) * (branch->loop_last - branch->loop_first + 1))
                - 1;
      branch->next_base
          = (GstClockTime)((double)gst_util_uint64_scale (eighths, (guint64)branch->fps_d * GST_SECOND,
                                                          8 * (guint64)branch->fps_n)
                           / branch->seam_rate);
    }
  if (branch->seam_rate > 0 && !branch->closing)
    seek = gst_event_new_seek (branch->seam_rate, GST_FORMAT_TIME,
                               GST_SEEK_FLAG_ACCURATE | GST_SEEK_FLAG_SEGMENT, GST_SEEK_TYPE_SET,
                               (gint64)branch->seam_start, GST_SEEK_TYPE_SET,
                               GST_CLOCK_TIME_IS_VALID (branch->seam_stop) ? (gint64)branch->seam_stop : -1);
  g_mutex_unlock (&branch->lock);
  /* A demuxer that cannot seek from its own thread leaves the loop to the
   * main thread, as before the seam was moved here. */
  if (seek != NULL && !gst_pad_send_event (pad, seek))
    {
      g_mutex_lock (&branch->lock);
      branch->seam_failed = TRUE;
      g_mutex_unlock (&branch->lock);
      gst_element_post_message (branch->bin,
                                gst_message_new_application (GST_OBJECT (branch->bin),
                                                             gst_structure_new_empty (SEAM_FAILED_MESSAGE)));
    }
  return GST_PAD_PROBE_OK;
}

/* Seeks aim at the middle of a frame, and the decoder clips the first frame
 * to start there; forwards, the segment is moved back to the start of that
 * frame and the frame's time put back, so it is shown for as long as any
 * other. A segment that follows another without a flush (the next pass of
 * a loop) starts where the last frame before it ends in running time:
 * demuxers start it at that frame's own time, which would show the two at
 * once. */
static GstPadProbeReturn
single_decoded_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Branch *branch = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    {
      GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
      GstClockTime pts = GST_BUFFER_PTS (buffer);
      guint64 rt;

      if (!GST_CLOCK_TIME_IS_VALID (pts) || branch->segment.rate < 0)
        return GST_PAD_PROBE_OK;
      if (GST_CLOCK_TIME_IS_VALID (branch->clipped_pts) && pts == branch->clipped_pts)
        {
          buffer = gst_buffer_make_writable (buffer);
          if (GST_BUFFER_DURATION_IS_VALID (buffer))
            GST_BUFFER_DURATION (buffer) += pts - branch->frame_pts;
          GST_BUFFER_PTS (buffer) = pts = branch->frame_pts;
          GST_PAD_PROBE_INFO_DATA (info) = buffer;
        }
      branch->clipped_pts = GST_CLOCK_TIME_NONE;
      if (gst_segment_to_running_time_full (&branch->segment, GST_FORMAT_TIME, pts, &rt) > 0)
        branch->end_rt = rt
                         + (GstClockTime)(gst_util_uint64_scale ((guint64)branch->fps_d, GST_SECOND,
                                                                 (guint64)branch->fps_n)
                                          / branch->segment.rate);
      return GST_PAD_PROBE_OK;
    }
  if (GST_PAD_PROBE_INFO_EVENT (info) == NULL)
    return GST_PAD_PROBE_OK;
  switch (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)))
    {
      case GST_EVENT_FLUSH_STOP:
        branch->end_rt = GST_CLOCK_TIME_NONE;
        branch->clipped_pts = GST_CLOCK_TIME_NONE;
        break;
      case GST_EVENT_SEGMENT:
        {
          GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
          const GstSegment *segment;
          GstEvent *replacement;
          guint64 frame;
          GstClockTime shift;

          gst_event_parse_segment (event, &segment);
          gst_segment_copy_into (segment, &branch->segment);
          if (segment->format != GST_FORMAT_TIME || segment->rate < 0 || branch->fps_n <= 0)
            {
              branch->end_rt = GST_CLOCK_TIME_NONE;
              break;
            }
          frame = gst_util_uint64_scale (segment->time, (guint64)branch->fps_n,
                                         (guint64)branch->fps_d * GST_SECOND);
          shift
              = segment->time
                - gst_util_uint64_scale (frame, (guint64)branch->fps_d * GST_SECOND, (guint64)branch->fps_n);
          shift = MIN (shift, segment->start);
          branch->clipped_pts = segment->start;
          branch->frame_pts = segment->start - shift;
          branch->segment.start -= shift;
          branch->segment.time -= shift;
          branch->segment.position = branch->segment.start;
          if (GST_CLOCK_TIME_IS_VALID (branch->end_rt))
            branch->segment.base = branch->end_rt;
          replacement = gst_event_new_segment (&branch->segment);
          gst_event_set_seqnum (replacement, gst_event_get_seqnum (event));
          gst_event_unref (event);
          GST_PAD_PROBE_INFO_DATA (info) = replacement;
          break;
        }
      default:
        break;
    }
  return GST_PAD_PROBE_OK;
}

/* The first video stream is decoded; other streams are read and dropped, so
 * the demuxer never stalls on an unlinked pad. */
static void
stream_cb (GstPad *pad, GstCaps *caps, gpointer user_data)
{
  Branch *branch = user_data;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&branch->lock);
  g_autoptr (GstPad) sink_pad = NULL;
  GstElement *decodebin;

  if (branch->closing)
    return;
  if (!takes_media_caps_are_video (caps) || !branch_claim (branch, &branch->have_stream))
    {
      takes_media_add_fakesink (branch->bin, pad);
      return;
    }
  decodebin = gst_element_factory_make ("decodebin", NULL);
  if (decodebin == NULL)
    {
      GST_ELEMENT_ERROR (
          branch->bin, CORE, MISSING_PLUGIN,
          (_ ("The GStreamer element decodebin is missing. Install gstreamer1.0-plugins-base.")), (NULL));
      return;
    }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, demux_segment_done_cb, branch, NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (decoded_pad_added_cb), branch);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (decoded_no_more_pads_cb), branch);
  takes_media_plug_add (branch->bin, decodebin);
  sink_pad = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sink_pad);
  takes_media_plug_sync (branch->bin, decodebin);
}

static void
streams_done_cb (gpointer user_data)
{
  Branch *branch = user_data;
  gboolean have_stream;

  g_mutex_lock (&branch->lock);
  have_stream = branch->have_stream;
  g_mutex_unlock (&branch->lock);
  if (!have_stream)
    post_no_video (branch->pipeline);
}

/* A SEGMENT_DONE event reaches the sink after the decoder has drained the
 * last frames, which is when a take playing backwards loops. */
static GstPadProbeReturn
segment_done_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstElement *sink = GST_ELEMENT (gst_pad_get_parent_element (pad));

  if (event != NULL && GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT_DONE && sink != NULL)
    gst_element_post_message (
        sink, gst_message_new_application (GST_OBJECT (sink), gst_structure_new_empty (LOOP_MESSAGE)));
  gst_clear_object (&sink);
  return GST_PAD_PROBE_OK;
}

/* Pipeline (main thread) */

static GstElement *
make_element (const char *factory, GError **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_MISSING_PLUGIN,
                 _ ("The GStreamer element %s is missing. Install gstreamer1.0-plugins-base and "
                    "gstreamer1.0-plugins-good."),
                 factory);
  return element;
}

/* The player's flushing seek reaches each take with the take's own loop end
 * and as a segment seek, so the take says when it is done. */
static GstPadProbeReturn
branch_seek_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Branch *branch = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstClockTime stop;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  GstFormat format;
  gint64 start, old_stop;
  double rate;
  GstEvent *seek;

  if (event == NULL || GST_EVENT_TYPE (event) != GST_EVENT_SEEK)
    return GST_PAD_PROBE_OK;
  gst_event_parse_seek (event, &rate, &format, &flags, &start_type, &start, &stop_type, &old_stop);
  g_mutex_lock (&branch->lock);
  stop = branch->loop_stop;
  g_mutex_unlock (&branch->lock);
  if (!(flags & GST_SEEK_FLAG_FLUSH) || !GST_CLOCK_TIME_IS_VALID (stop))
    return GST_PAD_PROBE_OK;
  seek = gst_event_new_seek (rate, format, flags | GST_SEEK_FLAG_SEGMENT, start_type, start,
                             GST_SEEK_TYPE_SET, (gint64)stop);
  /* Compositor matches the flush that comes back to its seek by number. */
  gst_event_set_seqnum (seek, gst_event_get_seqnum (event));
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = seek;
  return GST_PAD_PROBE_OK;
}

/* A take's segment done goes no further (compositor would end on it); the
 * demuxer's thread has sent the take back. Its next segment is moved to
 * where the loop begins again in running time. A flush starts over. */
static GstPadProbeReturn
branch_event_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Branch *branch = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstPadProbeReturn ret = GST_PAD_PROBE_OK;

  if (event == NULL)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&branch->lock);
  if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT_DONE && GST_CLOCK_TIME_IS_VALID (branch->loop_stop))
    ret = GST_PAD_PROBE_DROP;
  else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    {
      branch->next_base = GST_CLOCK_TIME_NONE;
      branch->loops = 0;
    }
  else if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT && GST_CLOCK_TIME_IS_VALID (branch->next_base))
    {
      const GstSegment *segment;
      GstSegment moved;
      GstEvent *replacement;

      gst_event_parse_segment (event, &segment);
      gst_segment_copy_into (segment, &moved);
      moved.base = branch->next_base;
      branch->next_base = GST_CLOCK_TIME_NONE;
      replacement = gst_event_new_segment (&moved);
      gst_event_set_seqnum (replacement, gst_event_get_seqnum (event));
      gst_event_unref (event);
      GST_PAD_PROBE_INFO_DATA (info) = replacement;
    }
  g_mutex_unlock (&branch->lock);
  return ret;
}

static gboolean
add_branch (TakesPlayer *self, guint index, GstPad *target, GError **error)
{
  Branch *branch = g_new0 (Branch, 1);
  GstElement *bin = gst_bin_new (NULL);

  g_mutex_init (&branch->lock);
  branch->loop_stop = GST_CLOCK_TIME_NONE;
  branch->next_base = GST_CLOCK_TIME_NONE;
  branch->seam_start = branch->seam_stop = GST_CLOCK_TIME_NONE;
  branch->fps_n = self->fps_n;
  branch->fps_d = self->fps_d;
  gst_segment_init (&branch->segment, GST_FORMAT_TIME);
  branch->end_rt = branch->clipped_pts = branch->frame_pts = GST_CLOCK_TIME_NONE;
  self->branches[index] = branch;
  if (self->layout == LAYOUT_GRID)
    {
      gst_pad_add_probe (target, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, branch_seek_cb, branch, NULL);
      gst_pad_add_probe (target, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
                         branch_event_cb, branch, NULL);
    }
  else if (self->layout == LAYOUT_SINGLE)
    gst_pad_add_probe (target,
                       GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
                           | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
                       single_decoded_cb, branch, NULL);
  branch->pipeline = self->pipeline;
  branch->bin = bin;
  branch->target = gst_object_ref (target);
  branch->index = index;
  gst_bin_add (GST_BIN (self->pipeline), bin);
  /* Freed with the bin, after its streaming threads have stopped. */
  g_object_set_data_full (G_OBJECT (bin), BRANCH_KEY, branch, branch_free);
  return takes_media_add_file_source (bin, self->paths[index], stream_cb, streams_done_cb, branch, error);
}

static GstCaps *
output_caps (int width, int height, int fps_n, int fps_d)
{
  GstCaps *caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "BGRA", "pixel-aspect-ratio",
                                       GST_TYPE_FRACTION, 1, 1, NULL);

  if (width > 0 && height > 0)
    gst_caps_set_simple (caps, "width", G_TYPE_INT, width, "height", G_TYPE_INT, height, NULL);
  if (fps_n > 0 && fps_d > 0)
    gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, fps_n, fps_d, NULL);
  return caps;
}

/* A few frames of slack between two threads: the one before goes on
 * decoding (or compositing) while the one after converts or waits for the
 * clock to show a frame, so a slow frame is absorbed instead of shown late. */
static GstElement *
make_queue (GError **error)
{
  GstElement *queue = make_element ("queue", error);

  if (queue != NULL)
    g_object_set (queue, "max-size-buffers", 3, "max-size-bytes", 0, "max-size-time", (guint64)0, NULL);
  return queue;
}

/* Returns the element the decoded video of take index is linked to. */
static GstElement *
add_converter (TakesPlayer *self, GstElement *next, GstCaps *caps, GError **error)
{
  GstElement *queue = make_queue (error);
  GstElement *scale = queue != NULL ? make_element ("videoscale", error) : NULL;
  GstElement *convert = scale != NULL ? make_element ("videoconvert", error) : NULL;
  GstElement *filter = convert != NULL ? make_element ("capsfilter", error) : NULL;

  if (filter == NULL)
    {
      GstElement *made[] = { queue, scale, convert };

      for (guint i = 0; i < G_N_ELEMENTS (made); i++)
        if (made[i] != NULL)
          gst_object_unref (gst_object_ref_sink (made[i]));
      return NULL;
    }
  /* Scaling the decoder's YUV first and converting the smaller picture to
   * BGRA after is about half the cost of doing both in one pass, which
   * takes GstVideoConverter's generic path; the plain conversion has a fast
   * one. Two threads each keep them within a frame's time on two cores. */
  g_object_set (scale, "add-borders", TRUE, "n-threads", 2, NULL);
  g_object_set (convert, "n-threads", 2, NULL);
  g_object_set (filter, "caps", caps, NULL);
  g_ptr_array_add (self->size_filters, gst_object_ref (filter));
  gst_bin_add_many (GST_BIN (self->pipeline), queue, scale, convert, filter, NULL);
  if (!gst_element_link_many (queue, scale, convert, filter, next, NULL))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("The GStreamer elements for showing video could not be connected. Check the GStreamer "
                      "installation."));
      return NULL;
    }
  return queue;
}

/* Side by side at full size; the view (one cell, wipe, difference) is made
 * from the grid by the paintable, so switching it needs no new frame, and
 * the size follows the widget. */
static void
grid_options (TakesCompareOptions *options)
{
  takes_compare_options_init (options);
  options->max_width = options->max_height = TAKES_MEDIA_MAX_SIZE;
}

static gboolean
plan_grid (TakesPlayer *self, GError **error)
{
  TakesCompareSource sources[TAKES_PLAYER_MAX_SOURCES];
  TakesCompareOptions options;

  for (guint i = 0; i < self->n_infos; i++)
    sources[i] = (TakesCompareSource){ self->infos[i]->width, self->infos[i]->height, self->infos[i]->fps_n,
                                       self->infos[i]->fps_d };
  grid_options (&options);
  self->plan = takes_compare_plan (sources, self->n_infos, &options, error);
  return self->plan != NULL;
}

static gboolean
build_pipeline (TakesPlayer *self, GError **error)
{
  GstElement *sink;
  GstAppSinkCallbacks callbacks = { 0 };

  self->pipeline = gst_pipeline_new ("takes-player");
  sink = make_element ("appsink", error);
  if (sink == NULL)
    return FALSE;
  g_object_set (sink, "sync", TRUE, "max-buffers", 1, "drop", FALSE, "enable-last-sample", FALSE, "qos",
                FALSE, NULL);
  {
    g_autoptr (GstCaps) bgra = output_caps (0, 0, 0, 0);

    g_object_set (sink, "caps", bgra, NULL);
  }
  gst_bin_add (GST_BIN (self->pipeline), sink);

  self->mailbox = mailbox_new (self);
  callbacks.new_preroll = new_preroll_cb;
  callbacks.new_sample = new_sample_cb;
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, mailbox_ref (self->mailbox), mailbox_unref);

  if (self->layout == LAYOUT_SINGLE)
    {
      g_autoptr (GstCaps) caps = output_caps (self->out_width, self->out_height, 0, 0);
      GstElement *head = add_converter (self, sink, caps, error);
      g_autoptr (GstPad) pad = NULL;
      g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (sink, "sink");

      if (head == NULL)
        return FALSE;
      gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, segment_done_cb, NULL, NULL);
      pad = gst_element_get_static_pad (head, "sink");
      return add_branch (self, 0, pad, error);
    }

  if (self->layout == LAYOUT_SEQUENCE)
    {
      GstElement *concat = make_element ("concat", error);
      g_autoptr (GstCaps) caps = output_caps (self->out_width, self->out_height, 0, 0);

      if (concat == NULL)
        return FALSE;
      gst_bin_add (GST_BIN (self->pipeline), concat);
      if (!gst_element_link (concat, sink))
        {
          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                       _ ("The GStreamer elements for playing takes in sequence could not be connected. "
                          "Check the GStreamer installation."));
          return FALSE;
        }
      /* concat plays its pads in the order they were requested, and each
       * link below requests the next one. */
      for (guint i = 0; i < self->n_infos; i++)
        {
          GstElement *head = add_converter (self, concat, caps, error);
          g_autoptr (GstPad) pad = NULL;

          if (head == NULL)
            return FALSE;
          pad = gst_element_get_static_pad (head, "sink");
          if (!add_branch (self, i, pad, error))
            return FALSE;
        }
      return TRUE;
    }

  {
    TakesCompareOptions options;
    GstElement *queue;

    grid_options (&options);
    self->compare = takes_compare_bin_new (self->plan, &options, error);
    if (self->compare == NULL)
      return FALSE;
    /* The pipeline holds the bin from here on. */
    gst_bin_add (GST_BIN (self->pipeline), self->compare);
    gst_object_unref (self->compare);
    queue = make_queue (error);
    if (queue == NULL)
      return FALSE;
    gst_bin_add (GST_BIN (self->pipeline), queue);
    if (!gst_element_link_many (self->compare, queue, sink, NULL))
      {
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                     _ ("The GStreamer elements for comparing takes could not be connected. Check the "
                        "GStreamer installation."));
        return FALSE;
      }
    takes_compare_bin_set_cell_size (self->compare, self->out_width / (int)self->cols,
                                     self->out_height / (int)self->rows);
    for (guint i = 0; i < self->n_infos; i++)
      {
        g_autofree char *name = g_strdup_printf ("sink_%u", i);
        g_autoptr (GstPad) pad = gst_element_get_static_pad (self->compare, name);

        if (!add_branch (self, i, pad, error))
          return FALSE;
      }
    return TRUE;
  }
}

static void
stop_pipeline (TakesPlayer *self)
{
  if (self->bus_watch != 0)
    {
      g_source_remove (self->bus_watch);
      self->bus_watch = 0;
    }
  if (self->pipeline != NULL)
    {
      /* The sink side goes down first, sinks before their upstream (the
       * sorted order), so no streaming thread stays blocked
       * in a sink while its branch deactivates; then each branch stops
       * plugging and goes down, so none is still adding elements when the
       * pipeline stops. */
      g_autoptr (GstIterator) children = gst_bin_iterate_sorted (GST_BIN (self->pipeline));
      g_autoptr (GPtrArray) bins = g_ptr_array_new_with_free_func (gst_object_unref);
      g_autoptr (GPtrArray) others = g_ptr_array_new_with_free_func (gst_object_unref);
      GValue item = G_VALUE_INIT;

      while (gst_iterator_next (children, &item) == GST_ITERATOR_OK)
        {
          GstElement *child = g_value_get_object (&item);
          Branch *branch = g_object_get_data (G_OBJECT (child), BRANCH_KEY);

          if (branch != NULL)
            {
              g_mutex_lock (&branch->lock);
              branch->closing = TRUE;
              g_mutex_unlock (&branch->lock);
              g_ptr_array_add (bins, gst_object_ref (child));
            }
          else
            g_ptr_array_add (others, gst_object_ref (child));
          g_value_reset (&item);
        }
      g_value_unset (&item);
      for (guint i = 0; i < others->len; i++)
        gst_element_set_state (g_ptr_array_index (others, i), GST_STATE_NULL);
      for (guint i = 0; i < bins->len; i++)
        takes_media_stop_pipeline (g_ptr_array_index (bins, i));
      takes_media_stop_pipeline (self->pipeline);
    }
  gst_clear_object (&self->bus);
  self->compare = NULL;
  memset (self->branches, 0, sizeof self->branches);
  self->branch_looping = FALSE;
  g_clear_pointer (&self->plan, takes_compare_layout_free);
  g_ptr_array_set_size (self->size_filters, 0);
  gst_clear_object (&self->pipeline);
  if (self->mailbox != NULL)
    {
      mailbox_clear (self->mailbox);
      g_clear_pointer (&self->mailbox, mailbox_unref);
    }
  self->busy = FALSE;
  self->have_pending = FALSE;
}

/* A seek for the current rate, loop and range, from the given frame on (or,
 * backwards, up to it). */
static gboolean
send_seek (TakesPlayer *self, guint frame, gboolean flush)
{
  GstSeekFlags flags = GST_SEEK_FLAG_ACCURATE;
  guint first = first_playable (self);
  GstClockTime start, stop;
  GstEvent *event;

  if (flush)
    flags |= GST_SEEK_FLAG_FLUSH;
  if (self->loop && self->layout == LAYOUT_SINGLE)
    flags |= GST_SEEK_FLAG_SEGMENT;
  if (self->rate > 0)
    {
      start = frame_middle_ns (self, frame);
      stop = range_active (self) ? frame_late_ns (self, last_playable (self)) : GST_CLOCK_TIME_NONE;
    }
  else
    {
      start = frame_start_ns (self, first);
      stop = frame_middle_ns (self, frame);
    }
  if (flush && self->layout == LAYOUT_GRID)
    {
      self->branch_looping = self->loop && self->rate > 0;
      for (guint i = 0; i < self->n_infos; i++)
        {
          Branch *branch = self->branches[i];

          g_mutex_lock (&branch->lock);
          branch->loop_stop
              = self->branch_looping ? frame_late_ns (self, last_playable (self)) : GST_CLOCK_TIME_NONE;
          branch->next_base = GST_CLOCK_TIME_NONE;
          branch->loop_first = first;
          branch->loop_last = last_playable (self);
          branch->loop_from = frame;
          branch->loops = 0;
          branch->seam_rate = self->branch_looping ? self->rate : 0.0;
          branch->seam_start = frame_middle_ns (self, first);
          branch->seam_stop = branch->loop_stop;
          g_mutex_unlock (&branch->lock);
        }
      if (self->branch_looping)
        stop = GST_CLOCK_TIME_NONE;
    }
  if (flush && self->layout == LAYOUT_SINGLE)
    {
      Branch *branch = self->branches[0];

      g_mutex_lock (&branch->lock);
      branch->seam_rate = self->loop && self->rate > 0 ? self->rate : 0.0;
      branch->seam_start = frame_middle_ns (self, first);
      branch->seam_stop = stop;
      g_mutex_unlock (&branch->lock);
    }
  if (flush)
    mailbox_clear (self->mailbox);
  /* A stop of NONE set explicitly clears the end of an earlier range. */
  event = gst_event_new_seek (self->rate, GST_FORMAT_TIME, flags, GST_SEEK_TYPE_SET, start, GST_SEEK_TYPE_SET,
                              stop);
  if (flush)
    self->seek_order = (guint)g_atomic_int_get (&self->mailbox->n_async_done);
  return gst_element_send_event (self->pipeline, event);
}

static void
seek_to_frame (TakesPlayer *self, guint frame)
{
  if (self->pipeline == NULL || self->n_frames == 0)
    return;
  frame = CLAMP (frame, first_playable (self), last_playable (self));
  self->target_frame = frame;
  if (self->busy)
    {
      self->have_pending = TRUE;
      self->pending_frame = frame;
      return;
    }
  self->at_end = FALSE;
  if (send_seek (self, frame, TRUE))
    self->busy = TRUE;
}

/* Forwards, the demuxer's thread has already sent the take round again,
 * unless the demuxer refused; then a segment seek from here loops, late.
 * Backwards the decoder holds a whole group of pictures at the loop point,
 * and a flushing seek is the way to show them all. */
static void
segment_done (TakesPlayer *self)
{
  if (self->rate > 0)
    {
      Branch *branch = self->branches[0];
      gboolean failed;

      g_mutex_lock (&branch->lock);
      failed = branch->seam_failed;
      branch->seam_failed = FALSE;
      g_mutex_unlock (&branch->lock);
      if (!failed)
        return;
      if (self->state == TAKES_PLAYER_STATE_PLAYING)
        send_seek (self, first_playable (self), FALSE);
      else
        self->at_end = TRUE;
      return;
    }
  if (self->state == TAKES_PLAYER_STATE_PLAYING)
    seek_to_frame (self, last_playable (self));
  else
    self->at_end = TRUE;
}

static void
handle_async_done (TakesPlayer *self, GstMessage *message)
{
  /* A pause or an end of stream also completes asynchronously, and its
   * message may arrive after a seek was sent (GstBin gives its message a new
   * seqnum, so that cannot tell them apart): only a message posted after the
   * seek was sent means the seek's frame is there. */
  if (self->state != TAKES_PLAYER_STATE_LOADING && message_order (message) <= self->seek_order)
    return;
  self->busy = FALSE;
  if (self->have_pending)
    {
      self->have_pending = FALSE;
      seek_to_frame (self, self->pending_frame);
      return;
    }
  if (self->state == TAKES_PLAYER_STATE_LOADING)
    {
      /* The first preroll: the initial seek sets the rate, loop and range. */
      set_state (self, TAKES_PLAYER_STATE_PAUSED);
      if (self->layout != LAYOUT_SEQUENCE)
        seek_to_frame (self, first_playable (self));
      if (self->want_playing)
        takes_player_play (self);
      return;
    }
}

/* The take whose branch posted the message; the first when it came from
 * elsewhere (the compositor, the sink). */
static guint
branch_index_of (GstMessage *message)
{
  for (GstObject *object = GST_MESSAGE_SRC (message); object != NULL; object = GST_OBJECT_PARENT (object))
    {
      Branch *branch = g_object_get_data (G_OBJECT (object), BRANCH_KEY);

      if (branch != NULL)
        return branch->index;
    }
  return 0;
}

static gboolean
bus_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  TakesPlayer *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
      case GST_MESSAGE_ERROR:
        {
          GError *error = NULL;

          takes_media_set_error_from_message (&error, message, self->paths[branch_index_of (message)]);
          show_error (self, error);
          return G_SOURCE_REMOVE;
        }
      case GST_MESSAGE_APPLICATION:
        if (gst_message_has_name (message, LOOP_MESSAGE))
          segment_done (self);
        else if (gst_message_has_name (message, SEAM_FAILED_MESSAGE) && self->layout == LAYOUT_GRID
                 && self->state == TAKES_PLAYER_STATE_PLAYING)
          seek_to_frame (self, first_playable (self));
        else if (gst_message_has_name (message, NO_VIDEO_MESSAGE))
          {
            GError *error = NULL;
            g_autofree char *name = g_filename_display_name (self->paths[0]);

            g_set_error (&error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                         _ ("“%s” has no video stream. Choose an MP4 or WebM video file."), name);
            show_error (self, error);
            return G_SOURCE_REMOVE;
          }
        break;
      case GST_MESSAGE_ASYNC_DONE:
        handle_async_done (self, message);
        break;
      case GST_MESSAGE_EOS:
        /* Compositor does not pass segment seeks on: several takes loop by a
         * flushing seek back at the end. */
        if (self->loop && self->layout == LAYOUT_GRID && self->state == TAKES_PLAYER_STATE_PLAYING)
          {
            seek_to_frame (self, self->rate > 0 ? first_playable (self) : last_playable (self));
            break;
          }
        self->at_end = TRUE;
        self->want_playing = FALSE;
        gst_element_set_state (self->pipeline, GST_STATE_PAUSED);
        set_state (self, TAKES_PLAYER_STATE_PAUSED);
        break;
      default:
        break;
    }
  return G_SOURCE_CONTINUE;
}

/* The size to convert frames to: the picture's size on screen, rounded up
 * to FIT_STEP pixels of width, and never more than 1:1. */
static void
fit_size (TakesPlayer *self, int *width, int *height)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  double pw = (double)gtk_widget_get_width (GTK_WIDGET (self->picture)) * scale;
  double ph = (double)gtk_widget_get_height (GTK_WIDGET (self->picture)) * scale;
  double shown_w = self->full_width, shown_h = self->full_height, fit;
  int cols = (int)self->cols, rows = (int)self->rows, cell_w, cell_h;

  *width = self->full_width;
  *height = self->full_height;
  if (!self->zoom_fit || pw <= 0 || ph <= 0 || self->full_width <= 0 || self->full_height <= 0)
    return;
  /* A view of one cell shows a cell as large as the whole grid would be. */
  if (takes_player_paintable_get_view (self->paintable) != TAKES_PLAYER_VIEW_GRID)
    {
      shown_w /= cols;
      shown_h /= rows;
    }
  fit = MIN (pw / shown_w, ph / shown_h);
  if (fit >= 1.0)
    return;
  cell_w = (int)ceil (self->full_width * fit / cols / FIT_STEP) * FIT_STEP;
  if (cell_w * cols >= self->full_width)
    return;
  cell_h = (int)lround ((double)cell_w * self->full_height / self->full_width);
  *width = cell_w * cols;
  *height = MAX (2, cell_h - cell_h % 2) * rows;
}

static gboolean
apply_fit_cb (gpointer data)
{
  TakesPlayer *self = data;
  int width, height;

  self->fit_idle = 0;
  if (self->pipeline == NULL)
    return G_SOURCE_REMOVE;
  fit_size (self, &width, &height);
  if (width == self->out_width && height == self->out_height)
    return G_SOURCE_REMOVE;
  self->out_width = width;
  self->out_height = height;
  if (self->compare != NULL)
    takes_compare_bin_set_cell_size (self->compare, width / (int)self->cols, height / (int)self->rows);
  for (guint i = 0; i < self->size_filters->len; i++)
    {
      g_autoptr (GstCaps) caps = output_caps (width, height, 0, 0);

      g_object_set (g_ptr_array_index (self->size_filters, i), "caps", caps, NULL);
    }
  /* Playing, the next frame comes at the new size; paused, the frame on
   * screen is made again. */
  if (self->state == TAKES_PLAYER_STATE_PAUSED && self->layout != LAYOUT_SEQUENCE)
    seek_to_frame (self, current_frame (self));
  return G_SOURCE_REMOVE;
}

static void
schedule_fit (TakesPlayer *self)
{
  if (self->fit_idle == 0 && self->pipeline != NULL)
    self->fit_idle = g_idle_add (apply_fit_cb, self);
}

static void
start_pipeline (TakesPlayer *self)
{
  g_autoptr (GError) error = NULL;
  TakesMediaInfo *first = self->infos[0];

  self->fps_n = first->fps_n > 0 ? first->fps_n : 24;
  self->fps_d = first->fps_n > 0 ? MAX (first->fps_d, 1) : 1;
  self->n_frames = 0;
  for (guint i = 0; i < self->n_infos; i++)
    {
      if (self->layout == LAYOUT_SEQUENCE)
        self->n_frames += self->infos[i]->n_frames;
      else if (i == 0)
        self->n_frames = first->n_frames;
    }
  self->cols = self->layout == LAYOUT_GRID ? 2 : 1;
  self->rows = self->layout == LAYOUT_GRID && self->n_infos > 2 ? 2 : 1;
  self->frame = 0;
  self->sequence_index = 0;
  self->full_width = first->width;
  self->full_height = first->height;
  if (self->layout == LAYOUT_GRID)
    {
      if (!plan_grid (self, &error))
        {
          show_error (self, g_steal_pointer (&error));
          return;
        }
      /* Frames count at the common rate, over the first take's length. */
      self->n_frames = (guint)MAX (1, llround ((double)first->n_frames * self->plan->fps_n * self->fps_d
                                               / ((double)self->plan->fps_d * self->fps_n)));
      self->fps_n = self->plan->fps_n;
      self->fps_d = self->plan->fps_d;
      self->full_width = self->plan->width;
      self->full_height = self->plan->height;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FRAMES]);
  takes_player_paintable_set_size (self->paintable, self->full_width, self->full_height);
  fit_size (self, &self->out_width, &self->out_height);

  if (!build_pipeline (self, &error))
    {
      show_error (self, g_steal_pointer (&error));
      return;
    }
  self->bus = gst_element_get_bus (self->pipeline);
  gst_bus_set_sync_handler (self->bus, bus_sync_cb, mailbox_ref (self->mailbox), mailbox_unref);
  self->bus_watch = gst_bus_add_watch (self->bus, bus_cb, self);
  self->busy = TRUE;
  if (gst_element_set_state (self->pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    {
      g_autofree char *name = g_filename_display_name (self->paths[0]);

      /* An error message on the bus usually says more; this is the fallback. */
      g_set_error (&error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("“%s” could not be opened for playing. Check the GStreamer installation."), name);
      show_error (self, g_steal_pointer (&error));
    }
}

/* Probing, in a worker thread */

typedef struct
{
  char **paths;
  TakesMediaInfo **infos;
  guint n;
} ProbeData;

static void
probe_data_free (gpointer data)
{
  ProbeData *probe = data;

  for (guint i = 0; i < probe->n; i++)
    takes_media_info_free (probe->infos[i]);
  g_free (probe->infos);
  g_strfreev (probe->paths);
  g_free (probe);
}

static void
probe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ProbeData *probe = task_data;

  for (guint i = 0; i < probe->n; i++)
    {
      GError *error = NULL;

      if (g_cancellable_is_cancelled (cancellable))
        {
          g_task_return_error_if_cancelled (task);
          return;
        }
      probe->infos[i] = takes_media_probe (probe->paths[i], &error);
      if (probe->infos[i] == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      if (probe->infos[i]->width <= 0 || probe->infos[i]->height <= 0)
        {
          g_autofree char *name = g_filename_display_name (probe->paths[i]);

          g_task_return_new_error (task, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                                   _ ("“%s” has no video stream. Choose an MP4 or WebM video file."), name);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

/* The task holds only a weak reference, so a player can go away while a
 * probe is still running. */
static void
probe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr (TakesPlayer) self = g_weak_ref_get (weak);
  ProbeData *probe = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  g_weak_ref_clear (weak);
  g_free (weak);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (self != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error);
      else
        g_error_free (error);
      return;
    }
  if (self == NULL)
    return;
  self->infos = g_steal_pointer (&probe->infos);
  self->n_infos = probe->n;
  probe->n = 0;
  start_pipeline (self);
}

static void
clear_infos (TakesPlayer *self)
{
  for (guint i = 0; i < self->n_infos; i++)
    takes_media_info_free (self->infos[i]);
  g_clear_pointer (&self->infos, g_free);
  self->n_infos = 0;
}

static void
open_paths (TakesPlayer *self, const char *const *paths, Layout layout)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  ProbeData *probe;
  GWeakRef *weak;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  stop_pipeline (self);
  clear_infos (self);
  g_clear_pointer (&self->paths, g_strfreev);
  g_clear_error (&self->error);
  takes_player_paintable_set_frame (self->paintable, NULL, 0, 0, 0, 1, 1);
  self->want_playing = FALSE;
  self->at_end = FALSE;
  self->has_range = FALSE;
  self->n_frames = 0;
  self->frame = 0;

  if (paths == NULL || paths[0] == NULL)
    {
      set_state (self, TAKES_PLAYER_STATE_EMPTY);
      update_controls (self);
      return;
    }
  self->paths = g_strdupv ((char **)paths);
  self->layout = layout;
  if (layout != LAYOUT_SEQUENCE)
    self->layout = g_strv_length (self->paths) > 1 ? LAYOUT_GRID : LAYOUT_SINGLE;
  /* Concat only goes forwards. */
  if (self->layout == LAYOUT_SEQUENCE && self->rate < 0)
    self->rate = -self->rate;
  set_state (self, TAKES_PLAYER_STATE_LOADING);
  update_controls (self);

  if (!takes_media_ensure_init (&error))
    {
      show_error (self, g_steal_pointer (&error));
      return;
    }
  self->cancellable = g_cancellable_new ();
  probe = g_new0 (ProbeData, 1);
  probe->paths = g_strdupv (self->paths);
  probe->n = g_strv_length (probe->paths);
  probe->infos = g_new0 (TakesMediaInfo *, probe->n);
  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  task = g_task_new (NULL, self->cancellable, probe_done_cb, weak);
  g_task_set_source_tag (task, open_paths);
  g_task_set_task_data (task, probe, probe_data_free);
  g_task_run_in_thread (task, probe_thread);
}

/* Controls */

static void
update_controls (TakesPlayer *self)
{
  gboolean ready = self->state == TAKES_PLAYER_STATE_PAUSED || self->state == TAKES_PLAYER_STATE_PLAYING;
  g_autofree char *timecode = takes_player_format_timecode (self->frame, self->fps_n, self->fps_d);
  g_autofree char *position = NULL;
  double speed = fabs (self->rate);

  gtk_widget_set_visible (self->error_box, self->state == TAKES_PLAYER_STATE_ERROR);
  gtk_widget_set_visible (GTK_WIDGET (self->scroller), self->state != TAKES_PLAYER_STATE_ERROR);
  gtk_widget_set_visible (self->loading_spinner, self->state == TAKES_PLAYER_STATE_LOADING);
  gtk_widget_set_sensitive (self->controls, ready);

  gtk_button_set_icon_name (self->play_button, self->state == TAKES_PLAYER_STATE_PLAYING
                                                   ? "media-playback-pause-symbolic"
                                                   : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button),
                               self->state == TAKES_PLAYER_STATE_PLAYING ? _ ("Pause") : _ ("Play"));

  gtk_adjustment_configure (self->scrub_adjustment, self->frame, 0, MAX (last_frame (self), 1), 1, 10, 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->scrub), ready && self->layout != LAYOUT_SEQUENCE);
  /* TRANSLATORS: frame number, frame count and timecode in the player */
  position = g_strdup_printf (_ ("%u / %u  %s"), self->frame, self->n_frames, timecode);
  gtk_label_set_text (self->position_label, position);

  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    if (fabs (speeds[i] - speed) < 1e-6 && gtk_drop_down_get_selected (self->speed_dropdown) != i)
      gtk_drop_down_set_selected (self->speed_dropdown, i);
  if (gtk_toggle_button_get_active (self->loop_button) != self->loop)
    gtk_toggle_button_set_active (self->loop_button, self->loop);
  if (gtk_toggle_button_get_active (self->zoom_button) != self->zoom_fit)
    gtk_toggle_button_set_active (self->zoom_button, self->zoom_fit);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.play-pause", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.step-forward",
                                 ready && self->layout != LAYOUT_SEQUENCE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.step-back",
                                 ready && self->layout != LAYOUT_SEQUENCE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.mark-in",
                                 ready && self->layout != LAYOUT_SEQUENCE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "player.mark-out",
                                 ready && self->layout != LAYOUT_SEQUENCE);
}

static gboolean
scrub_change_value_cb (GtkRange *range, GtkScrollType scroll, double value, TakesPlayer *self)
{
  takes_player_seek_frame (self, (guint)CLAMP (floor (value + 0.5), 0, last_frame (self)));
  return TRUE;
}

static void
speed_selected_cb (GtkDropDown *dropdown, GParamSpec *pspec, TakesPlayer *self)
{
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (selected < G_N_ELEMENTS (speeds))
    takes_player_set_rate (self, self->rate < 0 ? -speeds[selected] : speeds[selected]);
}

static void
loop_toggled_cb (GtkToggleButton *button, TakesPlayer *self)
{
  takes_player_set_loop (self, gtk_toggle_button_get_active (button));
}

static void
zoom_toggled_cb (GtkToggleButton *button, TakesPlayer *self)
{
  takes_player_set_zoom_fit (self, gtk_toggle_button_get_active (button));
}

static void
action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesPlayer *self = TAKES_PLAYER (widget);

  if (g_str_equal (action_name, "player.play-pause"))
    takes_player_toggle_play (self);
  else if (g_str_equal (action_name, "player.step-forward"))
    takes_player_step (self, 1);
  else if (g_str_equal (action_name, "player.step-back"))
    takes_player_step (self, -1);
  else if (g_str_equal (action_name, "player.shuttle-back"))
    takes_player_shuttle (self, -1);
  else if (g_str_equal (action_name, "player.shuttle-stop"))
    takes_player_shuttle (self, 0);
  else if (g_str_equal (action_name, "player.shuttle-forward"))
    takes_player_shuttle (self, 1);
  else if (g_str_equal (action_name, "player.mark-in"))
    takes_player_set_loop_range (self, self->frame,
                                 self->has_range ? MAX (self->range_out, self->frame) : last_frame (self));
  else if (g_str_equal (action_name, "player.mark-out"))
    takes_player_set_loop_range (self, self->has_range ? MIN (self->range_in, self->frame) : 0, self->frame);
  else if (g_str_equal (action_name, "player.clear-range"))
    takes_player_clear_loop_range (self);
}

/* GtkWidget */

static void
takes_player_measure (GtkWidget *widget,
                      GtkOrientation orientation,
                      int for_size,
                      int *minimum,
                      int *natural,
                      int *minimum_baseline,
                      int *natural_baseline)
{
  gtk_widget_measure (TAKES_PLAYER (widget)->box, orientation, for_size, minimum, natural, minimum_baseline,
                      natural_baseline);
}

/* Allocated here rather than by a layout manager, so that a new size reaches
 * the pipeline. */
static void
takes_player_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  TakesPlayer *self = TAKES_PLAYER (widget);

  gtk_widget_allocate (self->box, width, height, baseline, NULL);
  schedule_fit (self);
}

/* GObject */

static void
takes_player_dispose (GObject *object)
{
  TakesPlayer *self = TAKES_PLAYER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->fit_idle, g_source_remove);
  stop_pipeline (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_PLAYER);
  G_OBJECT_CLASS (takes_player_parent_class)->dispose (object);
}

static void
takes_player_finalize (GObject *object)
{
  TakesPlayer *self = TAKES_PLAYER (object);

  clear_infos (self);
  g_strfreev (self->paths);
  g_clear_error (&self->error);
  g_clear_object (&self->paintable);
  g_clear_pointer (&self->size_filters, g_ptr_array_unref);
  G_OBJECT_CLASS (takes_player_parent_class)->finalize (object);
}

static void
takes_player_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesPlayer *self = TAKES_PLAYER (object);

  switch (prop_id)
    {
      case PROP_STATE:
        g_value_set_enum (value, self->state);
        break;
      case PROP_FRAME:
        g_value_set_uint (value, self->frame);
        break;
      case PROP_N_FRAMES:
        g_value_set_uint (value, self->n_frames);
        break;
      case PROP_RATE:
        g_value_set_double (value, self->rate);
        break;
      case PROP_LOOP:
        g_value_set_boolean (value, self->loop);
        break;
      case PROP_ZOOM_FIT:
        g_value_set_boolean (value, self->zoom_fit);
        break;
      case PROP_VIEW:
        g_value_set_enum (value, takes_player_get_view (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_player_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesPlayer *self = TAKES_PLAYER (object);

  switch (prop_id)
    {
      case PROP_RATE:
        takes_player_set_rate (self, g_value_get_double (value));
        break;
      case PROP_LOOP:
        takes_player_set_loop (self, g_value_get_boolean (value));
        break;
      case PROP_ZOOM_FIT:
        takes_player_set_zoom_fit (self, g_value_get_boolean (value));
        break;
      case PROP_VIEW:
        takes_player_set_view (self, g_value_get_enum (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_player_class_init (TakesPlayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const struct
  {
    const char *name;
    guint key;
  } bindings[] = {
    { "player.play-pause", GDK_KEY_space },   { "player.shuttle-back", GDK_KEY_j },
    { "player.shuttle-stop", GDK_KEY_k },     { "player.shuttle-forward", GDK_KEY_l },
    { "player.step-back", GDK_KEY_comma },    { "player.step-forward", GDK_KEY_period },
    { "player.step-back", GDK_KEY_Left },     { "player.step-forward", GDK_KEY_Right },
    { "player.mark-in", GDK_KEY_i },          { "player.mark-out", GDK_KEY_o },
    { "player.clear-range", GDK_KEY_Escape },
  };

  object_class->dispose = takes_player_dispose;
  object_class->finalize = takes_player_finalize;
  object_class->get_property = takes_player_get_property;
  object_class->set_property = takes_player_set_property;
  widget_class->measure = takes_player_measure;
  widget_class->size_allocate = takes_player_size_allocate;

  /* Emitted for every frame put on screen while playing (not for a paused
   * frame): its number, its running time on the pipeline clock (µs since
   * play began or the latest seek), and how many microseconds after that
   * time it reached the sink. */
  signals[FRAME_SHOWN] = g_signal_new ("frame-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                       NULL, NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_INT64, G_TYPE_INT64);

  properties[PROP_STATE]
      = g_param_spec_enum ("state", NULL, NULL, TAKES_TYPE_PLAYER_STATE, TAKES_PLAYER_STATE_EMPTY,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRAME]
      = g_param_spec_uint ("frame", NULL, NULL, 0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_FRAMES] = g_param_spec_uint ("n-frames", NULL, NULL, 0, G_MAXUINT, 0,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_RATE]
      = g_param_spec_double ("rate", NULL, NULL, -TAKES_PLAYER_MAX_RATE, TAKES_PLAYER_MAX_RATE, 1.0,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LOOP] = g_param_spec_boolean (
      "loop", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_ZOOM_FIT] = g_param_spec_boolean (
      "zoom-fit", NULL, NULL, TRUE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_VIEW]
      = g_param_spec_enum ("view", NULL, NULL, TAKES_TYPE_PLAYER_VIEW, TAKES_PLAYER_VIEW_GRID,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/takes/Takes/ui/takes-player.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, box);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, scroller);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, picture);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, error_box);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, error_title);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, error_label);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, controls);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, play_button);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, scrub);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, scrub_adjustment);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, position_label);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, loop_button);
  gtk_widget_class_bind_template_child (widget_class, TakesPlayer, zoom_button);
  gtk_widget_class_bind_template_callback (widget_class, scrub_change_value_cb);
  gtk_widget_class_bind_template_callback (widget_class, speed_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, loop_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, zoom_toggled_cb);

  for (guint i = 0; i < G_N_ELEMENTS (bindings); i++)
    {
      gboolean seen = FALSE;

      for (guint j = 0; j < i; j++)
        seen = seen || g_str_equal (bindings[j].name, bindings[i].name);
      if (!seen)
        gtk_widget_class_install_action (widget_class, bindings[i].name, NULL, action_cb);
      gtk_widget_class_add_binding_action (widget_class, bindings[i].key, 0, bindings[i].name, NULL);
    }

  gtk_widget_class_set_css_name (widget_class, "takes-player");
}

static void
takes_player_init (TakesPlayer *self)
{
  self->rate = 1.0;
  self->zoom_fit = TRUE;
  self->fps_n = 24;
  self->fps_d = 1;
  self->cols = self->rows = 1;
  self->paintable = takes_player_paintable_new ();
  self->size_filters = g_ptr_array_new_with_free_func (gst_object_unref);

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (self->paintable));
  takes_player_set_zoom_fit (self, TRUE);
  update_controls (self);
}

/* Public API */

GtkWidget *
takes_player_new (void)
{
  return g_object_new (TAKES_TYPE_PLAYER, NULL);
}

void
takes_player_set_path (TakesPlayer *self, const char *path)
{
  const char *paths[] = { path, NULL };

  g_return_if_fail (TAKES_IS_PLAYER (self));
  open_paths (self, paths, LAYOUT_SINGLE);
}

const char *
takes_player_get_path (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), NULL);
  return self->paths != NULL ? self->paths[0] : NULL;
}

void
takes_player_set_paths (TakesPlayer *self, const char *const *paths)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  g_return_if_fail (paths == NULL || g_strv_length ((char **)paths) <= TAKES_PLAYER_MAX_SOURCES);
  open_paths (self, paths, LAYOUT_GRID);
}

void
takes_player_set_sequence (TakesPlayer *self, const char *const *paths)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  open_paths (self, paths, LAYOUT_SEQUENCE);
}

guint
takes_player_get_n_sources (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  return self->paths != NULL ? g_strv_length (self->paths) : 0;
}

gboolean
takes_player_get_source_info (
    TakesPlayer *self, guint index, int *width, int *height, int *fps_n, int *fps_d, guint *n_frames)
{
  TakesMediaInfo *info;

  g_return_val_if_fail (TAKES_IS_PLAYER (self), FALSE);
  if (index >= self->n_infos)
    return FALSE;
  info = self->infos[index];
  if (width != NULL)
    *width = info->width;
  if (height != NULL)
    *height = info->height;
  if (fps_n != NULL)
    *fps_n = info->fps_n;
  if (fps_d != NULL)
    *fps_d = info->fps_d;
  if (n_frames != NULL)
    *n_frames = info->n_frames;
  return TRUE;
}

guint
takes_player_get_sequence_index (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  return self->sequence_index;
}

TakesPlayerState
takes_player_get_state (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), TAKES_PLAYER_STATE_EMPTY);
  return self->state;
}

const GError *
takes_player_get_error (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), NULL);
  return self->error;
}

void
takes_player_play (TakesPlayer *self)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  self->want_playing = TRUE;
  if (self->state != TAKES_PLAYER_STATE_PAUSED)
    return;
  /* Play at the end of the take starts it again, as in every player. */
  if (self->at_end || (self->rate > 0 && current_frame (self) >= last_frame (self) && !self->loop))
    seek_to_frame (self, self->rate > 0 ? first_playable (self) : last_playable (self));
  gst_element_set_state (self->pipeline, GST_STATE_PLAYING);
  set_state (self, TAKES_PLAYER_STATE_PLAYING);
}

void
takes_player_pause (TakesPlayer *self)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  self->want_playing = FALSE;
  if (self->state != TAKES_PLAYER_STATE_PLAYING)
    return;
  gst_element_set_state (self->pipeline, GST_STATE_PAUSED);
  set_state (self, TAKES_PLAYER_STATE_PAUSED);
}

void
takes_player_toggle_play (TakesPlayer *self)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  if (self->state == TAKES_PLAYER_STATE_PLAYING)
    takes_player_pause (self);
  else
    takes_player_play (self);
}

guint
takes_player_get_n_frames (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  return self->n_frames;
}

void
takes_player_get_framerate (TakesPlayer *self, int *fps_n, int *fps_d)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  if (fps_n != NULL)
    *fps_n = self->fps_n;
  if (fps_d != NULL)
    *fps_d = self->fps_d;
}

guint
takes_player_get_frame (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  return self->frame;
}

void
takes_player_seek_frame (TakesPlayer *self, guint frame)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  if (self->layout == LAYOUT_SEQUENCE)
    return;
  seek_to_frame (self, frame);
}

gboolean
takes_player_is_busy (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), FALSE);
  return self->state == TAKES_PLAYER_STATE_LOADING || self->busy || self->have_pending;
}

void
takes_player_step (TakesPlayer *self, int delta)
{
  guint first, last, target;
  gint64 wanted;

  g_return_if_fail (TAKES_IS_PLAYER (self));
  if (self->layout == LAYOUT_SEQUENCE || self->n_frames == 0)
    return;
  takes_player_pause (self);
  first = first_playable (self);
  last = last_playable (self);
  /* Steps given during a seek count from where that seek goes. */
  wanted = (gint64)current_frame (self) + delta;
  target = (guint)CLAMP (wanted, (gint64)first, (gint64)last);
  seek_to_frame (self, target);
}

void
takes_player_set_rate (TakesPlayer *self, double rate)
{
  double speed;

  g_return_if_fail (TAKES_IS_PLAYER (self));
  speed = CLAMP (fabs (rate), TAKES_PLAYER_MIN_RATE, TAKES_PLAYER_MAX_RATE);
  rate = rate < 0 && self->layout != LAYOUT_SEQUENCE ? -speed : speed;
  if (self->rate == rate)
    return;
  self->rate = rate;
  if (self->state == TAKES_PLAYER_STATE_PAUSED || self->state == TAKES_PLAYER_STATE_PLAYING)
    seek_to_frame (self, current_frame (self));
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATE]);
}

double
takes_player_get_rate (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 1.0);
  return self->rate;
}

void
takes_player_shuttle (TakesPlayer *self, int direction)
{
  double rate;

  g_return_if_fail (TAKES_IS_PLAYER (self));
  if (direction == 0)
    {
      takes_player_pause (self);
      takes_player_set_rate (self, 1.0);
      return;
    }
  if (self->state == TAKES_PLAYER_STATE_PLAYING && (self->rate > 0) == (direction > 0))
    rate = MIN (fabs (self->rate) * 2.0, TAKES_PLAYER_MAX_RATE) * direction;
  else
    rate = direction;
  /* Concat only goes forwards: J slows a sequence down instead. */
  if (direction < 0 && self->layout == LAYOUT_SEQUENCE)
    rate = self->state == TAKES_PLAYER_STATE_PLAYING ? MAX (fabs (self->rate) / 2.0, TAKES_PLAYER_MIN_RATE)
                                                     : TAKES_PLAYER_MIN_RATE;
  takes_player_set_rate (self, rate);
  takes_player_play (self);
}

void
takes_player_set_loop (TakesPlayer *self, gboolean loop)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  loop = !!loop;
  if (self->loop == loop)
    return;
  self->loop = loop;
  if (self->state == TAKES_PLAYER_STATE_PAUSED || self->state == TAKES_PLAYER_STATE_PLAYING)
    seek_to_frame (self, current_frame (self));
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOP]);
}

gboolean
takes_player_get_loop (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), FALSE);
  return self->loop;
}

void
takes_player_set_loop_range (TakesPlayer *self, guint in_frame, guint out_frame)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  g_return_if_fail (in_frame <= out_frame);
  if (self->n_frames > 0)
    {
      out_frame = MIN (out_frame, last_frame (self));
      in_frame = MIN (in_frame, out_frame);
    }
  self->has_range = TRUE;
  self->range_in = in_frame;
  self->range_out = out_frame;
  if (self->loop && (self->state == TAKES_PLAYER_STATE_PAUSED || self->state == TAKES_PLAYER_STATE_PLAYING))
    seek_to_frame (self, current_frame (self));
}

void
takes_player_clear_loop_range (TakesPlayer *self)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  if (!self->has_range)
    return;
  self->has_range = FALSE;
  if (self->loop && (self->state == TAKES_PLAYER_STATE_PAUSED || self->state == TAKES_PLAYER_STATE_PLAYING))
    seek_to_frame (self, current_frame (self));
}

gboolean
takes_player_get_loop_range (TakesPlayer *self, guint *in_frame, guint *out_frame)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), FALSE);
  if (in_frame != NULL)
    *in_frame = self->has_range ? self->range_in : 0;
  if (out_frame != NULL)
    *out_frame = self->has_range ? self->range_out : last_frame (self);
  return self->has_range;
}

void
takes_player_set_zoom_fit (TakesPlayer *self, gboolean fit)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  fit = !!fit;
  gtk_picture_set_can_shrink (self->picture, fit);
  gtk_scrolled_window_set_policy (self->scroller, fit ? GTK_POLICY_NEVER : GTK_POLICY_AUTOMATIC,
                                  fit ? GTK_POLICY_NEVER : GTK_POLICY_AUTOMATIC);
  if (self->zoom_fit == fit)
    return;
  self->zoom_fit = fit;
  schedule_fit (self);
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM_FIT]);
}

gboolean
takes_player_get_zoom_fit (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), TRUE);
  return self->zoom_fit;
}

gboolean
takes_player_get_picture_fraction (TakesPlayer *self, double x, double y, double *fx, double *fy)
{
  GdkPaintable *paintable = GDK_PAINTABLE (self->paintable);
  double iw, ih, pw, ph, scale, px, py;

  g_return_val_if_fail (TAKES_IS_PLAYER (self), FALSE);
  iw = gdk_paintable_get_intrinsic_width (paintable);
  ih = gdk_paintable_get_intrinsic_height (paintable);
  pw = gtk_widget_get_width (GTK_WIDGET (self->picture));
  ph = gtk_widget_get_height (GTK_WIDGET (self->picture));
  if (iw <= 0 || ih <= 0 || pw <= 0 || ph <= 0
      || !gtk_widget_translate_coordinates (GTK_WIDGET (self), GTK_WIDGET (self->picture), x, y, &px, &py))
    return FALSE;
  /* GtkPicture centres the paintable, scaled to fit and keeping its shape. */
  scale = MIN (pw / iw, ph / ih);
  if (fx != NULL)
    *fx = (px - (pw - iw * scale) / 2.0) / (iw * scale);
  if (fy != NULL)
    *fy = (py - (ph - ih * scale) / 2.0) / (ih * scale);
  return TRUE;
}

GdkPaintable *
takes_player_get_paintable (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), NULL);
  return GDK_PAINTABLE (self->paintable);
}

void
takes_player_set_view (TakesPlayer *self, TakesPlayerView view)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  if (takes_player_paintable_get_view (self->paintable) == view)
    return;
  takes_player_paintable_set_view (self->paintable, view);
  schedule_fit (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
}

TakesPlayerView
takes_player_get_view (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), TAKES_PLAYER_VIEW_GRID);
  return takes_player_paintable_get_view (self->paintable);
}

void
takes_player_set_view_source (TakesPlayer *self, guint index)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  takes_player_paintable_set_cell (self->paintable, index);
}

guint
takes_player_get_view_source (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  return takes_player_paintable_get_cell (self->paintable);
}

void
takes_player_set_wipe (TakesPlayer *self, double position, GtkOrientation orientation)
{
  g_return_if_fail (TAKES_IS_PLAYER (self));
  takes_player_paintable_set_wipe (self->paintable, position, orientation);
}

guint64
takes_player_get_dropped_frames (TakesPlayer *self)
{
  guint64 replaced = 0;

  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  if (self->mailbox != NULL)
    {
      g_mutex_lock (&self->mailbox->lock);
      replaced = self->mailbox->replaced;
      g_mutex_unlock (&self->mailbox->lock);
    }
  return replaced
         + (gtk_widget_get_mapped (GTK_WIDGET (self)) ? takes_player_paintable_get_n_undrawn (self->paintable)
                                                      : 0);
}

guint64
takes_player_get_rendered_frames (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  return self->rendered;
}

guint64
takes_player_get_late_frames (TakesPlayer *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER (self), 0);
  return self->late;
}
