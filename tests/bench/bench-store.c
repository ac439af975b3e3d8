/* bench-store.c: the gallery library at 100,000 takes.
 *
 * Builds a library in /tmp (one bulk transaction, prompts in English and
 * Chinese), then times what the gallery does most: opening the library,
 * reading the first page of 200 newest takes, and searching one word. Each
 * figure is printed with the 20 ms target beside it. The peer, measured on
 * the same database in the same run, is a plain LIKE scan over the prompts
 * and notes: what a search costs without the full-text index.
 *
 * TAKES_BENCH_TAKES overrides the number of takes (for quick runs);
 * TAKES_BENCH_KEEP=1 leaves the library in /tmp for a closer look.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "takes-store.h"

#define TARGET_MS 20.0
#define PAGE_SIZE 200
#define N_QUERIES 100
#define N_OPENS 20
#define N_NOTES 300

static const char *const subjects_en[] = {
  "a red fox",          "an astronaut",     "a paper boat",      "two cats",       "a lighthouse keeper",
  "a street musician",  "a hummingbird",    "an old fisherman",  "a vintage car",  "a ballet dancer",
  "a giant tortoise",   "a chef",           "a robot vacuum",    "a skateboarder", "a white horse",
  "a bowl of ramen",    "a city bus",       "a hot air balloon", "a sleepy panda", "a glass of iced coffee",
  "a mountain climber", "a jellyfish",      "a toy train",       "a bride",        "a sports sneaker",
  "a laptop",           "a perfume bottle", "a snowboarder",     "a koi fish",     "a violinist",
};
static const char *const subjects_zh[] = {
  "一只橘猫",   "宇航员", "纸船",   "灯塔守护者", "街头艺人", "蜂鸟",     "老渔夫",   "复古汽车",
  "芭蕾舞者",   "大海龟", "厨师",   "扫地机器人", "滑板少年", "白马",     "一碗拉面", "城市公交车",
  "热气球",     "熊猫",   "冰咖啡", "登山者",     "水母",     "玩具火车", "新娘",     "运动鞋",
  "笔记本电脑", "香水瓶", "滑雪者", "锦鲤",       "小提琴手", "老人和海",
};
static const char *const actions_en[] = {
  "running through fresh snow",
  "floating in space",
  "drifting on a river",
  "playing with yarn",
  "turning slowly toward the camera",
  "dancing in the rain",
  "waking up at dawn",
  "crossing a busy street",
  "jumping over a puddle",
  "spinning in circles",
  "walking along the beach",
  "climbing a staircase",
  "pouring steaming tea",
  "reading by the window",
  "flying over rooftops",
  "diving into blue water",
  "laughing with friends",
  "looking out at the sea",
  "racing down a hill",
  "resting under a tree",
};
static const char *const actions_zh[] = {
  "在雪地里奔跑",   "在太空中漂浮",   "在河上漂流",     "玩毛线球",   "慢慢地转身",
  "在雨中跳舞",     "在黎明醒来",     "穿过繁忙的街道", "跳过水坑",   "原地旋转",
  "沿着海滩散步",   "爬楼梯",         "倒一杯热茶",     "在窗边读书", "飞过屋顶",
  "潜入蓝色的水中", "和朋友们一起笑", "眺望大海",       "冲下山坡",   "在树下休息",
};
static const char *const styles_en[] = {
  "cinematic lighting, 35mm film, shallow depth of field",
  "anime style, vibrant colours",
  "watercolor painting",
  "golden hour, slow motion, aerial shot",
  "neon lights, cyberpunk mood",
  "soft pastel tones, dreamy",
  "documentary handheld camera",
  "studio product shot, clean background",
  "black and white, high contrast",
  "macro lens, crisp details",
  "wide angle, dramatic sky",
  "stop motion, claymation look",
};
static const char *const styles_zh[] = {
  "电影感，浅景深，柔和的光线",
  "高清，细节丰富，4K",
  "水墨画风格",
  "黄金时刻，慢动作，航拍",
  "霓虹灯，赛博朋克氛围",
  "柔和的粉彩色调，梦幻",
  "纪录片手持镜头",
  "棚拍产品，干净背景",
  "黑白，高对比度",
  "微距镜头，细节清晰",
  "广角，壮观的天空",
  "定格动画风格",
};
static const char *const notes[] = {
  "keep this one", "too dark",        "client liked the motion", "客户喜欢这个版本",
  "太暗了",        "换个角度再试",    "use for the storyboard",  "colours are off",
  "好的开头",      "final candidate",
};
static const char *const negatives[] = {
  "blurry, low quality, watermark",
  "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰",
};

static const char *
pick (GRand *rand, const char *const *list, guint n)
{
  return list[g_rand_int_range (rand, 0, (gint32)n)];
}

#define PICK(rand, list) pick (rand, list, G_N_ELEMENTS (list))

static char *
make_prompt (GRand *rand)
{
  double lang = g_rand_double (rand);

  if (lang < 0.55)
    return g_strdup_printf ("%s %s, %s", PICK (rand, subjects_en), PICK (rand, actions_en),
                            PICK (rand, styles_en));
  if (lang < 0.9)
    return g_strdup_printf ("%s%s，%s", PICK (rand, subjects_zh), PICK (rand, actions_zh),
                            PICK (rand, styles_zh));
  return g_strdup_printf ("%s %s, %s", PICK (rand, subjects_zh), PICK (rand, actions_en),
                          PICK (rand, styles_zh));
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a;
  double y = *(const double *)b;

  return x < y ? -1 : x > y;
}

/* p50 and p95 of @samples (milliseconds), sorting them. */
static void
percentiles (GArray *samples, double *p50, double *p95)
{
  g_array_sort (samples, compare_doubles);
  *p50 = g_array_index (samples, double, samples->len / 2);
  *p95 = g_array_index (samples, double, MIN (samples->len - 1, (guint)(samples->len * 0.95)));
}

