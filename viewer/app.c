/* app.c - models, sources, the per-depth output cache and the exchange with the worker. */
#include "app.h"

#include "demo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_MS 4000

static void set_error(viewer_app *app, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void set_error(viewer_app *app, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->error, sizeof app->error, fmt, ap);
    va_end(ap);
    fprintf(stderr, "quantsr-view: %s\n", app->error);
}

void viewer_app_set_status(viewer_app *app, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->status, sizeof app->status, fmt, ap);
    va_end(ap);
    app->status_until_ms = SDL_GetTicks64() + STATUS_MS;
}

/* ------------------------------------------------------------------------------------------
 * Models
 */

/* The depth stops: the model's levels plus "every block", unique, ascending. */
static void make_stops(const qsr_model *model, viewer_model_summary *s) {
    uint32_t blocks = s->info.blocks;
    s->stop_count = 0;
    s->capabilities = qsr_model_capabilities(model);
    for (uint32_t d = 1; d <= blocks && s->stop_count < VIEWER_MAX_STOPS; d++) {
        int is_level = d == blocks;
        for (uint32_t i = 0; i < s->info.depth_level_count && i < QSR_MAX_DEPTH_LEVELS; i++)
            is_level |= s->info.depth_levels[i] == d;
        if (!is_level) continue;
        s->macs[s->stop_count] = qsr_model_macs_per_pixel(model, d);
        viewer_published *p = &s->published[s->stop_count];
        if (viewer_published_lookup(s->path, d, p) != 0) p->set5_psnr = p->set14_psnr = NAN;
        s->stops[s->stop_count++] = d;
    }
}

static void model_name(const char *path, char *out, size_t cap) {
    snprintf(out, cap, "%s", viewer_basename(path));
    size_t n = strlen(out);
    if (n > 4 && viewer_is_model_path(out)) out[n - 4] = '\0';
}

static int summarize_model(viewer_app *app, const char *path, viewer_model_summary *out) {
    qsr_model *model = NULL;
    qsr_status st = qsr_model_load_file(path, &model);
    if (st == QSR_OK) st = qsr_model_get_info(model, &out->info);
    if (st != QSR_OK) {
        set_error(app, "cannot load model '%s': %s", path, qsr_last_error());
        qsr_model_destroy(model);
        return -1;
    }
    snprintf(out->path, sizeof out->path, "%s", path);
    model_name(path, out->name, sizeof out->name);
    make_stops(model, out); /* after out->path: it finds results.csv beside the model */
    qsr_model_destroy(model);
    return 0;
}

/* Stop index for `depth` blocks (0 = all); -1 if it is not a stop. */
static long stop_of_depth(const viewer_model_summary *m, uint32_t depth) {
    if (depth == 0) return (long)m->stop_count - 1;
    for (uint32_t i = 0; i < m->stop_count; i++)
        if (m->stops[i] == depth) return (long)i;
    return -1;
}

/* ------------------------------------------------------------------------------------------
 * Content: the input shown and its outputs
 */

static void free_cache(viewer_app *app) {
    viewer_tile_cache_free(&app->tiles);
    qsr_image_free(&app->placeholder);
    app->right_image = NULL;
    app->right_dirty = 1;
}

/* Results of jobs submitted so far will be dropped. With Vulkan the worker is also stopped,
 * since its jobs write into device buffers that are about to be freed. */
static void forget_jobs(viewer_app *app) {
    app->content_first_id = app->next_job_id;
    app->in_flight = 0;
    app->awaiting_stop = -1;
    app->last_request.valid = 0;
    if (app->vk) {
        viewer_worker_cancel(app->worker);
        viewer_vk_drop_stops(app->vk);
    }
    app->right_slot = -1;
}

/* Everything computed so far belongs to the old content. */
static void new_content(viewer_app *app) {
    forget_jobs(app);
    viewer_frame_free(&app->pending_frame);
    free_cache(app);
}

static void show_frame(viewer_app *app) {
    app->left_dirty = 1;
    viewer_view_set_image(&app->view, (int)app->frame.bicubic.width,
                          (int)app->frame.bicubic.height);
}

/* A job for the current model at stop `stop`, with a copy of input; -1 if out of memory. */
static int make_job(viewer_app *app, const qsr_image *input, uint32_t stop, viewer_job *job) {
    memset(job, 0, sizeof *job);
    if (qsr_image_create(input->width, input->height, 3, &job->input) != QSR_OK) {
        set_error(app, "out of memory for a %ux%u input", input->width, input->height);
        return -1;
    }
    memcpy(job->input.pixels, input->pixels, (size_t)input->width * input->height * 3);
    job->id = app->next_job_id++;
    job->depth = app->model.stops[stop];
    snprintf(job->model_path, sizeof job->model_path, "%s", app->model.path);
    return 0;
}

/* Sends `job`, the one whose last result the UI now waits for (awaiting_stop -1: none). */
static void send_job(viewer_app *app, viewer_job *job, long awaiting_stop) {
    app->awaiting_id = job->id;
    app->awaiting_stop = awaiting_stop;
    app->in_flight = 1;
    viewer_worker_submit(app->worker, job);
}

/* A run for the current model; takes a copy of input and ownership of regions. While the
 * budget is active a live frame runs at the depth the worker chooses for it, and a still
 * image's tiles end with a revised choice. */
