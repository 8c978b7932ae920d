/* reference_t.c - the CPU reference implementation of the QuantSR-T network
 * (docs/model-format.md, "QuantSR-T (arch 2)"): SwinIR-light with RLQ-quantized linear layers,
 * group convolutions and attention products. Plain, single-threaded C written for clarity, in
 * float32, following the order of operations of tools/reference.py (ReferenceModelT) as far as
 * that is practical; PyTorch's own kernels (vectorized exp/erf, blocked matrix products, its
 * LayerNorm moments) round differently in the last bit, so the two agree exactly on the integer
 * parts and to about an ulp on the float parts (tests/test_reference_t.c measures it).
 *
 * Storage: the network's features are tokens, [P][E] with P = Hp * Wp pixels of the padded grid
 * in row-major order; the convolutions (reference.c) work on planar [C][H][W] copies.
 *
 * Formulas beyond those of reference.c (float32, every operation rounded separately):
 *
 *   padding          reflect on the right and bottom to multiples of the window W (PyTorch's
 *                    'reflect': the edge pixel is not repeated). PyTorch refuses a pad as large
 *                    as the image; here the mirror simply repeats (index period 2 (n - 1)).
 *
 *   LayerNorm        per token over E: mean = (sum x) / E; var = (sum (x - mean)^2) / E
 *                    (biased); y = (x - mean) * (1 / sqrtf(var + 1e-5)) * weight + bias.
 *
 *   linear           quantized: q_c = clamp(rintf((x_c + shift_c) / a), Qn, Qp);
 *                        y_o = (float)(int32 sum q_c * wcode[o][c]) * (a * a_w[o]) + bias_o
 *                    float:  y_o = (sum over c in order of w[o][c] * x_c) + bias_o
 *
 *   attention        per window and head, tokens n, m of the window (row-major):
 *                        Q = qkv[Q part] / (float)sqrt(d), K, V = qkv[K part], qkv[V part]
 *                        S = (float)(int32 sum qQ * qK) * (aq * ak) + rel_bias  [+ mask]
 *                        P = softmax_m(S): e = qsr__exp(S - max), P = e / (sum e)
 *                        O = (float)(int32 sum qP * qV) * (ap * av)
 *                    (float models: S = sum Q K, O = sum P V in order), then proj.
 *
 *   GELU             x * 0.5f * (1.0f + qsr__erf(x * (1 / sqrt 2)))  (PyTorch's form)
 *
 * exp and erf are float_math.c's explicit formulas, the twins of the shaders' (not the C
 * library's), so that the GPU computes the same bits on devices with IEEE arithmetic.
 */
#include "arch.h"
#include "float_math.h"
#include "reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define SQRT1_2    0.70710678118654752440f /* 1 / sqrt(2) */
#define MASK_VALUE (-100.0f)

/* ------------------------------------------------------------------------------------------
 * Model checks: the loader validates files, but qsr_model structs may also be built in memory,
 * so every pointer and size the walk uses is checked first.
 */

static qsr_status check_vector(const float *v, const char *name, uint32_t layer) {
    if (v) return QSR_OK;
    return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: layer %u has no %s", layer, name);
}

static qsr_status check_attention_quant(const qsr__t_layer *l, uint32_t i) {
    const qsr__act_quant *q[3] = {&l->q, &l->k, &l->v};
    for (int k = 0; k < 3; k++)
        if (!q[k]->shift || !(q[k]->step > 0.0f) || !isfinite(q[k]->step))
            return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                             "model: layer %u attention quantizer %c has no shift or a step of %g",
                             i, "qkv"[k], (double)q[k] -> step);
    if (!(l->p_step > 0.0f) || !isfinite(l->p_step))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: layer %u has attn.p step %g", i,
                         (double)l->p_step);
    return QSR_OK;
}

static qsr_status check_swin_layer(const qsr_model_info *info, const qsr__t_layer *l, uint32_t i) {
    const uint32_t e = info->channels, hid = info->mlp_hidden;
    const int quantized = info->bits_w != 32;
    qsr_status st = check_vector(l->norm1_weight, "norm1.weight", i);
    if (st == QSR_OK) st = check_vector(l->norm1_bias, "norm1.bias", i);
    if (st == QSR_OK) st = check_vector(l->norm2_weight, "norm2.weight", i);
    if (st == QSR_OK) st = check_vector(l->norm2_bias, "norm2.bias", i);
    if (st == QSR_OK) st = check_vector(l->rel_bias, "attn.rel_bias", i);
    if (st == QSR_OK) st = qsr__ref_check_layer(&l->qkv, "qkv", e, 3 * e, quantized);
    if (st == QSR_OK) st = qsr__ref_check_layer(&l->proj, "proj", e, e, quantized);
    if (st == QSR_OK) st = qsr__ref_check_layer(&l->fc1, "fc1", e, hid, quantized);
    if (st == QSR_OK) st = qsr__ref_check_layer(&l->fc2, "fc2", hid, e, quantized);
    if (st == QSR_OK && quantized) st = check_attention_quant(l, i);
    /* Linear layers need their codes unpacked (the loader does it). */
    if (st == QSR_OK && quantized &&
        (!l->qkv.wcode || !l->proj.wcode || !l->fc1.wcode || !l->fc2.wcode))
        st = qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: layer %u has packed codes only", i);
    return st;
}

