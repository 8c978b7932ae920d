/* test_gpu_external.c - the runtime on an application's own Vulkan device
 * (qsr_context_create_external) and frames recorded into the application's command buffers
 * (qsr_upscaler_prepare, qsr_cmd_upscale), as a game would use them:
 * - every recorded frame is byte-identical to qsr_upscaler_run of the same pixels and depth,
 *   with the depth changing from frame to frame, two frames in flight on one queue, and an
 *   image recorded as many tiles into one command buffer;
 * - the application's allocation callbacks serve every Vulkan object of the runtime (counted:
 *   used, and all freed by qsr_context_destroy), and recording allocates nothing;
 * - the application's validation layer (synchronization validation on) reports nothing: the
 *   barriers qsr_cmd_upscale records are enough, with none of the application's own between
 *   its copies and the call;
 * - the same for an fp32 execution of the model and after preparing another size;
 * - bad arguments are refused with a status and a message, before anything is recorded;
 * - a device loss on the application's device is reported, not "recovered" by a new device;
 *   on a context with its own device, recorded frames refuse after the recovery until prepared
 *   again;
 * - qsr_upscale_rgba8, the one-call CPU-memory form, equals qsr_upscaler_run. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "model_writer.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>
#include <volk.h>

/* ---------------------------------------------------------------------------------------------
 * The application's allocation callbacks: count what the runtime allocates through them.
 */
typedef struct alloc_log {
    long live;      /* allocations not yet freed */
    long total;     /* allocations and reallocations ever made */
    long bad_frees; /* frees of pointers never handed out */
} alloc_log;

/* Each block starts with a header before the aligned pointer: the raw malloc pointer and the
 * size, so that realloc can copy and free can find the block. */
typedef struct block_header {
    void *raw;
    size_t size;
    uint64_t magic;
} block_header;
#define BLOCK_MAGIC 0x51535241u

static void *VKAPI_PTR log_alloc(void *user, size_t size, size_t align,
                                 VkSystemAllocationScope scope) {
    alloc_log *log = (alloc_log *)user;
    (void)scope;
    if (align < sizeof(void *)) align = sizeof(void *);
    unsigned char *raw = malloc(size + align + sizeof(block_header));
    if (!raw) return NULL;
    uintptr_t start = (uintptr_t)(raw + sizeof(block_header));
    start = (start + align - 1) / align * align;
    block_header h = {raw, size, BLOCK_MAGIC};
    memcpy((unsigned char *)start - sizeof h, &h, sizeof h);
    log->live++;
    log->total++;
    return (void *)start;
}

static void VKAPI_PTR log_free(void *user, void *p) {
    alloc_log *log = (alloc_log *)user;
    if (!p) return;
    block_header h;
    memcpy(&h, (unsigned char *)p - sizeof h, sizeof h);
    if (h.magic != BLOCK_MAGIC) {
        log->bad_frees++;
        return;
    }
    log->live--;
    free(h.raw);
}

static void *VKAPI_PTR log_realloc(void *user, void *old, size_t size, size_t align,
                                   VkSystemAllocationScope scope) {
    if (!old) return log_alloc(user, size, align, scope);
    if (size == 0) {
        log_free(user, old);
        return NULL;
    }
    void *p = log_alloc(user, size, align, scope);
    if (!p) return NULL;
    block_header h;
    memcpy(&h, (unsigned char *)old - sizeof h, sizeof h);
    memcpy(p, old, h.size < size ? h.size : size);
    log_free(user, old);
    return p;
}

/* ---------------------------------------------------------------------------------------------
 * The application: its own instance (validation layer with synchronization validation), device,
 * queue and command pool, loaded with volk.
 */
typedef struct app {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    struct VolkDeviceTable vk;
    VkCommandPool pool;
    VkPhysicalDeviceMemoryProperties memory;
    uint32_t messages; /* validation warnings and errors */
} app;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user) {
    (void)severity;
    (void)types;
    ((app *)user)->messages++;
    fprintf(stderr, "validation: %s\n", data && data->pMessage ? data->pMessage : "");
    return VK_FALSE;
}

