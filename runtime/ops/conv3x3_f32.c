/* conv3x3_f32.c - records shaders/conv3x3_f32.comp. */
#include "ops/ops.h"
#include "shader_table.h"

/* Output channels per invocation: 4 keeps the accumulators in registers and lets conv_last
 * (3 channels) produce a whole RGB pixel in one invocation. */
#define CONV_F32_OCB 4

qsr__pipeline_desc qsr__conv3x3_f32_desc(qsr__epilogue epilogue, uint32_t shuffle_r) {
    return (qsr__pipeline_desc){.shader = QSR_SHADER_CONV3X3_F32,
                                .binding_count = QSR__CONV_F32_BINDINGS,
                                .push_bytes = sizeof(qsr__op_push),
                                .spec_count = 3,
                                .spec = {(int32_t)epilogue, CONV_F32_OCB,
                                         (int32_t)(shuffle_r ? shuffle_r : 2)},
                                .local_x = QSR__LOCAL_X,
                                .local_y = QSR__LOCAL_Y};
}

qsr_status qsr__conv3x3_f32_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const qsr__op_push *push) {
    uint32_t groups_z = p->desc.spec[0] == QSR__EPILOGUE_RGB
                            ? 1u
                            : qsr__div_up((uint32_t)push->cout, CONV_F32_OCB);
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push,
                                qsr__div_up((uint32_t)push->out_w, QSR__LOCAL_X),
                                qsr__div_up((uint32_t)push->out_h, QSR__LOCAL_Y), groups_z);
}
