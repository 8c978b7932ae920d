/* reference.c - the CPU reference implementation of the QuantSR-C network
 * (docs/model-format.md, "The network the file describes"). Plain, single-threaded C written
 * for clarity; the GPU shaders implement exactly the formulas below, and the tests compare
 * the two (the GPU is not required to match bit-exactly).
 *
 * Storage: activations are float32 in planar layout [C][H][W]; activation codes are int8.
 *
 * Exact formulas (float32 arithmetic, default rounding mode round-to-nearest-even, no fused
 * multiply-add: every product and sum below is rounded separately):
 *
 *   pre-processing   x0[c][y][x] = ((float)p / 255.0f - mean[c]) * img_range
 *                    p = the 8-bit input pixel of channel c (R, G, B).
 *
 *   FP conv 3x3      stride 1, zero padding 1; for each output (o, y, x):
 *                        acc = 0.0f
 *                        for c in 0..cin-1, for ky in 0..2, for kx in 0..2:
 *                            acc += w[o][c][ky][kx] * in[c][y+ky-1][x+kx-1]   (plain float
 *                                                         multiply, then add; padded taps are 0)
 *                        out = acc + bias[o]
 *
 *   quantizer        q[c][i] = clamp(rintf((x[c][i] + shift[c]) / step), Qn, Qp)
 *                    float add, float division (not a multiplication by 1/step), rintf in the
 *                    default mode = half to even (2.5 -> 2, 3.5 -> 4) as torch.round; a NaN
 *                    maps to Qn. Qn, Qp = -2^(b-1), 2^(b-1)-1 signed; 0, 2^b-1 unsigned.
 *
 *   quantized conv   sum   = int32 sum over c, ky, kx of q[c][y+ky-1][x+kx-1] * wcode[o][c][ky][kx]
 *                            (zero padding in the code domain: a padded tap contributes 0,
 *                            not the code of x = 0)
 *                    scale = act_step * weight_step[o]         (one float product, first)
 *                    out   = (float)sum * scale + bias[o]       (product rounded, then add)
 *
 *   residual block   t = relu(conv1_q(h)); t = conv2_q(t); h = h * shortcut + t
 *                    (float: the product is rounded, then t added). Models with bits_w == 32
 *                    run the body convolutions as FP convs with conv.weight.
 *   skipped blocks   a block not kept at the chosen depth is h = h * shortcut: the shortcuts
 *                    of the blocks skipped in a row are multiplied into one factor p (in block
 *                    order, from 1) that the next reader of h applies once, as the GPU plan
 *                    does: the next kept block quantizes the rounded products h * p and
 *                    computes (h * p) * shortcut + t; an FP conv reading h scales its sum,
 *                    (acc * p) + bias. (PyTorch's h * s1 * s2 rounds once per factor; the
 *                    results agree to the last bit of h, not always to the code.)
 *
 *   body tail        r = conv_after_body(h) + f       (the conv's (acc * p) + bias, then + f)
 *
 *   upsampler        per stage: conv (C -> r*r*C), then PixelShuffle(r) (PyTorch):
 *                        out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x]
 *                    x2: one stage r = 2; x3: one stage r = 3; x4: two stages r = 2.
 *
 *   post-processing  v = out[c][y][x] / img_range + mean[c]     (division, then add)
 *                    v = clamp(v, 0, 1)                          (a NaN maps to 0)
 *                    pixel = (uint8_t)floorf(v * 255.0f + 0.5f)  (half away from zero)
 *
 *   alpha            an RGBA input runs its RGB through the network; its alpha is resized with
 *                    qsr_image_resize_bicubic to (scale * w, scale * h) (qsr__upscale_alpha).
 */
#include "arch.h"
#include "reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GCC compiles ISO C (-std=c11) with -ffp-contract=off already; clang contracts a * b + c
 * within one expression unless told not to. Separate statements keep the roundings apart
 * on both. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* ------------------------------------------------------------------------------------------
 * Layers
 *
 * Both convolutions work on tiles of TILE output columns of one row. The inputs the tile needs
 * (3 rows x TILE + 2 columns of every input channel) are first gathered into a small buffer
 * with zeros outside the image, so the inner loops have no bounds checks and the TILE
 * accumulators stay in registers. A zero padded tap adds w * 0 = +-0 to the float accumulator,
 * which leaves it unchanged (the accumulator starts at +0 and can never become -0 in
 * round-to-nearest), so the result is exactly "skip the padded taps".
 */