static void submit(viewer_app *app, const qsr_image *input, uint32_t stop, qsr_rect *regions,
                   uint32_t region_count, const qsr_gpu_buffer *target) {
    viewer_job job;
    if (make_job(app, input, stop, &job) != 0) {
        free(regions);
        return;
    }
    job.regions = regions;
    job.region_count = region_count;
    if (target) job.target = *target;
    if (app->budget.active) {
        job.budget = app->kind == VIEWER_SOURCE_STILL ? VIEWER_BUDGET_REVISE : VIEWER_BUDGET_PICK;
        job.budget_ms = app->budget.ms;
    }
    send_job(app, &job, (long)stop);
}

/* STILL with the budget active: is there a choice for the current content? If not, and none
 * is on its way, asks the worker for one. */
static int have_budget_choice(viewer_app *app) {
    viewer_budget *b = &app->budget;
    if (!b->active || (b->content_id && b->content_id == app->content_first_id)) return 1;
    if (b->asked_id && b->asked_id >= app->content_first_id) return 0;
    viewer_job job;
    if (make_job(app, &app->frame.lr, app->stop, &job) != 0) return 0;
    job.budget = VIEWER_BUDGET_ONLY;
    job.budget_ms = b->ms;
    b->asked_id = job.id;
    send_job(app, &job, -1);
    return 0;
}

static int budget_choosing(const viewer_app *app) {
    const viewer_budget *b = &app->budget;
    return b->active && b->asked_id && b->asked_id >= app->content_first_id;
}

/* The right side shows stop `stop` of the tile cache: what is computed, dim elsewhere. */
static void show_stop(viewer_app *app, uint32_t stop) {
    const viewer_stop_tiles *s = &app->tiles.stops[stop];
    /* With Vulkan the pixels are on the device; the placeholder stands for "there is a right
     * side" in the overlay. */
    app->right_image = app->vk ? &app->placeholder : &s->image;
    app->right_slot = app->vk ? (long)stop : -1;
    app->right_depth = app->model.stops[stop];
    app->right_stats = s->stats;
    app->right_psnr = NAN;
    app->right_dirty = 1;
}

/* Y-PSNR of a completed stop against the ground truth (--hr). With Vulkan the output is read
 * back once for this measurement, never for drawing. */
static void measure_stop(viewer_app *app, uint32_t stop) {
    if (!app->frame.gt.pixels || !viewer_tile_cache_is_complete(&app->tiles, stop)) return;
    if (!app->vk) {
        app->right_psnr = viewer_frame_psnr(&app->frame, &app->tiles.stops[stop].image);
        return;
    }
    qsr_image out;
    char err[256];
    if (viewer_vk_read_stop(app->vk, stop, &out, err, sizeof err) != 0) {
        set_error(app, "%s", err);
        return;
    }
    app->right_psnr = viewer_frame_psnr(&app->frame, &out);
    qsr_image_free(&out);
}

/* With Vulkan: the device buffer of stop `stop`, made on first use. */
static int stop_buffer(viewer_app *app, uint32_t stop, qsr_gpu_buffer *out) {
    char err[256];
    if (viewer_vk_open_stop(app->vk, stop, &app->placeholder, out, err, sizeof err) == 0) return 0;
    set_error(app, "%s", err);
    return -1;
}

/* STILL: the tile layout and placeholder of the current frame. */
static int open_tile_cache(viewer_app *app) {
    viewer_tile_grid grid;
    /* A model without exact regions (QuantSR-T: windows over the whole image) is computed as
     * one tile, or its tiles would show seams. */
    viewer_tile_grid_make(app->frame.lr.width, app->frame.lr.height, app->frame.scale,
                          !(app->model.capabilities & QSR_MODEL_CAP_REGION_EXACT), &grid);
    viewer_tile_cache_reset(&app->tiles, &grid);
    qsr_image_free(&app->placeholder);
    if (viewer_image_dim(&app->frame.bicubic, &app->placeholder) != QSR_OK) {
        set_error(app, "out of memory for a %ux%u output", app->frame.bicubic.width,
                  app->frame.bicubic.height);
        return -1;
    }
    return 0;
}

/* The cache tiles under the right side of the window. */
static viewer_tile_range visible_tiles(const viewer_app *app) {
    viewer_irect vis =
        viewer_view_visible(&app->view, viewer_view_split_x(&app->view), app->view.win_w);
    return viewer_tile_range_of(&app->tiles.grid, vis.x0, vis.y0, vis.x1, vis.y1);
}

static int same_request(const viewer_tile_request *a, const viewer_tile_request *b) {
    return a->valid && b->valid && a->content_first_id == b->content_first_id &&
           a->stop == b->stop && a->range.c0 == b->range.c0 && a->range.r0 == b->range.r0 &&
           a->range.c1 == b->range.c1 && a->range.r1 == b->range.r1;
}

/* STILL: shows the selected stop and asks the worker for its visible tiles not computed yet.
 * Cheap when nothing changed, so it runs on every pass of the event loop. */
