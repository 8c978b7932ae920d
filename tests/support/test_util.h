/* test_util.h - a tiny assertion harness and a seeded PRNG shared by the tests. */
#ifndef QSR_TEST_UTIL_H
#define QSR_TEST_UTIL_H

#include "quantsr.h"
#include "random_model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern int qsr_test_failures;

/* Records a failure with the condition, location and a formatted explanation; the test goes
 * on so one run reports every broken case. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            qsr_test_failures++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* Checks that a qsr call returns `expected`, printing qsr_last_error() otherwise. */
#define CHECK_STATUS(call, expected)                                                               \
    do {                                                                                           \
        qsr_status st_ = (call);                                                                   \
        CHECK(st_ == (expected), "got %s, expected %s (%s)", qsr_status_name(st_),                 \
              qsr_status_name(expected), qsr_last_error());                                        \
    } while (0)
#define CHECK_OK(call) CHECK_STATUS(call, QSR_OK)

/* Ends main(): prints a summary and returns the exit code ctest reads. */
int qsr_test_finish(const char *name);

/* splitmix64-based PRNG: reproducible inputs from a seed (runtime/random_model.h). */
typedef qsr__rng qsr_rng;
#define qsr_rng_next  qsr__rng_next
#define qsr_rng_float qsr__rng_float
#define qsr_rng_int   qsr__rng_int

/* Environment helpers: the value or a fallback. */
const char *qsr_test_env(const char *name, const char *fallback);

/* 1 when QSR_KERNEL forces a kernel this context's device cannot run (QSR_KERNEL=dot without
 * the integer dot product): the test should exit 77 (skipped). */
int qsr_test_kernel_unavailable(const qsr_context *ctx);

/* Exit code of a test that needs a Vulkan device when none could be made (after printing why):
 * 77 (skipped) as ctest reads it, or 1 when QSR_TEST_REQUIRE_DEVICE=1 says a device must be
 * there (CI sets it where lavapipe is installed, so a broken driver cannot pass as a skip). */
int qsr_test_no_device(const char *test);
/* 1 when the context's device runs shaders on the host CPU (lavapipe): its +, -, *, / and sqrt
 * round as IEEE does, so where a shader and the CPU reference compute the same formula in the
 * same order (the QuantSR-T float parts, shaders/float_math.glsl) the bits must be equal. */
int qsr_test_device_is_ieee(const qsr_context *ctx);

/* A random RGB test image with smooth structure and noise (like a photo, so quantizers see
 * realistic ranges). */
qsr_image qsr_test_random_image(qsr_rng *rng, uint32_t w, uint32_t h, uint32_t channels);

/* n floats uniform in [lo, hi) in a new malloc'ed array (freed by the caller). */
float *qsr_test_random_floats(qsr_rng *rng, size_t n, float lo, float hi);

/* How two 8-bit images agree: identical bytes of all, the largest difference, PSNR (infinite
 * when identical). Images of different shapes: total 0, max_diff 256. */
typedef struct qsr_test_diff {
    size_t same, total;
    int max_diff;
    double psnr;
} qsr_test_diff;
qsr_test_diff qsr_test_compare(const qsr_image *a, const qsr_image *b);

/* Distinct byte values of an image: a guard against degenerate (saturated, flat) outputs that
 * would make an agreement prove little. */
int qsr_test_distinct_values(const qsr_image *img);

#endif
