#define _POSIX_C_SOURCE 200809L
/* op_bench.c - developer tool: times one shader on random data.
 * op_bench q|f|F W H CIN COUT BITS [storage] [residual | residual-planar] [planar-codes] [pxN] REPS
 * op_bench u W H CIN 0 SCALE [storage] [pxN] REPS   (the folded upsampler, inner class)
 *   storage: the kernel's storage-buffer twin; residual: conv3x3_q with QuantSR-C's second
 *   epilogue (RESIDUAL_C4: fp32 h in c4 and the next codes) instead of the first's (ReLU, codes
 *   only); residual-planar: with h planar (RESIDUAL, as QuantSR-T's convolution);
 *   planar-codes: conv3x3_q / conv3x3_q2 over planar code planes (as QuantSR-T's convolution,
 *   implied by residual-planar) instead of padded ones (QuantSR-C's body, ops.h);
 *   pxN: N pixels per invocation (default: the runtime's choice for W, qsr__conv_px).
 *   Options may come anywhere after BITS (so that tests/tools/op_cpu_time.sh can append
 *   REPS). */
#include "ops/ops.h"
#include "test_util.h"

#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 8) return 2;
    int quant = argv[1][0] == 'q', folded = argv[1][0] == 'u';
    uint32_t w = atoi(argv[2]), h = atoi(argv[3]), cin = atoi(argv[4]), cout = atoi(argv[5]),
             bits = atoi(argv[6]), reps = 0, px = 0;
    int storage = 0, residual = 0, planar_codes = 0;
    for (int i = 7; i < argc; i++) {
        if (strcmp(argv[i], "storage") == 0)
            storage = 1;
        else if (strcmp(argv[i], "residual") == 0)
            residual = QSR__EPILOGUE_RESIDUAL_C4;
        else if (strcmp(argv[i], "residual-planar") == 0)
            residual = QSR__EPILOGUE_RESIDUAL, planar_codes = 1;
        else if (strcmp(argv[i], "planar-codes") == 0)
            planar_codes = 1;
        else if (strncmp(argv[i], "px", 2) == 0)
            px = (uint32_t)atoi(argv[i] + 2);
        else
            reps = (uint32_t)atoi(argv[i]);
    }
    if (reps == 0) return 2;
    qsr_context *ctx;
    if (qsr_context_create(NULL, &ctx) != QSR_OK) return 1;
    size_t plane = (size_t)w * h;
    qsr__buffer b[7]; /* conv_q: src, weights, params, dst, skip, codes */
    /* the source: fp32, or codes in at most cin padded code planes */
    size_t src_words =
        cin * (plane > qsr__code_plane_words(w, h, 1) ? plane : qsr__code_plane_words(w, h, 1));
    size_t sizes[7] = {src_words * 4,
                       folded ? (size_t)9 * bits * cin * 25 * 16 * 4
                              : (size_t)cout * cin * 9 * 4 + 64,
                       folded ? (size_t)9 * bits * 16 * 4 : (2 * cout + 8) * 4,
                       QSR__C4_WORDS(cout) * plane * 4 + 16,
                       QSR__C4_WORDS(cout) * plane * 4 + 16,
                       (folded ? 16 : cout) * qsr__code_plane_words(w, h, 1) * 4 + 16,
                       16};
    for (int i = 0; i < 7; i++) {
        qsr__buffer_create(ctx, sizes[i], QSR__MEMORY_HOST, &b[i]);
        uint32_t *p = b[i].mapped;
        qsr_rng rng = {7u + i};
        for (size_t k = 0; k < sizes[i] / 4; k++)
            p[k] = quant && i < 2 ? (uint32_t)qsr_rng_int(&rng, 0, 0x7fffffff) : 0x3c000000u;
    }
    qsr__buffer *bufs[7] = {&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6]};
    qsr__qkernel kernel = QSR__QKERNEL_PAIRS;
    if (quant && qsr__conv3x3_q_choose(ctx, bits, bits, &kernel) != QSR_OK) return 1;
    qsr__pipeline_desc d =
        quant ? qsr__conv3x3_q_desc(kernel, residual ? (qsr__epilogue)residual : QSR__EPILOGUE_RELU,
                                    bits, residual != 0,
                                    residual ? QSR__CODES_SIGNED : QSR__CODES_UNSIGNED)
              : qsr__conv3x3_f32_desc(QSR__EPILOGUE_RELU, 0, argv[1][0] == 'F', 0);
    if (quant && !planar_codes && qsr__conv3x3_q_pads_codes(kernel)) qsr__conv3x3_q_pad_codes(&d);
    if (folded) d = qsr__upsample_folded_desc(bits, qsr__conv_px(w, qsr__row_lanes(ctx), 16u));
    qsr__conv3x3_fit_px(ctx, &d, w);
    if (storage) qsr__pipeline_desc_storage(&d);
    if (px && d.spec[1]) d.spec[1] = (int32_t)px;
    qsr__pipeline p;
    VkDescriptorPool pool;
    VkDescriptorSet set;
    if (qsr__pipeline_create(ctx, &d, &p) != QSR_OK) return 1;
    qsr__descriptor_pool_create(ctx, 1, &pool);
    qsr__descriptor_set_create(ctx, pool, &p, bufs, &set);
    qsr__op_push push = {.in_w = (int)w,
                         .in_h = (int)h,
                         .out_w = (int)w,
                         .out_h = (int)h,
                         .cin = (int)cin,
                         .cout = (int)cout,
                         .scale_off = (int)cout,
                         .in_scale = 1,
                         .shortcut = 1,
                         .step = 1,
                         .img_range = 255,
                         .dst_scale = 1};
    /* The folded upsampler: the inner class over the whole grid. */
    qsr__upsample_folded_push fpush;
    memcpy(&fpush, &push, sizeof fpush);
    fpush.class_x = 1;
    fpush.w_off = fpush.bias_off = fpush.image_y = 0;
    fpush.image_h = (int32_t)h;
    fpush.dst_w = (int32_t)(w * bits);
    fpush.dst_h = (int32_t)(h * bits);
    uint64_t macs =
        folded ? (uint64_t)plane * cin * 25 * 3 * bits * bits : (uint64_t)plane * cin * cout * 9;
    VkCommandBuffer cmd;
    VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL,
                                      ctx->command_pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    ctx->vk.vkAllocateCommandBuffers(ctx->device, &ai, &cmd);
    for (int round = 0; round < 2; round++) {
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        ctx->vk.vkBeginCommandBuffer(cmd, &bi);
        for (uint32_t r = 0; r < (round ? reps : 1); r++)
            if (folded)
                qsr__upsample_folded_record(ctx, cmd, &p, set, &fpush);
            else
                (quant ? qsr__conv3x3_q_record : qsr__conv3x3_f32_record)(ctx, cmd, &p, set, &push);
        ctx->vk.vkEndCommandBuffer(cmd);
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cmd};
        double t0 = now_s();
        ctx->vk.vkQueueSubmit(ctx->queue, 1, &si, VK_NULL_HANDLE);
        ctx->vk.vkQueueWaitIdle(ctx->queue);
        double t = now_s() - t0;
        if (round)
            printf("%s %ux%u %u->%u bits %u: %.2f ms/op, %.1f GMAC/s\n", argv[1], w, h, cin, cout,
                   bits, t * 1e3 / reps, (double)macs * reps / t * 1e-9);
    }
    return 0;
}
