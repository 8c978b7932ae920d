/* vulkan_frames.c - quantsr inside an application's own Vulkan frame loop: the program makes
 * its own instance and device (with volk), draws a scene with fine detail (thin moving lines,
 * rings, scrolling text) at low resolution every frame, and upscales it on the device with
 * qsr_cmd_upscale in its own command buffer, with two frames in flight and the network depth
 * changing every frame. Each upscaled frame is written to OUTDIR as a PPM image.
 *
 *     vulkan_frames MODEL.qsr OUTDIR [--frames N] [--size WxH] [--verify]
 *
 * --verify also upscales each frame's pixels with qsr_upscaler_run (the CPU-memory API) and
 * fails unless both results are byte-identical. QSR_VALIDATION=1 enables the Khronos
 * validation layer on the program's instance; any message makes the exit status 1.
 * docs/embedding.md explains the calls (buffer usages, barriers, threading, lifetime).
 */
#define VOLK_IMPLEMENTATION
#include <volk.h>

#include <quantsr.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES_IN_FLIGHT 2

/* ---------------------------------------------------------------------------------------------
 * The application's Vulkan objects
 */
typedef struct gpu {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    VkCommandPool pool;
    VkPhysicalDeviceMemoryProperties memory;
    uint32_t validation_messages;
} gpu;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)severity;
    (void)types;
    ((gpu *)user)->validation_messages++;
    fprintf(stderr, "vulkan_frames: validation: %s\n", data->pMessage);
    return VK_FALSE;
}

static int create_instance(gpu *g, int validation) {
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *extension = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkDebugUtilsMessengerCreateInfoEXT mi = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_validation,
        .pUserData = g,
    };
    /* quantsr needs Vulkan 1.1 on the instance (qsr_vulkan_external.api_version). */
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "vulkan_frames",
                             .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                 .pApplicationInfo = &app,
                                 .enabledLayerCount = validation ? 1u : 0u,
                                 .ppEnabledLayerNames = &layer,
                                 .enabledExtensionCount = validation ? 1u : 0u,
                                 .ppEnabledExtensionNames = &extension};
    if (vkCreateInstance(&info, NULL, &g->instance) != VK_SUCCESS) return 0;
    volkLoadInstance(g->instance);
    return !validation ||
           vkCreateDebugUtilsMessengerEXT(g->instance, &mi, NULL, &g->messenger) == VK_SUCCESS;
}

/* The first device with a compute queue. quantsr needs no device feature or extension. */
static int create_device(gpu *g) {
    VkPhysicalDevice list[8];
    uint32_t n = 8;
    VkResult r = vkEnumeratePhysicalDevices(g->instance, &n, list);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) return 0;
    for (uint32_t i = 0; i < n && !g->physical; i++) {
        VkQueueFamilyProperties q[16];
        uint32_t families = 16;
        vkGetPhysicalDeviceQueueFamilyProperties(list[i], &families, q);
        for (uint32_t f = 0; f < families && !g->physical; f++)
            if (q[f].queueFlags & VK_QUEUE_COMPUTE_BIT) {
                g->physical = list[i];
                g->family = f;
            }
    }
    if (!g->physical) return 0;
    vkGetPhysicalDeviceMemoryProperties(g->physical, &g->memory);
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = g->family,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
    VkDeviceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                               .queueCreateInfoCount = 1,
                               .pQueueCreateInfos = &queue};
    if (vkCreateDevice(g->physical, &info, NULL, &g->device) != VK_SUCCESS) return 0;
    volkLoadDevice(g->device);
    vkGetDeviceQueue(g->device, g->family, 0, &g->queue);
    VkCommandPoolCreateInfo pool = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = g->family};
    return vkCreateCommandPool(g->device, &pool, NULL, &g->pool) == VK_SUCCESS;
}

