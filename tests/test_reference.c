/* test_reference.c - the CPU reference network (runtime/reference.c): single layers against
 * brute-force double-precision computations and hand-derived values, and whole networks built
 * in memory (no file loader) against an independent naive implementation and against
 * properties (identity convs give a nearest-neighbour upscale, a block whose conv2 outputs 0
 * can be skipped without changing anything, alpha is resized). */
#include "test_util.h"

#include "internal.h"
#include "reference.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------
 * Models built by hand
 */
#define TEST_MAX_BLOCKS 4
#define TEST_MAX_ALLOCS 256

typedef struct test_model {
    qsr_model m;
    qsr__conv body[2 * TEST_MAX_BLOCKS];
    float shortcut[TEST_MAX_BLOCKS];
    void *allocs[TEST_MAX_ALLOCS];
    int alloc_count;
} test_model;

static void *tm_alloc(test_model *tm, size_t bytes) {
    if (tm->alloc_count == TEST_MAX_ALLOCS) {
        fprintf(stderr, "test model: too many allocations\n");
        exit(1);
    }
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        fprintf(stderr, "test model: out of memory\n");
        exit(1);
    }
    tm->allocs[tm->alloc_count++] = p;
    return p;
}

static void tm_free(test_model *tm) {
    for (int i = 0; i < tm->alloc_count; i++)
        free(tm->allocs[i]);
    tm->alloc_count = 0;
}

static float uniform(qsr_rng *rng, float lo, float hi) {
    return lo + (hi - lo) * qsr_rng_float(rng);
}

/* An F32 conv with weights in [-amp, amp] and biases in [-bias_amp, bias_amp] (rng may be NULL
 * for all zeros). */
static void fp_conv(test_model *tm, qsr__conv *conv, uint32_t cin, uint32_t cout, qsr_rng *rng,
                    float amp, float bias_amp) {
    memset(conv, 0, sizeof *conv);
    conv->cin = cin;
    conv->cout = cout;
    conv->bits_w = conv->bits_a = 32;
    size_t n = (size_t)cout * cin * 9;
    float *w = tm_alloc(tm, n * sizeof(float));
    float *b = tm_alloc(tm, cout * sizeof(float));
    for (size_t i = 0; rng && i < n; i++)
        w[i] = uniform(rng, -amp, amp);
    for (uint32_t o = 0; rng && o < cout; o++)
        b[o] = uniform(rng, -bias_amp, bias_amp);
    conv->weight = w;
    conv->bias = b;
}

/* A quantized C -> C conv with random codes and steps sized so activations stay in a useful
 * range (some codes clamp, most do not). */
static void q_conv(test_model *tm, qsr__conv *conv, uint32_t c, uint32_t bits_w, uint32_t bits_a,
                   qsr_rng *rng) {
    memset(conv, 0, sizeof *conv);
    conv->cin = conv->cout = c;
    conv->bits_w = bits_w;
    conv->bits_a = bits_a;
    size_t n = (size_t)c * c * 9;
    int8_t *codes = tm_alloc(tm, n);
    float *step = tm_alloc(tm, c * sizeof(float));
    float *shift = tm_alloc(tm, c * sizeof(float));
    float *bias = tm_alloc(tm, c * sizeof(float));
    int32_t wmax = (1 << (bits_w - 1)) - 1;
    for (size_t i = 0; i < n; i++)
        codes[i] = (int8_t)qsr_rng_int(rng, -wmax - 1, wmax);
    conv->act_signed = (int)qsr_rng_int(rng, 0, 1);
    conv->act_step = 16.0f / (float)(1 << (bits_a - 1)) * uniform(rng, 0.5f, 1.5f);
    for (uint32_t k = 0; k < c; k++) {
        step[k] = uniform(rng, 0.02f, 0.08f);
        shift[k] = uniform(rng, -1.0f, 1.0f) * conv->act_step;
        bias[k] = uniform(rng, -2.0f, 2.0f);
    }
    conv->wcode = codes;
    conv->weight_step = step;
    conv->act_shift = shift;
    conv->bias = bias;
}

/* The model skeleton: header info, upsampler layout, depth levels (every depth 1..blocks) and
 * block_rank = `rank` (or identity when NULL). Convs are left for the caller. */
static void model_skeleton(test_model *tm, uint32_t scale, uint32_t c, uint32_t blocks,
                           uint32_t bits, const uint8_t *rank) {
    memset(tm, 0, sizeof *tm);
    qsr_model_info *info = &tm->m.info;
    info->arch = QSR_ARCH_QUANTSR_C;
    info->scale = scale;
    info->in_channels = 3;
    info->channels = c;
    info->blocks = blocks;
    info->bits_w = info->bits_a = bits;
    info->depth_level_count = blocks;
    for (uint32_t i = 0; i < blocks; i++) {
        info->depth_levels[i] = blocks - i;
        info->block_rank[i] = rank ? rank[i] : (uint8_t)i;
    }
    info->rgb_mean[0] = 0.4488f;
    info->rgb_mean[1] = 0.4371f;
    info->rgb_mean[2] = 0.4040f;
    info->img_range = 255.0f;
    tm->m.body = tm->body;
    tm->m.shortcut = tm->shortcut;
    tm->m.upsample_count = scale == 4 ? 2 : 1;
    tm->m.upsample_factor = scale == 3 ? 3 : 2;
}

