/* linear_q.c - records shaders/linear_q.comp (QuantSR-T's quantized linear layers) and packs
 * its weights. */
#include "ops/ops.h"
#include "shader_table.h"

/* Output channels per invocation (OCB) and tokens per invocation (PX) of the shader. */
#define LINEAR_Q_OCB 8u
#define LINEAR_Q_PX  8u

qsr__pipeline_desc qsr__linear_q_desc(qsr__epilogue epilogue, uint32_t bits_a, int is_signed,
                                      qsr__codes_out codes_out) {
    return (qsr__pipeline_desc){
        .shader = QSR_SHADER_LINEAR_Q,
        .binding_count = QSR__CONV_Q_BINDINGS,
        .push_bytes = sizeof(qsr__op_push),
        .spec_count = 6,
        .spec = {(int32_t)epilogue, 0, 0, (int32_t)bits_a, is_signed ? 1 : 0, (int32_t)codes_out},
        .local_x = QSR__LOCAL_X,
        .local_y = QSR__LOCAL_Y,
        .texel_mask = 0x14u,  /* the parameters, the residual's view of dst */
        .texel4_mask = 0x3u,  /* codes and weights as 16-byte texels */
        .image_mask = 0x20u}; /* the codes out (shaders/store.glsl) */
}

qsr_status qsr__linear_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                VkDescriptorSet set, const qsr__op_push *push) {
    uint32_t w = (uint32_t)push->out_w, h = (uint32_t)push->out_h;
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up(qsr__div_up(w, LINEAR_Q_PX), p->desc.local_x),
                                qsr__div_up(h, p->desc.local_y),
                                qsr__div_up((uint32_t)push->cout, LINEAR_Q_OCB));
}

size_t qsr__linear_q_weight_words(uint32_t cout, uint32_t cin) {
    size_t groups = qsr__div_up(cout, LINEAR_Q_OCB), words = qsr__div_up(cin, QSR__CODES_PER_WORD);
    return groups * words * QSR__CODES_PER_WORD;
}

void qsr__linear_q_pack_weights(const int8_t *codes, uint32_t cout, uint32_t cin, uint32_t *out) {
    uint32_t groups = qsr__div_up(cout, LINEAR_Q_OCB),
             words = qsr__div_up(cin, QSR__CODES_PER_WORD);
    size_t n = 0;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t c = 0; c < words * QSR__CODES_PER_WORD; c++) {
            uint32_t word = 0;
            for (uint32_t o = 0; o < LINEAR_Q_OCB; o++) {
                uint32_t oc = g * LINEAR_Q_OCB + o;
                int32_t code = oc < cout && c < cin ? codes[(size_t)oc * cin + c] : 0;
                word |= ((uint32_t)code & 0xFu) << (4 * o);
            }
            out[n++] = word;
        }
}

uint64_t qsr__linear_q_macs(const qsr__op_push *push) {
    return (uint64_t)push->out_w * (uint64_t)push->out_h * (uint64_t)push->cin *
           (uint64_t)push->cout;
}
