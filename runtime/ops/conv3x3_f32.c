/* conv3x3_f32.c - records shaders/conv3x3_f32.comp. */
#include "ops/ops.h"
#include "shader_table.h"

/* Output channels per invocation: two vec4 groups, so layers are padded to a multiple of 8. */
#define CONV_F32_OCI 8
/* Pixels per invocation (a row segment), PX in the shader: 16 by default, 8 for grids whose
 * last workgroup row would be mostly empty at 16 (qsr__conv_px). */
#define CONV_F32_PX 16

/* A workgroup row covers lanes * PX pixels, whatever part of it lies in the grid. On lavapipe
 * an invocation's cost per pixel falls with PX (each fetched weight serves more pixels): at 8
 * about 1.25x, at 32 about 0.9x (conv3x3_q's PAIRS and QUADS) what it is at 16
 * (docs/benchmarks.md). The PX whose rows cost least wins: at 8 lanes a 160-pixel grid takes
 * 192 pixels of rows at 8 and 256 at 16; a 256-pixel one is one row at 32, a 300-pixel one
 * 384 pixels at 16 and 512 at 32. */
uint32_t qsr__conv_px(uint32_t width, uint32_t lanes, uint32_t max_px) {
    /* per-pixel cost in hundredths of that at 16; on a tie the earlier (fewer pipelines) */
    static const uint32_t px[] = {16, 8, 32}, cost[] = {100, 125, 90};
    uint32_t best = 16;
    uint64_t best_cost = UINT64_MAX;
    for (size_t i = 0; i < sizeof px / sizeof px[0]; i++) {
        uint64_t row = (uint64_t)px[i] * lanes, c = (width + row - 1) / row * row * cost[i];
        /* 32 only for grids of at least a whole row: a narrower one (the bundled sample's) would
         * compile a third pipeline for little */
        if (px[i] > max_px || (px[i] > 16 && width < row)) continue;
        if (c < best_cost) {
            best = px[i];
            best_cost = c;
        }
    }
    return best;
}

qsr__pipeline_desc qsr__conv3x3_f32_desc(qsr__epilogue epilogue, uint32_t shuffle_r, int fast,
                                         uint32_t px) {
    qsr_shader_id shader = fast ? QSR_SHADER_CONV3X3_F32_FAST : QSR_SHADER_CONV3X3_F32;
    return (qsr__pipeline_desc){.shader = shader,
                                .binding_count = QSR__CONV_F32_BINDINGS,
                                .push_bytes = sizeof(qsr__op_push),
                                .spec_count = 4,
                                .spec = {(int32_t)epilogue, (int32_t)(px ? px : CONV_F32_PX),
                                         (int32_t)(shuffle_r ? shuffle_r : 2), 0},
                                .local_x = QSR__LOCAL_X,
                                .local_y = QSR__LOCAL_Y,
                                /* activations and weights as 16-byte texels */
                                .texel_mask = 1u,
                                .texel4_mask = 3u};
}

void qsr__conv3x3_f32_src_c4(qsr__pipeline_desc *d) {
    d->spec_count = 4;
    d->spec[3] = 1;
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
