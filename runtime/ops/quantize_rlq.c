/* quantize_rlq.c - records shaders/quantize_rlq.comp. */
#include "ops/ops.h"
#include "shader_table.h"

qsr__pipeline_desc qsr__quantize_rlq_desc(uint32_t bits, int is_signed, int h_c4) {
    return (qsr__pipeline_desc){.shader = QSR_SHADER_QUANTIZE_RLQ,
                                .binding_count = 4,
                                .push_bytes = sizeof(qsr__quantize_rlq_push),
                                .spec_count = 4,
                                .spec = {(int32_t)bits, is_signed ? 1 : 0, h_c4 ? 1 : 0, 0},
                                .local_x = QSR__LOCAL_X,
                                .local_y = QSR__LOCAL_Y,
                                .texel_mask = 0x3u}; /* the source and the shifts */
}

void qsr__quantize_rlq_pad_codes(qsr__pipeline_desc *d) {
    d->spec[3] = 1; /* CODES_PADDED */
}

qsr_status qsr__quantize_rlq_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                    VkDescriptorSet set, const qsr__quantize_rlq_push *push) {
    uint32_t words = qsr__div_up((uint32_t)push->cin, QSR__CODES_PER_WORD);
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up((uint32_t)push->in_w, p->desc.local_x),
                                qsr__div_up((uint32_t)push->in_h, p->desc.local_y), words);
}