static int has_validation_layer(void) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, NULL);
    VkLayerProperties layers[64];
    if (n > 64) n = 64;
    vkEnumerateInstanceLayerProperties(&n, layers);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(layers[i].layerName, "VK_LAYER_KHRONOS_validation") == 0) return 1;
    return 0;
}

static int create_instance(app *a) {
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                        .enabledValidationFeatureCount = 1,
                                        .pEnabledValidationFeatures = &sync};
    VkDebugUtilsMessengerCreateInfoEXT mi = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = a,
    };
    VkApplicationInfo ai = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                            .pApplicationName = "test_gpu_external",
                            .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pNext = &features,
                               .pApplicationInfo = &ai,
                               .enabledLayerCount = 1,
                               .ppEnabledLayerNames = &layer,
                               .enabledExtensionCount = 1,
                               .ppEnabledExtensionNames = &ext};
    if (vkCreateInstance(&ci, NULL, &a->instance) != VK_SUCCESS) return 0;
    volkLoadInstanceOnly(a->instance);
    return vkCreateDebugUtilsMessengerEXT(a->instance, &mi, NULL, &a->messenger) == VK_SUCCESS;
}

/* The first device with a compute queue; its device with no feature and no extension. */
static int create_device(app *a) {
    uint32_t n = 1;
    VkResult r = vkEnumeratePhysicalDevices(a->instance, &n, &a->physical);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) return 0;
    VkQueueFamilyProperties q[16];
    uint32_t families = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(a->physical, &families, q);
    a->family = UINT32_MAX;
    for (uint32_t i = 0; i < families && a->family == UINT32_MAX; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) a->family = i;
    if (a->family == UINT32_MAX) return 0;
    vkGetPhysicalDeviceMemoryProperties(a->physical, &a->memory);
    float priority = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                  .queueFamilyIndex = a->family,
                                  .queueCount = 1,
                                  .pQueuePriorities = &priority};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi};
    if (vkCreateDevice(a->physical, &di, NULL, &a->device) != VK_SUCCESS) return 0;
    volkLoadDeviceTable(&a->vk, a->device);
    a->vk.vkGetDeviceQueue(a->device, a->family, 0, &a->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = a->family};
    return a->vk.vkCreateCommandPool(a->device, &pi, NULL, &a->pool) == VK_SUCCESS;
}

static void app_destroy(app *a) {
    if (a->device) {
        a->vk.vkDeviceWaitIdle(a->device);
        if (a->pool) a->vk.vkDestroyCommandPool(a->device, a->pool, NULL);
        a->vk.vkDestroyDevice(a->device, NULL);
    }
    if (a->messenger) vkDestroyDebugUtilsMessengerEXT(a->instance, a->messenger, NULL);
    if (a->instance) vkDestroyInstance(a->instance, NULL);
}

static qsr_vulkan_external external_of(const app *a, const VkAllocationCallbacks *callbacks) {
    return (qsr_vulkan_external){
        .instance = (void *)a->instance,
        .physical_device = (void *)a->physical,
        .device = (void *)a->device,
        .queue = (void *)a->queue,
        .queue_family = a->family,
        .api_version = VK_API_VERSION_1_1,
        .get_instance_proc_addr = (qsr_void_function)vkGetInstanceProcAddr,
        .allocation_callbacks = callbacks,
    };
}

/* A buffer of the application: host-visible (mapped) or device-local. */
typedef struct app_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped;
} app_buffer;

static int buffer_create(app *a, VkDeviceSize size, VkBufferUsageFlags usage, int host,
                         app_buffer *out) {
    memset(out, 0, sizeof *out);
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = size,
                             .usage = usage,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    if (a->vk.vkCreateBuffer(a->device, &bi, NULL, &out->buffer) != VK_SUCCESS) return 0;
    VkMemoryRequirements req;
    a->vk.vkGetBufferMemoryRequirements(a->device, out->buffer, &req);
    VkMemoryPropertyFlags want =
        host ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
             : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < a->memory.memoryTypeCount && type == UINT32_MAX; i++)
        if ((req.memoryTypeBits & (1u << i)) &&
            (a->memory.memoryTypes[i].propertyFlags & want) == want)
            type = i;
    if (type == UINT32_MAX) return 0;
    VkMemoryAllocateInfo mi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = type};
    if (a->vk.vkAllocateMemory(a->device, &mi, NULL, &out->memory) != VK_SUCCESS ||
        a->vk.vkBindBufferMemory(a->device, out->buffer, out->memory, 0) != VK_SUCCESS)
        return 0;
    return !host || a->vk.vkMapMemory(a->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped) ==
                        VK_SUCCESS;
}

