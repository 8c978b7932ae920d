/* worker.c - the compute thread (SDL threads, mutex and condition variable). */
#include "worker.h"

#include "imageops.h"

#include <SDL.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Vulkan side: created on the worker thread at the first job and kept. */
typedef struct engine {
    int32_t device;
    qsr_context *ctx;
    int ctx_borrowed; /* the UI's context: not destroyed here */
    qsr_model *model;
    qsr_upscaler *up;
    char model_path[VIEWER_PATH_MAX];
    char device_name[256];
    qsr_image scratch; /* full-size output that region runs write into */
} engine;

/* Results not taken yet, oldest first. */
typedef struct result_queue {
    viewer_result *items;
    size_t head, count, cap;
} result_queue;

struct viewer_worker {
    SDL_Thread *thread;
    SDL_mutex *lock;
    SDL_cond *changed;
    uint32_t wake_event;
    int quit;
    int cancel; /* viewer_worker_cancel: give up the running job */
    int has_job, running;
    viewer_job job; /* the pending one */
    result_queue results;
    engine eng; /* touched by the worker thread only */
};

/* ------------------------------------------------------------------------------------------
 * The engine (worker thread only)
 */

static void engine_drop_model(engine *e) {
    qsr_upscaler_destroy(e->up);
    qsr_model_destroy(e->model);
    e->up = NULL;
    e->model = NULL;
    e->model_path[0] = '\0';
}

static void remember_device_name(engine *e) {
    qsr_device_info info;
    if (qsr_context_get_device_info(e->ctx, &info) == QSR_OK)
        snprintf(e->device_name, sizeof e->device_name, "%s", info.name);
}

static qsr_status engine_ensure_context(engine *e) {
    if (e->ctx) return QSR_OK;
    qsr_context_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.device = e->device;
    qsr_status st = qsr_context_create(&desc, &e->ctx);
    if (st != QSR_OK) return st;
    remember_device_name(e);
    return QSR_OK;
}

/* Loads the job's model and builds its upscaler unless they are the current ones. */
static qsr_status engine_ensure_model(engine *e, const char *path) {
    if (e->up && strcmp(path, e->model_path) == 0) return QSR_OK;
    engine_drop_model(e);
    qsr_status st = qsr_model_load_file(path, &e->model);
    if (st != QSR_OK) return st;
    st = qsr_upscaler_create(e->ctx, e->model, NULL, &e->up);
    if (st != QSR_OK) {
        engine_drop_model(e);
        return st;
    }
    snprintf(e->model_path, sizeof e->model_path, "%s", path);
    return QSR_OK;
}

static qsr_status engine_prepare(engine *e, const viewer_job *job) {
    qsr_status st = engine_ensure_context(e);
    if (st == QSR_OK) st = engine_ensure_model(e, job->model_path);
    return st;
}

/* The full-size output a region run writes into, kept while the output size stays. */
static qsr_status engine_ensure_scratch(engine *e, const qsr_image *input) {
    qsr_model_info info;
    qsr_status st = qsr_model_get_info(e->model, &info);
    if (st != QSR_OK) return st;
    uint32_t w = input->width * info.scale, h = input->height * info.scale;
    if (e->scratch.pixels && e->scratch.width == w && e->scratch.height == h) return QSR_OK;
    qsr_image_free(&e->scratch);
    return qsr_image_create(w, h, 3, &e->scratch);
}

static void finish_result(engine *e, viewer_result *res) {
    if (res->status != QSR_OK)
        snprintf(res->error, sizeof res->error, "%s: %s", qsr_status_name(res->status),
                 qsr_last_error());
    snprintf(res->device, sizeof res->device, "%s", e->device_name);
    res->validation_messages = e->ctx ? qsr_context_validation_messages(e->ctx) : 0;
}

static void begin_result(const viewer_job *job, viewer_result_kind kind, viewer_result *res) {
    memset(res, 0, sizeof *res);
    res->id = job->id;
    res->depth = job->depth;
    res->kind = kind;
}

static void engine_run_whole(engine *e, const viewer_job *job, viewer_result *res) {
    begin_result(job, VIEWER_RESULT_WHOLE, res);
    res->status = engine_prepare(e, job);
    if (res->status == QSR_OK)
        res->status = qsr_upscaler_run(e->up, &job->input, job->depth, &res->output, &res->stats);
    finish_result(e, res);
}