static void request_current(viewer_app *app) {
    if (app->kind != VIEWER_SOURCE_STILL || !app->has_frame || !app->placeholder.pixels) return;
    if (!have_budget_choice(app)) return; /* nothing is shown or computed before it */
    qsr_gpu_buffer target = {NULL, 0, 0};
    if (app->vk && stop_buffer(app, app->stop, &target) != 0) return;
    if (!app->tiles.stops[app->stop].computed || app->right_depth != app->model.stops[app->stop] ||
        !app->right_image) {
        if (viewer_tile_cache_open_stop(&app->tiles, app->stop,
                                        app->vk ? NULL : &app->placeholder) != QSR_OK) {
            set_error(app, "%s", qsr_last_error());
            return;
        }
        show_stop(app, app->stop);
        measure_stop(app, app->stop);
    }
    if (!app->view_ready) return;
    viewer_tile_request want = {app->content_first_id, app->stop, visible_tiles(app), 1};
    if (same_request(&want, &app->last_request)) return;
    app->last_request = want;
    uint32_t cap = app->tiles.grid.rows * app->tiles.grid.cols;
    qsr_rect *regions = malloc((cap ? cap : 1) * sizeof *regions);
    if (!regions) {
        set_error(app, "out of memory for %u tile regions", cap);
        return;
    }
    uint32_t n = viewer_tile_cache_missing(&app->tiles, app->stop, want.range, regions, cap);
    if (n == 0) {
        free(regions);
        return;
    }
    submit(app, &app->frame.lr, app->stop, regions, n, app->vk ? &target : NULL);
}

/* STILL: prepares app->source for the current model and starts its first run. */
static int prepare_still(viewer_app *app) {
    viewer_frame f;
    if (viewer_frame_prepare(&app->source, app->model.info.scale, app->opt.hr, &f) != QSR_OK) {
        set_error(app, "%s: %s", app->source_name, qsr_last_error());
        return -1;
    }
    new_content(app);
    viewer_frame_free(&app->frame);
    app->frame = f;
    app->has_frame = 1;
    app->error[0] = '\0';
    show_frame(app);
    if (open_tile_cache(app) != 0) return -1;
    request_current(app);
    return 0;
}

static int load_still(viewer_app *app, size_t index) {
    qsr_image img;
    const char *path = app->files.paths[index];
    if (qsr_image_load_file(path, 0, &img) != QSR_OK) {
        set_error(app, "cannot open image: %s", qsr_last_error()); /* names the file */
        return -1;
    }
    qsr_image old = app->source;
    app->source = img;
    snprintf(app->source_name, sizeof app->source_name, "%s", viewer_basename(path));
    if (prepare_still(app) != 0) {
        app->source = old;
        qsr_image_free(&img);
        return -1;
    }
    qsr_image_free(&old);
    app->file_index = index;
    return 0;
}

static int set_model(viewer_app *app, const char *given_path) {
    viewer_model_summary s;
    char path[VIEWER_PATH_MAX];
    viewer_canonical_path(given_path, path, sizeof path);
    if (summarize_model(app, path, &s) != 0) return -1;
    uint32_t old_depth = app->model.stop_count ? app->model.stops[app->stop] : 0;
    app->model = s;
    long stop = stop_of_depth(&s, old_depth);
    app->stop = stop >= 0 ? (uint32_t)stop : s.stop_count - 1;
    viewer_file_list_add(&app->models, path);
    new_content(app);
    if (app->kind != VIEWER_SOURCE_STILL || !app->source.pixels) return 0;
    if (prepare_still(app) != 0) {
        /* The input does not suit the new model (e.g. --hr and a larger scale): show none
         * rather than a frame prepared for another scale. */
        viewer_frame_free(&app->frame);
        app->has_frame = 0;
        app->left_dirty = 1;
        return -1;
    }
    return 0;
}

/* Picks -m, else the default model name, else the first model found. */
static int choose_initial_model(viewer_app *app) {
    viewer_list_models(&app->models);
    if (app->opt.model) return set_model(app, app->opt.model);
    for (size_t i = 0; i < app->models.count; i++)
        if (strcmp(viewer_basename(app->models.paths[i]), "quantsr_c_x4_w4a4.qsr") == 0)
            return set_model(app, app->models.paths[i]);
    if (app->models.count) return set_model(app, app->models.paths[0]);
    char dirs[3 * VIEWER_PATH_MAX];
    viewer_describe_model_dirs(dirs, sizeof dirs);
    set_error(app, "no model: pass -m MODEL.qsr or put .qsr files in one of: %s", dirs);
    return -1;
}

static int apply_initial_depth(viewer_app *app) {
    if (!app->opt.has_depth) return 0;
    long stop = stop_of_depth(&app->model, app->opt.depth);
    if (stop < 0) {
        char levels[128] = "";
        for (uint32_t i = 0; i < app->model.stop_count; i++) {
            size_t n = strlen(levels);
            snprintf(levels + n, sizeof levels - n, " %u", app->model.stops[i]);
        }
        set_error(app, "--depth %u is not a depth level of model '%s' (levels:%s; 0 = all)",
                  app->opt.depth, app->model.path, levels);
        return -1;
    }
    app->stop = (uint32_t)stop;
    return 0;
}

static int open_folder(viewer_app *app, const char *dir, viewer_source_kind kind) {
    viewer_file_list files;
    if (viewer_list_files(dir, viewer_is_image_path, &files, app->error, sizeof app->error) != 0) {
        fprintf(stderr, "quantsr-view: %s\n", app->error);
        return -1;
    }
    if (files.count == 0) {
        set_error(app, "folder '%s' has no .png/.jpg/.jpeg/.bmp/.tga images", dir);
        viewer_file_list_free(&files);
        return -1;
    }
    viewer_file_list old = app->files;
    viewer_source_kind old_kind = app->kind;
    size_t old_index = app->file_index;
    app->files = files;
    app->kind = kind;
    if (kind == VIEWER_SOURCE_STILL && load_still(app, 0) != 0) {
        viewer_file_list_free(&app->files);
        app->files = old;
        app->kind = old_kind;
        app->file_index = old_index;
        return -1;
    }
    viewer_file_list_free(&old);
    app->file_index = 0;
    if (kind == VIEWER_SOURCE_FRAMES) {
        snprintf(app->source_name, sizeof app->source_name, "%s", dir);
        new_content(app);
    }
    return 0;
}

