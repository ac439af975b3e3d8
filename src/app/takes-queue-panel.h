/* takes-queue-panel.h: the jobs of the queue with progress, ETA and controls.
 *
 * Actions (group "queue-panel"): queue-panel.move-before "(xx)": runs the
 * first job just before the second; dragging a row onto another does this.
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-queue.h"

G_BEGIN_DECLS

#define TAKES_TYPE_QUEUE_PANEL (takes_queue_panel_get_type ())
G_DECLARE_FINAL_TYPE (TakesQueuePanel, takes_queue_panel, TAKES, QUEUE_PANEL, GtkWidget)

GtkWidget *takes_queue_panel_new (void);
void takes_queue_panel_set_queue (TakesQueuePanel *self, TakesQueue *queue);

/* "about 3 min left", "less than a minute left", or NULL when unknown. */
char *takes_queue_panel_format_eta (double seconds);

G_END_DECLS
