/* test_faults.c - the runtime's answers to device faults, injected with QSR_FAULT on lavapipe:
 * an allocation failure is retried with smaller tiles, a lost device is recreated and the image
 * retried (once), a failed submission fails the image with a clear message, and a run whose
 * output is non-finite is an error, never an image. Recovered results must be byte-identical
 * to a fault-free run (tiling is exact). */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "internal.h"
#include "model_writer.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static qsr_model *model;
static qsr_image input, expected;

/* Runs the image on a fresh context made under QSR_FAULT=spec. */
static qsr_status run_with_fault(const char *spec, qsr_image *out, qsr_run_stats *stats) {
    setenv("QSR_FAULT", spec, 1);
    qsr_context *ctx = NULL;
    qsr_upscaler *up = NULL;
    qsr_status st = qsr_context_create(NULL, &ctx);
    unsetenv("QSR_FAULT");
    if (st == QSR_OK) st = qsr_upscaler_create(ctx, model, NULL, &up);
    if (st == QSR_OK) st = qsr_upscaler_run(up, &input, 0, out, stats);
    if (ctx) CHECK(qsr_context_validation_messages(ctx) == 0, "validation messages under %s", spec);
    qsr_upscaler_destroy(up);
    qsr_context_destroy(ctx);
    return st;
}

static int same(const qsr_image *a, const qsr_image *b) {
    return a->width == b->width && a->height == b->height && a->channels == b->channels &&
           memcmp(a->pixels, b->pixels, (size_t)a->width * a->height * a->channels) == 0;
}

static void expect_recovered(const char *spec) {
    qsr_image out = {0};
    qsr_run_stats stats = {0};
    qsr_status st = run_with_fault(spec, &out, &stats);
    CHECK(st == QSR_OK, "%s: %s (%s)", spec, qsr_status_name(st), qsr_last_error());
    if (st == QSR_OK) CHECK(same(&out, &expected), "%s: recovered output differs", spec);
    printf("%-12s recovered: tile %u, %u tiles\n", spec, stats.tile, stats.tiles);
    qsr_image_free(&out);
}

static void expect_failure(const char *spec, qsr_status want, const char *words) {
    qsr_image out = {0};
    qsr_status st = run_with_fault(spec, &out, NULL);
    CHECK(st == want, "%s: got %s, expected %s", spec, qsr_status_name(st), qsr_status_name(want));
    CHECK(out.pixels == NULL, "%s: an image was returned from a failed run", spec);
    CHECK(strstr(qsr_last_error(), words) != NULL, "%s: message '%s' lacks '%s'", spec,
          qsr_last_error(), words);
    printf("%-12s failed as expected: %s\n", spec, qsr_last_error());
}

static void check_nonfinite(void) {
    qsr_context *ctx = NULL;
    qsr_upscaler *up = NULL;
    qsr_image out = {0};
    /* Overflow on purpose: conv_first's output becomes infinite, the network's NaN. */
    float *w = (float *)model->conv_first.weight;
    float saved = w[0];
    w[0] = 3e38f;
    CHECK_OK(qsr_context_create(NULL, &ctx));
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    if (up) CHECK_STATUS(qsr_upscaler_run(up, &input, 0, &out, NULL), QSR_ERROR_BAD_OUTPUT);
    CHECK(out.pixels == NULL, "an image was returned from a non-finite run");
    qsr_upscaler_destroy(up);
    qsr_context_destroy(ctx);
    w[0] = saved;
}

int main(void) {
    qsr_test_model_params mp = {.scale = 2, .channels = 8, .blocks = 3, .bits_w = 4, .seed = 21};
    CHECK_OK(qsr_test_model_make(&mp, &model));
    qsr_rng rng = {3};
    input = qsr_test_random_image(&rng, 70, 40, 3);
    qsr_status st = run_with_fault("", &expected, NULL);
    if (st != QSR_OK) {
        int rc = qsr_test_no_device("test_faults");
        qsr_model_destroy(model);
        qsr_image_free(&input);
        return rc;
    }
    /* Allocation 4 is the first activation buffer (3 weight buffers come first), submission 4
     * the first of a tile (3 weight uploads come first). */
    expect_recovered("alloc:4");
    /* A lost device: a new device, the weights again, the image at half the tile size. */
    expect_recovered("lost:4");
    expect_recovered("alloc:4,lost:4");
    /* Lost again after the recovery: the image fails. */
    expect_failure("lost:4+", QSR_ERROR_DEVICE_LOST, "lost");
    expect_failure("submit:4", QSR_ERROR_VULKAN, "vkQueueSubmit");
    expect_failure("alloc:1+", QSR_ERROR_OUT_OF_DEVICE_MEMORY, "device memory");
    check_nonfinite();
    /* A zero time budget cuts the work at every op boundary: same bytes, more submissions. */
    setenv("QSR_SUBMIT_MS", "0", 1);
    qsr_image out = {0};
    qsr_run_stats stats = {0};
    CHECK_OK(run_with_fault("", &out, &stats));
    unsetenv("QSR_SUBMIT_MS");
    printf("budget 0 ms: %u submissions for %u tiles\n", stats.submissions, stats.tiles);
    CHECK(stats.submissions >= stats.tiles * 4, "only %u submissions", stats.submissions);
    CHECK(same(&out, &expected), "split submissions changed the output");
    qsr_image_free(&out);
    qsr_image_free(&input);
    qsr_image_free(&expected);
    qsr_model_destroy(model);
    return qsr_test_finish("test_faults");
}