static int open_image(viewer_app *app, const char *path) {
    viewer_file_list files = {NULL, 0};
    if (viewer_file_list_add(&files, path) != 0) {
        set_error(app, "out of memory");
        return -1;
    }
    viewer_file_list old = app->files;
    viewer_source_kind old_kind = app->kind;
    app->files = files;
    app->kind = VIEWER_SOURCE_STILL;
    if (load_still(app, 0) != 0) {
        viewer_file_list_free(&app->files);
        app->files = old;
        app->kind = old_kind;
        return -1;
    }
    viewer_file_list_free(&old);
    return 0;
}

void viewer_app_set_vulkan(viewer_app *app, viewer_vk *vk) {
    forget_jobs(app); /* while app->vk is still the old one: its buffers go */
    app->vk = vk;
    viewer_frame_free(&app->pending_frame);
    app->left_dirty = 1;
    app->right_dirty = 1;
    app->right_image = NULL;
    if (app->kind == VIEWER_SOURCE_STILL && app->has_frame && open_tile_cache(app) == 0)
        request_current(app);
}

int viewer_app_open(viewer_app *app, const char *path) {
    if (viewer_is_directory(path)) return open_folder(app, path, VIEWER_SOURCE_STILL);
    if (viewer_is_model_path(path)) return set_model(app, path);
    return open_image(app, path);
}

static int open_initial_source(viewer_app *app) {
    const viewer_options *o = &app->opt;
    if (o->frames) {
        if (!viewer_is_directory(o->frames)) {
            set_error(app, "--frames needs a folder of images, '%s' is not one", o->frames);
            return -1;
        }
        return open_folder(app, o->frames, VIEWER_SOURCE_FRAMES);
    }
    if (o->demo) {
        app->kind = VIEWER_SOURCE_DEMO;
        snprintf(app->source_name, sizeof app->source_name, "demo");
        return 0;
    }
    if (o->input) return viewer_app_open(app, o->input);
    viewer_app_set_status(app, "drop an image, a folder or a .qsr model on the window");
    app->status_until_ms = ~0ull;
    return 0;
}

int viewer_app_init(viewer_app *app, const viewer_options *opt, int win_w, int win_h,
                    uint32_t wake_event) {
    memset(app, 0, sizeof *app);
    app->opt = *opt;
    app->left_nearest = opt->nearest;
    app->awaiting_stop = -1;
    app->right_psnr = NAN;
    app->next_job_id = 1;
    app->right_slot = -1;
    app->budget.ms = opt->budget_ms;
    app->budget.active = opt->budget_ms > 0;
    viewer_view_init(&app->view, win_w, win_h, opt->split);
    snprintf(app->present, sizeof app->present, "SDL_Renderer (texture upload)");
    app->worker = viewer_worker_start(opt->device, wake_event, app->error, sizeof app->error);
    if (!app->worker) {
        fprintf(stderr, "quantsr-view: %s\n", app->error);
        return -1;
    }
    if (choose_initial_model(app) != 0 || apply_initial_depth(app) != 0) return -1;
    if (opt->input && viewer_is_model_path(opt->input)) {
        set_error(app, "'%s' is a model: pass it with -m and give an image", opt->input);
        return -1;
    }
    return open_initial_source(app);
}

void viewer_app_free(viewer_app *app) {
    viewer_worker_stop(app->worker);
    app->worker = NULL;
    free_cache(app);
    qsr_image_free(&app->live_output);
    qsr_image_free(&app->source);
    viewer_frame_free(&app->frame);
    viewer_frame_free(&app->pending_frame);
    viewer_file_list_free(&app->files);
    viewer_file_list_free(&app->models);
    viewer_texture_free(&app->left_tex);
    viewer_texture_free(&app->right_tex);
}

/* ------------------------------------------------------------------------------------------
 * User actions
 */

void viewer_app_cycle_model(viewer_app *app, int direction) {
    if (app->models.count < 2) {
        viewer_app_set_status(app, "no other model in the models folder");
        return;
    }
    long i = viewer_file_list_find(&app->models, app->model.path);
    long n = (long)app->models.count;
    i = ((i < 0 ? 0 : i) + direction + n) % n;
    if (set_model(app, app->models.paths[i]) == 0)
        viewer_app_set_status(app, "model %s", app->model.name);
}

void viewer_app_set_stop(viewer_app *app, uint32_t stop) {
    if (stop >= app->model.stop_count) return;
    if (app->budget.active) {
        app->budget.active = 0;
        viewer_app_set_status(app, "budget off: the slider sets the depth (b: back on)");
    }
    if (stop == app->stop) return;
    app->stop = stop;
    request_current(app); /* live sources pick it up with the next frame */
}

void viewer_app_step_image(viewer_app *app, int direction) {
    if (app->kind != VIEWER_SOURCE_STILL || app->files.count < 2) return;
    size_t n = app->files.count;
    size_t next = (app->file_index + n + (direction < 0 ? n - 1 : 1)) % n;
    load_still(app, next);
}

void viewer_app_toggle_nearest(viewer_app *app) {
    app->left_nearest = !app->left_nearest;
    app->left_dirty = 1;
}

void viewer_app_toggle_budget(viewer_app *app) {
    viewer_budget *b = &app->budget;
    if (b->ms <= 0) {
        viewer_app_set_status(app, "no budget: start with --budget-ms T");
        return;
    }
    b->active = !b->active;
    b->failed = 0;
    b->content_id = 0; /* choose again, with everything measured since */
    b->asked_id = 0;
    if (b->active)
        viewer_app_set_status(app, "budget %.10g ms: it sets the depth again", b->ms);
    else
        viewer_app_set_status(app, "budget off: the slider sets the depth");
    request_current(app);
}