/* A model with random weights everywhere; bits 32 = FP body. */
static void random_model(test_model *tm, uint32_t scale, uint32_t c, uint32_t blocks, uint32_t bits,
                         const uint8_t *rank, qsr_rng *rng) {
    model_skeleton(tm, scale, c, blocks, bits, rank);
    qsr_model *m = &tm->m;
    uint32_t rr = m->upsample_factor * m->upsample_factor;
    fp_conv(tm, &m->conv_first, 3, c, rng, 0.1f, 1.0f);
    for (uint32_t i = 0; i < blocks; i++) {
        tm->shortcut[i] = uniform(rng, 0.5f, 1.2f);
        for (int k = 0; k < 2; k++) {
            if (bits == 32)
                fp_conv(tm, &tm->body[2 * i + k], c, c, rng, 0.1f, 1.0f);
            else
                q_conv(tm, &tm->body[2 * i + k], c, bits, bits, rng);
        }
    }
    fp_conv(tm, &m->conv_after_body, c, c, rng, 0.1f, 1.0f);
    for (uint32_t k = 0; k < m->upsample_count; k++)
        fp_conv(tm, &m->upsample[k], c, rr * c, rng, 0.2f, 1.0f);
    fp_conv(tm, &m->conv_last, c, 3, rng, 0.3f, 2.0f);
}

/* ------------------------------------------------------------------------------------------
 * An independent naive forward pass: one output value at a time, straight from the formulas
 * of docs/model-format.md with the operation order reference.c documents. Same float
 * operations in the same order, so the images must match exactly.
 */
static float naive_conv_f32(const float *in, uint32_t h, uint32_t w, const qsr__conv *conv,
                            uint32_t o, int64_t y, int64_t x) {
    float acc = 0.0f;
    for (uint32_t c = 0; c < conv->cin; c++)
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                int64_t iy = y + ky - 1, ix = x + kx - 1;
                if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                float product = conv->weight[((size_t)o * conv->cin + c) * 9 + ky * 3 + kx] *
                                in[((size_t)c * h + iy) * w + ix];
                acc += product;
            }
    return acc + conv->bias[o];
}

static int32_t naive_code(const qsr__conv *conv, float x, uint32_t c) {
    int32_t qn, qp;
    if (conv->act_signed) {
        qn = -(1 << (conv->bits_a - 1));
        qp = (1 << (conv->bits_a - 1)) - 1;
    } else {
        qn = 0;
        qp = (1 << conv->bits_a) - 1;
    }
    float v = rintf((x + conv->act_shift[c]) / conv->act_step);
    return v < (float)qn ? qn : v > (float)qp ? qp : (int32_t)v;
}

static float naive_conv_q(const float *in, uint32_t h, uint32_t w, const qsr__conv *conv,
                          uint32_t o, int64_t y, int64_t x) {
    int32_t sum = 0;
    for (uint32_t c = 0; c < conv->cin; c++)
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                int64_t iy = y + ky - 1, ix = x + kx - 1;
                if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                sum += naive_code(conv, in[((size_t)c * h + iy) * w + ix], c) *
                       conv->wcode[((size_t)o * conv->cin + c) * 9 + ky * 3 + kx];
            }
    float scale = conv->act_step * conv->weight_step[o];
    float product = (float)sum * scale;
    return product + conv->bias[o];
}

