/* takes-backend-local.h: takes made on this computer by the built-in Wan engine.
 *
 * The recipe's model id picks a model set: "tiny" is a tiny random model made
 * once under the cache folder (its videos are noise), any other id
 * ("wan2.1-t2v-1.3b", "wan2.2-ti2v-5b", "wan2.2-t2v-a14b", …) is looked up in
 * the model folders, each of which is a model set or holds model sets one
 * level down. Generations run one at a time in a worker thread; the job's
 * signals arrive on the main context of the caller of submit. The result is an
 * H.264 MP4 with the recipe in its tags, written under the output folder
 * through a temporary name, as the remote backends hand back their downloads.
 */
#pragma once

#include "takes-backend.h"

G_BEGIN_DECLS

/* The model id of the tiny test model. */
#define TAKES_BACKEND_LOCAL_TINY_MODEL "tiny"

#define TAKES_TYPE_BACKEND_LOCAL (takes_backend_local_get_type ())

G_DECLARE_FINAL_TYPE (TakesBackendLocal, takes_backend_local, TAKES, BACKEND_LOCAL, GObject)

TakesBackendLocal *takes_backend_local_new (void);

/* Folders searched for model sets, in order ("model-folders" property). */
const char *const *takes_backend_local_get_model_folders (TakesBackendLocal *self);
void takes_backend_local_set_model_folders (TakesBackendLocal *self, const char *const *folders);
/* Keeps "model-folders" in step with the GSettings key of the same name. */
void takes_backend_local_bind_settings (TakesBackendLocal *self, GSettings *settings);

/* Where the tiny model is made (default: the Takes cache folder). */
const char *takes_backend_local_get_cache_dir (TakesBackendLocal *self);
void takes_backend_local_set_cache_dir (TakesBackendLocal *self, const char *cache_dir);

/* Where finished videos are written before the queue moves them into the
 * library (default: "downloads" in the library folder, like DashScope's). */
const char *takes_backend_local_get_output_dir (TakesBackendLocal *self);
void takes_backend_local_set_output_dir (TakesBackendLocal *self, const char *output_dir);

/* Engine threads; 0 means one per processor. */
guint takes_backend_local_get_n_threads (TakesBackendLocal *self);
void takes_backend_local_set_n_threads (TakesBackendLocal *self, guint n_threads);

/* Whether the tiny model is offered (default TRUE); a server of real
 * models turns it off. */
void takes_backend_local_set_tiny_enabled (TakesBackendLocal *self, gboolean enabled);

/* The folder of the model set @model_id names, made first for the tiny model.
 * Blocks (scans folders, may write the tiny model): call it off the main loop. */
char *takes_backend_local_find_model (TakesBackendLocal *self, const char *model_id, GError **error);

/* Whether takes of @model_id are test-model noise. */
gboolean takes_backend_local_model_is_tiny (const char *model_id);

G_END_DECLS
