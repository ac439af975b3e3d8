/* bench-peer.c: a PyTorch peer process behind two pipes. */
#include "bench-peer.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

struct bench_peer
{
  pid_t pid;
  FILE *to, *from;
};

/* Reads one line of the peer's answer without its newline; -1 at its end. */
static int
read_line (bench_peer *peer, char *line, size_t size)
{
  if (fgets (line, (int)size, peer->from) == NULL)
    return -1;
  line[strcspn (line, "\n")] = '\0';
  return 0;
}

static int
ask (bench_peer *peer, const char *command, const char *argument, char *line, size_t size)
{
  if (fprintf (peer->to, "%s %s\n", command, argument) < 0 || fflush (peer->to) != 0)
    return -1;
  return read_line (peer, line, size);
}

static bench_peer *
start (const char *script, int threads, char *why, size_t why_size)
{
  int to[2], from[2];
  char line[512], count[16];
  bench_peer *peer;

  if (access (PYTHON, X_OK) != 0 || access (script, R_OK) != 0)
    {
      snprintf (why, why_size, "%s or %s is missing", PYTHON, script);
      return NULL;
    }
  if (pipe (to) != 0 || pipe (from) != 0)
    {
      snprintf (why, why_size, "could not make pipes");
      return NULL;
    }
  snprintf (count, sizeof count, "%d", threads);
  fflush (stdout);
  peer = calloc (1, sizeof *peer);
  peer->pid = fork ();
  if (peer->pid == 0)
    {
      dup2 (to[0], STDIN_FILENO);
      dup2 (from[1], STDOUT_FILENO);
      close (to[0]);
      close (to[1]);
      close (from[0]);
      close (from[1]);
      execl (PYTHON, PYTHON, script, count, (char *)NULL);
      _exit (127);
    }
  close (to[0]);
  close (from[1]);
  if (peer->pid < 0)
    {
      close (to[1]);
      close (from[0]);
      free (peer);
      snprintf (why, why_size, "could not start %s", PYTHON);
      return NULL;
    }
  /* A peer that dies must not kill the benchmark with SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);
  peer->to = fdopen (to[1], "w");
  peer->from = fdopen (from[0], "r");
  if (read_line (peer, line, sizeof line) != 0 || strcmp (line, "hello") != 0)
    {
      if (strncmp (line, "unavailable", 11) == 0)
        snprintf (why, why_size, "%s", line[11] == ' ' ? line + 12 : line + 11);
      else
        snprintf (why, why_size, "%s did not start", script);
      bench_peer_stop (peer);
      return NULL;
    }
  return peer;
}

bench_peer *
bench_peer_start (const char *script, int threads)
{
  char why[512];
  bench_peer *peer = start (script, threads, why, sizeof why);

  if (peer == NULL)
    printf ("PyTorch peer unavailable: %s\n\n", why);
  return peer;
}

int
bench_peer_setup (bench_peer *peer, const char *spec, char *how, size_t how_size)
{
  char line[512];

  if (ask (peer, "setup", spec, line, sizeof line) != 0)
    {
      snprintf (how, how_size, "the peer ended");
      return -1;
    }
  if (strncmp (line, "ready ", 6) != 0)
    {
      snprintf (how, how_size, "%s", strncmp (line, "error ", 6) == 0 ? line + 6 : line);
      return -1;
    }
  snprintf (how, how_size, "%s", line + 6);
  return 0;
}

double
bench_peer_run (bench_peer *peer, const char *variant)
{
  char line[512];
  char *end;
  double seconds;

  if (ask (peer, "run", variant, line, sizeof line) != 0)
    {
      printf ("PyTorch peer ended during a run of %s\n", variant);
      return -1.0;
    }
  seconds = strtod (line, &end);
  if (end == line || seconds <= 0.0)
    {
      printf ("PyTorch peer: %s\n", line);
      return -1.0;
    }
  return seconds;
}

void
bench_peer_stop (bench_peer *peer)
{
  if (peer == NULL)
    return;
  if (peer->to != NULL)
    {
      fprintf (peer->to, "quit\n");
      fclose (peer->to);
    }
  if (peer->from != NULL)
    fclose (peer->from);
  waitpid (peer->pid, NULL, 0);
  free (peer);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

double
bench_median (double *values, int n)
{
  qsort (values, (size_t)n, sizeof (double), cmp_double);
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}