/* out = conv(in) for a whole tensor; quantized when q. */
static float *naive_conv(const float *in, uint32_t h, uint32_t w, const qsr__conv *conv, int q) {
    float *out = malloc((size_t)conv->cout * h * w * sizeof(float));
    for (uint32_t o = 0; o < conv->cout; o++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                out[((size_t)o * h + y) * w + x] = q ? naive_conv_q(in, h, w, conv, o, y, x)
                                                     : naive_conv_f32(in, h, w, conv, o, y, x);
    return out;
}

/* The naive network; active[i] says whether block i runs. Returns an RGB image. */
static qsr_image naive_forward(const qsr_model *m, const qsr_image *img, const int *active) {
    const qsr_model_info *info = &m->info;
    uint32_t h = img->height, w = img->width, c = info->channels;
    size_t n = (size_t)c * h * w;
    float *x0 = malloc(3 * (size_t)h * w * sizeof(float));
    for (uint32_t ch = 0; ch < 3; ch++)
        for (size_t i = 0; i < (size_t)h * w; i++) {
            float unit = (float)img->pixels[i * img->channels + ch] / 255.0f;
            x0[ch * (size_t)h * w + i] = (unit - info->rgb_mean[ch]) * info->img_range;
        }
    float *f = naive_conv(x0, h, w, &m->conv_first, 0);
    float *feat = malloc(n * sizeof(float));
    memcpy(feat, f, n * sizeof(float));
    for (uint32_t b = 0; b < info->blocks; b++) {
        float s = m->shortcut[b];
        if (!active[b]) {
            for (size_t i = 0; i < n; i++)
                feat[i] = feat[i] * s;
            continue;
        }
        int q = info->bits_w != 32;
        float *t = naive_conv(feat, h, w, &m->body[2 * b], q);
        for (size_t i = 0; i < n; i++)
            t[i] = t[i] > 0.0f ? t[i] : 0.0f;
        float *t2 = naive_conv(t, h, w, &m->body[2 * b + 1], q);
        for (size_t i = 0; i < n; i++) {
            float scaled = feat[i] * s;
            feat[i] = scaled + t2[i];
        }
        free(t);
        free(t2);
    }
    float *r = naive_conv(feat, h, w, &m->conv_after_body, 0);
    for (size_t i = 0; i < n; i++)
        r[i] = r[i] + f[i];
    uint32_t factor = m->upsample_factor;
    for (uint32_t k = 0; k < m->upsample_count; k++) {
        float *u = naive_conv(r, h, w, &m->upsample[k], 0);
        uint32_t H = h * factor, W = w * factor;
        float *shuffled = malloc((size_t)c * H * W * sizeof(float));
        /* PyTorch PixelShuffle, written from the output side. */
        for (uint32_t ch = 0; ch < c; ch++)
            for (uint32_t Y = 0; Y < H; Y++)
                for (uint32_t X = 0; X < W; X++) {
                    uint32_t src = ch * factor * factor + (Y % factor) * factor + X % factor;
                    shuffled[((size_t)ch * H + Y) * W + X] =
                        u[((size_t)src * h + Y / factor) * w + X / factor];
                }
        free(u);
        free(r);
        r = shuffled;
        h = H;
        w = W;
    }
    float *last = naive_conv(r, h, w, &m->conv_last, 0);
    qsr_image out = {0};
    if (qsr_image_create(w, h, 3, &out) == QSR_OK)
        for (uint32_t ch = 0; ch < 3; ch++)
            for (size_t i = 0; i < (size_t)h * w; i++) {
                float v = last[ch * (size_t)h * w + i] / info->img_range;
                v = v + info->rgb_mean[ch];
                v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                float scaled = v * 255.0f;
                out.pixels[i * 3 + ch] = (uint8_t)floorf(scaled + 0.5f);
            }
    free(x0);
    free(f);
    free(feat);
    free(r);
    free(last);
    return out;
}

static size_t count_differences(const qsr_image *a, const qsr_image *b) {
    if (a->width != b->width || a->height != b->height || a->channels != b->channels)
        return (size_t)-1;
    size_t n = (size_t)a->width * a->height * a->channels, diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += a->pixels[i] != b->pixels[i];
    return diff;
}

/* ------------------------------------------------------------------------------------------
 * Single layers
 */

static void test_quantize_ties(void) {
    /* step 0.5, shift 0.25: x = v * 0.5 - 0.25 gives (x + t) / a = v exactly. */
    const float targets[] = {2.5f, 3.5f, 0.5f, 1.5f, -0.5f, -1.5f, -2.5f, 2.4999f, 2.5001f};
    const int8_t expected[] = {2, 4, 0, 2, 0, -2, -2, 2, 3};
    enum { N = sizeof targets / sizeof targets[0] };
    float x[N];
    int8_t q[N];
    for (int i = 0; i < N; i++)
        x[i] = targets[i] * 0.5f - 0.25f;
    const float shift = 0.25f;
    qsr__ref_quantize(x, 1, N, &shift, 0.5f, -8, 7, q);
    for (int i = 0; i < N; i++)
        CHECK(q[i] == expected[i], "(x + t) / a = %g rounds to %d, expected %d", targets[i], q[i],
              expected[i]);
}

static void test_quantize_clamp(void) {
    for (uint32_t bits = 2; bits <= 4; bits++)
        for (int is_signed = 0; is_signed <= 1; is_signed++) {
            int32_t want_qn = is_signed ? -(1 << (bits - 1)) : 0;
            int32_t want_qp = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
            int32_t qn = 99, qp = -99;
            qsr__act_range(bits, is_signed, &qn, &qp);
            CHECK(qn == want_qn && qp == want_qp, "%u-bit %s range [%d, %d], expected [%d, %d]",
                  bits, is_signed ? "signed" : "unsigned", qn, qp, want_qn, want_qp);
            /* Two channels with different shifts: values far outside, just outside (rounding
             * away from the range) and exactly at the ends. */
            const float step = 0.75f, shift[2] = {0.0f, 1.5f};
            float x[2][6];
            for (int c = 0; c < 2; c++) {
                float base[6] = {-1000.0f,       (float)want_qn - 0.6f, (float)want_qn,
                                 (float)want_qp, (float)want_qp + 0.6f, 1000.0f};
                for (int i = 0; i < 6; i++)
                    x[c][i] = base[i] * step - shift[c];
            }
            int8_t q[2][6];
            qsr__ref_quantize(&x[0][0], 2, 6, shift, step, want_qn, want_qp, &q[0][0]);
            const int32_t expected[6] = {want_qn, want_qn, want_qn, want_qp, want_qp, want_qp};
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 6; i++)
                    CHECK(q[c][i] == expected[i],
                          "%u-bit %s, channel %d, case %d: code %d, "
                          "expected %d",
                          bits, is_signed ? "signed" : "unsigned", c, i, q[c][i], expected[i]);
            /* One step inside each end is not clamped. */
            float inside[2] = {((float)want_qn + 1.0f) * step, ((float)want_qp - 1.0f) * step};
            int8_t qi[2];
            qsr__ref_quantize(inside, 1, 2, &shift[0], step, want_qn, want_qp, qi);
            CHECK(qi[0] == want_qn + 1 && qi[1] == want_qp - 1, "inside codes %d %d", qi[0], qi[1]);
        }
}

