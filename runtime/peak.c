/* peak.c - the device's microkernel limits (shaders/peak.comp), for `quantsr bench --peak`
 * and the per-op comparison of `bench --ops`. */
#include "ops/ops.h"
#include "shader_table.h"

#include <string.h>

/* Grid and loop length: about 10^9 multiply-adds per integer measurement. */
#define PEAK_GRID_X      512u
#define PEAK_GRID_Y      32u
#define PEAK_ITERATIONS  1024
#define PEAK_TABLE_WORDS 4096u

enum { PEAK_INT_PAIRS, PEAK_FP32, PEAK_TEXEL, PEAK_BUFFER, PEAK_INT_QUADS, PEAK_MODES };
/* Work per loop iteration of each mode (shaders/peak.comp). */
static const double peak_work_per_step[PEAK_MODES] = {64.0, 32.0, 8.0, 8.0, 128.0};

typedef struct peak_run {
    qsr_context *ctx;
    qsr__buffer table, out;
    VkDescriptorPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkQueryPool queries;
} peak_run;

/* One dispatch of `mode`, submitted and timed by timestamps; returns milliseconds. */
static qsr_status time_mode(peak_run *r, int mode, double *ms) {
    qsr_context *ctx = r->ctx;
    qsr__pipeline_desc d = {.shader = QSR_SHADER_PEAK,
                            .binding_count = 3,
                            .push_bytes = sizeof(qsr__op_push),
                            .spec_count = 2,
                            .spec = {mode, PEAK_ITERATIONS},
                            .local_x = QSR__LOCAL_X,
                            .local_y = QSR__LOCAL_Y,
                            .texel_mask = 1u};
    qsr__pipeline p;
    qsr_status st = qsr__pipeline_create(ctx, &d, &p);
    if (st != QSR_OK) return st;
    VkDescriptorSet set;
    qsr__buffer *bufs[3] = {&r->table, &r->table, &r->out};
    ctx->vk.vkResetDescriptorPool(ctx->device, r->pool, 0);
    st = qsr__descriptor_set_create(ctx, r->pool, &p, bufs, &set);
    for (int pass = 0; pass < 2 && st == QSR_OK; pass++) { /* a warm-up, then the timed one */
        qsr__op_push push;
        memset(&push, 0, sizeof push);
        push.cin = pass;
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
        ctx->vk.vkResetCommandBuffer(r->cmd, 0);
        ctx->vk.vkBeginCommandBuffer(r->cmd, &bi);
        ctx->vk.vkCmdResetQueryPool(r->cmd, r->queries, 0, 2);
        ctx->vk.vkCmdWriteTimestamp(r->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, r->queries, 0);
        st = qsr__record_dispatch(ctx, r->cmd, &p, set, &push, sizeof push,
                                  PEAK_GRID_X / p.desc.local_x, PEAK_GRID_Y / p.desc.local_y, 1);
        ctx->vk.vkCmdWriteTimestamp(r->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, r->queries, 1);
        ctx->vk.vkEndCommandBuffer(r->cmd);
        if (st != QSR_OK) break;
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &r->cmd};
        ctx->vk.vkResetFences(ctx->device, 1, &r->fence);
        VkResult vr = qsr__queue_submit(ctx, &si, r->fence);
        if (vr == VK_SUCCESS)
            vr = ctx->vk.vkWaitForFences(ctx->device, 1, &r->fence, VK_TRUE, UINT64_MAX);
        uint64_t ts[2] = {0, 0};
        if (vr == VK_SUCCESS)
            vr = ctx->vk.vkGetQueryPoolResults(ctx->device, r->queries, 0, 2, sizeof ts, ts,
                                               sizeof ts[0],
                                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (vr != VK_SUCCESS) st = qsr__vk_fail(vr, "peak measurement");
        *ms = ts[1] > ts[0] ? (double)(ts[1] - ts[0]) * ctx->timestamp_period_ns * 1e-6 : 0.0;
    }
    qsr__pipeline_destroy(ctx, &p);
    return st;
}

static qsr_status peak_begin(peak_run *r) {
    qsr_context *ctx = r->ctx;
    if (ctx->timestamp_period_ns <= 0)
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "the device's queue has no timestamps");
    qsr_status st = qsr__buffer_create(ctx, PEAK_TABLE_WORDS * 4, QSR__MEMORY_HOST, &r->table);
    if (st == QSR_OK) st = qsr__buffer_create(ctx, PEAK_TABLE_WORDS * 4, QSR__MEMORY_HOST, &r->out);
    if (st != QSR_OK) return st;
    uint32_t *t = r->table.mapped;
    for (uint32_t i = 0; i < PEAK_TABLE_WORDS; i++)
        t[i] = i * 2654435761u;
    st = qsr__descriptor_pool_create(ctx, 1, &r->pool);
    if (st != QSR_OK) return st;
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = ctx->command_pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    QSR__VK(ctx->vk.vkAllocateCommandBuffers(ctx->device, &ai, &r->cmd));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    QSR__VK(ctx->vk.vkCreateFence(ctx->device, &fi, ctx->alloc, &r->fence));
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                .queryCount = 2};
    QSR__VK(ctx->vk.vkCreateQueryPool(ctx->device, &qi, ctx->alloc, &r->queries));
    return QSR_OK;
}

static void peak_end(peak_run *r) {
    qsr_context *ctx = r->ctx;
    if (r->queries) ctx->vk.vkDestroyQueryPool(ctx->device, r->queries, ctx->alloc);
    if (r->fence) ctx->vk.vkDestroyFence(ctx->device, r->fence, ctx->alloc);
    if (r->cmd) ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->command_pool, 1, &r->cmd);
    if (r->pool) ctx->vk.vkDestroyDescriptorPool(ctx->device, r->pool, ctx->alloc);
    qsr__buffer_destroy(ctx, &r->table);
    qsr__buffer_destroy(ctx, &r->out);
}

qsr_status qsr_context_measure_peak(qsr_context *ctx, qsr_device_peak *out) {
    if (!ctx || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_context_measure_peak: NULL");
    memset(out, 0, sizeof *out);
    peak_run r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    qsr_status st = peak_begin(&r);
    double rate[PEAK_MODES] = {0};
    double steps = (double)PEAK_GRID_X * PEAK_GRID_Y * PEAK_ITERATIONS;
    for (int mode = 0; mode < PEAK_MODES && st == QSR_OK; mode++) {
        double ms = 0.0;
        st = time_mode(&r, mode, &ms);
        if (st == QSR_OK && ms > 0.0) rate[mode] = steps * peak_work_per_step[mode] / (ms * 1e6);
    }
    peak_end(&r);
    if (st != QSR_OK) return st;
    *out = (qsr_device_peak){rate[PEAK_INT_PAIRS], rate[PEAK_FP32], rate[PEAK_TEXEL],
                             rate[PEAK_BUFFER], rate[PEAK_INT_QUADS]};
    return QSR_OK;
}