#define TILE      16u
#define TILE_SPAN (TILE + 2u)

/* tile[c][ky][i] = in[c][y + ky - 1][x0 + i - 1], 0 outside the image. */
#define DEFINE_GATHER(name, type)                                                                  \
    static void name(const type *in, uint32_t cin, uint32_t h, uint32_t w, uint32_t y,             \
                     uint32_t x0, type *tile) {                                                    \
        size_t plane = (size_t)h * w;                                                              \
        for (uint32_t c = 0; c < cin; c++)                                                         \
            for (uint32_t ky = 0; ky < 3; ky++) {                                                  \
                type *dst = tile + ((size_t)c * 3 + ky) * TILE_SPAN;                               \
                int64_t iy = (int64_t)y + ky - 1;                                                  \
                for (uint32_t i = 0; i < TILE_SPAN; i++) {                                         \
                    int64_t ix = (int64_t)x0 + i - 1;                                              \
                    int inside = iy >= 0 && iy < (int64_t)h && ix >= 0 && ix < (int64_t)w;         \
                    dst[i] = inside ? in[c * plane + (size_t)iy * w + (size_t)ix] : (type)0;       \
                }                                                                                  \
            }                                                                                      \
    }
DEFINE_GATHER(gather_tile_f32, float)
DEFINE_GATHER(gather_tile_codes, int8_t)

static qsr_status alloc_tile(size_t elem, uint32_t cin, const char *what, void **out) {
    *out = malloc((size_t)cin * 3 * TILE_SPAN * elem);
    if (!*out)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "%s: cannot allocate a tile of %u channels",
                         what, cin);
    return QSR_OK;
}

/* out[i] = sum over c, ky, kx (in that order) of w9[c][ky][kx] * tile[c][ky][i + kx]. The sums
 * live in a local array of constant size so the compiler keeps them in vector registers. */
static void conv_tile_f32(const float *restrict tile, uint32_t cin, const float *restrict w9,
                          float *restrict out) {
    float acc[TILE] = {0};
    for (uint32_t c = 0; c < cin; c++)
        for (uint32_t ky = 0; ky < 3; ky++) {
            const float *row = tile + ((size_t)c * 3 + ky) * TILE_SPAN;
            for (uint32_t kx = 0; kx < 3; kx++) {
                const float wv = w9[c * 9 + ky * 3 + kx];
                for (uint32_t i = 0; i < TILE; i++) {
                    float product = wv * row[i + kx];
                    acc[i] += product;
                }
            }
        }
    memcpy(out, acc, sizeof acc);
}

qsr_status qsr__ref_conv3x3_f32(const float *in, uint32_t cin, uint32_t h, uint32_t w,
                                const float *weight, const float *bias, uint32_t cout, float *out) {
    return qsr__ref_conv3x3_f32_scaled(in, 1.0f, cin, h, w, weight, bias, cout, out);
}

qsr_status qsr__ref_conv3x3_f32_scaled(const float *in, float in_scale, uint32_t cin, uint32_t h,
                                       uint32_t w, const float *weight, const float *bias,
                                       uint32_t cout, float *out) {
    float *tile;
    qsr_status st = alloc_tile(sizeof(float), cin, "f32 conv", (void **)&tile);
    if (st != QSR_OK) return st;
    const size_t plane = (size_t)h * w;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x0 = 0; x0 < w; x0 += TILE) {
            const uint32_t count = w - x0 < TILE ? w - x0 : TILE;
            gather_tile_f32(in, cin, h, w, y, x0, tile);
            for (uint32_t o = 0; o < cout; o++) {
                float acc[TILE];
                conv_tile_f32(tile, cin, weight + (size_t)o * cin * 9, acc);
                float *dst = out + o * plane + (size_t)y * w + x0;
                for (uint32_t i = 0; i < count; i++) {
                    float scaled = acc[i] * in_scale;
                    dst[i] = scaled + bias[o];
                }
            }
        }
    free(tile);
    return QSR_OK;
}