void viewer_app_toggle_pause(viewer_app *app) {
    if (app->kind != VIEWER_SOURCE_FRAMES && app->kind != VIEWER_SOURCE_DEMO) return;
    app->paused = !app->paused;
    app->last_tick_ms = SDL_GetTicks64();
    viewer_app_set_status(app, app->paused ? "paused" : "playing");
}

/* ------------------------------------------------------------------------------------------
 * Live frames
 */

/* Decodes or renders the next live input; NULL-free image on failure (error set). */
static int next_live_image(viewer_app *app, qsr_image *out) {
    if (app->kind == VIEWER_SOURCE_DEMO) {
        uint64_t now = SDL_GetTicks64();
        if (app->last_tick_ms && !app->paused) app->demo_time += (now - app->last_tick_ms) / 1e3;
        app->last_tick_ms = now;
        if (viewer_demo_render(VIEWER_DEMO_WIDTH, VIEWER_DEMO_HEIGHT, app->demo_time, out) ==
            QSR_OK)
            return 0;
        set_error(app, "demo: %s", qsr_last_error());
        return -1;
    }
    const char *path = app->files.paths[app->file_index];
    snprintf(app->source_name, sizeof app->source_name, "%s (%zu/%zu)", viewer_basename(path),
             app->file_index + 1, app->files.count);
    app->file_index = (app->file_index + 1) % app->files.count;
    if (qsr_image_load_file(path, 0, out) == QSR_OK) return 0;
    set_error(app, "cannot open frame: %s", qsr_last_error()); /* names the file */
    return -1;
}

static void start_live_frame(viewer_app *app) {
    qsr_image img;
    if (next_live_image(app, &img) != 0) {
        /* Skip unreadable frames, but stop if none can be read. */
        if (++app->failed_in_a_row >= (app->files.count ? app->files.count : 1)) app->paused = 1;
        return;
    }
    viewer_frame f;
    qsr_status st = viewer_frame_prepare(&img, app->model.info.scale, app->opt.hr, &f);
    qsr_image_free(&img);
    if (st != QSR_OK) {
        set_error(app, "%s: %s", app->source_name, qsr_last_error());
        if (++app->failed_in_a_row >= (app->files.count ? app->files.count : 1)) app->paused = 1;
        return;
    }
    app->failed_in_a_row = 0;
    viewer_frame_free(&app->pending_frame);
    app->pending_frame = f;
    if (!app->vk) {
        submit(app, &f.lr, app->stop, NULL, 0, NULL);
        return;
    }
    /* Vulkan: the whole frame as one region into the device buffer not on screen. */
    qsr_gpu_buffer target;
    char err[256];
    qsr_rect *whole = malloc(sizeof *whole);
    if (!whole ||
        viewer_vk_open_stop(app->vk, app->live_slot, &f.bicubic, &target, err, sizeof err) != 0) {
        set_error(app, "%s", whole ? err : "out of memory");
        free(whole);
        app->paused = 1;
        return;
    }
    *whole = (qsr_rect){0, 0, f.lr.width, f.lr.height};
    submit(app, &f.lr, app->stop, whole, 1, &target);
}

static void count_fps(viewer_app *app) {
    uint64_t now = SDL_GetTicks64();
    if (!app->fps_since_ms) app->fps_since_ms = now;
    app->fps_frames++;
    if (now - app->fps_since_ms >= 500) {
        app->fps = app->fps_frames * 1e3 / (double)(now - app->fps_since_ms);
        app->fps_frames = 0;
        app->fps_since_ms = now;
    }
}

static void finish_live_frame(viewer_app *app, viewer_result *res) {
    viewer_frame_free(&app->frame);
    app->frame = app->pending_frame;
    memset(&app->pending_frame, 0, sizeof app->pending_frame);
    app->has_frame = 1;
    show_frame(app);
    qsr_image_free(&app->live_output);
    app->live_output = res->output;
    memset(&res->output, 0, sizeof res->output);
    app->right_image = &app->live_output;
    app->right_depth = res->depth;
    app->right_stats = res->stats;
    app->right_psnr = viewer_frame_psnr(&app->frame, &app->live_output);
    app->right_dirty = 1;
    count_fps(app);
}

/* Vulkan: the live frame just computed into device buffer app->live_slot goes on screen. */
static void finish_live_frame_on_device(viewer_app *app, const viewer_result *res) {
    viewer_frame_free(&app->frame);
    app->frame = app->pending_frame;
    memset(&app->pending_frame, 0, sizeof app->pending_frame);
    app->has_frame = 1;
    show_frame(app);
    app->right_image = &app->live_output; /* no host copy: stands for "there is one" */
    app->right_slot = (long)app->live_slot;
    app->live_slot ^= 1u;
    app->right_depth = res->depth;
    app->right_stats = app->pending_stats;
    app->right_psnr = NAN;
    count_fps(app);
}

/* ------------------------------------------------------------------------------------------
 * Results
 */

static void add_dirty_rect(viewer_irect *dirty, viewer_irect r) {
    if (dirty->x0 >= dirty->x1 || dirty->y0 >= dirty->y1) {
        *dirty = r;
        return;
    }
    if (r.x0 < dirty->x0) dirty->x0 = r.x0;
    if (r.y0 < dirty->y0) dirty->y0 = r.y0;
    if (r.x1 > dirty->x1) dirty->x1 = r.x1;
    if (r.y1 > dirty->y1) dirty->y1 = r.y1;
}

