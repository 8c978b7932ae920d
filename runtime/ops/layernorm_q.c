/* layernorm_q.c - records shaders/layernorm_q.comp (LayerNorm fused with the next quantizer). */
#include "ops/ops.h"
#include "shader_table.h"

qsr__pipeline_desc qsr__layernorm_q_desc(qsr__codes_out codes_out, uint32_t bits_a) {
    return (qsr__pipeline_desc){.shader = QSR_SHADER_LAYERNORM_Q,
                                .binding_count = 3,
                                .push_bytes = sizeof(qsr__op_push),
                                .spec_count = 2,
                                .spec = {(int32_t)codes_out, (int32_t)bits_a},
                                .local_x = QSR__LOCAL_X,
                                .local_y = QSR__LOCAL_Y,
                                .texel_mask = 0x3u}; /* the source and the parameters */
}

qsr_status qsr__layernorm_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const qsr__op_push *push) {
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up((uint32_t)push->in_w, p->desc.local_x),
                                qsr__div_up((uint32_t)push->in_h, p->desc.local_y), 1);
}
