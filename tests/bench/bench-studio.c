/* bench-studio.c: the studio's cold start and gallery scrolling.
 *
 * Cold start: from opening the library to the first frame the window draws,
 * with a library of 100,000 takes (target: under 400 ms), and, as the peer
 * measured in the same run, with an empty library: the ratio says what the
 * size of the library costs at start. Each is the median of COLD_ROUNDS
 * starts taken in turns. Scrolling: the gallery scrolled from the top to the
 * end of 10,000 takes in SCROLL_FRAMES equal steps, one per frame; a frame
 * that comes later than 1.5 frame intervals after the one before counts as
 * dropped, and for the dropped gaps the main thread's own CPU time and its
 * wait for a core are printed, which tell the studio's work from a busy
 * machine's.
 *
 * Runs under Xvfb (xvfb-run -a) with the cairo renderer, like the tests.
 * TAKES_BENCH_TAKES overrides the library size for quick runs;
 * TAKES_BENCH_SCREENSHOTS names a folder for PNGs of the window while it
 * scrolls (the first frame and the middle one).
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../app/app-test-util.h"
#include "takes-window.h"

#define TARGET_START_MS 400.0
/* Cold starts of each library, taken in turns. */
#define COLD_ROUNDS 5
#define SCROLL_TAKES 10000
/* The whole list in about ten seconds at 60 Hz: a quick flick, several rows
 * of new cards every frame. */
#define SCROLL_FRAMES 600
#define FIRST_FRAMES 5

static char *root;

static const char *const subjects[] = {
  "a red fox running through snow", "an astronaut floating in space", "a paper boat drifting on a river",
  "一只熊猫在竹林里吃竹子",         "a street musician in the rain",  "热气球飞过山谷",
};

/* What the optimizer adds to a prompt: real prompts run to a few hundred
 * characters, and a card shows only their start. */
static const char *const details[] = {
  "medium shot, slow dolly in, golden hour light, 35mm lens, shallow depth of field, warm colour grade, "
  "rule of thirds, gentle wind moving the leaves, cinematic, high detail",
  "中景，缓慢推镜，黄金时段光线，35毫米镜头，浅景深，暖色调，三分法构图，微风吹动树叶，电影感，细节丰富",
};

static TakesStore *
make_library (const char *name, guint n)
{
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autoptr (GError) error = NULL;
  TakesStore *store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  const guint batch = 5000;

  g_assert_no_error (error);
  for (guint start = 0; start < n; start += batch)
    {
      g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = start; i < MIN (n, start + batch); i++)
        {
          g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
          g_autofree char *prompt
              = g_strdup_printf ("%s, %s, variant %u", subjects[i % G_N_ELEMENTS (subjects)],
                                 details[i % G_N_ELEMENTS (details)], i);
          TakesTake *take;

          takes_recipe_set_prompt (recipe, prompt);
          takes_recipe_set_seed (recipe, i);
          take = takes_take_new (recipe);
          takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
          g_ptr_array_add (takes, take);
        }
      if (!takes_store_add_takes (store, takes, &error))
        g_error ("%s", error->message);
    }
  return store;
}

