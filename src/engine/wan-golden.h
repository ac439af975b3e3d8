/* wan-golden.h: checking the engine against a golden data set.
 *
 * A golden set is a folder in the layout of tests/data/wan-tiny-public: a
 * manifest.json that lists cases, each with a safetensors file of input and
 * output tensors, their roles and tolerances. wan_golden_check() runs every
 * case the engine has a runner for, writes the results into an output
 * folder (one F32 safetensors file per case, named like the case file) and
 * compares each output tensor with the golden one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  WAN_GOLDEN_OK,
  WAN_GOLDEN_FAILED,  /* beyond tolerance, missing, or of the wrong shape */
  WAN_GOLDEN_SKIPPED, /* the engine cannot run this kind of case yet */
} WanGoldenStatus;

typedef struct
{
  char *case_name;
  char *tensor; /* NULL for a result about the whole case (a skip or an error) */
  WanGoldenStatus status;
  gboolean exact; /* integer tensor: must match exactly */
  double max_abs;
  double tol_max_abs;
  double rel_l2;
  double tol_rel_l2;
  char *message; /* why it was skipped or failed, or NULL */
} WanGoldenResult;

typedef struct
{
  GPtrArray *results; /* WanGoldenResult, in manifest order */
  guint n_ok;
  guint n_failed;
  guint n_skipped; /* cases, not tensors */
} WanGoldenReport;

void wan_golden_report_free (WanGoldenReport *report);

/* Runs the cases of the golden set in @golden_dir and writes the results to
 * @out_dir (created if needed). Fails only when the set itself cannot be
 * read or @out_dir cannot be written; a case that fails is a result.
 *
 * Runners exist for "sched", "t5", "dit", "vae" and "pipe" cases. The weight file behind
 * each model output is the one the case's "weights" names for it, by exact
 * name or by the most specific pattern ("out_*_f16w" before "out_*"); without
 * one, the set's naming convention picks "<stem>_<dtype>.safetensors" or the
 * one "<stem>_*_<dtype>.safetensors" ("dit16" for "dit16_case"), the dtype
 * read from an output suffix such as "_bf16w"; other outputs take the F32
 * file, or the only file of that stem. Every size comes from the tensor
 * shapes. The golden outputs are F32 computations,
 * so the check turns the process's BF16 GEMM off while it runs and restores
 * it afterwards: do not run other engine work in the process meanwhile. */
WanGoldenReport *wan_golden_check (const char *golden_dir, const char *out_dir, GError **error);

/* The kind of a case ("sched", "dit", "t5", "vae", "pipe", …): the
 * manifest's "kind" member if present, otherwise the case name without
 * "_case", up to the first '_' and without trailing digits ("dit16" gives
 * "dit", while a name that would shrink below two characters keeps them). */
char *wan_golden_case_kind (const char *case_name, const char *manifest_kind);

/* Writes F32 tensors to @path through a temporary file and a rename. @names,
 * @shapes (each @n_dims[i] long) and @data have @n_tensors entries. */
gboolean wan_golden_write_safetensors (const char *path,
                                       guint n_tensors,
                                       const char *const *names,
                                       const guint *n_dims,
                                       const gint64 *const *shapes,
                                       const float *const *data,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanGoldenReport, wan_golden_report_free)

G_END_DECLS
