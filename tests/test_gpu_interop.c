/* test_gpu_interop.c - the parts of the API an application that shares the device uses:
 * partial runs (qsr_upscaler_run_region), output left in a device buffer
 * (qsr_upscaler_run_to_buffer), the context's Vulkan handles, the queue lock, extra
 * extensions, and the validation layer's object tracker at qsr_context_destroy (no Vulkan
 * object of the runtime may outlive it; a deliberately leaked buffer must be reported, which
 * proves the check can fail).
 *
 * Partial runs must be byte-identical to the same pixels of a full run and must not touch any
 * other pixel. */
#include "model_writer.h"
#include "test_util.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <vulkan/vulkan.h>

#define SENTINEL_BYTE 0xA5u
#define SENTINEL_WORD 0xDEADBEEFu

/* Counts what the validation layer sends, including while the context is destroyed. */
typedef struct message_log {
    uint32_t count;
    int mentions_buffer; /* a message named a VkBuffer */
} message_log;

static void on_message(void *user, int is_error, const char *message) {
    message_log *log = (message_log *)user;
    (void)is_error;
    log->count++;
    if (strstr(message, "VkBuffer")) log->mentions_buffer = 1;
}

/* The queue lock must bracket every queue call: count pairs, catch nesting. */
typedef struct queue_lock_log {
    int held;
    uint32_t locks, errors;
} queue_lock_log;

static void on_queue_lock(void *user, int locked) {
    queue_lock_log *q = (queue_lock_log *)user;
    if (locked) {
        q->errors += q->held != 0;
        q->held = 1;
        q->locks++;
    } else {
        q->errors += q->held != 1;
        q->held = 0;
    }
}

static qsr_model *make_model(uint32_t scale, uint32_t blocks, uint64_t seed) {
    qsr_test_model_params mp = {.scale = scale, .channels = 8, .blocks = blocks, .seed = seed};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    return model;
}

/* Pixels inside region * scale equal `full`; every other pixel still holds the sentinel. */
static void check_region_pixels(const qsr_image *full, const qsr_image *out, const qsr_rect *r,
                                uint32_t scale) {
    size_t wrong_inside = 0, touched_outside = 0;
    for (uint32_t y = 0; y < out->height; y++)
        for (uint32_t x = 0; x < out->width; x++) {
            int inside = x >= r->x * scale && x < (r->x + r->width) * scale && y >= r->y * scale &&
                         y < (r->y + r->height) * scale;
            for (uint32_t c = 0; c < 3; c++) {
                size_t i = ((size_t)y * out->width + x) * out->channels + c;
                if (inside)
                    wrong_inside += out->pixels[i] != full->pixels[i];
                else
                    touched_outside += out->pixels[i] != SENTINEL_BYTE;
            }
        }
    CHECK(wrong_inside == 0, "region %ux%u at (%u,%u): %zu bytes differ from the full run",
          r->width, r->height, r->x, r->y, wrong_inside);
    CHECK(touched_outside == 0, "region %ux%u at (%u,%u): %zu bytes outside it were written",
          r->width, r->height, r->x, r->y, touched_outside);
}

static const qsr_rect test_regions[] = {
    {0, 0, 1, 1},    /* a single pixel at the corner */
    {5, 3, 17, 11},  /* odd sizes in the middle, several 8-pixel tiles */
    {30, 20, 7, 12}, /* touching the right and bottom borders of a 37x32 image */
    {0, 0, 37, 32},  /* everything */
};

