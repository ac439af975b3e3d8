/* tk-test.h: the small TAP harness the kernel tests share (kernels/ and its
 * tests use no GLib). CHECK records a failure with its place and carries on,
 * so one run lists every wrong value; report closes one named test. */
#ifndef TK_TEST_H
#define TK_TEST_H

#include <stdio.h>

static int failures;
static int n_test;

#define CHECK(cond, ...)                                                                                     \
  do                                                                                                         \
    {                                                                                                        \
      if (!(cond))                                                                                           \
        {                                                                                                    \
          fprintf (stderr, "# %s:%d: ", __FILE__, __LINE__);                                                 \
          fprintf (stderr, __VA_ARGS__);                                                                     \
          fprintf (stderr, "\n");                                                                            \
          failures++;                                                                                        \
        }                                                                                                    \
    }                                                                                                        \
  while (0)

static void
report (const char *name, int before)
{
  n_test++;
  printf ("%s %d - %s\n", failures == before ? "ok" : "not ok", n_test, name);
  fflush (stdout);
}

#endif /* TK_TEST_H */