static double
thread_cpu_ms (void)
{
  struct timespec now;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static void
after_paint_cb (GdkFrameClock *clock, gpointer user_data)
{
  gboolean *drawn = user_data;

  *drawn = TRUE;
}

/* Milliseconds from opening the library in @dir to the window's first
 * frame; @cpu_ms_out gets the main thread's own CPU time in that span. */
static double
cold_start (const char *name, TakesWindow **window_out, double *cpu_ms_out)
{
  double cpu_start = thread_cpu_ms ();
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  gint64 start = g_get_monotonic_time ();
  TakesWindow *window;
  gboolean drawn = FALSE;
  double ms;

  store = takes_store_open (dir, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &error);
  g_assert_no_error (error);
  window = takes_window_new (NULL, store, NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  /* Presenting realizes the window, so it has its frame clock; the first
   * frame is on screen once that clock has painted. */
  {
    GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
    gulong id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &drawn);

    while (!drawn)
      g_main_context_iteration (NULL, TRUE);
    ms = (g_get_monotonic_time () - start) / 1000.0;
    g_signal_handler_disconnect (clock, id);
  }
  if (cpu_ms_out != NULL)
    *cpu_ms_out = thread_cpu_ms () - cpu_start;
  *window_out = window;
  return ms;
}

static GtkWidget *
find_descendant (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A window draws more frames of its own after its first one: under Xvfb
 * about 150 ms later it lays out and paints the whole window again
 * (15 to 25 ms of main-thread CPU), whether anything scrolls or not. A
 * person's first scroll comes later than that, so the scroll starts once
 * the window has drawn nothing for SETTLE_QUIET_MS; the frames it drew
 * until then are counted and printed, not hidden. */
#define SETTLE_QUIET_MS 500
#define SETTLE_MAX_MS 5000

typedef struct
{
  gint64 last_frame;
  double frame_start;
  guint frames;
  double worst;
  double total;
} Settle;

/* The calling thread's time spent waiting on a run queue for a core
 * (Linux's schedstat), in milliseconds; 0 where it cannot be read. */
static double
thread_run_delay_ms (void)
{
  g_autofree char *text = NULL;
  unsigned long long run_ns = 0, wait_ns = 0;

  if (!g_file_get_contents ("/proc/thread-self/schedstat", &text, NULL, NULL)
      || sscanf (text, "%llu %llu", &run_ns, &wait_ns) != 2)
    return 0.0;
  return wait_ns / 1e6;
}

/* Time the machine's virtual CPUs have been held back by the host so far,
 * summed over the CPUs ("steal" in /proc/stat), in milliseconds; 0 where it
 * cannot be read or the machine is not virtual. */
static double
steal_ms (void)
{
  g_autofree char *text = NULL;
  unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;

  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL)
      || sscanf (text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait,
                 &irq, &softirq, &steal)
             != 8)
    return 0.0;
  return (double)steal * 1000.0 / (double)sysconf (_SC_CLK_TCK);
}

/* CPU seconds used so far by the processes named Xvfb (the X server the
 * bench draws to, under xvfb-run), or a negative value when there is none. */
static double
x_server_cpu_s (void)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  double total = -1.0;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", name, "stat", NULL);
      g_autofree char *text = NULL;
      const char *after;
      unsigned long utime, stime;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &text, NULL, NULL)
          || strstr (text, "(Xvfb)") == NULL || (after = strrchr (text, ')')) == NULL
          || sscanf (after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        continue;
      total = MAX (total, 0.0) + (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
    }
  return total;
}

static void
settle_before_paint_cb (GdkFrameClock *clock, Settle *settle)
{
  settle->frame_start = thread_cpu_ms ();
}

static void
settle_after_paint_cb (GdkFrameClock *clock, Settle *settle)
{
  double ms = thread_cpu_ms () - settle->frame_start;

  settle->frames++;
  settle->total += ms;
  settle->worst = MAX (settle->worst, ms);
  settle->last_frame = g_get_monotonic_time ();
}

static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
settle_window (GtkWidget *window, Settle *settle)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);
  gint64 start = g_get_monotonic_time ();
  guint wake = g_timeout_add (10, wake_cb, NULL);

  settle->last_frame = start;
  g_signal_connect (clock, "before-paint", G_CALLBACK (settle_before_paint_cb), settle);
  g_signal_connect_after (clock, "after-paint", G_CALLBACK (settle_after_paint_cb), settle);
  while (g_get_monotonic_time () - settle->last_frame < SETTLE_QUIET_MS * 1000
         && g_get_monotonic_time () - start < SETTLE_MAX_MS * 1000)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handlers_disconnect_by_data (clock, settle);
  g_source_remove (wake);
}

/* The grid's children are its cards' item widgets, made by the factory. */
static guint
count_cards (GtkWidget *grid)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (grid); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;
  return n;
}