void qsr__ref_quantize(const float *in, uint32_t channels, size_t plane, const float *shift,
                       float step, int32_t qn, int32_t qp, int8_t *codes) {
    qsr__ref_quantize_scaled(in, 1.0f, channels, plane, shift, step, qn, qp, codes);
}

void qsr__ref_quantize_scaled(const float *in, float in_scale, uint32_t channels, size_t plane,
                              const float *shift, float step, int32_t qn, int32_t qp,
                              int8_t *codes) {
    const float lo = (float)qn, hi = (float)qp;
    for (uint32_t c = 0; c < channels; c++) {
        const float *x = in + c * plane;
        int8_t *q = codes + c * plane;
        for (size_t i = 0; i < plane; i++) {
            float v = x[i] * in_scale;
            q[i] = qsr__ref_quantize_one(v, shift[c], step, lo, hi);
        }
    }
}

/* out[i] = int32 sum over c, ky, kx of w9[c][ky][kx] * tile[c][ky][i + kx] (exact, so the
 * order does not matter). */
static void conv_tile_q(const int8_t *restrict tile, uint32_t cin, const int8_t *restrict w9,
                        int32_t *restrict out) {
    int32_t acc[TILE] = {0};
    for (uint32_t c = 0; c < cin; c++)
        for (uint32_t ky = 0; ky < 3; ky++) {
            const int8_t *row = tile + ((size_t)c * 3 + ky) * TILE_SPAN;
            for (uint32_t kx = 0; kx < 3; kx++) {
                const int16_t wv = w9[c * 9 + ky * 3 + kx];
                /* |code * wcode| <= 128 * 128 fits int16; the sum is int32. */
                for (uint32_t i = 0; i < TILE; i++)
                    acc[i] += (int16_t)(wv * row[i + kx]);
            }
        }
    memcpy(out, acc, sizeof acc);
}

qsr_status qsr__ref_conv3x3_q(const int8_t *codes, uint32_t cin, uint32_t h, uint32_t w,
                              const int8_t *wcode, const float *weight_step, float act_step,
                              const float *bias, uint32_t cout, float *out) {
    int8_t *tile;
    qsr_status st = alloc_tile(1, cin, "quantized conv", (void **)&tile);
    if (st != QSR_OK) return st;
    const size_t plane = (size_t)h * w;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x0 = 0; x0 < w; x0 += TILE) {
            const uint32_t count = w - x0 < TILE ? w - x0 : TILE;
            gather_tile_codes(codes, cin, h, w, y, x0, tile);
            for (uint32_t o = 0; o < cout; o++) {
                int32_t acc[TILE];
                conv_tile_q(tile, cin, wcode + (size_t)o * cin * 9, acc);
                /* The dequantization scale is one float product, computed before it meets
                 * the sum; then the product is rounded and the bias added. */
                const float scale = act_step * weight_step[o];
                float *dst = out + o * plane + (size_t)y * w + x0;
                for (uint32_t i = 0; i < count; i++) {
                    float product = (float)acc[i] * scale;
                    dst[i] = product + bias[o];
                }
            }
        }
    free(tile);
    return QSR_OK;
}

void qsr__ref_pixel_shuffle(const float *in, uint32_t c, uint32_t h, uint32_t w, uint32_t r,
                            float *out) {
    size_t in_plane = (size_t)h * w;
    size_t out_w = (size_t)w * r, out_plane = in_plane * r * r;
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t i = 0; i < r; i++)
            for (uint32_t j = 0; j < r; j++) {
                const float *src = in + ((size_t)ch * r * r + (size_t)i * r + j) * in_plane;
                float *dst = out + ch * out_plane;
                for (uint32_t y = 0; y < h; y++)
                    for (uint32_t x = 0; x < w; x++)
                        dst[((size_t)y * r + i) * out_w + (size_t)x * r + j] =
                            src[(size_t)y * w + x];
            }
}