static void buffer_destroy(app *a, app_buffer *b) {
    if (b->buffer) a->vk.vkDestroyBuffer(a->device, b->buffer, NULL);
    if (b->memory) a->vk.vkFreeMemory(a->device, b->memory, NULL);
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------------------------------------
 * One frame in flight: the host writes the LR pixels to `staging`; the command buffer copies
 * them to the device-local `src`, upscales into `dst` and copies that to `readback`.
 */
typedef struct frame {
    app_buffer staging, src, dst, readback;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDeviceSize dst_offset; /* the output need not start its buffer */
} frame;

static int frame_create(app *a, uint32_t w, uint32_t h, uint32_t scale, frame *f) {
    memset(f, 0, sizeof *f);
    VkDeviceSize in = (VkDeviceSize)w * h * 4, out = in * scale * scale;
    f->dst_offset = 256;
    VkCommandBufferAllocateInfo ci = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = a->pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    const VkBufferUsageFlags copy =
        VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    return buffer_create(a, in, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, 1, &f->staging) &&
           buffer_create(a, in, copy, 0, &f->src) &&
           buffer_create(a, f->dst_offset + out, copy, 0, &f->dst) &&
           buffer_create(a, out, VK_BUFFER_USAGE_TRANSFER_DST_BIT, 1, &f->readback) &&
           a->vk.vkAllocateCommandBuffers(a->device, &ci, &f->cmd) == VK_SUCCESS &&
           a->vk.vkCreateFence(a->device, &fi, NULL, &f->fence) == VK_SUCCESS;
}

static void frame_destroy(app *a, frame *f) {
    buffer_destroy(a, &f->staging);
    buffer_destroy(a, &f->src);
    buffer_destroy(a, &f->dst);
    buffer_destroy(a, &f->readback);
    if (f->fence) a->vk.vkDestroyFence(a->device, f->fence, NULL);
    if (f->cmd) a->vk.vkFreeCommandBuffers(a->device, a->pool, 1, &f->cmd);
}

/* The image's RGB as RGBA words (alpha 0: the runtime must ignore it). */
static void write_pixels(frame *f, const qsr_image *img) {
    uint32_t *words = (uint32_t *)f->staging.mapped;
    for (size_t i = 0; i < (size_t)img->width * img->height; i++) {
        const uint8_t *p = img->pixels + i * img->channels;
        words[i] = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    }
}

/* Records and submits one frame; the allocation count must not move while recording. */
static void submit_frame(app *a, frame *f, qsr_upscaler *up, uint32_t w, uint32_t h, uint32_t scale,
                         uint32_t depth, const alloc_log *log) {
    VkDeviceSize in = (VkDeviceSize)w * h * 4, out = in * scale * scale;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    a->vk.vkResetCommandBuffer(f->cmd, 0);
    a->vk.vkBeginCommandBuffer(f->cmd, &bi);
    VkBufferCopy up_copy = {0, 0, in}, down_copy = {f->dst_offset, 0, out};
    /* No barrier of the application's between its copies and the call: qsr_cmd_upscale's own
     * barriers order them (synchronization validation checks it). */
    a->vk.vkCmdCopyBuffer(f->cmd, f->staging.buffer, f->src.buffer, 1, &up_copy);
    qsr_gpu_buffer src = {(void *)f->src.buffer, 0, in};
    qsr_gpu_buffer dst = {(void *)f->dst.buffer, f->dst_offset, out};
    long before = log->total;
    CHECK_OK(qsr_cmd_upscale(up, (void *)f->cmd, &src, &dst, depth));
    CHECK(log->total == before, "recording a frame at depth %u allocated %ld time(s)", depth,
          log->total - before);
    a->vk.vkCmdCopyBuffer(f->cmd, f->dst.buffer, f->readback.buffer, 1, &down_copy);
    VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    a->vk.vkCmdPipelineBarrier(f->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                               0, 1, &to_host, 0, NULL, 0, NULL);
    a->vk.vkEndCommandBuffer(f->cmd);
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .commandBufferCount = 1,
                       .pCommandBuffers = &f->cmd};
    a->vk.vkResetFences(a->device, 1, &f->fence);
    CHECK(a->vk.vkQueueSubmit(a->queue, 1, &si, f->fence) == VK_SUCCESS, "vkQueueSubmit");
}