typedef struct
{
  GtkAdjustment *adjustment;
  gint64 last;
  gint64 interval;
  guint frames;
  guint dropped;
  gint64 worst;
  double step;
  gboolean done;
  /* The main thread's own CPU time in each phase of a frame: what the
   * studio's code costs, apart from waiting for a busy machine's cores. */
  double frame_start;
  double layout_done;
  double layout_total;
  double layout_worst;
  double paint_total;
  double paint_worst;
  guint measured;
  guint over_budget;
  /* The first frames of the scroll, where anything done once (widgets,
   * caches, the window's own late work) would show, and the costliest
   * frame of all. */
  double first_layout[FIRST_FRAMES];
  double first_paint[FIRST_FRAMES];
  guint worst_frame;
  double worst_layout;
  double worst_paint;
  /* Cards on screen after each frame, and those of them still waiting for
   * their page: a scroll that outruns the page reads shows empty cards. */
  GtkWidget *grid;
  guint64 shown;
  guint64 waiting;
  const char *screenshots;
  /* What the main thread did across each dropped frame's gap: ran (its
   * CPU time) or waited for a core (the run queue delay); the rest of the
   * gap it was blocked. */
  double tick_cpu;
  double tick_delay;
  double dropped_gap;
  double dropped_cpu;
  double dropped_delay;
  double tick_steal;
  double dropped_steal;
} Scroll;

static void
before_paint_cb (GdkFrameClock *clock, Scroll *scroll)
{
  scroll->frame_start = thread_cpu_ms ();
}

/* Connected after GTK's own handlers, so the window's layout (binding the
 * cards scrolled into view) and paint (snapshot and render) are done. */
static void
layout_cb (GdkFrameClock *clock, Scroll *scroll)
{
  scroll->layout_done = thread_cpu_ms ();
}

static void
paint_cb (GdkFrameClock *clock, Scroll *scroll)
{
  double now = thread_cpu_ms ();
  double layout = scroll->layout_done - scroll->frame_start;
  double paint = now - scroll->layout_done;

  if (scroll->frame_start == 0 || scroll->done)
    return;
  if (scroll->measured < FIRST_FRAMES)
    {
      scroll->first_layout[scroll->measured] = layout;
      scroll->first_paint[scroll->measured] = paint;
    }
  if (layout + paint > scroll->worst_layout + scroll->worst_paint)
    {
      scroll->worst_frame = scroll->measured;
      scroll->worst_layout = layout;
      scroll->worst_paint = paint;
    }
  scroll->measured++;
  scroll->layout_total += layout;
  scroll->paint_total += paint;
  scroll->layout_worst = MAX (scroll->layout_worst, layout);
  scroll->paint_worst = MAX (scroll->paint_worst, paint);
  if (layout + paint > scroll->interval / 1000.0)
    scroll->over_budget++;
}

static void
screenshot (GtkWidget *widget, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!app_test_render_png (widget, path))
    g_printerr ("Could not write %s\n", path);
}

static void
scroll_after_paint_cb (GdkFrameClock *clock, Scroll *scroll)
{
  int height = gtk_widget_get_height (scroll->grid);

  if (scroll->frame_start == 0 || scroll->done)
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (scroll->grid); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      graphene_rect_t bounds;
      GtkWidget *card = gtk_widget_get_first_child (child);

      if (!gtk_widget_get_child_visible (child) || !gtk_widget_compute_bounds (child, scroll->grid, &bounds)
          || bounds.origin.y + bounds.size.height <= 0 || bounds.origin.y >= height)
        continue;
      scroll->shown++;
      if (card != NULL && gtk_widget_has_css_class (card, "placeholder"))
        scroll->waiting++;
    }
  if (scroll->screenshots != NULL && (scroll->measured == 1 || scroll->measured == SCROLL_FRAMES / 2))
    {
      g_autofree char *name = g_strdup_printf ("scroll-frame-%u.png", scroll->measured);

      screenshot (gtk_widget_get_ancestor (scroll->grid, GTK_TYPE_WINDOW), scroll->screenshots, name);
    }
}

