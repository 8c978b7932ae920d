#define _POSIX_C_SOURCE 200809L
/* t_op_bench.c - developer tool: times one QuantSR-T op of a SwinIR-light layer (E channels,
 * E / 10 heads of 10 channels, window 8, MLP 2 E) on random data over a W x H grid.
 * t_op_bench qkv|fc1|fc2|norm|attn W H E BITS REPS
 *   qkv: linear_q E -> 3E, fp32 out; fc1: E -> 2E with GELU and fc2's codes; fc2: 2E -> E added
 *   to the residual; norm: layernorm_q with qkv's codes; attn: window_attention (shifted).
 * REPS comes last, as tests/tools/op_cpu_time.sh expects. */
#include "ops/ops.h"
#include "test_util.h"

#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Random words; codes are read modulo their range, so any bits make valid codes. */
static void fill(qsr__buffer *b, uint64_t seed, int floats) {
    qsr_rng rng = {seed};
    uint32_t *p = b->mapped;
    for (size_t k = 0; k < b->size / 4; k++) {
        float f = 0.01f + 0.5f * qsr_rng_float(&rng);
        if (floats)
            memcpy(&p[k], &f, 4);
        else
            p[k] = (uint32_t)qsr_rng_int(&rng, 0, 0x7fffffff);
    }
}

typedef struct bench_op {
    qsr__pipeline_desc desc;
    qsr__op_push push;
    qsr__attention_push attn;
    int is_attention;
    uint64_t macs;
    size_t sizes[6];
    int floats[6];
    uint32_t buffers;
} bench_op;

