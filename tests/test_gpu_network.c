/* test_gpu_network.c - whole random-weight networks on the GPU against the CPU reference, at
 * every depth level and bit width, plus tiled == untiled and alpha handling.
 *
 * Tolerance: the shaders in the reference FP order compute the reference's formulas in its
 * order (skipped blocks' shortcuts folded into one factor in both), so on an IEEE device
 * (lavapipe) every such run must be byte-identical to the reference, at every depth. Elsewhere
 * a last bit may differ and flip an occasional quantization step; so at least 99.9% of output
 * bytes must be identical and none more than 2 levels apart. Tiling must not change a single
 * byte. The fast FP math (FMAs after the last quantizer, the default) stays within 1 level of
 * the reference math on the same device, with at least 99.9% of bytes identical. */
#include "model_writer.h"
#include "plan.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static qsr_context *ctx;
static uint32_t storage_runs; /* models whose runs read through storage buffers */

static void check_model(const qsr_test_model_params *mp, uint32_t w, uint32_t h,
                        uint32_t channels) {
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(mp, &model));
    if (!model) return;
    qsr_model_info info;
    qsr_model_get_info(model, &info);
    printf("model x%u w%u a%u C%u B%u, image %ux%ux%u\n", info.scale, info.bits_w, info.bits_a,
           info.channels, info.blocks, w, h, channels);

    qsr_rng rng = {mp->seed * 7 + 1};
    qsr_image in = qsr_test_random_image(&rng, w, h, channels);
    qsr_upscaler *whole = NULL, *tiled = NULL, *fast = NULL, *fast_tiled = NULL;
    qsr_upscaler_desc exact = {.fp_math = QSR_FP_MATH_REFERENCE};
    CHECK_OK(qsr_upscaler_create(ctx, model, &exact, &whole));
    qsr_upscaler_desc small = {.tile = 8, .fp_math = QSR_FP_MATH_REFERENCE};
    CHECK_OK(qsr_upscaler_create(ctx, model, &small, &tiled));
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &fast));
    qsr_upscaler_desc small_fast = {.tile = 8};
    CHECK_OK(qsr_upscaler_create(ctx, model, &small_fast, &fast_tiled));
    for (uint32_t l = 0; whole && tiled && fast && fast_tiled && l < info.depth_level_count; l++) {
        uint32_t depth = info.depth_levels[l];
        qsr_image ref = {0}, gpu = {0}, gpu_tiled = {0}, gpu_fast = {0};
        qsr_run_stats stats;
        CHECK_OK(qsr_reference_upscale(model, &in, depth, &ref));
        CHECK_OK(qsr_upscaler_run(whole, &in, depth, &gpu, &stats));
        CHECK_OK(qsr_upscaler_run(tiled, &in, depth, &gpu_tiled, NULL));
        CHECK_OK(qsr_upscaler_run(fast, &in, depth, &gpu_fast, NULL));
        qsr_test_diff d = qsr_test_compare(&ref, &gpu), f = qsr_test_compare(&gpu, &gpu_fast);
        int storage = qsr__upscaler_storage_fetch(whole);
        storage_runs += storage && l == 0;
        printf("  depth %2u: %zu/%zu identical, max diff %d, %d distinct values, %u tile(s)%s; "
               "fast math: %zu identical, max diff %d\n",
               depth, d.same, d.total, d.max_diff, qsr_test_distinct_values(&ref), stats.tiles,
               storage ? ", storage fetches" : "", f.same, f.max_diff);
        CHECK(f.total > 0 && f.same * 1000 >= f.total * 999 && f.max_diff <= 1,
              "depth %u: fast math %zu of %zu identical, max diff %d", depth, f.same, f.total,
              f.max_diff);
        CHECK(d.total > 0 && d.same * 1000 >= d.total * 999, "depth %u: only %zu of %zu identical",
              depth, d.same, d.total);
        CHECK(d.max_diff <= 2, "depth %u: max difference %d", depth, d.max_diff);
        CHECK(!qsr_test_device_is_ieee(ctx) || (d.total > 0 && d.same == d.total),
              "depth %u: %zu of %zu bytes differ from the reference on an IEEE device", depth,
              d.total - d.same, d.total);
        CHECK(qsr_test_distinct_values(&ref) >= 32, "reference output is degenerate");
        qsr_test_diff t = qsr_test_compare(&gpu, &gpu_tiled);
        CHECK(t.total > 0 && t.same == t.total,
              "depth %u: tiled result differs in %zu bytes (max %d)", depth, t.total - t.same,
              t.max_diff);
        /* The fast math's folded upsampler picks each pixel's kernel by its place in the image,
         * never in the tile: tiling changes no byte there either. */
        qsr_image gpu_fast_tiled = {0};
        CHECK_OK(qsr_upscaler_run(fast_tiled, &in, depth, &gpu_fast_tiled, NULL));
        t = qsr_test_compare(&gpu_fast, &gpu_fast_tiled);
        CHECK(t.total > 0 && t.same == t.total,
              "depth %u: fast math tiled differs in %zu bytes (max %d)", depth, t.total - t.same,
              t.max_diff);
        qsr_image_free(&ref), qsr_image_free(&gpu), qsr_image_free(&gpu_tiled);
        qsr_image_free(&gpu_fast), qsr_image_free(&gpu_fast_tiled);
    }
    qsr_upscaler_destroy(fast_tiled);
    qsr_upscaler_destroy(whole);
    qsr_upscaler_destroy(tiled);
    qsr_upscaler_destroy(fast);
    qsr_image_free(&in);
    qsr_model_destroy(model);
}

