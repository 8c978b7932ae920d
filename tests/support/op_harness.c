/* op_harness.c - see op_harness.h. */
#include "op_harness.h"
#include "platform.h"

#include <stdarg.h>
#include <string.h>

qsr__buffer qsr_test_host_buffer(qsr_context *ctx, size_t bytes, const void *init) {
    qsr__buffer b;
    qsr_status st = qsr__buffer_create(ctx, bytes ? bytes : 16, QSR__MEMORY_HOST, &b);
    if (st != QSR_OK) {
        fprintf(stderr, "buffer: %s\n", qsr_last_error());
        exit(1);
    }
    if (init)
        memcpy(b.mapped, init, bytes);
    else
        memset(b.mapped, 0, b.size);
    return b;
}

static double submit_and_wait(qsr_context *ctx, VkCommandBuffer cmd, VkFence fence) {
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cmd};
    double t0 = (double)qsr__now_ns() * 1e-9;
    CHECK(ctx->vk.vkQueueSubmit(ctx->queue, 1, &si, fence) == VK_SUCCESS, "submit");
    ctx->vk.vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, UINT64_MAX);
    ctx->vk.vkResetFences(ctx->device, 1, &fence);
    return (double)qsr__now_ns() * 1e-9 - t0;
}

double qsr_test_dispatch(qsr_context *ctx, const qsr__pipeline_desc *desc, qsr__buffer **bufs,
                         const void *push, qsr__op_recorder record, int runs) {
    qsr__pipeline p;
    VkDescriptorPool pool;
    VkDescriptorSet set;
    VkCommandBuffer cmd;
    VkFence fence;
    CHECK_OK(qsr__pipeline_create(ctx, desc, &p));
    const VkPhysicalDeviceLimits *lim = &ctx->props.limits;
    CHECK(p.desc.local_x * p.desc.local_y <= lim->maxComputeWorkGroupInvocations &&
              p.desc.local_x <= lim->maxComputeWorkGroupSize[0] &&
              p.desc.local_y <= lim->maxComputeWorkGroupSize[1],
          "workgroup %ux%u exceeds the device's limits", p.desc.local_x, p.desc.local_y);
    CHECK_OK(qsr__descriptor_pool_create(ctx, 1, &pool));
    CHECK_OK(qsr__descriptor_set_create(ctx, pool, &p, bufs, &set));
    VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL,
                                      ctx->command_pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    ctx->vk.vkAllocateCommandBuffers(ctx->device, &ai, &cmd);
    ctx->vk.vkCreateFence(ctx->device, &fi, NULL, &fence);
    ctx->vk.vkBeginCommandBuffer(cmd, &bi);
    CHECK_OK(record(ctx, cmd, &p, set, push));
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    ctx->vk.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                 VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    ctx->vk.vkEndCommandBuffer(cmd);
    double seconds = 0.0;
    for (int r = 0; r < (runs > 0 ? runs : 1); r++)
        seconds = submit_and_wait(ctx, cmd, fence);
    ctx->vk.vkDestroyFence(ctx->device, fence, NULL);
    ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->command_pool, 1, &cmd);
    ctx->vk.vkDestroyDescriptorPool(ctx->device, pool, NULL);
    qsr__pipeline_destroy(ctx, &p);
    return seconds;
}

qsr__op_push qsr_test_push(uint32_t w, uint32_t h, uint32_t cin, uint32_t cout) {
    return (qsr__op_push){.in_w = (int32_t)w,
                          .in_h = (int32_t)h,
                          .out_w = (int32_t)w,
                          .out_h = (int32_t)h,
                          .cin = (int32_t)cin,
                          .cout = (int32_t)cout,
                          .in_scale = 1,
                          .shortcut = 1,
                          .step = 1,
                          .img_range = 255,
                          .mean = {0.4488f, 0.4371f, 0.4040f},
                          .dst_scale = 1};
}

int qsr_test_begin_case(qsr_test_cases *cases, const char *fmt, ...) {
    int n = cases->next++;
    if (cases->only >= 0 && n != cases->only) return 0;
    printf("case %d: ", n);
    va_list args;
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    return 1;
}

void qsr_test_unpack_codes(const uint32_t *words, uint32_t channels, size_t plane, int is_signed,
                           int8_t *codes) {
    qsr_test_unpack_code_planes(words, channels, (uint32_t)plane, 1, 0, is_signed, codes);
}

void qsr_test_unpack_code_planes(const uint32_t *words, uint32_t channels, uint32_t w, uint32_t h,
                                 int padded, int is_signed, int8_t *codes) {
    uint32_t cpw = QSR__CODES_PER_WORD, cont = 32 / cpw;
    for (uint32_t c = 0; c < channels; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint32_t word = words[qsr__code_word(w, h, padded, c / cpw, x, y)];
                uint32_t v = (word >> ((c % cpw) * cont)) & ((1u << cont) - 1);
                int32_t code = (int32_t)v;
                if (is_signed && (v >> (cont - 1))) code -= 1 << cont;
                codes[((size_t)c * h + y) * w + x] = (int8_t)code;
            }
}

/* Where word i of a padded code plane of a w x h grid lies: on the grid, on its border (0) or
 * in a row's slack past the border. */
typedef enum padded_word { WORD_GRID, WORD_BORDER, WORD_SLACK } padded_word;
static padded_word padded_word_at(uint32_t w, uint32_t h, size_t i) {
    size_t stride = QSR__CODE_STRIDE(w), row = i / stride, col = i % stride;
    if (col > w + 1u) return WORD_SLACK;
    return row == 0 || row == h + 1u || col == 0 || col == w + 1u ? WORD_BORDER : WORD_GRID;
}

void qsr_test_pack_code_planes(const int8_t *codes, uint32_t channels, uint32_t w, uint32_t h,
                               int padded, uint32_t slack, uint32_t *words) {
    uint32_t cpw = QSR__CODES_PER_WORD, cont = 32 / cpw, planes = (channels + cpw - 1) / cpw;
    size_t plane_words = qsr__code_plane_words(w, h, padded);
    for (size_t i = 0; i < planes * plane_words; i++)
        words[i] = padded && padded_word_at(w, h, i % plane_words) == WORD_SLACK ? slack : 0;
    for (uint32_t c = 0; c < channels; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint32_t v = (uint32_t)codes[((size_t)c * h + y) * w + x] & ((1u << cont) - 1);
                words[qsr__code_word(w, h, padded, c / cpw, x, y)] |= v << ((c % cpw) * cont);
            }
}

size_t qsr_test_code_planes_outside_changed(const uint32_t *words, uint32_t channels, uint32_t w,
                                            uint32_t h, uint32_t fill) {
    uint32_t planes = (channels + QSR__CODES_PER_WORD - 1) / QSR__CODES_PER_WORD;
    size_t plane_words = qsr__code_plane_words(w, h, 1), changed = 0;
    for (size_t i = 0; i < planes * plane_words; i++)
        changed += padded_word_at(w, h, i % plane_words) != WORD_GRID && words[i] != fill;
    return changed;
}
