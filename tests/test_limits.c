/* test_limits.c - what the kernels ask of a device, checked without one:
 *   - no embedded shader declares a SPIR-V capability beyond core Shader, texel buffers and
 *     (conv3x3_q_dot only) the packed integer dot product: nothing needs shaderInt8/Int16/
 *     Float16/Int64/Float64, 8/16-bit storage or subgroup operations, which a mobile GPU may
 *     lack; the storage twins use no texel buffers at all;
 *   - every embedded shader declares exactly the bindings its C descriptions bind (and a
 *     description that disagrees is refused before any driver sees it);
 *   - QSR_FORCE_LIMITS parsing and the limits it forces;
 *   - workgroup fitting (qsr__pipeline_fit) to small invocation, size and shared-memory
 *     limits, keeping the preferred shape where it fits. */
#include "ops/ops.h"
#include "shader_table.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

#define SPV_OP_CAPABILITY  17u
#define CAP_SHADER         1u
#define CAP_SAMPLED_BUFFER 46u
/* Storage texel buffers (store.glsl's imageStore with a declared format): required of every
 * implementation too; no shader needs StorageImageWriteWithoutFormat. */
#define CAP_IMAGE_BUFFER 47u
/* textureSize of a texel buffer (row_fetch.glsl clamps its fetches with it); Vulkan requires
 * every implementation to support it, like Shader and SampledBuffer. */
#define CAP_IMAGE_QUERY    50u
#define CAP_DOT_4X8_PACKED 6018u
#define CAP_DOT_PRODUCT    6019u

static void check_capabilities(void) {
    for (uint32_t s = 0; s < QSR_SHADER_COUNT; s++) {
        const qsr_shader_blob *b = &qsr_shader_table[s];
        const uint32_t *w = b->words;
        size_t n = b->bytes / 4;
        CHECK(n > 5 && w[0] == 0x07230203u, "%s is not SPIR-V", b->name);
        int dot = strstr(b->name, "_dot") != NULL;
        int storage_twin = strstr(b->name, "_storage") != NULL;
        uint32_t caps = 0;
        for (size_t i = 5; i < n;) {
            uint32_t count = w[i] >> 16, op = w[i] & 0xFFFFu;
            if (count == 0 || i + count > n) {
                CHECK(0, "%s: malformed instruction at word %zu", b->name, i);
                break;
            }
            if (op == SPV_OP_CAPABILITY && count == 2) {
                uint32_t cap = w[i + 1];
                int allowed = cap == CAP_SHADER ||
                              ((cap == CAP_SAMPLED_BUFFER || cap == CAP_IMAGE_QUERY ||
                                cap == CAP_IMAGE_BUFFER) &&
                               !storage_twin) ||
                              (dot && (cap == CAP_DOT_PRODUCT || cap == CAP_DOT_4X8_PACKED));
                CHECK(allowed, "%s declares SPIR-V capability %u", b->name, cap);
                caps++;
            }
            i += count;
        }
        CHECK(caps > 0, "%s: no capability found", b->name);
    }
    printf("%u shaders: capabilities within Shader, SampledBuffer, ImageBuffer and the dot "
           "product\n",
           (unsigned)QSR_SHADER_COUNT);
}

/* Every description the runtime makes, each also as its storage twin, covers every shader and
 * matches the bindings its SPIR-V declares. */