/* The fp32 execution of a quantized model runs the same network without quantizers: it must
 * differ from the quantized output but stay close to it. */
static void check_fp32_precision(void) {
    qsr_test_model_params mp = {.scale = 2, .channels = 8, .blocks = 2, .bits_w = 4, .seed = 11};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    qsr_rng rng = {5};
    qsr_image in = qsr_test_random_image(&rng, 20, 16, 3), q = {0}, f = {0};
    qsr_upscaler *uq = NULL, *uf = NULL;
    qsr_upscaler_desc fp = {.precision = QSR_PRECISION_FP32};
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &uq));
    CHECK_OK(qsr_upscaler_create(ctx, model, &fp, &uf));
    if (uq && uf) {
        CHECK_OK(qsr_upscaler_run(uq, &in, 0, &q, NULL));
        CHECK_OK(qsr_upscaler_run(uf, &in, 0, &f, NULL));
        qsr_test_diff d = qsr_test_compare(&q, &f);
        printf("fp32 vs quantized: %zu/%zu identical, max diff %d\n", d.same, d.total, d.max_diff);
        CHECK(d.same < d.total, "fp32 execution equals the quantized one");
    }
    /* Values outside the enums are refused, not taken for some default. */
    qsr_upscaler *bad = NULL;
    qsr_upscaler_desc bad_math = {.fp_math = (qsr_fp_math)7};
    CHECK(qsr_upscaler_create(ctx, model, &bad_math, &bad) == QSR_ERROR_INVALID_ARGUMENT && !bad,
          "fp_math 7 accepted");
    qsr_upscaler_desc bad_precision = {.precision = (qsr_precision)9};
    CHECK(qsr_upscaler_create(ctx, model, &bad_precision, &bad) == QSR_ERROR_INVALID_ARGUMENT &&
              !bad,
          "precision 9 accepted");
    qsr_upscaler_destroy(uq), qsr_upscaler_destroy(uf);
    qsr_image_free(&in), qsr_image_free(&q), qsr_image_free(&f);
    qsr_model_destroy(model);
}

/* Images 1 and 2 pixels wide or high: the folded upsampler's first and last columns (rows) are
 * one and the same pixel or neighbours, and 1-pixel images run the stages unfolded; the fast
 * math must stay within its tolerance of the reference math there too. */