static void destroy_gpu(gpu *g) {
    if (g->device) {
        vkDeviceWaitIdle(g->device);
        if (g->pool) vkDestroyCommandPool(g->device, g->pool, NULL);
        vkDestroyDevice(g->device, NULL);
    }
    if (g->messenger) vkDestroyDebugUtilsMessengerEXT(g->instance, g->messenger, NULL);
    if (g->instance) vkDestroyInstance(g->instance, NULL);
}

typedef struct buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped; /* host-visible buffers only */
} buffer;

static int create_buffer(gpu *g, VkDeviceSize size, VkBufferUsageFlags usage, int host,
                         buffer *out) {
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = size,
                               .usage = usage,
                               .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    if (vkCreateBuffer(g->device, &info, NULL, &out->buffer) != VK_SUCCESS) return 0;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(g->device, out->buffer, &req);
    VkMemoryPropertyFlags want =
        host ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
             : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < g->memory.memoryTypeCount && type == UINT32_MAX; i++)
        if ((req.memoryTypeBits >> i & 1u) &&
            (g->memory.memoryTypes[i].propertyFlags & want) == want)
            type = i;
    VkMemoryAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = req.size,
                                  .memoryTypeIndex = type};
    if (type == UINT32_MAX ||
        vkAllocateMemory(g->device, &alloc, NULL, &out->memory) != VK_SUCCESS ||
        vkBindBufferMemory(g->device, out->buffer, out->memory, 0) != VK_SUCCESS)
        return 0;
    return !host ||
           vkMapMemory(g->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped) == VK_SUCCESS;
}

