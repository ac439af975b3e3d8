/* takes-backend-dashscope.h: Wan text-to-video on Alibaba Cloud Model Studio
 * (DashScope), or on any server speaking its task protocol (takes-server).
 *
 * The models, sizes, durations and prices per region come from
 * data/backends/dashscope-models.json. The API key is the "api-key" property
 * when set, else TAKES_DASHSCOPE_API_KEY / DASHSCOPE_API_KEY, else the keyring
 * entry for this backend id and base URL.
 */
#pragma once

#include "takes-backend.h"

G_BEGIN_DECLS

#define TAKES_TYPE_BACKEND_DASHSCOPE (takes_backend_dashscope_get_type ())

G_DECLARE_FINAL_TYPE (TakesBackendDashscope, takes_backend_dashscope, TAKES, BACKEND_DASHSCOPE, GObject)

TakesBackendDashscope *takes_backend_dashscope_new (const char *region, GError **error);
TakesBackendDashscope *
takes_backend_dashscope_new_from_file (const char *models_file, const char *region, GError **error);

const char *takes_backend_dashscope_get_region (TakesBackendDashscope *self);
const char *takes_backend_dashscope_get_base_url (TakesBackendDashscope *self);
void takes_backend_dashscope_set_base_url (TakesBackendDashscope *self, const char *base_url);
void takes_backend_dashscope_set_api_key (TakesBackendDashscope *self, const char *api_key);
/* Whether a request may go out without a key when none is set or the
 * keyring cannot be read (a takes-server on loopback needs none); off by
 * default. */
void takes_backend_dashscope_set_key_optional (TakesBackendDashscope *self, gboolean optional);
void takes_backend_dashscope_set_download_dir (TakesBackendDashscope *self, const char *download_dir);
void takes_backend_dashscope_set_poll_interval (TakesBackendDashscope *self,
                                                double first_seconds,
                                                double max_seconds);
void takes_backend_dashscope_set_poll_timeout (TakesBackendDashscope *self, double seconds);
void takes_backend_dashscope_set_max_download_size (TakesBackendDashscope *self, guint64 max_bytes);
gboolean takes_backend_dashscope_get_price (TakesBackendDashscope *self,
                                            const char *model,
                                            guint width,
                                            guint height,
                                            double *price_per_second,
                                            const char **currency);
const char *const *takes_backend_dashscope_list_regions (TakesBackendDashscope *self);

G_END_DECLS
