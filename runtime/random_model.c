/* random_model.c - random .qsr models whose activations keep a steady scale through the
 * network, so quantizers see sensible ranges and GPU-vs-CPU comparisons mean something.
 *
 * How the scales are chosen: every feature map is tracked by an estimate of its RMS. Float
 * convolutions draw w = U(-1, 1) * sqrt(3 / (9 cin)) * gain, which keeps E[y^2] = gain^2 E[x^2].
 * conv_first maps the 0..img_range input (RMS about 0.2 img_range) to features of RMS 1. Each
 * residual block picks its shortcut s ~ U(0.8, 1) and a branch gain sqrt(1 - s^2) (at least 0.3),
 * so h * s + branch keeps RMS 1 through depth. A quantized convolution picks its activation
 * step so the input's typical range fills the quantizer (conv1's signed input: +-2 sigma; conv2's
 * ReLU'd input: 0..2.5 sigma), draws weight codes by rounding Gaussians (so codes are centred and
 * every code, the most negative included, occurs), and sets the weight step so that
 * a * a_w * sqrt(9 C) * rms(q) * rms(q_w) equals the wanted output RMS, with rms(q) taken from
 * the exact distribution of the rounded input. Its bias cancels the mean that a non-zero-mean
 * input (after ReLU) drives through the codes. conv_last scales the output to an RMS of 0.12 in
 * the 0..1 range around rgb_mean, so outputs spread over mid-range values, not 0 or 255. */
#include "random_model.h"
#include "model_format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * splitmix64
 */
