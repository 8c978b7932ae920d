/* test_soak.c - 1,000 small images through one upscaler in one process, as a long batch does:
 * host memory must stay flat. The resident set (RSS, /proc/self/statm) after the last image
 * must be within RSS_MARGIN_KB of the RSS after image BASELINE_IMAGE, by which time every
 * pool, cache and pipeline has reached its working size. On lavapipe "device" memory is host
 * memory, so a leaked VkDeviceMemory shows up here too. The first image is upscaled again at
 * the end and must come out byte-identical, so state does not drift either. */
#define _POSIX_C_SOURCE 200809L

#include "model_writer.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define SOAK_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_UNDER_ASAN 1
#endif
#endif

#define SOAK_IMAGES 1000u
#define IMAGE_EDGE  16u
#if !defined(SOAK_UNDER_ASAN)
/* Growth allowed between image 100 and image 1000. Leaking each 32x32 output (3 KiB) grew the
 * RSS by 916 KiB over those 900 images in a trial; a leaked staging buffer or VkDeviceMemory
 * is far more. The margin leaves room for allocator noise (page-granular heap trims) without
 * hiding those. */
#define BASELINE_IMAGE 100u
#define RSS_MARGIN_KB  512u
#else
/* Under ASan (-DQSR_SANITIZE=ON) the allocator keeps growing its per-size-class regions up to
 * about image 300 while the memory in use stays flat, so the RSS baseline is image 500 with a
 * wider margin; the heap in use, which ASan counts exactly, is checked from image 100 with a
 * tight one. The quarantine of freed memory (up to 256 MiB) would look like growth: off. */
#define BASELINE_IMAGE 500u
#define RSS_MARGIN_KB  8192u
#define HEAP_BASELINE  100u
#define HEAP_MARGIN_KB 64u
size_t __sanitizer_get_current_allocated_bytes(void);
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "quarantine_size_mb=0";
}
#endif

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* Resident set size in KiB, or 0 if /proc is unavailable. */
static uint64_t resident_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (!f) return 0;
    int fields = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    if (fields != 2) return 0;
    return resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024u;
}

static qsr_model *tiny_model(void) {
    qsr_test_model_params p = {.scale = 2, .channels = 4, .blocks = 2, .bits_w = 4, .seed = 17};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&p, &model));
    return model;
}

typedef struct soak_result {
    uint64_t rss_first_kb, rss_baseline_kb, rss_last_kb;
    uint64_t heap_baseline_kb, heap_last_kb; /* ASan builds only */
    /* The context's Vulkan memory after image 0 and at the end: every image has the same
     * size, so the buffers must be exactly those of the first run (no growth, no churn). */
    qsr_memory_stats vk_first, vk_last;
    double ms;
    qsr_image first_output; /* of image 0, to compare with a rerun at the end */
} soak_result;

/* Upscales SOAK_IMAGES different random images; stops at the first failure. */
static void soak(qsr_context *ctx, qsr_upscaler *up, soak_result *r) {
    qsr_rng rng = {2024};
    double start = now_ms();
    for (uint32_t i = 0; i < SOAK_IMAGES; i++) {
        qsr_image in = qsr_test_random_image(&rng, IMAGE_EDGE, IMAGE_EDGE, 3), out;
        qsr_status st = qsr_upscaler_run(up, &in, 0, &out, NULL);
        qsr_image_free(&in);
        CHECK(st == QSR_OK, "image %u: %s: %s", i, qsr_status_name(st), qsr_last_error());
        if (st != QSR_OK) return;
        CHECK(out.width == 2 * IMAGE_EDGE && out.height == 2 * IMAGE_EDGE, "image %u: output %ux%u",
              i, out.width, out.height);
        if (i == 0)
            r->first_output = out;
        else
            qsr_image_free(&out);
        if (i == 0) r->rss_first_kb = resident_kb();
        if (i == 0) qsr_context_get_memory_stats(ctx, &r->vk_first);
        if (i + 1 == BASELINE_IMAGE) r->rss_baseline_kb = resident_kb();
#if defined(SOAK_UNDER_ASAN)
        if (i + 1 == HEAP_BASELINE)
            r->heap_baseline_kb = __sanitizer_get_current_allocated_bytes() / 1024;
#endif
        if ((i + 1) % 250 == 0)
            printf("  after %4u images: RSS %llu KiB\n", i + 1, (unsigned long long)resident_kb());
    }
    r->rss_last_kb = resident_kb();
    qsr_context_get_memory_stats(ctx, &r->vk_last);
#if defined(SOAK_UNDER_ASAN)
    r->heap_last_kb = __sanitizer_get_current_allocated_bytes() / 1024;
#endif
    r->ms = now_ms() - start;
}

