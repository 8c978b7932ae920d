/* window_attention.c - records shaders/window_attention.comp (QuantSR-T's quantized windowed
 * attention heads). */
#include "ops/ops.h"
#include "shader_table.h"

/* lavapipe stops an invocation's loops after 65535 iterations in all (docs: lavapipe.md); the
 * record function keeps a margin. */
#define LOOP_BUDGET 60000u
/* Query tokens per invocation (TPI in the shader). */
static uint32_t tokens_per_invocation(uint32_t window) {
    return window * window > 64 ? 1u : 4u;
}

static uint32_t code_words(uint32_t channels) {
    return qsr__div_up(channels, QSR__CODES_PER_WORD);
}

qsr__pipeline_desc qsr__window_attention_desc(uint32_t window, uint32_t head_dim, uint32_t bits_a,
                                              int q_signed, int k_signed, int v_signed) {
    uint32_t n = window * window;
    /* Shared memory: the window's Q, K, V codes of the head. */
    uint32_t base = 4u * 3u * n * code_words(head_dim);
    return (qsr__pipeline_desc){.shader = QSR_SHADER_WINDOW_ATTENTION,
                                .binding_count = 3,
                                .push_bytes = sizeof(qsr__attention_push),
                                .spec_count = 6,
                                .spec = {(int32_t)window, (int32_t)head_dim, (int32_t)bits_a,
                                         q_signed ? 1 : 0, k_signed ? 1 : 0, v_signed ? 1 : 0},
                                .local_x = n / tokens_per_invocation(window),
                                .local_y = 1,
                                .texel_mask = 0x3u, /* qkv and params (fetch.glsl) */
                                .shared_base = base};
}

/* Loop iterations of one invocation of window_attention.comp, were none of its loops unrolled
 * (they have constant trip counts and are, on lavapipe). */
static uint64_t loop_iterations(uint32_t window, uint32_t head_dim, uint32_t local) {
    uint64_t n = (uint64_t)window * window, d = head_dim;
    uint32_t tpi = tokens_per_invocation(window);
    uint64_t per_token = 2 * d + n * (d + 1) + 3 * n + n * (d + 1);
    return qsr__div_up((uint32_t)n, local) * (1 + code_words(head_dim)) +
           qsr__div_up((uint32_t)n / tpi, local) * tpi * per_token;
}

qsr_status qsr__window_attention_record(qsr_context *ctx, VkCommandBuffer cmd,
                                        const qsr__pipeline *p, VkDescriptorSet set,
                                        const qsr__attention_push *push) {
    uint32_t window = (uint32_t)p->desc.spec[0], head_dim = (uint32_t)p->desc.spec[1];
    /* The shader takes a token group's biases per window row: a group must not span two. */
    if (window % tokens_per_invocation(window))
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "window_attention: window %u", window);
    uint64_t loops = loop_iterations(window, head_dim, p->desc.local_x);
    if (loops > LOOP_BUDGET)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "window_attention: window %u, %u channels per head and %u invocations "
                         "per workgroup need %llu loop iterations per invocation (at most %u)",
                         window, head_dim, p->desc.local_x, (unsigned long long)loops, LOOP_BUDGET);
    if (push->grid_w % (int32_t)window || push->grid_h % (int32_t)window)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "window_attention: %dx%d grid is not a multiple of the window %u",
                         push->grid_w, push->grid_h, window);
    uint32_t windows =
        (uint32_t)(push->grid_w / (int32_t)window) * (uint32_t)(push->grid_h / (int32_t)window);
    return qsr__record_dispatch(ctx, cmd, p, set, push, sizeof *push, windows,
                                (uint32_t)push->heads, 1);
}

uint64_t qsr__window_attention_macs(const qsr__attention_push *push, uint32_t window) {
    /* Per token and head: N scores of d products, d outputs of N products. */
    uint64_t pixels = (uint64_t)push->grid_w * (uint64_t)push->grid_h;
    return pixels * 2u * window * window * (uint64_t)push->channels;
}
