/* pipeline.c - the overlapped load / upscale / save stages of a batch (see pipeline.h).
 *
 * One mutex and one condition variable guard the whole state: the threads hand over whole
 * images, a few per second at most, so contention is nil and one lock keeps the reasoning
 * simple. Every wait re-checks its condition and the stop signal, and every change that can end
 * a wait broadcasts. */
#define _POSIX_C_SOURCE 200809L

#include "pipeline.h"
#include "args.h"
#include "cli.h"
#include "interrupt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef enum item_state {
    ITEM_WAITING, /* not taken by a loader yet */
    ITEM_LOADING,
    ITEM_LOADED, /* decoded, waiting for the upscaler */
    ITEM_PROCESSING,
    ITEM_PROCESSED, /* upscaled, waiting for a saver */
    ITEM_SAVING,
    ITEM_DONE /* finished, to be reported */
} item_state;

struct cli_pipeline {
    const cli_pipeline_stages *stages;
    size_t count;
    uint32_t loaders, savers; /* threads running; 0 = the stage runs on the upscaling thread */
    unsigned char *state;     /* item_state per item */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t next_load;     /* the next item a loader takes */
    size_t passed;        /* items before this one are past the upscaler */
    size_t next_save;     /* no item before this one waits for a saver */
    size_t reported;      /* items before this one are reported */
    size_t waiting_saves; /* upscaled items not saved yet */
    int upscaler_done;    /* no item will be processed any more */
    cli_pipeline_stats stats;
};

int cli_pipeline_parse_jobs(const char *text, cli_pipeline_jobs *out, char *why, size_t cap) {
    char parts[3][16];
    const char *p = text;
    for (int k = 0; k < 3; k++) {
        size_t n = strcspn(p, ":");
        if (n == 0 || n >= sizeof parts[k] || (k < 2) != (p[n] == ':')) {
            snprintf(why, cap, "-j takes LOAD:PROC:SAVE thread counts (e.g. %s), not '%s'",
                     CLI_PIPELINE_DEFAULT_JOBS, text);
            return 0;
        }
        memcpy(parts[k], p, n);
        parts[k][n] = '\0';
        p += n + (k < 2);
    }
    cli_pipeline_jobs jobs;
    if (!cli_parse_u32(parts[0], &jobs.load) || !cli_parse_u32(parts[1], &jobs.proc) ||
        !cli_parse_u32(parts[2], &jobs.save)) {
        snprintf(why, cap, "-j takes whole numbers LOAD:PROC:SAVE (e.g. %s), not '%s'",
                 CLI_PIPELINE_DEFAULT_JOBS, text);
        return 0;
    }
    if (jobs.proc != 1) {
        snprintf(why, cap,
                 "-j %s: PROC must be 1 (one upscaler runs the images in turn; use --shard to "
                 "run several processes)",
                 text);
        return 0;
    }
    if (jobs.load > CLI_PIPELINE_MAX_JOBS || jobs.save > CLI_PIPELINE_MAX_JOBS) {
        snprintf(why, cap, "-j %s: LOAD and SAVE take 0 to %u threads", text,
                 CLI_PIPELINE_MAX_JOBS);
        return 0;
    }
    *out = jobs;
    return 1;
}

static void stage_done(cli_pipeline *p, double start_ms, double *sum_ms) {
    *sum_ms += cli_now_ms() - start_ms;
    pthread_cond_broadcast(&p->changed);
}

/* Reports the finished items in order, as far as they are contiguous. Lock held. */
static void report_finished(cli_pipeline *p) {
    while (p->reported < p->passed && p->state[p->reported] == ITEM_DONE) {
        p->stages->report(p->stages->user, p->reported);
        p->reported++;
    }
}

/* Runs the load stage of item i (lock held on entry and exit, released during the load). */
static void load_item(cli_pipeline *p, size_t i) {
    p->state[i] = ITEM_LOADING;
    pthread_mutex_unlock(&p->lock);
    double start = cli_now_ms();
    int go_on = p->stages->load(p->stages->user, i);
    pthread_mutex_lock(&p->lock);
    p->state[i] = go_on ? ITEM_LOADED : ITEM_DONE;
    stage_done(p, start, &p->stats.load_ms);
}

/* Runs the save stage of item i, as load_item. */
static void save_item(cli_pipeline *p, size_t i) {
    p->state[i] = ITEM_SAVING;
    pthread_mutex_unlock(&p->lock);
    double start = cli_now_ms();
    p->stages->save(p->stages->user, i);
    pthread_mutex_lock(&p->lock);
    p->state[i] = ITEM_DONE;
    stage_done(p, start, &p->stats.save_ms);
}