static void test_region_runs(qsr_context *ctx) {
    qsr_model *model = make_model(4, 3, 11);
    qsr_upscaler *up = NULL;
    qsr_upscaler_desc tiny_tiles = {.tile = 8};
    /* The byte-identity checked below is what the capability promises. */
    CHECK(qsr_model_capabilities(model) & QSR_MODEL_CAP_REGION_EXACT, "no exact regions");
    CHECK_OK(qsr_upscaler_create(ctx, model, &tiny_tiles, &up));
    qsr_rng rng = {99};
    qsr_image in = qsr_test_random_image(&rng, 37, 32, 3);
    for (uint32_t depth = 0; depth <= 1; depth++) {
        qsr_image full = {0};
        CHECK_OK(qsr_upscaler_run(up, &in, depth, &full, NULL));
        for (size_t k = 0; k < sizeof test_regions / sizeof test_regions[0]; k++) {
            qsr_image out;
            CHECK_OK(qsr_image_create(full.width, full.height, 3, &out));
            memset(out.pixels, SENTINEL_BYTE, (size_t)out.width * out.height * 3);
            qsr_run_stats stats = {0};
            CHECK_OK(qsr_upscaler_run_region(up, &in, depth, &test_regions[k], &out, &stats));
            check_region_pixels(&full, &out, &test_regions[k], 4);
            /* Only the region's tiles ran: at most its own area plus halos, never the image. */
            uint32_t tiles_needed =
                ((test_regions[k].width + 7) / 8) * ((test_regions[k].height + 7) / 8);
            CHECK(stats.tiles == tiles_needed, "region %zu ran %u tiles, expected %u", k,
                  stats.tiles, tiles_needed);
            qsr_image_free(&out);
        }
        qsr_image_free(&full);
    }

    /* Bad regions and outputs are refused with a message, not run. */
    qsr_image out;
    CHECK_OK(qsr_image_create(37 * 4, 32 * 4, 3, &out));
    qsr_rect outside = {30, 0, 8, 4}, empty = {0, 0, 0, 5}, far = {37, 0, 1, 1};
    CHECK_STATUS(qsr_upscaler_run_region(up, &in, 0, &outside, &out, NULL),
                 QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_upscaler_run_region(up, &in, 0, &empty, &out, NULL),
                 QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_upscaler_run_region(up, &in, 0, &far, &out, NULL), QSR_ERROR_INVALID_ARGUMENT);
    qsr_image small;
    CHECK_OK(qsr_image_create(37, 32, 3, &small));
    CHECK_STATUS(qsr_upscaler_run_region(up, &in, 0, NULL, &small, NULL),
                 QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "148x128") != NULL, "message names the size: %s",
          qsr_last_error());
    qsr_image_free(&small);
    qsr_image_free(&out);
    qsr_image_free(&in);
    qsr_upscaler_destroy(up);
    qsr_model_destroy(model);
}

/* The Vulkan functions this test calls itself, loaded through the context's loader. */
typedef struct vk_fns {
    PFN_vkGetDeviceProcAddr get_device_proc_addr;
    PFN_vkCreateBuffer create_buffer;
    PFN_vkDestroyBuffer destroy_buffer;
    PFN_vkGetBufferMemoryRequirements requirements;
    PFN_vkAllocateMemory allocate;
    PFN_vkFreeMemory free_memory;
    PFN_vkBindBufferMemory bind;
    PFN_vkMapMemory map;
    PFN_vkGetPhysicalDeviceMemoryProperties memory_properties;
} vk_fns;

static int load_fns(const qsr_vulkan_handles *h, vk_fns *f) {
    PFN_vkGetInstanceProcAddr gipa = (PFN_vkGetInstanceProcAddr)h->get_instance_proc_addr;
    VkInstance instance = (VkInstance)h->instance;
    f->get_device_proc_addr = (PFN_vkGetDeviceProcAddr)gipa(instance, "vkGetDeviceProcAddr");
    f->memory_properties = (PFN_vkGetPhysicalDeviceMemoryProperties)gipa(
        instance, "vkGetPhysicalDeviceMemoryProperties");
    if (!f->get_device_proc_addr || !f->memory_properties) return 0;
    VkDevice d = (VkDevice)h->device;
    f->create_buffer = (PFN_vkCreateBuffer)f->get_device_proc_addr(d, "vkCreateBuffer");
    f->destroy_buffer = (PFN_vkDestroyBuffer)f->get_device_proc_addr(d, "vkDestroyBuffer");
    f->requirements = (PFN_vkGetBufferMemoryRequirements)f->get_device_proc_addr(
        d, "vkGetBufferMemoryRequirements");
    f->allocate = (PFN_vkAllocateMemory)f->get_device_proc_addr(d, "vkAllocateMemory");
    f->free_memory = (PFN_vkFreeMemory)f->get_device_proc_addr(d, "vkFreeMemory");
    f->bind = (PFN_vkBindBufferMemory)f->get_device_proc_addr(d, "vkBindBufferMemory");
    f->map = (PFN_vkMapMemory)f->get_device_proc_addr(d, "vkMapMemory");
    return f->create_buffer && f->destroy_buffer && f->requirements && f->allocate &&
           f->free_memory && f->bind && f->map;
}