uint64_t qsr__rng_next(qsr__rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float qsr__rng_float(qsr__rng *rng) {
    return (float)(qsr__rng_next(rng) >> 40) / 16777216.0f;
}

int32_t qsr__rng_int(qsr__rng *rng, int32_t lo, int32_t hi) {
    uint64_t span = (uint64_t)((int64_t)hi - lo + 1);
    return (int32_t)(lo + (int64_t)(qsr__rng_next(rng) % span));
}

/* ---------------------------------------------------------------------------------------------
 * The tensor list being built
 */
typedef struct writer_tensor {
    char name[QSR__NAME_BYTES];
    uint32_t dtype, bits, ndim;
    uint32_t shape[4];
    size_t count;
    float *f;       /* F32 values */
    int32_t *codes; /* I32 values or QW codes */
} writer_tensor;

typedef struct writer {
    writer_tensor *items;
    uint32_t count, capacity;
    int out_of_memory;
    qsr__rng rng;
    uint32_t channels, bits_w, bits_a;
    int per_channel_step;
} writer;

static writer_tensor *add_tensor(writer *w, const char *name, uint32_t dtype, uint32_t bits,
                                 uint32_t ndim, const uint32_t shape[4]) {
    if (w->count == w->capacity) {
        uint32_t capacity = w->capacity ? 2 * w->capacity : 64;
        writer_tensor *items = (writer_tensor *)realloc(w->items, sizeof *items * capacity);
        if (!items) {
            w->out_of_memory = 1;
            return NULL;
        }
        w->items = items;
        w->capacity = capacity;
    }
    writer_tensor *t = &w->items[w->count];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->bits = bits;
    t->ndim = ndim;
    t->count = 1;
    for (int d = 0; d < 4; d++) {
        t->shape[d] = shape[d];
        t->count *= shape[d];
    }
    if (dtype == QSR__DTYPE_F32)
        t->f = (float *)calloc(t->count, sizeof *t->f);
    else
        t->codes = (int32_t *)calloc(t->count, sizeof *t->codes);
    if (!t->f && !t->codes) {
        w->out_of_memory = 1;
        return NULL;
    }
    w->count++;
    return t;
}

/* name = prefix + suffix, cut to QSR__NAME_BYTES - 1 characters (the loader then rejects it). */
static void join_name(char name[QSR__NAME_BYTES], const char *prefix, const char *suffix) {
    size_t a = strlen(prefix), b = strlen(suffix);
    if (a > QSR__NAME_BYTES - 1) a = QSR__NAME_BYTES - 1;
    if (b > QSR__NAME_BYTES - 1 - a) b = QSR__NAME_BYTES - 1 - a;
    memcpy(name, prefix, a);
    memcpy(name + a, suffix, b);
    name[a + b] = '\0';
}

static float *add_f32(writer *w, const char *prefix, const char *suffix, uint32_t ndim, uint32_t d0,
                      uint32_t d1) {
    char name[QSR__NAME_BYTES];
    join_name(name, prefix, suffix);
    uint32_t shape[4] = {d0, ndim >= 2 ? d1 : 1, ndim >= 4 ? 3 : 1, ndim >= 4 ? 3 : 1};
    writer_tensor *t = add_tensor(w, name, QSR__DTYPE_F32, 32, ndim, shape);
    return t ? t->f : NULL;
}

static int32_t *add_ints(writer *w, const char *prefix, const char *suffix, uint32_t dtype,
                         uint32_t bits, uint32_t ndim, uint32_t d0, uint32_t d1) {
    char name[QSR__NAME_BYTES];
    join_name(name, prefix, suffix);
    uint32_t shape[4] = {d0, ndim >= 2 ? d1 : 1, ndim >= 4 ? 3 : 1, ndim >= 4 ? 3 : 1};
    writer_tensor *t = add_tensor(w, name, dtype, bits, ndim, shape);
    return t ? t->codes : NULL;
}

static void free_writer(writer *w) {
    for (uint32_t i = 0; i < w->count; i++) {
        free(w->items[i].f);
        free(w->items[i].codes);
    }
    free(w->items);
}

/* The header of the file being written. */
typedef struct header_fields {
    uint32_t scale, channels, blocks, bits_w, bits_a;
    uint32_t depth_level_count, depth_levels[QSR_MAX_DEPTH_LEVELS];
    uint8_t block_rank[QSR_MAX_BLOCKS];
    float rgb_mean[3], img_range;
    /* QuantSR-T (arch 2) only */
    uint32_t arch, heads, window, mlp_hidden, group_count, group_depths[QSR_MAX_GROUPS];
} header_fields;

/* ---------------------------------------------------------------------------------------------
 * Random layers
 */
static float uniform(qsr__rng *rng, float lo, float hi) {
    return lo + (hi - lo) * qsr__rng_float(rng);
}

static float gaussian(qsr__rng *rng) {
    /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
    float u1 = 1.0f - qsr__rng_float(rng), u2 = qsr__rng_float(rng);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

/* A float 3x3 convolution whose output RMS is `gain` times its input RMS. */
static void float_conv(writer *w, const char *prefix, uint32_t cin, uint32_t cout, float gain,
                       float bias_scale) {
    float *weight = add_f32(w, prefix, ".weight", 4, cout, cin);
    float *bias = add_f32(w, prefix, ".bias", 1, cout, 0);
    if (!weight || !bias) return;
    float amplitude = sqrtf(3.0f / (9.0f * (float)cin)) * gain;
    for (size_t i = 0; i < (size_t)cout * cin * 9; i++)
        weight[i] = uniform(&w->rng, -1.0f, 1.0f) * amplitude;
    for (uint32_t o = 0; o < cout; o++)
        bias[o] = uniform(&w->rng, -1.0f, 1.0f) * bias_scale;
}

/* Mean and mean square of the quantizer output q = clamp(round(x / a), qn, qp) for
 * x = sigma z (or max(sigma z, 0) after a ReLU), z standard normal, by quadrature. */
static void quantizer_moments(int relu, float sigma, float a, int32_t qn, int32_t qp, double *mean,
                              double *mean_square) {
    const double dz = 1.0 / 256.0;
    double m1 = 0, m2 = 0;
    for (double z = -8.0; z <= 8.0; z += dz) {
        double x = sigma * (relu && z < 0 ? 0.0 : z);
        double q = rint(x / a); /* half to even, as the network rounds */
        if (q < qn) q = qn;
        if (q > qp) q = qp;
        double p = exp(-0.5 * z * z) * dz / sqrt(2.0 * 3.14159265358979);
        m1 += p * q;
        m2 += p * q * q;
    }
    *mean = m1;
    *mean_square = m2;
}

/* A quantized layer of cin * taps inputs per output (taps 9: a 3x3 conv [cout][cin][3][3]; 1: a
 * linear layer [cout][cin]). Its input is sigma z (signed) or relu(sigma z) (unsigned); its
 * output RMS is `gain` times the input RMS. */
static void quantized_layer(writer *w, const char *prefix, uint32_t cin, uint32_t cout,
                            uint32_t taps, int relu_input, float sigma, float gain) {
    int32_t *codes =
        add_ints(w, prefix, ".weight", QSR__DTYPE_QW, w->bits_w, taps == 9 ? 4 : 2, cout, cin);
    float *bias = add_f32(w, prefix, ".bias", 1, cout, 0);
    float *weight_step = add_f32(w, prefix, ".weight_step", 1, w->per_channel_step ? cout : 1, 0);
    float *act_step = add_f32(w, prefix, ".act_step", 1, 1, 0);
    float *act_shift = add_f32(w, prefix, ".act_shift", 1, cin, 0);
    int32_t *act_signed = add_ints(w, prefix, ".act_signed", QSR__DTYPE_I32, 32, 1, 1, 0);
    if (!codes || !bias || !weight_step || !act_step || !act_shift || !act_signed) return;

    int is_signed = !relu_input;
    int32_t qn, qp, wqn, wqp;
    qsr__act_range(w->bits_a, is_signed, &qn, &qp);
    qsr__act_range(w->bits_w, 1, &wqn, &wqp);
    float a = is_signed ? 2.0f * sigma / (float)(1u << (w->bits_a - 1)) : 2.5f * sigma / (float)qp;
    double q_mean, q_square;
    quantizer_moments(relu_input, sigma, a, qn, qp, &q_mean, &q_square);
    float input_rms = relu_input ? sigma / sqrtf(2.0f) : sigma;

    /* Codes: Gaussians in code units rounded and clamped, spread over the whole range. */
    float code_sigma = (float)(1u << (w->bits_w - 1)) / 2.5f;
    const size_t per_out = (size_t)cin * taps;
    double total_square = 0;
    for (size_t i = 0; i < per_out * cout; i++) {
        float q = rintf(gaussian(&w->rng) * code_sigma);
        codes[i] = (int32_t)(q < (float)wqn ? (float)wqn : q > (float)wqp ? (float)wqp : q);
        total_square += (double)codes[i] * codes[i];
    }
    double all_rms = sqrt(total_square / (double)(per_out * cout));
    if (all_rms == 0) all_rms = 1;
    for (uint32_t o = 0; o < cout; o++) {
        double sum = 0, square = 0;
        for (size_t k = 0; k < per_out; k++) {
            sum += codes[o * per_out + k];
            square += (double)codes[o * per_out + k] * codes[o * per_out + k];
        }
        double code_rms =
            w->per_channel_step && square > 0 ? sqrt(square / (double)per_out) : all_rms;
        double step = gain * input_rms / (a * sqrt(q_square) * sqrt((double)per_out) * code_rms);
        if (w->per_channel_step) step *= uniform(&w->rng, 0.8f, 1.2f);
        if (w->per_channel_step || o == 0) weight_step[w->per_channel_step ? o : 0] = (float)step;
        double used_step = weight_step[w->per_channel_step ? o : 0];
        bias[o] = (float)(-a * used_step * q_mean * sum) +
                  uniform(&w->rng, -0.05f, 0.05f) * gain * input_rms;
    }
    act_step[0] = a;
    for (uint32_t i = 0; i < cin; i++)
        act_shift[i] = uniform(&w->rng, -0.1f, 0.1f) * a;
    act_signed[0] = is_signed;
}

/* A quantized 3x3 convolution of C to C channels (QuantSR-C's body, QuantSR-T's group convs). */
static void quantized_conv(writer *w, const char *prefix, int relu_input, float sigma, float gain) {
    quantized_layer(w, prefix, w->channels, w->channels, 9, relu_input, sigma, gain);
}

/* One residual block; sigma is the RMS of its input, which it keeps (about) unchanged. */
static float residual_block(writer *w, uint32_t index, float sigma) {
    char prefix[QSR__NAME_BYTES];
    float shortcut = uniform(&w->rng, 0.8f, 1.0f);
    float branch_gain = sqrtf(fmaxf(1.0f - shortcut * shortcut, 0.09f));
    const uint32_t c = w->channels;
    /* conv1 keeps the RMS; ReLU halves the mean square, so conv2 gains sqrt(2) more. */
    snprintf(prefix, sizeof prefix, "body.%u.conv1", index);
    if (w->bits_w == 32)
        float_conv(w, prefix, c, c, 1.0f, 0.05f * sigma);
    else
        quantized_conv(w, prefix, 0, sigma, 1.0f);
    snprintf(prefix, sizeof prefix, "body.%u.conv2", index);
    if (w->bits_w == 32)
        float_conv(w, prefix, c, c, branch_gain * sqrtf(2.0f), 0.05f * sigma);
    else
        quantized_conv(w, prefix, 1, sigma, branch_gain * sqrtf(2.0f));
    snprintf(prefix, sizeof prefix, "body.%u.shortcut", index);
    float *s = add_f32(w, prefix, "", 1, 1, 0);
    if (s) s[0] = shortcut;
    return sigma * sqrtf(shortcut * shortcut + branch_gain * branch_gain);
}

static void build_network(writer *w, uint32_t scale, uint32_t blocks, float img_range) {
    const uint32_t c = w->channels;
    /* Inputs (rgb - mean) * img_range have an RMS near 0.2 img_range for photos. */
    float_conv(w, "conv_first", 3, c, 1.0f / (0.2f * img_range), 0.05f);
    float sigma = 1.0f;
    for (uint32_t i = 0; i < blocks; i++)
        sigma = residual_block(w, i, sigma);
    float_conv(w, "conv_after_body", c, c, 1.0f / sigma, 0.05f);
    float features = sqrtf(2.0f); /* conv_after_body(h) + f: two parts of RMS 1 */
    uint32_t stages = scale == 4 ? 2 : 1, r = scale == 3 ? 3 : 2;
    for (uint32_t k = 0; k < stages; k++) {
        char prefix[QSR__NAME_BYTES];
        snprintf(prefix, sizeof prefix, "upsample.%u", k);
        float_conv(w, prefix, c, r * r * c, 1.0f, 0.05f * features);
    }
    float_conv(w, "conv_last", c, 3, 0.12f * img_range / features, 0.01f * img_range);
}

/* ---------------------------------------------------------------------------------------------
 * QuantSR-T (docs/model-format.md, "QuantSR-T (arch 2)"): the tokens keep an RMS near 1 after
 * every LayerNorm; each branch adds a part of RMS about 0.5.
 */
static void float_linear(writer *w, const char *prefix, uint32_t cin, uint32_t cout, float gain,
                         float bias_scale) {
    float *weight = add_f32(w, prefix, ".weight", 2, cout, cin);
    float *bias = add_f32(w, prefix, ".bias", 1, cout, 0);
    if (!weight || !bias) return;
    float amplitude = sqrtf(3.0f / (float)cin) * gain;
    for (size_t i = 0; i < (size_t)cout * cin; i++)
        weight[i] = uniform(&w->rng, -1.0f, 1.0f) * amplitude;
    for (uint32_t o = 0; o < cout; o++)
        bias[o] = uniform(&w->rng, -1.0f, 1.0f) * bias_scale;
}

/* A linear layer, quantized unless the model is float. */
static void t_linear(writer *w, const char *prefix, uint32_t cin, uint32_t cout, int relu_input,
                     float sigma, float gain) {
    if (w->bits_w == 32)
        float_linear(w, prefix, cin, cout, gain, 0.05f * sigma);
    else
        quantized_layer(w, prefix, cin, cout, 1, relu_input, sigma, gain);
}

/* A LayerNorm of the E channels: weight near 1, bias near 0. */
static void layer_norm(writer *w, const char *prefix) {
    float *weight = add_f32(w, prefix, ".weight", 1, w->channels, 0);
    float *bias = add_f32(w, prefix, ".bias", 1, w->channels, 0);
    if (!weight || !bias) return;
    for (uint32_t c = 0; c < w->channels; c++) {
        weight[c] = uniform(&w->rng, 0.8f, 1.2f);
        bias[c] = uniform(&w->rng, -0.1f, 0.1f);
    }
}

/* The attention quantizers of the layer with name prefix p: Q (already divided by sqrt(d)), K
 * and V signed, the softmax output P unsigned. */
static void attention_quantizers(writer *w, const char *p, uint32_t heads, uint32_t window) {
    const uint32_t e = w->channels, d = e / heads;
    const char *names[3] = {"q", "k", "v"};
    const float sigma[3] = {1.0f / sqrtf((float)d), 1.0f, 1.0f};
    for (int k = 0; k < 3; k++) {
        char part[16], prefix[QSR__NAME_BYTES];
        snprintf(part, sizeof part, "attn.%s", names[k]);
        join_name(prefix, p, part);
        float *step = add_f32(w, prefix, ".act_step", 1, 1, 0);
        float *shift = add_f32(w, prefix, ".act_shift", 1, e, 0);
        int32_t *is_signed = add_ints(w, prefix, ".act_signed", QSR__DTYPE_I32, 32, 1, 1, 0);
        if (!step || !shift || !is_signed) return;
        step[0] = 2.0f * sigma[k] / (float)(1u << (w->bits_a - 1));
        for (uint32_t c = 0; c < e; c++)
            shift[c] = uniform(&w->rng, -0.1f, 0.1f) * step[0];
        is_signed[0] = 1;
    }
    /* A softmax row averages 1 / N: most probabilities take a few steps, the largest clamp. */
    float *p_step = add_f32(w, p, "attn.p.act_step", 1, 1, 0);
    if (p_step) p_step[0] = 0.75f / (float)(window * window);
}

static void swin_layer(writer *w, uint32_t i, const header_fields *h) {
    const uint32_t e = w->channels, span = 2 * h->window - 1;
    char p[QSR__NAME_BYTES], prefix[QSR__NAME_BYTES];
    snprintf(p, sizeof p, "layer.%u.", i);
    join_name(prefix, p, "norm1");
    layer_norm(w, prefix);
    join_name(prefix, p, "norm2");
    layer_norm(w, prefix);
    join_name(prefix, p, "qkv");
    t_linear(w, prefix, e, 3 * e, 0, 1.0f, 1.0f);
    float *rel_bias = add_f32(w, p, "attn.rel_bias", 2, span * span, h->heads);
    if (rel_bias)
        for (size_t k = 0; k < (size_t)span * span * h->heads; k++)
            rel_bias[k] = uniform(&w->rng, -0.5f, 0.5f);
    if (w->bits_w != 32) attention_quantizers(w, p, h->heads, h->window);
    join_name(prefix, p, "proj");
    t_linear(w, prefix, e, e, 0, 0.5f, 1.0f);
    float *shortcut = add_f32(w, p, "shortcut", 1, 1, 0);
    if (shortcut) shortcut[0] = uniform(&w->rng, 0.8f, 1.0f);
    join_name(prefix, p, "fc1");
    t_linear(w, prefix, e, h->mlp_hidden, 0, 1.0f, 1.0f);
    join_name(prefix, p, "fc2");
    t_linear(w, prefix, h->mlp_hidden, e, 1, 1.0f, 0.5f);
}

static void build_network_t(writer *w, const header_fields *h) {
    const uint32_t e = w->channels, s = h->scale;
    float_conv(w, "conv_first", 3, e, 1.0f / (0.2f * h->img_range), 0.05f);
    layer_norm(w, "patch_norm");
    for (uint32_t i = 0; i < h->blocks; i++)
        swin_layer(w, i, h);
    for (uint32_t g = 0; g < h->group_count; g++) {
        char prefix[QSR__NAME_BYTES];
        snprintf(prefix, sizeof prefix, "group.%u.conv", g);
        /* Its input is the running tokens: RMS about 1.5 after a group's residual branches. */
        if (w->bits_w == 32)
            float_conv(w, prefix, e, e, 0.3f, 0.05f);
        else
            quantized_conv(w, prefix, 0, 1.5f, 0.3f);
    }
    layer_norm(w, "norm");
    float_conv(w, "conv_after_body", e, e, 1.0f, 0.05f);
    float_conv(w, "upsample.0", e, 3 * s * s, 0.12f * h->img_range / sqrtf(2.0f),
               0.01f * h->img_range);
}

/* ---------------------------------------------------------------------------------------------
 * Serialization
 */
static uint64_t align64(uint64_t v) {
    return (v + 63u) & ~(uint64_t)63u;
}

static uint32_t container_bits(uint32_t bits) {
    return bits == 2 ? 2u : 4u;
}

static uint64_t tensor_bytes(const writer_tensor *t) {
    if (t->dtype != QSR__DTYPE_QW) return 4 * (uint64_t)t->count;
    uint64_t per_word = 32u / container_bits(t->bits);
    return 4 * ((t->count + per_word - 1) / per_word);
}

static void write_tensor_data(uint8_t *dst, const writer_tensor *t) {
    if (t->dtype == QSR__DTYPE_F32) {
        for (size_t i = 0; i < t->count; i++)
            qsr__le_put_f32((uint8_t *)(dst) + (4 * i), t->f[i]);
    } else if (t->dtype == QSR__DTYPE_I32) {
        for (size_t i = 0; i < t->count; i++)
            qsr__le_put_u32((uint8_t *)(dst) + (4 * i), (uint32_t)t->codes[i]);
    } else {
        uint32_t container = container_bits(t->bits), per_word = 32u / container;
        uint32_t mask = (1u << container) - 1;
        for (size_t i = 0; i < t->count; i++) {
            size_t at = 4 * (i / per_word);
            uint32_t word = qsr__le_u32((const uint8_t *)(dst) + (at));
            word |= ((uint32_t)t->codes[i] & mask) << ((i % per_word) * container);
            qsr__le_put_u32((uint8_t *)(dst) + (at), word);
        }
    }
}

static void write_entry(uint8_t *entry, const writer_tensor *t, uint64_t offset) {
    memcpy(entry + QSR__ENT_NAME, t->name, strlen(t->name));
    qsr__le_put_u32((uint8_t *)(entry) + (QSR__ENT_DTYPE), t->dtype);
    qsr__le_put_u32((uint8_t *)(entry) + (QSR__ENT_BITS), t->bits);
    qsr__le_put_u32((uint8_t *)(entry) + (QSR__ENT_NDIM), t->ndim);
    for (int d = 0; d < 4; d++)
        qsr__le_put_u32((uint8_t *)(entry) + (QSR__ENT_SHAPE + 4 * (size_t)d), t->shape[d]);
    qsr__le_put_u64((uint8_t *)(entry) + (QSR__ENT_OFFSET), offset);
    qsr__le_put_u64((uint8_t *)(entry) + (QSR__ENT_BYTES), tensor_bytes(t));
}

static void write_header(uint8_t *data, const header_fields *h, uint32_t tensor_count,
                         uint64_t data_offset, size_t size) {
    memcpy(data, "QSRM", 4);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_VERSION), 1);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_HEADER_BYTES), QSR__HEADER_BYTES);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_ARCH), h->arch);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_SCALE), h->scale);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_IN_CHANNELS), 3);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_CHANNELS), h->channels);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_BLOCKS), h->blocks);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_BITS_W), h->bits_w);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_BITS_A), h->bits_a);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_DEPTH_LEVEL_COUNT), h->depth_level_count);
    for (uint32_t i = 0; i < QSR_MAX_DEPTH_LEVELS; i++)
        qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_DEPTH_LEVELS + 4 * (size_t)i),
                        h->depth_levels[i]);
    qsr__le_put_u32((uint8_t *)(data) + (QSR__HDR_TENSOR_COUNT), tensor_count);
    qsr__le_put_u64((uint8_t *)(data) + (QSR__HDR_TABLE_OFFSET), QSR__HEADER_BYTES);
    qsr__le_put_u64((uint8_t *)(data) + (QSR__HDR_DATA_OFFSET), data_offset);
    qsr__le_put_u64((uint8_t *)(data) + (QSR__HDR_PAYLOAD_BYTES), size - QSR__HEADER_BYTES);
    for (int c = 0; c < 3; c++)
        qsr__le_put_f32((uint8_t *)(data) + (QSR__HDR_RGB_MEAN + 4 * (size_t)c), h->rgb_mean[c]);
    qsr__le_put_f32((uint8_t *)(data) + (QSR__HDR_IMG_RANGE), h->img_range);
    memcpy(data + QSR__HDR_BLOCK_RANK, h->block_rank, QSR_MAX_BLOCKS);
    if (h->arch == QSR_ARCH_QUANTSR_T) {
        qsr__le_put_u32(data + QSR__HDR_HEADS, h->heads);
        qsr__le_put_u32(data + QSR__HDR_WINDOW, h->window);
        qsr__le_put_u32(data + QSR__HDR_MLP_HIDDEN, h->mlp_hidden);
        qsr__le_put_u32(data + QSR__HDR_GROUP_COUNT, h->group_count);
        for (uint32_t g = 0; g < QSR_MAX_GROUPS; g++)
            qsr__le_put_u32(data + QSR__HDR_GROUP_DEPTHS + 4 * (size_t)g, h->group_depths[g]);
    }
    qsr__le_put_u32(data + QSR__HDR_PAYLOAD_CRC,
                    qsr__crc32(data + QSR__HEADER_BYTES, size - QSR__HEADER_BYTES));
}