static qsr_status check_header_t(const qsr_model_info *info) {
    const uint32_t w = info->window, heads = info->heads;
    if (info->channels < 1 || info->channels > 256 || heads < 1 || info->channels % heads != 0 ||
        (w != 4 && w != 8 && w != 16) || info->mlp_hidden < 1 || info->mlp_hidden > 1024 ||
        info->group_count < 1 || info->group_count > QSR_MAX_GROUPS || info->blocks < 1 ||
        info->blocks > QSR_MAX_BLOCKS || info->scale < 2 || info->scale > 4)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "model: QuantSR-T fields out of range (E %u, heads %u, window %u, "
                         "mlp_hidden %u, %u groups, %u layers, x%u)",
                         info->channels, heads, w, info->mlp_hidden, info->group_count,
                         info->blocks, info->scale);
    uint32_t sum = 0;
    for (uint32_t g = 0; g < info->group_count; g++)
        sum += info->group_depths[g] <= QSR_MAX_BLOCKS ? info->group_depths[g] : QSR_MAX_BLOCKS + 1;
    if (sum != info->blocks)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "model: group_depths sum to %u, not the %u layers", sum, info->blocks);
    if (!(info->img_range > 0.0f) || !isfinite(info->img_range))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: img_range is %g (must be > 0)",
                         (double)info->img_range);
    if (info->bits_w != 32 && (info->bits_a < 2 || info->bits_a > 4))
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "model: %u-bit activations (2 to 4 supported)",
                         info->bits_a);
    return QSR_OK;
}

static qsr_status check_model_t(const qsr_model *m) {
    const qsr_model_info *info = &m->info;
    qsr_status st = check_header_t(info);
    if (st != QSR_OK) return st;
    const qsr__t_parts *t = &m->t;
    if (!t->layers || !t->group_conv || !t->patch_norm_weight || !t->patch_norm_bias ||
        !t->norm_weight || !t->norm_bias)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model: QuantSR-T arrays or norms missing");
    const uint32_t e = info->channels, s = info->scale;
    st = qsr__ref_check_layer(&m->conv_first, "conv_first", 3, e, 0);
    for (uint32_t i = 0; st == QSR_OK && i < info->blocks; i++)
        st = check_swin_layer(info, &t->layers[i], i);
    for (uint32_t g = 0; st == QSR_OK && g < info->group_count; g++)
        st = qsr__ref_check_layer(&t->group_conv[g], "group conv", e, e, info->bits_w != 32);
    if (st == QSR_OK) st = qsr__ref_check_layer(&m->conv_after_body, "conv_after_body", e, e, 0);
    if (st == QSR_OK) st = qsr__ref_check_layer(&m->upsample[0], "upsample.0", e, 3 * s * s, 0);
    return st;
}

/* ------------------------------------------------------------------------------------------
 * Buffers
 */

/* The scratch of one window's attention: N = W^2 tokens, E channels, d per head. */
typedef struct window_scratch {
    float *qkv;           /* [N][3E] the window's rows of the qkv output */
    float *heads;         /* [N][E] the heads' outputs, concatenated head-major */
    float *q, *k, *v;     /* [N][d] one head's Q (scaled), K, V */
    int8_t *qq, *qk, *qv; /* [N][d] their codes (quantized models) */
    float *row;           /* [N] one row of scores / probabilities */
    int8_t *qrow;         /* [N] its codes */
    int8_t *codes;        /* [E] one token's input codes of a linear layer */
    uint8_t *label;       /* [N] the shift-mask region of each token of the window */
} window_scratch;

