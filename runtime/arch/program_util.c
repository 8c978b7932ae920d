/* program_util.c - what the architectures' programs (runtime/arch/) share: tensor sizes, push
 * blocks, running one op, the input op and tensor copies. */
#include "arch.h"

qsr__codes_out qsr__codes_for(int is_signed) {
    return is_signed ? QSR__CODES_SIGNED : QSR__CODES_UNSIGNED;
}

qsr__pipeline_desc qsr__arch_layout_rgb(const qsr__plan *plan) {
    (void)plan;
    return qsr__rgb_to_planar_desc();
}

uint32_t qsr__words_one(const qsr__plan *plan) {
    (void)plan;
    return 1;
}

uint32_t qsr__words_three(const qsr__plan *plan) {
    (void)plan;
    return 3;
}

uint32_t qsr__words_flag(const qsr__plan *plan) {
    (void)plan;
    return 4; /* 16 bytes */
}

qsr__op_push qsr__arch_base_push(const qsr__plan *plan) {
    const qsr_model_info *info = &plan->model->info;
    return (qsr__op_push){.in_scale = 1.0f,
                          .shortcut = 1.0f,
                          .step = 1.0f,
                          .img_range = info->img_range,
                          .mean = {info->rgb_mean[0], info->rgb_mean[1], info->rgb_mean[2]},
                          .dst_scale = 1.0f};
}

qsr__op_push qsr__arch_layer_push(const qsr__plan *plan, const qsr__conv *conv, uint32_t slot,
                                  uint32_t w, uint32_t h) {
    const qsr__layer_slot *s = &plan->slots[slot];
    qsr__op_push p = qsr__arch_base_push(plan);
    p.in_w = p.out_w = (int32_t)w;
    p.in_h = p.out_h = (int32_t)h;
    p.cin = (int32_t)conv->cin;
    p.cout = (int32_t)conv->cout;
    p.w_off = s->w_off;
    p.bias_off = s->bias_off;
    p.scale_off = s->scale_off;
    return p;
}

qsr_status qsr__arch_run_op(qsr__plan *plan, uint32_t op, const qsr__pipeline_desc *desc,
                            uint64_t macs, qsr__op_recorder record, const void *push) {
    const qsr__pipeline *pipe;
    VkDescriptorSet set;
    qsr_status st = qsr__plan_op_begin(plan, op, desc, macs, &pipe, &set);
    if (st != QSR_OK) return st;
    st = record(plan->ctx, plan->cmd, pipe, set, push);
    qsr__plan_op_end(plan, op, macs);
    return st;
}

qsr_status qsr__record_conv3x3_f32(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const void *push) {
    return qsr__conv3x3_f32_record(ctx, cmd, p, set, (const qsr__op_push *)push);
}

qsr_status qsr__record_upsample_folded(qsr_context *ctx, VkCommandBuffer cmd,
                                       const qsr__pipeline *p, VkDescriptorSet set,
                                       const void *push) {
    return qsr__upsample_folded_record(ctx, cmd, p, set, (const qsr__upsample_folded_push *)push);
}

qsr_status qsr__record_conv3x3_q(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                 VkDescriptorSet set, const void *push) {
    return qsr__conv3x3_q_record(ctx, cmd, p, set, (const qsr__op_push *)push);
}

qsr_status qsr__record_rgb_to_planar(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                     VkDescriptorSet set, const void *push) {
    return qsr__rgb_to_planar_record(ctx, cmd, p, set, (const qsr__rgb_to_planar_push *)push);
}

qsr_status qsr__record_quantize_rlq(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                    VkDescriptorSet set, const void *push) {
    return qsr__quantize_rlq_record(ctx, cmd, p, set, (const qsr__quantize_rlq_push *)push);
}

qsr_status qsr__record_linear_q(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                VkDescriptorSet set, const void *push) {
    return qsr__linear_q_record(ctx, cmd, p, set, (const qsr__op_push *)push);
}

qsr_status qsr__record_layernorm_q(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const void *push) {
    return qsr__layernorm_q_record(ctx, cmd, p, set, (const qsr__op_push *)push);
}

qsr_status qsr__record_window_attention(qsr_context *ctx, VkCommandBuffer cmd,
                                        const qsr__pipeline *p, VkDescriptorSet set,
                                        const void *push) {
    return qsr__window_attention_record(ctx, cmd, p, set, (const qsr__attention_push *)push);
}

qsr_status qsr__arch_rgb_to_planar(qsr__plan *plan, uint32_t op, uint32_t w, uint32_t h,
                                   uint32_t out_w, uint32_t out_h) {
    const qsr_model_info *info = &plan->model->info;
    qsr__rgb_to_planar_push p = {.in_w = (int32_t)w,
                                 .in_h = (int32_t)h,
                                 .out_w = (int32_t)out_w,
                                 .out_h = (int32_t)out_h,
                                 .img_range = info->img_range,
                                 .mean = {info->rgb_mean[0], info->rgb_mean[1], info->rgb_mean[2]}};
    qsr__pipeline_desc d = qsr__rgb_to_planar_desc();
    return qsr__arch_run_op(plan, op, &d, 0, qsr__record_rgb_to_planar, &p);
}

void qsr__arch_copy_tensor(qsr__plan *plan, uint32_t op, int from, int to, VkDeviceSize bytes) {
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferCopy copy = {0, 0, bytes};
    plan->ctx->vk.vkCmdCopyBuffer(plan->cmd, plan->act[from].buffer, plan->act[to].buffer, 1,
                                  &copy);
    qsr__plan_op_end(plan, op, 0);
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}

void qsr__arch_clear_tensor(qsr__plan *plan, uint32_t op, int t, VkDeviceSize bytes) {
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
    plan->ctx->vk.vkCmdFillBuffer(plan->cmd, plan->act[t].buffer, 0, bytes, 0);
    qsr__plan_op_end(plan, op, 0);
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}
