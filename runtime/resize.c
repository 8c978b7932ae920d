/* resize.c - MATLAB-compatible bicubic imresize, the degradation the SR literature uses.
 *
 * Follows MATLAB's imresize(img, [h w], 'bicubic') for uint8 images: the cubic convolution
 * kernel with a = -0.5, stretched by 1/scale when shrinking (antialiasing), symmetric
 * (mirror) padding, weights normalized to sum 1, and the two separable passes applied in
 * order of increasing scale factor. The intermediate between the passes stays in double; the
 * result is rounded once, half away from zero, and saturated to 0..255. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Keys' cubic convolution kernel with a = -0.5 (MATLAB's `cubic`). */
static double cubic_kernel(double x) {
    double ax = fabs(x), ax2 = ax * ax, ax3 = ax2 * ax;
    if (ax <= 1.0) return 1.5 * ax3 - 2.5 * ax2 + 1.0;
    if (ax <= 2.0) return -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0;
    return 0.0;
}

/* For each output position along one dimension: `taps` input indices (0-based, already
 * mirrored into range) and their normalized weights. */
typedef struct contributions {
    uint32_t taps;
    uint32_t *index; /* [out_length][taps] */
    double *weight;  /* [out_length][taps] */
} contributions;

static void contributions_free(contributions *c) {
    free(c->index);
    free(c->weight);
    memset(c, 0, sizeof *c);
}

/* MATLAB mirrors indices with aux = [1:n, n:-1:1] and 1-based modular indexing. */
static uint32_t mirror_index(int64_t one_based, uint32_t n) {
    int64_t period = 2 * (int64_t)n;
    int64_t m = (one_based - 1) % period;
    if (m < 0) m += period;
    return (uint32_t)(m < n ? m : period - 1 - m);
}

static qsr_status contributions_build(uint32_t in_length, uint32_t out_length, contributions *out) {
    double scale = (double)out_length / (double)in_length;
    double kernel_scale = scale < 1.0 ? scale : 1.0; /* antialiasing stretches the kernel */
    double kernel_width = 4.0 / kernel_scale;
    double taps_real = ceil(kernel_width) + 2.0;
    if (taps_real > (double)UINT32_MAX)
        return qsr__fail(QSR_ERROR_LIMIT, "resize %u -> %u needs too many kernel taps", in_length,
                         out_length);
    uint32_t taps = (uint32_t)taps_real;
    size_t count = 0, index_bytes = 0, weight_bytes = 0;
    if (!qsr__mul_size(out_length, taps, &count) ||
        !qsr__mul_size(count, sizeof(uint32_t), &index_bytes) ||
        !qsr__mul_size(count, sizeof(double), &weight_bytes))
        return qsr__fail(QSR_ERROR_LIMIT, "resize %u -> %u: weight table size overflows", in_length,
                         out_length);
    contributions c = {taps, (uint32_t *)malloc(index_bytes), (double *)malloc(weight_bytes)};
    if (!c.index || !c.weight) {
        contributions_free(&c);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                         "cannot allocate the resize weight table (%zu entries)", count);
    }
    for (uint32_t i = 0; i < out_length; i++) {
        /* 1-based output coordinate mapped into 1-based input space, as MATLAB does. */
        double u = (double)(i + 1) / scale + 0.5 * (1.0 - 1.0 / scale);
        int64_t left = (int64_t)floor(u - kernel_width / 2.0);
        double *w = c.weight + (size_t)i * taps;
        uint32_t *idx = c.index + (size_t)i * taps;
        double sum = 0.0;
        for (uint32_t t = 0; t < taps; t++) {
            int64_t j = left + (int64_t)t;
            w[t] = kernel_scale * cubic_kernel(kernel_scale * (u - (double)j));
            idx[t] = mirror_index(j, in_length);
            sum += w[t];
        }
        for (uint32_t t = 0; t < taps; t++)
            w[t] /= sum;
    }
    *out = c;
    return QSR_OK;
}

/* Resizes along the row direction (height): dst row y mixes whole src rows. Rows are
 * `row_len` doubles long. */
static void resize_rows(const double *src, double *dst, size_t row_len, uint32_t out_rows,
                        const contributions *c) {
    for (uint32_t y = 0; y < out_rows; y++) {
        double *d = dst + (size_t)y * row_len;
        memset(d, 0, row_len * sizeof *d);
        for (uint32_t t = 0; t < c->taps; t++) {
            double w = c->weight[(size_t)y * c->taps + t];
            if (w == 0.0) continue;
            const double *s = src + (size_t)c->index[(size_t)y * c->taps + t] * row_len;
            for (size_t k = 0; k < row_len; k++)
                d[k] += w * s[k];
        }
    }
}