static void destroy_buffer(gpu *g, buffer *b) {
    if (b->buffer) vkDestroyBuffer(g->device, b->buffer, NULL);
    if (b->memory) vkFreeMemory(g->device, b->memory, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * One frame in flight: the scene is drawn into `staging` on the host; the command buffer
 * copies it to the device-local `lr`, upscales it into `hr` and copies that to `readback`.
 * (A renderer would draw into `lr` on the device and present `hr` instead.)
 */
typedef struct frame {
    buffer staging, lr, hr, readback;
    VkCommandBuffer cmd;
    VkFence fence;
    int index;      /* the frame number it holds, -1 = none yet */
    uint32_t depth; /* the depth it was upscaled at */
} frame;

static int create_frame(gpu *g, VkDeviceSize lr_bytes, VkDeviceSize hr_bytes, frame *f) {
    const VkBufferUsageFlags copy =
        VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    VkCommandBufferAllocateInfo ci = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = g->pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    /* Signaled, so that the first wait for the frame returns at once. */
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
                            .flags = VK_FENCE_CREATE_SIGNALED_BIT};
    f->index = -1;
    /* qsr_cmd_upscale reads its source with a copy (TRANSFER_SRC) and writes its destination
     * with a copy (TRANSFER_DST). */
    return create_buffer(g, lr_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, 1, &f->staging) &&
           create_buffer(g, lr_bytes, copy, 0, &f->lr) &&
           create_buffer(g, hr_bytes, copy, 0, &f->hr) &&
           create_buffer(g, hr_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, 1, &f->readback) &&
           vkAllocateCommandBuffers(g->device, &ci, &f->cmd) == VK_SUCCESS &&
           vkCreateFence(g->device, &fi, NULL, &f->fence) == VK_SUCCESS;
}

static void destroy_frame(gpu *g, frame *f) {
    destroy_buffer(g, &f->staging);
    destroy_buffer(g, &f->lr);
    destroy_buffer(g, &f->hr);
    destroy_buffer(g, &f->readback);
    if (f->fence) vkDestroyFence(g->device, f->fence, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * The scene: detail at the scale of single pixels, moving every frame.
 */

/* A 3x5 pixel font for the scrolling caption: five rows of three bits, top row and left column
 * in the high bits. */
static unsigned glyph(char c) {
    switch (c) {
    case 'Q':
        return 0x7B79;
    case 'U':
        return 0x5B6F;
    case 'A':
        return 0x2BED;
    case 'N':
        return 0x6B6D;
    case 'T':
        return 0x7492;
    case 'S':
        return 0x79CF;
    case 'R':
        return 0x6BAD;
    default:
        return 0;
    }
}

static int caption_pixel(int x, int y) {
    static const char text[] = "QUANTSR QUANTSR ";
    int period = (int)(sizeof text - 1) * 4;
    x = ((x % period) + period) % period;
    if (y < 0 || y >= 5 || x % 4 == 3) return 0;
    return (glyph(text[x / 4]) >> (14 - (y * 3 + x % 4))) & 1;
}

/* RGBA words (R in the low byte); quantsr ignores the alpha byte. */
static void draw_scene(uint32_t *pixels, uint32_t w, uint32_t h, int t) {
    double cx = w * (0.5 + 0.3 * cos(t * 0.35)), cy = h * (0.5 + 0.3 * sin(t * 0.27));
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            /* Rings about a wandering centre, fine enough to alias at this resolution. */
            double d = hypot(x - cx, y - cy);
            double ring = 0.5 + 0.5 * cos(d * 1.9 - t * 0.8);
            /* One-pixel diagonal lines sweeping by a pixel per frame. */
            int line = (int)(x + 2 * y + (uint32_t)t) % 7 == 0;
            unsigned r = (unsigned)(40 + 150 * ring), gch = (unsigned)(60 + 120 * (1 - ring));
            unsigned b = line ? 230u : 70u;
            /* A caption scrolling left in a dark band near the bottom. */
            int band = (int)h - 9;
            if ((int)y >= band && (int)y < band + 7) {
                int on = caption_pixel((int)x + t, (int)y - band - 1);
                r = gch = b = on ? 250u : 20u;
            }
            pixels[(size_t)y * w + x] = r | gch << 8 | b << 16;
        }
}

/* ---------------------------------------------------------------------------------------------
 * Output and checking
 */
static int write_ppm(const char *dir, int index, const uint32_t *words, uint32_t w, uint32_t h) {
    char path[4096];
    snprintf(path, sizeof path, "%s/frame_%03d.ppm", dir, index);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "vulkan_frames: cannot write %s\n", path);
        return 0;
    }
    fprintf(f, "P6\n%u %u\n255\n", w, h);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        unsigned char rgb[3] = {(unsigned char)words[i], (unsigned char)(words[i] >> 8),
                                (unsigned char)(words[i] >> 16)};
        fwrite(rgb, 1, 3, f);
    }
    int ok = fclose(f) == 0;
    if (ok) printf("frame %d: %s\n", index, path);
    return ok;
}

/* The same pixels through qsr_upscaler_run; 1 when every output byte agrees. */
static int matches_simple_api(qsr_upscaler *up, const frame *f, uint32_t w, uint32_t h) {
    qsr_image in = {0}, out = {0};
    if (qsr_image_create(w, h, 3, &in) != QSR_OK) return 0;
    const uint32_t *lr = (const uint32_t *)f->staging.mapped;
    for (size_t i = 0; i < (size_t)w * h; i++)
        for (int c = 0; c < 3; c++)
            in.pixels[i * 3 + c] = (uint8_t)(lr[i] >> (8 * c));
    int same = qsr_upscaler_run(up, &in, f->depth, &out, NULL) == QSR_OK;
    const uint32_t *hr = (const uint32_t *)f->readback.mapped;
    for (size_t i = 0; same && i < (size_t)out.width * out.height; i++)
        same = hr[i] == (out.pixels[i * 3] | (uint32_t)out.pixels[i * 3 + 1] << 8 |
                         (uint32_t)out.pixels[i * 3 + 2] << 16 | 0xFF000000u);
    qsr_image_free(&in);
    qsr_image_free(&out);
    return same;
}

/* ---------------------------------------------------------------------------------------------
 * The frame loop
 */
