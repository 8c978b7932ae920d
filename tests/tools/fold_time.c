#define _POSIX_C_SOURCE 200809L
/* fold_time.c - developer tool: host time to build the folded upsampler's kernels
 * (runtime/upsample_fold.c) for a random QuantSR-C model; they are built whenever an upscaler
 * with the fast FP math is made.
 * fold_time [CHANNELS [SCALE]]   (default 64 4: the paper-size network) */
#include "model_writer.h"
#include "test_util.h"
#include "upsample_fold.h"

#include <time.h>

int main(int argc, char **argv) {
    uint32_t c = argc > 1 ? (uint32_t)atoi(argv[1]) : 64,
             s = argc > 2 ? (uint32_t)atoi(argv[2]) : 4;
    qsr_test_model_params mp = {.scale = s, .channels = c, .blocks = 1, .bits_w = 4, .seed = 3};
    qsr_model *m = NULL;
    if (qsr_test_model_make(&mp, &m) != QSR_OK) return 1;
    float *w = malloc(qsr__fold_weight_floats(m) * sizeof(float));
    float *b = malloc(qsr__fold_bias_floats(m) * sizeof(float));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    qsr_status st = w && b ? qsr__fold_upsampler(m, w, b) : QSR_ERROR_OUT_OF_HOST_MEMORY;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("C%u x%u: kernels built in %.1f ms\n", c, s,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6);
    free(w), free(b);
    qsr_model_destroy(m);
    return st == QSR_OK ? 0 : 1;
}
