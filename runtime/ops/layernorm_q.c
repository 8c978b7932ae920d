/* layernorm_q.c - records shaders/layernorm_q.comp (LayerNorm fused with the next quantizer). */
#include "ops/ops.h"
#include "shader_table.h"

qsr__pipeline_desc qsr__layernorm_q_desc(qsr__codes_out codes_out, uint32_t bits_a,
                                         uint32_t channels) {
    return (qsr__pipeline_desc){.shader = QSR_SHADER_LAYERNORM_Q,
                                .binding_count = 3,
                                .push_bytes = sizeof(qsr__op_push),
                                .spec_count = 3,
                                .spec = {(int32_t)codes_out, (int32_t)bits_a, (int32_t)channels},
                                .local_x = QSR__LOCAL_X,
                                .local_y = QSR__LOCAL_Y,
                                .texel_mask = 0x1u}; /* the source */
}

qsr_status qsr__layernorm_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const qsr__op_push *push) {
    /* The shader's loops run over its specialized channel count. */
    if (push->cin != p->desc.spec[2])
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "layernorm_q: %d channels pushed to a pipeline made for %d", push->cin,
                         p->desc.spec[2]);
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up((uint32_t)push->in_w, p->desc.local_x),
                                qsr__div_up((uint32_t)push->in_h, p->desc.local_y), 1);
}
