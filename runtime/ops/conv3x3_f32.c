/* conv3x3_f32.c - records shaders/conv3x3_f32.comp. */
#include "ops/ops.h"
#include "shader_table.h"

/* Output channels per invocation: two vec4 groups, so layers are padded to a multiple of 8. */
#define CONV_F32_OCI 8
/* Pixels per invocation (a row segment), PX in the shader: 16 by default, 8 for grids whose
 * rows fit one workgroup row of 8-pixel segments. */
#define CONV_F32_PX 16
#define CONV_F32_PX_NARROW 8

uint32_t qsr__conv3x3_f32_px(uint32_t max_width) {
    return max_width <= CONV_F32_PX_NARROW * QSR__LOCAL_X ? CONV_F32_PX_NARROW : CONV_F32_PX;
}

qsr__pipeline_desc qsr__conv3x3_f32_desc(qsr__epilogue epilogue, uint32_t shuffle_r, int fast,
                                         uint32_t px) {
    return (qsr__pipeline_desc){
        .shader = fast ? QSR_SHADER_CONV3X3_F32_FAST : QSR_SHADER_CONV3X3_F32,
        .binding_count = QSR__CONV_F32_BINDINGS,
        .push_bytes = sizeof(qsr__op_push),
        .spec_count = 3,
        .spec = {(int32_t)epilogue, (int32_t)(px ? px : CONV_F32_PX),
                 (int32_t)(shuffle_r ? shuffle_r : 2)},
        .local_x = QSR__LOCAL_X,
        .local_y = QSR__LOCAL_Y,
        .texel_mask = 1u,
        .texel4_mask = 3u}; /* activations and weights as 16-byte texels */
}

qsr_status qsr__conv3x3_f32_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const qsr__op_push *push) {
    uint32_t groups_z =
        p->desc.spec[0] == QSR__EPILOGUE_RGB ? 1u : qsr__div_up((uint32_t)push->cout, CONV_F32_OCI);
    return qsr__record_dispatch(
        ctx, cmd, p, set, push, sizeof *push,
        qsr__div_up(qsr__div_up((uint32_t)push->out_w, (uint32_t)p->desc.spec[1]), p->desc.local_x),
        qsr__div_up((uint32_t)push->out_h, p->desc.local_y), groups_z);
}

size_t qsr__conv3x3_f32_weight_floats(uint32_t cout, uint32_t cin) {
    return (size_t)((cout + CONV_F32_OCI - 1) / CONV_F32_OCI) * cin * 9 * CONV_F32_OCI;
}

void qsr__conv3x3_f32_pack_weights(const float *w, uint32_t cout, uint32_t cin, float *out) {
    uint32_t groups = (cout + CONV_F32_OCI - 1) / CONV_F32_OCI;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t c = 0; c < cin; c++)
            for (uint32_t k = 0; k < 9; k++)
                for (uint32_t o = 0; o < CONV_F32_OCI; o++) {
                    uint32_t oc = g * CONV_F32_OCI + o;
                    out[(((size_t)g * cin + c) * 9 + k) * CONV_F32_OCI + o] =
                        oc < cout ? w[((size_t)oc * cin + c) * 9 + k] : 0.0f;
                }
}

uint64_t qsr__conv3x3_macs(const qsr__op_push *push) {
    return (uint64_t)push->out_w * (uint64_t)push->out_h * (uint64_t)push->cin *
           (uint64_t)push->cout * 9u;
}
