/* takes-store-batches.h: batches in the library, and their takes laid out
 * by variable.
 *
 * A batch keeps what its plan was made of (template, negative template,
 * mode, seed mode, the variables in file order with their values, the
 * recipe parameters) and one take per variant. Each take carries its
 * variable values as JSON and as "name=value" tags, so the gallery can
 * filter by one value and lay a batch out on a grid of two variables.
 *
 * Same rules as takes-store.h: one thread per store, every change in one
 * transaction, errors in the TAKES_STORE_ERROR domain.
 */
#pragma once

#include "takes-batch-plan.h"
#include "takes-store.h"

G_BEGIN_DECLS

/* The longest "name=value" tag a take gets; longer values are shortened in
 * the tag (with "…") and kept whole in the take's variables. */
#define TAKES_BATCH_TAG_MAX_CHARS 64

typedef struct
{
  gint64 id;
  gint64 project_id;
  char *name;          /* "" when the plan had none */
  char *template_text; /* the prompt template */
  char *negative_text; /* the negative template, "" when none */
  TakesBatchMode mode; /* cross or zip */
  TakesBatchSeedMode seed_mode;
  JsonObject *seed;       /* "mode" and "seed", "base" or "seeds", as the plan's JSON has them */
  GStrv axes;             /* the variable names in the order of the file */
  JsonObject *variables;  /* variable name → array of values */
  JsonObject *params;     /* the recipe parameters of the plan (backend, size…) */
  gint64 created;         /* microseconds since the epoch */
  guint n_takes;          /* takes of the batch still in the library */
  guint status_counts[5]; /* of those, how many per TakesTakeStatus */
} TakesBatchInfo;

#define TAKES_TYPE_BATCH_INFO (takes_batch_info_get_type ())
GType takes_batch_info_get_type (void);
TakesBatchInfo *takes_batch_info_copy (const TakesBatchInfo *info);
void takes_batch_info_free (TakesBatchInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesBatchInfo, takes_batch_info_free)

/* Called inside the transaction that stores a batch, once per take right
 * after the take is inserted (its id is set), so a caller can add rows that
 * belong with it, such as the queue's job. Returning FALSE undoes the whole
 * batch. */
typedef gboolean (*TakesStoreBatchTakeFunc) (
    TakesStore *store, TakesTake *take, const TakesBatchVariant *variant, gpointer user_data, GError **error);

/* Stores @plan as a batch of @project_id (0: the default project) with one
 * queued take per variant, all in one transaction: nothing is stored when
 * anything fails. Every variant's recipe is built and validated first.
 * @backend and @model (may be NULL) replace the plan's. @take_func (may be
 * NULL) is called for each take as described above. @takes (may be NULL)
 * receives the new takes in variant order. */
TakesBatchInfo *takes_store_add_batch (TakesStore *self,
                                       gint64 project_id,
                                       TakesBatchPlan *plan,
                                       const char *backend,
                                       const char *model,
                                       TakesStoreBatchTakeFunc take_func,
                                       gpointer user_data,
                                       GPtrArray **takes,
                                       GError **error);

/* The pieces of takes_store_add_batch() for callers whose takes are stored
 * by someone else (TakesQueue writes each take with its job):
 *
 * The takes of @plan's variants in @project_id, not yet stored: recipes
 * built and validated (an error names the variant), variables and
 * "name=value" tags set, @backend and @model (may be NULL) replacing the
 * plan's. Set their batch id before storing them. */
GPtrArray *takes_batch_plan_make_takes (
    TakesBatchPlan *plan, gint64 project_id, const char *backend, const char *model, GError **error);
/* Stores the batch of @plan without takes. */
TakesBatchInfo *takes_store_create_batch_from_plan (TakesStore *self,
                                                    gint64 project_id,
                                                    TakesBatchPlan *plan,
                                                    GError **error);
/* Deletes a batch that has no takes, to undo takes_store_create_batch_from_plan()
 * when its takes could not be stored; a batch with takes is refused. */
gboolean takes_store_delete_empty_batch (TakesStore *self, gint64 batch_id, GError **error);

/* One batch with its take counts; TAKES_STORE_ERROR_NOT_FOUND when there is
 * no such batch. */
TakesBatchInfo *takes_store_get_batch_info (TakesStore *self, gint64 batch_id, GError **error);
/* TakesBatchInfo of a project (0: every project), newest first. */
GPtrArray *takes_store_list_batch_infos (TakesStore *self, gint64 project_id, GError **error);

/* The takes of one grid cell: usually one, several when the batch varies
 * more than the two variables shown or lists several seeds. */
typedef struct
{
  guint n_takes;
  gint64 *take_ids; /* in variant order */
} TakesBatchCell;

typedef struct
{
  gint64 batch_id;
  char *row_axis;    /* NULL: a single row */
  char *column_axis; /* NULL: a single column */
  guint n_rows;
  guint n_columns;
  GStrv row_values;    /* n_rows labels ("" for the single row) */
  GStrv column_values; /* n_columns labels */
  /* n_rows × n_columns cells, row by row; NULL where no take has that pair
   * of values (a zip batch, or a deleted take). */
  TakesBatchCell **cells;
} TakesBatchGrid;

#define TAKES_TYPE_BATCH_GRID (takes_batch_grid_get_type ())
GType takes_batch_grid_get_type (void);
TakesBatchGrid *takes_batch_grid_copy (const TakesBatchGrid *grid);
void takes_batch_grid_free (TakesBatchGrid *grid);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesBatchGrid, takes_batch_grid_free)

/* The cell at @row, @column, or NULL when it is empty. */
const TakesBatchCell *takes_batch_grid_get_cell (const TakesBatchGrid *grid, guint row, guint column);
/* The first take of the cell, or 0 when it is empty. */
gint64 takes_batch_grid_get_take (const TakesBatchGrid *grid, guint row, guint column);

/* Lays the batch's takes out with the values of @row_axis down and
 * @column_axis across (either may be NULL for a single row or column; both
 * must be variables of the batch and differ). Values come in the batch's
 * order, followed by any value only a take has. @fixed (name → value, may
 * be NULL) keeps only the takes with those values of the other variables. */
TakesBatchGrid *takes_store_get_batch_grid (TakesStore *self,
                                            gint64 batch_id,
                                            const char *row_axis,
                                            const char *column_axis,
                                            GHashTable *fixed,
                                            GError **error);

G_END_DECLS
