/* vk.h - the runtime's Vulkan layer: context, buffers, pipelines and dispatch recording.
 * Device-level calls go through a per-context VolkDeviceTable, so two contexts (or a host
 * application's own device) never share function pointers. */
#ifndef QSR_VK_H
#define QSR_VK_H

#include "fault.h"
#include "internal.h"

#include <volk.h>

/* Maps a failed VkResult of `call` to a qsr_status with a message naming the call. */
qsr_status qsr__vk_fail(VkResult result, const char *call);
#define QSR__VK(call)                                                                              \
    do {                                                                                           \
        VkResult qsr_vk_result_ = (call);                                                          \
        if (qsr_vk_result_ != VK_SUCCESS) return qsr__vk_fail(qsr_vk_result_, #call);              \
    } while (0)

/* One compute pipeline: a shader from the embedded table, its specialization constants and
 * its interface (storage-buffer bindings 0..binding_count-1, push constants). */
#define QSR__MAX_BINDINGS 8
#define QSR__MAX_SPEC     12
typedef struct qsr__pipeline_desc {
    uint32_t shader;        /* qsr_shader_id */
    uint32_t binding_count; /* storage buffers at bindings 0..n-1 */
    uint32_t push_bytes;
    uint32_t spec_count;
    int32_t spec[QSR__MAX_SPEC]; /* constant_id i = spec[i] */
    uint32_t local_x, local_y;   /* workgroup size, spec ids 100 and 101 */
    /* Bit i: binding i is a uniform texel buffer (R32_UINT view of the whole buffer). On
     * lavapipe a texel fetch is a plain vector gather where a storage-buffer load is a loop
     * over the lanes with a bounds check each: several times cheaper. */
    uint32_t texel_mask;
    uint32_t texel4_mask; /* the same with 16-byte texels (R32G32B32A32_UINT) */
} qsr__pipeline_desc;

typedef struct qsr__pipeline {
    qsr__pipeline_desc desc;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
} qsr__pipeline;

/* What the context's pipeline store did (tests read these; nothing else depends on them). */
typedef struct qsr__pipeline_stats {
    uint32_t pipelines_created;  /* VkPipelines made by this context, shared or owned */
    uint64_t cache_loaded_bytes; /* of the on-disk cache the last VkPipelineCache started
                                    from; 0 = it started empty */
    uint32_t cache_rejected;     /* on-disk caches found but ignored (corrupt, foreign) */
} qsr__pipeline_stats;

/* The context's pipelines: one per distinct description, shared by every plan (they are
 * destroyed with the device), and the VkPipelineCache they are compiled through, loaded from
 * and saved to `path` (runtime/pipeline_cache.c). */
typedef struct qsr__pipeline_store {
    qsr__pipeline *shared;
    uint32_t shared_count, shared_capacity;
    VkPipelineCache cache; /* VK_NULL_HANDLE if the driver made none */
    char *path;            /* the on-disk cache file; NULL = none (disabled or no directory) */
    size_t loaded_size;    /* size and CRC of the data the cache started from, so an */
    uint32_t loaded_crc;   /* unchanged cache is not written again */
    qsr__pipeline_stats stats;
} qsr__pipeline_store;

/* An owner of objects on the context's device (an upscaler's plan): told to destroy them all
 * before a lost device is recreated, so that none outlives its device. */
typedef struct qsr__device_user {
    void (*release)(struct qsr__device_user *user);
    struct qsr__device_user *next;
} qsr__device_user;

struct qsr_context {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    struct VolkDeviceTable vk;
    VkQueue queue;
    uint32_t queue_family;
    VkCommandPool command_pool;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memory;
    qsr_device_info info;
    float timestamp_period_ns; /* 0 when the queue has no timestamps */
    uint32_t validation_messages;
    uint32_t generation;   /* bumped each time the device is recreated after a loss */
    qsr__faults faults;    /* QSR_FAULT injection (tests) */
    qsr_context_desc desc; /* callbacks and interop requests (extension lists not kept) */
    uint32_t api_version;  /* of the instance */
    /* Interop: device extensions requested by the application, enabled on (re)creation. */
    char **device_extensions;
    uint32_t device_extension_count;
    qsr_memory_stats memory_stats; /* kept by qsr__buffer_create/destroy */
    qsr__pipeline_store pipelines;
    qsr__device_user *users; /* registered by qsr__context_add_user */
    /* qsr_context_create_external: instance, device and queue are the application's, never
     * destroyed or recreated here; every object the runtime makes goes through `alloc`. */
    int external;
    const VkAllocationCallbacks *alloc;               /* NULL for the driver's allocator */
    PFN_vkGetInstanceProcAddr get_instance_proc_addr; /* the one the instance was made with */
};

/* vkQueueSubmit through the fault injector and the application's queue lock. */
VkResult qsr__queue_submit(qsr_context *ctx, const VkSubmitInfo *submit, VkFence fence);
/* Recreates the logical device after VK_ERROR_DEVICE_LOST. Every registered user releases its
 * objects first, the shared pipelines go with the old device; ctx->generation tells the owners
 * to rebuild. */
qsr_status qsr__context_reset_device(qsr_context *ctx);
void qsr__context_add_user(qsr_context *ctx, qsr__device_user *user);
void qsr__context_remove_user(qsr_context *ctx, qsr__device_user *user);
/* Waits until the device has finished the runtime's work, under the application's queue lock:
 * vkDeviceWaitIdle on the runtime's own device, vkQueueWaitIdle of its queue on an
 * application's (whose other queues other threads may be using). */
void qsr__device_wait_idle(qsr_context *ctx);

/* A buffer with its own memory allocation. Host-visible buffers stay mapped. */
typedef struct qsr__buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    void *mapped;           /* non-NULL for host-visible buffers */
    VkDeviceSize allocated; /* bytes of `memory`, counted in ctx->memory_stats */
    int host;               /* allocated as QSR__MEMORY_HOST */
    VkBufferView view;      /* R32_UINT texel view, made when a set first binds it so */
    VkBufferView view4;     /* R32G32B32A32_UINT texel view, likewise */
} qsr__buffer;