static void *loader_main(void *arg) {
    cli_pipeline *p = (cli_pipeline *)arg;
    pthread_mutex_lock(&p->lock);
    /* A stop signal starts no new decode; the upscaler then stops at the first item it lacks. */
    while (!p->upscaler_done && p->next_load < p->count && !cli_interrupt_signal()) {
        /* At most LOAD + 1 decoded images: the upscaler's and one per loader. */
        if (p->next_load >= p->passed + p->loaders + 1) {
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        load_item(p, p->next_load++);
    }
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void *saver_main(void *arg) {
    cli_pipeline *p = (cli_pipeline *)arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        /* Items are handed over in order, so the first waiting one is at or after next_save. */
        while (p->next_save < p->passed && p->state[p->next_save] != ITEM_PROCESSED)
            p->next_save++;
        if (p->next_save < p->passed) {
            save_item(p, p->next_save++);
            p->waiting_saves--;
            report_finished(p);
            continue;
        }
        /* Upscaled images are saved even after a stop signal: their work is not lost. */
        if (p->upscaler_done) break;
        pthread_cond_wait(&p->changed, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Waits until item i is decoded or finished (decoding it here without loaders). 0 if a stop
 * signal came first. Lock held. */
static int wait_for_input(cli_pipeline *p, size_t i) {
    for (;;) {
        if (cli_interrupt_signal()) return 0;
        if (p->loaders == 0) {
            load_item(p, i);
            return 1;
        }
        if (p->state[i] == ITEM_LOADED || p->state[i] == ITEM_DONE) return 1;
        pthread_cond_wait(&p->changed, &p->lock);
    }
}

/* Waits until a saver can take one more image: at most SAVE + 1 upscaled images are held. 0 if a
 * stop signal came during the wait. Lock held. */
static int wait_for_saver(cli_pipeline *p) {
    while (p->savers > 0 && p->waiting_saves > p->savers) {
        if (cli_interrupt_signal()) return 0;
        pthread_cond_wait(&p->changed, &p->lock);
    }
    return 1;
}

/* Item i after a successful process: to a saver, or saved here without savers. Lock held. */
static void hand_to_saver(cli_pipeline *p, size_t i) {
    if (p->savers == 0) {
        save_item(p, i);
        return;
    }
    p->state[i] = ITEM_PROCESSED;
    p->waiting_saves++;
    pthread_cond_broadcast(&p->changed);
}

/* The upscaling thread: every item in order, until the end, a stop signal or a -1. */
static void run_upscaler(cli_pipeline *p) {
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->count; i++) {
        if (!wait_for_input(p, i)) break;
        if (p->state[i] == ITEM_LOADED) {
            if (!wait_for_saver(p)) break;
            p->state[i] = ITEM_PROCESSING;
            pthread_mutex_unlock(&p->lock);
            double start = cli_now_ms();
            int next = p->stages->process(p, p->stages->user, i);
            pthread_mutex_lock(&p->lock);
            stage_done(p, start, &p->stats.process_ms);
            if (next < 0) break;
            if (next > 0)
                hand_to_saver(p, i);
            else
                p->state[i] = ITEM_DONE;
        }
        p->passed = i + 1;
        report_finished(p);
        pthread_cond_broadcast(&p->changed);
    }
    p->upscaler_done = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

void cli_pipeline_wait_reported(cli_pipeline *p, size_t i) {
    pthread_mutex_lock(&p->lock);
    while (p->reported < i)
        pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

/* Starts up to n threads; returns how many started. */
static uint32_t start_threads(pthread_t *threads, uint32_t n, void *(*fn)(void *), void *arg) {
    uint32_t started = 0;
    while (started < n && pthread_create(&threads[started], NULL, fn, arg) == 0)
        started++;
    return started;
}

int cli_pipeline_run(const cli_pipeline_jobs *jobs, size_t count, const cli_pipeline_stages *stages,
                     cli_pipeline_stats *stats) {
    cli_pipeline p;
    memset(&p, 0, sizeof p);
    p.stages = stages;
    p.count = count;
    p.state = calloc(count ? count : 1, 1);
    if (p.state == NULL) {
        cli_error("out of memory for a batch of %zu images", count);
        return -1;
    }
    if (pthread_mutex_init(&p.lock, NULL) != 0) {
        free(p.state);
        cli_error("cannot create the lock of the batch pipeline");
        return -1;
    }
    if (pthread_cond_init(&p.changed, NULL) != 0) {
        pthread_mutex_destroy(&p.lock);
        free(p.state);
        cli_error("cannot create the condition variable of the batch pipeline");
        return -1;
    }
    double start = cli_now_ms();
    pthread_t loaders[CLI_PIPELINE_MAX_JOBS], savers[CLI_PIPELINE_MAX_JOBS];
    uint32_t want_loaders = jobs->load < CLI_PIPELINE_MAX_JOBS ? jobs->load : CLI_PIPELINE_MAX_JOBS;
    uint32_t want_savers = jobs->save < CLI_PIPELINE_MAX_JOBS ? jobs->save : CLI_PIPELINE_MAX_JOBS;
    /* The counts are set before the threads start (they read them) and lowered if the system
     * refuses some threads: a stage without threads runs on this one. */
    pthread_mutex_lock(&p.lock);
    p.loaders = want_loaders;
    p.savers = want_savers;
    pthread_mutex_unlock(&p.lock);
    uint32_t loader_count = start_threads(loaders, want_loaders, loader_main, &p);
    uint32_t saver_count = start_threads(savers, want_savers, saver_main, &p);
    pthread_mutex_lock(&p.lock);
    p.loaders = loader_count;
    p.savers = saver_count;
    pthread_cond_broadcast(&p.changed);
    pthread_mutex_unlock(&p.lock);
    run_upscaler(&p);
    for (uint32_t k = 0; k < loader_count; k++)
        pthread_join(loaders[k], NULL);
    for (uint32_t k = 0; k < saver_count; k++)
        pthread_join(savers[k], NULL);
    p.stats.wall_ms = cli_now_ms() - start;
    p.stats.reported = p.reported;
    if (stats) *stats = p.stats;
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.lock);
    free(p.state);
    return 0;
}