/* The frame's output equals the simple API's: RGB byte for byte, alpha 255. */
static void check_frame(app *a, frame *f, const qsr_image *want, const char *what, uint32_t depth) {
    a->vk.vkWaitForFences(a->device, 1, &f->fence, VK_TRUE, UINT64_MAX);
    const uint32_t *words = (const uint32_t *)f->readback.mapped;
    size_t wrong = 0, n = (size_t)want->width * want->height;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = want->pixels + i * want->channels;
        wrong += words[i] != (p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | 0xFF000000u);
    }
    CHECK(wrong == 0, "%s, depth %u: %zu of %zu pixels differ from qsr_upscaler_run", what, depth,
          wrong, n);
}

/* The depth changes every frame (levels and other counts); frames go out two at a time, the
 * second submitted before the first completes. */
static const uint32_t frame_depths[] = {0, 2, 1, 4, 3, 1, 0, 2};
#define FRAME_COUNT (sizeof frame_depths / sizeof frame_depths[0])

static void test_frames(app *a, qsr_context *ctx, const alloc_log *log) {
    const uint32_t w = 29, h = 21, scale = 4;
    qsr_test_model_params mp = {.scale = scale, .channels = 8, .blocks = 4, .seed = 31};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    if (!model) return;
    /* `up` serves the simple API and frames alike; `tiled` records each frame as 4 x 3 body
     * tiles (and more HR tiles) into its one command buffer. */
    qsr_upscaler *up = NULL, *tiled = NULL;
    qsr_upscaler_desc small_tiles = {.tile = 8};
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    CHECK_OK(qsr_upscaler_create(ctx, model, &small_tiles, &tiled));
    CHECK_OK(qsr_upscaler_prepare(up, w, h));
    CHECK_OK(qsr_upscaler_prepare(tiled, w, h));
    frame frames[2];
    int made = frame_create(a, w, h, scale, &frames[0]) && frame_create(a, w, h, scale, &frames[1]);
    CHECK(made, "cannot create the application's frame buffers");
    qsr_rng rng = {77};
    for (uint32_t k = 0; made && up && tiled && k < FRAME_COUNT; k += 2) {
        qsr_image in[2], want[2];
        for (uint32_t j = 0; j < 2; j++) {
            in[j] = qsr_test_random_image(&rng, w, h, 3);
            CHECK_OK(qsr_upscaler_run(up, &in[j], frame_depths[k + j], &want[j], NULL));
            write_pixels(&frames[j], &in[j]);
            submit_frame(a, &frames[j], up, w, h, scale, frame_depths[k + j], log);
        }
        for (uint32_t j = 0; j < 2; j++)
            check_frame(a, &frames[j], &want[j], "one tile, two frames in flight",
                        frame_depths[k + j]);
        for (uint32_t j = 0; j < 2; j++) {
            submit_frame(a, &frames[j], tiled, w, h, scale, frame_depths[k + j], log);
            check_frame(a, &frames[j], &want[j], "many tiles", frame_depths[k + j]);
            qsr_image_free(&in[j]);
            qsr_image_free(&want[j]);
        }
    }
    /* Another size: prepared again, and frames of it match too. */
    if (made && up) {
        frame_destroy(a, &frames[0]);
        CHECK(frame_create(a, 13, 40, scale, &frames[0]), "frame buffers");
        CHECK_OK(qsr_upscaler_prepare(up, 13, 40));
        qsr_image in = qsr_test_random_image(&rng, 13, 40, 3), want = {0};
        CHECK_OK(qsr_upscaler_run(up, &in, 2, &want, NULL));
        write_pixels(&frames[0], &in);
        submit_frame(a, &frames[0], up, 13, 40, scale, 2, log);
        check_frame(a, &frames[0], &want, "after preparing 13x40", 2);
        qsr_image_free(&in);
        qsr_image_free(&want);
    }
    /* An fp32 execution (no quantized kernels) records the same way. */
    qsr_upscaler *fp32 = NULL;
    qsr_upscaler_desc fp32_desc = {.precision = QSR_PRECISION_FP32};
    CHECK_OK(qsr_upscaler_create(ctx, model, &fp32_desc, &fp32));
    if (made && fp32) {
        CHECK_OK(qsr_upscaler_prepare(fp32, 13, 40));
        qsr_image in = qsr_test_random_image(&rng, 13, 40, 3), want = {0};
        CHECK_OK(qsr_upscaler_run(fp32, &in, 3, &want, NULL));
        write_pixels(&frames[0], &in);
        submit_frame(a, &frames[0], fp32, 13, 40, scale, 3, log);
        check_frame(a, &frames[0], &want, "fp32 execution", 3);
        qsr_image_free(&in);
        qsr_image_free(&want);
    }
    qsr_upscaler_destroy(fp32);
    frame_destroy(a, &frames[0]);
    frame_destroy(a, &frames[1]);
    qsr_upscaler_destroy(tiled);
    qsr_upscaler_destroy(up);
    qsr_model_destroy(model);
}