/* An application-owned, host-visible buffer on the context's device. */
typedef struct app_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint32_t *words;
} app_buffer;

static int create_app_buffer(const qsr_vulkan_handles *h, const vk_fns *f, VkDeviceSize size,
                             app_buffer *out) {
    VkDevice d = (VkDevice)h->device;
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = size,
                             .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    if (f->create_buffer(d, &bi, NULL, &out->buffer) != VK_SUCCESS) return 0;
    VkMemoryRequirements req;
    f->requirements(d, out->buffer, &req);
    VkPhysicalDeviceMemoryProperties mp;
    f->memory_properties((VkPhysicalDevice)h->physical_device, &mp);
    VkMemoryPropertyFlags want =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
        if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
            type = i;
    if (type == UINT32_MAX) return 0;
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = type};
    if (f->allocate(d, &ai, NULL, &out->memory) != VK_SUCCESS) return 0;
    void *p = NULL;
    if (f->bind(d, out->buffer, out->memory, 0) != VK_SUCCESS ||
        f->map(d, out->memory, 0, VK_WHOLE_SIZE, 0, &p) != VK_SUCCESS)
        return 0;
    out->words = (uint32_t *)p;
    return 1;
}

static void destroy_app_buffer(const qsr_vulkan_handles *h, const vk_fns *f, app_buffer *b) {
    VkDevice d = (VkDevice)h->device;
    f->destroy_buffer(d, b->buffer, NULL);
    f->free_memory(d, b->memory, NULL);
}

/* Words inside region * scale are the full run's RGB with alpha 255; the rest untouched. */
static void check_region_words(const qsr_image *full, const uint32_t *words, const qsr_rect *r,
                               uint32_t scale) {
    size_t wrong_inside = 0, touched_outside = 0;
    for (uint32_t y = 0; y < full->height; y++)
        for (uint32_t x = 0; x < full->width; x++) {
            int inside = x >= r->x * scale && x < (r->x + r->width) * scale && y >= r->y * scale &&
                         y < (r->y + r->height) * scale;
            const uint8_t *p = full->pixels + ((size_t)y * full->width + x) * 3;
            uint32_t want = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | 0xFF000000u;
            uint32_t got = words[(size_t)y * full->width + x];
            if (inside)
                wrong_inside += got != want;
            else
                touched_outside += got != SENTINEL_WORD;
        }
    CHECK(wrong_inside == 0, "buffer region %ux%u at (%u,%u): %zu words differ", r->width,
          r->height, r->x, r->y, wrong_inside);
    CHECK(touched_outside == 0, "buffer region %ux%u at (%u,%u): %zu words outside written",
          r->width, r->height, r->x, r->y, touched_outside);
}