static gboolean
scroll_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  Scroll *scroll = user_data;
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  double value = gtk_adjustment_get_value (scroll->adjustment);
  double end
      = gtk_adjustment_get_upper (scroll->adjustment) - gtk_adjustment_get_page_size (scroll->adjustment);

  double cpu = thread_cpu_ms ();
  double delay = thread_run_delay_ms ();
  double stolen = steal_ms ();

  if (scroll->last != 0)
    {
      gint64 gap = now - scroll->last;

      scroll->frames++;
      scroll->worst = MAX (scroll->worst, gap);
      if (gap > scroll->interval * 3 / 2)
        {
          scroll->dropped++;
          scroll->dropped_gap += gap / 1000.0;
          scroll->dropped_cpu += cpu - scroll->tick_cpu;
          scroll->dropped_delay += delay - scroll->tick_delay;
          scroll->dropped_steal += stolen - scroll->tick_steal;
        }
    }
  scroll->last = now;
  scroll->tick_cpu = cpu;
  scroll->tick_delay = delay;
  scroll->tick_steal = stolen;
  if (value >= end)
    {
      scroll->done = TRUE;
      return G_SOURCE_REMOVE;
    }
  gtk_adjustment_set_value (scroll->adjustment, MIN (value + scroll->step, end));
  return G_SOURCE_CONTINUE;
}

/* The best of a few runs of one page read, in milliseconds. */
static double
time_page (TakesStore *store, const TakesTakeQuery *query, const TakesTakeCursor *after)
{
  double best = G_MAXDOUBLE;

  for (guint run = 0; run < 5; run++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) page = NULL;
      gint64 start = g_get_monotonic_time ();

      page = takes_store_query_takes_after (store, query, after, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (page->len, ==, query->limit);
      best = MIN (best, (g_get_monotonic_time () - start) / 1000.0);
    }
  return best;
}

/* The gallery's page reads deep in the library: OFFSET paging, which reads
 * and skips every row before the page, against keyset paging, which
 * resumes after the last take of the page before (the peer). */