static int is_omitted(const qsr__random_model_params *p, const writer_tensor *t) {
    return p->omit_tensor && strcmp(p->omit_tensor, t->name) == 0;
}

static qsr_status serialize(const writer *w, const header_fields *h,
                            const qsr__random_model_params *p, void **out_data, size_t *out_size) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < w->count; i++)
        kept += !is_omitted(p, &w->items[i]);
    uint64_t data_offset = align64(QSR__HEADER_BYTES + (uint64_t)QSR__ENTRY_BYTES * kept);
    uint64_t end = data_offset;
    for (uint32_t i = 0; i < w->count; i++)
        if (!is_omitted(p, &w->items[i])) end = align64(end) + tensor_bytes(&w->items[i]);
    uint8_t *data = (uint8_t *)calloc(1, (size_t)end);
    if (!data)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "model writer: %llu bytes",
                         (unsigned long long)end);
    uint64_t cursor = data_offset;
    uint32_t slot = 0;
    for (uint32_t i = 0; i < w->count; i++) {
        const writer_tensor *t = &w->items[i];
        if (is_omitted(p, t)) continue;
        cursor = align64(cursor);
        write_entry(data + QSR__HEADER_BYTES + (size_t)QSR__ENTRY_BYTES * slot++, t, cursor);
        write_tensor_data(data + cursor, t);
        cursor += tensor_bytes(t);
    }
    write_header(data, h, kept, data_offset, (size_t)end);
    *out_data = data;
    *out_size = (size_t)end;
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Parameters
 */
