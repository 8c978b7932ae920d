/* worker.h - runs the network on its own thread so the window keeps drawing.
 *
 * The worker owns the Vulkan context, its own copy of the model and the upscaler; the UI
 * thread never touches them. Only the newest job waits: submitting while a job is pending
 * replaces it (a slider dragged across levels computes the level it stops on, not every level
 * it passed). A finished job leaves one result and pushes an SDL event to wake the UI. */
#ifndef QSR_VIEWER_WORKER_H
#define QSR_VIEWER_WORKER_H

#include "files.h"
#include "quantsr.h"

#include <stdint.h>

typedef struct viewer_job {
    uint64_t id;
    char model_path[VIEWER_PATH_MAX];
    qsr_image input; /* RGB; the worker takes ownership */
    uint32_t depth;  /* blocks, 0 = all */
} viewer_job;

typedef struct viewer_result {
    uint64_t id; /* the job's */
    uint32_t depth;
    qsr_status status;
    char error[512];  /* when status != QSR_OK */
    qsr_image output; /* owned by the receiver */
    qsr_run_stats stats;
    char device[256];             /* the Vulkan device that ran it */
    uint32_t validation_messages; /* seen by the context so far */
} viewer_result;

typedef struct viewer_worker viewer_worker;

/* device: 0 = automatic, N = `quantsr devices` number N. wake_event: an SDL event type pushed
 * when a result is ready (0 = none). Returns NULL with a message in err on failure. */
viewer_worker *viewer_worker_start(int32_t device, uint32_t wake_event, char *err, size_t err_cap);
/* Queues a job (replacing a pending one, whose input is freed). Takes job->input. */
void viewer_worker_submit(viewer_worker *w, viewer_job *job);
/* Moves the newest result into *out; returns 0 when there is none. */
int viewer_worker_take(viewer_worker *w, viewer_result *out);
/* Blocks until a result is ready, then takes it. */
void viewer_worker_wait(viewer_worker *w, viewer_result *out);
/* A job is pending or running. */
int viewer_worker_busy(viewer_worker *w);
/* Finishes the running job, then frees everything. NULL is a no-op. */
void viewer_worker_stop(viewer_worker *w);

#endif