static void
report (const char *what, double p50, double p95)
{
  printf ("%-44s p50 %8.3f ms   p95 %8.3f ms   target %.0f ms  %s\n", what, p50, p95, TARGET_MS,
          p95 <= TARGET_MS ? "ok" : "OVER");
}

static double
ms_since (gint64 start)
{
  return (double)(g_get_monotonic_time () - start) / 1000.0;
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
build_library (const char *dir, guint n_takes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_autoptr (GPtrArray) takes = g_ptr_array_new_full (n_takes, g_object_unref);
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240601);
  gint64 start;

  if (store == NULL)
    g_error ("%s", error->message);
  for (guint i = 0; i < n_takes; i++)
    {
      g_autofree char *prompt = make_prompt (rand);
      TakesTake *take;
      double r = g_rand_double (rand);

      takes_recipe_set_prompt (recipe, prompt);
      takes_recipe_set_negative_prompt (recipe, r < 0.7 ? "" : negatives[r < 0.85 ? 0 : 1]);
      takes_recipe_set_seed (recipe, g_rand_int_range (rand, 0, G_MAXINT32));
      take = takes_take_new (recipe);
      takes_take_set_status (take,
                             g_rand_double (rand) < 0.9 ? TAKES_TAKE_STATUS_DONE : TAKES_TAKE_STATUS_FAILED);
      g_ptr_array_add (takes, take);
    }

  start = g_get_monotonic_time ();
  if (!takes_store_add_takes (store, takes, &error))
    g_error ("%s", error->message);
  printf ("built %u takes in one transaction in %.1f s\n", n_takes, ms_since (start) / 1000.0);

  /* Notes and ratings on some takes, as people leave them: each is its own
   * synced commit, so a few hundred stand for the rest. */
  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_NOTES; i++)
    {
      gint64 id = takes_take_get_id (takes->pdata[g_rand_int_range (rand, 0, (gint32)n_takes)]);

      if (!takes_store_set_notes (store, id, PICK (rand, notes), &error)
          || !takes_store_set_rating (store, id, (guint)g_rand_int_range (rand, 1, 6), &error))
        g_error ("%s", error->message);
    }
  printf ("added %u notes and ratings one by one in %.1f s\n", N_NOTES, ms_since (start) / 1000.0);
}

static void
bench_open (const char *dir, TakesStoreOpenFlags flags, const char *label)
{
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  double p50, p95;

  for (guint i = 0; i < N_OPENS; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesStore) store = NULL;
      gint64 start = g_get_monotonic_time ();
      double ms;

      store = takes_store_open (dir, flags, &error);
      ms = ms_since (start);
      if (store == NULL)
        g_error ("%s", error->message);
      g_array_append_val (samples, ms);
    }
  percentiles (samples, &p50, &p95);
  report (label, p50, p95);
}