static void engine_run_region(engine *e, const viewer_job *job, uint32_t i, viewer_result *res) {
    begin_result(job, VIEWER_RESULT_REGION, res);
    res->region = job->regions[i];
    res->status = engine_prepare(e, job);
    if (res->status == QSR_OK && job->target.buffer) {
        res->status = qsr_upscaler_run_to_buffer(e->up, &job->input, job->depth, &res->region,
                                                 &job->target, &res->stats);
        finish_result(e, res);
        return;
    }
    if (res->status == QSR_OK) res->status = engine_ensure_scratch(e, &job->input);
    if (res->status == QSR_OK)
        res->status = qsr_upscaler_run_region(e->up, &job->input, job->depth, &res->region,
                                              &e->scratch, &res->stats);
    if (res->status == QSR_OK) {
        uint32_t s = e->scratch.width / job->input.width;
        res->status =
            viewer_image_crop(&e->scratch, res->region.x * s, res->region.y * s,
                              res->region.width * s, res->region.height * s, &res->output);
    }
    finish_result(e, res);
}

/* The depth for job->budget_ms and the job's whole input (the first choice calibrates the
 * upscaler with one small run; every run since, regions included, refines its estimate). */
static qsr_status engine_choose(engine *e, const viewer_job *job, viewer_budget_choice *out) {
    memset(out, 0, sizeof *out);
    qsr_status st = engine_prepare(e, job);
    if (st == QSR_OK)
        st = qsr_upscaler_depth_for_budget(e->up, job->input.width, job->input.height,
                                           job->budget_ms, &out->depth, &out->predicted_ms);
    out->made = st == QSR_OK;
    out->failed = st != QSR_OK;
    return st;
}

static void engine_destroy(engine *e) {
    engine_drop_model(e);
    qsr_image_free(&e->scratch);
    if (!e->ctx_borrowed) qsr_context_destroy(e->ctx);
    e->ctx = NULL;
}

/* ------------------------------------------------------------------------------------------
 * The queues (under w->lock)
 */

static void free_job(viewer_job *job) {
    qsr_image_free(&job->input);
    free(job->regions);
    job->regions = NULL;
    job->region_count = 0;
}