/* A value whose (x + t) / a is at least 0.01 away from a rounding tie, so float and double
 * agree on the code. */
static float away_from_ties(qsr_rng *rng, float shift, float step) {
    for (;;) {
        float x = uniform(rng, -12.0f, 12.0f);
        double v = ((double)x + shift) / step;
        double frac = v - floor(v);
        if (fabs(frac - 0.5) > 0.01) return x;
    }
}

static void test_conv_q_vs_double(void) {
    enum { CIN = 3, COUT = 2, H = 4, W = 5 };
    qsr_rng rng = {12345};
    const float step = 0.7f;
    const int32_t qn = -8, qp = 7;
    float shift[CIN], x[CIN * H * W], wstep[COUT], bias[COUT];
    int8_t wcode[COUT * CIN * 9], codes[CIN * H * W];
    for (int c = 0; c < CIN; c++)
        shift[c] = uniform(&rng, -0.5f, 0.5f);
    for (int i = 0; i < CIN * H * W; i++)
        x[i] = away_from_ties(&rng, shift[i / (H * W)], step);
    for (int i = 0; i < COUT * CIN * 9; i++)
        wcode[i] = (int8_t)qsr_rng_int(&rng, -8, 7);
    for (int o = 0; o < COUT; o++) {
        wstep[o] = uniform(&rng, 0.01f, 0.1f);
        bias[o] = uniform(&rng, -1.0f, 1.0f);
    }
    qsr__ref_quantize(x, CIN, H * W, shift, step, qn, qp, codes);
    float out[COUT * H * W];
    CHECK_OK(qsr__ref_conv3x3_q(codes, CIN, H, W, wcode, wstep, step, bias, COUT, out));

    /* Brute force in double: codes, then y = a * a_w * sum + bias. */
    int32_t dq[CIN * H * W];
    int clamped = 0;
    for (int i = 0; i < CIN * H * W; i++) {
        double v = nearbyint(((double)x[i] + shift[i / (H * W)]) / step);
        dq[i] = v < qn ? qn : v > qp ? qp : (int32_t)v;
        clamped += v < qn || v > qp;
        CHECK(codes[i] == dq[i], "code %d: %d, double gives %d", i, codes[i], dq[i]);
    }
    CHECK(clamped > 0, "the test data should exercise clamping");
    for (int o = 0; o < COUT; o++)
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                long long sum = 0;
                for (int c = 0; c < CIN; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = y + ky - 1, ix = xx + kx - 1;
                            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                            sum += (long long)dq[(c * H + iy) * W + ix] *
                                   wcode[(o * CIN + c) * 9 + ky * 3 + kx];
                        }
                double want = (double)step * wstep[o] * (double)sum + bias[o];
                double got = out[(o * H + y) * W + xx];
                double tol = 1e-6 * (fabs(want) + fabs(bias[o]) + 1.0);
                CHECK(fabs(got - want) <= tol, "q conv out[%d][%d][%d] = %.9g, double %.9g", o, y,
                      xx, got, want);
            }
}

static void test_conv_f32_vs_double(void) {
    enum { CIN = 2, COUT = 3, H = 3, W = 4 };
    qsr_rng rng = {777};
    float x[CIN * H * W], w[COUT * CIN * 9], bias[COUT], out[COUT * H * W];
    for (int i = 0; i < CIN * H * W; i++)
        x[i] = uniform(&rng, -10.0f, 10.0f);
    for (int i = 0; i < COUT * CIN * 9; i++)
        w[i] = uniform(&rng, -1.0f, 1.0f);
    for (int o = 0; o < COUT; o++)
        bias[o] = uniform(&rng, -1.0f, 1.0f);
    CHECK_OK(qsr__ref_conv3x3_f32(x, CIN, H, W, w, bias, COUT, out));
    for (int o = 0; o < COUT; o++)
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                double want = bias[o], magnitude = fabs(bias[o]);
                for (int c = 0; c < CIN; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = y + ky - 1, ix = xx + kx - 1;
                            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                            double p = (double)w[(o * CIN + c) * 9 + ky * 3 + kx] *
                                       x[(c * H + iy) * W + ix];
                            want += p;
                            magnitude += fabs(p);
                        }
                double got = out[(o * H + y) * W + xx];
                CHECK(fabs(got - want) <= 1e-6 * magnitude + 1e-7,
                      "f32 conv out[%d][%d][%d] = %.9g, double %.9g", o, y, xx, got, want);
            }
}

