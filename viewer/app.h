/* app.h - the viewer's state and what the keys, the mouse and the compute thread do to it.
 *
 * The UI thread owns everything here. Network runs go to the worker (worker.h) as jobs with
 * increasing ids; `content_first_id` is the first id of the current content (image + model),
 * so results of anything older are dropped when they arrive. */
#ifndef QSR_VIEWER_APP_H
#define QSR_VIEWER_APP_H

#include "files.h"
#include "imageops.h"
#include "options.h"
#include "overlay.h"
#include "present_vk.h"
#include "render.h"
#include "results.h"
#include "tiles.h"
#include "view.h"
#include "worker.h"

#include <SDL.h>

typedef enum viewer_source_kind {
    VIEWER_SOURCE_NONE,   /* nothing open yet: drop a file */
    VIEWER_SOURCE_STILL,  /* an image, or the images of a folder one at a time */
    VIEWER_SOURCE_FRAMES, /* --frames: a folder played as video */
    VIEWER_SOURCE_DEMO    /* --demo: the procedural scene */
} viewer_source_kind;

/* What the UI needs to know about a model (the worker holds its own loaded copy). */
typedef struct viewer_model_summary {
    char path[VIEWER_PATH_MAX];
    char name[128];
    qsr_model_info info;
    uint32_t stops[VIEWER_MAX_STOPS]; /* depth levels in blocks, ascending, last = all */
    uint64_t macs[VIEWER_MAX_STOPS];  /* per LR pixel at each stop */
    /* Set5/Set14 Y-PSNR at each stop from the results.csv beside the model (NAN: unknown). */
    viewer_published published[VIEWER_MAX_STOPS];
    uint32_t stop_count;
    uint32_t capabilities; /* qsr_model_capabilities */
} viewer_model_summary;

/* Which tiles were last requested: a new request is made only when this changes. */
typedef struct viewer_tile_request {
    uint64_t content_first_id;
    uint32_t stop;
    viewer_tile_range range;
    int valid;
} viewer_tile_request;

/* --budget-ms: while active, the depth is the worker's qsr_upscaler_depth_for_budget choice
 * for the whole input. A still image asks for a choice when its content is new (a
 * VIEWER_BUDGET_ONLY job; no tiles are computed before it comes back) and takes the revised
 * choice that ends each run of its tiles; a live frame is run at the choice made just before
 * it. Moving the slider by hand turns it off, `b` toggles it. */
typedef struct viewer_budget {
    double ms;  /* 0: no --budget-ms */
    int active; /* the depth follows the budget */
    int failed; /* the last choice failed (no timestamps, ...): off until `b` */
    /* STILL: the content_first_id the choice was made for (0: none) and the choice job in
     * flight (0: none). */
    uint64_t content_id, asked_id;
    viewer_budget_choice choice; /* the newest */
} viewer_budget;