static void
bench_deep_pages (const char *name, guint n)
{
  static const struct
  {
    TakesTakeSort sort;
    const char *label;
  } sorts[] = {
    { TAKES_TAKE_SORT_CREATED, "newest first" },
    { TAKES_TAKE_SORT_UPDATED, "last changed first" },
    { TAKES_TAKE_SORT_RATING, "best rated first" },
  };
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = takes_store_open (dir, TAKES_STORE_OPEN_READ_ONLY, &error);
  const guint page_size = 120;
  guint deep;

  g_assert_no_error (error);
  if (n < 3 * page_size)
    return;
  deep = (n / page_size - 1) * page_size;
  printf ("%-44s %10s %10s %10s\n", "gallery page read (120 takes)", "offset ms", "keyset ms", "ratio");
  for (guint i = 0; i < G_N_ELEMENTS (sorts); i++)
    {
      g_autoptr (GPtrArray) before = NULL;
      TakesTakeQuery query;
      TakesTakeCursor cursor;
      double first_ms, offset_ms, keyset_ms;
      g_autofree char *label = NULL;

      takes_take_query_init (&query);
      query.sort = sorts[i].sort;
      query.limit = page_size;
      first_ms = time_page (store, &query, NULL);
      query.offset = deep;
      offset_ms = time_page (store, &query, NULL);
      /* The page before, as the list has it when a view scrolls down. */
      query.offset = deep - page_size;
      before = takes_store_query_takes_after (store, &query, NULL, &error);
      g_assert_no_error (error);
      takes_take_cursor_set (&cursor, query.sort, g_ptr_array_index (before, before->len - 1));
      query.offset = 0;
      keyset_ms = time_page (store, &query, &cursor);

      label = g_strdup_printf ("%s, page at %u", sorts[i].label, deep);
      printf ("  %-42s %10.2f %10.2f %10.1f\n", label, offset_ms, keyset_ms, offset_ms / keyset_ms);
      g_free (g_steal_pointer (&label));
      label = g_strdup_printf ("%s, first page", sorts[i].label);
      printf ("  %-42s %10.2f %10s\n", label, first_ms, "");
    }
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* The median of n values (sorts them in place). */
static double
median (double *values, guint n)
{
  qsort (values, n, sizeof (double), cmp_double);
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

static void
destroy_window (TakesWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("TAKES_BENCH_TAKES");
  guint n = env != NULL ? (guint)atoi (env) : 100000;
  g_autofree char *cache = NULL;
  TakesWindow *window = NULL;
  double empty_ms, full_ms, full_worst_ms;
  double empty_cpu_ms = 0, full_cpu_ms = 0;
  gint64 start;

  root = g_dir_make_tmp ("takes-bench-studio-XXXXXX", NULL);
  cache = g_build_filename (root, "cache", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  gtk_init ();
  adw_init ();

  start = g_get_monotonic_time ();
  g_object_unref (make_library ("full", n));
  g_object_unref (make_library ("empty", 0));
  g_object_unref (make_library ("scroll", MIN (n, SCROLL_TAKES)));
  printf ("# libraries built in %.1f s\n", (g_get_monotonic_time () - start) / 1e6);

  /* The first window of the process also loads GTK's theme and fonts; it is
   * left out so both figures compare the same, warm work. */
  cold_start ("empty", &window, NULL);
  destroy_window (window);

  /* Taken in turns, several times: on a shared machine one start can be
   * half again slower than the next. */
  {
    double empty[COLD_ROUNDS], full[COLD_ROUNDS], empty_cpu[COLD_ROUNDS], full_cpu[COLD_ROUNDS];

    for (guint i = 0; i < COLD_ROUNDS; i++)
      {
        empty[i] = cold_start ("empty", &window, &empty_cpu[i]);
        destroy_window (window);
        full[i] = cold_start ("full", &window, &full_cpu[i]);
        destroy_window (window);
      }
    full_worst_ms = full[0];
    for (guint i = 1; i < COLD_ROUNDS; i++)
      full_worst_ms = MAX (full_worst_ms, full[i]);
    empty_ms = median (empty, COLD_ROUNDS);
    full_ms = median (full, COLD_ROUNDS);
    empty_cpu_ms = median (empty_cpu, COLD_ROUNDS);
    full_cpu_ms = median (full_cpu, COLD_ROUNDS);
  }

  printf ("%-44s %10s %10s\n", "cold start to first frame (median of " G_STRINGIFY (COLD_ROUNDS) ")", "ms",
          "target");
  printf ("%-44s %10.1f %10s\n", "  empty library (peer)", empty_ms, "");
  {
    g_autofree char *label = g_strdup_printf ("%u takes", n);
    printf ("  %-42s %10.1f %10.0f %s\n", label, full_ms, TARGET_START_MS,
            full_ms < TARGET_START_MS ? "ok" : "SLOWER THAN TARGET");
    printf ("  %-42s %10.1f\n", "  slowest of them", full_worst_ms);
  }
  printf ("%-44s %10.2f\n", "  ratio full / empty", full_ms / empty_ms);
  printf ("%-44s %10.1f ms empty, %.1f ms full\n", "  main thread CPU in that time", empty_cpu_ms,
          full_cpu_ms);

  bench_deep_pages ("full", n);

  {
    Scroll scroll = { 0 };
    GtkWidget *grid;
    GdkFrameClock *clock;
    guint pixels;
    guint cards_before;
    Settle settled = { 0 };
    double x_cpu;

    cold_start ("scroll", &window, NULL);
    grid = find_descendant (GTK_WIDGET (takes_window_get_gallery (window)), GTK_TYPE_GRID_VIEW);
    scroll.adjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (grid));
    clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
    {
      /* The frame clock paces frames by the refresh rate; 60 Hz on Xvfb. */
      gint64 refresh = 0;
      gdk_frame_clock_get_refresh_info (clock, gdk_frame_clock_get_frame_time (clock), &refresh, NULL);
      scroll.interval = refresh > 0 ? refresh : 16667;
    }
    cards_before = count_cards (grid);
    scroll.grid = grid;
    scroll.screenshots = g_getenv ("TAKES_BENCH_SCREENSHOTS");
    settle_window (GTK_WIDGET (window), &settled);
    pixels = (guint)gtk_adjustment_get_upper (scroll.adjustment);
    scroll.step = MAX (1.0, (double)pixels / SCROLL_FRAMES);
    start = g_get_monotonic_time ();
    x_cpu = x_server_cpu_s ();
    g_signal_connect_after (clock, "before-paint", G_CALLBACK (before_paint_cb), &scroll);
    g_signal_connect_after (clock, "layout", G_CALLBACK (layout_cb), &scroll);
    g_signal_connect_after (clock, "paint", G_CALLBACK (paint_cb), &scroll);
    g_signal_connect_after (clock, "after-paint", G_CALLBACK (scroll_after_paint_cb), &scroll);
    gtk_widget_add_tick_callback (grid, scroll_tick_cb, &scroll, NULL);
    while (!scroll.done)
      g_main_context_iteration (NULL, TRUE);
    g_signal_handlers_disconnect_by_data (clock, &scroll);
    printf ("%-44s %10u takes, %u px\n", "gallery scroll", MIN (n, SCROLL_TAKES), pixels);
    printf ("%-44s %10u frames, worst %.2f ms, %.2f ms in all\n",
            "  window settling before it (main thread CPU)", settled.frames, settled.worst, settled.total);
    printf ("%-44s %10u\n", "  frames", scroll.frames);
    printf ("%-44s %10u (%.1f %%)\n", "  dropped (later than 1.5 intervals)", scroll.dropped,
            scroll.frames > 0 ? 100.0 * scroll.dropped / scroll.frames : 0.0);
    printf ("%-44s %10.1f ms (interval %.1f ms)\n", "  worst frame gap", scroll.worst / 1000.0,
            scroll.interval / 1000.0);
    if (scroll.dropped > 0)
      {
        printf ("%-44s %10.1f ms ran, %.1f ms waited for a core, of %.1f ms\n",
                "  main thread in dropped gaps", scroll.dropped_cpu, scroll.dropped_delay,
                scroll.dropped_gap);
        printf ("%-44s %10.0f ms (all CPUs, 10 ms ticks)\n", "  CPU time the host held back in them",
                scroll.dropped_steal);
      }
    printf ("%-44s %10.1f s\n", "  wall time", (g_get_monotonic_time () - start) / 1e6);
    if (x_cpu >= 0.0)
      printf ("%-44s %10.1f s\n", "  X server (Xvfb) CPU in that time", x_server_cpu_s () - x_cpu);
    if (scroll.measured > 0)
      {
        printf ("%-44s %10.2f ms mean, %.2f ms worst\n", "  main thread CPU: update + layout",
                scroll.layout_total / scroll.measured, scroll.layout_worst);
        printf ("%-44s %10.2f ms mean, %.2f ms worst\n", "  main thread CPU: paint",
                scroll.paint_total / scroll.measured, scroll.paint_worst);
        printf ("%-44s %10u of %u\n", "  frames whose main-thread CPU > interval", scroll.over_budget,
                scroll.measured);
        for (guint i = 0; i < MIN (scroll.measured, FIRST_FRAMES); i++)
          {
            g_autofree char *label = g_strdup_printf ("  frame %u: layout + paint", i + 1);

            printf ("%-44s %10.2f + %.2f ms\n", label, scroll.first_layout[i], scroll.first_paint[i]);
          }
        {
          g_autofree char *label
              = g_strdup_printf ("  worst (frame %u): layout + paint", scroll.worst_frame + 1);

          printf ("%-44s %10.2f + %.2f ms\n", label, scroll.worst_layout, scroll.worst_paint);
        }
        printf ("%-44s %10u before, %u after\n", "  cards in the grid", cards_before, count_cards (grid));
        printf ("%-44s %10.1f %% of %.1f per frame\n", "  cards shown waiting for their page",
                scroll.shown > 0 ? 100.0 * scroll.waiting / scroll.shown : 0.0,
                (double)scroll.shown / scroll.measured);
      }
    destroy_window (window);
  }

  {
    g_autofree char *quoted = g_shell_quote (root);
    g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);
    g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
  }
  g_free (root);
  return 0;
}
