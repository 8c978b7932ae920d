/* main.c - quantsr-view: parses the command line, then runs the window loop or, with
 * --screenshot, renders one frame headless (headless.c) or, with --present vulkan, through
 * the window's swapchain. */
#include "app.h"
#include "display.h"
#include "headless.h"
#include "input.h"
#include "options.h"
#include "screenshot.h"

#include <SDL.h>

#include <stdio.h>
#include <string.h>

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

static void save_window_screenshot(viewer_app *app, const viewer_display *d) {
    char name[64], err[512];
    qsr_image shot = {0, 0, 0, NULL};
    if (viewer_next_screenshot_name(name, sizeof name) != 0) {
        viewer_app_set_status(app, "screenshot: quantsr-view-001..999.png all exist");
        return;
    }
    if (viewer_display_read(d, app, &shot, err, sizeof err) != 0 ||
        viewer_save_png(name, &shot, err, sizeof err) != 0) {
        if (shot.pixels) qsr_image_free(&shot);
        viewer_app_set_status(app, "screenshot failed: %s", err);
        return;
    }
    qsr_image_free(&shot);
    viewer_app_set_status(app, "saved %s", name);
}

/* Keeps the view's drawing area equal to the drawable in pixels (HiDPI safe). */
static void sync_window_size(viewer_app *app, const viewer_display *d, viewer_input *in) {
    int pw = 0, ph = 0, ww = 0, wh = 0;
    viewer_display_size(d, app, &pw, &ph);
    SDL_GetWindowSize(d->window, &ww, &wh);
    in->pixels_per_point = ww > 0 && pw > 0 ? (float)pw / (float)ww : 1.0f;
    if (pw > 0 && ph > 0 && (pw != app->view.win_w || ph != app->view.win_h))
        viewer_view_set_window(&app->view, pw, ph);
}

static void update_title(SDL_Window *window, const viewer_app *app) {
    char title[512];
    snprintf(title, sizeof title, "quantsr-view - %s - %s",
             app->source_name[0] ? app->source_name : "(no image)", app->model.name);
    if (SDL_strcmp(SDL_GetWindowTitle(window), title) != 0) SDL_SetWindowTitle(window, title);
}

/* Draws one frame (the Vulkan path presents it too); a failed Vulkan frame moves the window
 * to the SDL_Renderer path. Returns -1 only when no window is left. */
static int draw_frame(viewer_app *app, viewer_display *d, viewer_input *in) {
    if (viewer_app_render(app, !app->opt.no_overlay) == 0 || !app->vk) return 0;
    char why[512];
    snprintf(why, sizeof why, "%s", app->error);
    if (viewer_display_fall_back(d, app, why) != 0) return -1;
    viewer_input_free(in);
    viewer_input_init(in);
    sync_window_size(app, d, in);
    viewer_app_render(app, !app->opt.no_overlay);
    return 0;
}

static void event_loop(viewer_app *app, viewer_display *d) {
    viewer_input in;
    viewer_input_init(&in);
    while (!in.quit) {
        SDL_Event ev;
        if (SDL_WaitEventTimeout(&ev, WAIT_MS)) {
            sync_window_size(app, d, &in);
            viewer_input_handle(app, &in, &ev);
            while (!in.quit && SDL_PollEvent(&ev))
                viewer_input_handle(app, &in, &ev);
        }
        viewer_app_poll(app);
        sync_window_size(app, d, &in);
        update_title(d->window, app);
        if (draw_frame(app, d, &in) != 0) break;
        if (in.screenshot_requested) { /* before presenting: SDL's back buffer is then gone */
            in.screenshot_requested = 0;
            save_window_screenshot(app, d);
        }
        viewer_display_present(d, app);
    }
    viewer_input_free(&in);
}

/* --screenshot with --present vulkan or renderer: the real window draws a few frames once the
 * output is in, and the last one is saved. The frame time is the mean of the frames after the
 * first (which uploads the images). */
#define SHOT_FRAMES 5