/* Every buffer of one run, allocated at once. */
typedef struct t_buffers {
    float *x0;       /* [3][H0][W0] pre-processed input */
    float *xpad;     /* [3][Hp][Wp] reflect-padded */
    float *f;        /* [E][Hp][Wp] conv_first output, kept for the global residual */
    float *tok;      /* [P][E] the running tokens */
    float *u;        /* [P][E] the group's input, for its residual */
    float *norm;     /* [P][E] a LayerNorm's output */
    float *branch;   /* [P][E] the attention or MLP branch */
    float *hidden;   /* [P][H] fc1 output */
    float *qkv;      /* [P][3E] the qkv layer's output */
    float *heads;    /* [P][E] the attention heads' output (proj's input) */
    float *plane_a;  /* [E][Hp][Wp] planar copies for the convolutions */
    float *plane_b;  /* [E][Hp][Wp] */
    int8_t *codes;   /* [max(E, H)][Hp][Wp] activation codes */
    int8_t *wcode;   /* [E][E][9] codes unpacked from QW words when a conv lacks wcode */
    float *up;       /* [3 s^2][Hp][Wp] upsample.0 output */
    float *shuffled; /* [3][s Hp][s Wp] */
    float *crop;     /* [3][s H0][s W0] */
    window_scratch win;
} t_buffers;

/* Geometry of one run. */
typedef struct t_geometry {
    uint32_t h0, w0; /* input */
    uint32_t hp, wp; /* padded to multiples of the window */
    size_t lr, pixels, hr;
    uint32_t e, hid, n, d; /* E, H, tokens per window, channels per head */
} t_geometry;

static void free_window(window_scratch *w) {
    void *all[] = {w->qkv, w->heads, w->q,   w->k,    w->v,     w->qq,
                   w->qk,  w->qv,    w->row, w->qrow, w->codes, w->label};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    memset(w, 0, sizeof *w);
}

static void free_buffers(t_buffers *b) {
    void *all[] = {b->x0,     b->xpad,   b->f,   b->tok,      b->u,       b->norm,
                   b->branch, b->hidden, b->qkv, b->heads,    b->plane_a, b->plane_b,
                   b->codes,  b->wcode,  b->up,  b->shuffled, b->crop};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    free_window(&b->win);
    memset(b, 0, sizeof *b);
}

static uint32_t round_up(uint32_t v, uint32_t m) {
    return (v + m - 1) / m * m;
}

/* Checks the run's sizes against the limits before anything is allocated. */
static qsr_status plan_sizes(const qsr_model *m, const qsr_image *in, t_geometry *g) {
    const qsr_model_info *info = &m->info;
    const uint32_t s = info->scale;
    qsr_status st = qsr__ref_check_dimensions(in, s);
    if (st != QSR_OK) return st;
    memset(g, 0, sizeof *g);
    g->h0 = in->height;
    g->w0 = in->width;
    g->hp = round_up(in->height, info->window);
    g->wp = round_up(in->width, info->window);
    g->e = info->channels;
    g->hid = info->mlp_hidden;
    g->n = info->window * info->window;
    g->d = info->channels / info->heads;
    const size_t widest = g->hid > g->e ? g->hid : g->e;
    size_t hr_padded;
    uint64_t total = 0;
    /* Element counts, then the bytes of each buffer of t_buffers (alloc_buffers). */
    int ok = qsr__mul_size(g->w0, g->h0, &g->lr) && qsr__mul_size(g->wp, g->hp, &g->pixels) &&
             qsr__mul_size(g->lr, (size_t)s * s, &g->hr) &&
             qsr__mul_size(g->pixels, (size_t)s * s, &hr_padded) &&
             qsr__ref_add_bytes(&total, g->lr, 3 * sizeof(float)) &&             /* x0 */
             qsr__ref_add_bytes(&total, g->pixels, 3 * sizeof(float)) &&         /* xpad */
             qsr__ref_add_bytes(&total, g->pixels, 11 * g->e * sizeof(float)) && /* f .. plane_b */
             qsr__ref_add_bytes(&total, g->pixels, g->hid * sizeof(float)) &&    /* hidden */
             qsr__ref_add_bytes(&total, g->pixels, widest) &&                    /* codes */
             qsr__ref_add_bytes(&total, (size_t)g->e * g->e, 9) &&               /* wcode */
             qsr__ref_add_bytes(&total, hr_padded, 6 * sizeof(float)) &&         /* up, shuffled */
             qsr__ref_add_bytes(&total, g->hr, 3 * sizeof(float)) &&             /* crop */
             qsr__ref_add_bytes(&total, g->hr, 4);                               /* the image */
    if (!ok)
        return qsr__fail(QSR_ERROR_LIMIT,
                         "reference: %ux%u input at x%u with %u channels needs more than %llu "
                         "bytes of buffers",
                         in->width, in->height, s, g->e, (unsigned long long)QSR__REF_MAX_BYTES);
    return QSR_OK;
}