/* QuantSR-T's header fields; 0 takes the default: heads 4, 2 or 1 (the largest dividing
 * channels), window 8, mlp_hidden 2 E, min(2, blocks) groups sharing the layers evenly. */
static qsr_status resolve_t_params(const qsr__random_model_params *p, header_fields *h) {
    h->heads = p->heads ? p->heads : h->channels % 4 == 0 ? 4 : h->channels % 2 == 0 ? 2 : 1;
    h->window = p->window ? p->window : 8;
    h->mlp_hidden = p->mlp_hidden ? p->mlp_hidden : 2 * h->channels;
    h->group_count = p->group_count ? p->group_count : h->blocks < 2 ? 1 : 2;
    if (h->heads > 16 || h->channels % h->heads != 0)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "model writer: heads %u must be 1 to 16 and divide channels %u", h->heads,
                         h->channels);
    if (h->window != 4 && h->window != 8 && h->window != 16)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model writer: window %u is not 4, 8 or 16",
                         h->window);
    if (h->mlp_hidden > 1024)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model writer: mlp_hidden %u is over 1024",
                         h->mlp_hidden);
    if (h->group_count > QSR_MAX_GROUPS || h->group_count > h->blocks)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "model writer: %u groups for %u layers (at most %u, one layer each)",
                         h->group_count, h->blocks, QSR_MAX_GROUPS);
    for (uint32_t g = 0; g < h->group_count; g++)
        h->group_depths[g] = h->blocks / h->group_count + (g < h->blocks % h->group_count);
    return QSR_OK;
}

