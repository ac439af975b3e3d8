/* fake-comfyui.h: a loopback server that behaves like ComfyUI's HTTP routes
 * and WebSocket (remote-protocols.md §3), running queued prompts on a timer
 * and sending the same events, previews and history a real server sends.
 * Reusable by the queue tests.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum
{
  FAKE_COMFYUI_FAULT_NONE = 0,
  /* The WebSocket is cut (no close frame) after the first progress event;
   * the prompt keeps running and its history is stored. */
  FAKE_COMFYUI_FAULT_WS_DROP = 1 << 0,
  /* /ws answers 404, as behind a proxy without WebSocket support. */
  FAKE_COMFYUI_FAULT_NO_WEBSOCKET = 1 << 1,
  /* The sampler fails with CUDA out of memory. */
  FAKE_COMFYUI_FAULT_OOM = 1 << 2,
  /* The sampler fails with an ordinary exception. */
  FAKE_COMFYUI_FAULT_EXEC_ERROR = 1 << 3,
  /* The first /history answers are truncated JSON, then a 500. */
  FAKE_COMFYUI_FAULT_HISTORY_GLITCH = 1 << 4,
  /* Someone else's prompt holds the GPU: ours stays pending. */
  FAKE_COMFYUI_FAULT_BUSY = 1 << 5,
  /* Our prompt starts, reports one step, and then runs until interrupted. */
  FAKE_COMFYUI_FAULT_HANG = 1 << 6,
  /* /models/<folder> answers 404, as servers from before that route do. */
  FAKE_COMFYUI_FAULT_NO_MODELS_ROUTE = 1 << 7,
} FakeComfyuiFault;

typedef struct _FakeComfyui FakeComfyui;

FakeComfyui *fake_comfyui_new (void);
void fake_comfyui_free (FakeComfyui *self);
const char *fake_comfyui_get_url (FakeComfyui *self);

void fake_comfyui_set_faults (FakeComfyui *self, guint faults);
void fake_comfyui_set_token (FakeComfyui *self, const char *token);
void fake_comfyui_remove_node (FakeComfyui *self, const char *class_type);
void fake_comfyui_remove_model (FakeComfyui *self, const char *folder, const char *name);
/* The next POST /prompt fails validation with this node error. */
void fake_comfyui_reject_next_prompt (
    FakeComfyui *self, const char *node_id, const char *class_type, const char *type, const char *details);
void fake_comfyui_set_video (FakeComfyui *self, GBytes *video);

guint fake_comfyui_get_n_prompts (FakeComfyui *self);
guint fake_comfyui_get_n_interrupts (FakeComfyui *self);
guint fake_comfyui_get_n_deletes (FakeComfyui *self);
guint fake_comfyui_get_n_previews (FakeComfyui *self);
guint fake_comfyui_get_n_history (FakeComfyui *self);
/* The API graph of the last accepted prompt. */
JsonObject *fake_comfyui_get_last_graph (FakeComfyui *self);
const char *fake_comfyui_get_last_client_id (FakeComfyui *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeComfyui, fake_comfyui_free)

G_END_DECLS