void qsr__ref_preprocess(const qsr_image *in, const float mean[3], float img_range, float *out) {
    size_t plane = (size_t)in->width * in->height;
    for (uint32_t c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            float unit = (float)in->pixels[i * in->channels + c] / 255.0f;
            out[c * plane + i] = (unit - mean[c]) * img_range;
        }
}

static uint8_t float_to_pixel(float v) {
    if (!(v > 0.0f)) v = 0.0f; /* also a NaN */
    if (v > 1.0f) v = 1.0f;
    float scaled = v * 255.0f;
    return (uint8_t)floorf(scaled + 0.5f);
}

void qsr__ref_postprocess(const float *in, const float mean[3], float img_range, qsr_image *out) {
    size_t plane = (size_t)out->width * out->height;
    for (uint32_t c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            float v = in[c * plane + i] / img_range;
            v = v + mean[c];
            out->pixels[i * out->channels + c] = float_to_pixel(v);
        }
}

/* ------------------------------------------------------------------------------------------
 * Alpha
 */

qsr_status qsr__upscale_alpha(const qsr_image *in, uint32_t scale, qsr_image *out_rgba) {
    if (!in || !in->pixels || !out_rgba || !out_rgba->pixels)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "alpha upscale: NULL image");
    if (in->channels != 4 || out_rgba->channels != 4)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "alpha upscale: images must have 4 channels (input %u, output %u)",
                         in->channels, out_rgba->channels);
    if ((uint64_t)in->width * scale != out_rgba->width ||
        (uint64_t)in->height * scale != out_rgba->height)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "alpha upscale: output is %ux%u, expected %u x (%ux%u)", out_rgba->width,
                         out_rgba->height, scale, in->width, in->height);
    /* The whole RGBA image is resized (images have 3 or 4 channels); only its alpha is kept.
     * Bicubic resizing costs little next to the network. */
    qsr_image resized = {0};
    qsr_status st = qsr_image_resize_bicubic(in, out_rgba->width, out_rgba->height, &resized);
    if (st != QSR_OK) return qsr__fail_context(st, "alpha upscale");
    if (resized.width != out_rgba->width || resized.height != out_rgba->height ||
        resized.channels != 4) {
        qsr_image_free(&resized);
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "alpha upscale: resize returned %ux%ux%u",
                         resized.width, resized.height, resized.channels);
    }
    size_t pixels = (size_t)out_rgba->width * out_rgba->height;
    for (size_t i = 0; i < pixels; i++)
        out_rgba->pixels[i * 4 + 3] = resized.pixels[i * 4 + 3];
    qsr_image_free(&resized);
    return QSR_OK;
}

/* ------------------------------------------------------------------------------------------
 * Model checks: the loader validates files, but qsr_model structs may also be built in memory
 * (tests), so the reference checks everything it dereferences.
 */

qsr_status qsr__ref_check_layer(const qsr__conv *conv, const char *name, uint32_t cin,
                                uint32_t cout, int quantized) {
    if (conv->cin != cin || conv->cout != cout)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "model: %s has %u -> %u channels, expected %u -> %u", name, conv->cin,
                         conv->cout, cin, cout);
    if (!conv->bias) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: %s has no bias", name);
    if (!quantized) {
        if (!conv->weight)
            return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: %s has no F32 weight", name);
        return QSR_OK;
    }
    if (conv->bits_w < 2 || conv->bits_w > 4 || conv->bits_a < 2 || conv->bits_a > 4)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "model: %s has %u-bit weights and %u-bit activations (2 to 4 supported)",
                         name, conv->bits_w, conv->bits_a);
    if (!conv->wcode && !conv->qweight)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: %s has no weight codes", name);
    if (!conv->weight_step || !conv->act_shift)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: %s has no weight_step/act_shift",
                         name);
    if (!(conv->act_step > 0.0f) || !isfinite(conv->act_step))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: %s has act_step %g (must be > 0)",
                         name, (double)conv->act_step);
    return QSR_OK;
}