typedef enum qsr__memory_kind {
    QSR__MEMORY_DEVICE, /* device-local: weights, activations */
    QSR__MEMORY_HOST    /* host-visible and coherent: uploads and downloads */
} qsr__memory_kind;

qsr_status qsr__buffer_create(qsr_context *ctx, VkDeviceSize size, qsr__memory_kind kind,
                              qsr__buffer *out);
void qsr__buffer_destroy(qsr_context *ctx, qsr__buffer *buf);
/* Copies host data into a device buffer through a temporary staging buffer (blocking). */
qsr_status qsr__buffer_upload(qsr_context *ctx, qsr__buffer *dst, const void *data,
                              VkDeviceSize size);

/* The largest buffer a texel view of 4-byte (wide: 16-byte) texels covers whole. */
VkDeviceSize qsr__texel_buffer_max_bytes(const qsr_context *ctx, int wide);

/* A pipeline the caller owns and destroys (one-off uses: the peak microkernels, op tests). */
qsr_status qsr__pipeline_create(qsr_context *ctx, const qsr__pipeline_desc *desc,
                                qsr__pipeline *out);
void qsr__pipeline_destroy(qsr_context *ctx, qsr__pipeline *p);
/* The context's shared pipeline for `desc`, made on first request: *out receives its handles,
 * which stay valid until the device is recreated or the context destroyed; never destroy them.
 * Descriptions are compared whole, except spec[] past spec_count. */
qsr_status qsr__pipeline_get(qsr_context *ctx, const qsr__pipeline_desc *desc, qsr__pipeline *out);

/* The on-disk cache file: `dir` (NULL = $QSR_PIPELINE_CACHE_DIR, else $XDG_CACHE_HOME/quantsr,
 * else $HOME/.cache/quantsr; "" = none) is resolved into store->path. */
qsr_status qsr__pipeline_store_init(qsr_context *ctx, const char *dir);
/* Makes the VkPipelineCache on the current device from the file when it is valid for this
 * device. Never fails: without a usable file (or cache) pipelines are just compiled afresh. */
void qsr__pipeline_store_open(qsr_context *ctx);
/* Destroys the shared pipelines and the VkPipelineCache (before the device goes), writing the
 * cache to its file first when it changed; a failed write is ignored. */
void qsr__pipeline_store_close(qsr_context *ctx);
/* Frees what qsr__pipeline_store_init made. */
void qsr__pipeline_store_free(qsr_context *ctx);

/* A descriptor pool sized for `sets` sets of up to QSR__MAX_BINDINGS buffers each. */
qsr_status qsr__descriptor_pool_create(qsr_context *ctx, uint32_t sets, VkDescriptorPool *out);
/* Allocates and writes a set binding `buffers` (whole buffers) at bindings 0..n-1. */
qsr_status qsr__descriptor_set_create(qsr_context *ctx, VkDescriptorPool pool,
                                      const qsr__pipeline *p, qsr__buffer *const *buffers,
                                      VkDescriptorSet *out);

/* Records one dispatch covering `groups` workgroups, checking the contract (push size,
 * group-count limits), followed by a compute->compute barrier. */
qsr_status qsr__record_dispatch(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                VkDescriptorSet set, const void *push, uint32_t push_bytes,
                                uint32_t groups_x, uint32_t groups_y, uint32_t groups_z);
static inline uint32_t qsr__div_up(uint32_t a, uint32_t b) {
    return (a + b - 1) / b;
}

/* Environment flags (SDL's hint <-> variable rule): QSR_VALIDATION, QSR_DEVICE. */
int qsr__env_int(const char *name, int fallback);

#endif
