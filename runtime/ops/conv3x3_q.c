/* conv3x3_q.c - chooses, records and packs the weights of the quantized convolutions:
 * shaders/conv3x3_q.comp (two output channels per multiply, any width), conv3x3_q2.comp (four
 * per multiply, 2-bit weights and activations) and conv3x3_q_dot.comp (packed int8 dots). */
#include "ops/ops.h"
#include "shader_table.h"

#include <stdlib.h>
#include <string.h>

/* Output channels per invocation: 4 weight pair words, one ivec4 (shaders/conv3x3_q.comp). */
#define CONV_Q_OCB 8
/* Pixels per invocation (a row segment) of PAIRS and QUADS, PX in the shaders: 16 by default,
 * 8 or 32 where a grid's width makes them cheaper (qsr__conv_px). DOT's is fixed at 8. */
#define CONV_Q_PX     16
#define CONV_Q_DOT_PX 8
/* conv3x3_q_tiled's preferred workgroup, one pixel per invocation (TX, TY in the shader:
 * specialization constants, smaller where the device's limits ask), and its shared memory:
 * the 72 weight words of a code word and the (TX + 2) x (TY + 2) code tile. */
#define CONV_Q_TILE_X           16u
#define CONV_Q_TILE_Y           8u
#define CONV_Q_TILE_SHARED_BASE (QSR__CODES_PER_WORD * 9u * 4u)
#define CONV_Q_TILE_SHARED_HALO 4u

qsr_status qsr__conv3x3_q_choose(const qsr_context *ctx, uint32_t bits_w, uint32_t bits_a,
                                 qsr__qkernel *out) {
    const char *forced = getenv("QSR_KERNEL");
    int has_dot = ctx->info.integer_dot_product;
    if (forced && *forced && strcmp(forced, "auto") != 0) {
        if (strcmp(forced, "portable") == 0 || strcmp(forced, "tiled") == 0) {
            *out = forced[0] == 'p' ? QSR__QKERNEL_PAIRS : QSR__QKERNEL_TILED;
            return QSR_OK;
        }
        if (strcmp(forced, "dot") != 0)
            return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                             "QSR_KERNEL=%s: expected auto, portable, dot or tiled", forced);
        if (!has_dot)
            return qsr__fail(QSR_ERROR_UNSUPPORTED,
                             "QSR_KERNEL=dot: %s lacks VK_KHR_shader_integer_dot_product",
                             ctx->info.name);
        *out = QSR__QKERNEL_DOT;
        return QSR_OK;
    }
    if (has_dot && ctx->info.integer_dot_product_accelerated)
        *out = QSR__QKERNEL_DOT;
    else if (ctx->info.type != QSR_DEVICE_TYPE_CPU)
        *out = QSR__QKERNEL_TILED;
    else
        *out = bits_w != bits_a ? QSR__QKERNEL_PAIRS
               : bits_w == 2    ? QSR__QKERNEL_QUADS
               : bits_w == 3    ? QSR__QKERNEL_QUADS3
                                : QSR__QKERNEL_PAIRS;
    return QSR_OK;
}

/* The shader of each kernel (QUADS3: conv3x3_q2 at 3 bits). */
static const qsr_shader_id kernel_shader[] = {QSR_SHADER_CONV3X3_Q, QSR_SHADER_CONV3X3_Q2,
                                              QSR_SHADER_CONV3X3_Q_DOT, QSR_SHADER_CONV3X3_Q_TILED,
                                              QSR_SHADER_CONV3X3_Q2};

const char *qsr__conv3x3_q_shader_name(qsr__qkernel kernel) {
    return (unsigned)kernel < sizeof kernel_shader / sizeof kernel_shader[0]
               ? qsr_shader_table[kernel_shader[kernel]].name
               : "unknown";
}