static qsr_status check_model(const qsr_model *m) {
    const qsr_model_info *info = &m->info;
    if (info->arch != QSR_ARCH_QUANTSR_C)
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "model: arch %u is not QuantSR-C", info->arch);
    if (info->in_channels != 3)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: in_channels is %u, expected 3",
                         info->in_channels);
    if (info->channels < 1 || info->channels > 256)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: channels is %u (1 to 256)",
                         info->channels);
    if (info->blocks < 1 || info->blocks > QSR_MAX_BLOCKS || !m->body || !m->shortcut)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: %u blocks (1 to %u, with arrays)",
                         info->blocks, QSR_MAX_BLOCKS);
    if (!(info->img_range > 0.0f) || !isfinite(info->img_range))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: img_range is %g (must be > 0)",
                         (double)info->img_range);
    int stages_ok = (info->scale == 2 && m->upsample_count == 1 && m->upsample_factor == 2) ||
                    (info->scale == 3 && m->upsample_count == 1 && m->upsample_factor == 3) ||
                    (info->scale == 4 && m->upsample_count == 2 && m->upsample_factor == 2);
    if (!stages_ok)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "model: scale %u does not match %u upsample stage(s) of factor %u",
                         info->scale, m->upsample_count, m->upsample_factor);
    if (info->bits_w == 32 && info->bits_a != 32)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: bits_w 32 needs bits_a 32, not %u",
                         info->bits_a);

    const uint32_t c = info->channels, rr = m->upsample_factor * m->upsample_factor;
    const int quantized = info->bits_w != 32;
    char name[64];
    qsr_status st = qsr__ref_check_layer(&m->conv_first, "conv_first", 3, c, 0);
    for (uint32_t i = 0; st == QSR_OK && i < 2 * info->blocks; i++) {
        snprintf(name, sizeof name, "body.%u.conv%u", i / 2, i % 2 + 1);
        st = qsr__ref_check_layer(&m->body[i], name, c, c, quantized);
    }
    if (st == QSR_OK) st = qsr__ref_check_layer(&m->conv_after_body, "conv_after_body", c, c, 0);
    for (uint32_t k = 0; st == QSR_OK && k < m->upsample_count; k++) {
        snprintf(name, sizeof name, "upsample.%u", k);
        st = qsr__ref_check_layer(&m->upsample[k], name, c, rr * c, 0);
    }
    if (st == QSR_OK) st = qsr__ref_check_layer(&m->conv_last, "conv_last", c, 3, 0);
    return st;
}

/* ------------------------------------------------------------------------------------------
 * The network
 */

/* Every buffer of one run, allocated at once. */
typedef struct ref_buffers {
    float *x0;      /* [3][H][W] pre-processed input */
    float *f;       /* [C][H][W] conv_first output, kept for the global residual */
    float *h;       /* [C][H][W] the body's running features */
    float *t;       /* [C][H][W] conv1 output, later conv_after_body + f */
    float *u;       /* [C][H][W] conv2 output */
    int8_t *codes;  /* [C][H][W] activation codes of the current quantized conv */
    int8_t *wcode;  /* [C][C][9] codes unpacked from QW words when a conv lacks wcode */
    float *up_conv; /* [r*r*C][Hk][Wk] upsample conv output, at most [C][sH][sW] */
    float *up_out;  /* [C][Hk*r][Wk*r] pixel-shuffle output, at most [C][sH][sW] */
    float *last;    /* [3][sH][sW] conv_last output */
} ref_buffers;

static void free_buffers(ref_buffers *b) {
    free(b->x0);
    free(b->f);
    free(b->h);
    free(b->t);
    free(b->u);
    free(b->codes);
    free(b->wcode);
    free(b->up_conv);
    free(b->up_out);
    free(b->last);
    memset(b, 0, sizeof *b);
}

int qsr__ref_add_bytes(uint64_t *total, size_t count, size_t elem) {
    size_t bytes;
    if (!qsr__mul_size(count, elem, &bytes)) return 0;
    if (bytes > QSR__REF_MAX_BYTES - *total) return 0;
    *total += bytes;
    return 1;
}