static qsr_status resolve_params(const qsr__random_model_params *p, header_fields *h) {
    memset(h, 0, sizeof *h);
    h->scale = p->scale ? p->scale : 2;
    h->channels = p->channels ? p->channels : 8;
    h->blocks = p->blocks ? p->blocks : 4;
    h->bits_w = p->bits_w ? p->bits_w : 4;
    h->bits_a = p->bits_a ? p->bits_a : h->bits_w;
    if (h->scale < 2 || h->scale > 4)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model writer: scale %u is not 2, 3 or 4",
                         h->scale);
    if (h->channels > 256)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model writer: channels %u is over 256",
                         h->channels);
    if (h->blocks > QSR_MAX_BLOCKS)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model writer: blocks %u is over %u",
                         h->blocks, QSR_MAX_BLOCKS);
    int bits_ok =
        (h->bits_w == 32) == (h->bits_a == 32) &&
        (h->bits_w == 32 || (h->bits_w >= 2 && h->bits_w <= 4 && h->bits_a >= 2 && h->bits_a <= 4));
    if (!bits_ok)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "model writer: bits_w %u / bits_a %u: each must be 2, 3 or 4, or both 32",
                         h->bits_w, h->bits_a);
    h->arch = p->arch ? p->arch : QSR_ARCH_QUANTSR_C;
    if (h->arch != QSR_ARCH_QUANTSR_C && h->arch != QSR_ARCH_QUANTSR_T)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model writer: arch %u is not 1 or 2",
                         h->arch);
    if (h->arch == QSR_ARCH_QUANTSR_T) {
        qsr_status st = resolve_t_params(p, h);
        if (st != QSR_OK) return st;
    }
    if (p->depth_level_count > QSR_MAX_DEPTH_LEVELS)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "model writer: %u depth levels",
                         p->depth_level_count);
    if (p->depth_level_count) {
        h->depth_level_count = p->depth_level_count;
        memcpy(h->depth_levels, p->depth_levels, sizeof h->depth_levels);
    } else {
        for (uint32_t d = h->blocks; d >= 1 && h->depth_level_count < QSR_MAX_DEPTH_LEVELS; d /= 2)
            h->depth_levels[h->depth_level_count++] = d;
    }
    if (p->img_range != 0.0f) {
        memcpy(h->rgb_mean, p->rgb_mean, sizeof h->rgb_mean);
        h->img_range = p->img_range;
    } else {
        h->rgb_mean[0] = 0.4488f;
        h->rgb_mean[1] = 0.4371f;
        h->rgb_mean[2] = 0.4040f;
        h->img_range = 255.0f;
    }
    return QSR_OK;
}