/* The FP conv must sum in the documented order (c, ky, kx, then + bias) exactly: the GPU
 * tests rely on this fixed order. Values span six decades so a different order rounds
 * differently (checked: the reversed order gives other results on this data). */
static void test_conv_f32_order(void) {
    enum { CIN = 5, COUT = 2, H = 4, W = 21 };
    qsr_rng rng = {4242};
    float x[CIN * H * W], w[COUT * CIN * 9], bias[COUT], out[COUT * H * W];
    for (int i = 0; i < CIN * H * W; i++)
        x[i] = uniform(&rng, -1.0f, 1.0f) * powf(10.0f, uniform(&rng, -3.0f, 3.0f));
    for (int i = 0; i < COUT * CIN * 9; i++)
        w[i] = uniform(&rng, -1.0f, 1.0f);
    for (int o = 0; o < COUT; o++)
        bias[o] = uniform(&rng, -1.0f, 1.0f);
    CHECK_OK(qsr__ref_conv3x3_f32(x, CIN, H, W, w, bias, COUT, out));
    qsr__conv conv = {.cin = CIN, .cout = COUT, .weight = w, .bias = bias};
    int mismatches = 0, order_sensitive = 0;
    for (int o = 0; o < COUT; o++)
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                float got = out[(o * H + y) * W + xx];
                mismatches += got != naive_conv_f32(x, H, W, &conv, (uint32_t)o, y, xx);
                float reversed = 0.0f;
                for (int k = CIN * 9 - 1; k >= 0; k--) {
                    int iy = y + k % 9 / 3 - 1, ix = xx + k % 3 - 1;
                    if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                    float product = w[o * CIN * 9 + k] * x[(k / 9 * H + iy) * W + ix];
                    reversed += product;
                }
                order_sensitive += reversed + bias[o] != got;
            }
    CHECK(mismatches == 0, "%d outputs differ from the documented summation order", mismatches);
    CHECK(order_sensitive > 0, "the data should be sensitive to the summation order");
}

/* A quantized layer wider than one tile (and not a multiple of it) against the naive
 * per-output computation: codes, int sums and the dequantization must match exactly. */
static void test_conv_q_matches_naive(void) {
    enum { C = 3, H = 3, W = 37 };
    qsr_rng rng = {8080};
    test_model tm;
    memset(&tm, 0, sizeof tm);
    qsr__conv conv;
    q_conv(&tm, &conv, C, 4, 4, &rng);
    float x[C * H * W], got[C * H * W];
    int8_t codes[C * H * W];
    for (int i = 0; i < C * H * W; i++)
        x[i] = uniform(&rng, -20.0f, 20.0f);
    int32_t qn, qp;
    qsr__act_range(conv.bits_a, conv.act_signed, &qn, &qp);
    qsr__ref_quantize(x, C, H * W, conv.act_shift, conv.act_step, qn, qp, codes);
    CHECK_OK(qsr__ref_conv3x3_q(codes, C, H, W, conv.wcode, conv.weight_step, conv.act_step,
                                conv.bias, C, got));
    int mismatches = 0;
    for (uint32_t o = 0; o < C; o++)
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++)
                mismatches += got[(o * H + y) * W + xx] != naive_conv_q(x, H, W, &conv, o, y, xx);
    CHECK(mismatches == 0, "%d quantized outputs differ from the naive computation", mismatches);
    tm_free(&tm);
}

static void test_zero_padding(void) {
    enum { CIN = 2, H = 3, W = 4 };
    /* All-ones input and weights: each output counts the taps inside the image. */
    float ones[CIN * H * W], w[CIN * 9], zero_bias = 0.0f, out[H * W];
    for (int i = 0; i < CIN * H * W; i++)
        ones[i] = 1.0f;
    for (int i = 0; i < CIN * 9; i++)
        w[i] = 1.0f;
    CHECK_OK(qsr__ref_conv3x3_f32(ones, CIN, H, W, w, &zero_bias, 1, out));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int rows = 3 - (y == 0) - (y == H - 1), cols = 3 - (x == 0) - (x == W - 1);
            CHECK(out[y * W + x] == (float)(CIN * rows * cols), "f32 padding at (%d,%d): %g", y, x,
                  out[y * W + x]);
        }
    /* Quantized: x = 0 quantizes to 3 (shift 3a), but padding is 0 in the code domain, so the
     * border sums count only the taps inside. */
    float zeros[CIN * H * W] = {0}, shift[CIN] = {1.5f, 1.5f};
    int8_t codes[CIN * H * W], wcode[CIN * 9];
    for (int i = 0; i < CIN * 9; i++)
        wcode[i] = 1;
    qsr__ref_quantize(zeros, CIN, H * W, shift, 0.5f, 0, 15, codes);
    CHECK(codes[0] == 3, "quantize(0) with shift 3a is %d, expected 3", codes[0]);
    float wstep = 1.0f;
    CHECK_OK(qsr__ref_conv3x3_q(codes, CIN, H, W, wcode, &wstep, 1.0f, &zero_bias, 1, out));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int rows = 3 - (y == 0) - (y == H - 1), cols = 3 - (x == 0) - (x == W - 1);
            CHECK(out[y * W + x] == (float)(3 * CIN * rows * cols),
                  "quantized padding at (%d,%d): %g", y, x, out[y * W + x]);
        }
}