static int alloc_window(const t_geometry *g, window_scratch *w) {
    const size_t n = g->n, e = g->e, nd = (size_t)g->n * g->d;
    const size_t widest = g->hid > g->e ? g->hid : g->e;
    w->qkv = malloc(3 * n * e * sizeof(float));
    w->heads = malloc(n * e * sizeof(float));
    w->q = malloc(nd * sizeof(float));
    w->k = malloc(nd * sizeof(float));
    w->v = malloc(nd * sizeof(float));
    w->qq = malloc(nd);
    w->qk = malloc(nd);
    w->qv = malloc(nd);
    w->row = malloc(n * sizeof(float));
    w->qrow = malloc(n);
    w->codes = malloc(widest);
    w->label = malloc(n);
    return w->qkv && w->heads && w->q && w->k && w->v && w->qq && w->qk && w->qv && w->row &&
           w->qrow && w->codes && w->label;
}

static qsr_status alloc_buffers(const t_geometry *g, uint32_t scale, t_buffers *b) {
    /* Sizes were checked against overflow by plan_sizes. */
    const size_t p = g->pixels, e = g->e, ss = (size_t)scale * scale;
    const size_t widest = g->hid > g->e ? g->hid : g->e;
    b->x0 = malloc(3 * g->lr * sizeof(float));
    b->xpad = malloc(3 * p * sizeof(float));
    b->f = malloc(e * p * sizeof(float));
    b->tok = malloc(e * p * sizeof(float));
    b->u = malloc(e * p * sizeof(float));
    b->norm = malloc(e * p * sizeof(float));
    b->branch = malloc(e * p * sizeof(float));
    b->hidden = malloc((size_t)g->hid * p * sizeof(float));
    b->qkv = malloc(3 * e * p * sizeof(float));
    b->heads = malloc(e * p * sizeof(float));
    b->plane_a = malloc(e * p * sizeof(float));
    b->plane_b = malloc(e * p * sizeof(float));
    b->codes = malloc(widest * p);
    b->wcode = malloc(e * e * 9);
    b->up = malloc(3 * ss * p * sizeof(float));
    b->shuffled = malloc(3 * ss * p * sizeof(float));
    b->crop = malloc(3 * g->hr * sizeof(float));
    int ok = b->x0 && b->xpad && b->f && b->tok && b->u && b->norm && b->branch && b->hidden &&
             b->qkv && b->heads && b->plane_a && b->plane_b && b->codes && b->wcode && b->up &&
             b->shuffled && b->crop;
    if (!ok || !alloc_window(g, &b->win)) {
        free_buffers(b);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                         "reference: cannot allocate buffers for a %ux%u padded grid x %u "
                         "channels",
                         g->wp, g->hp, g->e);
    }
    return QSR_OK;
}

/* ------------------------------------------------------------------------------------------
 * Layout and padding
 */

/* PyTorch's 'reflect' index for i >= 0 in a dimension of n, extended periodically. */
static uint32_t reflect_index(uint32_t i, uint32_t n) {
    if (n == 1) return 0;
    uint32_t period = 2 * (n - 1);
    i %= period;
    return i < n ? i : period - i;
}

static void reflect_pad(const float *in, const t_geometry *g, float *out) {
    const size_t in_plane = g->lr, out_plane = g->pixels;
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < g->hp; y++) {
            const float *src = in + c * in_plane + (size_t)reflect_index(y, g->h0) * g->w0;
            float *dst = out + c * out_plane + (size_t)y * g->wp;
            for (uint32_t x = 0; x < g->wp; x++)
                dst[x] = src[reflect_index(x, g->w0)];
        }
}

/* [C][P] <-> [P][C] */
static void planar_to_tokens(const float *planar, uint32_t c, size_t pixels, float *tokens) {
    for (size_t p = 0; p < pixels; p++)
        for (uint32_t ch = 0; ch < c; ch++)
            tokens[p * c + ch] = planar[ch * pixels + p];
}

static void tokens_to_planar(const float *tokens, uint32_t c, size_t pixels, float *planar) {
    for (uint32_t ch = 0; ch < c; ch++)
        for (size_t p = 0; p < pixels; p++)
            planar[ch * pixels + p] = tokens[p * c + ch];
}

/* ------------------------------------------------------------------------------------------
 * Token layers
 */

void qsr__ref_t_layer_norm(const float *x, size_t tokens, uint32_t e, const float *weight,
                           const float *bias, float *y) {
    for (size_t t = 0; t < tokens; t++) {
        const float *xt = x + t * e;
        float *yt = y + t * e;
        float sum = 0.0f;
        for (uint32_t c = 0; c < e; c++)
            sum += xt[c];
        const float mean = sum / (float)e;
        float sq = 0.0f;
        for (uint32_t c = 0; c < e; c++) {
            float dev = xt[c] - mean;
            float dev2 = dev * dev;
            sq += dev2;
        }
        const float var = sq / (float)e;
        const float rstd = 1.0f / sqrtf(var + 1e-5f);
        for (uint32_t c = 0; c < e; c++) {
            float centred = xt[c] - mean;
            float normed = centred * rstd;
            float scaled = normed * weight[c];
            yt[c] = scaled + bias[c];
        }
    }
}

