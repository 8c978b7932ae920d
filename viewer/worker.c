/* worker.c - the compute thread (SDL threads, mutex and condition variable). */
#include "worker.h"

#include <SDL.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Vulkan side: created on the worker thread at the first job and kept. */
typedef struct engine {
    int32_t device;
    qsr_context *ctx;
    qsr_model *model;
    qsr_upscaler *up;
    char model_path[VIEWER_PATH_MAX];
    char device_name[256];
} engine;

struct viewer_worker {
    SDL_Thread *thread;
    SDL_mutex *lock;
    SDL_cond *changed;
    uint32_t wake_event;
    int quit;
    int has_job, running, has_result;
    viewer_job job;       /* the pending one */
    viewer_result result; /* the newest finished one */
    engine eng;           /* touched by the worker thread only */
};

static void engine_drop_model(engine *e) {
    qsr_upscaler_destroy(e->up);
    qsr_model_destroy(e->model);
    e->up = NULL;
    e->model = NULL;
    e->model_path[0] = '\0';
}

static qsr_status engine_ensure_context(engine *e) {
    if (e->ctx) return QSR_OK;
    qsr_context_desc desc = {e->device, 0};
    qsr_status st = qsr_context_create(&desc, &e->ctx);
    if (st != QSR_OK) return st;
    qsr_device_info info;
    if (qsr_context_get_device_info(e->ctx, &info) == QSR_OK)
        snprintf(e->device_name, sizeof e->device_name, "%s", info.name);
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

static void engine_run(engine *e, const viewer_job *job, viewer_result *res) {
    memset(res, 0, sizeof *res);
    res->id = job->id;
    res->depth = job->depth;
    res->status = engine_ensure_context(e);
    if (res->status == QSR_OK) res->status = engine_ensure_model(e, job->model_path);
    if (res->status == QSR_OK)
        res->status = qsr_upscaler_run(e->up, &job->input, job->depth, &res->output, &res->stats);
    if (res->status != QSR_OK)
        snprintf(res->error, sizeof res->error, "%s: %s", qsr_status_name(res->status),
                 qsr_last_error());
    snprintf(res->device, sizeof res->device, "%s", e->device_name);
    res->validation_messages = e->ctx ? qsr_context_validation_messages(e->ctx) : 0;
}

static void engine_destroy(engine *e) {
    engine_drop_model(e);
    qsr_context_destroy(e->ctx);
    e->ctx = NULL;
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

        viewer_result res;
        engine_run(&w->eng, &job, &res);
        qsr_image_free(&job.input);

        SDL_LockMutex(w->lock);
        if (w->has_result) qsr_image_free(&w->result.output);
        w->result = res;
        w->has_result = 1;
        w->running = 0;
        SDL_CondBroadcast(w->changed);
        SDL_UnlockMutex(w->lock);
        if (w->wake_event) {
            SDL_Event ev;
            memset(&ev, 0, sizeof ev);
            ev.type = w->wake_event;
            SDL_PushEvent(&ev);
        }
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

void viewer_worker_submit(viewer_worker *w, viewer_job *job) {
    SDL_LockMutex(w->lock);
    if (w->has_job) qsr_image_free(&w->job.input);
    w->job = *job;
    w->has_job = 1;
    memset(&job->input, 0, sizeof job->input);
    SDL_CondBroadcast(w->changed);
    SDL_UnlockMutex(w->lock);
}

int viewer_worker_take(viewer_worker *w, viewer_result *out) {
    SDL_LockMutex(w->lock);
    int has = w->has_result;
    if (has) {
        *out = w->result;
        w->has_result = 0;
    }
    SDL_UnlockMutex(w->lock);
    return has;
}

void viewer_worker_wait(viewer_worker *w, viewer_result *out) {
    SDL_LockMutex(w->lock);
    while (!w->has_result)
        SDL_CondWait(w->changed, w->lock);
    *out = w->result;
    w->has_result = 0;
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
    if (w->has_job) qsr_image_free(&w->job.input);
    w->has_job = 0;
    SDL_CondBroadcast(w->changed);
    SDL_UnlockMutex(w->lock);
    SDL_WaitThread(w->thread, NULL);
    if (w->has_result) qsr_image_free(&w->result.output);
    SDL_DestroyCond(w->changed);
    SDL_DestroyMutex(w->lock);
    free(w);
}