static void test_pixel_shuffle(void) {
    /* Hand-checked against torch.nn.PixelShuffle(2) on a [1, 4, 1, 1] input [a, b, c, d]:
     * the output is [[a, b], [c, d]]. */
    const float abcd[4] = {10, 20, 30, 40};
    float small[4];
    qsr__ref_pixel_shuffle(abcd, 1, 1, 1, 2, small);
    CHECK(small[0] == 10 && small[1] == 20 && small[2] == 30 && small[3] == 40,
          "PixelShuffle(2) of [a b c d] gave [%g %g; %g %g]", small[0], small[1], small[2],
          small[3]);

    for (uint32_t r = 2; r <= 3; r++) {
        enum { C = 2, H = 2, W = 3 };
        float in[C * 9 * H * W], out[C * 9 * H * W];
        /* Each input value encodes its own (channel, y, x). */
        for (uint32_t k = 0; k < C * r * r; k++)
            for (uint32_t y = 0; y < H; y++)
                for (uint32_t x = 0; x < W; x++)
                    in[(k * H + y) * W + x] = (float)(k * 100 + y * 10 + x);
        qsr__ref_pixel_shuffle(in, C, H, W, r, out);
        for (uint32_t c = 0; c < C; c++)
            for (uint32_t Y = 0; Y < H * r; Y++)
                for (uint32_t X = 0; X < W * r; X++) {
                    /* PyTorch: out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x]. */
                    uint32_t k = c * r * r + (Y % r) * r + X % r;
                    float want = (float)(k * 100 + (Y / r) * 10 + X / r);
                    float got = out[(c * H * r + Y) * W * r + X];
                    CHECK(got == want, "r=%u out[%u][%u][%u] = %g, expected %g", r, c, Y, X, got,
                          want);
                }
    }
}

/* QW words packed by hand in the canonical layout, used when a conv has no unpacked wcode. */
static void test_qweight_fallback(void) {
    qsr_rng rng = {99};
    test_model a, b;
    random_model(&a, 2, 3, 1, 3, NULL, &rng);
    qsr_rng rng2 = {99};
    random_model(&b, 2, 3, 1, 3, NULL, &rng2);
    for (int k = 0; k < 2; k++) {
        qsr__conv *conv = &b.body[k];
        size_t n = (size_t)conv->cout * conv->cin * 9, per_word = 8; /* 4-bit containers */
        uint32_t *words = tm_alloc(&b, (n + per_word - 1) / per_word * 4);
        for (size_t i = 0; i < n; i++)
            words[i / per_word] |= ((uint32_t)conv->wcode[i] & 0xFu) << (i % per_word * 4);
        conv->qweight = words;
        conv->wcode = NULL;
    }
    qsr_image img = qsr_test_random_image(&rng, 5, 4, 3), out_a = {0}, out_b = {0};
    CHECK_OK(qsr_reference_upscale(&a.m, &img, 0, &out_a));
    CHECK_OK(qsr_reference_upscale(&b.m, &img, 0, &out_b));
    CHECK(count_differences(&out_a, &out_b) == 0, "QW-packed weights give a different image");
    qsr_image_free(&img);
    qsr_image_free(&out_a);
    qsr_image_free(&out_b);
    tm_free(&a);
    tm_free(&b);
}

/* ------------------------------------------------------------------------------------------
 * Whole networks
 */

static void test_matches_naive(uint32_t scale, uint32_t bits, uint32_t depth, uint64_t seed) {
    static const uint8_t rank[3] = {2, 0, 1};
    qsr_rng rng = {seed};
    test_model tm;
    random_model(&tm, scale, 4, 3, bits, rank, &rng);
    qsr_image img = qsr_test_random_image(&rng, 6, 5, 3), got = {0};
    int active[3];
    for (int i = 0; i < 3; i++) {
        active[i] = depth == 0;
        for (uint32_t k = 0; k < depth; k++)
            active[i] |= rank[k] == i;
    }
    CHECK_OK(qsr_reference_upscale(&tm.m, &img, depth, &got));
    qsr_image want = naive_forward(&tm.m, &img, active);
    CHECK(got.width == 6 * scale && got.height == 5 * scale && got.channels == 3,
          "x%u output is %ux%ux%u", scale, got.width, got.height, got.channels);
    size_t diff = count_differences(&got, &want);
    CHECK(diff == 0, "x%u %u-bit depth %u: %zu pixels differ from the naive network", scale, bits,
          depth, diff);
    CHECK(qsr_test_distinct_values(&got) > 20,
          "x%u %u-bit output is degenerate (%d distinct values)", scale, bits,
          qsr_test_distinct_values(&got));
    qsr_image_free(&img);
    qsr_image_free(&got);
    qsr_image_free(&want);
    tm_free(&tm);
}