/* One token through a quantized linear layer: codes of x, integer dot products, RLQ epilogue. */
static void linear_token_q(const qsr__conv *l, const float *x, int8_t *codes, float *y) {
    int32_t qn, qp;
    qsr__act_range(l->bits_a, l->act_signed, &qn, &qp);
    for (uint32_t c = 0; c < l->cin; c++)
        codes[c] = qsr__ref_quantize_one(x[c], l->act_shift[c], l->act_step, (float)qn, (float)qp);
    for (uint32_t o = 0; o < l->cout; o++) {
        const int8_t *w = l->wcode + (size_t)o * l->cin;
        int32_t acc = 0;
        for (uint32_t c = 0; c < l->cin; c++)
            acc += (int32_t)codes[c] * w[c];
        /* The scale is one float product, computed first (as reference.py and the convs). */
        const float scale = l->act_step * l->weight_step[o];
        float product = (float)acc * scale;
        y[o] = product + l->bias[o];
    }
}

static void linear_token_f32(const qsr__conv *l, const float *x, float *y) {
    for (uint32_t o = 0; o < l->cout; o++) {
        const float *w = l->weight + (size_t)o * l->cin;
        float acc = 0.0f;
        for (uint32_t c = 0; c < l->cin; c++) {
            float product = w[c] * x[c];
            acc += product;
        }
        y[o] = acc + l->bias[o];
    }
}

/* y[t] = linear(x[t]) for `tokens` tokens; x: [tokens][cin], y: [tokens][cout]. */
void qsr__ref_t_linear(const qsr__conv *l, int quantized, const float *x, size_t tokens,
                       int8_t *codes, float *y) {
    for (size_t t = 0; t < tokens; t++) {
        if (quantized)
            linear_token_q(l, x + t * l->cin, codes, y + t * l->cout);
        else
            linear_token_f32(l, x + t * l->cin, y + t * l->cout);
    }
}

void qsr__ref_t_gelu(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float half = x[i] * 0.5f;
        float arg = x[i] * SQRT1_2;
        float one_plus = 1.0f + qsr__erf(arg);
        x[i] = half * one_plus;
    }
}

/* ------------------------------------------------------------------------------------------
 * Windowed attention
 */

/* Which of the three bands [0, n - W), [n - W, n - shift), [n - shift, n) holds i. */
static uint8_t band(uint32_t i, uint32_t n, uint32_t window, uint32_t shift) {
    return i < n - window ? 0 : i < n - shift ? 1 : 2;
}

/* One attention "job": the layer, its shift and the window being run. */
typedef struct window_job {
    const qsr_model_info *info;
    const qsr__t_layer *layer;
    const t_geometry *g;
    uint32_t shift;
    uint32_t wy, wx; /* window origin on the rolled grid */
} window_job;

/* Pixel index (unrolled grid) of token n of the window: rolled (y, x) takes pixel
 * ((y + shift) mod Hp, (x + shift) mod Wp). */
static size_t window_pixel(const window_job *j, uint32_t n) {
    const uint32_t w = j->info->window;
    uint32_t y = (j->wy + n / w + j->shift) % j->g->hp;
    uint32_t x = (j->wx + n % w + j->shift) % j->g->wp;
    return (size_t)y * j->g->wp + x;
}

static void window_labels(const window_job *j, uint8_t *label) {
    const uint32_t w = j->info->window;
    for (uint32_t n = 0; n < j->g->n; n++)
        label[n] = (uint8_t)(band(j->wy + n / w, j->g->hp, w, j->shift) * 3 +
                             band(j->wx + n % w, j->g->wp, w, j->shift));
}

/* Splits out one head's Q (scaled by 1/sqrt(d)), K and V from the window's qkv. */
static void split_head(const window_job *j, uint32_t head, window_scratch *s) {
    const uint32_t e = j->g->e, d = j->g->d;
    const float sqrt_d = (float)sqrt((double)d); /* float32(d ** 0.5), as reference.py */
    for (uint32_t n = 0; n < j->g->n; n++) {
        const float *row = s->qkv + (size_t)n * 3 * e + (size_t)head * d;
        for (uint32_t c = 0; c < d; c++) {
            s->q[n * d + c] = row[c] / sqrt_d;
            s->k[n * d + c] = row[e + c];
            s->v[n * d + c] = row[2 * e + c];
        }
    }
}