/* Resizes along the column direction (width) of `rows` rows of interleaved pixels. */
static void resize_columns(const double *src, double *dst, uint32_t rows, uint32_t in_width,
                           uint32_t out_width, uint32_t channels, const contributions *c) {
    for (uint32_t y = 0; y < rows; y++) {
        const double *s = src + (size_t)y * in_width * channels;
        double *d = dst + (size_t)y * out_width * channels;
        for (uint32_t x = 0; x < out_width; x++) {
            const double *w = c->weight + (size_t)x * c->taps;
            const uint32_t *idx = c->index + (size_t)x * c->taps;
            for (uint32_t ch = 0; ch < channels; ch++) {
                double acc = 0.0;
                for (uint32_t t = 0; t < c->taps; t++)
                    acc += w[t] * s[(size_t)idx[t] * channels + ch];
                d[(size_t)x * channels + ch] = acc;
            }
        }
    }
}

/* MATLAB's uint8 conversion: round half away from zero, saturate. */
static uint8_t to_u8(double v) {
    if (!(v > 0.0)) return 0; /* also maps NaN to 0 */
    if (v >= 255.0) return 255;
    return (uint8_t)floor(v + 0.5);
}

static double *alloc_doubles(uint32_t w, uint32_t h, uint32_t channels) {
    size_t n = 0;
    if (!qsr__mul_size(w, h, &n) || !qsr__mul_size(n, channels, &n) ||
        !qsr__mul_size(n, sizeof(double), &n))
        return NULL;
    return (double *)malloc(n);
}

static qsr_status check_resize_args(const qsr_image *in, uint32_t width, uint32_t height,
                                    const qsr_image *out) {
    if (!in || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_image_resize_bicubic: %s is NULL",
                         !in ? "in" : "out");
    if (!in->pixels || in->width == 0 || in->height == 0 || in->channels == 0 || in->channels > 4)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "resize: input image %ux%ux%u is empty or malformed", in->width,
                         in->height, in->channels);
    if (width == 0 || height == 0)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "resize to %ux%u: both sides must be >= 1",
                         width, height);
    if (width > QSR_MAX_IMAGE_DIMENSION || height > QSR_MAX_IMAGE_DIMENSION)
        return qsr__fail(QSR_ERROR_LIMIT, "resize to %ux%u exceeds the limit of %u per side", width,
                         height, QSR_MAX_IMAGE_DIMENSION);
    return QSR_OK;
}

qsr_status qsr_image_resize_bicubic(const qsr_image *in, uint32_t width, uint32_t height,
                                    qsr_image *out) {
    qsr_status st = check_resize_args(in, width, height, out);
    if (st != QSR_OK) return st;
    const uint32_t ch = in->channels, in_w = in->width, in_h = in->height;
    /* MATLAB resizes the dimension with the smaller scale first; on a tie, rows (dim 1).
     * With the intermediate kept in double the order only moves floating-point rounding,
     * but following MATLAB keeps the results bit-comparable. */
    const int rows_first = (double)height / in_h <= (double)width / in_w;
    const uint32_t mid_w = rows_first ? in_w : width, mid_h = rows_first ? height : in_h;

    contributions along_h = {0}, along_w = {0};
    qsr_image result = {0};
    double *src = alloc_doubles(in_w, in_h, ch);
    double *mid = alloc_doubles(mid_w, mid_h, ch);
    double *dst = alloc_doubles(width, height, ch);
    if (!src || !mid || !dst) {
        st = qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                       "cannot allocate resize buffers for %ux%u -> %ux%u (%u channels)", in_w,
                       in_h, width, height, ch);
        goto done;
    }
    if ((st = contributions_build(in_h, height, &along_h)) != QSR_OK) goto done;
    if ((st = contributions_build(in_w, width, &along_w)) != QSR_OK) goto done;
    if ((st = qsr_image_create(width, height, ch, &result)) != QSR_OK) goto done;

    size_t in_count = (size_t)in_w * in_h * ch;
    for (size_t i = 0; i < in_count; i++)
        src[i] = in->pixels[i];
    if (rows_first) {
        resize_rows(src, mid, (size_t)in_w * ch, height, &along_h);
        resize_columns(mid, dst, height, in_w, width, ch, &along_w);
    } else {
        resize_columns(src, mid, in_h, in_w, width, ch, &along_w);
        resize_rows(mid, dst, (size_t)width * ch, height, &along_h);
    }
    size_t out_count = (size_t)width * height * ch;
    for (size_t i = 0; i < out_count; i++)
        result.pixels[i] = to_u8(dst[i]);
    *out = result;
    result.pixels = NULL;

done:
    qsr_image_free(&result);
    contributions_free(&along_h);
    contributions_free(&along_w);
    free(src);
    free(mid);
    free(dst);
    return st;
}