qsr_status qsr__ref_check_dimensions(const qsr_image *in, uint32_t scale) {
    if (in->width > QSR_MAX_IMAGE_DIMENSION || in->height > QSR_MAX_IMAGE_DIMENSION ||
        (uint64_t)in->width * scale > QSR_MAX_IMAGE_DIMENSION ||
        (uint64_t)in->height * scale > QSR_MAX_IMAGE_DIMENSION)
        return qsr__fail(QSR_ERROR_LIMIT,
                         "reference: %ux%u input at x%u exceeds the %u-pixel dimension limit",
                         in->width, in->height, scale, QSR_MAX_IMAGE_DIMENSION);
    return QSR_OK;
}

/* Checks the run's sizes against the limits before anything is allocated. */
static qsr_status check_sizes(const qsr_model *m, const qsr_image *in, size_t *lr_out,
                              size_t *hr_out) {
    const uint32_t s = m->info.scale, c = m->info.channels;
    qsr_status st = qsr__ref_check_dimensions(in, s);
    if (st != QSR_OK) return st;
    size_t lr, hr, feat, big;
    uint64_t total = 0;
    /* Element counts, then the bytes of each buffer of ref_buffers (alloc_buffers). */
    int ok = qsr__mul_size(in->width, in->height, &lr) && qsr__mul_size(lr, (size_t)s * s, &hr) &&
             qsr__mul_size(lr, c, &feat) && qsr__mul_size(hr, c, &big) &&
             qsr__ref_add_bytes(&total, lr, 3 * sizeof(float)) &&   /* x0 */
             qsr__ref_add_bytes(&total, feat, 4 * sizeof(float)) && /* f, h, t, u */
             qsr__ref_add_bytes(&total, feat, 1) &&                 /* codes */
             qsr__ref_add_bytes(&total, (size_t)c * c, 9) &&        /* wcode */
             qsr__ref_add_bytes(&total, big, 2 * sizeof(float)) &&  /* up_conv, up_out */
             qsr__ref_add_bytes(&total, hr, 3 * sizeof(float)) &&   /* last */
             qsr__ref_add_bytes(&total, hr, 4);                     /* the output image */
    if (!ok)
        return qsr__fail(QSR_ERROR_LIMIT,
                         "reference: %ux%u input at x%u with %u channels needs more than %llu "
                         "bytes of buffers",
                         in->width, in->height, s, c, (unsigned long long)QSR__REF_MAX_BYTES);
    *lr_out = lr;
    *hr_out = hr;
    return QSR_OK;
}

static qsr_status alloc_buffers(const qsr_model *m, size_t lr, size_t hr, ref_buffers *b) {
    const size_t c = m->info.channels;
    /* Sizes were checked against overflow by check_sizes. */
    b->x0 = malloc(3 * lr * sizeof(float));
    b->f = malloc(c * lr * sizeof(float));
    b->h = malloc(c * lr * sizeof(float));
    b->t = malloc(c * lr * sizeof(float));
    b->u = malloc(c * lr * sizeof(float));
    b->codes = malloc(c * lr);
    b->wcode = malloc(c * c * 9);
    b->up_conv = malloc(c * hr * sizeof(float));
    b->up_out = malloc(c * hr * sizeof(float));
    b->last = malloc(3 * hr * sizeof(float));
    if (!b->x0 || !b->f || !b->h || !b->t || !b->u || !b->codes || !b->wcode || !b->up_conv ||
        !b->up_out || !b->last) {
        free_buffers(b);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                         "reference: cannot allocate buffers for %zu LR / %zu HR pixels x %zu "
                         "channels",
                         lr, hr, c);
    }
    return QSR_OK;
}

/* The weight codes of a quantized conv: its unpacked wcode, or its QW words unpacked into
 * `scratch` ([cout][cin][9]). */
static const int8_t *conv_codes(const qsr__conv *conv, int8_t *scratch) {
    if (conv->wcode) return conv->wcode;
    size_t count = (size_t)conv->cout * conv->cin * 9;
    for (size_t i = 0; i < count; i++)
        scratch[i] = (int8_t)qsr__qw_get(conv->qweight, conv->bits_w, i);
    return scratch;
}