/* Appends a result, or drops its pixels when no memory is left for the queue. */
static void push_result_locked(viewer_worker *w, viewer_result *res) {
    result_queue *q = &w->results;
    if (q->count == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 16;
        viewer_result *items = malloc(cap * sizeof *items);
        if (!items) {
            qsr_image_free(&res->output);
            return;
        }
        for (size_t i = 0; i < q->count; i++)
            items[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = items;
        q->head = 0;
        q->cap = cap;
    }
    q->items[(q->head + q->count) % q->cap] = *res;
    q->count++;
}

static int pop_result_locked(viewer_worker *w, viewer_result *out) {
    result_queue *q = &w->results;
    if (q->count == 0) return 0;
    *out = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return 1;
}

static void post_result(viewer_worker *w, viewer_result *res) {
    SDL_LockMutex(w->lock);
    push_result_locked(w, res);
    SDL_CondBroadcast(w->changed);
    SDL_UnlockMutex(w->lock);
    if (w->wake_event) {
        SDL_Event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = w->wake_event;
        SDL_PushEvent(&ev);
    }
}

static int newer_job_waiting(viewer_worker *w) {
    SDL_LockMutex(w->lock);
    int waiting = w->has_job || w->quit || w->cancel;
    SDL_UnlockMutex(w->lock);
    return waiting;
}

/* ------------------------------------------------------------------------------------------
 * The thread
 */

/* `choice`: the budget choice made before the run (VIEWER_BUDGET_PICK), passed on. */
static void run_region_job(viewer_worker *w, const viewer_job *job,
                           const viewer_budget_choice *choice) {
    viewer_result res;
    uint32_t done = 0;
    qsr_status failed = QSR_OK;
    for (; done < job->region_count && failed == QSR_OK; done++) {
        if (done > 0 && newer_job_waiting(w)) break;
        engine_run_region(&w->eng, job, done, &res);
        failed = res.status;
        post_result(w, &res);
    }
    viewer_budget_choice revised = *choice;
    /* A failed choice here only means no revision: the regions themselves were fine. */
    if (failed == QSR_OK && job->budget == VIEWER_BUDGET_REVISE &&
        engine_choose(&w->eng, job, &revised) != QSR_OK)
        memset(&revised, 0, sizeof revised);
    begin_result(job, VIEWER_RESULT_END, &res);
    res.gave_up = failed == QSR_OK && done < job->region_count;
    res.status = failed;
    res.choice = revised;
    finish_result(&w->eng, &res);
    post_result(w, &res);
}

/* The result of a choice that ends its job: a VIEWER_BUDGET_ONLY job's, or a failed one (then
 * it is the END or WHOLE result the run would have ended with, carrying the failure). */
static void post_choice(viewer_worker *w, const viewer_job *job, qsr_status st,
                        const viewer_budget_choice *choice) {
    viewer_result_kind kind = job->budget == VIEWER_BUDGET_ONLY ? VIEWER_RESULT_BUDGET
                              : job->regions                    ? VIEWER_RESULT_END
                                                                : VIEWER_RESULT_WHOLE;
    viewer_result res;
    begin_result(job, kind, &res);
    res.status = st;
    res.choice = *choice;
    finish_result(&w->eng, &res);
    post_result(w, &res);
}

static void run_job(viewer_worker *w, viewer_job *job) {
    viewer_budget_choice choice;
    memset(&choice, 0, sizeof choice);
    if (job->budget == VIEWER_BUDGET_ONLY || job->budget == VIEWER_BUDGET_PICK) {
        qsr_status st = engine_choose(&w->eng, job, &choice);
        if (st == QSR_OK) job->depth = choice.depth;
        if (st != QSR_OK || job->budget == VIEWER_BUDGET_ONLY) {
            post_choice(w, job, st, &choice);
            return;
        }
    }
    if (job->regions) {
        run_region_job(w, job, &choice);
        return;
    }
    viewer_result res;
    engine_run_whole(&w->eng, job, &res);
    res.choice = choice;
    post_result(w, &res);
}

static int worker_main(void *arg) {
    viewer_worker *w = arg;
    for (;;) {
        SDL_LockMutex(w->lock);
        while (!w->has_job && !w->quit)
            SDL_CondWait(w->changed, w->lock);
        if (w->quit) {
            SDL_UnlockMutex(w->lock);
            break;
        }
        viewer_job job = w->job;
        w->has_job = 0;
        w->running = 1;
        SDL_UnlockMutex(w->lock);

        run_job(w, &job);
        free_job(&job);

        SDL_LockMutex(w->lock);
        w->running = 0;
        SDL_CondBroadcast(w->changed);
        SDL_UnlockMutex(w->lock);
    }
    engine_destroy(&w->eng);
    return 0;
}

viewer_worker *viewer_worker_start(int32_t device, uint32_t wake_event, char *err, size_t err_cap) {
    viewer_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, err_cap, "out of memory for the compute thread");
        return NULL;
    }
    w->eng.device = device;
    w->wake_event = wake_event;
    w->lock = SDL_CreateMutex();
    w->changed = SDL_CreateCond();
    if (w->lock && w->changed) w->thread = SDL_CreateThread(worker_main, "quantsr-compute", w);
    if (!w->thread) {
        snprintf(err, err_cap, "cannot start the compute thread: %s", SDL_GetError());
        if (w->changed) SDL_DestroyCond(w->changed);
        if (w->lock) SDL_DestroyMutex(w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void viewer_worker_use_context(viewer_worker *w, qsr_context *ctx) {
    SDL_LockMutex(w->lock);
    if (!w->running && !w->has_job && !w->eng.ctx) {
        w->eng.ctx = ctx;
        w->eng.ctx_borrowed = 1;
        remember_device_name(&w->eng);
    }
    SDL_UnlockMutex(w->lock);
}

void viewer_worker_cancel(viewer_worker *w) {
    SDL_LockMutex(w->lock);
    if (w->has_job) free_job(&w->job);
    w->has_job = 0;
    w->cancel = 1;
    while (w->running)
        SDL_CondWait(w->changed, w->lock);
    w->cancel = 0;
    SDL_UnlockMutex(w->lock);
}

void viewer_worker_submit(viewer_worker *w, viewer_job *job) {
    SDL_LockMutex(w->lock);
    if (w->has_job) free_job(&w->job);
    w->job = *job;
    w->has_job = 1;
    memset(&job->input, 0, sizeof job->input);
    job->regions = NULL;
    job->region_count = 0;
    SDL_CondBroadcast(w->changed);
    SDL_UnlockMutex(w->lock);
}

int viewer_worker_take(viewer_worker *w, viewer_result *out) {
    SDL_LockMutex(w->lock);
    int has = pop_result_locked(w, out);
    SDL_UnlockMutex(w->lock);
    return has;
}

void viewer_worker_wait(viewer_worker *w, viewer_result *out) {
    SDL_LockMutex(w->lock);
    while (!pop_result_locked(w, out))
        SDL_CondWait(w->changed, w->lock);
    SDL_UnlockMutex(w->lock);
}

int viewer_worker_busy(viewer_worker *w) {
    SDL_LockMutex(w->lock);
    int busy = w->has_job || w->running;
    SDL_UnlockMutex(w->lock);
    return busy;
}

void viewer_worker_stop(viewer_worker *w) {
    if (!w) return;
    SDL_LockMutex(w->lock);
    w->quit = 1;
    if (w->has_job) free_job(&w->job);
    w->has_job = 0;
    SDL_CondBroadcast(w->changed);
    SDL_UnlockMutex(w->lock);
    SDL_WaitThread(w->thread, NULL);
    viewer_result res;
    while (pop_result_locked(w, &res))
        qsr_image_free(&res.output);
    free(w->results.items);
    SDL_DestroyCond(w->changed);
    SDL_DestroyMutex(w->lock);
    free(w);
}