typedef struct options {
    const char *model, *outdir;
    int frames, verify;
    uint32_t width, height;
} options;

static int parse_options(int argc, char **argv, options *o) {
    *o = (options){.frames = 6, .width = 96, .height = 64};
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
            o->frames = atoi(argv[++i]);
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%ux%u", &o->width, &o->height) != 2) return 0;
        } else if (strcmp(argv[i], "--verify") == 0)
            o->verify = 1;
        else if (positional == 0)
            o->model = argv[i], positional++;
        else if (positional == 1)
            o->outdir = argv[i], positional++;
        else
            return 0;
    }
    return positional == 2 && o->frames > 0 && o->width > 0 && o->height > 0;
}

/* Finishes the frame held by f (waits for it), writes it and checks it. */
static int finish_frame(gpu *g, frame *f, qsr_upscaler *up, const options *o, uint32_t scale) {
    vkWaitForFences(g->device, 1, &f->fence, VK_TRUE, UINT64_MAX);
    if (f->index < 0) return 1;
    uint32_t w = o->width * scale, h = o->height * scale;
    int ok = write_ppm(o->outdir, f->index, (const uint32_t *)f->readback.mapped, w, h);
    if (ok && o->verify) {
        ok = matches_simple_api(up, f, o->width, o->height);
        printf("frame %d depth %u: %s qsr_upscaler_run\n", f->index, f->depth,
               ok ? "identical to" : "DIFFERS from");
    }
    f->index = -1;
    return ok;
}

/* Draws frame `index`, records its upload, upscale and download, and submits it. */
static qsr_status submit_frame(gpu *g, frame *f, qsr_upscaler *up, const options *o, uint32_t scale,
                               int index, uint32_t depth) {
    VkDeviceSize lr_bytes = (VkDeviceSize)o->width * o->height * 4;
    VkDeviceSize hr_bytes = lr_bytes * scale * scale;
    draw_scene((uint32_t *)f->staging.mapped, o->width, o->height, index);
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    vkResetCommandBuffer(f->cmd, 0);
    vkBeginCommandBuffer(f->cmd, &begin);
    VkBufferCopy upload = {0, 0, lr_bytes}, download = {0, 0, hr_bytes};
    vkCmdCopyBuffer(f->cmd, f->staging.buffer, f->lr.buffer, 1, &upload);
    /* No barrier needed around the call: it starts with one after every earlier write and ends
     * with one before every later access (docs/embedding.md). */
    qsr_gpu_buffer src = {(void *)f->lr.buffer, 0, lr_bytes};
    qsr_gpu_buffer dst = {(void *)f->hr.buffer, 0, hr_bytes};
    qsr_status st = qsr_cmd_upscale(up, (void *)f->cmd, &src, &dst, depth);
    vkCmdCopyBuffer(f->cmd, f->hr.buffer, f->readback.buffer, 1, &download);
    VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(f->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                         &to_host, 0, NULL, 0, NULL);
    vkEndCommandBuffer(f->cmd);
    if (st != QSR_OK) return st;
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &f->cmd};
    vkResetFences(g->device, 1, &f->fence);
    if (vkQueueSubmit(g->queue, 1, &submit, f->fence) != VK_SUCCESS)
        return qsr_set_error(QSR_ERROR_VULKAN, "vkQueueSubmit failed");
    f->index = index;
    f->depth = depth;
    return QSR_OK;
}