static void check_bindings(void) {
    qsr__pipeline_desc d[128];
    uint32_t n = 0;
    d[n++] = qsr__rgb_to_planar_desc();
    for (int e = QSR__EPILOGUE_STORE; e <= QSR__EPILOGUE_RGB; e++)
        for (int fast = 0; fast <= 1; fast++)
            d[n++] = qsr__conv3x3_f32_desc((qsr__epilogue)e, 2, fast, 0);
    for (int is_signed = 0; is_signed <= 1; is_signed++)
        for (int h_c4 = 0; h_c4 <= 1; h_c4++)
            d[n++] = qsr__quantize_rlq_desc(4, is_signed, h_c4);
    for (int k = QSR__QKERNEL_PAIRS; k <= QSR__QKERNEL_QUADS3; k++)
        for (int e = QSR__EPILOGUE_RELU; e <= QSR__EPILOGUE_RESIDUAL; e++)
            d[n++] =
                qsr__conv3x3_q_desc((qsr__qkernel)k, (qsr__epilogue)e, 4, 1, QSR__CODES_SIGNED);
    for (int k = QSR__QKERNEL_PAIRS; k <= QSR__QKERNEL_QUADS3; k++)
        d[n++] = qsr__conv3x3_q_desc((qsr__qkernel)k, QSR__EPILOGUE_RESIDUAL_C4, 4, 1,
                                     QSR__CODES_SIGNED);
    d[n] = qsr__conv3x3_f32_desc(QSR__EPILOGUE_ADD_SKIP, 2, 1, 0);
    qsr__conv3x3_f32_src_c4(&d[n++]);
    /* QuantSR-T's token ops. */
    static const qsr__epilogue linear[] = {QSR__EPILOGUE_STORE, QSR__EPILOGUE_RESIDUAL,
                                           QSR__EPILOGUE_GELU};
    for (size_t i = 0; i < sizeof linear / sizeof linear[0]; i++)
        d[n++] = qsr__linear_q_desc(linear[i], 4, 1,
                                    linear[i] == QSR__EPILOGUE_GELU ? QSR__CODES_UNSIGNED
                                                                    : QSR__CODES_NONE);
    d[n++] = qsr__layernorm_q_desc(QSR__CODES_NONE, 4, 60);
    d[n++] = qsr__layernorm_q_desc(QSR__CODES_SIGNED, 2, 180);
    d[n++] = qsr__window_attention_desc(8, 10, 4, 1, 1, 1);
    d[n++] = qsr__upsample_folded_desc(4, 16);
    d[n++] = qsr__upsample_folded_desc(3, 1);
    /* runtime/peak.c's microkernels (bench --peak). */
    d[n++] = (qsr__pipeline_desc){.shader = QSR_SHADER_PEAK, .binding_count = 3, .texel_mask = 1u};
    for (uint32_t i = 0, base = n; i < base; i++) {
        qsr__pipeline_desc twin = d[i];
        if (qsr__pipeline_desc_storage(&twin) && twin.shader != d[i].shader) d[n++] = twin;
    }
    uint32_t covered = 0;
    for (uint32_t i = 0; i < n; i++) {
        CHECK_OK(qsr__pipeline_check_bindings(&d[i]));
        covered |= 1u << d[i].shader;
    }
    for (uint32_t s = 0; s < QSR_SHADER_COUNT; s++)
        CHECK(covered & (1u << s), "%s: no C description checked", qsr_shader_table[s].name);
    /* One binding too many or too few is refused with a clear internal error. */
    qsr__pipeline_desc wrong = qsr__quantize_rlq_desc(4, 1, 0);
    wrong.binding_count++;
    CHECK_STATUS(qsr__pipeline_check_bindings(&wrong), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "internal error: shader quantize_rlq declares bindings 0xf") !=
              NULL,
          "message: %s", qsr_last_error());
    wrong.binding_count -= 2;
    CHECK_STATUS(qsr__pipeline_check_bindings(&wrong), QSR_ERROR_INVALID_ARGUMENT);
    printf("%u descriptions over %u shaders: bindings match the SPIR-V\n", n,
           (unsigned)QSR_SHADER_COUNT);
}

static void check_parsing(void) {
    qsr__forced_limits f;
    CHECK_OK(qsr__limits_resolve(QSR_LIMITS_DEVICE, NULL, &f));
    CHECK(!f.active, "nothing forced by default");
    CHECK_OK(qsr__limits_resolve(QSR_LIMITS_DEVICE, "mobile", &f));
    CHECK(f.active && f.invocations == 128 && f.texels == 65536 && f.memory == 64ull << 20 &&
              f.no_small_types,
          "mobile preset");
    CHECK_OK(qsr__limits_resolve(QSR_LIMITS_DEVICE, "mobile,invocations=16,groups=2,memory=8", &f));
    CHECK(f.invocations == 16 && f.groups == 2 && f.memory == 8ull << 20 && f.texels == 65536,
          "overrides on the preset");
    CHECK_OK(qsr__limits_resolve(QSR_LIMITS_MOBILE, "device", &f));
    CHECK(!f.active, "device clears the application's profile");
    CHECK_OK(qsr__limits_resolve(QSR_LIMITS_DEVICE, "texels=4096", &f));
    CHECK(f.active && f.texels == 4096 && !f.no_small_types, "a single override");
    CHECK_STATUS(qsr__limits_resolve(QSR_LIMITS_DEVICE, "tiny", &f), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr__limits_resolve(QSR_LIMITS_DEVICE, "groups=0", &f),
                 QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr__limits_resolve((qsr_limits_profile)3, NULL, &f), QSR_ERROR_INVALID_ARGUMENT);

    /* Forcing lowers the limits and the report, never raises them. */
    VkPhysicalDeviceLimits l;
    memset(&l, 0, sizeof l);
    l.maxComputeWorkGroupInvocations = 1024;
    l.maxComputeWorkGroupSize[0] = l.maxComputeWorkGroupSize[1] = 1024;
    l.maxComputeWorkGroupSize[2] = 64;
    l.maxComputeWorkGroupCount[0] = l.maxComputeWorkGroupCount[1] = 65535;
    l.maxComputeWorkGroupCount[2] = 65535;
    l.maxComputeSharedMemorySize = 32768;
    l.maxTexelBufferElements = 1u << 27;
    l.maxStorageBufferRange = 1u << 30;
    l.maxPushConstantsSize = 256;
    qsr_device_info info;
    memset(&info, 0, sizeof info);
    info.shader_int8 = info.shader_float16 = info.storage_16bit = 1;
    qsr__limits_report(&l, &info);
    CHECK_OK(qsr__limits_resolve(QSR_LIMITS_MOBILE, NULL, &f));
    qsr__limits_force(&f, &l, &info);
    CHECK(l.maxComputeWorkGroupInvocations == 128 && l.maxComputeWorkGroupSize[0] == 128 &&
              l.maxTexelBufferElements == 65536 && l.maxComputeSharedMemorySize == 16384 &&
              l.maxStorageBufferRange == 1u << 27 && l.maxPushConstantsSize == 128,
          "mobile limits");
    CHECK(info.max_workgroup_invocations == 128 && info.max_texel_buffer_elements == 65536 &&
              info.limits_forced && !info.shader_int8 && !info.shader_float16 &&
              !info.storage_16bit,
          "mobile report");
}

