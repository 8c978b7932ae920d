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
    /* Bit i: binding i is written as a storage texel buffer (R32_UINT view): on lavapipe an
     * imageStore is a masked store per lane where a storage-buffer store also checks bounds
     * per lane (shaders/store.glsl). */
    uint32_t image_mask;
    /* Shared memory of a workgroup of local_x x local_y: shared_base + shared_halo * (local_x
     * + 2) * (local_y + 2) bytes (conv3x3_q_tiled's tiles); both 0 for kernels without any. */
    uint32_t shared_base, shared_halo;
} qsr__pipeline_desc;

typedef struct qsr__pipeline {
    qsr__pipeline_desc desc;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    int dispatch_base; /* made with VK_PIPELINE_CREATE_DISPATCH_BASE_BIT: may split dispatches */
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

/* Limits forced on the device (runtime/limits.c): a profile and single overrides. */
typedef struct qsr__forced_limits {
    int active;                           /* anything is forced */
    int profile;                          /* qsr_limits_profile */
    uint32_t invocations, texels, groups; /* caps; 0 = the device's */
    uint64_t memory;                      /* default activation budget cap; 0 = none */
    int no_small_types;                   /* report no int8/int16/fp16 or 8/16-bit storage */
} qsr__forced_limits;

/* The forced limits of a context: `profile`, then the items of `env` (QSR_FORCE_LIMITS). */
qsr_status qsr__limits_resolve(qsr_limits_profile profile, const char *env,
                               qsr__forced_limits *out);
/* Copies the compute limits the runtime fits its kernels to into the device report. */
void qsr__limits_report(const VkPhysicalDeviceLimits *l, qsr_device_info *info);
/* Lowers `limits` (may be NULL: the report only) and the report's limits and features to the
 * forced ones; every later use of ctx->props.limits sees the effective values. */
void qsr__limits_force(const qsr__forced_limits *f, VkPhysicalDeviceLimits *limits,
                       qsr_device_info *info);

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
    qsr__forced_limits forced; /* applied to props.limits and info when the device is picked */
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

/* Fits desc's workgroup to the device's limits (maxComputeWorkGroupInvocations,
 * maxComputeWorkGroupSize, maxComputeSharedMemorySize): the preferred size where it fits,
 * else halved, a side beyond its size limit first, then the longer side (y on ties), so row
 * kernels keep their rows. Record functions size their dispatches by
 * the pipeline's fitted local_x/local_y. qsr__pipeline_create and _get call it. */
qsr_status qsr__pipeline_fit(const qsr_context *ctx, qsr__pipeline_desc *desc);
/* Invocations per workgroup row of the per-pixel ops (whose preferred workgroup is
 * QSR__LOCAL_X x QSR__LOCAL_Y): QSR__LOCAL_X, or on a CPU device its subgroup size where that is
 * wider. On lavapipe a subgroup is one SIMD vector (8 lanes at 256 bits, 16 at 512): a row as
 * wide keeps a vector's lanes on one row of pixels, whose row fetches then lie side by side
 * (16 lanes over two rows of 8 ran the 4-bit convolution 1.5x slower). */
uint32_t qsr__row_lanes(const qsr_context *ctx);
/* Turns desc into its storage-buffer twin (shaders/fetch.glsl: the same kernel reading its
 * texel bindings as storage buffers, for buffers beyond maxTexelBufferElements). Returns 0 when
 * the shader has no twin (desc unchanged); a desc without texel bindings needs none (1). */
int qsr__pipeline_desc_storage(qsr__pipeline_desc *desc);
/* The storage twin where one of `buffers` (bound at bindings 0..n-1) is bound as a texel
 * buffer but exceeds maxTexelBufferElements (one-off pipelines: op tests and benchmarks; plans
 * decide from their tile sizes). Returns 1 when desc was switched. */
int qsr__pipeline_desc_for_buffers(const qsr_context *ctx, qsr__pipeline_desc *desc,
                                   qsr__buffer *const *buffers);
/* The texel-fetch shader of a storage twin (the shader itself for any other). */
uint32_t qsr__shader_texel_base(uint32_t shader);

/* The descriptor bindings a SPIR-V module declares (its Binding decorations), as a mask of
 * binding numbers; QSR_ERROR_INVALID_ARGUMENT for a malformed module or a binding past 31. */
qsr_status qsr__spirv_bindings(const uint32_t *words, size_t bytes, uint32_t *mask);
/* Checks that desc's shader declares exactly bindings 0..binding_count-1, which its pipeline
 * layout will have: a mismatch between a C description and its GLSL is an internal error,
 * caught when the pipeline is made rather than left to the driver or validation layer. */
qsr_status qsr__pipeline_check_bindings(const qsr__pipeline_desc *desc);

/* A pipeline the caller owns and destroys (one-off uses: the peak microkernels, op tests). */
qsr_status qsr__pipeline_create(qsr_context *ctx, const qsr__pipeline_desc *desc,
                                qsr__pipeline *out);
void qsr__pipeline_destroy(qsr_context *ctx, qsr__pipeline *p);
/* The context's shared pipeline for `desc`, made on first request: *out receives its handles,
 * which stay valid until the device is recreated or the context destroyed; never destroy them.
 * Descriptions are compared whole, except spec[] past spec_count. */
qsr_status qsr__pipeline_get(qsr_context *ctx, const qsr__pipeline_desc *desc, qsr__pipeline *out);

/* The folder of the on-disk cache file, malloc'd: `dir` (NULL = $QSR_PIPELINE_CACHE_DIR, else
 * the user's cache folder, qsr__user_cache_dir; "" = none: NULL). */
char *qsr__pipeline_cache_folder(const char *dir);
/* The on-disk cache file in qsr__pipeline_cache_folder(dir) is resolved into store->path. */
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

/* Records one dispatch covering `groups` workgroups, checking the push size, followed by a
 * compute->compute barrier. A count beyond maxComputeWorkGroupCount is split into several
 * vkCmdDispatchBase calls (gl_WorkGroupID runs over the whole range, so shaders see one
 * dispatch). Pipelines allow that (VK_PIPELINE_CREATE_DISPATCH_BASE_BIT) only where the limit is
 * below the Vulkan minimum of 65535, i.e. forced (QSR_FORCE_LIMITS=...,groups=N): no dispatch
 * of a plan comes near 65535 groups (tiles are at most 4096 pixels), and the usual pipelines
 * stay exactly as they were. */
qsr_status qsr__record_dispatch(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                VkDescriptorSet set, const void *push, uint32_t push_bytes,
                                uint32_t groups_x, uint32_t groups_y, uint32_t groups_z);
static inline uint32_t qsr__div_up(uint32_t a, uint32_t b) {
    return (a + b - 1) / b;
}

/* Environment flags (SDL's hint <-> variable rule): QSR_VALIDATION, QSR_DEVICE. */
int qsr__env_int(const char *name, int fallback);

#endif