static void
bench_first_page (TakesStore *store)
{
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  TakesTakeQuery query;
  double p50, p95;

  takes_take_query_init (&query);
  query.limit = PAGE_SIZE;
  for (guint i = 0; i < N_QUERIES; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) page = NULL;
      gint64 start = g_get_monotonic_time ();
      double ms;

      page = takes_store_query_takes (store, &query, &error);
      ms = ms_since (start);
      if (page == NULL || page->len != PAGE_SIZE)
        g_error ("the first page came back wrong: %s", error != NULL ? error->message : "short page");
      g_array_append_val (samples, ms);
    }
  percentiles (samples, &p50, &p95);
  report ("first page of 200 by date", p50, p95);
}

/* Words people search for: objects and moods in both languages, or the
 * one- and two-character words that are most of written Chinese. */
static GPtrArray *
search_words (gboolean short_words)
{
  static const char *const long_words[] = {
    "fox",        "astronaut", "boat",        "cats",       "lighthouse", "musician",    "hummingbird",
    "fisherman",  "vintage",   "ballet",      "tortoise",   "chef",       "robot",       "skateboard",
    "horse",      "ramen",     "balloon",     "panda",      "coffee",     "climber",     "jellyfish",
    "train",      "bride",     "sneaker",     "laptop",     "perfume",    "snowboarder", "koi",
    "violin",     "snow",      "space",       "river",      "yarn",       "camera",      "rain",
    "dawn",       "street",    "puddle",      "beach",      "staircase",  "tea",         "window",
    "rooftops",   "water",     "friends",     "cinematic",  "anime",      "watercolor",  "golden hour",
    "neon",       "pastel",    "documentary", "studio",     "contrast",   "macro",       "dramatic",
    "claymation", "too dark",  "client",      "宇航员",     "灯塔守",     "街头艺人",    "老渔夫",
    "复古汽车",   "芭蕾舞",    "大海龟",      "扫地机器人", "滑板少年",   "一碗拉面",    "城市公交",
    "热气球",     "冰咖啡",    "登山者",      "玩具火车",   "运动鞋",     "笔记本",      "香水瓶",
    "滑雪者",     "小提琴",    "老人和海",    "在雪地",     "太空中",     "河上漂流",    "毛线球",
    "慢慢地",     "雨中跳舞",  "黎明醒来",    "繁忙的街道", "跳过水坑",   "沿着海滩",    "爬楼梯",
    "倒一杯热茶", "窗边读书",  "飞过屋顶",    "电影感",     "水墨画",
  };
  static const char *const two_chars[]
      = { "橘猫", "纸船", "蜂鸟", "厨师", "白马", "熊猫", "水母", "新娘", "锦鲤", "旋转", "大海", "山坡",
          "树下", "高清", "航拍", "广角", "太暗", "客户", "猫",   "马",   "雨",   "茶",   "龟",   "月" };
  GPtrArray *words = g_ptr_array_new ();

  if (short_words)
    for (guint i = 0; i < N_QUERIES; i++)
      g_ptr_array_add (words, (gpointer)two_chars[i % G_N_ELEMENTS (two_chars)]);
  else
    for (guint i = 0; i < N_QUERIES; i++)
      g_ptr_array_add (words, (gpointer)long_words[i % G_N_ELEMENTS (long_words)]);
  return words;
}

static void
bench_search (TakesStore *store, gboolean short_words, const char *label, double *p50, double *p95)
{
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GPtrArray) words = search_words (short_words);
  guint64 hits = 0;
  TakesTakeQuery query;

  takes_take_query_init (&query);
  query.limit = PAGE_SIZE;
  for (guint i = 0; i < words->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) page = NULL;
      gint64 start;
      double ms;

      query.text = words->pdata[i];
      start = g_get_monotonic_time ();
      page = takes_store_query_takes (store, &query, &error);
      ms = ms_since (start);
      if (page == NULL)
        g_error ("%s", error->message);
      hits += page->len;
      g_array_append_val (samples, ms);
    }
  percentiles (samples, p50, p95);
  report (label, *p50, *p95);
  printf ("%-44s %.0f takes on the first page on average\n", "", (double)hits / words->len);
}

/* The peer: the same first page found by scanning the text columns with
 * LIKE on a plain connection, as a library without an index would. */