qsr_status qsr__ref_conv_layer(const qsr__conv *conv, int quantized, const float *in,
                               float in_scale, uint32_t h, uint32_t w, int8_t *codes,
                               int8_t *wcode_scratch, float *out) {
    if (!quantized)
        return qsr__ref_conv3x3_f32_scaled(in, in_scale, conv->cin, h, w, conv->weight, conv->bias,
                                           conv->cout, out);
    int32_t qn, qp;
    qsr__act_range(conv->bits_a, conv->act_signed, &qn, &qp);
    qsr__ref_quantize_scaled(in, in_scale, conv->cin, (size_t)h * w, conv->act_shift,
                             conv->act_step, qn, qp, codes);
    return qsr__ref_conv3x3_q(codes, conv->cin, h, w, conv_codes(conv, wcode_scratch),
                              conv->weight_step, conv->act_step, conv->bias, conv->cout, out);
}

/* One body convolution on in * in_scale: quantized (codes in b->codes) or, for bits_w == 32,
 * FP. */
static qsr_status body_conv(const qsr_model *m, const qsr__conv *conv, const float *in,
                            float in_scale, uint32_t h, uint32_t w, ref_buffers *b, float *out) {
    return qsr__ref_conv_layer(conv, m->info.bits_w != 32, in, in_scale, h, w, b->codes, b->wcode,
                               out);
}

/* One kept residual block on b->h, whose blocks skipped since it was last written left the
 * factor `pending` (the product of their shortcuts): h = (h * pending) * s +
 * conv2(relu(conv1(h * pending))). */
static qsr_status run_block(const qsr_model *m, uint32_t i, float pending, uint32_t h, uint32_t w,
                            ref_buffers *b) {
    const size_t n = (size_t)m->info.channels * h * w;
    const float s = m->shortcut[i];
    qsr_status st = body_conv(m, &m->body[2 * i], b->h, pending, h, w, b, b->t);
    if (st != QSR_OK) return st;
    for (size_t k = 0; k < n; k++)
        if (!(b->t[k] > 0.0f)) b->t[k] = 0.0f; /* relu; -0 and NaN become +0 */
    st = body_conv(m, &m->body[2 * i + 1], b->t, 1.0f, h, w, b, b->u);
    if (st != QSR_OK) return st;
    for (size_t k = 0; k < n; k++) {
        float carried = b->h[k] * pending;
        float scaled = carried * s;
        b->h[k] = scaled + b->u[k];
    }
    return QSR_OK;
}

/* f = conv_first(x0); the residual blocks; t = conv_after_body(h) + f. A block not kept at
 * `depth` is h = h * shortcut; its shortcut joins the product `pending` (multiplied in block
 * order, from 1) that the next reader of h applies once. */
static qsr_status run_body(const qsr_model *m, uint32_t depth, uint32_t h, uint32_t w,
                           ref_buffers *b) {
    const size_t n = (size_t)m->info.channels * h * w;
    const qsr__conv *first = &m->conv_first, *cab = &m->conv_after_body;
    qsr_status st =
        qsr__ref_conv3x3_f32(b->x0, 3, h, w, first->weight, first->bias, first->cout, b->f);
    if (st != QSR_OK) return st;
    memcpy(b->h, b->f, n * sizeof(float));
    float pending = 1.0f;
    for (uint32_t i = 0; st == QSR_OK && i < m->info.blocks; i++) {
        if (!qsr__arch_block_active(&m->info, depth, i)) {
            pending *= m->shortcut[i];
            continue;
        }
        st = run_block(m, i, pending, h, w, b);
        pending = 1.0f;
    }
    if (st != QSR_OK) return st;
    st = qsr__ref_conv3x3_f32_scaled(b->h, pending, cab->cin, h, w, cab->weight, cab->bias,
                                     cab->cout, b->t);
    if (st != QSR_OK) return st;
    for (size_t k = 0; k < n; k++)
        b->t[k] = b->t[k] + b->f[k];
    return QSR_OK;
}

/* Upsampler stages from b->t ([C][h][w]) into b->up_out ([C][sh][sw]), then conv_last into
 * b->last. */