static void quantize_head(const qsr__act_quant *aq, uint32_t bits, uint32_t head, uint32_t n,
                          uint32_t d, const float *x, int8_t *codes) {
    int32_t qn, qp;
    qsr__act_range(bits, aq->is_signed, &qn, &qp);
    const float *shift = aq->shift + (size_t)head * d;
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t c = 0; c < d; c++)
            codes[t * d + c] =
                qsr__ref_quantize_one(x[t * d + c], shift[c], aq->step, (float)qn, (float)qp);
}

/* Row n of the scores, before bias and mask: Q[n] . K[m] for every m. */
static void score_row(const window_job *j, const window_scratch *s, int quantized, uint32_t n,
                      float *row) {
    const uint32_t d = j->g->d, count = j->g->n;
    if (quantized) {
        const float scale = j->layer->q.step * j->layer->k.step;
        for (uint32_t m = 0; m < count; m++) {
            int32_t acc = 0;
            for (uint32_t c = 0; c < d; c++)
                acc += (int32_t)s->qq[n * d + c] * s->qk[m * d + c];
            row[m] = (float)acc * scale;
        }
        return;
    }
    for (uint32_t m = 0; m < count; m++) {
        float acc = 0.0f;
        for (uint32_t c = 0; c < d; c++) {
            float product = s->q[n * d + c] * s->k[m * d + c];
            acc += product;
        }
        row[m] = acc;
    }
}

/* Adds the relative position bias of `head` and, on shifted layers, the mask to row n. */
static void bias_row(const window_job *j, const uint8_t *label, uint32_t head, uint32_t n,
                     float *row) {
    const uint32_t w = j->info->window, heads = j->info->heads, span = 2 * w - 1;
    const uint32_t yn = n / w, xn = n % w;
    for (uint32_t m = 0; m < j->g->n; m++) {
        const uint32_t idx = (yn + w - 1 - m / w) * span + (xn + w - 1 - m % w);
        row[m] = row[m] + j->layer->rel_bias[(size_t)idx * heads + head];
        if (j->shift) row[m] = row[m] + (label[n] != label[m] ? MASK_VALUE : 0.0f);
    }
}

static void softmax_row(float *row, uint32_t count) {
    float max = row[0];
    for (uint32_t m = 1; m < count; m++)
        if (row[m] > max) max = row[m];
    float sum = 0.0f;
    for (uint32_t m = 0; m < count; m++) {
        row[m] = qsr__exp(row[m] - max);
        sum += row[m];
    }
    for (uint32_t m = 0; m < count; m++)
        row[m] = row[m] / sum;
}

/* out[c] (d channels) = P[n] . V for one row of probabilities. */
static void weight_values(const window_job *j, window_scratch *s, int quantized, float *out) {
    const uint32_t d = j->g->d, count = j->g->n;
    if (quantized) {
        int32_t qn, qp;
        qsr__act_range(j->info->bits_a, 0, &qn, &qp);
        const float ap = j->layer->p_step;
        for (uint32_t m = 0; m < count; m++)
            s->qrow[m] = qsr__ref_quantize_one(s->row[m], 0.0f, ap, (float)qn, (float)qp);
        const float scale = ap * j->layer->v.step;
        for (uint32_t c = 0; c < d; c++) {
            int32_t acc = 0;
            for (uint32_t m = 0; m < count; m++)
                acc += (int32_t)s->qrow[m] * s->qv[m * d + c];
            out[c] = (float)acc * scale;
        }
        return;
    }
    for (uint32_t c = 0; c < d; c++) {
        float acc = 0.0f;
        for (uint32_t m = 0; m < count; m++) {
            float product = s->row[m] * s->v[m * d + c];
            acc += product;
        }
        out[c] = acc;
    }
}

static void attend_head(const window_job *j, window_scratch *s, int quantized, uint32_t head) {
    const uint32_t e = j->g->e, d = j->g->d, n = j->g->n, bits = j->info->bits_a;
    split_head(j, head, s);
    if (quantized) {
        quantize_head(&j->layer->q, bits, head, n, d, s->q, s->qq);
        quantize_head(&j->layer->k, bits, head, n, d, s->k, s->qk);
        quantize_head(&j->layer->v, bits, head, n, d, s->v, s->qv);
    }
    for (uint32_t t = 0; t < n; t++) {
        score_row(j, s, quantized, t, s->row);
        bias_row(j, s->label, head, t, s->row);
        softmax_row(s->row, n);
        weight_values(j, s, quantized, s->heads + (size_t)t * e + (size_t)head * d);
    }
}

/* One window: gather its rows of the qkv output, the heads, scatter their output into `heads`.
 * Rolling back by +shift puts rolled position (y, x) at the pixel it was taken from. */