static void check_fit(void) {
    qsr_context *ctx = calloc(1, sizeof *ctx); /* only props.limits is read */
    VkPhysicalDeviceLimits *l = &ctx->props.limits;
    l->maxComputeWorkGroupInvocations = 128;
    l->maxComputeWorkGroupSize[0] = l->maxComputeWorkGroupSize[1] = 128;
    l->maxComputeSharedMemorySize = 16384;
    qsr__pipeline_desc tiled =
        qsr__conv3x3_q_desc(QSR__QKERNEL_TILED, QSR__EPILOGUE_RELU, 4, 1, QSR__CODES_SIGNED);
    qsr__pipeline_desc d = tiled;
    CHECK_OK(qsr__pipeline_fit(ctx, &d));
    CHECK(d.local_x == 16 && d.local_y == 8, "tiled kept at 16x8 (got %ux%u)", d.local_x,
          d.local_y);
    qsr__pipeline_desc pixel = qsr__conv3x3_f32_desc(QSR__EPILOGUE_STORE, 0, 0, 0);
    d = pixel;
    CHECK_OK(qsr__pipeline_fit(ctx, &d));
    CHECK(d.local_x == 8 && d.local_y == 8, "8x8 kept (got %ux%u)", d.local_x, d.local_y);
    /* Fewer invocations: halved, the longer side first. */
    l->maxComputeWorkGroupInvocations = 32;
    d = tiled;
    CHECK_OK(qsr__pipeline_fit(ctx, &d));
    CHECK(d.local_x == 8 && d.local_y == 4, "tiled at 32 invocations: %ux%u", d.local_x, d.local_y);
    /* A narrow size limit, and shared memory for only a small tile. */
    l->maxComputeWorkGroupInvocations = 128;
    l->maxComputeWorkGroupSize[0] = 4;
    d = pixel;
    CHECK_OK(qsr__pipeline_fit(ctx, &d));
    CHECK(d.local_x == 4 && d.local_y == 8, "8x8 at width 4: %ux%u", d.local_x, d.local_y);
    l->maxComputeWorkGroupSize[0] = 128;
    l->maxComputeSharedMemorySize = 512; /* 288 bytes of weights + 4 (x + 2)(y + 2) */
    d = tiled;
    CHECK_OK(qsr__pipeline_fit(ctx, &d));
    CHECK(288 + 4 * (d.local_x + 2) * (d.local_y + 2) <= 512, "tiled at 512 bytes: %ux%u",
          d.local_x, d.local_y);
    l->maxComputeSharedMemorySize = 256; /* not even the weights fit */
    d = tiled;
    CHECK_STATUS(qsr__pipeline_fit(ctx, &d), QSR_ERROR_UNSUPPORTED);
    /* The storage twins are the same kernels with no texel bindings, read or written. */
    d = tiled;
    CHECK(d.image_mask, "the quantized kernels write their codes through texel buffers");
    CHECK(qsr__pipeline_desc_storage(&d) && d.shader == QSR_SHADER_CONV3X3_Q_TILED_STORAGE &&
              !d.texel_mask && !d.texel4_mask && !d.image_mask &&
              qsr__shader_texel_base(d.shader) == QSR_SHADER_CONV3X3_Q_TILED,
          "tiled storage twin");
    d = qsr__quantize_rlq_desc(4, 1, 0);
    CHECK(qsr__pipeline_desc_storage(&d) && d.shader == QSR_SHADER_QUANTIZE_RLQ_STORAGE &&
              !d.texel_mask,
          "quantize_rlq storage twin");
    d = qsr__rgb_to_planar_desc();
    CHECK(qsr__pipeline_desc_storage(&d) && d.shader == QSR_SHADER_RGB_TO_PLANAR,
          "a storage-only kernel needs no twin");
    free(ctx);
}

