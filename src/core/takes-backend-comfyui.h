/* takes-backend-comfyui.h: Wan2.2 on a ComfyUI server (local or shared).
 *
 * Workflows come from data/backends/comfyui-*.json (API format with named
 * parameters); the model file names they load can be changed per backend.
 * Before a prompt is queued, /object_info and /models are checked so a
 * missing node or model file is reported by name. Progress and latent
 * previews arrive over the WebSocket; /history is polled when it drops.
 * A token (for a server behind an authenticating proxy) is optional: the
 * "token" property, else TAKES_COMFYUI_TOKEN, else the keyring.
 */
#pragma once

#include "takes-backend.h"

G_BEGIN_DECLS

#define TAKES_TYPE_BACKEND_COMFYUI (takes_backend_comfyui_get_type ())

G_DECLARE_FINAL_TYPE (TakesBackendComfyui, takes_backend_comfyui, TAKES, BACKEND_COMFYUI, GObject)

TakesBackendComfyui *takes_backend_comfyui_new (const char *url, GError **error);
TakesBackendComfyui *
takes_backend_comfyui_new_with_templates (const char *url, const char *templates_dir, GError **error);

const char *takes_backend_comfyui_get_url (TakesBackendComfyui *self);
void takes_backend_comfyui_set_url (TakesBackendComfyui *self, const char *url);
void takes_backend_comfyui_set_token (TakesBackendComfyui *self, const char *token);
void takes_backend_comfyui_set_download_dir (TakesBackendComfyui *self, const char *download_dir);
void takes_backend_comfyui_set_max_download_size (TakesBackendComfyui *self, guint64 max_bytes);
void takes_backend_comfyui_set_poll_interval (TakesBackendComfyui *self, double seconds);
void takes_backend_comfyui_set_timeout (TakesBackendComfyui *self, double seconds);
const char *const *takes_backend_comfyui_list_model_files (TakesBackendComfyui *self, const char *model);
const char *
takes_backend_comfyui_get_model_file (TakesBackendComfyui *self, const char *model, const char *parameter);
gboolean takes_backend_comfyui_set_model_file (TakesBackendComfyui *self,
                                               const char *model,
                                               const char *parameter,
                                               const char *file_name,
                                               GError **error);
JsonNode *takes_backend_comfyui_build_graph (TakesBackendComfyui *self, TakesRecipe *recipe, GError **error);

G_END_DECLS
