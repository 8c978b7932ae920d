/* present_vk.h - presentation through Vulkan: a swapchain on the window's surface, made on the
 * quantsr context's own device and queue, so the network output is drawn from the device
 * buffers qsr_upscaler_run_to_buffer fills, never passing through the CPU.
 *
 * Each frame a compute shader (viewer/shaders/compose.comp) composes the left side (uploaded
 * once per content), the right side (the per-depth output buffer), and the divider and
 * overlay (drawn by the same code as the SDL_Renderer path into a transparent software
 * surface that lives in a host-visible buffer) into a storage buffer, which is copied into the
 * swapchain image. One frame is in flight at a time. The UI thread owns this; the worker thread
 * shares the queue through the context's queue lock (an SDL mutex). */
#ifndef QSR_VIEWER_PRESENT_VK_H
#define QSR_VIEWER_PRESENT_VK_H

#include "overlay.h"
#include "quantsr.h"
#include "view.h"

#include <SDL.h>

typedef struct viewer_vk viewer_vk;

/* A context that can present to `window` (made with SDL_WINDOW_VULKAN): the window system's
 * instance extensions, VK_KHR_swapchain, and `queue_lock` taken around the runtime's queue
 * calls. device: as `quantsr devices` numbers it, 0 = automatic. extra (may be NULL) gives
 * the other fields, e.g. on_validation_message. */
qsr_status viewer_vk_context_create(SDL_Window *window, int32_t device, SDL_mutex *queue_lock,
                                    const qsr_context_desc *extra, qsr_context **out);

/* Makes the surface, the compose pipeline and the swapchain. On failure (no surface support on
 * the context's queue family, no copyable swapchain format, ...) writes why into err and
 * returns -1; nothing is left behind. */
int viewer_vk_create(SDL_Window *window, qsr_context *ctx, SDL_mutex *queue_lock, viewer_vk **out,
                     char *err, size_t err_cap);
/* Waits for the queue, then frees everything. The worker must not be running into a stop
 * buffer. NULL is a no-op. */
void viewer_vk_destroy(viewer_vk *vk);
/* What the overlay's "present:" line says, e.g. "Vulkan swapchain (B8G8R8A8_UNORM, compute
 * compose)". */
const char *viewer_vk_description(const viewer_vk *vk);

/* The left side: an RGB image of the output size (NULL: none). */
int viewer_vk_set_left(viewer_vk *vk, const qsr_image *image, char *err, size_t err_cap);
/* The device buffer of depth stop `stop` (made on first use, or again when the size changed,
 * and filled with `placeholder`, an RGB image of the output size), for
 * qsr_upscaler_run_to_buffer. */
int viewer_vk_open_stop(viewer_vk *vk, uint32_t stop, const qsr_image *placeholder,
                        qsr_gpu_buffer *out, char *err, size_t err_cap);
/* Frees every stop buffer (new content). The worker must not be running into one. */
void viewer_vk_drop_stops(viewer_vk *vk);
/* Copies stop `stop`'s buffer back into a new RGB image (for the Y-PSNR against ground truth;
 * made once per completed stop, not per frame). */
int viewer_vk_read_stop(viewer_vk *vk, uint32_t stop, qsr_image *out, char *err, size_t err_cap);

/* Composes and presents one frame of `view` with stop `right_stop` on the right (-1: none) and
 * the overlay of `hud` (NULL: divider only). A minimised window draws nothing and returns 0; a
 * resized or out-of-date swapchain is made again. -1 (with err) on a failure the caller should
 * fall back from. */
int viewer_vk_draw(viewer_vk *vk, const viewer_view *view, long right_stop, const viewer_hud *hud,
                   char *err, size_t err_cap);
/* The last composed frame as a new RGB image (what `s` saves). */
int viewer_vk_read_frame(viewer_vk *vk, qsr_image *out, char *err, size_t err_cap);

#endif
