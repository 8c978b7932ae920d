/* present_vk.c - swapchain, compose pipeline and device buffers of the Vulkan presentation. */
#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include "present_vk.h"

#include "render.h"

#include <volk.h>

#include <SDL_vulkan.h>

#include "compose.spv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SWAPCHAIN_IMAGES 8
#define GROUP                16 /* compose.comp's local size */

typedef struct vk_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    void *mapped; /* host-visible buffers stay mapped */
} vk_buffer;

/* Push constants of compose.comp, in its order. */
typedef struct compose_params {
    int32_t win_w, win_h, split_x, img_w, img_h;
    float zoom, off_x, off_y;
    uint32_t has_left, has_right, swap_rb, linear, background;
} compose_params;

struct viewer_vk {
    SDL_Window *window;
    SDL_mutex *queue_lock;
    qsr_context *ctx;
    uint32_t generation; /* of the context's device when this was made */
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    struct VolkDeviceTable vk;
    VkPhysicalDeviceMemoryProperties memory_props;

    VkSurfaceKHR surface;
    VkSwapchainKHR swapchain;
    VkFormat format;
    VkExtent2D extent;
    uint32_t image_count;
    VkImage images[MAX_SWAPCHAIN_IMAGES];
    VkSemaphore rendered[MAX_SWAPCHAIN_IMAGES]; /* per image: presentation may still hold one */
    VkSemaphore acquired;
    int swap_rb;
    int needs_new_swapchain;
    int lost; /* the runtime recreated its device: every object here died with the old one */

    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence done; /* signalled when the last submission finished */
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout pipeline_layout;
    VkPipeline pipeline;
    VkDescriptorPool descriptor_pool;
    VkDescriptorSet set;

    vk_buffer frame;   /* composed frame, extent-sized words */
    vk_buffer overlay; /* host-visible RGBA words, extent-sized */
    vk_buffer left;
    vk_buffer dummy; /* bound where a side has no image */
    vk_buffer stops[VIEWER_MAX_STOPS];
    int left_w, left_h;
    int stop_w[VIEWER_MAX_STOPS], stop_h[VIEWER_MAX_STOPS];
    SDL_Surface *overlay_surface;
    SDL_Renderer *overlay_renderer;
    char description[128];
};

static int vk_error(char *err, size_t cap, const char *what, VkResult r) {
    snprintf(err, cap, "%s failed (VkResult %d)", what, (int)r);
    return -1;
}

static void lock_queue(viewer_vk *vk) {
    SDL_LockMutex(vk->queue_lock);
}
static void unlock_queue(viewer_vk *vk) {
    SDL_UnlockMutex(vk->queue_lock);
}

/* The runtime's queue_lock callback. */
static void queue_lock_callback(void *user, int locked) {
    if (locked)
        SDL_LockMutex((SDL_mutex *)user);
    else
        SDL_UnlockMutex((SDL_mutex *)user);
}

qsr_status viewer_vk_context_create(SDL_Window *window, int32_t device, SDL_mutex *queue_lock,
                                    const qsr_context_desc *extra, qsr_context **out) {
    unsigned count = 0;
    if (!SDL_Vulkan_GetInstanceExtensions(window, &count, NULL) || count > 16)
        return qsr_set_error(QSR_ERROR_UNSUPPORTED, "SDL_Vulkan_GetInstanceExtensions: %s",
                             count > 16 ? "more than 16 extensions" : SDL_GetError());
    const char *instance_ext[16];
    SDL_Vulkan_GetInstanceExtensions(window, &count, instance_ext);
    static const char *const device_ext[] = {VK_KHR_SWAPCHAIN_EXTENSION_NAME};
    qsr_context_desc desc;
    memset(&desc, 0, sizeof desc);
    if (extra) desc = *extra;
    desc.device = device;
    desc.instance_extensions = instance_ext;
    desc.instance_extension_count = count;
    desc.device_extensions = device_ext;
    desc.device_extension_count = 1;
    desc.queue_lock = queue_lock_callback;
    desc.queue_lock_user = queue_lock;
    return qsr_context_create(&desc, out);
}

/* ------------------------------------------------------------------------------------------
 * Buffers
 */