static void
bench_like_peer (const char *dir, double *p50, double *p95)
{
  g_autofree char *path = g_build_filename (dir, "library.db", NULL);
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GPtrArray) words = search_words (FALSE);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (db,
                             "SELECT id, prompt FROM takes WHERE prompt LIKE ?1 OR optimized_prompt LIKE ?1 "
                             "OR negative_prompt LIKE ?1 OR notes LIKE ?1 ORDER BY id DESC LIMIT 200",
                             -1, &stmt, NULL)
             != SQLITE_OK)
    g_error ("peer: %s", sqlite3_errmsg (db));
  for (guint i = 0; i < words->len; i++)
    {
      g_autofree char *pattern = g_strdup_printf ("%%%s%%", (const char *)words->pdata[i]);
      gint64 start = g_get_monotonic_time ();
      double ms;

      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, pattern, -1, SQLITE_STATIC);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        ;
      ms = ms_since (start);
      g_array_append_val (samples, ms);
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  percentiles (samples, p50, p95);
  printf ("%-44s p50 %8.3f ms   p95 %8.3f ms   (peer)\n", "peer: LIKE scan, same words, same page", *p50,
          *p95);
}

/* Gives every take a file: empty files under media/bench/ and their paths
 * written straight into the rows (copying 100,000 videos through the store
 * would time the disk, not the library). */
static void
give_every_take_a_file (const char *dir, guint n_takes)
{
  g_autofree char *folder = g_build_filename (dir, "media", "bench", NULL);
  g_autofree char *path = g_build_filename (dir, "library.db", NULL);
  g_autoptr (GError) error = NULL;
  sqlite3 *db = NULL;

  g_mkdir_with_parents (folder, 0755);
  for (guint i = 0; i < n_takes; i++)
    {
      g_autofree char *name = g_strdup_printf ("%u.mp4", i + 1);
      g_autofree char *file = g_build_filename (folder, name, NULL);

      if (!g_file_set_contents (file, "", 0, &error))
        g_error ("%s", error->message);
    }
  if (sqlite3_open (path, &db) != SQLITE_OK
      || sqlite3_exec (db, "UPDATE takes SET media_path = 'media/bench/' || id || '.mp4'", NULL, NULL, NULL)
             != SQLITE_OK)
    g_error ("could not point the takes at their files: %s", sqlite3_errmsg (db));
  sqlite3_close (db);
}

static void
bench_media_check (const char *dir)
{
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = takes_store_open (dir, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &error);
  double p50, p95;

  if (store == NULL)
    g_error ("%s", error->message);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr (GPtrArray) issues = NULL;
      gint64 start = g_get_monotonic_time ();
      double ms;

      issues = takes_store_check (store, TAKES_STORE_CHECK_MEDIA, NULL, &error);
      ms = ms_since (start);
      if (issues == NULL || issues->len != 0)
        g_error ("the media check failed or found problems");
      g_array_append_val (samples, ms);
    }
  percentiles (samples, &p50, &p95);
  printf ("%-44s p50 %8.3f ms   p95 %8.3f ms   (in a worker; not a target)\n",
          "media check, one file per take", p50, p95);
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("TAKES_BENCH_TAKES");
  guint n_takes = env != NULL ? (guint)g_ascii_strtoull (env, NULL, 10) : 100000;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-bench-store-XXXXXX", &error);
  double fts50, fts95, like50, like95, short50, short95;

  if (dir == NULL)
    g_error ("%s", error->message);
  if (n_takes < PAGE_SIZE)
    n_takes = PAGE_SIZE;
  printf ("Takes store benchmark: %u takes in %s (SQLite %s)\n\n", n_takes, dir, sqlite3_libversion ());
  build_library (dir, n_takes);
  printf ("\n");

  bench_open (dir, TAKES_STORE_OPEN_DEFAULT, "open (with media check)");
  bench_open (dir, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, "open (media check left to a worker)");

  store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    g_error ("%s", error->message);
  bench_first_page (store);
  bench_search (store, FALSE, "search a word (English and Chinese)", &fts50, &fts95);
  bench_search (store, TRUE, "search 1 or 2 Chinese characters", &short50, &short95);
  bench_like_peer (dir, &like50, &like95);
  printf ("\nindexed search vs LIKE peer: %.1fx faster at p50, %.1fx at p95\n", like50 / MAX (fts50, 0.001),
          like95 / MAX (fts95, 0.001));

  /* Last, because it changes the library: every take gets its file. */
  g_clear_object (&store);
  printf ("\nwith one file per take:\n");
  give_every_take_a_file (dir, n_takes);
  bench_open (dir, TAKES_STORE_OPEN_DEFAULT, "open (with media check)");
  bench_open (dir, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, "open (media check left to a worker)");
  bench_media_check (dir);

  g_clear_object (&store);
  if (g_strcmp0 (g_getenv ("TAKES_BENCH_KEEP"), "1") == 0)
    printf ("kept %s\n", dir);
  else
    rm_rf (dir);
  return 0;
}
