/* headless.c - one frame to a PNG, for tests and README pictures. */
#include "headless.h"

#include "app.h"
#include "screenshot.h"

#include <SDL.h>

#include <stdio.h>

/* Where the frame is drawn: a window-system renderer's target texture or a surface. */
typedef struct offscreen {
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *target;
    SDL_Surface *surface;
    int video; /* SDL's video subsystem is up */
} offscreen;

static void offscreen_free(offscreen *o) {
    if (o->target) SDL_DestroyTexture(o->target);
    if (o->renderer) SDL_DestroyRenderer(o->renderer);
    if (o->window) SDL_DestroyWindow(o->window);
    if (o->surface) SDL_FreeSurface(o->surface);
    if (o->video) SDL_QuitSubSystem(SDL_INIT_VIDEO);
    SDL_memset(o, 0, sizeof *o);
}

/* The display's renderer, drawing into a w x h target texture of a hidden window. */
static int open_window_target(offscreen *o, int w, int h) {
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) return -1;
    o->video = 1;
    o->window = SDL_CreateWindow("quantsr-view", 0, 0, w, h, SDL_WINDOW_HIDDEN);
    if (o->window) o->renderer = SDL_CreateRenderer(o->window, -1, SDL_RENDERER_TARGETTEXTURE);
    if (o->renderer)
        o->target =
            SDL_CreateTexture(o->renderer, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_TARGET, w, h);
    if (!o->target || SDL_SetRenderTarget(o->renderer, o->target) != 0) {
        offscreen_free(o);
        return -1;
    }
    return 0;
}

static int open_software(offscreen *o, int w, int h) {
    o->surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    if (o->surface) o->renderer = SDL_CreateSoftwareRenderer(o->surface);
    if (!o->renderer) {
        fprintf(stderr, "quantsr-view: cannot create a %dx%d software renderer: %s\n", w, h,
                SDL_GetError());
        offscreen_free(o);
        return -1;
    }
    return 0;
}

static int open_offscreen(offscreen *o, int w, int h) {
    SDL_memset(o, 0, sizeof *o);
    if (open_window_target(o, w, h) == 0) return 0;
    fprintf(stderr,
            "quantsr-view: no display renderer (%s); drawing with the software "
            "renderer\n",
            SDL_GetError());
    return open_software(o, w, h);
}

static int clamp_int(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* --size, else the output at --zoom (1 by default), within 64x64..1920x1080. */
static void frame_size(const viewer_app *app, int *w, int *h) {
    int out_w = 0, out_h = 0;
    viewer_app_output_size(app, &out_w, &out_h);
    double zoom = app->opt.zoom > 0 ? app->opt.zoom : 1.0;
    *w = clamp_int((int)(out_w * zoom + 0.5), 64, 1920);
    *h = clamp_int((int)(out_h * zoom + 0.5), 64, 1080);
    if (app->opt.width) {
        *w = (int)app->opt.width;
        *h = (int)app->opt.height;
    }
}

/* The view of the frame, before anything is computed: only the tiles it shows are. */
static void set_view(viewer_app *app, int w, int h) {
    viewer_view_set_window(&app->view, w, h);
    if (app->opt.zoom > 0)
        viewer_view_set_zoom(&app->view, app->opt.zoom);
    else
        viewer_view_fit(&app->view);
    viewer_app_view_ready(app);
}

/* Draws the frame and reads it back into *shot. */
static int render_to_image(viewer_app *app, offscreen *o, int w, int h, qsr_image *shot) {
    char err[512];
    SDL_RendererInfo info;
    app->renderer = o->renderer;
    if (SDL_GetRendererInfo(o->renderer, &info) == 0)
        snprintf(app->present, sizeof app->present, "SDL_Renderer (texture upload, %s)", info.name);
    if (viewer_app_render(app, !app->opt.no_overlay) != 0) return -1;
    if (viewer_read_frame(o->renderer, w, h, shot, err, sizeof err) != 0) {
        fprintf(stderr, "quantsr-view: %s\n", err);
        return -1;
    }
    return 0;
}

int viewer_run_headless(const viewer_options *opt) {
    viewer_app app;
    offscreen o = {0};
    qsr_image shot = {0, 0, 0, NULL};
    int w = 0, h = 0, code = VIEWER_EXIT_FAILURE;
    char err[512];
    if (viewer_app_init(&app, opt, 64, 64, 0) != 0) goto done;
    /* A still image's size is known now, and the view decides which tiles to compute; a live
     * source's size comes with its first frame, which is computed whole. */
    int live = app.kind != VIEWER_SOURCE_STILL;
    if (live && viewer_app_wait(&app) != 0) goto done;
    frame_size(&app, &w, &h);
    set_view(&app, w, h);
    if (!live && viewer_app_wait(&app) != 0) goto done;
    if (app.validation_messages) {
        fprintf(stderr, "quantsr-view: the Vulkan validation layer reported %u message(s)\n",
                app.validation_messages);
        goto done;
    }
    if (open_offscreen(&o, w, h) != 0 || render_to_image(&app, &o, w, h, &shot) != 0) goto done;
    if (viewer_save_png(opt->screenshot, &shot, err, sizeof err) != 0) {
        fprintf(stderr, "quantsr-view: %s\n", err);
        goto done;
    }
    printf("quantsr-view: wrote %s (%dx%d, %s, %s at depth %u, %.1f ms)\n", opt->screenshot, w, h,
           app.present, app.model.name, app.right_depth, app.right_stats.total_ms);
    if (opt->print_stats) {
        char line[512];
        viewer_app_stats_line(&app, line, sizeof line);
        printf("quantsr-view: stats: %s\n", line);
        viewer_app_published_line(&app, line, sizeof line);
        printf("quantsr-view: published: %s\n", line);
        viewer_app_budget_line(&app, line, sizeof line);
        if (opt->budget_ms > 0) printf("quantsr-view: budget: %s\n", line);
    }
    code = VIEWER_EXIT_OK;
done:
    qsr_image_free(&shot);
    viewer_app_free(&app); /* textures first, while their renderer lives */
    offscreen_free(&o);
    SDL_Quit();
    return code;
}