static void check_narrow(void) {
    static const uint32_t sizes[][2] = {{1, 9}, {9, 1}, {2, 2}, {2, 7}, {6, 2}, {1, 1}};
    const qsr_test_model_params models[] = {
        {.scale = 4, .channels = 8, .blocks = 2, .bits_w = 4, .seed = 31},
        {.scale = 3, .channels = 6, .blocks = 2, .bits_w = 2, .seed = 32},
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        qsr_model *model = NULL;
        CHECK_OK(qsr_test_model_make(&models[i], &model));
        qsr_upscaler *exact = NULL, *fast = NULL;
        qsr_upscaler_desc reference = {.fp_math = QSR_FP_MATH_REFERENCE};
        CHECK_OK(qsr_upscaler_create(ctx, model, &reference, &exact));
        CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &fast));
        for (size_t k = 0; exact && fast && k < sizeof sizes / sizeof sizes[0]; k++) {
            qsr_rng rng = {40 + k};
            qsr_image in = qsr_test_random_image(&rng, sizes[k][0], sizes[k][1], 3), e = {0},
                      f = {0};
            CHECK_OK(qsr_upscaler_run(exact, &in, 0, &e, NULL));
            CHECK_OK(qsr_upscaler_run(fast, &in, 0, &f, NULL));
            qsr_test_diff d = qsr_test_compare(&e, &f);
            printf("narrow x%u %ux%u: fast math %zu/%zu identical, max diff %d\n", models[i].scale,
                   sizes[k][0], sizes[k][1], d.same, d.total, d.max_diff);
            CHECK(d.total > 0 && d.total - d.same <= 1 + d.total / 100 && d.max_diff <= 1,
                  "narrow %ux%u: fast math %zu of %zu identical, max diff %d", sizes[k][0],
                  sizes[k][1], d.same, d.total, d.max_diff);
            qsr_image_free(&in), qsr_image_free(&e), qsr_image_free(&f);
        }
        qsr_upscaler_destroy(exact), qsr_upscaler_destroy(fast);
        qsr_model_destroy(model);
    }
}

/* Images over QSR__FOLD_STRIP_PIXELS LR pixels run the folded upsampler in several strips
 * (300x230: rows 0-217 and 218-229): each strip must take its rows' kernels by their place in
 * the image, so the fast math stays within its tolerance of the reference across the seam. */
static void check_strips(void) {
    const qsr_test_model_params mp = {
        .scale = 4, .channels = 8, .blocks = 1, .bits_w = 4, .seed = 34};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    qsr_upscaler *exact = NULL, *fast = NULL;
    qsr_upscaler_desc reference = {.fp_math = QSR_FP_MATH_REFERENCE};
    CHECK_OK(qsr_upscaler_create(ctx, model, &reference, &exact));
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &fast));
    if (exact && fast) {
        qsr_rng rng = {50};
        qsr_image in = qsr_test_random_image(&rng, 300, 230, 3), e = {0}, f = {0};
        CHECK_OK(qsr_upscaler_run(exact, &in, 0, &e, NULL));
        CHECK_OK(qsr_upscaler_run(fast, &in, 0, &f, NULL));
        qsr_test_diff d = qsr_test_compare(&e, &f);
        printf("strips x4 300x230: fast math %zu/%zu identical, max diff %d\n", d.same, d.total,
               d.max_diff);
        CHECK(d.total > 0 && d.total - d.same <= d.total / 1000 && d.max_diff <= 1,
              "strips: fast math %zu of %zu identical, max diff %d", d.same, d.total, d.max_diff);
        qsr_image_free(&in), qsr_image_free(&e), qsr_image_free(&f);
    }
    qsr_upscaler_destroy(exact), qsr_upscaler_destroy(fast);
    qsr_model_destroy(model);
}