static void attend_window(const window_job *j, window_scratch *s, int quantized, const float *qkv,
                          float *heads) {
    const uint32_t e = j->g->e, n = j->g->n;
    for (uint32_t t = 0; t < n; t++)
        memcpy(s->qkv + (size_t)t * 3 * e, qkv + window_pixel(j, t) * 3 * e, 3 * e * sizeof(float));
    window_labels(j, s->label);
    for (uint32_t head = 0; head < j->info->heads; head++)
        attend_head(j, s, quantized, head);
    for (uint32_t t = 0; t < n; t++)
        memcpy(heads + window_pixel(j, t) * e, s->heads + (size_t)t * e, e * sizeof(float));
}

/* heads = the attention heads of every window of the padded grid; qkv: [P][3E], heads: [P][E]. */
static void window_heads(const qsr_model_info *info, const qsr__t_layer *layer, uint32_t shift,
                         const t_geometry *g, window_scratch *s, const float *qkv, float *heads) {
    window_job j = {info, layer, g, shift, 0, 0};
    const int quantized = info->bits_w != 32;
    for (j.wy = 0; j.wy < g->hp; j.wy += info->window)
        for (j.wx = 0; j.wx < g->wp; j.wx += info->window)
            attend_window(&j, s, quantized, qkv, heads);
}

/* out = attention_i(x, shift) over the whole padded grid; x, out: [P][E]. The linear layers
 * work token by token, so running qkv and proj on the whole grid around the windows' heads
 * gives the per-window results. */
static void attention(const qsr_model *m, const qsr__t_layer *layer, uint32_t shift,
                      const t_geometry *g, t_buffers *b, const float *x, float *out) {
    const int quantized = m->info.bits_w != 32;
    qsr__ref_t_linear(&layer->qkv, quantized, x, g->pixels, b->win.codes, b->qkv);
    window_heads(&m->info, layer, shift, g, &b->win, b->qkv, b->heads);
    qsr__ref_t_linear(&layer->proj, quantized, b->heads, g->pixels, b->win.codes, out);
}

qsr_status qsr__ref_t_window_attention(const qsr_model_info *info, const qsr__t_layer *layer,
                                       uint32_t shift, uint32_t hp, uint32_t wp, const float *qkv,
                                       float *heads) {
    t_geometry g;
    memset(&g, 0, sizeof g);
    g.hp = hp;
    g.wp = wp;
    g.pixels = (size_t)hp * wp;
    g.e = g.hid = info->channels;
    g.n = info->window * info->window;
    g.d = info->channels / info->heads;
    window_scratch s;
    memset(&s, 0, sizeof s);
    if (!alloc_window(&g, &s)) {
        free_window(&s);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "reference: no window scratch");
    }
    window_heads(info, layer, shift, &g, &s, qkv, heads);
    free_window(&s);
    return QSR_OK;
}

/* ------------------------------------------------------------------------------------------
 * The network
 */

/* One Swin layer on b->tok (index l inside its group decides the shift). */
static void run_swin_layer(const qsr_model *m, uint32_t i, uint32_t l, int active,
                           const t_geometry *g, t_buffers *b) {
    const qsr__t_layer *layer = &m->t.layers[i];
    const size_t count = g->pixels * g->e;
    const int quantized = m->info.bits_w != 32;
    const float sc = layer->shortcut;
    if (!active) {
        for (size_t k = 0; k < count; k++)
            b->tok[k] = b->tok[k] * sc;
        return;
    }
    const uint32_t shift = l % 2 ? m->info.window / 2 : 0;
    qsr__ref_t_layer_norm(b->tok, g->pixels, g->e, layer->norm1_weight, layer->norm1_bias, b->norm);
    attention(m, layer, shift, g, b, b->norm, b->branch);
    for (size_t k = 0; k < count; k++) {
        float scaled = b->tok[k] * sc;
        b->tok[k] = scaled + b->branch[k];
    }
    qsr__ref_t_layer_norm(b->tok, g->pixels, g->e, layer->norm2_weight, layer->norm2_bias, b->norm);
    qsr__ref_t_linear(&layer->fc1, quantized, b->norm, g->pixels, b->win.codes, b->hidden);
    qsr__ref_t_gelu(b->hidden, g->pixels * g->hid);
    qsr__ref_t_linear(&layer->fc2, quantized, b->hidden, g->pixels, b->win.codes, b->branch);
    for (size_t k = 0; k < count; k++)
        b->tok[k] = b->tok[k] + b->branch[k];
}

/* The group's 3x3 conv on the token grid, plus the group's input u. */
static qsr_status run_group_conv(const qsr_model *m, uint32_t group, const t_geometry *g,
                                 t_buffers *b) {
    tokens_to_planar(b->tok, g->e, g->pixels, b->plane_a);
    qsr_status st = qsr__ref_conv_layer(&m->t.group_conv[group], m->info.bits_w != 32, b->plane_a,
                                        1.0f, g->hp, g->wp, b->codes, b->wcode, b->plane_b);
    if (st != QSR_OK) return st;
    planar_to_tokens(b->plane_b, g->e, g->pixels, b->tok);
    const size_t count = g->pixels * g->e;
    for (size_t k = 0; k < count; k++)
        b->tok[k] = b->tok[k] + b->u[k];
    return QSR_OK;
}