/* Pixels per invocation: the PX whose workgroup rows cost least (a partial last row counts
 * whole; per pixel 8 costs 1.25x and 32 0.9x what 16 does), 32 only for the quantized kernels
 * and grids of at least one whole row. */
static void check_px(void) {
    static const struct {
        uint32_t width, lanes, max_px, want;
    } cases[] = {
        {256, 8, 32, 32},  /* one whole row at 32 */
        {256, 8, 16, 16},  /* conv3x3_f32, upsample_folded: never 32 */
        {300, 8, 32, 16},  /* 32: 512 columns of rows; 16: 384 */
        {160, 8, 32, 8},   /* 8: 192 columns; 16: 256; 32 not under one whole row */
        {64, 8, 32, 8},    /* one row at 8 */
        {512, 16, 32, 32}, /* 512-bit lavapipe: rows of 16 lanes */
        {256, 16, 32, 16}, /* 32 needs a 512-pixel row */
        {1, 8, 32, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t px = qsr__conv_px(cases[i].width, cases[i].lanes, cases[i].max_px);
        CHECK(px == cases[i].want, "width %u, %u lanes, max %u: PX %u, want %u", cases[i].width,
              cases[i].lanes, cases[i].max_px, px, cases[i].want);
    }
    /* fit_px gives the quantized kernels up to 32, conv3x3_f32 up to 16; the twin a plan warms
     * is the other of 8 and 16. */
    qsr_context *ctx = calloc(1, sizeof *ctx); /* 8 lanes: not a CPU device */
    qsr__pipeline_desc q =
        qsr__conv3x3_q_desc(QSR__QKERNEL_QUADS, QSR__EPILOGUE_RELU, 2, 0, QSR__CODES_UNSIGNED);
    qsr__pipeline_desc f = qsr__conv3x3_f32_desc(QSR__EPILOGUE_STORE, 0, 0, 0), twin;
    qsr__conv3x3_fit_px(ctx, &q, 256);
    qsr__conv3x3_fit_px(ctx, &f, 256);
    CHECK(q.spec[1] == 32 && f.spec[1] == 16, "fit at 256: quantized PX %d, fp32 PX %d", q.spec[1],
          f.spec[1]);
    CHECK(qsr__conv3x3_px_twin(&q, &twin) && twin.spec[1] == 16, "twin of PX 32: %d", twin.spec[1]);
    CHECK(qsr__conv3x3_px_twin(&twin, &q) && q.spec[1] == 8, "twin of PX 16: %d", q.spec[1]);
    free(ctx);
}

/* On a CPU device without the accelerated dot product the byte kernel takes equal 2- and
 * 3-bit widths (conv3x3_q2), the pair kernel the rest. */
static void check_kernel_choice(void) {
    if (getenv("QSR_KERNEL")) return; /* a forced kernel overrides the choice */
    static const struct {
        uint32_t bits_w, bits_a;
        qsr__qkernel want;
    } cases[] = {
        {2, 2, QSR__QKERNEL_QUADS}, {3, 3, QSR__QKERNEL_QUADS3}, {4, 4, QSR__QKERNEL_PAIRS},
        {2, 4, QSR__QKERNEL_PAIRS}, {3, 2, QSR__QKERNEL_PAIRS},
    };
    qsr_context *ctx = calloc(1, sizeof *ctx);
    ctx->info.type = QSR_DEVICE_TYPE_CPU;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qsr__qkernel k = QSR__QKERNEL_TILED;
        CHECK_OK(qsr__conv3x3_q_choose(ctx, cases[i].bits_w, cases[i].bits_a, &k));
        CHECK(k == cases[i].want, "W%u A%u: kernel %d, want %d", cases[i].bits_w, cases[i].bits_a,
              (int)k, (int)cases[i].want);
    }
    /* QUADS3 reads rows of padded codes like QUADS, with two weight texels per tap. */
    CHECK(qsr__conv3x3_q_pads_codes(QSR__QKERNEL_QUADS3), "QUADS3 reads planar codes");
    CHECK(qsr__conv3x3_q_weight_words(QSR__QKERNEL_QUADS3, 16, 24) ==
              2 * qsr__conv3x3_q_weight_words(QSR__QKERNEL_QUADS, 16, 24) - 16,
          "QUADS3 weights: %zu words", qsr__conv3x3_q_weight_words(QSR__QKERNEL_QUADS3, 16, 24));
    free(ctx);
}

int main(void) {
    check_capabilities();
    check_kernel_choice();
    check_bindings();
    check_parsing();
    check_fit();
    check_px();
    return qsr_test_finish("test_limits");
}
