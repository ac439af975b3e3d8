/* bench-peer.h: a PyTorch peer process whose runs a benchmark interleaves
 * with its own (the protocol is described in bench_peer.py), and the
 * median that the benchmarks report. */
#pragma once

#include <stddef.h>

typedef struct bench_peer bench_peer;

/* Starts /usr/bin/python3 SCRIPT THREADS. Returns NULL, and prints why on
 * stdout, when the interpreter, the script or PyTorch is missing. */
bench_peer *bench_peer_start (const char *script, int threads);

/* Builds the tensors of one shape and warms it up. Returns 0 and what the
 * peer runs in how, or -1 with the reason in how. */
int bench_peer_setup (bench_peer *peer, const char *spec, char *how, size_t how_size);

/* One timed run of a variant of the last shape set up: its seconds, or a
 * negative value when the peer failed (it then says why on stdout). */
double bench_peer_run (bench_peer *peer, const char *variant);

void bench_peer_stop (bench_peer *peer);

/* The median of n > 0 values (sorts them in place). */
double bench_median (double *values, int n);
