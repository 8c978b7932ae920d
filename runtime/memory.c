/* memory.c - buffers: device-local for weights and activations, host-visible for transfers. */
#include "vk.h"

#include <string.h>

static int find_memory_type(const qsr_context *ctx, uint32_t type_bits, VkMemoryPropertyFlags want,
                            uint32_t *out) {
    for (uint32_t i = 0; i < ctx->memory.memoryTypeCount; i++)
        if ((type_bits & (1u << i)) && (ctx->memory.memoryTypes[i].propertyFlags & want) == want) {
            *out = i;
            return 1;
        }
    return 0;
}

qsr_status qsr__buffer_create(qsr_context *ctx, VkDeviceSize size, qsr__memory_kind kind,
                              qsr__buffer *out) {
    memset(out, 0, sizeof *out);
    /* A binding must point at something, and a 16-byte texel view must reach every byte. */
    size = size == 0 ? 16 : (size + 15) / 16 * 16;
    if (size > ctx->info.max_storage_buffer_range)
        return qsr__fail(QSR_ERROR_OUT_OF_DEVICE_MEMORY,
                         "buffer of %llu bytes exceeds the device's maxStorageBufferRange (%llu)",
                         (unsigned long long)size,
                         (unsigned long long)ctx->info.max_storage_buffer_range);
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    QSR__VK(ctx->vk.vkCreateBuffer(ctx->device, &info, ctx->alloc, &out->buffer));
    VkMemoryRequirements req;
    ctx->vk.vkGetBufferMemoryRequirements(ctx->device, out->buffer, &req);
    uint32_t type = 0;
    int found;
    if (kind == QSR__MEMORY_HOST) {
        /* Cached host memory reads back fast; fall back to any coherent host memory. */
        found = find_memory_type(ctx, req.memoryTypeBits,
                                 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                     VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                                 &type) ||
                find_memory_type(ctx, req.memoryTypeBits,
                                 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                 &type);
    } else {
        found =
            find_memory_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &type) ||
            find_memory_type(ctx, req.memoryTypeBits, 0, &type);
    }
    if (!found) {
        qsr__buffer_destroy(ctx, out);
        return qsr__fail(QSR_ERROR_VULKAN, "no suitable memory type for a %s buffer",
                         kind == QSR__MEMORY_HOST ? "host-visible" : "device");
    }
    VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    VkResult r = kind == QSR__MEMORY_DEVICE && qsr__fault_hit(&ctx->faults, QSR__FAULT_ALLOC)
                     ? VK_ERROR_OUT_OF_DEVICE_MEMORY
                     : ctx->vk.vkAllocateMemory(ctx->device, &alloc, ctx->alloc, &out->memory);
    if (r == VK_SUCCESS) r = ctx->vk.vkBindBufferMemory(ctx->device, out->buffer, out->memory, 0);
    if (r == VK_SUCCESS && kind == QSR__MEMORY_HOST)
        r = ctx->vk.vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped);
    if (r != VK_SUCCESS) {
        qsr__buffer_destroy(ctx, out);
        qsr__vk_fail(r, "vkAllocateMemory");
        return qsr__fail_context(r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? QSR_ERROR_OUT_OF_DEVICE_MEMORY
                                                                    : QSR_ERROR_VULKAN,
                                 "allocating %llu bytes", (unsigned long long)size);
    }
    out->size = size;
    out->allocated = req.size;
    out->host = kind == QSR__MEMORY_HOST;
    qsr_memory_stats *ms = &ctx->memory_stats;
    ms->allocations++;
    if (out->host) {
        ms->host_bytes += req.size;
    } else {
        ms->device_bytes += req.size;
        if (ms->device_bytes > ms->peak_device_bytes) ms->peak_device_bytes = ms->device_bytes;
    }
    return QSR_OK;
}

void qsr__buffer_destroy(qsr_context *ctx, qsr__buffer *buf) {
    if (!buf) return;
    if (buf->mapped) ctx->vk.vkUnmapMemory(ctx->device, buf->memory);
    if (buf->view) ctx->vk.vkDestroyBufferView(ctx->device, buf->view, ctx->alloc);
    if (buf->view4) ctx->vk.vkDestroyBufferView(ctx->device, buf->view4, ctx->alloc);
    if (buf->buffer) ctx->vk.vkDestroyBuffer(ctx->device, buf->buffer, ctx->alloc);
    if (buf->memory) ctx->vk.vkFreeMemory(ctx->device, buf->memory, ctx->alloc);
    if (buf->allocated) {
        ctx->memory_stats.allocations--;
        *(buf->host ? &ctx->memory_stats.host_bytes : &ctx->memory_stats.device_bytes) -=
            buf->allocated;
    }
    memset(buf, 0, sizeof *buf);
}

qsr_status qsr__buffer_upload(qsr_context *ctx, qsr__buffer *dst, const void *data,
                              VkDeviceSize size) {
    if (size > dst->size) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "upload larger than buffer");
    if (dst->mapped) {
        memcpy(dst->mapped, data, size);
        return QSR_OK;
    }
    qsr__buffer staging;
    qsr_status st = qsr__buffer_create(ctx, size, QSR__MEMORY_HOST, &staging);
    if (st != QSR_OK) return st;
    memcpy(staging.mapped, data, size);
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = ctx->command_pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VkResult r = ctx->vk.vkAllocateCommandBuffers(ctx->device, &ai, &cmd);
    if (r == VK_SUCCESS) r = ctx->vk.vkCreateFence(ctx->device, &fi, ctx->alloc, &fence);
    if (r == VK_SUCCESS) r = ctx->vk.vkBeginCommandBuffer(cmd, &bi);
    if (r == VK_SUCCESS) {
        VkBufferCopy region = {0, 0, size};
        ctx->vk.vkCmdCopyBuffer(cmd, staging.buffer, dst->buffer, 1, &region);
        VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                   .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                   .dstAccessMask = VK_ACCESS_SHADER_READ_BIT};
        ctx->vk.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                     VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &barrier, 0, NULL,
                                     0, NULL);
        r = ctx->vk.vkEndCommandBuffer(cmd);
    }
    if (r == VK_SUCCESS) {
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cmd};
        r = qsr__queue_submit(ctx, &si, fence);
    }
    if (r == VK_SUCCESS) r = ctx->vk.vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, UINT64_MAX);
    if (fence) ctx->vk.vkDestroyFence(ctx->device, fence, ctx->alloc);
    if (cmd) ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->command_pool, 1, &cmd);
    qsr__buffer_destroy(ctx, &staging);
    if (r != VK_SUCCESS) return qsr__vk_fail(r, "uploading a buffer");
    return QSR_OK;
}
