/* upsample_folded.c - records shaders/upsample_folded.comp (runtime/upsample_fold.h). */
#include "ops/ops.h"
#include "shader_table.h"
#include "upsample_fold.h"

qsr__pipeline_desc qsr__upsample_folded_desc(uint32_t scale, uint32_t px) {
    return (qsr__pipeline_desc){
        .shader = QSR_SHADER_UPSAMPLE_FOLDED,
        .binding_count = QSR__CONV_F32_BINDINGS,
        .push_bytes = sizeof(qsr__op_push),
        .spec_count = 5,
        .spec = {QSR__EPILOGUE_RGB, (int32_t)px, 2, (int32_t)scale, (int32_t)qsr__fold_rows(scale)},
        .local_x = QSR__LOCAL_X,
        .local_y = QSR__LOCAL_Y,
        .texel_mask = 1u,
        .texel4_mask = 3u};
}

qsr_status qsr__upsample_folded_record(qsr_context *ctx, VkCommandBuffer cmd,
                                       const qsr__pipeline *p, VkDescriptorSet set,
                                       const qsr__upsample_folded_push *push) {
    if (p->desc.spec[1] == 1) /* a column: its pixels fill whole workgroups */
        return qsr__record_dispatch(
            ctx, cmd, p, set, push, sizeof *push,
            qsr__div_up((uint32_t)push->out_h, p->desc.local_x * p->desc.local_y), 1,
            (uint32_t)(p->desc.spec[3] / p->desc.spec[4]));
    return qsr__record_dispatch(
        ctx, cmd, p, set, push, sizeof *push,
        qsr__div_up(qsr__div_up((uint32_t)push->out_w, (uint32_t)p->desc.spec[1]), p->desc.local_x),
        qsr__div_up((uint32_t)push->out_h, p->desc.local_y),
        (uint32_t)(p->desc.spec[3] / p->desc.spec[4]));
}

uint64_t qsr__upsample_folded_macs(const qsr__upsample_folded_push *push, uint32_t scale) {
    return (uint64_t)push->out_w * (uint64_t)push->out_h * (uint64_t)push->cin * 25u * 3u * scale *
           scale;
}