/* Image 0 again: the same bytes as the first time. */
static void check_rerun(qsr_upscaler *up, const qsr_image *first) {
    qsr_rng rng = {2024};
    qsr_image in = qsr_test_random_image(&rng, IMAGE_EDGE, IMAGE_EDGE, 3), out;
    CHECK_OK(qsr_upscaler_run(up, &in, 0, &out, NULL));
    size_t bytes = (size_t)first->width * first->height * first->channels;
    if (out.pixels && first->pixels)
        CHECK(out.width == first->width && out.height == first->height &&
                  memcmp(out.pixels, first->pixels, bytes) == 0,
              "image 0 upscaled after %u others differs from its first upscale", SOAK_IMAGES);
    qsr_image_free(&out);
    qsr_image_free(&in);
}

int main(void) {
    if (resident_kb() == 0) {
        fprintf(stderr, "skip: /proc/self/statm is not readable\n");
        return 77;
    }
    qsr_model *model = tiny_model();
    qsr_context *ctx = NULL;
    qsr_upscaler *up = NULL;
    if (qsr_context_create(NULL, &ctx) != QSR_OK) {
        qsr_model_destroy(model);
        return qsr_test_no_device("test_soak");
    }
    if (model) CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    soak_result r;
    memset(&r, 0, sizeof r);
    if (up) {
        soak(ctx, up, &r);
        check_rerun(up, &r.first_output);
    }
    printf("%u images of %ux%u: RSS %llu KiB after the first, %llu after %u, %llu after %u "
           "(%+lld KiB), %.1f s\n",
           SOAK_IMAGES, IMAGE_EDGE, IMAGE_EDGE, (unsigned long long)r.rss_first_kb,
           (unsigned long long)r.rss_baseline_kb, BASELINE_IMAGE, (unsigned long long)r.rss_last_kb,
           SOAK_IMAGES, (long long)r.rss_last_kb - (long long)r.rss_baseline_kb, r.ms / 1000.0);
    CHECK(r.rss_last_kb <= r.rss_baseline_kb + RSS_MARGIN_KB,
          "RSS grew from %llu KiB after image %u to %llu KiB after image %u (margin %u KiB)",
          (unsigned long long)r.rss_baseline_kb, BASELINE_IMAGE, (unsigned long long)r.rss_last_kb,
          SOAK_IMAGES, RSS_MARGIN_KB);
    printf("Vulkan memory: %llu device + %llu host bytes in %u allocations after image 0, "
           "%llu + %llu in %u after %u (peak device %llu)\n",
           (unsigned long long)r.vk_first.device_bytes, (unsigned long long)r.vk_first.host_bytes,
           r.vk_first.allocations, (unsigned long long)r.vk_last.device_bytes,
           (unsigned long long)r.vk_last.host_bytes, r.vk_last.allocations, SOAK_IMAGES,
           (unsigned long long)r.vk_last.peak_device_bytes);
    CHECK(r.vk_first.device_bytes > 0 && r.vk_first.allocations > 0, "memory stats are counted");
    CHECK(r.vk_last.device_bytes == r.vk_first.device_bytes &&
              r.vk_last.host_bytes == r.vk_first.host_bytes &&
              r.vk_last.allocations == r.vk_first.allocations &&
              r.vk_last.peak_device_bytes == r.vk_first.device_bytes,
          "Vulkan memory changed during the soak");
#if defined(SOAK_UNDER_ASAN)
    printf("heap in use: %llu KiB after image %u, %llu after %u\n",
           (unsigned long long)r.heap_baseline_kb, HEAP_BASELINE,
           (unsigned long long)r.heap_last_kb, SOAK_IMAGES);
    CHECK(r.heap_last_kb <= r.heap_baseline_kb + HEAP_MARGIN_KB,
          "heap in use grew from %llu KiB after image %u to %llu KiB (margin %u KiB)",
          (unsigned long long)r.heap_baseline_kb, HEAP_BASELINE, (unsigned long long)r.heap_last_kb,
          HEAP_MARGIN_KB);
#endif
    CHECK(qsr_context_validation_messages(ctx) == 0, "%u validation message(s)",
          qsr_context_validation_messages(ctx));
    qsr_image_free(&r.first_output);
    qsr_upscaler_destroy(up);
    qsr_context_destroy(ctx);
    qsr_model_destroy(model);
    return qsr_test_finish("test_soak");
}