static void test_run_to_buffer(qsr_context *ctx) {
    qsr_vulkan_handles h;
    CHECK_OK(qsr_context_get_vulkan(ctx, &h));
    CHECK(h.instance && h.physical_device && h.device && h.queue && h.get_instance_proc_addr,
          "every handle is set");
    vk_fns f;
    if (!load_fns(&h, &f)) {
        CHECK(0, "cannot load Vulkan functions through get_instance_proc_addr");
        return;
    }
    qsr_model *model = make_model(2, 2, 5);
    qsr_upscaler *up = NULL;
    qsr_upscaler_desc tiny_tiles = {.tile = 8};
    CHECK_OK(qsr_upscaler_create(ctx, model, &tiny_tiles, &up));
    qsr_rng rng = {7};
    qsr_image in = qsr_test_random_image(&rng, 37, 32, 3);
    qsr_image full = {0};
    CHECK_OK(qsr_upscaler_run(up, &in, 0, &full, NULL));

    const VkDeviceSize offset = 64; /* the output need not start the buffer */
    VkDeviceSize bytes = (VkDeviceSize)full.width * full.height * 4;
    app_buffer b = {0};
    if (!create_app_buffer(&h, &f, offset + bytes, &b)) {
        CHECK(0, "cannot create the application's buffer");
        return;
    }
    qsr_gpu_buffer dst = {.buffer = (void *)b.buffer, .offset = offset, .size = bytes};
    for (size_t k = 0; k < sizeof test_regions / sizeof test_regions[0]; k++) {
        for (VkDeviceSize i = 0; i < (offset + bytes) / 4; i++)
            b.words[i] = SENTINEL_WORD;
        CHECK_OK(qsr_upscaler_run_to_buffer(up, &in, 0, &test_regions[k], &dst, NULL));
        check_region_words(&full, b.words + offset / 4, &test_regions[k], 2);
        size_t before = 0;
        for (VkDeviceSize i = 0; i < offset / 4; i++)
            before += b.words[i] != SENTINEL_WORD;
        CHECK(before == 0, "%zu words before the offset were written", before);
    }
    /* Too small, misaligned: refused before any work. */
    qsr_gpu_buffer small = dst, odd = dst;
    small.size = bytes - 4;
    odd.offset = 2;
    CHECK_STATUS(qsr_upscaler_run_to_buffer(up, &in, 0, NULL, &small, NULL),
                 QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_upscaler_run_to_buffer(up, &in, 0, NULL, &odd, NULL),
                 QSR_ERROR_INVALID_ARGUMENT);
    destroy_app_buffer(&h, &f, &b);
    qsr_image_free(&full);
    qsr_image_free(&in);
    qsr_upscaler_destroy(up);
    qsr_model_destroy(model);
}

static void test_queue_lock(void) {
    queue_lock_log q = {0};
    qsr_context_desc d = {.queue_lock = on_queue_lock, .queue_lock_user = &q};
    qsr_context *ctx = NULL;
    CHECK_OK(qsr_context_create(&d, &ctx));
    if (!ctx) return;
    qsr_model *model = make_model(2, 2, 3);
    qsr_upscaler *up = NULL;
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    qsr_rng rng = {3};
    qsr_image in = qsr_test_random_image(&rng, 20, 12, 3), out = {0};
    uint32_t before = q.locks;
    qsr_run_stats stats = {0};
    CHECK_OK(qsr_upscaler_run(up, &in, 0, &out, &stats));
    CHECK(q.locks - before >= stats.submissions && stats.submissions > 0,
          "%u lock(s) for %u submission(s)", q.locks - before, stats.submissions);
    qsr_upscaler_destroy(up);
    qsr_context_destroy(ctx);
    CHECK(q.errors == 0 && q.held == 0, "lock/unlock unbalanced (%u errors)", q.errors);
    qsr_image_free(&in);
    qsr_image_free(&out);
    qsr_model_destroy(model);
}

static void test_extensions(void) {
    const char *bogus[1] = {"VK_QSR_no_such_extension"};
    qsr_context *ctx = NULL;
    qsr_context_desc auto_pick = {.device_extensions = bogus, .device_extension_count = 1};
    CHECK(qsr_context_create(&auto_pick, &ctx) == QSR_ERROR_NO_DEVICE && !ctx,
          "no device has the extension: %s", qsr_last_error());
    qsr_context_desc first = auto_pick;
    first.device = 1;
    CHECK_STATUS(qsr_context_create(&first, &ctx), QSR_ERROR_UNSUPPORTED);
    CHECK(strstr(qsr_last_error(), bogus[0]) != NULL, "message names it: %s", qsr_last_error());
    qsr_context_desc instance_ext = {.instance_extensions = bogus, .instance_extension_count = 1};
    CHECK_STATUS(qsr_context_create(&instance_ext, &ctx), QSR_ERROR_UNSUPPORTED);
    qsr_context_desc null_list = {.device_extension_count = 2};
    CHECK_STATUS(qsr_context_create(&null_list, &ctx), QSR_ERROR_INVALID_ARGUMENT);
}

