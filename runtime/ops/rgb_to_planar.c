/* rgb_to_planar.c - records shaders/rgb_to_planar.comp. */
#include "ops/ops.h"
#include "shader_table.h"

qsr__pipeline_desc qsr__rgb_to_planar_desc(void) {
    return (qsr__pipeline_desc){.shader = QSR_SHADER_RGB_TO_PLANAR,
                                .binding_count = 2,
                                .push_bytes = sizeof(qsr__rgb_to_planar_push),
                                .local_x = QSR__LOCAL_X,
                                .local_y = QSR__LOCAL_Y};
}

qsr_status qsr__rgb_to_planar_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                     VkDescriptorSet set, const qsr__rgb_to_planar_push *push) {
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up((uint32_t)push->out_w, p->desc.local_x),
                                qsr__div_up((uint32_t)push->out_h, p->desc.local_y), 1);
}