static qsr_status run_tail(const qsr_model *m, uint32_t h, uint32_t w, ref_buffers *b) {
    const uint32_t r = m->upsample_factor, c = m->info.channels;
    const float *stage_in = b->t;
    for (uint32_t k = 0; k < m->upsample_count; k++) {
        const qsr__conv *up = &m->upsample[k];
        qsr_status st = qsr__ref_conv3x3_f32(stage_in, up->cin, h, w, up->weight, up->bias,
                                             up->cout, b->up_conv);
        if (st != QSR_OK) return st;
        qsr__ref_pixel_shuffle(b->up_conv, c, h, w, r, b->up_out);
        stage_in = b->up_out;
        h *= r;
        w *= r;
    }
    const qsr__conv *last = &m->conv_last;
    return qsr__ref_conv3x3_f32(b->up_out, last->cin, h, w, last->weight, last->bias, last->cout,
                                b->last);
}

static qsr_status check_arguments(const qsr_model *model, const qsr_image *in, uint32_t depth,
                                  const qsr_image *out) {
    if (!model || !in || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "reference: NULL model, input or output");
    if (in->channels != 3 && in->channels != 4)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "reference: input has %u channels (3 or 4 supported)", in->channels);
    if (in->width == 0 || in->height == 0 || !in->pixels)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "reference: empty %ux%u input (pixels %s)",
                         in->width, in->height, in->pixels ? "set" : "NULL");
    if (depth > model->info.blocks)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "reference: depth %u exceeds the model's %u blocks", depth,
                         model->info.blocks);
    return QSR_OK;
}

qsr_status qsr__ref_check_finite(const float *v, size_t count, const char *layer) {
    for (size_t i = 0; i < count; i++)
        if (!isfinite(v[i]))
            return qsr__fail(QSR_ERROR_BAD_OUTPUT, "reference: %s output %zu is not finite (%g)",
                             layer, i, (double)v[i]);
    return QSR_OK;
}

qsr_status qsr__ref_finish_image(const float *planar, const qsr_image *in,
                                 const qsr_model_info *info, qsr_image *out) {
    qsr_image result = {0};
    qsr_status st =
        qsr_image_create(in->width * info->scale, in->height * info->scale, in->channels, &result);
    if (st == QSR_OK) {
        qsr__ref_postprocess(planar, info->rgb_mean, info->img_range, &result);
        if (in->channels == 4) st = qsr__upscale_alpha(in, info->scale, &result);
    }
    if (st != QSR_OK) {
        qsr_image_free(&result);
        return st;
    }
    *out = result;
    return QSR_OK;
}

qsr_status qsr__reference_upscale_c(const qsr_model *model, const qsr_image *in, uint32_t depth,
                                    qsr_image *out) {
    qsr_status st = check_model(model);
    if (st != QSR_OK) return st;
    size_t lr = 0, hr = 0;
    st = check_sizes(model, in, &lr, &hr);
    if (st != QSR_OK) return st;

    ref_buffers b = {0};
    st = alloc_buffers(model, lr, hr, &b);
    if (st != QSR_OK) return st;
    const qsr_model_info *info = &model->info;
    qsr__ref_preprocess(in, info->rgb_mean, info->img_range, b.x0);
    st = run_body(model, depth, in->height, in->width, &b);
    if (st == QSR_OK) st = run_tail(model, in->height, in->width, &b);
    if (st == QSR_OK) st = qsr__ref_check_finite(b.last, 3 * hr, "conv_last");
    if (st == QSR_OK) st = qsr__ref_finish_image(b.last, in, info, out);
    free_buffers(&b);
    return st;
}

qsr_status qsr_reference_upscale(const qsr_model *model, const qsr_image *in, uint32_t depth,
                                 qsr_image *out) {
    qsr_status st = check_arguments(model, in, depth, out);
    if (st != QSR_OK) return st;
    /* Each architecture's walk checks its own structure. */
    const qsr__arch *arch = NULL;
    st = qsr__arch_get(model->info.arch, &arch);
    return st == QSR_OK ? arch->reference(model, in, depth, out) : st;
}
