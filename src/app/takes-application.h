/* takes-application.h: the studio's application object.
 *
 * One instance per session (GApplication uniqueness). It opens the library,
 * builds the configured backends and the queue, and owns them for the
 * windows it opens.
 */
#pragma once

#include <adwaita.h>

#include "takes-queue.h"
#include "takes-store.h"

G_BEGIN_DECLS

#define TAKES_TYPE_APPLICATION (takes_application_get_type ())
G_DECLARE_FINAL_TYPE (TakesApplication, takes_application, TAKES, APPLICATION, AdwApplication)

TakesApplication *takes_application_new (void);

/* NULL until startup, or when the library could not be opened. */
TakesStore *takes_application_get_store (TakesApplication *self);
TakesQueue *takes_application_get_queue (TakesApplication *self);

/* Where the library is: TAKES_DATA_DIR, else the storage-location setting,
 * else the default data folder. */
char *takes_application_get_data_dir (GSettings *settings);

G_END_DECLS