static qsr_status run_groups(const qsr_model *m, uint32_t depth, const t_geometry *g,
                             t_buffers *b) {
    const size_t count = g->pixels * g->e;
    uint32_t i = 0;
    for (uint32_t group = 0; group < m->info.group_count; group++) {
        memcpy(b->u, b->tok, count * sizeof(float));
        for (uint32_t l = 0; l < m->info.group_depths[group]; l++, i++)
            run_swin_layer(m, i, l, qsr__arch_block_active(&m->info, depth, i), g, b);
        qsr_status st = run_group_conv(m, group, g, b);
        if (st != QSR_OK) return st;
    }
    return QSR_OK;
}

/* xpad -> f = conv_first, tokens = patch_norm(f), the groups, norm; plane_b = conv_after_body +
 * f. */
static qsr_status run_body(const qsr_model *m, uint32_t depth, const t_geometry *g, t_buffers *b) {
    const qsr__t_parts *t = &m->t;
    const qsr__conv *first = &m->conv_first, *cab = &m->conv_after_body;
    qsr_status st = qsr__ref_conv3x3_f32(b->xpad, 3, g->hp, g->wp, first->weight, first->bias,
                                         first->cout, b->f);
    if (st != QSR_OK) return st;
    planar_to_tokens(b->f, g->e, g->pixels, b->norm);
    qsr__ref_t_layer_norm(b->norm, g->pixels, g->e, t->patch_norm_weight, t->patch_norm_bias,
                          b->tok);
    st = run_groups(m, depth, g, b);
    if (st != QSR_OK) return st;
    qsr__ref_t_layer_norm(b->tok, g->pixels, g->e, t->norm_weight, t->norm_bias, b->norm);
    tokens_to_planar(b->norm, g->e, g->pixels, b->plane_a);
    st = qsr__ref_conv3x3_f32(b->plane_a, g->e, g->hp, g->wp, cab->weight, cab->bias, cab->cout,
                              b->plane_b);
    if (st != QSR_OK) return st;
    const size_t count = g->pixels * g->e;
    for (size_t k = 0; k < count; k++)
        b->plane_b[k] = b->plane_b[k] + b->f[k];
    return QSR_OK;
}

/* upsample.0 and PixelShuffle(s) on the padded grid, then the crop to (s H0) x (s W0). */
static qsr_status run_tail(const qsr_model *m, const t_geometry *g, t_buffers *b) {
    const uint32_t s = m->info.scale;
    const qsr__conv *up = &m->upsample[0];
    qsr_status st = qsr__ref_conv3x3_f32(b->plane_b, up->cin, g->hp, g->wp, up->weight, up->bias,
                                         up->cout, b->up);
    if (st != QSR_OK) return st;
    qsr__ref_pixel_shuffle(b->up, 3, g->hp, g->wp, s, b->shuffled);
    const size_t src_w = (size_t)g->wp * s, src_plane = src_w * g->hp * s;
    const size_t dst_w = (size_t)g->w0 * s, dst_h = (size_t)g->h0 * s;
    for (uint32_t c = 0; c < 3; c++)
        for (size_t y = 0; y < dst_h; y++)
            memcpy(b->crop + c * g->hr + y * dst_w, b->shuffled + c * src_plane + y * src_w,
                   dst_w * sizeof(float));
    return qsr__ref_check_finite(b->crop, 3 * g->hr, "upsample.0");
}

qsr_status qsr__reference_upscale_t(const qsr_model *model, const qsr_image *in, uint32_t depth,
                                    qsr_image *out) {
    qsr_status st = check_model_t(model);
    if (st != QSR_OK) return st;
    t_geometry g;
    st = plan_sizes(model, in, &g);
    if (st != QSR_OK) return st;
    t_buffers b;
    memset(&b, 0, sizeof b);
    st = alloc_buffers(&g, model->info.scale, &b);
    if (st != QSR_OK) return st;
    const qsr_model_info *info = &model->info;
    qsr__ref_preprocess(in, info->rgb_mean, info->img_range, b.x0);
    reflect_pad(b.x0, &g, b.xpad);
    st = run_body(model, depth, &g, &b);
    if (st == QSR_OK) st = run_tail(model, &g, &b);
    if (st == QSR_OK) st = qsr__ref_finish_image(b.crop, in, info, out);
    free_buffers(&b);
    return st;
}
