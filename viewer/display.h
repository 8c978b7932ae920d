/* display.h - the window and how frames reach it: a Vulkan swapchain (present_vk.h) on the
 * quantsr context's own device, or an SDL_Renderer with texture uploads. --present picks;
 * when Vulkan presentation cannot start or fails later, the window falls back to the
 * SDL_Renderer and the overlay's "present:" line says why. */
#ifndef QSR_VIEWER_DISPLAY_H
#define QSR_VIEWER_DISPLAY_H

#include "app.h"

#include <SDL.h>

typedef struct viewer_display {
    SDL_Window *window;
    qsr_context *ctx;        /* made here for Vulkan presentation and lent to the worker */
    SDL_mutex *queue_lock;   /* the runtime's and the presenter's turns at the queue */
    SDL_atomic_t validation; /* validation-layer messages of ctx, destruction included */
    int w, h;                /* window size asked for */
} viewer_display;

/* Opens a w x h window for `app` the way app->opt.present asks, and sets app->renderer or
 * app->vk and app->present. Returns -1 (message printed) only when no window can be made. */
int viewer_display_open(viewer_display *d, viewer_app *app, int w, int h);
/* Leaves Vulkan presentation for the SDL_Renderer path, saying `why` in the overlay. */
int viewer_display_fall_back(viewer_display *d, viewer_app *app, const char *why);
/* The drawing area in pixels. */
void viewer_display_size(const viewer_display *d, const viewer_app *app, int *w, int *h);
/* Shows what viewer_app_render drew (the Vulkan path has presented already). */
void viewer_display_present(const viewer_display *d, const viewer_app *app);
/* What the window shows now, as a new RGB image. */
int viewer_display_read(const viewer_display *d, viewer_app *app, qsr_image *out, char *err,
                        size_t err_cap);
/* After viewer_app_free: frees the presenter, the window and the context. Returns the number
 * of validation-layer messages the context reported. */
uint32_t viewer_display_close(viewer_display *d, viewer_app *app);

#endif