qsr__pipeline_desc qsr__conv3x3_q_desc(qsr__qkernel kernel, qsr__epilogue epilogue, uint32_t bits_a,
                                       int is_signed, qsr__codes_out codes_out) {
    int tiled = kernel == QSR__QKERNEL_TILED;
    int wide = qsr__conv3x3_q_wide_weights(kernel);
    int rows = qsr__conv3x3_q_pads_codes(kernel); /* the kernels that fetch rows of codes */
    return (qsr__pipeline_desc){
        .shader = kernel_shader[kernel],
        .binding_count = QSR__CONV_Q_BINDINGS,
        .push_bytes = sizeof(qsr__op_push),
        .spec_count = 7,
        .spec = {(int32_t)epilogue, rows ? CONV_Q_PX : 0, 2, (int32_t)bits_a, is_signed ? 1 : 0,
                 (int32_t)codes_out, 0},
        .local_x = tiled ? CONV_Q_TILE_X : QSR__LOCAL_X,
        .local_y = tiled ? CONV_Q_TILE_Y : QSR__LOCAL_Y,
        .texel_mask = 0x17u,
        /* PAIRS and QUADS read activation codes as 16-byte texels too (row_fetch.glsl). */
        .texel4_mask = (wide ? 0x2u : 0u) | (rows ? 0x1u : 0u) |
                       (epilogue == QSR__EPILOGUE_RESIDUAL_C4 ? 0x10u : 0u),
        .image_mask = 0x20u, /* the codes out (shaders/store.glsl) */
        .shared_base = tiled ? CONV_Q_TILE_SHARED_BASE : 0u,
        .shared_halo = tiled ? CONV_Q_TILE_SHARED_HALO : 0u};
}

int qsr__conv3x3_q_pads_codes(qsr__qkernel kernel) {
    return kernel == QSR__QKERNEL_PAIRS || kernel == QSR__QKERNEL_QUADS ||
           kernel == QSR__QKERNEL_QUADS3;
}

void qsr__conv3x3_q_pad_codes(qsr__pipeline_desc *d) {
    d->spec[6] = 1; /* CODES_PADDED (shaders/qconv_epilogue.glsl) */
}

qsr_status qsr__conv3x3_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                 VkDescriptorSet set, const qsr__op_push *push) {
    uint32_t w = (uint32_t)push->out_w, h = (uint32_t)push->out_h;
    uint32_t groups_z = qsr__div_up((uint32_t)push->cout, CONV_Q_OCB);
    uint32_t shader = qsr__shader_texel_base(p->desc.shader); /* storage twins: the same */
    uint32_t lx = p->desc.local_x, ly = p->desc.local_y;
    if (shader == QSR_SHADER_CONV3X3_Q_TILED)
        return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push, qsr__div_up(w, lx),
                                    qsr__div_up(h, ly), groups_z);
    uint32_t px = shader == QSR_SHADER_CONV3X3_Q_DOT ? CONV_Q_DOT_PX : (uint32_t)p->desc.spec[1];
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up(qsr__div_up(w, px), lx), qsr__div_up(h, ly), groups_z);
}

/* The convolutions whose PX is specialization constant 1 (the folded upsampler's too). */
static int has_px(const qsr__pipeline_desc *d) {
    uint32_t shader = qsr__shader_texel_base(d->shader);
    return shader == QSR_SHADER_CONV3X3_F32 || shader == QSR_SHADER_CONV3X3_F32_FAST ||
           shader == QSR_SHADER_CONV3X3_Q || shader == QSR_SHADER_CONV3X3_Q2 ||
           shader == QSR_SHADER_UPSAMPLE_FOLDED;
}

void qsr__conv3x3_fit_px(const qsr_context *ctx, qsr__pipeline_desc *d, uint32_t width) {
    if (!has_px(d)) return;
    uint32_t shader = qsr__shader_texel_base(d->shader);
    int quantized = shader == QSR_SHADER_CONV3X3_Q || shader == QSR_SHADER_CONV3X3_Q2;
    d->spec[1] =
        (int32_t)qsr__conv_px(width, qsr__row_lanes(ctx), quantized ? QSR__CONV_Q_MAX_PX : 16u);
}

int qsr__conv3x3_px_twin(const qsr__pipeline_desc *d, qsr__pipeline_desc *twin) {
    if (!has_px(d)) return 0;
    *twin = *d;
    twin->spec[1] = d->spec[1] == 16 ? 8 : 16;
    return 1;
}

