/* upsample_fold.c - the folded upsampler's kernels (upsample_fold.h). */
#include "upsample_fold.h"

#include <stdlib.h>
#include <string.h>

/* The classes are read off a 5 x 5 LR image: its pixels 0, 2 and 4 are a first, an inner and a
 * last row (column) whose 5 x 5 windows lie inside it, and pixel 0's stages never reach the far
 * border (nor pixel 4's the near one), as in any image of 2 or more pixels. */
#define SAMPLE 5

uint32_t qsr__fold_rows(uint32_t scale) {
    return scale == 2 ? 2u : 1u;
}

uint32_t qsr__fold_table_floats(uint32_t scale) {
    return (3 * scale * qsr__fold_rows(scale) + 3) / 4 * 4;
}

/* Tables of all classes: classes x groups. */
static size_t table_count(uint32_t scale) {
    return (size_t)QSR__FOLD_CLASSES * (scale / qsr__fold_rows(scale));
}

size_t qsr__fold_weight_floats(const qsr_model *model) {
    uint32_t s = model->info.scale;
    return table_count(s) * model->info.channels * QSR__FOLD_TAPS * qsr__fold_table_floats(s);
}

size_t qsr__fold_bias_floats(const qsr_model *model) {
    uint32_t s = model->info.scale;
    return table_count(s) * qsr__fold_table_floats(s);
}

uint64_t qsr__fold_saved_macs_per_pixel(const qsr_model *model) {
    /* The stages' MACs from their layers: stage k runs on r^(2k) pixels per LR pixel. */
    uint64_t pixels = 1, stages = 0;
    for (uint32_t k = 0; k < model->upsample_count; k++) {
        stages += 9ull * model->upsample[k].cin * model->upsample[k].cout * pixels;
        pixels *= (uint64_t)model->upsample_factor * model->upsample_factor;
    }
    stages += 9ull * model->conv_last.cin * model->conv_last.cout * pixels;
    uint64_t s = model->info.scale;
    uint64_t folded = (uint64_t)QSR__FOLD_TAPS * model->info.channels * 3 * s * s;
    return stages > folded ? stages - folded : 0;
}

/* A rectangle of one stage's square n x n grid, inclusive bounds. */
typedef struct box {
    int y0, y1, x0, x1;
} box;

static box box_clip(int y0, int y1, int x0, int x1, int n) {
    box b = {y0 < 0 ? 0 : y0, y1 >= n ? n - 1 : y1, x0 < 0 ? 0 : x0, x1 >= n ? n - 1 : x1};
    return b;
}

/* The gradient buffers of the backward walk, channels last so that the inner loops run over
 * contiguous channels: gp over a stage's input (C channels), gu over its convolution's output
 * (C r^2 channels), each at the largest grid it takes; wt holds each stage's weights as
 * [out channel][tap][in channel]. */
typedef struct walk {
    const qsr_model *m;
    uint32_t c, r;
    float *gp, *gu, *wt[2];
} walk;

/* gp (n x n x C) over b = the gradient of one output through conv_last at HR pixel (y, x). */
static void seed_last(const walk *w, int colour, int y, int x, int n, box *b) {
    const qsr__conv *last = &w->m->conv_last;
    *b = box_clip(y - 1, y + 1, x - 1, x + 1, n);
    for (int yy = b->y0; yy <= b->y1; yy++)
        for (int xx = b->x0; xx <= b->x1; xx++)
            for (uint32_t ci = 0; ci < w->c; ci++)
                w->gp[((size_t)yy * n + xx) * w->c + ci] =
                    last->weight[((size_t)colour * w->c + ci) * 9 + (yy - y + 1) * 3 +
                                 (xx - x + 1)];
}

/* Through stage k's PixelShuffle and convolution (grid n at its input, n r at its output);
 * returns the bias terms the gradient meets at the stage's output. */