static int describe(const char *name, uint32_t w, uint32_t h, uint32_t e, uint32_t bits,
                    bench_op *op) {
    size_t plane = (size_t)w * h;
    memset(op, 0, sizeof *op);
    op->push = (qsr__op_push){.in_w = (int)w,
                              .in_h = (int)h,
                              .out_w = (int)w,
                              .out_h = (int)h,
                              .cin = (int)e,
                              .cout = (int)e,
                              .in_scale = 1,
                              .shortcut = 1,
                              .step = 0.3f,
                              .dst_scale = 1};
    if (strcmp(name, "norm") == 0) {
        op->desc = qsr__layernorm_q_desc(QSR__CODES_SIGNED, bits, e);
        op->buffers = 3;
        size_t s[] = {e * plane * 4, 4 * e * 4, e * plane * 4};
        int f[] = {1, 1, 0};
        memcpy(op->sizes, s, sizeof s), memcpy(op->floats, f, sizeof f);
        op->push.scale_off = (int)e;
        op->push.aux_off = (int)(2 * e);
        op->macs = plane * e; /* elements */
        return 0;
    }
    if (strcmp(name, "attn") == 0) {
        uint32_t heads = e / 10;
        op->is_attention = 1;
        op->desc = qsr__window_attention_desc(8, 10, bits, 1, 1, 1);
        op->buffers = 3;
        size_t s[] = {3 * e * plane * 4, (3 * e + 225 * heads) * 4, e * plane * 4};
        int f[] = {1, 1, 0};
        memcpy(op->sizes, s, sizeof s), memcpy(op->floats, f, sizeof f);
        op->attn = (qsr__attention_push){.grid_w = (int)w,
                                         .grid_h = (int)h,
                                         .channels = (int)e,
                                         .heads = (int)heads,
                                         .shift = 4,
                                         .k_shift_off = (int)e,
                                         .v_shift_off = (int)(2 * e),
                                         .bias_off = (int)(3 * e),
                                         .sqrt_d = 3.1622777f,
                                         .q_step = 0.1f,
                                         .k_step = 0.1f,
                                         .v_step = 0.1f,
                                         .p_step = 0.0667f,
                                         .qk_scale = 0.01f,
                                         .pv_scale = 0.00667f};
        op->macs = qsr__window_attention_macs(&op->attn, 8);
        return 0;
    }
    uint32_t cin = e, cout = 3 * e;
    qsr__epilogue epilogue = QSR__EPILOGUE_STORE;
    qsr__codes_out codes = QSR__CODES_NONE;
    if (strcmp(name, "fc1") == 0) {
        cout = 2 * e;
        epilogue = QSR__EPILOGUE_GELU;
        codes = QSR__CODES_SIGNED;
    } else if (strcmp(name, "fc2") == 0) {
        cin = 2 * e;
        cout = e;
        epilogue = QSR__EPILOGUE_RESIDUAL;
    } else if (strcmp(name, "qkv") != 0) {
        return 2;
    }
    op->desc = qsr__linear_q_desc(epilogue, bits, 1, codes);
    op->buffers = 6;
    size_t words = qsr__div_up(cin, QSR__CODES_PER_WORD), out_words = qsr__div_up(cout, 8);
    size_t s[] = {words * plane * 4, qsr__linear_q_weight_words(cout, cin) * 4,
                  3 * cout * 4,      cout * plane * 4,
                  cout * plane * 4,  out_words * plane * 4};
    int f[] = {0, 0, 1, 1, 1, 0};
    memcpy(op->sizes, s, sizeof s), memcpy(op->floats, f, sizeof f);
    op->push.cin = (int)cin;
    op->push.cout = (int)cout;
    op->push.scale_off = (int)cout;
    op->push.aux_off = (int)(2 * cout);
    op->macs = qsr__linear_q_macs(&op->push);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 7) return 2;
    uint32_t w = atoi(argv[2]), h = atoi(argv[3]), e = atoi(argv[4]), bits = atoi(argv[5]),
             reps = atoi(argv[6]);
    bench_op op;
    if (describe(argv[1], w, h, e, bits, &op) != 0) return 2;
    qsr_context *ctx;
    if (qsr_context_create(NULL, &ctx) != QSR_OK) return 1;
    qsr__buffer b[6];
    qsr__buffer *bufs[6];
    for (uint32_t i = 0; i < op.buffers; i++) {
        if (qsr__buffer_create(ctx, op.sizes[i], QSR__MEMORY_HOST, &b[i]) != QSR_OK) return 1;
        fill(&b[i], 7u + i, op.floats[i]);
        bufs[i] = &b[i];
    }
    if (op.buffers == 6) bufs[4] = &b[3]; /* the residual's view of dst */
    qsr__pipeline p;
    VkDescriptorPool pool;
    VkDescriptorSet set;
    if (qsr__pipeline_create(ctx, &op.desc, &p) != QSR_OK) return 1;
    qsr__descriptor_pool_create(ctx, 1, &pool);
    qsr__descriptor_set_create(ctx, pool, &p, bufs, &set);
    VkCommandBuffer cmd;
    VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL,
                                      ctx->command_pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    ctx->vk.vkAllocateCommandBuffers(ctx->device, &ai, &cmd);
    for (int round = 0; round < 2; round++) {
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        ctx->vk.vkBeginCommandBuffer(cmd, &bi);
        for (uint32_t r = 0; r < (round ? reps : 1); r++) {
            qsr_status st = op.is_attention
                                ? qsr__window_attention_record(ctx, cmd, &p, set, &op.attn)
                            : op.buffers == 3 ? qsr__layernorm_q_record(ctx, cmd, &p, set, &op.push)
                                              : qsr__linear_q_record(ctx, cmd, &p, set, &op.push);
            if (st != QSR_OK) {
                fprintf(stderr, "%s\n", qsr_last_error());
                return 1;
            }
        }
        ctx->vk.vkEndCommandBuffer(cmd);
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cmd};
        double t0 = now_s();
        ctx->vk.vkQueueSubmit(ctx->queue, 1, &si, VK_NULL_HANDLE);
        ctx->vk.vkQueueWaitIdle(ctx->queue);
        double t = now_s() - t0;
        if (round)
            printf("%s %ux%u E %u bits %u: %.2f ms/op, %.2f G%s/s\n", argv[1], w, h, e, bits,
                   t * 1e3 / reps, (double)op.macs * reps / t * 1e-9,
                   op.buffers == 3 && !op.is_attention ? "element" : "MAC");
    }
    return 0;
}
