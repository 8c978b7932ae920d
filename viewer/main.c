/* main.c - quantsr-view: parses the command line, then runs the window loop or, with
 * --screenshot, renders one frame headless (headless.c). */
#include "app.h"
#include "headless.h"
#include "input.h"
#include "options.h"
#include "screenshot.h"

#include <SDL.h>

#include <stdio.h>

/* The loop sleeps until an event: input, or the worker's "result ready". It never spins while
 * a run is in flight, since on a software Vulkan driver (lavapipe) the compute shares the CPU
 * with the drawing. The timeout only expires passing status messages. */
#define WAIT_MS 500

/* A window that shows the output 1:1 if it fits in most of the display. */
static void initial_window_size(const viewer_app *app, int *w, int *h) {
    int out_w = 0, out_h = 0;
    SDL_Rect display = {0, 0, 1600, 1000};
    viewer_app_output_size(app, &out_w, &out_h);
    SDL_GetDisplayUsableBounds(0, &display);
    int max_w = display.w * 9 / 10, max_h = display.h * 9 / 10;
    *w = out_w < 960 ? 960 : out_w;
    *h = out_h < 640 ? 640 : out_h;
    if (*w > max_w) *w = max_w;
    if (*h > max_h) *h = max_h;
    if (app->opt.width) {
        *w = (int)app->opt.width;
        *h = (int)app->opt.height;
    }
}

static SDL_Renderer *create_renderer(SDL_Window *window, char *present, size_t cap) {
    SDL_Renderer *r =
        SDL_CreateRenderer(window, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    if (!r) r = SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE);
    SDL_RendererInfo info;
    if (r && SDL_GetRendererInfo(r, &info) == 0)
        snprintf(present, cap, "SDL_Renderer (texture upload, %s)", info.name);
    return r;
}

static void save_window_screenshot(viewer_app *app) {
    char name[64], err[512];
    qsr_image shot = {0, 0, 0, NULL};
    if (viewer_next_screenshot_name(name, sizeof name) != 0) {
        viewer_app_set_status(app, "screenshot: quantsr-view-001..999.png all exist");
        return;
    }
    if (viewer_read_frame(app->renderer, app->view.win_w, app->view.win_h, &shot, err,
                          sizeof err) != 0 ||
        viewer_save_png(name, &shot, err, sizeof err) != 0) {
        if (shot.pixels) qsr_image_free(&shot);
        viewer_app_set_status(app, "screenshot failed: %s", err);
        return;
    }
    qsr_image_free(&shot);
    viewer_app_set_status(app, "saved %s", name);
}

/* Keeps the view's drawing area equal to the renderer's output in pixels (HiDPI safe). */
static void sync_window_size(viewer_app *app, SDL_Window *window, viewer_input *in) {
    int pw = 0, ph = 0, ww = 0, wh = 0;
    SDL_GetRendererOutputSize(app->renderer, &pw, &ph);
    SDL_GetWindowSize(window, &ww, &wh);
    in->pixels_per_point = ww > 0 ? (float)pw / (float)ww : 1.0f;
    if (pw != app->view.win_w || ph != app->view.win_h) viewer_view_set_window(&app->view, pw, ph);
}

static void update_title(SDL_Window *window, const viewer_app *app) {
    char title[512];
    snprintf(title, sizeof title, "quantsr-view - %s - %s",
             app->source_name[0] ? app->source_name : "(no image)", app->model.name);
    if (SDL_strcmp(SDL_GetWindowTitle(window), title) != 0) SDL_SetWindowTitle(window, title);
}

static void event_loop(viewer_app *app, SDL_Window *window) {
    viewer_input in;
    viewer_input_init(&in);
    while (!in.quit) {
        SDL_Event ev;
        if (SDL_WaitEventTimeout(&ev, WAIT_MS)) {
            sync_window_size(app, window, &in);
            viewer_input_handle(app, &in, &ev);
            while (!in.quit && SDL_PollEvent(&ev))
                viewer_input_handle(app, &in, &ev);
        }
        viewer_app_poll(app);
        sync_window_size(app, window, &in);
        update_title(window, app);
        viewer_app_render(app, !app->opt.no_overlay);
        if (in.screenshot_requested) {
            in.screenshot_requested = 0;
            save_window_screenshot(app);
        }
        SDL_RenderPresent(app->renderer);
    }
    viewer_input_free(&in);
}

static int run_window(const viewer_options *opt) {
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr,
                "quantsr-view: cannot open a window: %s (headless: use --screenshot OUT.png)\n",
                SDL_GetError());
        return VIEWER_EXIT_FAILURE;
    }
    uint32_t wake = SDL_RegisterEvents(1);
    viewer_app app;
    int w = 0, h = 0, code = VIEWER_EXIT_FAILURE;
    SDL_Window *window = NULL;
    if (viewer_app_init(&app, opt, 960, 640, wake == (uint32_t)-1 ? 0 : wake) != 0) goto done;
    initial_window_size(&app, &w, &h);
    window = SDL_CreateWindow("quantsr-view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                              SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (window) app.renderer = create_renderer(window, app.present, sizeof app.present);
    if (!window || !app.renderer) {
        fprintf(stderr, "quantsr-view: cannot create the window: %s\n", SDL_GetError());
        goto done;
    }
    SDL_EventState(SDL_DROPFILE, SDL_ENABLE);
    SDL_GetRendererOutputSize(app.renderer, &w, &h);
    viewer_view_set_window(&app.view, w, h);
    if (opt->zoom) viewer_view_set_zoom(&app.view, opt->zoom);
    event_loop(&app, window);
    SDL_HideWindow(window); /* closing waits for a run in flight to finish */
    code = VIEWER_EXIT_OK;
done:
    viewer_app_free(&app);
    if (app.renderer) SDL_DestroyRenderer(app.renderer);
    if (window) SDL_DestroyWindow(window);
    SDL_Quit();
    return code;
}

int main(int argc, char **argv) {
    viewer_options opt;
    switch (viewer_parse_options(argc, argv, &opt)) {
    case VIEWER_PARSE_HELP:
        return VIEWER_EXIT_OK;
    case VIEWER_PARSE_ERROR:
        return VIEWER_EXIT_USAGE;
    case VIEWER_PARSE_OK:
        break;
    }
    if (opt.screenshot) return viewer_run_headless(&opt);
    return run_window(&opt);
}