/* Identity convs (centre tap 1 between matching channels) make the network copy its input;
 * the upsampler's identity feeds every sub-pixel of channel c from channel c, so the output
 * is the nearest-neighbour upscale. */
static void identity_conv(test_model *tm, qsr__conv *conv, uint32_t cin, uint32_t cout,
                          uint32_t group) {
    fp_conv(tm, conv, cin, cout, NULL, 0, 0);
    float *w = (float *)conv->weight;
    for (uint32_t o = 0; o < cout; o++)
        w[((size_t)o * cin + o / group) * 9 + 4] = 1.0f;
}

static void test_identity_is_nearest(uint32_t scale) {
    test_model tm;
    model_skeleton(&tm, scale, 3, 2, 32, NULL);
    qsr_model *m = &tm.m;
    uint32_t rr = m->upsample_factor * m->upsample_factor;
    identity_conv(&tm, &m->conv_first, 3, 3, 1);
    for (uint32_t i = 0; i < 2; i++) {
        tm.shortcut[i] = 1.0f;
        fp_conv(&tm, &tm.body[2 * i], 3, 3, NULL, 0, 0); /* conv2 outputs 0: h unchanged */
        fp_conv(&tm, &tm.body[2 * i + 1], 3, 3, NULL, 0, 0);
    }
    fp_conv(&tm, &m->conv_after_body, 3, 3, NULL, 0, 0); /* r = 0 + f */
    for (uint32_t k = 0; k < m->upsample_count; k++)
        identity_conv(&tm, &m->upsample[k], 3, rr * 3, rr);
    identity_conv(&tm, &m->conv_last, 3, 3, 1);

    qsr_rng rng = {scale};
    qsr_image img = qsr_test_random_image(&rng, 7, 5, 3), out = {0};
    CHECK_OK(qsr_reference_upscale(m, &img, 0, &out));
    CHECK(out.width == 7 * scale && out.height == 5 * scale, "x%u identity output %ux%u", scale,
          out.width, out.height);
    size_t mismatches = 0;
    for (uint32_t y = 0; out.pixels && y < out.height; y++)
        for (uint32_t x = 0; x < out.width; x++)
            for (uint32_t c = 0; c < 3; c++)
                mismatches += out.pixels[((size_t)y * out.width + x) * 3 + c] !=
                              img.pixels[((size_t)(y / scale) * img.width + x / scale) * 3 + c];
    CHECK(mismatches == 0, "x%u identity network: %zu values differ from nearest upscale", scale,
          mismatches);
    qsr_image_free(&img);
    qsr_image_free(&out);
    tm_free(&tm);
}

/* Block 1's conv2 has zero weights and bias, so running it gives h * s + 0 = h * s, exactly
 * the skipped path: depth 2 (rank 0, 2 kept, block 1 skipped) equals depth 0. Skipping block 2
 * (depth 1), whose conv2 is not zero, must change the output. */
static void test_depth_skip(void) {
    static const uint8_t rank[3] = {0, 2, 1};
    qsr_rng rng = {2024};
    test_model tm;
    random_model(&tm, 2, 4, 3, 4, rank, &rng);
    tm.shortcut[1] = 0.8f;
    qsr__conv *conv2 = &tm.body[3];
    memset(conv2->wcode, 0, (size_t)conv2->cout * conv2->cin * 9);
    memset((float *)conv2->bias, 0, conv2->cout * sizeof(float));
    CHECK(qsr__model_block_active(&tm.m, 2, 0) && !qsr__model_block_active(&tm.m, 2, 1) &&
              qsr__model_block_active(&tm.m, 2, 2),
          "depth 2 should keep blocks 0 and 2");

    qsr_image img = qsr_test_random_image(&rng, 8, 6, 3), full = {0}, skip1 = {0}, skip12 = {0};
    CHECK_OK(qsr_reference_upscale(&tm.m, &img, 0, &full));
    CHECK_OK(qsr_reference_upscale(&tm.m, &img, 2, &skip1));
    CHECK_OK(qsr_reference_upscale(&tm.m, &img, 1, &skip12));
    CHECK(count_differences(&full, &skip1) == 0,
          "skipping a block whose conv2 outputs 0 changed %zu values",
          count_differences(&full, &skip1));
    CHECK(count_differences(&full, &skip12) > 0, "skipping a live block changed nothing");
    qsr_image_free(&img);
    qsr_image_free(&full);
    qsr_image_free(&skip1);
    qsr_image_free(&skip12);
    tm_free(&tm);
}

