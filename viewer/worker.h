/* worker.h - runs the network on its own thread so the window keeps drawing.
 *
 * The worker owns the Vulkan context, its own copy of the model and the upscaler; the UI
 * thread never touches them. Only the newest job waits: submitting while a job is pending
 * replaces it (a slider dragged across levels computes the level it stops on, not every level
 * it passed), and a job of several regions gives up between two regions when a newer job
 * arrives. Every result is queued for the UI in order, and each pushes an SDL event to wake
 * it. */
#ifndef QSR_VIEWER_WORKER_H
#define QSR_VIEWER_WORKER_H

#include "files.h"
#include "quantsr.h"

#include <stdint.h>

/* How a job's depth follows --budget-ms (qsr_upscaler_depth_for_budget for the whole input:
 * the deepest level predicted to fit budget_ms, refined by the upscaler's measured runs). */
typedef enum viewer_job_budget {
    VIEWER_BUDGET_NONE,   /* run at `depth` */
    VIEWER_BUDGET_PICK,   /* choose just before the run and run at the choice (live frames) */
    VIEWER_BUDGET_REVISE, /* run at `depth`, then choose again with what the run measured
                             (still tiles: they are cached per depth, so the UI switches) */
    VIEWER_BUDGET_ONLY    /* choose and run nothing: one VIEWER_RESULT_BUDGET */
} viewer_job_budget;

/* A depth chosen for a budget. */
typedef struct viewer_budget_choice {
    int made;            /* depth and predicted_ms are set */
    int failed;          /* choosing failed (the result's status and error say why) */
    uint32_t depth;      /* blocks */
    double predicted_ms; /* the chosen level's predicted device time for the whole input */
} viewer_budget_choice;

typedef struct viewer_job {
    uint64_t id;
    char model_path[VIEWER_PATH_MAX];
    qsr_image input; /* RGB; the worker takes ownership */
    uint32_t depth;  /* blocks, 0 = all */
    /* NULL: the whole image (qsr_upscaler_run, one VIEWER_RESULT_WHOLE). Else LR rectangles
     * computed in order with qsr_upscaler_run_region, one VIEWER_RESULT_REGION each, then a
     * VIEWER_RESULT_END. The worker takes ownership (malloc'd). */
    qsr_rect *regions;
    uint32_t region_count;
    /* Regions only: with a buffer, the output goes to this device buffer
     * (qsr_upscaler_run_to_buffer) and the results carry no pixels. */
    qsr_gpu_buffer target;
    viewer_job_budget budget;
    double budget_ms; /* > 0 unless budget is VIEWER_BUDGET_NONE */
} viewer_job;

typedef enum viewer_result_kind {
    VIEWER_RESULT_WHOLE,  /* output: the whole output image */
    VIEWER_RESULT_REGION, /* output: the pixels of region * scale */
    VIEWER_RESULT_END,    /* a region job is over (finished, failed or given up); its status
                             is the failed region's */
    VIEWER_RESULT_BUDGET  /* a VIEWER_BUDGET_ONLY job's choice */
} viewer_result_kind;

typedef struct viewer_result {
    uint64_t id; /* the job's */
    viewer_result_kind kind;
    uint32_t depth;  /* the depth run (with VIEWER_BUDGET_PICK, the one chosen) */
    qsr_rect region; /* VIEWER_RESULT_REGION */
    int gave_up;     /* VIEWER_RESULT_END: a newer job came before every region was done */
    qsr_status status;
    char error[512];  /* when status != QSR_OK */
    qsr_image output; /* owned by the receiver */
    qsr_run_stats stats;
    /* The job's budget choice, on its last result (WHOLE, END or BUDGET); made = 0 without one. */
    viewer_budget_choice choice;
    char device[256];             /* the Vulkan device that ran it */
    uint32_t validation_messages; /* seen by the context so far */
} viewer_result;

typedef struct viewer_worker viewer_worker;

/* device: 0 = automatic, N = `quantsr devices` number N. wake_event: an SDL event type pushed
 * when a result is ready (0 = none). Returns NULL with a message in err on failure. */
viewer_worker *viewer_worker_start(int32_t device, uint32_t wake_event, char *err, size_t err_cap);
/* Makes the worker run on `ctx` (the caller's, e.g. one that can also present; destroyed by
 * the caller after viewer_worker_stop) instead of a context of its own. Call before the first
 * job. */
void viewer_worker_use_context(viewer_worker *w, qsr_context *ctx);
/* Drops the pending job and waits until the running one has given up (after its current
 * region): nothing the worker does afterwards touches the buffers of earlier jobs. */
void viewer_worker_cancel(viewer_worker *w);
/* Queues a job (replacing a pending one, whose input is freed). Takes job->input and
 * job->regions. */
void viewer_worker_submit(viewer_worker *w, viewer_job *job);
/* Moves the oldest result not taken yet into *out; returns 0 when there is none. */
int viewer_worker_take(viewer_worker *w, viewer_result *out);
/* Blocks until a result is ready, then takes it. */
void viewer_worker_wait(viewer_worker *w, viewer_result *out);
/* A job is pending or running. */
int viewer_worker_busy(viewer_worker *w);
/* Finishes the running region (or whole run), then frees everything. NULL is a no-op. */
void viewer_worker_stop(viewer_worker *w);

#endif