int main(void) {
    if (qsr_context_create(NULL, &ctx) != QSR_OK) return qsr_test_no_device("test_gpu_network");
    if (qsr_test_kernel_unavailable(ctx)) {
        qsr_context_destroy(ctx);
        return 77;
    }
    const qsr_test_model_params models[] = {
        {.scale = 2, .channels = 12, .blocks = 4, .bits_w = 4, .bits_a = 4, .seed = 1},
        {.scale = 4, .channels = 16, .blocks = 3, .bits_w = 2, .bits_a = 2, .seed = 2},
        {.scale = 3, .channels = 10, .blocks = 4, .bits_w = 3, .bits_a = 3, .seed = 3},
        {.scale = 4,
         .channels = 9,
         .blocks = 2,
         .bits_w = 2,
         .bits_a = 4,
         .seed = 4,
         .per_channel_weight_step = 1},
        {.scale = 2, .channels = 8, .blocks = 3, .bits_w = 32, .bits_a = 32, .seed = 5},
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        check_model(&models[i], 29 + (uint32_t)i, 23, i == 1 ? 4 : 3);
    /* A realistic layer width: 64 channels, larger than a workgroup in every direction. */
    qsr_test_model_params wide = {.scale = 2, .channels = 64, .blocks = 2, .bits_w = 4, .seed = 9};
    check_model(&wide, 40, 36, 3);
    /* The same width at 2 bits: conv3x3_q2 with fused codes (or conv3x3_q under
     * QSR_KERNEL=portable). */
    qsr_test_model_params wide2 = {
        .scale = 2, .channels = 64, .blocks = 2, .bits_w = 2, .bits_a = 2, .seed = 13};
    check_model(&wide2, 37, 30, 3);
    /* Wider than an HR tile (62 LR pixels): one body tile, several HR tiles, a partial one at
     * the border. */
    qsr_test_model_params small = {.scale = 4, .channels = 8, .blocks = 2, .bits_w = 4, .seed = 12};
    check_model(&small, 150, 70, 3);
    /* At most two HR tiles wide (62 LR pixels at 8 lanes): HR strips as wide as the image, 38
     * rows high, the last one partial. */
    check_model(&small, 100, 90, 3);
    /* A body grid of whole 512-pixel rows: the body convolutions at 32 pixels per invocation
     * (qsr__conv_px, at 8 or 16 lanes), both kernels. */
    qsr_test_model_params long4 = {
        .scale = 2, .channels = 16, .blocks = 2, .bits_w = 4, .seed = 14};
    check_model(&long4, 512, 5, 3);
    qsr_test_model_params long2 = {
        .scale = 2, .channels = 16, .blocks = 2, .bits_w = 2, .bits_a = 2, .seed = 15};
    check_model(&long2, 512, 5, 3);
    /* 3 bits at both widths: conv3x3_q2's 3-bit form on CPU devices (64 channels; whole
     * 512-pixel rows at 32 pixels per invocation). */
    qsr_test_model_params wide3 = {
        .scale = 2, .channels = 64, .blocks = 2, .bits_w = 3, .bits_a = 3, .seed = 16};
    check_model(&wide3, 37, 30, 3);
    qsr_test_model_params long3 = {
        .scale = 2, .channels = 16, .blocks = 2, .bits_w = 3, .bits_a = 3, .seed = 17};
    check_model(&long3, 512, 5, 3);
    check_fp32_precision();
    check_narrow();
    check_strips();
    /* Under a mobile texel limit (QSR_FORCE_LIMITS=mobile) the 64-channel models' activations
     * exceed it: their runs must have taken the storage-buffer kernels. */
    qsr_device_info info;
    qsr_context_get_device_info(ctx, &info);
    if (info.max_texel_buffer_elements <= 65536)
        CHECK(storage_runs >= 2, "only %u model(s) ran with storage fetches", storage_runs);
    uint32_t messages = qsr_context_validation_messages(ctx);
    CHECK(messages == 0, "%u validation message(s)", messages);
    qsr_context_destroy(ctx);
    return qsr_test_finish("test_gpu_network");
}