/* Every kernel but TILED (which stages weights in shared memory) reads its weights as uvec4
 * texels (binding 1): PAIRS a code word's 72 words in 18 fetches, DOT a tap's 8 output
 * channels of a code word in four, QUADS in one, so an input channel takes 2.25, 4.5 or 1.125
 * fetches instead of 9 or 18 (on lavapipe every fetch is a call to a gather function, whatever
 * its width). */
int qsr__conv3x3_q_wide_weights(qsr__qkernel kernel) {
    return kernel != QSR__QKERNEL_TILED;
}

size_t qsr__conv3x3_q_weight_words(qsr__qkernel kernel, uint32_t cout, uint32_t cin) {
    size_t groups = (cout + CONV_Q_OCB - 1) / CONV_Q_OCB;
    size_t words = (cin + QSR__CODES_PER_WORD - 1) / QSR__CODES_PER_WORD;
    switch (kernel) {
    case QSR__QKERNEL_QUADS:
        return groups * words * 9 * 4 + groups * CONV_Q_OCB;
    case QSR__QKERNEL_QUADS3:
        return groups * words * 9 * 8 + groups * CONV_Q_OCB;
    case QSR__QKERNEL_DOT:
        return groups * words * 9 * 16 + groups * CONV_Q_OCB;
    case QSR__QKERNEL_PAIRS:
        return groups * words * QSR__CODES_PER_WORD * 9;
    default:
        return groups * cin * 9;
    }
}

/* The per-output-channel constants K that follow QUADS and DOT weights and undo the offsets
 * those kernels add to codes: K = per_weight * 9 cin - bias * sum(w + w_offset). */
static void pack_corrections(const int8_t *codes, uint32_t cout, uint32_t cin, int w_offset,
                             int64_t per_weight, int64_t bias, uint32_t *out) {
    uint32_t groups = (cout + CONV_Q_OCB - 1) / CONV_Q_OCB;
    for (uint32_t oc = 0; oc < groups * CONV_Q_OCB; oc++) {
        int64_t sum = 0;
        for (size_t i = 0; oc < cout && i < (size_t)cin * 9; i++)
            sum += codes[(size_t)oc * cin * 9 + i] + w_offset;
        out[oc] = (uint32_t)(int32_t)(per_weight * cin * 9 - bias * sum);
    }
}

/* The byte words of conv3x3_q_dot and conv3x3_q2: for (group, code word, tap) four uvec4, q
 * holding output channels 8g+2q and 8g+2q+1, each as two words of bytes (the code word's
 * channels 0,2,4,6 and 1,3,5,7): w + w_offset in byte b, or in byte 3 - b where `reversed`.
 * Channels past cin in a partial last code word hold w = 0 (byte w_offset): conv3x3_q2 then
 * needs no mask on its code sums (its header); words past cout are 0.
 * `fold_bits` 2 (conv3x3_q2 at 2 bits, whose bytes w + 2 take two bits) puts a tap's four
 * uvec4 into one, q's bytes in bits 2q and 2q + 1 of each byte: a fetch is a call to a gather
 * function on lavapipe, and the caller spills its vector registers around every call, so 9
 * fetches per code word instead of 36 (docs/benchmarks.md); 3 (at 3 bits, bytes w + 4) puts
 * them into two, q's bytes in uvec4 q / 2 at bits 4 (q % 2) .. 4 (q % 2) + 2; 0 folds nothing.
 * Returns the words written. */