/* The deliberately leaked buffer's host memory comes from this arena through Vulkan's
 * allocation callbacks, so that leaking it on purpose leaks nothing LeakSanitizer would see
 * in the sanitizer build. */
typedef struct leak_arena {
    _Alignas(64) unsigned char bytes[1 << 16];
    size_t used;
} leak_arena;

static void *arena_alloc(void *user, size_t size, size_t align, VkSystemAllocationScope scope) {
    leak_arena *a = (leak_arena *)user;
    (void)scope;
    if (align < 16) align = 16;
    size_t start = (a->used + sizeof(size_t) + align - 1) / align * align;
    if (start + size > sizeof a->bytes) return NULL;
    memcpy(a->bytes + start - sizeof(size_t), &size, sizeof size); /* for realloc */
    a->used = start + size;
    return a->bytes + start;
}

static void *arena_realloc(void *user, void *old, size_t size, size_t align,
                           VkSystemAllocationScope scope) {
    void *p = arena_alloc(user, size, align, scope);
    if (p && old) {
        size_t old_size;
        memcpy(&old_size, (unsigned char *)old - sizeof(size_t), sizeof old_size);
        memcpy(p, old, old_size < size ? old_size : size);
    }
    return p;
}

static void arena_free(void *user, void *p) {
    (void)user;
    (void)p; /* the arena is static: nothing to give back */
}

static leak_arena arena;

/* The object tracker reports, at vkDestroyDevice, every object still alive: nothing for a
 * context whose upscalers were destroyed, and the one buffer an application leaked. */
static void test_object_tracker(void) {
    message_log clean = {0};
    qsr_context_desc d = {
        .validation = 1, .on_validation_message = on_message, .validation_user = &clean};
    qsr_context *ctx = NULL;
    qsr_status st = qsr_context_create(&d, &ctx);
    if (st == QSR_ERROR_UNSUPPORTED) {
        printf("skip object tracker: %s\n", qsr_last_error());
        return;
    }
    CHECK_OK(st);
    if (!ctx) return;
    qsr_model *model = make_model(4, 2, 9);
    qsr_upscaler *up = NULL;
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    qsr_rng rng = {4};
    qsr_image in = qsr_test_random_image(&rng, 24, 16, 4), out = {0};
    CHECK_OK(qsr_upscaler_run(up, &in, 1, &out, NULL));
    qsr_memory_stats held = {0}, left = {0};
    CHECK_OK(qsr_context_get_memory_stats(ctx, &held));
    qsr_upscaler_destroy(up);
    CHECK_OK(qsr_context_get_memory_stats(ctx, &left));
    CHECK(held.device_bytes > 0 && held.host_bytes > 0 && held.allocations > 0,
          "an upscaler holds memory");
    CHECK(left.device_bytes == 0 && left.host_bytes == 0 && left.allocations == 0,
          "after qsr_upscaler_destroy %llu device bytes in %u allocations remain",
          (unsigned long long)left.device_bytes, left.allocations);
    CHECK(left.peak_device_bytes >= held.device_bytes, "the peak is kept");
    qsr_context_destroy(ctx);
    CHECK(clean.count == 0, "%u validation message(s) by the end of qsr_context_destroy",
          clean.count);

    message_log leaky = {0};
    d.validation_user = &leaky;
    CHECK_OK(qsr_context_create(&d, &ctx));
    if (!ctx) return;
    qsr_vulkan_handles h;
    vk_fns f;
    CHECK_OK(qsr_context_get_vulkan(ctx, &h));
    if (load_fns(&h, &f)) {
        VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                                 .size = 256,
                                 .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
        VkAllocationCallbacks from_arena = {.pUserData = &arena,
                                            .pfnAllocation = arena_alloc,
                                            .pfnReallocation = arena_realloc,
                                            .pfnFree = arena_free};
        VkBuffer leaked = VK_NULL_HANDLE;
        CHECK(f.create_buffer((VkDevice)h.device, &bi, &from_arena, &leaked) == VK_SUCCESS,
              "vkCreateBuffer");
    }
    CHECK(leaky.count == 0, "no message before the destroy");
    printf("a leaked VkBuffer on purpose: the object tracker must report it now\n");
    fflush(stdout);
    qsr_context_destroy(ctx);
    CHECK(leaky.count > 0 && leaky.mentions_buffer,
          "the leaked VkBuffer was not reported (%u messages)", leaky.count);
    qsr_image_free(&in);
    qsr_image_free(&out);
    qsr_model_destroy(model);
}