typedef struct viewer_app {
    viewer_options opt;
    SDL_Renderer *renderer; /* set before the first viewer_app_render */
    char present[512];      /* how frames reach the screen, for the overlay */
    viewer_worker *worker;

    viewer_file_list models; /* the `m` cycle */
    viewer_model_summary model;
    uint32_t stop; /* selected index into model.stops */
    viewer_budget budget;

    viewer_source_kind kind;
    viewer_file_list files; /* STILL folder or FRAMES */
    size_t file_index;
    char source_name[256];
    qsr_image source;   /* STILL: the decoded image, kept for model changes */
    viewer_frame frame; /* the input shown now, prepared for the model */
    int has_frame;

    /* STILL: outputs per depth stop of the current content, computed tile by tile as they
     * come on screen; `placeholder` (the dimmed bicubic) fills the tiles not computed yet. */
    viewer_tile_cache tiles;
    qsr_image placeholder;
    viewer_tile_request last_request; /* the newest tiles asked of the worker */
    int view_ready; /* the view has its real size: visible tiles can be requested */
    /* The output on the right side: a cache entry or the newest live frame. */
    qsr_image live_output;
    const qsr_image *right_image;
    uint32_t right_depth;
    qsr_run_stats right_stats;
    double right_psnr;

    uint64_t next_job_id, content_first_id, awaiting_id;
    int in_flight; /* the job `awaiting_id` has not come back yet */
    long awaiting_stop;
    viewer_frame pending_frame; /* live: the input of the job in flight */

    /* Live frames. */
    int paused;
    double demo_time;
    uint64_t last_tick_ms;
    uint32_t fps_frames;
    uint64_t fps_since_ms;
    double fps;
    uint32_t failed_in_a_row;

    /* Vulkan presentation (NULL: the SDL_Renderer path). The outputs then live in its device
     * buffers: one per depth stop for a still image, two taking turns for live frames. */
    viewer_vk *vk;
    long right_slot;    /* the device buffer on the right (-1: none) */
    uint32_t live_slot; /* the one the next live frame goes to */
    qsr_run_stats pending_stats;

    viewer_texture left_tex, right_tex;
    int left_dirty, right_dirty;
    viewer_irect right_dirty_rect; /* new tiles to upload (empty: none) */
    int left_nearest;
    viewer_view view;

    char status[256];
    uint64_t status_until_ms;
    char error[512];
    char device[256];
    uint32_t validation_messages;
    int show_help;
} viewer_app;

/* Loads the model (-m or the default), opens the source of the options and starts the first
 * run. win_w x win_h is the initial drawing area. On failure prints why and returns -1. */
int viewer_app_init(viewer_app *app, const viewer_options *opt, int win_w, int win_h,
                    uint32_t wake_event);
void viewer_app_free(viewer_app *app);

/* Switches presentation to `vk` (owned by the caller), or back to the SDL_Renderer path with
 * NULL; outputs computed so far are computed again into the new place. */
void viewer_app_set_vulkan(viewer_app *app, viewer_vk *vk);

/* Opens an image, a folder of images or a .qsr model; on failure keeps the current state,
 * shows the error and returns -1. */
int viewer_app_open(viewer_app *app, const char *path);
void viewer_app_cycle_model(viewer_app *app, int direction);
void viewer_app_set_stop(viewer_app *app, uint32_t stop);
void viewer_app_step_image(viewer_app *app, int direction);
void viewer_app_toggle_nearest(viewer_app *app);
void viewer_app_toggle_pause(viewer_app *app);
/* `b`: the depth follows --budget-ms again, or the slider sets it. */
void viewer_app_toggle_budget(viewer_app *app);
void viewer_app_set_status(viewer_app *app, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Takes finished results and, for live sources, starts the next frame. */
void viewer_app_poll(viewer_app *app);
/* The view has its real size (set app->view first): from now on the tiles on screen are
 * computed. */
void viewer_app_view_ready(viewer_app *app);
/* Headless: blocks until the output for the current view has arrived. Returns -1 (with
 * app->error set) if the run failed or, with --budget-ms, no depth could be chosen. */
int viewer_app_wait(viewer_app *app);
/* Output size of the current input (0 x 0 when none). */
void viewer_app_output_size(const viewer_app *app, int *w, int *h);

/* The results.csv numbers of the selected model and depth ("none" if unknown), as the
 * overlay shows them; for --print-stats. */
void viewer_app_published_line(const viewer_app *app, char *out, size_t cap);

/* With --budget-ms: the budget, whether the depth follows it, and the chosen depth with its
 * predicted and measured device time, as the overlay shows them (for --print-stats). */
void viewer_app_budget_line(const viewer_app *app, char *out, size_t cap);

/* Draws the current frame onto the renderer's target, with or without the overlay. On a
 * texture upload failure sets app->error and returns -1. */
int viewer_app_render(viewer_app *app, int with_overlay);
void viewer_app_build_hud(const viewer_app *app, viewer_hud *hud);
/* One line on what the shown output cost: depth, tiles and LR pixels computed of the whole,
 * runs, multiply-accumulates and milliseconds (--print-stats). */
void viewer_app_stats_line(const viewer_app *app, char *out, size_t cap);

#endif
