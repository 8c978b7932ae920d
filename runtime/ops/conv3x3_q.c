/* conv3x3_q.c - records shaders/conv3x3_q.comp (two output channels per multiply, any width)
 * and shaders/conv3x3_q2.comp (four per multiply, 2-bit weights and activations) and packs
 * their weights. */
#include "ops/ops.h"
#include "shader_table.h"

/* Output channels per invocation: 4 weight pair words, one ivec4 (shaders/conv3x3_q.comp). */
#define CONV_Q_OCB 8
/* Pixels per invocation (a row segment), PX in the shader. */
#define CONV_Q_PX 8
/* conv3x3_q2's (its accumulators are half as many per pixel). */
#define CONV_Q2_PX 16

int qsr__conv3x3_q_quads_apply(uint32_t bits_w, uint32_t bits_a) {
    return bits_w == 2 && bits_a == 2;
}

qsr__pipeline_desc qsr__conv3x3_q_desc(int quads, qsr__epilogue epilogue, uint32_t bits_a,
                                       int is_signed, qsr__codes_out codes_out) {
    return (qsr__pipeline_desc){
        .shader = quads ? QSR_SHADER_CONV3X3_Q2 : QSR_SHADER_CONV3X3_Q,
        .binding_count = QSR__CONV_Q_BINDINGS,
        .push_bytes = sizeof(qsr__op_push),
        .spec_count = 6,
        .spec = {(int32_t)epilogue, 0, 2, (int32_t)bits_a, is_signed ? 1 : 0, (int32_t)codes_out},
        .local_x = QSR__LOCAL_X,
        .local_y = QSR__LOCAL_Y,
        .texel_mask = 0x13u};
}

qsr_status qsr__conv3x3_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                 VkDescriptorSet set, const qsr__op_push *push) {
    uint32_t px = p->desc.shader == QSR_SHADER_CONV3X3_Q2 ? CONV_Q2_PX : CONV_Q_PX;
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up(qsr__div_up((uint32_t)push->out_w, px), QSR__LOCAL_X),
                                qsr__div_up((uint32_t)push->out_h, QSR__LOCAL_Y),
                                qsr__div_up((uint32_t)push->cout, CONV_Q_OCB));
}

size_t qsr__conv3x3_q_weight_words(int quads, uint32_t cout, uint32_t cin) {
    size_t groups = (cout + CONV_Q_OCB - 1) / CONV_Q_OCB;
    return quads ? groups * cin * 9 * 2 + groups * CONV_Q_OCB : groups * cin * 9;
}

/* conv3x3_q2: quad words (w + 2 in byte k for channel 8g + 4h + k) for [g][c][tap][h], then
 * per output channel K = -2 sum(w + 2) + 36 cin for signed activations, 0 for unsigned. */
static void pack_quads(const int8_t *codes, uint32_t cout, uint32_t cin, int act_signed,
                       uint32_t *out) {
    uint32_t groups = (cout + CONV_Q_OCB - 1) / CONV_Q_OCB;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t c = 0; c < cin; c++)
            for (uint32_t k = 0; k < 9; k++)
                for (uint32_t h = 0; h < 2; h++) {
                    uint32_t word = 0;
                    for (uint32_t b = 0; b < 4; b++) {
                        uint32_t oc = g * CONV_Q_OCB + 4 * h + b;
                        if (oc < cout)
                            word |= (uint32_t)(codes[((size_t)oc * cin + c) * 9 + k] + 2)
                                    << (8 * b);
                    }
                    out[(((size_t)g * cin + c) * 9 + k) * 2 + h] = word;
                }
    uint32_t *kk = out + (size_t)groups * cin * 9 * 2;
    for (uint32_t oc = 0; oc < groups * CONV_Q_OCB; oc++) {
        int64_t sum = 0;
        for (size_t i = 0; oc < cout && i < (size_t)cin * 9; i++)
            sum += codes[(size_t)oc * cin * 9 + i] + 2;
        kk[oc] = act_signed ? (uint32_t)(int32_t)(36 * (int64_t)cin - 2 * sum) : 0u;
    }
}

/* Word (g, c, k) holds in nibble o the code w[8g + o][c][k] (two's complement, 4 bits; codes
 * of 2 and 3 bits fit), 0 past cout. The shader expands a word into pair words
 * w[o] + 65536 * w[o + 1], multiplies each by one activation code and so accumulates two
 * channels' products in 16-bit fields. */
void qsr__conv3x3_q_pack_weights(int quads, const int8_t *codes, uint32_t cout, uint32_t cin,
                                 int act_signed, uint32_t *out) {
    if (quads) {
        pack_quads(codes, cout, cin, act_signed, out);
        return;
    }
    uint32_t groups = (cout + CONV_Q_OCB - 1) / CONV_Q_OCB;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t c = 0; c < cin; c++)
            for (uint32_t k = 0; k < 9; k++) {
                uint32_t word = 0;
                for (uint32_t o = 0; o < CONV_Q_OCB; o++) {
                    uint32_t oc = g * CONV_Q_OCB + o;
                    int32_t code = oc < cout ? codes[((size_t)oc * cin + c) * 9 + k] : 0;
                    word |= ((uint32_t)code & 0xFu) << (4 * o);
                }
                out[((size_t)g * cin + c) * 9 + k] = word;
            }
}
