#define _POSIX_C_SOURCE 200809L /* setenv, strdup */
/* test_gpu_mobile.c - the forced mobile-class limits (qsr_context_desc.force_limits,
 * QSR_FORCE_LIMITS): the context reports them, and the paths a mobile GPU takes are taken and
 * give the same bytes as the device's own limits:
 *   - activations beyond maxTexelBufferElements (65536) read through storage buffers;
 *   - weights beyond it too, whatever the image;
 *   - the 64 MiB activation budget tiles an image the desktop budget runs whole;
 *   - workgroups shrunk below 128 invocations and dispatches split beyond a tiny group-count
 *     limit (QSR_FORCE_LIMITS=mobile,invocations=16,groups=2).
 * Results are compared with the unforced context's byte for byte: the fetch path, the tiling
 * and the workgroup shape change no arithmetic. test_gpu_ops and test_gpu_network run again
 * under QSR_FORCE_LIMITS=mobile against the CPU reference (tests/CMakeLists.txt). */
#include "model_writer.h"
#include "plan.h"
#include "test_util.h"

#include <string.h>

static qsr_context *plain; /* the device's own limits */

static int same_image(const qsr_image *a, const qsr_image *b) {
    return a->width == b->width && a->height == b->height && a->channels == b->channels &&
           memcmp(a->pixels, b->pixels, (size_t)a->width * a->height * a->channels) == 0;
}

static qsr_context *mobile_context(const char *env) {
    /* The variable is read by qsr_context_create; set it for this context only. */
    const char *old = getenv("QSR_FORCE_LIMITS");
    char *saved = old ? strdup(old) : NULL;
    if (env)
        setenv("QSR_FORCE_LIMITS", env, 1);
    else
        unsetenv("QSR_FORCE_LIMITS");
    qsr_context_desc desc = {.force_limits = QSR_LIMITS_MOBILE};
    qsr_context *ctx = NULL;
    CHECK_OK(qsr_context_create(&desc, &ctx));
    if (saved)
        setenv("QSR_FORCE_LIMITS", saved, 1);
    else
        unsetenv("QSR_FORCE_LIMITS");
    free(saved);
    return ctx;
}