/* QuantSR-T records the same way: the whole image as one tile on the padded window grid,
 * frames equal to the simple API at every depth, no allocation while recording. */
static void test_frames_t(app *a, qsr_context *ctx, const alloc_log *log) {
    const uint32_t w = 19, h = 13, scale = 2;
    qsr_test_model_params mp = {.arch = QSR_ARCH_QUANTSR_T,
                                .scale = scale,
                                .channels = 16,
                                .blocks = 4,
                                .window = 4,
                                .seed = 32};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    if (!model) return;
    qsr_upscaler *up = NULL;
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    CHECK_OK(qsr_upscaler_prepare(up, w, h));
    frame f;
    int made = frame_create(a, w, h, scale, &f);
    CHECK(made, "cannot create the application's frame buffers");
    qsr_rng rng = {78};
    for (uint32_t k = 0; made && up && k < FRAME_COUNT; k++) {
        qsr_image in = qsr_test_random_image(&rng, w, h, 3), want = {0};
        CHECK_OK(qsr_upscaler_run(up, &in, frame_depths[k], &want, NULL));
        write_pixels(&f, &in);
        submit_frame(a, &f, up, w, h, scale, frame_depths[k], log);
        check_frame(a, &f, &want, "QuantSR-T", frame_depths[k]);
        qsr_image_free(&in);
        qsr_image_free(&want);
    }
    if (made) frame_destroy(a, &f);
    qsr_upscaler_destroy(up);
    qsr_model_destroy(model);
}

/* Each bad argument: its status, a message naming the problem, and nothing recorded (the
 * command buffer then ends empty; the validation layer would see any half-recorded work). */