/* --budget-ms: the chosen level only gets shallower as the budget shrinks, a generous budget
 * runs every block, none at all the shallowest level, and a budget between two levels' predicted
 * times picks the deeper one that fits. */
static void test_depth_for_budget(qsr_context *ctx) {
    qsr_model *model = make_model(2, 4, 21); /* levels 4, 2, 1 */
    qsr_upscaler *up = NULL;
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    uint32_t depth = 0, previous = 4;
    CHECK_OK(qsr_upscaler_depth_for_budget(up, 40, 30, 1e9, &depth, NULL));
    CHECK(depth == 4, "a generous budget ran %u of 4 blocks", depth);
    CHECK_OK(qsr_upscaler_depth_for_budget(up, 40, 30, 0.0, &depth, NULL));
    CHECK(depth == 1, "no budget at all ran %u blocks, expected the shallowest level 1", depth);
    /* Measure once at full depth so the prediction is this model's, then sweep budgets. */
    qsr_rng rng = {5};
    qsr_image in = qsr_test_random_image(&rng, 40, 30, 3), out;
    qsr_run_stats stats;
    CHECK_OK(qsr_upscaler_run(up, &in, 0, &out, &stats));
    double per_mac = stats.gpu_ms / (double)stats.macs;
    /* The MACs a run executes (the stats' count; fewer than the model's where the fast math
     * folds the upsampler) differ between levels by the body's MACs only. */
    double run_full = (double)stats.macs / (40.0 * 30.0);
    for (double budget = stats.gpu_ms * 2; budget > stats.gpu_ms / 100; budget *= 0.8) {
        double reported;
        CHECK_OK(qsr_upscaler_depth_for_budget(up, 40, 30, budget, &depth, &reported));
        CHECK(depth <= previous, "budget %g ms chose %u blocks after %u", budget, depth, previous);
        double body_less =
            (double)(qsr_model_macs_per_pixel(model, 0) - qsr_model_macs_per_pixel(model, depth));
        double predicted = (run_full - body_less) * 40 * 30 * per_mac;
        CHECK(fabs(reported - predicted) <= 1e-6 * predicted, "predicted %g ms, reported %g",
              predicted, reported);
        CHECK(predicted <= budget || depth == 1, "budget %g ms chose %u blocks (%g ms)", budget,
              depth, predicted);
        previous = depth;
    }
    CHECK(previous == 1, "the smallest budget still ran %u blocks", previous);
    CHECK(qsr_upscaler_depth_for_budget(up, 0, 30, 5.0, &depth, NULL) == QSR_ERROR_INVALID_ARGUMENT,
          "an empty image was accepted");
    qsr_image_free(&in);
    qsr_image_free(&out);
    qsr_upscaler_destroy(up);
    qsr_model_destroy(model);
}

int main(void) {
    qsr_context *ctx = NULL;
    if (qsr_context_create(NULL, &ctx) != QSR_OK) return qsr_test_no_device("test_gpu_interop");
    test_region_runs(ctx);
    test_run_to_buffer(ctx);
    test_depth_for_budget(ctx);
    uint32_t messages = qsr_context_validation_messages(ctx);
    CHECK(messages == 0, "%u validation message(s)", messages);
    qsr_context_destroy(ctx);
    test_queue_lock();
    test_extensions();
    test_object_tracker();
    return qsr_test_finish("test_gpu_interop");
}
