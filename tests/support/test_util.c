#include "test_util.h"

#include <math.h>
#include <string.h>

int qsr_test_failures = 0;

int qsr_test_finish(const char *name) {
    if (qsr_test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, qsr_test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

const char *qsr_test_env(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

int qsr_test_kernel_unavailable(const qsr_context *ctx) {
    qsr_device_info info;
    if (strcmp(qsr_test_env("QSR_KERNEL", "auto"), "dot") != 0) return 0;
    if (qsr_context_get_device_info(ctx, &info) != QSR_OK || info.integer_dot_product) return 0;
    fprintf(stderr, "QSR_KERNEL=dot: %s has no integer dot product; skipped\n", info.name);
    return 1;
}

int qsr_test_device_is_ieee(const qsr_context *ctx) {
    qsr_device_info info;
    return qsr_context_get_device_info(ctx, &info) == QSR_OK && info.type == QSR_DEVICE_TYPE_CPU;
}

int qsr_test_no_device(const char *test) {
    int required = strcmp(qsr_test_env("QSR_TEST_REQUIRE_DEVICE", "0"), "1") == 0;
    fprintf(stderr, "%s: no Vulkan device: %s%s\n", test, qsr_last_error(),
            required ? " (QSR_TEST_REQUIRE_DEVICE=1: failed)" : "; skipped");
    return required ? 1 : 77;
}

qsr_image qsr_test_random_image(qsr_rng *rng, uint32_t w, uint32_t h, uint32_t channels) {
    qsr_image img = {0};
    if (qsr_image_create(w, h, channels, &img) != QSR_OK) return img;
    float fx[4], fy[4], ph[4];
    for (int k = 0; k < 4; k++) {
        fx[k] = 0.02f + 0.3f * qsr_rng_float(rng);
        fy[k] = 0.02f + 0.3f * qsr_rng_float(rng);
        ph[k] = 6.28f * qsr_rng_float(rng);
    }
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < channels; c++) {
                float v = 0.5f;
                for (int k = 0; k < 4; k++)
                    v += 0.12f * sinf(fx[k] * (float)x * (float)(c + 1) + fy[k] * (float)y + ph[k]);
                v += 0.1f * (qsr_rng_float(rng) - 0.5f);
                if (v < 0) v = 0;
                if (v > 1) v = 1;
                img.pixels[((size_t)y * w + x) * channels + c] = (uint8_t)lrintf(v * 255.0f);
            }
    return img;
}

float *qsr_test_random_floats(qsr_rng *rng, size_t n, float lo, float hi) {
    float *v = malloc(n * sizeof *v + 4);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * qsr_rng_float(rng);
    return v;
}

qsr_test_diff qsr_test_compare(const qsr_image *a, const qsr_image *b) {
    qsr_test_diff d = {0, 0, 256, 0.0};
    if (!a->pixels || !b->pixels || a->width != b->width || a->height != b->height ||
        a->channels != b->channels)
        return d;
    d.max_diff = 0;
    d.total = (size_t)a->width * a->height * a->channels;
    double square = 0;
    for (size_t i = 0; i < d.total; i++) {
        int diff = abs((int)a->pixels[i] - (int)b->pixels[i]);
        d.same += diff == 0;
        if (diff > d.max_diff) d.max_diff = diff;
        square += (double)diff * diff;
    }
    d.psnr = square > 0 ? 10.0 * log10(255.0 * 255.0 * (double)d.total / square) : INFINITY;
    return d;
}

int qsr_test_distinct_values(const qsr_image *img) {
    int seen[256] = {0}, n = 0;
    size_t total = (size_t)img->width * img->height * img->channels;
    for (size_t i = 0; i < total; i++)
        if (!seen[img->pixels[i]]++) n++;
    return n;
}