static int run(gpu *g, qsr_upscaler *up, const qsr_model_info *info, const options *o) {
    VkDeviceSize lr_bytes = (VkDeviceSize)o->width * o->height * 4;
    frame frames[FRAMES_IN_FLIGHT] = {0};
    int ok = 1;
    for (int i = 0; i < FRAMES_IN_FLIGHT && ok; i++)
        ok = create_frame(g, lr_bytes, lr_bytes * info->scale * info->scale, &frames[i]);
    if (!ok) fprintf(stderr, "vulkan_frames: cannot create the frame buffers\n");
    for (int i = 0; ok && i < o->frames; i++) {
        frame *f = &frames[i % FRAMES_IN_FLIGHT];
        /* Its previous frame has finished: write it out before drawing the next into it. */
        ok = finish_frame(g, f, up, o, info->scale);
        /* A different depth every frame, cycling through the model's levels: no re-preparing. */
        uint32_t depth = info->depth_levels[(uint32_t)i % info->depth_level_count];
        qsr_status st = ok ? submit_frame(g, f, up, o, info->scale, i, depth) : QSR_OK;
        if (st != QSR_OK) {
            fprintf(stderr, "vulkan_frames: frame %d: %s: %s\n", i, qsr_status_name(st),
                    qsr_last_error());
            ok = 0;
        }
    }
    /* The frames still in flight, oldest first. */
    for (int i = 0; i < FRAMES_IN_FLIGHT; i++) {
        frame *f = &frames[(o->frames + i) % FRAMES_IN_FLIGHT];
        if (f->fence) ok &= finish_frame(g, f, up, o, info->scale);
    }
    for (int i = 0; i < FRAMES_IN_FLIGHT; i++)
        destroy_frame(g, &frames[i]);
    return ok;
}

static int report(const char *step, qsr_status st) {
    fprintf(stderr, "vulkan_frames: %s: %s: %s\n", step, qsr_status_name(st), qsr_last_error());
    return 1;
}

int main(int argc, char **argv) {
    options o;
    if (!parse_options(argc, argv, &o)) {
        fprintf(stderr,
                "usage: vulkan_frames MODEL.qsr OUTDIR [--frames N] [--size WxH] [--verify]\n");
        return 2;
    }
    const char *v = getenv("QSR_VALIDATION");
    int validation = v && atoi(v) > 0;
    gpu g = {0};
    qsr_model *model = NULL;
    qsr_context *ctx = NULL;
    qsr_upscaler *up = NULL;
    qsr_model_info info;
    qsr_status st;
    int code = 0;
    if ((st = qsr_model_load_file(o.model, &model)) != QSR_OK)
        code = report("cannot load the model", st);
    else if ((st = qsr_model_get_info(model, &info)) != QSR_OK)
        code = report("cannot read the model", st);
    else if (volkInitialize() != VK_SUCCESS || !create_instance(&g, validation) ||
             !create_device(&g)) {
        fprintf(stderr, "vulkan_frames: no Vulkan device with a compute queue%s\n",
                validation ? " (or no validation layer)" : "");
        code = 1;
    } else {
        /* The runtime works on this program's device: no instance or device of its own. */
        qsr_vulkan_external external = {
            .instance = (void *)g.instance,
            .physical_device = (void *)g.physical,
            .device = (void *)g.device,
            .queue = (void *)g.queue,
            .queue_family = g.family,
            .api_version = VK_API_VERSION_1_1,
            .get_instance_proc_addr = (qsr_void_function)vkGetInstanceProcAddr,
        };
        if ((st = qsr_context_create_external(NULL, &external, &ctx)) != QSR_OK)
            code = report("cannot use the device", st);
        else if ((st = qsr_upscaler_create(ctx, model, NULL, &up)) != QSR_OK)
            code = report("cannot prepare the model on the device", st);
        /* Buffers and descriptor sets for this input size, once. */
        else if ((st = qsr_upscaler_prepare(up, o.width, o.height)) != QSR_OK)
            code = report("cannot prepare the frames", st);
        else if (!run(&g, up, &info, &o))
            code = 1;
    }
    qsr_upscaler_destroy(up);
    qsr_context_destroy(ctx); /* before the device it lives on */
    destroy_gpu(&g);
    qsr_model_destroy(model);
    if (g.validation_messages) {
        fprintf(stderr, "vulkan_frames: %u validation message(s)\n", g.validation_messages);
        code = 1;
    }
    return code;
}