static int find_memory_type(const viewer_vk *vk, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < vk->memory_props.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (vk->memory_props.memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

static void buffer_free(viewer_vk *vk, vk_buffer *b) {
    if (vk->lost) {
        memset(b, 0, sizeof *b);
        return;
    }
    if (b->mapped) vk->vk.vkUnmapMemory(vk->device, b->memory);
    if (b->buffer) vk->vk.vkDestroyBuffer(vk->device, b->buffer, NULL);
    if (b->memory) vk->vk.vkFreeMemory(vk->device, b->memory, NULL);
    memset(b, 0, sizeof *b);
}

/* host: host-visible, coherent and mapped; else device-local where the device has it. */
static int buffer_create(viewer_vk *vk, VkDeviceSize size, VkBufferUsageFlags usage, int host,
                         vk_buffer *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = size;
    bi.usage = usage;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkResult r = vk->vk.vkCreateBuffer(vk->device, &bi, NULL, &out->buffer);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateBuffer", r);
    VkMemoryRequirements req;
    vk->vk.vkGetBufferMemoryRequirements(vk->device, out->buffer, &req);
    int type = host ? find_memory_type(vk, req.memoryTypeBits,
                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                           VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
                    : find_memory_type(vk, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0 && !host) type = find_memory_type(vk, req.memoryTypeBits, 0);
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = (uint32_t)(type < 0 ? 0 : type);
    r = type < 0 ? VK_ERROR_FEATURE_NOT_PRESENT
                 : vk->vk.vkAllocateMemory(vk->device, &ai, NULL, &out->memory);
    if (r == VK_SUCCESS) r = vk->vk.vkBindBufferMemory(vk->device, out->buffer, out->memory, 0);
    if (r == VK_SUCCESS && host)
        r = vk->vk.vkMapMemory(vk->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped);
    if (r != VK_SUCCESS) {
        buffer_free(vk, out);
        snprintf(err, cap, "cannot allocate a %llu-byte %s buffer (VkResult %d)",
                 (unsigned long long)size, host ? "host-visible" : "device", (int)r);
        return -1;
    }
    out->size = size;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Commands
 */

static int wait_last_submission(viewer_vk *vk, char *err, size_t cap) {
    VkResult r = vk->vk.vkWaitForFences(vk->device, 1, &vk->done, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkWaitForFences", r);
    return 0;
}

static int begin_commands(viewer_vk *vk, char *err, size_t cap) {
    if (wait_last_submission(vk, err, cap) != 0) return -1;
    VkResult r = vk->vk.vkResetCommandBuffer(vk->cmd, 0);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    if (r == VK_SUCCESS) r = vk->vk.vkBeginCommandBuffer(vk->cmd, &bi);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkBeginCommandBuffer", r);
    return 0;
}

/* Ends vk->cmd and submits it (waiting on `wait` at the transfer stage, signalling `signal`,
 * either may be null) under the queue lock. */
static int submit_commands(viewer_vk *vk, VkSemaphore wait, VkSemaphore signal, char *err,
                           size_t cap) {
    VkResult r = vk->vk.vkEndCommandBuffer(vk->cmd);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkEndCommandBuffer", r);
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.waitSemaphoreCount = wait ? 1 : 0;
    si.pWaitSemaphores = &wait;
    si.pWaitDstStageMask = &stage;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &vk->cmd;
    si.signalSemaphoreCount = signal ? 1 : 0;
    si.pSignalSemaphores = &signal;
    r = vk->vk.vkResetFences(vk->device, 1, &vk->done);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkResetFences", r);
    lock_queue(vk);
    r = vk->vk.vkQueueSubmit(vk->queue, 1, &si, vk->done);
    unlock_queue(vk);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkQueueSubmit", r);
    return 0;
}

/* Every earlier write on the queue (the runtime's, the last frame's) before what follows. */
static void barrier_all_writes(viewer_vk *vk, VkPipelineStageFlags dst_stage,
                               VkAccessFlags dst_access) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
    mb.dstAccessMask = dst_access;
    vk->vk.vkCmdPipelineBarrier(vk->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, dst_stage, 0, 1, &mb,
                                0, NULL, 0, NULL);
}

/* Copies `size` bytes from host memory into device buffer dst through a staging buffer, and
 * waits for it. */
static int upload(viewer_vk *vk, vk_buffer *dst, const void *data, VkDeviceSize size, char *err,
                  size_t cap) {
    vk_buffer staging;
    if (buffer_create(vk, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, 1, &staging, err, cap) != 0)
        return -1;
    memcpy(staging.mapped, data, (size_t)size);
    int rc = begin_commands(vk, err, cap);
    if (rc == 0) {
        barrier_all_writes(vk, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
        VkBufferCopy region = {0, 0, size};
        vk->vk.vkCmdCopyBuffer(vk->cmd, staging.buffer, dst->buffer, 1, &region);
        rc = submit_commands(vk, VK_NULL_HANDLE, VK_NULL_HANDLE, err, cap);
    }
    if (rc == 0) rc = wait_last_submission(vk, err, cap);
    buffer_free(vk, &staging);
    return rc;
}

/* Copies device buffer src into a new host buffer (caller frees) and waits for it. */
static int download(viewer_vk *vk, const vk_buffer *src, vk_buffer *host, char *err, size_t cap) {
    if (buffer_create(vk, src->size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, 1, host, err, cap) != 0)
        return -1;
    int rc = begin_commands(vk, err, cap);
    if (rc == 0) {
        barrier_all_writes(vk, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
        VkBufferCopy region = {0, 0, src->size};
        vk->vk.vkCmdCopyBuffer(vk->cmd, src->buffer, host->buffer, 1, &region);
        VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
        vk->vk.vkCmdPipelineBarrier(vk->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                    VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
        rc = submit_commands(vk, VK_NULL_HANDLE, VK_NULL_HANDLE, err, cap);
    }
    if (rc == 0) rc = wait_last_submission(vk, err, cap);
    if (rc != 0) buffer_free(vk, host);
    return rc;
}

/* An RGB image as RGBA words (R in the low byte, alpha 255), as run_to_buffer writes them. */
static uint32_t *rgb_to_words(const qsr_image *image) {
    size_t n = (size_t)image->width * image->height;
    uint32_t *words = malloc(n * 4 + 4);
    if (!words) return NULL;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = image->pixels + i * image->channels;
        words[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | 0xff000000u;
    }
    return words;
}

/* A device buffer of an RGB image's words. */
static int image_buffer(viewer_vk *vk, const qsr_image *image, vk_buffer *out, char *err,
                        size_t cap) {
    VkDeviceSize size = (VkDeviceSize)image->width * image->height * 4;
    uint32_t *words = rgb_to_words(image);
    if (!words) {
        snprintf(err, cap, "out of memory for a %ux%u upload", image->width, image->height);
        return -1;
    }
    int rc = buffer_create(vk, size,
                           VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                           0, out, err, cap);
    if (rc == 0 && upload(vk, out, words, size, err, cap) != 0) {
        buffer_free(vk, out);
        rc = -1;
    }
    free(words);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Swapchain
 */

static const char *format_name(VkFormat f) {
    switch (f) {
    case VK_FORMAT_B8G8R8A8_UNORM:
        return "B8G8R8A8_UNORM";
    case VK_FORMAT_R8G8B8A8_UNORM:
        return "R8G8B8A8_UNORM";
    case VK_FORMAT_B8G8R8A8_SRGB:
        return "B8G8R8A8_SRGB";
    case VK_FORMAT_R8G8B8A8_SRGB:
        return "R8G8B8A8_SRGB";
    default:
        return "?";
    }
}

/* A format the composed words can be copied into byte for byte: UNORM first (the bytes are
 * the sRGB-encoded values the SDL_Renderer path shows too); an SRGB format holds the same
 * bytes, since a buffer-to-image copy does not convert. */
static int choose_format(viewer_vk *vk, char *err, size_t cap) {
    VkSurfaceFormatKHR formats[64];
    uint32_t n = 64;
    VkResult r = vkGetPhysicalDeviceSurfaceFormatsKHR(vk->physical, vk->surface, &n, formats);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return vk_error(err, cap, "vkGetPhysicalDeviceSurfaceFormatsKHR", r);
    static const VkFormat preferred[] = {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM,
                                         VK_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_R8G8B8A8_SRGB};
    for (size_t k = 0; k < sizeof preferred / sizeof preferred[0]; k++)
        for (uint32_t i = 0; i < n; i++)
            if (formats[i].format == preferred[k] &&
                formats[i].colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) {
                vk->format = preferred[k];
                vk->swap_rb = preferred[k] == VK_FORMAT_B8G8R8A8_UNORM ||
                              preferred[k] == VK_FORMAT_B8G8R8A8_SRGB;
                return 0;
            }
    snprintf(err, cap, "the surface offers no 8-bit RGBA/BGRA format (%u formats)", n);
    return -1;
}

/* The window-sized parts: the composed frame, the overlay and its CPU renderer. */
static void free_frame_resources(viewer_vk *vk) {
    if (vk->overlay_renderer) SDL_DestroyRenderer(vk->overlay_renderer);
    if (vk->overlay_surface) SDL_FreeSurface(vk->overlay_surface);
    vk->overlay_renderer = NULL;
    vk->overlay_surface = NULL;
    buffer_free(vk, &vk->frame);
    buffer_free(vk, &vk->overlay);
}
static void destroy_swapchain_objects(viewer_vk *vk) {
    for (uint32_t i = 0; i < MAX_SWAPCHAIN_IMAGES; i++)
        if (vk->rendered[i]) vk->vk.vkDestroySemaphore(vk->device, vk->rendered[i], NULL);
    memset(vk->rendered, 0, sizeof vk->rendered);
    if (vk->swapchain) vk->vk.vkDestroySwapchainKHR(vk->device, vk->swapchain, NULL);
    vk->swapchain = VK_NULL_HANDLE;
    vk->image_count = 0;
    free_frame_resources(vk);
}

static void wait_queue_idle(viewer_vk *vk) {
    lock_queue(vk);
    vk->vk.vkQueueWaitIdle(vk->queue);
    unlock_queue(vk);
}

/* The frame and overlay buffers of the swapchain's size, and the surface the overlay is drawn
 * on (it writes straight into the mapped overlay buffer). */
static int create_frame_buffers(viewer_vk *vk, char *err, size_t cap) {
    VkDeviceSize size = (VkDeviceSize)vk->extent.width * vk->extent.height * 4;
    if (buffer_create(vk, size,
                      VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT, 0,
                      &vk->frame, err, cap) != 0 ||
        buffer_create(vk, size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, 1, &vk->overlay, err, cap) != 0)
        return -1;
    vk->overlay_surface = SDL_CreateRGBSurfaceWithFormatFrom(
        vk->overlay.mapped, (int)vk->extent.width, (int)vk->extent.height, 32,
        (int)vk->extent.width * 4, SDL_PIXELFORMAT_RGBA32);
    if (vk->overlay_surface) vk->overlay_renderer = SDL_CreateSoftwareRenderer(vk->overlay_surface);
    if (!vk->overlay_renderer) {
        snprintf(err, cap, "cannot make the overlay surface: %s", SDL_GetError());
        return -1;
    }
    return 0;
}

static VkCompositeAlphaFlagBitsKHR composite_alpha(VkCompositeAlphaFlagsKHR supported) {
    static const VkCompositeAlphaFlagBitsKHR order[] = {
        VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR, VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR,
        VK_COMPOSITE_ALPHA_PRE_MULTIPLIED_BIT_KHR, VK_COMPOSITE_ALPHA_POST_MULTIPLIED_BIT_KHR};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (supported & order[i]) return order[i];
    return VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
}

/* (Re)makes the swapchain for the window's current size. Returns 1 when the window has no
 * area (minimised): nothing is made and nothing drawn. */
static int create_swapchain(viewer_vk *vk, char *err, size_t cap) {
    VkSurfaceCapabilitiesKHR caps;
    VkResult r = vkGetPhysicalDeviceSurfaceCapabilitiesKHR(vk->physical, vk->surface, &caps);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkGetPhysicalDeviceSurfaceCapabilitiesKHR", r);
    if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT)) {
        snprintf(err, cap, "the surface's images cannot be copied into (no TRANSFER_DST usage)");
        return -1;
    }
    int dw = 0, dh = 0;
    SDL_Vulkan_GetDrawableSize(vk->window, &dw, &dh);
    VkExtent2D extent = caps.currentExtent;
    if (extent.width == 0xFFFFFFFFu) {
        extent.width = (uint32_t)(dw > 0 ? dw : 0);
        extent.height = (uint32_t)(dh > 0 ? dh : 0);
    }
    wait_queue_idle(vk);
    VkSwapchainKHR old = vk->swapchain;
    vk->swapchain = VK_NULL_HANDLE;
    for (uint32_t i = 0; i < MAX_SWAPCHAIN_IMAGES; i++)
        if (vk->rendered[i]) vk->vk.vkDestroySemaphore(vk->device, vk->rendered[i], NULL);
    memset(vk->rendered, 0, sizeof vk->rendered);
    if (extent.width == 0 || extent.height == 0) {
        if (old) vk->vk.vkDestroySwapchainKHR(vk->device, old, NULL);
        vk->extent = extent;
        return 1;
    }
    uint32_t images = caps.minImageCount < 2 ? 2 : caps.minImageCount;
    if (caps.maxImageCount && images > caps.maxImageCount) images = caps.maxImageCount;
    if (images > MAX_SWAPCHAIN_IMAGES) images = MAX_SWAPCHAIN_IMAGES;
    VkSwapchainCreateInfoKHR ci = {.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
    ci.surface = vk->surface;
    ci.minImageCount = images;
    ci.imageFormat = vk->format;
    ci.imageColorSpace = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR;
    ci.imageExtent = extent;
    ci.imageArrayLayers = 1;
    ci.imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    ci.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
    ci.preTransform = caps.currentTransform;
    ci.compositeAlpha = composite_alpha(caps.supportedCompositeAlpha);
    ci.presentMode = VK_PRESENT_MODE_FIFO_KHR; /* the one mode every driver has */
    ci.clipped = VK_TRUE;
    ci.oldSwapchain = old;
    r = vk->vk.vkCreateSwapchainKHR(vk->device, &ci, NULL, &vk->swapchain);
    if (old) vk->vk.vkDestroySwapchainKHR(vk->device, old, NULL);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateSwapchainKHR", r);
    vk->image_count = MAX_SWAPCHAIN_IMAGES;
    r = vk->vk.vkGetSwapchainImagesKHR(vk->device, vk->swapchain, &vk->image_count, vk->images);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return vk_error(err, cap, "vkGetSwapchainImagesKHR", r);
    VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    for (uint32_t i = 0; i < vk->image_count; i++) {
        r = vk->vk.vkCreateSemaphore(vk->device, &si, NULL, &vk->rendered[i]);
        if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateSemaphore", r);
    }
    int same_size =
        vk->frame.buffer && vk->extent.width == extent.width && vk->extent.height == extent.height;
    vk->extent = extent;
    vk->needs_new_swapchain = 0;
    if (same_size) return 0;
    free_frame_resources(vk);
    return create_frame_buffers(vk, err, cap);
}

/* ------------------------------------------------------------------------------------------
 * Setup
 */

static int create_pipeline(viewer_vk *vk, char *err, size_t cap) {
    VkDescriptorSetLayoutBinding bindings[4];
    memset(bindings, 0, sizeof bindings);
    for (uint32_t i = 0; i < 4; i++) {
        bindings[i].binding = i;
        bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        bindings[i].descriptorCount = 1;
        bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    VkDescriptorSetLayoutCreateInfo li = {.sType =
                                              VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    li.bindingCount = 4;
    li.pBindings = bindings;
    VkResult r = vk->vk.vkCreateDescriptorSetLayout(vk->device, &li, NULL, &vk->set_layout);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateDescriptorSetLayout", r);
    VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(compose_params)};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pli.setLayoutCount = 1;
    pli.pSetLayouts = &vk->set_layout;
    pli.pushConstantRangeCount = 1;
    pli.pPushConstantRanges = &range;
    r = vk->vk.vkCreatePipelineLayout(vk->device, &pli, NULL, &vk->pipeline_layout);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreatePipelineLayout", r);
    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    mi.codeSize = sizeof viewer_spv_compose;
    mi.pCode = viewer_spv_compose;
    VkShaderModule module;
    r = vk->vk.vkCreateShaderModule(vk->device, &mi, NULL, &module);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateShaderModule", r);
    VkComputePipelineCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = module;
    ci.stage.pName = "main";
    ci.layout = vk->pipeline_layout;
    r = vk->vk.vkCreateComputePipelines(vk->device, VK_NULL_HANDLE, 1, &ci, NULL, &vk->pipeline);
    vk->vk.vkDestroyShaderModule(vk->device, module, NULL);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateComputePipelines", r);
    VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4};
    VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pi.maxSets = 1;
    pi.poolSizeCount = 1;
    pi.pPoolSizes = &size;
    r = vk->vk.vkCreateDescriptorPool(vk->device, &pi, NULL, &vk->descriptor_pool);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateDescriptorPool", r);
    VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = vk->descriptor_pool;
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &vk->set_layout;
    r = vk->vk.vkAllocateDescriptorSets(vk->device, &ai, &vk->set);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkAllocateDescriptorSets", r);
    return 0;
}

static int create_commands(viewer_vk *vk, char *err, size_t cap) {
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = vk->family;
    VkResult r = vk->vk.vkCreateCommandPool(vk->device, &pi, NULL, &vk->pool);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateCommandPool", r);
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = vk->pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    r = vk->vk.vkAllocateCommandBuffers(vk->device, &ai, &vk->cmd);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkAllocateCommandBuffers", r);
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    fi.flags = VK_FENCE_CREATE_SIGNALED_BIT;
    r = vk->vk.vkCreateFence(vk->device, &fi, NULL, &vk->done);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateFence", r);
    VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    r = vk->vk.vkCreateSemaphore(vk->device, &si, NULL, &vk->acquired);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkCreateSemaphore", r);
    return 0;
}

/* The context's handles, its device functions and the window's surface on its instance. */
static int connect(viewer_vk *vk, SDL_Window *window, qsr_context *ctx, char *err, size_t cap) {
    qsr_vulkan_handles h;
    if (qsr_context_get_vulkan(ctx, &h) != QSR_OK) {
        snprintf(err, cap, "qsr_context_get_vulkan: %s", qsr_last_error());
        return -1;
    }
    vk->window = window;
    vk->ctx = ctx;
    vk->generation = h.generation;
    vk->instance = (VkInstance)h.instance;
    vk->physical = (VkPhysicalDevice)h.physical_device;
    vk->device = (VkDevice)h.device;
    vk->queue = (VkQueue)h.queue;
    vk->family = h.queue_family;
    volkLoadInstanceOnly(vk->instance);
    volkLoadDeviceTable(&vk->vk, vk->device);
    vkGetPhysicalDeviceMemoryProperties(vk->physical, &vk->memory_props);
    if (!SDL_Vulkan_CreateSurface(window, vk->instance, &vk->surface)) {
        snprintf(err, cap, "SDL_Vulkan_CreateSurface: %s", SDL_GetError());
        vk->surface = VK_NULL_HANDLE;
        return -1;
    }
    VkBool32 can_present = VK_FALSE;
    VkResult r =
        vkGetPhysicalDeviceSurfaceSupportKHR(vk->physical, vk->family, vk->surface, &can_present);
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkGetPhysicalDeviceSurfaceSupportKHR", r);
    if (!can_present) {
        snprintf(err, cap, "the device cannot present to the window from queue family %u",
                 vk->family);
        return -1;
    }
    return 0;
}

int viewer_vk_create(SDL_Window *window, qsr_context *ctx, SDL_mutex *queue_lock, viewer_vk **out,
                     char *err, size_t err_cap) {
    viewer_vk *vk = calloc(1, sizeof *vk);
    if (!vk) {
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    vk->queue_lock = queue_lock;
    int rc = connect(vk, window, ctx, err, err_cap);
    if (rc == 0) rc = choose_format(vk, err, err_cap);
    if (rc == 0) rc = create_commands(vk, err, err_cap);
    if (rc == 0) rc = create_pipeline(vk, err, err_cap);
    if (rc == 0)
        rc = buffer_create(vk, 16, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, 0, &vk->dummy, err, err_cap);
    if (rc == 0 && create_swapchain(vk, err, err_cap) < 0) rc = -1;
    if (rc != 0) {
        viewer_vk_destroy(vk);
        return -1;
    }
    snprintf(vk->description, sizeof vk->description,
             "Vulkan swapchain (%s, compute compose, no CPU copy)", format_name(vk->format));
    *out = vk;
    return 0;
}

void viewer_vk_destroy(viewer_vk *vk) {
    if (!vk) return;
    if (vk->device && !vk->lost) {
        wait_queue_idle(vk);
        viewer_vk_drop_stops(vk);
        destroy_swapchain_objects(vk);
        buffer_free(vk, &vk->left);
        buffer_free(vk, &vk->dummy);
        if (vk->pipeline) vk->vk.vkDestroyPipeline(vk->device, vk->pipeline, NULL);
        if (vk->pipeline_layout)
            vk->vk.vkDestroyPipelineLayout(vk->device, vk->pipeline_layout, NULL);
        if (vk->descriptor_pool)
            vk->vk.vkDestroyDescriptorPool(vk->device, vk->descriptor_pool, NULL);
        if (vk->set_layout) vk->vk.vkDestroyDescriptorSetLayout(vk->device, vk->set_layout, NULL);
        if (vk->acquired) vk->vk.vkDestroySemaphore(vk->device, vk->acquired, NULL);
        if (vk->done) vk->vk.vkDestroyFence(vk->device, vk->done, NULL);
        if (vk->pool) vk->vk.vkDestroyCommandPool(vk->device, vk->pool, NULL);
    }
    if (vk->overlay_renderer) SDL_DestroyRenderer(vk->overlay_renderer);
    if (vk->overlay_surface) SDL_FreeSurface(vk->overlay_surface);
    if (vk->surface) vkDestroySurfaceKHR(vk->instance, vk->surface, NULL);
    free(vk);
}

const char *viewer_vk_description(const viewer_vk *vk) {
    return vk->description;
}

/* ------------------------------------------------------------------------------------------
 * Content
 */

int viewer_vk_set_left(viewer_vk *vk, const qsr_image *image, char *err, size_t err_cap) {
    if (wait_last_submission(vk, err, err_cap) != 0) return -1;
    buffer_free(vk, &vk->left);
    vk->left_w = vk->left_h = 0;
    if (!image || !image->pixels) return 0;
    if (image_buffer(vk, image, &vk->left, err, err_cap) != 0) return -1;
    vk->left_w = (int)image->width;
    vk->left_h = (int)image->height;
    return 0;
}

int viewer_vk_open_stop(viewer_vk *vk, uint32_t stop, const qsr_image *placeholder,
                        qsr_gpu_buffer *out, char *err, size_t err_cap) {
    if (stop >= VIEWER_MAX_STOPS) {
        snprintf(err, err_cap, "depth stop %u out of range", stop);
        return -1;
    }
    vk_buffer *b = &vk->stops[stop];
    if (b->buffer && (vk->stop_w[stop] != (int)placeholder->width ||
                      vk->stop_h[stop] != (int)placeholder->height)) {
        /* Another output size (live frames of different sizes): the worker is not writing
         * into this one, the caller only opens a buffer that is neither shown nor in use. */
        if (wait_last_submission(vk, err, err_cap) != 0) return -1;
        buffer_free(vk, b);
    }
    if (!b->buffer) {
        if (image_buffer(vk, placeholder, b, err, err_cap) != 0) return -1;
        vk->stop_w[stop] = (int)placeholder->width;
        vk->stop_h[stop] = (int)placeholder->height;
    }
    out->buffer = (void *)b->buffer;
    out->offset = 0;
    out->size = b->size;
    return 0;
}

void viewer_vk_drop_stops(viewer_vk *vk) {
    char err[64];
    if (!vk->lost) wait_last_submission(vk, err, sizeof err);
    for (uint32_t i = 0; i < VIEWER_MAX_STOPS; i++)
        buffer_free(vk, &vk->stops[i]);
}

int viewer_vk_read_stop(viewer_vk *vk, uint32_t stop, qsr_image *out, char *err, size_t err_cap) {
    if (stop >= VIEWER_MAX_STOPS || !vk->stops[stop].buffer) {
        snprintf(err, err_cap, "depth stop %u has no device buffer", stop);
        return -1;
    }
    vk_buffer host;
    if (download(vk, &vk->stops[stop], &host, err, err_cap) != 0) return -1;
    qsr_image img;
    int rc = -1;
    if (qsr_image_create((uint32_t)vk->stop_w[stop], (uint32_t)vk->stop_h[stop], 3, &img) ==
        QSR_OK) {
        const uint32_t *words = host.mapped;
        for (size_t i = 0; i < (size_t)img.width * img.height; i++) {
            img.pixels[3 * i] = (uint8_t)words[i];
            img.pixels[3 * i + 1] = (uint8_t)(words[i] >> 8);
            img.pixels[3 * i + 2] = (uint8_t)(words[i] >> 16);
        }
        *out = img;
        rc = 0;
    } else {
        snprintf(err, err_cap, "out of memory for a %dx%d image", vk->stop_w[stop],
                 vk->stop_h[stop]);
    }
    buffer_free(vk, &host);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Frames
 */

static void bind_buffers(viewer_vk *vk, long right_stop) {
    VkBuffer right = right_stop >= 0 && right_stop < (long)VIEWER_MAX_STOPS
                         ? vk->stops[right_stop].buffer
                         : VK_NULL_HANDLE;
    VkDescriptorBufferInfo infos[4] = {
        {vk->left.buffer ? vk->left.buffer : vk->dummy.buffer, 0, VK_WHOLE_SIZE},
        {right ? right : vk->dummy.buffer, 0, VK_WHOLE_SIZE},
        {vk->overlay.buffer, 0, VK_WHOLE_SIZE},
        {vk->frame.buffer, 0, VK_WHOLE_SIZE},
    };
    VkWriteDescriptorSet writes[4];
    memset(writes, 0, sizeof writes);
    for (uint32_t i = 0; i < 4; i++) {
        writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        writes[i].dstSet = vk->set;
        writes[i].dstBinding = i;
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    vk->vk.vkUpdateDescriptorSets(vk->device, 4, writes, 0, NULL);
}

static void draw_overlay(viewer_vk *vk, const viewer_view *view, const viewer_hud *hud) {
    memset(vk->overlay.mapped, 0, (size_t)vk->overlay.size); /* transparent */
    viewer_view v = *view;
    viewer_render_decorations(vk->overlay_renderer, &v, hud);
    SDL_RenderFlush(vk->overlay_renderer);
}

static compose_params make_params(const viewer_vk *vk, const viewer_view *v, long right_stop) {
    compose_params p;
    memset(&p, 0, sizeof p);
    p.win_w = (int32_t)vk->extent.width;
    p.win_h = (int32_t)vk->extent.height;
    p.split_x = viewer_view_split_x(v);
    p.img_w = v->img_w;
    p.img_h = v->img_h;
    p.zoom = (float)v->zoom;
    p.off_x = (float)v->off_x;
    p.off_y = (float)v->off_y;
    p.has_left = vk->left.buffer && vk->left_w == v->img_w && vk->left_h == v->img_h;
    p.has_right = right_stop >= 0 && right_stop < (long)VIEWER_MAX_STOPS &&
                  vk->stops[right_stop].buffer && vk->stop_w[right_stop] == v->img_w &&
                  vk->stop_h[right_stop] == v->img_h;
    p.swap_rb = (uint32_t)vk->swap_rb;
    p.linear = v->zoom < 1.0;
    p.background =
        VIEWER_BACKGROUND_R | VIEWER_BACKGROUND_G << 8 | VIEWER_BACKGROUND_B << 16 | 0xffu << 24;
    return p;
}

static void record_frame(viewer_vk *vk, const compose_params *p, uint32_t image) {
    barrier_all_writes(vk, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    vk->vk.vkCmdBindPipeline(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, vk->pipeline);
    vk->vk.vkCmdBindDescriptorSets(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, vk->pipeline_layout, 0,
                                   1, &vk->set, 0, NULL);
    vk->vk.vkCmdPushConstants(vk->cmd, vk->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                              sizeof *p, p);
    vk->vk.vkCmdDispatch(vk->cmd, (vk->extent.width + GROUP - 1) / GROUP,
                         (vk->extent.height + GROUP - 1) / GROUP, 1);

    VkBufferMemoryBarrier frame_ready = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
    frame_ready.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    frame_ready.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
    frame_ready.srcQueueFamilyIndex = frame_ready.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    frame_ready.buffer = vk->frame.buffer;
    frame_ready.size = VK_WHOLE_SIZE;
    VkImageMemoryBarrier to_dst = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    to_dst.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    to_dst.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    to_dst.newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    to_dst.srcQueueFamilyIndex = to_dst.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    to_dst.image = vk->images[image];
    to_dst.subresourceRange = (VkImageSubresourceRange){VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vk->vk.vkCmdPipelineBarrier(
        vk->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
        VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 1, &frame_ready, 1, &to_dst);

    VkBufferImageCopy copy;
    memset(&copy, 0, sizeof copy);
    copy.imageSubresource = (VkImageSubresourceLayers){VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    copy.imageExtent = (VkExtent3D){vk->extent.width, vk->extent.height, 1};
    vk->vk.vkCmdCopyBufferToImage(vk->cmd, vk->frame.buffer, vk->images[image],
                                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &copy);

    VkImageMemoryBarrier to_present = to_dst;
    to_present.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    to_present.dstAccessMask = 0;
    to_present.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    to_present.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
    vk->vk.vkCmdPipelineBarrier(vk->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0, NULL, 1,
                                &to_present);
}

static int device_still_ours(viewer_vk *vk, char *err, size_t cap) {
    qsr_vulkan_handles h;
    if (qsr_context_get_vulkan(vk->ctx, &h) == QSR_OK && h.generation == vk->generation) return 0;
    vk->lost = 1;
    snprintf(err, cap, "the Vulkan device was lost and recreated");
    return -1;
}

/* Acquires an image; 1 = the swapchain had to be made again (or the window has no area). */
static int acquire(viewer_vk *vk, uint32_t *image, char *err, size_t cap) {
    VkResult r = vk->vk.vkAcquireNextImageKHR(vk->device, vk->swapchain, UINT64_MAX, vk->acquired,
                                              VK_NULL_HANDLE, image);
    if (r == VK_SUCCESS) return 0;
    if (r == VK_SUBOPTIMAL_KHR) {
        vk->needs_new_swapchain = 1; /* after this frame: the semaphore is signalled now */
        return 0;
    }
    if (r == VK_ERROR_OUT_OF_DATE_KHR) return create_swapchain(vk, err, cap) < 0 ? -1 : 1;
    return vk_error(err, cap, "vkAcquireNextImageKHR", r);
}

static int present(viewer_vk *vk, uint32_t image, char *err, size_t cap) {
    VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
    pi.waitSemaphoreCount = 1;
    pi.pWaitSemaphores = &vk->rendered[image];
    pi.swapchainCount = 1;
    pi.pSwapchains = &vk->swapchain;
    pi.pImageIndices = &image;
    lock_queue(vk);
    VkResult r = vk->vk.vkQueuePresentKHR(vk->queue, &pi);
    unlock_queue(vk);
    if (r == VK_SUBOPTIMAL_KHR || r == VK_ERROR_OUT_OF_DATE_KHR) {
        vk->needs_new_swapchain = 1;
        return 0;
    }
    if (r != VK_SUCCESS) return vk_error(err, cap, "vkQueuePresentKHR", r);
    return 0;
}

/* The swapchain matches the window's size, or is made again. 1: nothing to draw on. */
static int ensure_swapchain(viewer_vk *vk, char *err, size_t cap) {
    int dw = 0, dh = 0;
    SDL_Vulkan_GetDrawableSize(vk->window, &dw, &dh);
    if (dw <= 0 || dh <= 0 || (SDL_GetWindowFlags(vk->window) & SDL_WINDOW_MINIMIZED)) return 1;
    if (vk->swapchain && !vk->needs_new_swapchain && (uint32_t)dw == vk->extent.width &&
        (uint32_t)dh == vk->extent.height)
        return 0;
    if (wait_last_submission(vk, err, cap) != 0) return -1;
    return create_swapchain(vk, err, cap);
}

int viewer_vk_draw(viewer_vk *vk, const viewer_view *view, long right_stop, const viewer_hud *hud,
                   char *err, size_t err_cap) {
    if (device_still_ours(vk, err, err_cap) != 0) return -1;
    uint32_t image = 0;
    int acquired = 0;
    for (int attempt = 0; attempt < 3 && !acquired; attempt++) {
        int rc = ensure_swapchain(vk, err, err_cap);
        if (rc == 1) return 0; /* minimised: nothing to draw on */
        if (rc < 0 || wait_last_submission(vk, err, err_cap) != 0) return -1;
        rc = acquire(vk, &image, err, err_cap);
        if (rc < 0) return -1;
        acquired = rc == 0;
    }
    if (!acquired) return 0; /* the window keeps changing: the next pass draws */
    draw_overlay(vk, view, hud);
    bind_buffers(vk, right_stop);
    compose_params p = make_params(vk, view, right_stop);
    if (begin_commands(vk, err, err_cap) != 0) return -1;
    record_frame(vk, &p, image);
    if (submit_commands(vk, vk->acquired, vk->rendered[image], err, err_cap) != 0) return -1;
    return present(vk, image, err, err_cap);
}

int viewer_vk_read_frame(viewer_vk *vk, qsr_image *out, char *err, size_t err_cap) {
    if (!vk->frame.buffer) {
        snprintf(err, err_cap, "no frame has been drawn (minimised window?)");
        return -1;
    }
    vk_buffer host;
    if (download(vk, &vk->frame, &host, err, err_cap) != 0) return -1;
    qsr_image img;
    int rc = -1;
    if (qsr_image_create(vk->extent.width, vk->extent.height, 3, &img) == QSR_OK) {
        const uint32_t *words = host.mapped;
        int r_shift = vk->swap_rb ? 16 : 0, b_shift = vk->swap_rb ? 0 : 16;
        for (size_t i = 0; i < (size_t)img.width * img.height; i++) {
            img.pixels[3 * i] = (uint8_t)(words[i] >> r_shift);
            img.pixels[3 * i + 1] = (uint8_t)(words[i] >> 8);
            img.pixels[3 * i + 2] = (uint8_t)(words[i] >> b_shift);
        }
        *out = img;
        rc = 0;
    } else {
        snprintf(err, err_cap, "out of memory for a %ux%u screenshot", vk->extent.width,
                 vk->extent.height);
    }
    buffer_free(vk, &host);
    return rc;
}
