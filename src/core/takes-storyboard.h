/* takes-storyboard.h: a project's storyboard as an animatic and as edit lists.
 *
 * The animatic plays each shot's chosen take back to back, trimmed to its in
 * and out points, scaled and retimed to one size and rate, with an optional
 * slate (shot number and title) burned in. A shot without a usable take (none
 * chosen, the file missing or damaged) becomes black filler of the shot's
 * planned duration with its slate, and a warning names the shot; the rest
 * still exports. The EDL (CMX3600) and the Final Cut Pro 7 XML (xmeml) point at
 * the take files themselves.
 *
 * The exports are synchronous and slow: call them from a worker thread.
 */
#pragma once

#include <glib.h>

#include "takes-store.h"

G_BEGIN_DECLS

#define TAKES_STORYBOARD_ERROR (takes_storyboard_error_quark ())

typedef enum
{
  TAKES_STORYBOARD_ERROR_EMPTY,        /* no shots to export */
  TAKES_STORYBOARD_ERROR_NO_TAKE,      /* a shot has no chosen take (a warning) */
  TAKES_STORYBOARD_ERROR_MISSING_TAKE, /* the chosen take's file is missing or unreadable (a warning) */
  TAKES_STORYBOARD_ERROR_BAD_TAKE,     /* the chosen take's file is not a readable video (a warning) */
  TAKES_STORYBOARD_ERROR_INVALID,      /* bad options: size, rate */
  TAKES_STORYBOARD_ERROR_WRITE,        /* the output could not be written */
} TakesStoryboardError;

GQuark takes_storyboard_error_quark (void);

/* The planned length of a shot that has neither a duration nor a usable take. */
#define TAKES_STORYBOARD_DEFAULT_SHOT_US (2 * G_USEC_PER_SEC)

typedef struct
{
  guint number;   /* 1, 2, … in storyboard order */
  gint64 shot_id; /* 0 when not from a store */
  char *title;
  gint64 duration;  /* planned µs; 0 when not planned */
  gint64 take_id;   /* 0 when none is chosen */
  char *media_path; /* absolute path of the chosen take's video, or NULL */
  gint64 in_point;  /* µs into the take */
  gint64 out_point; /* µs into the take; 0 is the end */
} TakesStoryboardShot;

TakesStoryboardShot *takes_storyboard_shot_new (guint number, const char *title, const char *media_path);
void takes_storyboard_shot_free (TakesStoryboardShot *shot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesStoryboardShot, takes_storyboard_shot_free)

/* TakesStoryboardShot for every shot of the project, in order. */
GPtrArray *takes_storyboard_load (TakesStore *store, gint64 project_id, GError **error);

typedef struct
{
  int width, height; /* the animatic's size; 0 takes the first usable take's */
  int fps_n, fps_d;  /* its rate; 0 takes the first usable take's */
  gboolean slate;    /* burn in the shot number and title */
  const char *title; /* the sequence name in the EDL and the XML */
} TakesStoryboardOptions;

void takes_storyboard_options_init (TakesStoryboardOptions *options);

/* Each export returns FALSE with error only when nothing could be written;
 * problems with single shots are added to warnings (GError, one per shot, in
 * the TAKES_STORYBOARD_ERROR domain) when it is not NULL. */
gboolean takes_storyboard_export_mp4 (GPtrArray *shots,
                                      const TakesStoryboardOptions *options,
                                      const char *path,
                                      GPtrArray *warnings,
                                      GError **error);
gboolean takes_storyboard_export_edl (GPtrArray *shots,
                                      const TakesStoryboardOptions *options,
                                      const char *path,
                                      GPtrArray *warnings,
                                      GError **error);
gboolean takes_storyboard_export_fcpxml (GPtrArray *shots,
                                         const TakesStoryboardOptions *options,
                                         const char *path,
                                         GPtrArray *warnings,
                                         GError **error);

G_END_DECLS
