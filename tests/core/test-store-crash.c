/* test-store-crash.c: a writer killed with SIGKILL at random moments never
 * leaves a damaged database or a take pointing at a missing file.
 *
 * The test program re-runs itself with --crash-writer DIR as the writer. */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>

#include "takes-store.h"
#include "test-store-util.h"

#define WRITER_ARG "--crash-writer"
#define ROUNDS 12
/* A writer never outlives its test, even if the test itself dies. */
#define WRITER_MAX_TAKES 3000
#define WRITER_MAX_SECONDS 60

/* Adds takes with videos as fast as it can, judging and deleting some on
 * the way, until it is killed. */
static int
run_writer (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = takes_store_open (dir, TAKES_STORE_OPEN_EXISTING, &error);
  g_autoptr (GRand) rand = g_rand_new ();
  gint64 previous = 0;
  gint64 deadline = g_get_monotonic_time () + WRITER_MAX_SECONDS * G_USEC_PER_SEC;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () == 1)
    return 2;
  if (store == NULL)
    {
      g_printerr ("writer: %s\n", error->message);
      return 3;
    }
  for (guint i = 0; i < WRITER_MAX_TAKES && g_get_monotonic_time () < deadline; i++)
    {
      g_autofree char *name = g_strdup_printf ("incoming-%d-%u.mp4", (int)getpid (), i);
      g_autofree char *source = g_build_filename (dir, name, NULL);
      g_autofree char *prompt = g_strdup_printf ("take %u of a fox in the snow, 雪地里的狐狸", i);
      g_autoptr (TakesTake) take = store_test_take (prompt);
      TakesMediaTransfer transfer = i % 2 ? TAKES_MEDIA_MOVE : TAKES_MEDIA_COPY;

      store_test_write_file (source, (gsize)g_rand_int_range (rand, 16 * 1024, 512 * 1024));
      takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
      takes_take_set_parent_id (take, previous);
      if (!takes_store_add_take (store, take, source, transfer, &error))
        {
          g_printerr ("writer: %s\n", error->message);
          return 4;
        }
      if (transfer == TAKES_MEDIA_COPY)
        g_unlink (source);
      if (i % 3 == 0
          && (!takes_store_set_rating (store, takes_take_get_id (take), i % 6, &error)
              || !takes_store_add_tag (store, takes_take_get_id (take), "crash", &error)))
        {
          g_printerr ("writer: %s\n", error->message);
          return 5;
        }
      if (i % 5 == 4 && previous > 0 && !takes_store_delete_takes (store, &previous, 1, &error))
        {
          g_printerr ("writer: %s\n", error->message);
          return 6;
        }
      previous = i % 5 == 4 ? 0 : takes_take_get_id (take);
    }
  return 0;
}

/* Reads the database as it is on disk, without the store's own repairs. */
static void
assert_raw_state_sound (const char *dir)
{
  g_autofree char *db_path = g_build_filename (dir, "library.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint n_rows = 0;

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *)sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id, media_path FROM takes WHERE media_path IS NOT NULL",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autofree char *path = g_build_filename (dir, (const char *)sqlite3_column_text (stmt, 1), NULL);

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_error ("take %" G_GINT64_FORMAT " points at %s, which is missing",
                 (gint64)sqlite3_column_int64 (stmt, 0), path);
      n_rows++;
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_test_message ("%u takes with a video on disk", n_rows);
}

static void
test_store_crash_sigkill_while_writing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new ();
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", &error);
  g_autofree char *dir = g_dir_make_tmp ("takes-crash-XXXXXX", NULL);
  g_autoptr (TakesStore) store = NULL;
  gint64 n_takes;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_clear_object (&store);

  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autoptr (GSubprocess) writer = NULL;
      g_autoptr (GPtrArray) issues = NULL;

      writer = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, self_exe, WRITER_ARG, dir, NULL);
      g_assert_no_error (error);
      /* Long enough for the writer to start and be busy, random enough to
       * land in every step of adding and deleting. */
      g_usleep ((gulong)g_rand_int_range (rand, 60, 400) * 1000);
      g_subprocess_force_exit (writer);
      g_assert_true (g_subprocess_wait (writer, NULL, &error));
      g_assert_no_error (error);
      if (g_subprocess_get_if_exited (writer))
        g_error ("the writer stopped on its own with status %d", g_subprocess_get_exit_status (writer));
      g_assert_cmpint (g_subprocess_get_term_sig (writer), ==, SIGKILL);

      assert_raw_state_sound (dir);

      store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
      g_assert_no_error (error);
      issues = takes_store_check (store, TAKES_STORE_CHECK_ALL, NULL, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < issues->len; i++)
        {
          TakesStoreIssue *issue = issues->pdata[i];

          /* Files without rows are the allowed leftovers of a crash. */
          g_test_message ("after round %u: %s", round, issue->message);
          g_assert_cmpint (issue->kind, !=, TAKES_STORE_ISSUE_TAKE_WITHOUT_FILE);
          g_assert_cmpint (issue->kind, !=, TAKES_STORE_ISSUE_DATABASE);
          g_assert_cmpint (issue->kind, !=, TAKES_STORE_ISSUE_RECIPE);
        }
      g_assert_finalize_object (g_steal_pointer (&store));
    }

  /* The writer really wrote, so the kills landed in the middle of work. */
  n_takes = store_test_query_int (dir, "SELECT count(*) FROM takes");
  g_test_message ("%" G_GINT64_FORMAT " takes survived %d kills", n_takes, ROUNDS);
  g_assert_cmpint (n_takes, >, ROUNDS);
  store_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  if (argc == 3 && g_str_equal (argv[1], WRITER_ARG))
    return run_writer (argv[2]);

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/store/crash/sigkill-while-writing", test_store_crash_sigkill_while_writing);
  return g_test_run ();
}