static void test_bad_frames(app *a, qsr_context *ctx) {
    qsr_test_model_params mp = {.scale = 2, .channels = 8, .blocks = 2, .seed = 3};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    qsr_upscaler *up = NULL;
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    frame f;
    if (!up || !frame_create(a, 10, 6, 2, &f)) {
        CHECK(0, "set-up failed");
        return;
    }
    VkDeviceSize in = 10 * 6 * 4, out = in * 4;
    qsr_gpu_buffer src = {(void *)f.src.buffer, 0, in};
    qsr_gpu_buffer dst = {(void *)f.dst.buffer, f.dst_offset, out};
    void *cmd = (void *)f.cmd;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    a->vk.vkBeginCommandBuffer(f.cmd, &bi);

    CHECK_STATUS(qsr_cmd_upscale(up, cmd, &src, &dst, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "qsr_upscaler_prepare") != NULL, "unprepared: %s",
          qsr_last_error());
    CHECK_STATUS(qsr_upscaler_prepare(up, 0, 6), QSR_ERROR_LIMIT);
    CHECK_STATUS(qsr_upscaler_prepare(up, 10, QSR_MAX_IMAGE_DIMENSION + 1), QSR_ERROR_LIMIT);
    CHECK_STATUS(qsr_upscaler_prepare(NULL, 10, 6), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_OK(qsr_upscaler_prepare(up, 10, 6));

    CHECK_STATUS(qsr_cmd_upscale(up, NULL, &src, &dst, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "command_buffer is NULL") != NULL, "%s", qsr_last_error());
    CHECK_STATUS(qsr_cmd_upscale(NULL, cmd, &src, &dst, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_cmd_upscale(up, cmd, NULL, &dst, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "src is NULL") != NULL, "%s", qsr_last_error());
    qsr_gpu_buffer bad = src;
    bad.size = in - 4;
    CHECK_STATUS(qsr_cmd_upscale(up, cmd, &bad, &dst, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "10x6") != NULL, "names the size: %s", qsr_last_error());
    bad = dst;
    bad.size = out - 4;
    CHECK_STATUS(qsr_cmd_upscale(up, cmd, &src, &bad, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "20x12") != NULL, "names the size: %s", qsr_last_error());
    bad = dst;
    bad.offset = 2;
    CHECK_STATUS(qsr_cmd_upscale(up, cmd, &src, &bad, 0), QSR_ERROR_INVALID_ARGUMENT);
    qsr_gpu_buffer overlap = {(void *)f.dst.buffer, f.dst_offset + 16, in};
    CHECK_STATUS(qsr_cmd_upscale(up, cmd, &overlap, &dst, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "overlap") != NULL, "%s", qsr_last_error());
    CHECK_STATUS(qsr_cmd_upscale(up, cmd, &src, &dst, 3), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "depth 3") != NULL, "%s", qsr_last_error());
    /* Too small for the size prepared last, though right for the first one. */
    CHECK_OK(qsr_upscaler_prepare(up, 11, 6));
    CHECK_STATUS(qsr_cmd_upscale(up, cmd, &src, &dst, 0), QSR_ERROR_INVALID_ARGUMENT);
    a->vk.vkEndCommandBuffer(f.cmd);

    /* The one-call form refuses what it cannot run. */
    uint8_t pixels[4 * 4 * 4] = {0}, result[8 * 8 * 4];
    CHECK_STATUS(qsr_upscale_rgba8(up, pixels, 4, 4, 12, result, 32, 0),
                 QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_upscale_rgba8(up, pixels, 4, 4, 16, result, 28, 0),
                 QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_upscale_rgba8(up, NULL, 4, 4, 16, result, 32, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_upscale_rgba8(up, pixels, 0, 4, 16, result, 32, 0), QSR_ERROR_LIMIT);
    CHECK_STATUS(qsr_upscale_rgba8(up, pixels, 4, 4, 16, result, 32, 9),
                 QSR_ERROR_INVALID_ARGUMENT);
    frame_destroy(a, &f);
    qsr_upscaler_destroy(up);
    qsr_model_destroy(model);
}

/* qsr_upscale_rgba8 with padded rows equals qsr_upscaler_run of the same RGBA image. */
static void test_rgba8(qsr_context *ctx) {
    qsr_test_model_params mp = {.scale = 2, .channels = 8, .blocks = 2, .seed = 8};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    qsr_upscaler *up = NULL;
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    qsr_rng rng = {12};
    const uint32_t w = 19, h = 11;
    const size_t src_stride = w * 4 + 12, dst_stride = w * 2 * 4 + 20;
    qsr_image in = qsr_test_random_image(&rng, w, h, 4), want = {0};
    CHECK_OK(qsr_upscaler_run(up, &in, 1, &want, NULL));
    uint8_t *src = calloc(src_stride * h, 1), *dst = malloc(dst_stride * h * 2);
    if (!src || !dst || !up) {
        CHECK(0, "set-up failed");
        return;
    }
    for (uint32_t y = 0; y < h; y++)
        memcpy(src + y * src_stride, in.pixels + (size_t)y * w * 4, (size_t)w * 4);
    memset(dst, 0xA5, dst_stride * h * 2);
    CHECK_OK(qsr_upscale_rgba8(up, src, w, h, src_stride, dst, dst_stride, 1));
    size_t wrong = 0, padding = 0;
    for (uint32_t y = 0; y < h * 2; y++) {
        wrong += memcmp(dst + y * dst_stride, want.pixels + (size_t)y * w * 2 * 4, w * 2 * 4) != 0;
        for (size_t x = w * 2 * 4; x < dst_stride; x++)
            padding += dst[y * dst_stride + x] != 0xA5;
    }
    CHECK(wrong == 0, "%zu rows differ from qsr_upscaler_run", wrong);
    CHECK(padding == 0, "%zu padding bytes were written", padding);
    free(src);
    free(dst);
    qsr_image_free(&in);
    qsr_image_free(&want);
    qsr_upscaler_destroy(up);
    qsr_model_destroy(model);
}

/* Refusals of qsr_context_create_external, each with a message. */
static void test_bad_contexts(const app *a) {
    qsr_context *ctx = NULL;
    qsr_vulkan_external e = external_of(a, NULL);
    CHECK_STATUS(qsr_context_create_external(NULL, NULL, &ctx), QSR_ERROR_INVALID_ARGUMENT);
    qsr_vulkan_external no_device = e;
    no_device.device = NULL;
    CHECK_STATUS(qsr_context_create_external(NULL, &no_device, &ctx), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "device is NULL") != NULL, "%s", qsr_last_error());
    qsr_vulkan_external old = e;
    old.api_version = VK_API_VERSION_1_0;
    CHECK_STATUS(qsr_context_create_external(NULL, &old, &ctx), QSR_ERROR_UNSUPPORTED);
    CHECK(strstr(qsr_last_error(), "1.1") != NULL, "%s", qsr_last_error());
    qsr_vulkan_external family = e;
    family.queue_family = 99;
    CHECK_STATUS(qsr_context_create_external(NULL, &family, &ctx), QSR_ERROR_UNSUPPORTED);
    CHECK(strstr(qsr_last_error(), "queue family 99") != NULL, "%s", qsr_last_error());
    qsr_context_desc validation = {.validation = 1};
    CHECK_STATUS(qsr_context_create_external(&validation, &e, &ctx), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "validation") != NULL, "%s", qsr_last_error());
    const char *ext = "VK_KHR_swapchain";
    qsr_context_desc extensions = {.device_extensions = &ext, .device_extension_count = 1};
    CHECK_STATUS(qsr_context_create_external(&extensions, &e, &ctx), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(ctx == NULL, "no context on failure");
}

/* A device loss on the application's device (injected at the first submission of a run) is
 * QSR_ERROR_DEVICE_LOST with a message, and recorded frames then refuse until prepared again;
 * the application's device itself is left alone. */
static void test_device_loss(const app *a, const VkAllocationCallbacks *cb) {
    qsr_test_model_params mp = {.scale = 2, .channels = 8, .blocks = 2, .seed = 5};
    qsr_model *model = NULL;
    CHECK_OK(qsr_test_model_make(&mp, &model));
    qsr_vulkan_external e = external_of(a, cb);
    qsr_context *ctx = NULL;
    setenv("QSR_FAULT", "lost:4+", 1); /* submissions 1-3 upload the weights */
    CHECK_OK(qsr_context_create_external(NULL, &e, &ctx));
    unsetenv("QSR_FAULT");
    qsr_upscaler *up = NULL;
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    CHECK_OK(qsr_upscaler_prepare(up, 8, 8));
    qsr_rng rng = {2};
    qsr_image in = qsr_test_random_image(&rng, 8, 8, 3), out = {0};
    CHECK_STATUS(qsr_upscaler_run(up, &in, 0, &out, NULL), QSR_ERROR_DEVICE_LOST);
    CHECK(strstr(qsr_last_error(), "cannot recreate") != NULL, "%s", qsr_last_error());
    qsr_vulkan_handles h;
    CHECK_OK(qsr_context_get_vulkan(ctx, &h));
    CHECK(h.device == (void *)a->device && h.generation == 0, "the application's device is kept");
    /* Checked before the (dummy) command buffer would be touched. */
    qsr_gpu_buffer b = {(void *)1, 0, 1 << 20};
    CHECK_STATUS(qsr_cmd_upscale(up, (void *)1, &b, &b, 0), QSR_ERROR_DEVICE_LOST);
    qsr_upscaler_destroy(up);
    qsr_context_destroy(ctx);

    /* A context with its own device recovers from the loss with a new device: the run goes
     * on, and recorded frames refuse until prepared again on the new device. */
    setenv("QSR_FAULT", "lost:4", 1);
    CHECK_OK(qsr_context_create(NULL, &ctx));
    unsetenv("QSR_FAULT");
    up = NULL;
    if (ctx) CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    if (up) {
        CHECK_OK(qsr_upscaler_prepare(up, 8, 8));
        CHECK_OK(qsr_upscaler_run(up, &in, 0, &out, NULL));
        CHECK_OK(qsr_context_get_vulkan(ctx, &h));
        CHECK(h.generation == 1, "the device was recreated (generation %u)", h.generation);
        CHECK_STATUS(qsr_cmd_upscale(up, (void *)1, &b, &b, 0), QSR_ERROR_DEVICE_LOST);
        CHECK(strstr(qsr_last_error(), "qsr_upscaler_prepare") != NULL, "%s", qsr_last_error());
        CHECK_OK(qsr_upscaler_prepare(up, 8, 8));
        CHECK(qsr_context_validation_messages(ctx) == 0, "%u validation message(s)",
              qsr_context_validation_messages(ctx));
    }
    qsr_image_free(&in);
    qsr_image_free(&out);
    qsr_upscaler_destroy(up);
    qsr_context_destroy(ctx);
    qsr_model_destroy(model);
}

int main(void) {
    if (volkInitialize() != VK_SUCCESS) {
        printf("skip: no Vulkan loader\n");
        return 77;
    }
    if (!has_validation_layer()) {
        printf("skip: VK_LAYER_KHRONOS_validation is not installed\n");
        return 77;
    }
    app a = {0};
    if (!create_instance(&a) || !create_device(&a)) {
        app_destroy(&a);
        qsr_set_error(QSR_ERROR_NO_DEVICE, "no Vulkan device with a compute queue");
        return qsr_test_no_device("test_gpu_external");
    }
    alloc_log log = {0};
    VkAllocationCallbacks callbacks = {.pUserData = &log,
                                       .pfnAllocation = log_alloc,
                                       .pfnReallocation = log_realloc,
                                       .pfnFree = log_free};
    qsr_vulkan_external e = external_of(&a, &callbacks);
    qsr_context *ctx = NULL;
    CHECK_OK(qsr_context_create_external(NULL, &e, &ctx));
    if (ctx) {
        qsr_vulkan_handles h;
        CHECK_OK(qsr_context_get_vulkan(ctx, &h));
        CHECK(h.device == (void *)a.device && h.queue == (void *)a.queue &&
                  h.instance == (void *)a.instance && h.queue_family == a.family,
              "qsr_context_get_vulkan returns the application's handles");
        test_frames(&a, ctx, &log);
        test_frames_t(&a, ctx, &log);
        test_bad_frames(&a, ctx);
        test_rgba8(ctx);
        CHECK(qsr_context_validation_messages(ctx) == 0, "the runtime made no messenger");
        qsr_context_destroy(ctx);
    }
    CHECK(log.total > 0, "the runtime never used the application's allocation callbacks");
    CHECK(log.live == 0 && log.bad_frees == 0,
          "%ld allocation(s) through the callbacks still live after qsr_context_destroy "
          "(%ld bad frees)",
          log.live, log.bad_frees);
    test_bad_contexts(&a);
    test_device_loss(&a, &callbacks);
    CHECK(log.live == 0, "%ld allocation(s) live after the device-loss context", log.live);
    /* The application's device outlives the contexts and still works. */
    CHECK(a.vk.vkDeviceWaitIdle(a.device) == VK_SUCCESS, "the application's device works");
    app_destroy(&a);
    CHECK(a.messages == 0, "%u validation message(s)", a.messages);
    return qsr_test_finish("test_gpu_external");
}
