/* display.c - window creation, the choice between Vulkan and SDL_Renderer presentation, and
 * the fallback. */
#include "display.h"

#include "screenshot.h"

#include <SDL_vulkan.h>

#include <stdio.h>
#include <string.h>

static void count_validation_message(void *user, int is_error, const char *message) {
    (void)is_error;
    (void)message; /* the runtime prints it */
    SDL_AtomicAdd((SDL_atomic_t *)user, 1);
}

static SDL_Window *create_window(int w, int h, Uint32 extra_flags) {
    return SDL_CreateWindow("quantsr-view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                            SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI | extra_flags);
}

static SDL_Renderer *create_renderer(SDL_Window *window, char *present, size_t cap,
                                     const char *note) {
    SDL_Renderer *r =
        SDL_CreateRenderer(window, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    if (!r) r = SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE);
    SDL_RendererInfo info;
    if (r && SDL_GetRendererInfo(r, &info) == 0)
        snprintf(present, cap, "SDL_Renderer (texture upload, %s)%s%s", info.name,
                 note[0] ? "; " : "", note);
    return r;
}

/* The SDL_Renderer path on a fresh window. */
static int open_renderer(viewer_display *d, viewer_app *app, const char *note) {
    d->window = create_window(d->w, d->h, 0);
    if (d->window)
        app->renderer = create_renderer(d->window, app->present, sizeof app->present, note);
    if (!d->window || !app->renderer) {
        fprintf(stderr, "quantsr-view: cannot create the window: %s\n", SDL_GetError());
        return -1;
    }
    return 0;
}

/* Context (once), presenter and swapchain on a Vulkan window; on failure writes why. */
static int open_vulkan(viewer_display *d, viewer_app *app, char *why, size_t cap) {
    d->window = create_window(d->w, d->h, SDL_WINDOW_VULKAN);
    if (!d->window) {
        snprintf(why, cap, "no Vulkan window: %s", SDL_GetError());
        return -1;
    }
    if (!d->ctx) {
        qsr_context_desc extra;
        memset(&extra, 0, sizeof extra);
        extra.on_validation_message = count_validation_message;
        extra.validation_user = &d->validation;
        if (viewer_vk_context_create(d->window, app->opt.device, d->queue_lock, &extra, &d->ctx) !=
            QSR_OK) {
            snprintf(why, cap, "%s", qsr_last_error());
            d->ctx = NULL;
            return -1;
        }
        viewer_worker_use_context(app->worker, d->ctx);
    }
    viewer_vk *vk = NULL;
    if (viewer_vk_create(d->window, d->ctx, d->queue_lock, &vk, why, cap) != 0) return -1;
    viewer_app_set_vulkan(app, vk);
    snprintf(app->present, sizeof app->present, "%s", viewer_vk_description(vk));
    return 0;
}

int viewer_display_open(viewer_display *d, viewer_app *app, int w, int h) {
    memset(d, 0, sizeof *d);
    d->w = w;
    d->h = h;
    d->queue_lock = SDL_CreateMutex();
    if (!d->queue_lock) {
        fprintf(stderr, "quantsr-view: SDL_CreateMutex: %s\n", SDL_GetError());
        return -1;
    }
    if (app->opt.present == VIEWER_PRESENT_RENDERER) return open_renderer(d, app, "");
    char why[384];
    if (open_vulkan(d, app, why, sizeof why) == 0) return 0;
    fprintf(stderr, "quantsr-view: Vulkan presentation unavailable (%s); using SDL_Renderer\n",
            why);
    return viewer_display_fall_back(d, app, why);
}

int viewer_display_fall_back(viewer_display *d, viewer_app *app, const char *why) {
    viewer_vk *vk = app->vk;
    char note[300];
    snprintf(note, sizeof note, "Vulkan: %s", why);
    viewer_app_set_vulkan(app, NULL);
    viewer_vk_destroy(vk);
    if (d->window) SDL_DestroyWindow(d->window);
    d->window = NULL;
    return open_renderer(d, app, note);
}

void viewer_display_size(const viewer_display *d, const viewer_app *app, int *w, int *h) {
    *w = *h = 0;
    if (app->vk)
        SDL_Vulkan_GetDrawableSize(d->window, w, h);
    else if (app->renderer)
        SDL_GetRendererOutputSize(app->renderer, w, h);
}

void viewer_display_present(const viewer_display *d, const viewer_app *app) {
    (void)d;
    if (!app->vk && app->renderer) SDL_RenderPresent(app->renderer);
}

int viewer_display_read(const viewer_display *d, viewer_app *app, qsr_image *out, char *err,
                        size_t err_cap) {
    (void)d;
    if (app->vk) return viewer_vk_read_frame(app->vk, out, err, err_cap);
    return viewer_read_frame(app->renderer, app->view.win_w, app->view.win_h, out, err, err_cap);
}

uint32_t viewer_display_close(viewer_display *d, viewer_app *app) {
    viewer_vk_destroy(app->vk);
    app->vk = NULL;
    if (app->renderer) SDL_DestroyRenderer(app->renderer);
    app->renderer = NULL;
    if (d->window) SDL_DestroyWindow(d->window);
    d->window = NULL;
    qsr_context_destroy(d->ctx);
    d->ctx = NULL;
    if (d->queue_lock) SDL_DestroyMutex(d->queue_lock);
    d->queue_lock = NULL;
    return (uint32_t)SDL_AtomicGet(&d->validation);
}
