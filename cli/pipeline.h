/* pipeline.h - a batch of images as three overlapped stages, like realesrgan-ncnn-vulkan's
 * `-j load:proc:save`: LOAD threads decode the next images, one thread upscales (the upscaler
 * is not thread-safe, so PROC is always 1), SAVE threads encode and write the finished ones.
 *
 * Items enter the upscaler in their order; each is reported (counted, its messages printed) in
 * that order too, one at a time, so the output of a batch does not depend on -j. At most
 * LOAD + 1 decoded images wait for the upscaler and SAVE + 1 upscaled ones for a saver. A stage
 * count of 0 runs that stage on the upscaling thread itself: -j 0:1:0 is the plain serial loop
 * (load, upscale, save, report; then the next image).
 *
 * After a stop signal (interrupt.h) the image on the upscaler is finished and saved, as are the
 * upscaled images already waiting for a saver; no image starts on the upscaler. The items from
 * the first one that did not reach the upscaler on are neither run nor reported: the batch ends
 * as the serial loop would have, had the signal come before that item. */
#ifndef QSR_CLI_PIPELINE_H
#define QSR_CLI_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#define CLI_PIPELINE_DEFAULT_JOBS "1:1:2"
#define CLI_PIPELINE_MAX_JOBS     16u

typedef struct cli_pipeline_jobs {
    uint32_t load, proc, save; /* threads per stage; 0 = on the upscaling thread */
} cli_pipeline_jobs;

/* Parses "LOAD:PROC:SAVE" (LOAD and SAVE 0 to CLI_PIPELINE_MAX_JOBS, PROC 1). Returns 1, or 0
 * with the reason in why. */
int cli_pipeline_parse_jobs(const char *text, cli_pipeline_jobs *out, char *why, size_t cap);

typedef struct cli_pipeline cli_pipeline;

/* What the stages do to item i (0 <= i < count). Each item goes through load, then process if
 * load returned 1, then save if process returned 1, then report. A callback works on its own
 * item only (the hand-over between threads orders its accesses); report is the one place for
 * shared state such as counts and the progress display. */
typedef struct cli_pipeline_stages {
    void *user;
    /* On a LOAD thread. 1: go on to process; 0: the item is finished. */
    int (*load)(void *user, size_t i);
    /* On the upscaling thread, items in order. 1: go on to save; 0: finished; -1: stop the
     * whole batch (the item is not reported; nothing after it is run). */
    int (*process)(cli_pipeline *p, void *user, size_t i);
    /* On a SAVE thread. */
    void (*save)(void *user, size_t i);
    /* Under the pipeline's lock, in item order, one item at a time. */
    void (*report)(void *user, size_t i);
} cli_pipeline_stages;

typedef struct cli_pipeline_stats {
    double wall_ms;                      /* first load to last report */
    double load_ms, process_ms, save_ms; /* time spent in each stage, summed over the items */
    size_t reported;                     /* items reported (the others were not run) */
} cli_pipeline_stats;

/* Runs items 0 .. count-1 through the stages on the calling thread plus LOAD + SAVE threads
 * (fewer if the system refuses to start some; a stage with none runs on the calling thread).
 * stats may be NULL. Returns 0, or -1 (printed) if the pipeline could not be set up. */
int cli_pipeline_run(const cli_pipeline_jobs *jobs, size_t count, const cli_pipeline_stages *stages,
                     cli_pipeline_stats *stats);

/* For process: waits until every item before i has been reported, so that process may print
 * directly (no report can run until item i is finished). */
void cli_pipeline_wait_reported(cli_pipeline *p, size_t i);

#endif
