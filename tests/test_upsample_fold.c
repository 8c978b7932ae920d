/* test_upsample_fold.c - the folded upsampler's kernels (runtime/upsample_fold.c) against the
 * CPU reference's stages: for random models at x2, x3 and x4 and random inputs r, the 5x5
 * convolution with each pixel's class kernel (applied here in double precision) must give the
 * stages' output (qsr__ref_conv3x3_f32 + PixelShuffle + conv_last) at every HR pixel, the
 * image's first and last rows and columns included, on images from 2 x 2 up. */
#include "model_writer.h"
#include "test_util.h"

#include "reference.h"
#include "upsample_fold.h"

#include <math.h>
#include <stdlib.h>

/* The stages, as runtime/reference.c runs them: out is 3 x (h s) x (w s). */
static void run_stages(const qsr_model *m, const float *r, uint32_t h, uint32_t w, float *out) {
    uint32_t c = m->info.channels, f = m->upsample_factor, s = m->info.scale;
    size_t big = (size_t)c * f * f * h * w * s * s;
    float *conv = malloc(big * sizeof(float)), *stage = malloc(big * sizeof(float));
    float *next = malloc(big * sizeof(float));
    memcpy(stage, r, (size_t)c * h * w * sizeof(float));
    for (uint32_t k = 0; k < m->upsample_count; k++) {
        const qsr__conv *up = &m->upsample[k];
        CHECK_OK(qsr__ref_conv3x3_f32(stage, up->cin, h, w, up->weight, up->bias, up->cout, conv));
        qsr__ref_pixel_shuffle(conv, c, h, w, f, next);
        float *t = stage;
        stage = next;
        next = t;
        h *= f;
        w *= f;
    }
    const qsr__conv *last = &m->conv_last;
    CHECK_OK(qsr__ref_conv3x3_f32(stage, last->cin, h, w, last->weight, last->bias, 3, out));
    free(conv), free(stage), free(next);
}

/* The folded convolution at LR pixel (y, x), HR pixel (a, b) of its block, colour k. */
static double folded(const qsr_model *m, const float *kw, const float *kb, const float *r,
                     uint32_t h, uint32_t w, uint32_t y, uint32_t x, uint32_t a, uint32_t b,
                     uint32_t k) {
    uint32_t c = m->info.channels, s = m->info.scale, row = qsr__fold_table_floats(s);
    uint32_t rows = qsr__fold_rows(s);
    uint32_t cy = y == 0 ? 0 : y == h - 1 ? 2 : 1, cx = x == 0 ? 0 : x == w - 1 ? 2 : 1;
    size_t table = ((size_t)cy * 3 + cx) * (s / rows) + a / rows;
    size_t o = ((a % rows) * s + b) * 3 + k;
    double sum = kb[table * row + o];
    for (uint32_t ci = 0; ci < c; ci++)
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++) {
                int yy = (int)y + dy, xx = (int)x + dx;
                if (yy < 0 || xx < 0 || yy >= (int)h || xx >= (int)w) continue;
                size_t tap = (size_t)(dy + 2) * 5 + (size_t)(dx + 2);
                sum += (double)kw[((table * c + ci) * QSR__FOLD_TAPS + tap) * row + o] *
                       r[((size_t)ci * h + (size_t)yy) * w + (size_t)xx];
            }
    return sum;
}

static void check_model(const qsr_test_model_params *mp) {
    qsr_model *m = NULL;
    CHECK_OK(qsr_test_model_make(mp, &m));
    if (!m) return;
    uint32_t c = m->info.channels, s = m->info.scale;
    float *kw = malloc(qsr__fold_weight_floats(m) * sizeof(float));
    float *kb = malloc(qsr__fold_bias_floats(m) * sizeof(float));
    CHECK_OK(qsr__fold_upsampler(m, kw, kb));
    static const uint32_t sizes[][2] = {{2, 2}, {2, 5}, {5, 3}, {7, 6}};
    qsr_rng rng = {mp->seed};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t w = sizes[i][0], h = sizes[i][1];
        float *r = malloc((size_t)c * h * w * sizeof(float));
        float *out = malloc((size_t)3 * h * w * s * s * sizeof(float));
        for (size_t k = 0; k < (size_t)c * h * w; k++)
            r[k] = (qsr_rng_float(&rng) - 0.5f) * 200.0f;
        run_stages(m, r, h, w, out);
        double max_err = 0, max_out = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                for (uint32_t a = 0; a < s; a++)
                    for (uint32_t b = 0; b < s; b++)
                        for (uint32_t k = 0; k < 3; k++) {
                            double want = out[((size_t)k * h * s + y * s + a) * w * s + x * s + b];
                            double got = folded(m, kw, kb, r, h, w, y, x, a, b, k);
                            max_err = fmax(max_err, fabs(got - want));
                            max_out = fmax(max_out, fabs(want));
                        }
        printf("x%u C%u, %ux%u: max |folded - stages| %.3g of outputs up to %.3g\n", s, c, w, h,
               max_err, max_out);
        /* fp32 stages against a double sum: rounding only (a wrong tap or class is of the
         * order of the outputs). */
        CHECK(max_out > 1.0 && max_err <= 1e-4 * max_out, "x%u %ux%u: error %.3g of %.3g", s, w, h,
              max_err, max_out);
        free(r), free(out);
    }
    free(kw), free(kb);
    qsr_model_destroy(m);
}

int main(void) {
    const qsr_test_model_params models[] = {
        {.scale = 2, .channels = 6, .blocks = 1, .bits_w = 4, .seed = 21},
        {.scale = 3, .channels = 5, .blocks = 1, .bits_w = 2, .seed = 22},
        {.scale = 4, .channels = 8, .blocks = 1, .bits_w = 4, .seed = 23},
        {.scale = 4, .channels = 4, .blocks = 1, .bits_w = 32, .seed = 24},
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        check_model(&models[i]);
    return qsr_test_finish("test_upsample_fold");
}