static float back_stage(const walk *w, uint32_t k, int n, box *b) {
    const qsr__conv *conv = &w->m->upsample[k];
    const uint32_t r = w->r, c = w->c, cu = c * r * r, big = (uint32_t)n * r;
    box u = box_clip(b->y0 / (int)r, b->y1 / (int)r, b->x0 / (int)r, b->x1 / (int)r, n);
    float bias = 0.0f;
    for (int y = u.y0; y <= u.y1; y++)
        for (int x = u.x0; x <= u.x1; x++)
            for (uint32_t co = 0; co < cu; co++) {
                uint32_t ch = co / (r * r), i = co / r % r, j = co % r;
                int yy = y * (int)r + (int)i, xx = x * (int)r + (int)j;
                int inside = yy >= b->y0 && yy <= b->y1 && xx >= b->x0 && xx <= b->x1;
                float g = inside ? w->gp[((size_t)yy * big + (size_t)xx) * c + ch] : 0.0f;
                w->gu[((size_t)y * n + x) * cu + co] = g;
                bias += g * conv->bias[co];
            }
    box p = box_clip(u.y0 - 1, u.y1 + 1, u.x0 - 1, u.x1 + 1, n);
    for (int y = p.y0; y <= p.y1; y++)
        memset(&w->gp[((size_t)y * n + p.x0) * c], 0,
               (size_t)(p.x1 - p.x0 + 1) * c * sizeof(float));
    for (int y = u.y0; y <= u.y1; y++)
        for (int x = u.x0; x <= u.x1; x++)
            for (uint32_t co = 0; co < cu; co++) {
                float g = w->gu[((size_t)y * n + x) * cu + co];
                if (g == 0.0f) continue;
                for (int ky = 0; ky < 3; ky++) {
                    int yy = y + ky - 1;
                    if (yy < 0 || yy >= n) continue; /* zero padding: no path */
                    for (int kx = 0; kx < 3; kx++) {
                        int xx = x + kx - 1;
                        if (xx < 0 || xx >= n) continue;
                        float *restrict dst = &w->gp[((size_t)yy * n + xx) * c];
                        const float *restrict wk = &w->wt[k][((size_t)co * 9 + ky * 3 + kx) * c];
                        for (uint32_t ci = 0; ci < c; ci++)
                            dst[ci] += wk[ci] * g;
                    }
                }
            }
    *b = p;
    return bias;
}

/* wt[k] = stage k's weights as [out channel][tap][in channel]. */
static void transpose_stage(const walk *w, uint32_t k) {
    const qsr__conv *conv = &w->m->upsample[k];
    for (uint32_t co = 0; co < conv->cout; co++)
        for (uint32_t ci = 0; ci < w->c; ci++)
            for (uint32_t t = 0; t < 9; t++)
                w->wt[k][((size_t)co * 9 + t) * w->c + ci] =
                    conv->weight[((size_t)co * w->c + ci) * 9 + t];
}

qsr_status qsr__fold_upsampler(const qsr_model *model, float *weights, float *biases) {
    const uint32_t c = model->info.channels, s = model->info.scale, r = model->upsample_factor;
    const uint32_t stages = model->upsample_count, row = qsr__fold_table_floats(s);
    const uint32_t rows = qsr__fold_rows(s);
    const int hr = SAMPLE * (int)s;
    size_t stage_weights = (size_t)c * r * r * c * 9;
    walk w = {model,
              c,
              r,
              malloc((size_t)c * hr * hr * sizeof(float)),
              malloc((size_t)c * r * r * (hr / r) * (hr / r) * sizeof(float)),
              {malloc(stage_weights * sizeof(float)),
               stages > 1 ? malloc(stage_weights * sizeof(float)) : NULL}};
    if (!w.gp || !w.gu || !w.wt[0] || (stages > 1 && !w.wt[1])) {
        free(w.gp), free(w.gu), free(w.wt[0]), free(w.wt[1]);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "folding the upsampler");
    }
    for (uint32_t k = 0; k < stages; k++)
        transpose_stage(&w, k);
    memset(weights, 0, qsr__fold_weight_floats(model) * sizeof(float));
    memset(biases, 0, qsr__fold_bias_floats(model) * sizeof(float));
    for (uint32_t cls = 0; cls < QSR__FOLD_CLASSES; cls++) {
        int py = 2 * (int)(cls / 3), px = 2 * (int)(cls % 3);
        for (uint32_t a = 0; a < s; a++)
            for (uint32_t b = 0; b < s; b++)
                for (int colour = 0; colour < 3; colour++) {
                    box bx;
                    int n = hr;
                    seed_last(&w, colour, py * (int)s + (int)a, px * (int)s + (int)b, n, &bx);
                    float bias = model->conv_last.bias[colour];
                    for (uint32_t k = stages; k-- > 0;) {
                        n /= (int)r;
                        bias += back_stage(&w, k, n, &bx);
                    }
                    size_t o = ((a % rows) * s + b) * 3 + (size_t)colour;
                    size_t base = (size_t)cls * (s / rows) + a / rows;
                    biases[base * row + o] = bias;
                    for (uint32_t ci = 0; ci < c; ci++)
                        for (int y = bx.y0; y <= bx.y1; y++)
                            for (int x = bx.x0; x <= bx.x1; x++) {
                                size_t tap = (size_t)(y - py + 2) * 5 + (size_t)(x - px + 2);
                                weights[((base * c + ci) * QSR__FOLD_TAPS + tap) * row + o] =
                                    w.gp[((size_t)y * n + x) * c + ci];
                            }
                }
    }
    free(w.gp), free(w.gu), free(w.wt[0]), free(w.wt[1]);
    return QSR_OK;
}