/* A random permutation of the blocks: the DQA importance ranking. */
static void random_block_rank(qsr__rng *rng, uint32_t blocks, uint8_t *rank) {
    for (uint32_t i = 0; i < blocks; i++)
        rank[i] = (uint8_t)i;
    for (uint32_t i = blocks; i-- > 1;) {
        uint32_t j = (uint32_t)qsr__rng_int(rng, 0, (int32_t)i);
        uint8_t t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
    }
}

qsr_status qsr__random_model_write(const qsr__random_model_params *params, void **out_data,
                                   size_t *out_size) {
    qsr__random_model_params defaults;
    memset(&defaults, 0, sizeof defaults);
    const qsr__random_model_params *p = params ? params : &defaults;
    header_fields h;
    qsr_status st = resolve_params(p, &h);
    if (st != QSR_OK) return st;
    writer w;
    memset(&w, 0, sizeof w);
    w.rng.state = p->seed * 0x9E3779B97F4A7C15ull + 0x51ED2701u;
    w.channels = h.channels;
    w.bits_w = h.bits_w;
    w.bits_a = h.bits_a;
    w.per_channel_step = p->per_channel_weight_step;
    random_block_rank(&w.rng, h.blocks, h.block_rank);
    if (h.arch == QSR_ARCH_QUANTSR_T)
        build_network_t(&w, &h);
    else
        build_network(&w, h.scale, h.blocks, h.img_range);
    if (p->extra_tensor) {
        float *v = add_f32(&w, p->extra_tensor, "", 1, 1, 0);
        if (v) v[0] = 0.5f;
    }
    if (w.out_of_memory)
        st = qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "model writer: out of memory");
    else
        st = serialize(&w, &h, p, out_data, out_size);
    free_writer(&w);
    return st;
}

qsr_status qsr_model_create_random(const qsr_random_model_desc *desc, qsr_model **out) {
    if (!desc || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_model_create_random: NULL");
    qsr__random_model_params p;
    memset(&p, 0, sizeof p);
    p.scale = desc->scale;
    p.channels = desc->channels;
    p.blocks = desc->blocks;
    p.bits_w = desc->bits_w;
    p.bits_a = desc->bits_a;
    p.seed = desc->seed;
    p.arch = desc->arch;
    p.heads = desc->heads;
    p.window = desc->window;
    p.group_count = desc->group_count;
    if (!p.scale || !p.channels || !p.blocks || !p.bits_w || !p.bits_a)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "a random model needs its scale, channels, blocks and bits");
    void *data = NULL;
    size_t size = 0;
    qsr_status st = qsr__random_model_write(&p, &data, &size);
    if (st == QSR_OK) st = qsr_model_load_memory(data, size, out);
    free(data);
    return st;
}