static void check_reported_limits(qsr_context *ctx) {
    qsr_device_info info;
    CHECK_OK(qsr_context_get_device_info(ctx, &info));
    printf("forced: %u invocations (%ux%ux%u), %u texels, %u bytes shared, budget cap %llu MiB\n",
           info.max_workgroup_invocations, info.max_workgroup_size[0], info.max_workgroup_size[1],
           info.max_workgroup_size[2], info.max_texel_buffer_elements, info.max_shared_memory_bytes,
           (unsigned long long)(info.memory_budget_cap >> 20));
    CHECK(info.limits_forced, "the forced limits are not reported");
    CHECK(info.max_workgroup_invocations <= 128 && info.max_workgroup_size[0] <= 128,
          "%u invocations", info.max_workgroup_invocations);
    CHECK(info.max_texel_buffer_elements <= 65536, "%u texels", info.max_texel_buffer_elements);
    CHECK(info.memory_budget_cap == 64ull << 20, "budget cap %llu",
          (unsigned long long)info.memory_budget_cap);
    CHECK(!info.shader_int8 && !info.shader_int16 && !info.shader_float16 && !info.storage_8bit &&
              !info.storage_16bit,
          "small types still reported");
    /* Every shared pipeline fits the forced limits. */
    CHECK(ctx->props.limits.maxComputeWorkGroupInvocations <= 128, "limits not applied");
    /* A bad QSR_FORCE_LIMITS is an error, not ignored. */
    setenv("QSR_FORCE_LIMITS", "mobile,texels=lots", 1);
    qsr_context *bad = NULL;
    CHECK_STATUS(qsr_context_create(NULL, &bad), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(bad == NULL, "a context was made");
    unsetenv("QSR_FORCE_LIMITS");
    qsr_context_desc unknown = {.force_limits = (qsr_limits_profile)5};
    CHECK_STATUS(qsr_context_create(&unknown, &bad), QSR_ERROR_INVALID_ARGUMENT);
}

/* Runs `model` on `in` under ctx and under the device's own limits; the bytes must agree (in the
 * reference FP math: the fast math folds the upsampler only where its kernels fit the texel
 * limit, and test_gpu_network_mobile checks it against the reference math there).
 * Returns the forced run's stats and whether it read through storage buffers. */
static void run_both(qsr_context *ctx, const qsr_model *model, const qsr_image *in,
                     qsr_run_stats *stats, int *storage) {
    qsr_upscaler *forced = NULL, *own = NULL;
    qsr_image a = {0}, b = {0};
    qsr_run_stats own_stats = {0};
    *storage = 0;
    memset(stats, 0, sizeof *stats);
    qsr_upscaler_desc exact = {.fp_math = QSR_FP_MATH_REFERENCE};
    CHECK_OK(qsr_upscaler_create(ctx, model, &exact, &forced));
    CHECK_OK(qsr_upscaler_create(plain, model, &exact, &own));
    if (forced && own) {
        CHECK_OK(qsr_upscaler_run(forced, in, 0, &a, stats));
        CHECK_OK(qsr_upscaler_run(own, in, 0, &b, &own_stats));
        *storage = qsr__upscaler_storage_fetch(forced);
        printf("  %ux%u: forced %u tile(s) of %u, %s fetches; own limits %u tile(s), %s\n",
               in->width, in->height, stats->tiles, stats->tile, *storage ? "storage" : "texel",
               own_stats.tiles, qsr__upscaler_storage_fetch(own) ? "storage" : "texel");
        CHECK(a.pixels && b.pixels && same_image(&a, &b), "the forced limits changed the output");
    }
    qsr_image_free(&a), qsr_image_free(&b);
    qsr_upscaler_destroy(forced), qsr_upscaler_destroy(own);
}

int main(void) {
    if (qsr_context_create(NULL, &plain) != QSR_OK) return qsr_test_no_device("test_gpu_mobile");
    if (qsr_test_kernel_unavailable(plain)) {
        qsr_context_destroy(plain);
        return 77;
    }
    qsr_context *mobile = mobile_context(NULL);
    if (!mobile) return qsr_test_finish("test_gpu_mobile");
    check_reported_limits(mobile);
    qsr_rng rng = {77};
    qsr_run_stats s;
    int storage;

    /* A realistic width on a 320x240 frame: 64-channel activations of 264x240 pixels exceed
     * 65536 texels, and the buffers of the whole frame (~70 MB) the 64 MiB budget: two body
     * tiles with storage-buffer fetches. */
    qsr_test_model_params wide = {.scale = 2, .channels = 64, .blocks = 2, .bits_w = 4, .seed = 21};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&wide, &model));
    qsr_image frame = qsr_test_random_image(&rng, 320, 240, 3);
    printf("x2 4-bit, 64 channels, 2 blocks\n");
    run_both(mobile, model, &frame, &s, &storage);
    CHECK(s.tiles > 1, "the 64 MiB budget did not tile (%u tile)", s.tiles);
    CHECK(storage, "64-channel activations beyond 65536 texels were read as texels");
    qsr_image_free(&frame);

    /* Small activations stay on texel fetches (the faster path on lavapipe)... */
    qsr_image thumb = qsr_test_random_image(&rng, 12, 10, 3);
    run_both(mobile, model, &thumb, &s, &storage);
    CHECK(!storage && s.tiles == 1, "a 12x10 image took storage fetches or tiles");
    /* ... but not on an upscaler whose buffers a larger image grew past the limit: the same
     * output either way. */
    qsr_upscaler *up = NULL;
    qsr_image big = qsr_test_random_image(&rng, 100, 90, 3), after = {0}, own = {0};
    qsr_upscaler_desc exact = {.fp_math = QSR_FP_MATH_REFERENCE};
    CHECK_OK(qsr_upscaler_create(mobile, model, &exact, &up));
    if (up) {
        qsr_image grown = {0};
        CHECK_OK(qsr_upscaler_run(up, &big, 0, &grown, NULL));
        CHECK(qsr__upscaler_storage_fetch(up), "100x90 at 64 channels read as texels");
        CHECK_OK(qsr_upscaler_run(up, &thumb, 0, &after, NULL));
        qsr_upscaler *ref = NULL;
        CHECK_OK(qsr_upscaler_create(plain, model, &exact, &ref));
        if (ref) CHECK_OK(qsr_upscaler_run(ref, &thumb, 0, &own, NULL));
        CHECK(after.pixels && own.pixels && same_image(&after, &own),
              "a small image after a large one differs");
        qsr_upscaler_destroy(ref);
        qsr_image_free(&grown);
    }
    qsr_upscaler_destroy(up);
    qsr_image_free(&big), qsr_image_free(&after), qsr_image_free(&own);
    qsr_model_destroy(model);

    /* Weights beyond 65536 words (16 blocks of 64 channels: 147456 words): storage fetches
     * even for a small image. */
    qsr_test_model_params deep = {
        .scale = 2, .channels = 64, .blocks = 16, .bits_w = 2, .bits_a = 2, .seed = 22};
    model = NULL;
    CHECK_OK(qsr_test_model_make(&deep, &model));
    printf("x2 2-bit, 64 channels, 16 blocks\n");
    run_both(mobile, model, &thumb, &s, &storage);
    CHECK(storage, "weights beyond 65536 texels were read as texels");
    qsr_model_destroy(model);
    uint32_t messages = qsr_context_validation_messages(mobile);
    qsr_context_destroy(mobile);

    /* Workgroups below the Vulkan minimum and a group-count limit of 2: every dispatch is
     * split into several vkCmdDispatchBase calls. */
    qsr_context *tiny = mobile_context("mobile,invocations=16,groups=2");
    if (tiny) {
        qsr_test_model_params small = {
            .scale = 4, .channels = 16, .blocks = 2, .bits_w = 4, .seed = 23};
        model = NULL;
        CHECK_OK(qsr_test_model_make(&small, &model));
        printf("x4 4-bit, 16 channels, 2 blocks; 16 invocations, 2 groups per dimension\n");
        qsr_image img = qsr_test_random_image(&rng, 45, 37, 3);
        run_both(tiny, model, &img, &s, &storage);
        qsr_image_free(&img);
        qsr_model_destroy(model);
        messages += qsr_context_validation_messages(tiny);
        qsr_context_destroy(tiny);
    }
    qsr_image_free(&thumb);
    messages += qsr_context_validation_messages(plain);
    CHECK(messages == 0, "%u validation message(s)", messages);
    qsr_context_destroy(plain);
    return qsr_test_finish("test_gpu_mobile");
}