/* STILL: a computed region goes into its stop's cache (and on screen if it is shown). */
static void store_region(viewer_app *app, viewer_result *res) {
    long stop = stop_of_depth(&app->model, res->depth);
    if (stop < 0 || !app->tiles.stops[stop].computed) return;
    if (viewer_tile_cache_store(&app->tiles, (uint32_t)stop, res->region,
                                app->vk ? NULL : &res->output, &res->stats) != QSR_OK) {
        set_error(app, "%s", qsr_last_error());
        return;
    }
    if ((uint32_t)stop != app->stop) return;
    uint32_t s = app->tiles.grid.scale;
    viewer_irect r = {(int)(res->region.x * s), (int)(res->region.y * s),
                      (int)((res->region.x + res->region.width) * s),
                      (int)((res->region.y + res->region.height) * s)};
    add_dirty_rect(&app->right_dirty_rect, r);
    app->right_stats = app->tiles.stops[stop].stats;
    measure_stop(app, (uint32_t)stop);
}

/* The budget could not be chosen: it is off until `b`, and the slider sets the depth. */
static void budget_failed(viewer_app *app, const char *why) {
    app->budget.active = 0;
    app->budget.failed = 1;
    app->budget.asked_id = 0;
    set_error(app, "--budget-ms %.10g: cannot choose a depth (%s); the slider sets it",
              app->budget.ms, why);
}

/* A choice the worker made for the current content: the slider moves to it (a still image
 * then shows that depth's tiles, computing those not done yet). */
static void follow_budget(viewer_app *app, const viewer_budget_choice *choice) {
    if (!app->budget.active || !choice->made) return;
    app->budget.choice = *choice;
    long stop = stop_of_depth(&app->model, choice->depth);
    if (stop >= 0) app->stop = (uint32_t)stop;
    request_current(app);
}

static void handle_result(viewer_app *app, viewer_result *res) {
    int awaited =
        app->in_flight && res->id == app->awaiting_id && res->kind != VIEWER_RESULT_REGION;
    int live = app->kind == VIEWER_SOURCE_FRAMES || app->kind == VIEWER_SOURCE_DEMO;
    if (res->device[0]) snprintf(app->device, sizeof app->device, "%s", res->device);
    app->validation_messages = res->validation_messages;
    if (res->id < app->content_first_id) return; /* for an image or model no longer shown */
    if (awaited) app->in_flight = 0;
    if (awaited && res->status == QSR_OK) app->error[0] = '\0';
    if (res->kind == VIEWER_RESULT_BUDGET && res->id == app->budget.asked_id) {
        app->budget.asked_id = 0;
        app->budget.content_id = app->content_first_id;
    }
    if (res->choice.failed) {
        budget_failed(app, res->error); /* a live frame is not paused: the next one runs */
        return;
    }
    if (res->kind == VIEWER_RESULT_REGION && res->status != QSR_OK) return; /* END reports it */
    if (res->status != QSR_OK) {
        set_error(app, "QuantSR run failed: %s", res->error);
        if (live) app->paused = 1;
        return;
    }
    if (live) {
        if (res->kind == VIEWER_RESULT_WHOLE && awaited) finish_live_frame(app, res);
        if (res->kind == VIEWER_RESULT_REGION) app->pending_stats = res->stats;
        if (res->kind == VIEWER_RESULT_END && awaited && app->vk)
            finish_live_frame_on_device(app, res);
        if (awaited) follow_budget(app, &res->choice);
        return;
    }
    if (res->kind == VIEWER_RESULT_REGION) store_region(app, res);
    follow_budget(app, &res->choice); /* BUDGET, or the revised choice of an END */
}

void viewer_app_poll(viewer_app *app) {
    viewer_result res;
    while (viewer_worker_take(app->worker, &res)) {
        handle_result(app, &res);
        qsr_image_free(&res.output);
    }
    int live = app->kind == VIEWER_SOURCE_FRAMES || app->kind == VIEWER_SOURCE_DEMO;
    if (live && !app->in_flight && !app->paused) start_live_frame(app);
    request_current(app); /* the view may have moved onto tiles not computed yet */
    if (app->status_until_ms && SDL_GetTicks64() > app->status_until_ms) {
        app->status[0] = '\0';
        app->status_until_ms = 0;
    }
}

void viewer_app_view_ready(viewer_app *app) {
    app->view_ready = 1;
    request_current(app);
}

int viewer_app_wait(viewer_app *app) {
    viewer_app_poll(app); /* live sources submit their first frame here */
    while (app->in_flight) {
        viewer_result res;
        viewer_worker_wait(app->worker, &res);
        handle_result(app, &res);
        qsr_image_free(&res.output);
    }
    if (app->error[0] || app->budget.failed) return -1; /* budget_failed said why */
    if (!app->right_image) {
        set_error(app, "nothing to show: no output was computed");
        return -1;
    }
    return 0;
}

void viewer_app_output_size(const viewer_app *app, int *w, int *h) {
    *w = app->has_frame ? (int)app->frame.bicubic.width : 0;
    *h = app->has_frame ? (int)app->frame.bicubic.height : 0;
}

/* ------------------------------------------------------------------------------------------
 * Drawing
 */