static size_t pack_byte_words(const int8_t *codes, uint32_t cout, uint32_t cin, int w_offset,
                              int reversed, int fold_bits, uint32_t *out) {
    uint32_t groups = (cout + CONV_Q_OCB - 1) / CONV_Q_OCB;
    uint32_t words = (cin + QSR__CODES_PER_WORD - 1) / QSR__CODES_PER_WORD;
    size_t n = 0;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t cw = 0; cw < words; cw++)
            for (uint32_t k = 0; k < 9; k++) {
                size_t texels = fold_bits == 3 ? 2 : fold_bits ? 1 : 2 * CONV_Q_OCB / 4;
                if (fold_bits) memset(out + n, 0, 4 * texels * sizeof *out);
                for (uint32_t o = 0; o < CONV_Q_OCB; o++)
                    for (uint32_t parity = 0; parity < 2; parity++) {
                        uint32_t oc = g * CONV_Q_OCB + o, word = 0;
                        for (uint32_t b = 0; oc < cout && b < 4; b++) {
                            uint32_t c = cw * QSR__CODES_PER_WORD + 2 * b + parity;
                            int v =
                                (c < cin ? codes[((size_t)oc * cin + c) * 9 + k] : 0) + w_offset;
                            word |= (uint32_t)(uint8_t)v << (8 * (reversed ? 3 - b : b));
                        }
                        /* pair q = slot / 4, component slot % 4 */
                        uint32_t slot = o * 2 + parity, q = slot / 4;
                        if (fold_bits == 2)
                            out[n + slot % 4] |= word << (2 * q);
                        else if (fold_bits == 3)
                            out[n + 4 * (q / 2) + slot % 4] |= word << (4 * (q % 2));
                        else
                            out[n + slot] = word;
                    }
                n += 4 * texels;
            }
    return n;
}

/* conv3x3_q_dot: the byte words of int8 weights, then per output channel K = -8 sum w for
 * signed activations (stored as a + 8), 0 for unsigned. */
static void pack_dot(const int8_t *codes, uint32_t cout, uint32_t cin, int act_signed,
                     uint32_t *out) {
    size_t n = pack_byte_words(codes, cout, cin, 0, 0, 0, out);
    pack_corrections(codes, cout, cin, 0, 0, act_signed ? 8 : 0, out + n);
}

/* conv3x3_q2: the folded byte words of w + B in reverse byte order (B = 2 at 2 bits, 4 at 3),
 * then per output channel K = -B sum(w + B) + 9 B^2 cin for signed activations, 0 for
 * unsigned. */
static void pack_quads(const int8_t *codes, uint32_t cout, uint32_t cin, int bits, int act_signed,
                       uint32_t *out) {
    int b = 1 << (bits - 1);
    size_t n = pack_byte_words(codes, cout, cin, b, 1, bits, out);
    pack_corrections(codes, cout, cin, b, act_signed ? b * b : 0, act_signed ? b : 0, out + n);
}

/* Word (g, c, k) holds in nibble o the code w[8g + o][c][k] (two's complement, 4 bits; codes
 * of 2 and 3 bits fit), 0 past cout. The shader expands a word into pair words
 * w[o] + 65536 * w[o + 1], multiplies each by one activation code and so accumulates two
 * channels' products in 16-bit fields. */
void qsr__conv3x3_q_pack_weights(qsr__qkernel kernel, const int8_t *codes, uint32_t cout,
                                 uint32_t cin, int act_signed, uint32_t *out) {
    if (kernel == QSR__QKERNEL_QUADS || kernel == QSR__QKERNEL_QUADS3) {
        pack_quads(codes, cout, cin, kernel == QSR__QKERNEL_QUADS ? 2 : 3, act_signed, out);
        return;
    }
    if (kernel == QSR__QKERNEL_DOT) {
        pack_dot(codes, cout, cin, act_signed, out);
        return;
    }
    /* PAIRS: per (group, code word) its 8 channels' 9 words, 0 past cin; TILED: 9 words per
     * (group, channel). */
    uint32_t groups = (cout + CONV_Q_OCB - 1) / CONV_Q_OCB;
    uint32_t cpad = kernel == QSR__QKERNEL_PAIRS
                        ? qsr__div_up(cin, QSR__CODES_PER_WORD) * QSR__CODES_PER_WORD
                        : cin;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t c = 0; c < cpad; c++)
            for (uint32_t k = 0; k < 9; k++) {
                uint32_t word = 0;
                for (uint32_t o = 0; c < cin && o < CONV_Q_OCB; o++) {
                    uint32_t oc = g * CONV_Q_OCB + o;
                    int32_t code = oc < cout ? codes[((size_t)oc * cin + c) * 9 + k] : 0;
                    word |= ((uint32_t)code & 0xFu) << (4 * o);
                }
                out[((size_t)g * cpad + c) * 9 + k] = word;
            }
}