static void test_alpha(void) {
    qsr_rng rng = {31337};
    test_model tm;
    random_model(&tm, 3, 4, 1, 2, NULL, &rng);
    qsr_image rgba = qsr_test_random_image(&rng, 6, 4, 4), rgb = {0};
    CHECK_OK(qsr_image_create(6, 4, 3, &rgb));
    for (size_t i = 0; rgb.pixels && i < 6 * 4; i++)
        memcpy(rgb.pixels + 3 * i, rgba.pixels + 4 * i, 3);

    qsr_image out4 = {0}, out3 = {0}, resized = {0};
    CHECK_OK(qsr_reference_upscale(&tm.m, &rgba, 0, &out4));
    CHECK_OK(qsr_reference_upscale(&tm.m, &rgb, 0, &out3));
    CHECK_OK(qsr_image_resize_bicubic(&rgba, 18, 12, &resized));
    CHECK(out4.width == 18 && out4.height == 12 && out4.channels == 4, "RGBA output is %ux%ux%u",
          out4.width, out4.height, out4.channels);
    size_t rgb_diff = 0, alpha_diff = 0;
    for (size_t i = 0; out4.pixels && out3.pixels && resized.pixels && i < 18 * 12; i++) {
        rgb_diff += memcmp(out4.pixels + 4 * i, out3.pixels + 3 * i, 3) != 0;
        alpha_diff += out4.pixels[4 * i + 3] != resized.pixels[4 * i + 3];
    }
    CHECK(rgb_diff == 0, "RGBA and RGB runs differ in %zu RGB pixels", rgb_diff);
    CHECK(alpha_diff == 0, "%zu alpha values differ from the bicubic resize", alpha_diff);

    /* A constant alpha stays constant. */
    for (size_t i = 0; i < 6 * 4; i++)
        rgba.pixels[4 * i + 3] = 200;
    qsr_image flat = {0};
    CHECK_OK(qsr_reference_upscale(&tm.m, &rgba, 0, &flat));
    size_t off = 0;
    for (size_t i = 0; flat.pixels && i < 18 * 12; i++)
        off += flat.pixels[4 * i + 3] != 200;
    CHECK(flat.pixels && off == 0, "constant alpha 200 changed in %zu pixels", off);

    qsr_image_free(&flat);
    qsr_image_free(&rgba);
    qsr_image_free(&rgb);
    qsr_image_free(&out4);
    qsr_image_free(&out3);
    qsr_image_free(&resized);
    tm_free(&tm);
}

static void test_errors(void) {
    qsr_rng rng = {5};
    test_model tm;
    random_model(&tm, 4, 2, 2, 2, NULL, &rng);
    qsr_image img = qsr_test_random_image(&rng, 3, 3, 3);
    qsr_image out = {123, 456, 7, NULL};

    CHECK_STATUS(qsr_reference_upscale(NULL, &img, 0, &out), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_reference_upscale(&tm.m, NULL, 0, &out), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &img, 0, NULL), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &img, 3, &out), QSR_ERROR_INVALID_ARGUMENT);

    qsr_image bad = img;
    bad.channels = 2;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &bad, 0, &out), QSR_ERROR_INVALID_ARGUMENT);
    bad = img;
    bad.width = 0;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &bad, 0, &out), QSR_ERROR_INVALID_ARGUMENT);
    /* Absurd sizes are refused before anything is read or allocated (the pixels are 27
     * bytes). */
    bad = img;
    bad.width = QSR_MAX_IMAGE_DIMENSION;
    bad.height = 1;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &bad, 0, &out), QSR_ERROR_LIMIT);
    bad.width = bad.height = 16000;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &bad, 0, &out), QSR_ERROR_LIMIT);
    bad.width = bad.height = UINT32_MAX;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &bad, 0, &out), QSR_ERROR_LIMIT);

    /* Broken models. */
    tm.body[1].cin = 3;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &img, 0, &out), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "body.0.conv2") != NULL, "message names the conv: %s",
          qsr_last_error());
    tm.body[1].cin = 2;
    tm.m.upsample_count = 1;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &img, 0, &out), QSR_ERROR_INVALID_ARGUMENT);
    tm.m.upsample_count = 2;
    tm.body[2].act_step = 0.0f;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &img, 0, &out), QSR_ERROR_INVALID_ARGUMENT);
    tm.body[2].act_step = 1.0f;
    /* Overflowing output: float infinity in conv_last. */
    float *last_bias = (float *)tm.m.conv_last.bias;
    float saved = last_bias[0];
    last_bias[0] = INFINITY;
    CHECK_STATUS(qsr_reference_upscale(&tm.m, &img, 0, &out), QSR_ERROR_BAD_OUTPUT);
    last_bias[0] = saved;

    CHECK(out.width == 123 && out.height == 456 && out.channels == 7 && out.pixels == NULL,
          "a failed call wrote its output");
    CHECK_OK(qsr_reference_upscale(&tm.m, &img, 0, &out));
    qsr_image_free(&out);
    qsr_image_free(&img);
    tm_free(&tm);
}

int main(void) {
    test_quantize_ties();
    test_quantize_clamp();
    test_conv_q_vs_double();
    test_conv_f32_vs_double();
    test_conv_f32_order();
    test_conv_q_matches_naive();
    test_zero_padding();
    test_pixel_shuffle();
    test_qweight_fallback();
    for (uint32_t scale = 2; scale <= 4; scale++) {
        test_matches_naive(scale, 4, 0, 100 + scale);
        test_matches_naive(scale, 2, 2, 200 + scale);
        test_matches_naive(scale, 32, 1, 300 + scale);
        test_identity_is_nearest(scale);
    }
    test_matches_naive(4, 3, 0, 400);
    test_depth_skip();
    test_alpha();
    test_errors();
    return qsr_test_finish("test_reference");
}