static int upload(viewer_app *app) {
    char err[256];
    if (app->left_dirty && !app->has_frame) viewer_texture_free(&app->left_tex);
    if (app->left_dirty && app->has_frame) {
        const qsr_image *left = app->left_nearest ? &app->frame.nearest : &app->frame.bicubic;
        if (viewer_texture_set(app->renderer, &app->left_tex, left, err, sizeof err) != 0) {
            set_error(app, "%s", err);
            return -1;
        }
    }
    app->left_dirty = 0;
    viewer_irect tiles = app->right_dirty_rect;
    memset(&app->right_dirty_rect, 0, sizeof app->right_dirty_rect);
    if (app->right_dirty) {
        app->right_dirty = 0;
        if (!app->right_image)
            viewer_texture_free(&app->right_tex);
        else if (viewer_texture_set(app->renderer, &app->right_tex, app->right_image, err,
                                    sizeof err) != 0) {
            set_error(app, "%s", err);
            return -1;
        }
    } else if (app->right_image && tiles.x0 < tiles.x1 && tiles.y0 < tiles.y1) {
        if (viewer_texture_update_rect(&app->right_tex, app->right_image, tiles, err, sizeof err) !=
            0) {
            set_error(app, "%s", err);
            return -1;
        }
    }
    return 0;
}

/* Vulkan: the left side goes to the device once per content; the frame is composed there. */
static int render_vulkan(viewer_app *app, int with_overlay) {
    char err[512];
    if (app->left_dirty) {
        const qsr_image *left = app->left_nearest ? &app->frame.nearest : &app->frame.bicubic;
        if (viewer_vk_set_left(app->vk, app->has_frame ? left : NULL, err, sizeof err) != 0) {
            set_error(app, "%s", err);
            return -1;
        }
        app->left_dirty = 0;
    }
    viewer_hud hud;
    if (with_overlay) viewer_app_build_hud(app, &hud);
    if (viewer_vk_draw(app->vk, &app->view, app->right_image ? app->right_slot : -1,
                       with_overlay ? &hud : NULL, err, sizeof err) != 0) {
        set_error(app, "Vulkan presentation failed: %s", err);
        return -1;
    }
    return 0;
}

int viewer_app_render(viewer_app *app, int with_overlay) {
    if (app->vk) return render_vulkan(app, with_overlay);
    int status = upload(app);
    viewer_hud hud;
    if (with_overlay) viewer_app_build_hud(app, &hud);
    viewer_scene scene = {&app->left_tex, &app->right_tex, &app->view, with_overlay ? &hud : NULL};
    viewer_render_scene(app->renderer, &scene);
    return status;
}

static void bits_text(const qsr_model_info *info, char *out, size_t cap) {
    if (info->bits_w == 32 && info->bits_a == 32)
        snprintf(out, cap, "fp32");
    else
        snprintf(out, cap, "w%ua%u", info->bits_w, info->bits_a);
}

static void psnr_text(double psnr, char *out, size_t cap) {
    if (isnan(psnr))
        snprintf(out, cap, "-");
    else if (isinf(psnr))
        snprintf(out, cap, "inf dB");
    else
        snprintf(out, cap, "%.2f dB", psnr);
}