static int window_screenshot(viewer_app *app, viewer_display *d) {
    char err[512];
    viewer_input in;
    viewer_input_init(&in);
    int rc = viewer_app_wait(app);
    double frame_ms = 0;
    qsr_image shot = {0, 0, 0, NULL};
    for (int i = 0; rc == 0 && i < SHOT_FRAMES; i++) {
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) /* keep the window system answered */
            ;
        sync_window_size(app, d, &in);
        uint64_t t0 = SDL_GetPerformanceCounter();
        rc = draw_frame(app, d, &in);
        if (rc == 0 && i == SHOT_FRAMES - 1 &&
            viewer_display_read(d, app, &shot, err, sizeof err) != 0) {
            fprintf(stderr, "quantsr-view: %s\n", err);
            rc = -1;
        }
        viewer_display_present(d, app);
        if (i > 0)
            frame_ms += (double)(SDL_GetPerformanceCounter() - t0) * 1e3 /
                        (double)SDL_GetPerformanceFrequency() / (SHOT_FRAMES - 1);
    }
    viewer_input_free(&in);
    /* The presenter's context counts everything; a context of the worker's own, its runs. */
    int messages = SDL_AtomicGet(&d->validation);
    if (messages < (int)app->validation_messages) messages = (int)app->validation_messages;
    if (rc == 0 && messages) {
        fprintf(stderr, "quantsr-view: the Vulkan validation layer reported %d message(s)\n",
                messages);
        rc = -1;
    }
    if (rc == 0 && viewer_save_png(app->opt.screenshot, &shot, err, sizeof err) != 0) {
        fprintf(stderr, "quantsr-view: %s\n", err);
        rc = -1;
    }
    if (rc == 0)
        printf("quantsr-view: wrote %s (%ux%u, %s, %s at depth %u, %.1f ms, frame %.2f ms)\n",
               app->opt.screenshot, shot.width, shot.height, app->present, app->model.name,
               app->right_depth, app->right_stats.total_ms, frame_ms);
    if (rc == 0 && app->opt.print_stats) {
        char line[512];
        viewer_app_stats_line(app, line, sizeof line);
        printf("quantsr-view: stats: %s\n", line);
        viewer_app_budget_line(app, line, sizeof line);
        if (app->opt.budget_ms > 0) printf("quantsr-view: budget: %s\n", line);
    }
    qsr_image_free(&shot);
    return rc;
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
    viewer_display d;
    memset(&d, 0, sizeof d);
    int w = 0, h = 0, code = VIEWER_EXIT_FAILURE;
    if (viewer_app_init(&app, opt, 960, 640, wake == (uint32_t)-1 ? 0 : wake) != 0) goto done;
    initial_window_size(&app, &w, &h);
    if (viewer_display_open(&d, &app, w, h) != 0) goto done;
    SDL_EventState(SDL_DROPFILE, SDL_ENABLE);
    viewer_display_size(&d, &app, &w, &h);
    viewer_view_set_window(&app.view, w, h);
    if (opt->zoom) viewer_view_set_zoom(&app.view, opt->zoom);
    viewer_app_view_ready(&app);
    if (opt->screenshot) {
        code = window_screenshot(&app, &d) == 0 ? VIEWER_EXIT_OK : VIEWER_EXIT_FAILURE;
    } else {
        event_loop(&app, &d);
        code = VIEWER_EXIT_OK;
    }
    SDL_HideWindow(d.window); /* closing waits for a run in flight to finish */
done:
    viewer_app_free(&app);
    uint32_t messages = viewer_display_close(&d, &app);
    if (messages) {
        fprintf(stderr, "quantsr-view: the Vulkan validation layer reported %u message(s)\n",
                messages);
        /* Messages at teardown (objects never destroyed) come after the file was written. */
        if (opt->screenshot && code == VIEWER_EXIT_OK) remove(opt->screenshot);
        if (opt->screenshot) code = VIEWER_EXIT_FAILURE;
    }
    SDL_Quit();
    return code;
}

int main(int argc, char **argv) {
    /* No qsr_prefer_wide_cpu_vectors here, unlike quantsr: LP_NATIVE_VECTOR_WIDTH applies to
     * Mesa's OpenGL llvmpipe too, which SDL's renderer uses on a machine without a GPU, and
     * that crashed at 512 bits (Mesa 22.3: quantsr-view --screenshot exited with SIGSEGV). */
    viewer_options opt;
    switch (viewer_parse_options(argc, argv, &opt)) {
    case VIEWER_PARSE_HELP:
        return VIEWER_EXIT_OK;
    case VIEWER_PARSE_ERROR:
        return VIEWER_EXIT_USAGE;
    case VIEWER_PARSE_OK:
        break;
    }
    /* --screenshot renders offscreen, unless --present names a path: then the real window and
     * that path draw it (a Vulkan screenshot needs the swapchain). */
    if (opt.screenshot && opt.present == VIEWER_PRESENT_AUTO) return viewer_run_headless(&opt);
    return run_window(&opt);
}