static void add_line(viewer_hud *hud, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void add_line(viewer_hud *hud, const char *fmt, ...) {
    if (hud->line_count >= VIEWER_HUD_LINES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hud->lines[hud->line_count++], VIEWER_HUD_LINE_CAP, fmt, ap);
    va_end(ap);
}

void viewer_app_published_line(const viewer_app *app, char *out, size_t cap) {
    const viewer_model_summary *m = &app->model;
    const viewer_published *pub = &m->published[app->stop];
    if (app->stop >= m->stop_count || isnan(pub->set5_psnr) || isnan(pub->set14_psnr))
        snprintf(out, cap, "none");
    else
        snprintf(out, cap, "at depth %u: Set5 %.2f dB, Set14 %.2f dB", m->stops[app->stop],
                 pub->set5_psnr, pub->set14_psnr);
}

/* The device time measured for the shown output: a live frame's, or the sum over the tiles of
 * a still image computed so far (with " for A/B tiles" until all are). */
static void measured_text(const viewer_app *app, char *out, size_t cap) {
    if (!app->right_image || app->right_depth != app->budget.choice.depth) {
        snprintf(out, cap, "-");
        return;
    }
    if (app->kind != VIEWER_SOURCE_STILL) {
        snprintf(out, cap, "%.2f ms", app->right_stats.gpu_ms);
        return;
    }
    const viewer_stop_tiles *t = &app->tiles.stops[app->stop];
    uint32_t all = viewer_tile_count(&app->tiles.grid);
    if (t->computed_count == 0)
        snprintf(out, cap, "-");
    else if (t->computed_count < all)
        snprintf(out, cap, "%.2f ms for %u/%u tiles", t->stats.gpu_ms, t->computed_count, all);
    else
        snprintf(out, cap, "%.2f ms", t->stats.gpu_ms);
}

void viewer_app_budget_line(const viewer_app *app, char *out, size_t cap) {
    const viewer_budget *b = &app->budget;
    const viewer_budget_choice *c = &b->choice;
    if (b->failed) {
        snprintf(out, cap, "%.10g ms, off: no depth could be chosen", b->ms);
    } else if (!b->active) {
        snprintf(out, cap, "%.10g ms, off: the slider sets the depth", b->ms);
    } else if (!c->made || budget_choosing(app)) {
        snprintf(out, cap, "%.10g ms, choosing a depth", b->ms);
    } else {
        char measured[64];
        measured_text(app, measured, sizeof measured);
        snprintf(out, cap, "%.10g ms, depth %u of %u%s, predicted %.2f ms, measured %s", b->ms,
                 c->depth, app->model.info.blocks,
                 c->predicted_ms > b->ms ? " (no level fits)" : "", c->predicted_ms, measured);
    }
}

static void build_info_lines(const viewer_app *app, viewer_hud *hud) {
    const viewer_model_summary *m = &app->model;
    char bits[16];
    bits_text(&m->info, bits, sizeof bits);
    add_line(hud, "%s   %s  x%u  %u ch  %u blocks", m->name, bits, m->info.scale, m->info.channels,
             m->info.blocks);
    if (app->right_image && app->kind == VIEWER_SOURCE_STILL) {
        const viewer_stop_tiles *t = &app->tiles.stops[app->stop];
        add_line(hud, "depth %u/%u   %.1f ms (gpu %.1f)   %.2f GMAC   tiles %u/%u",
                 app->right_depth, m->info.blocks, t->stats.total_ms, t->stats.gpu_ms,
                 (double)t->stats.macs / 1e9, t->computed_count,
                 viewer_tile_count(&app->tiles.grid));
    } else if (app->right_image) {
        long stop = stop_of_depth(m, app->right_depth);
        double lr_pixels = (double)app->frame.lr.width * app->frame.lr.height;
        double gmac = stop >= 0 ? (double)m->macs[stop] * lr_pixels / 1e9 : 0.0;
        add_line(hud, "depth %u/%u   %.1f ms (gpu %.1f)   %.2f GMAC", app->right_depth,
                 m->info.blocks, app->right_stats.total_ms, app->right_stats.gpu_ms, gmac);
    }
    if (app->budget.ms > 0) {
        char budget[192];
        viewer_app_budget_line(app, budget, sizeof budget);
        add_line(hud, "budget %s   (b: %s)", budget, app->budget.active ? "off" : "on");
    }
    if (app->frame.gt.pixels) {
        char left[32], right[32];
        psnr_text(app->left_nearest ? app->frame.psnr_nearest : app->frame.psnr_bicubic, left,
                  sizeof left);
        psnr_text(app->right_image ? app->right_psnr : NAN, right, sizeof right);
        add_line(hud, "Y-PSNR vs ground truth: %s %s   QuantSR %s",
                 app->left_nearest ? "nearest" : "bicubic", left, right);
    }
    if (app->has_frame) {
        char fps[32] = "";
        if (app->kind == VIEWER_SOURCE_FRAMES || app->kind == VIEWER_SOURCE_DEMO)
            snprintf(fps, sizeof fps, "   %.1f fps%s", app->fps, app->paused ? " (paused)" : "");
        add_line(hud, "%s   %ux%u -> %ux%u%s", app->source_name, app->frame.lr.width,
                 app->frame.lr.height, app->frame.bicubic.width, app->frame.bicubic.height, fps);
    }
    char published[128];
    viewer_app_published_line(app, published, sizeof published);
    if (strcmp(published, "none") != 0)
        add_line(hud, "measured %s (models/results.csv)", published);
    add_line(hud, "present: %s", app->present);
    add_line(hud, "device: %s", app->device[0] ? app->device : "(starting)");
}

void viewer_app_build_hud(const viewer_app *app, viewer_hud *hud) {
    memset(hud, 0, sizeof *hud);
    snprintf(hud->left_label, sizeof hud->left_label, "%s",
             app->left_nearest ? "nearest" : "bicubic");
    if (app->right_image)
        snprintf(hud->right_label, sizeof hud->right_label, "QuantSR  %u block%s%s",
                 app->right_depth, app->right_depth == 1 ? "" : "s",
                 app->budget.active ? "  (budget)" : "");
    else
        snprintf(hud->right_label, sizeof hud->right_label, "QuantSR");
    build_info_lines(app, hud);
    hud->stop_count = app->model.stop_count;
    memcpy(hud->stops, app->model.stops, sizeof hud->stops);
    hud->stop = app->stop;
    int live = app->kind == VIEWER_SOURCE_FRAMES || app->kind == VIEWER_SOURCE_DEMO;
    if (live)
        hud->computing = app->in_flight && !app->right_image;
    else
        hud->computing =
            (app->in_flight && app->awaiting_stop == (long)app->stop) || budget_choosing(app);
    snprintf(hud->status, sizeof hud->status, "%s", app->status);
    snprintf(hud->error, sizeof hud->error, "%s", app->error);
    hud->show_help = app->show_help;
}

void viewer_app_stats_line(const viewer_app *app, char *out, size_t cap) {
    uint64_t all = (uint64_t)app->frame.lr.width * app->frame.lr.height;
    if (app->kind != VIEWER_SOURCE_STILL) {
        snprintf(out, cap,
                 "depth %u, whole frame, lr pixels %llu/%llu, macs %llu, %.1f ms (gpu %.1f)",
                 app->right_depth, (unsigned long long)all, (unsigned long long)all,
                 (unsigned long long)app->right_stats.macs, app->right_stats.total_ms,
                 app->right_stats.gpu_ms);
        return;
    }
    const viewer_stop_tiles *t = &app->tiles.stops[app->stop];
    snprintf(out, cap,
             "depth %u, tiles %u/%u, lr pixels %llu/%llu, runs %u, macs %llu, %.1f ms (gpu %.1f)",
             app->right_depth, t->computed_count, viewer_tile_count(&app->tiles.grid),
             (unsigned long long)t->lr_pixels, (unsigned long long)all, t->runs,
             (unsigned long long)t->stats.macs, t->stats.total_ms, t->stats.gpu_ms);
}
