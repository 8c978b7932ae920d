/*
 * quantsr.h - the whole public API of quantsr, a Vulkan runtime for low-bit quantized image
 * super-resolution networks (QuantSR, NeurIPS 2023).
 *
 * Conventions
 * - Every function that can fail returns a qsr_status; QSR_OK is 0. On failure a message that
 *   names the file, field or size involved is available from qsr_last_error() on the same
 *   thread. As in SDL, check the status, never the text: the text is not cleared on success.
 * - Output parameters (`out`) are written only on success.
 * - Objects are opaque pointers with create/destroy pairs; destroy(NULL) is a no-op.
 * - No hidden globals: an application may hold several contexts and models at once. The
 *   only per-thread state is the last-error text.
 * - The calls that create, run or destroy the upscalers of one context come from one thread at
 *   a time (they share the context's command pool and pipelines); separate contexts are
 *   independent.
 *
 * Typical use:
 *     qsr_model *model; qsr_context *ctx; qsr_upscaler *up; qsr_image in, out;
 *     qsr_model_load_file("models/quantsr_c_x4_w4a4.qsr", &model);
 *     qsr_context_create(NULL, &ctx);                       // picks the best Vulkan device
 *     qsr_upscaler_create(ctx, model, NULL, &up);
 *     qsr_image_load_file("in.png", 0, &in);                // 0 = default pixel limit
 *     qsr_upscaler_run(up, &in, 0, &out, NULL);             // depth 0 = every block
 *     qsr_image_save_file("out.png", &out, 0);
 * (examples/minimal.c is the same with error handling; docs/embedding.md builds it.)
 */
#ifndef QUANTSR_H
#define QUANTSR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef QSR_API
#define QSR_API
#endif

#define QSR_VERSION_MAJOR 0
#define QSR_VERSION_MINOR 1
#define QSR_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------------
 * Status and errors
 */
typedef enum qsr_status {
    QSR_OK = 0,
    QSR_ERROR_INVALID_ARGUMENT,     /* a parameter is out of its documented range */
    QSR_ERROR_IO,                   /* a file could not be read or written */
    QSR_ERROR_MODEL_CORRUPT,        /* a .qsr file breaks docs/model-format.md */
    QSR_ERROR_IMAGE_DECODE,         /* an image file could not be decoded */
    QSR_ERROR_UNSUPPORTED,          /* valid, but not something this build can run */
    QSR_ERROR_LIMIT,                /* an image or model exceeds a configured limit */
    QSR_ERROR_OUT_OF_HOST_MEMORY,   /* malloc failed */
    QSR_ERROR_OUT_OF_DEVICE_MEMORY, /* a Vulkan allocation failed */
    QSR_ERROR_DEVICE_LOST,          /* the Vulkan device was lost */
    QSR_ERROR_NO_DEVICE,            /* no usable Vulkan device or driver */
    QSR_ERROR_VULKAN,               /* any other Vulkan failure */
    QSR_ERROR_BAD_OUTPUT,           /* a run produced non-finite or degenerate output */
    QSR_STATUS_COUNT
} qsr_status;

/* A short stable name for a status, e.g. "QSR_ERROR_MODEL_CORRUPT". Never NULL. */
QSR_API const char *qsr_status_name(qsr_status status);
/* The detailed message of the last failure on this thread ("" if none yet). */
QSR_API const char *qsr_last_error(void);

#if defined(__MINGW32__)
/* The MinGW library is built with the C99 printf of MinGW-w64 (%zu, %llu), whatever the caller's
 * own __USE_MINGW_ANSI_STDIO. */
#define QSR_PRINTF_FORMAT(fmt_index, first_arg)                                                    \
    __attribute__((format(gnu_printf, fmt_index, first_arg)))
#elif defined(__GNUC__) || defined(__clang__)
#define QSR_PRINTF_FORMAT(fmt_index, first_arg)                                                    \
    __attribute__((format(printf, fmt_index, first_arg)))
#else
#define QSR_PRINTF_FORMAT(fmt_index, first_arg)
#endif
/* Sets this thread's qsr_last_error() text (printf-style) and returns `status`, so code built on
 * the library (the CLI, the viewer, an application's wrappers) reports its own failures the way
 * the library does: `return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "tile %u", tile);` */
QSR_API qsr_status qsr_set_error(qsr_status status, const char *fmt, ...) QSR_PRINTF_FORMAT(2, 3);

/* ---------------------------------------------------------------------------------------------
 * Images: 8-bit interleaved RGB or RGBA, rows tightly packed (stride = width * channels).
 */
#define QSR_MAX_IMAGE_DIMENSION 65536u

typedef struct qsr_image {
    uint32_t width;
    uint32_t height;
    uint32_t channels; /* 3 (RGB) or 4 (RGBA) */
    uint8_t *pixels;   /* width * height * channels bytes, owned by the image */
} qsr_image;

/* Allocates a zeroed image. */
QSR_API qsr_status qsr_image_create(uint32_t width, uint32_t height, uint32_t channels,
                                    qsr_image *out);
/* Decodes PNG, JPEG, BMP or TGA (by content). Gray images become RGB, gray+alpha RGBA.
 * max_pixels: reject larger images before decoding them (0 = QSR_DEFAULT_MAX_PIXELS). */
#define QSR_DEFAULT_MAX_PIXELS (16384ull * 16384ull)
QSR_API qsr_status qsr_image_load_file(const char *path, uint64_t max_pixels, qsr_image *out);
QSR_API qsr_status qsr_image_load_memory(const void *data, size_t size, uint64_t max_pixels,
                                         qsr_image *out);
/* Encodes by the extension of path: .png, .jpg/.jpeg (quality 0 = 95), .bmp, .tga.
 * The file is written to a temporary name in the same folder and renamed on success, so a
 * failed save never leaves a partial file under `path`. */
QSR_API qsr_status qsr_image_save_file(const char *path, const qsr_image *image, int jpeg_quality);
/* Frees the pixels and zeroes the struct. */
QSR_API void qsr_image_free(qsr_image *image);

/* MATLAB-compatible imresize with the bicubic kernel (a = -0.5), antialiased when shrinking,
 * symmetric border handling, each channel independently, results rounded to 8 bits. This is
 * the degradation the SR literature uses to make LR images. */
QSR_API qsr_status qsr_image_resize_bicubic(const qsr_image *in, uint32_t width, uint32_t height,
                                            qsr_image *out);

/* Y channel (BT.601, 16..235) PSNR and SSIM of two same-sized images, ignoring `border` pixels
 * on each side, as the SR literature measures them. */
QSR_API qsr_status qsr_image_psnr_y(const qsr_image *a, const qsr_image *b, uint32_t border,
                                    double *out_psnr);
QSR_API qsr_status qsr_image_ssim_y(const qsr_image *a, const qsr_image *b, uint32_t border,
                                    double *out_ssim);

/* ---------------------------------------------------------------------------------------------
 * Models (.qsr files, docs/model-format.md)
 */
#define QSR_MAX_BLOCKS       64u
#define QSR_MAX_DEPTH_LEVELS 8u
#define QSR_MAX_GROUPS       8u

typedef enum qsr_arch { QSR_ARCH_QUANTSR_C = 1, QSR_ARCH_QUANTSR_T = 2 } qsr_arch;

typedef struct qsr_model_info {
    uint32_t arch;        /* qsr_arch */
    uint32_t scale;       /* 2, 3 or 4 */
    uint32_t in_channels; /* 3 */
    uint32_t channels;    /* feature channels C (QuantSR-T: the embedding width E) */
    uint32_t blocks;      /* residual blocks B (QuantSR-T: Swin layers over all groups) */
    uint32_t bits_w;      /* 2, 3, 4, or 32 (unquantized) */
    uint32_t bits_a;      /* 2, 3, 4, or 32 */
    uint32_t depth_level_count;
    uint32_t depth_levels[QSR_MAX_DEPTH_LEVELS]; /* blocks kept per level, descending */
    uint8_t block_rank[QSR_MAX_BLOCKS];          /* block indices, most important first */
    float rgb_mean[3];
    float img_range;
    uint32_t tensor_count;
    uint64_t parameters; /* number of weights and biases */
    uint64_t file_bytes;
    /* QuantSR-T only (all 0 for QuantSR-C), docs/model-format.md "QuantSR-T (arch 2)": */
    uint32_t heads;                        /* attention heads, dividing channels */
    uint32_t window;                       /* window edge: 4, 8 or 16 */
    uint32_t mlp_hidden;                   /* MLP hidden width */
    uint32_t group_count;                  /* residual Swin groups G, 1 to 8 */
    uint32_t group_depths[QSR_MAX_GROUPS]; /* Swin layers per group (sum = blocks); rest 0 */
} qsr_model_info;

typedef struct qsr_model qsr_model;

QSR_API qsr_status qsr_model_load_file(const char *path, qsr_model **out);
QSR_API qsr_status qsr_model_load_memory(const void *data, size_t size, qsr_model **out);
/* A model with random but realistic weights (activations keep a steady scale, every code
 * occurs): for benchmarks of shapes that have no model file (`quantsr bench --arch c|t`).
 * These fields take no default here: scale 2..4, channels 1..256, blocks 1..64 (QuantSR-T:
 * Swin layers), bits_w and bits_a 2..4 (or both 32). Depth levels halve from `blocks` down
 * to 1. arch 0 means QuantSR-C; for QuantSR-T, heads (0: 4, 2 or 1, the largest dividing
 * channels), window (0: 8) and group_count (0: min(2, blocks), layers shared evenly) may be
 * given; mlp_hidden is 2 channels. */
typedef struct qsr_random_model_desc {
    uint32_t scale, channels, blocks, bits_w, bits_a;
    uint64_t seed;
    qsr_arch arch;
    uint32_t heads, window, group_count;
} qsr_random_model_desc;
QSR_API qsr_status qsr_model_create_random(const qsr_random_model_desc *desc, qsr_model **out);
QSR_API void qsr_model_destroy(qsr_model *model);
QSR_API qsr_status qsr_model_get_info(const qsr_model *model, qsr_model_info *out);
/* Multiply-accumulates per input (LR) pixel at `depth` blocks (0 = all). QuantSR-T counts its
 * linear layers, both attention products (2 N E per token and layer, N = window^2) and its
 * convolutions, per unpadded input pixel. */
QSR_API uint64_t qsr_model_macs_per_pixel(const qsr_model *model, uint32_t depth);
/* Checks that depth is one of the model's levels (or, with any_depth, 0..blocks). 0 means
 * every block and is always valid. */
QSR_API qsr_status qsr_model_check_depth(const qsr_model *model, uint32_t depth, int any_depth);
/* The name of an architecture ("QuantSR-C", "QuantSR-T"; "unknown" for other numbers). */
QSR_API const char *qsr_arch_name(uint32_t arch);
/* What the library does with a model's architecture (flags; 0 for NULL):
 *   QSR_MODEL_CAP_GPU: qsr_upscaler_create accepts it (else it runs on qsr_reference_upscale
 *     only, and qsr_upscaler_create is QSR_ERROR_UNSUPPORTED);
 *   QSR_MODEL_CAP_REGION_EXACT: qsr_upscaler_run_region's pixels are byte-identical to the
 *     same pixels of a full run (an exact halo exists), so a viewer may compute only the tiles
 *     on screen. QuantSR-C has both. QuantSR-T has the first for quantized models (float ones
 *     run on the CPU reference only) and not the second: its windows are laid on the whole
 *     image, which it upscales as one tile (QSR_ERROR_OUT_OF_DEVICE_MEMORY past the budget). */
#define QSR_MODEL_CAP_GPU          1u
#define QSR_MODEL_CAP_REGION_EXACT 2u
QSR_API uint32_t qsr_model_capabilities(const qsr_model *model);

/* ---------------------------------------------------------------------------------------------
 * CPU reference: a plain-C implementation of the whole network, independent of the shaders.
 * Integer-exact for the quantized convolutions; slow. Used to check GPU results. It runs both
 * architectures; QuantSR-T runs only here so far (qsr_upscaler_create refuses it with
 * QSR_ERROR_UNSUPPORTED).
 */
QSR_API qsr_status qsr_reference_upscale(const qsr_model *model, const qsr_image *in,
                                         uint32_t depth, qsr_image *out);

/* ---------------------------------------------------------------------------------------------
 * Vulkan devices and contexts
 */
typedef enum qsr_device_type {
    QSR_DEVICE_TYPE_OTHER = 0,
    QSR_DEVICE_TYPE_INTEGRATED_GPU,
    QSR_DEVICE_TYPE_DISCRETE_GPU,
    QSR_DEVICE_TYPE_VIRTUAL_GPU,
    QSR_DEVICE_TYPE_CPU
} qsr_device_type;

typedef struct qsr_device_info {
    uint32_t index; /* position in qsr_device_list, from 0; `--device`/`-g` take index + 1 */
    char name[256];
    qsr_device_type type;
    uint32_t vendor_id, device_id;
    uint32_t api_version;
    uint32_t subgroup_size;
    uint64_t max_storage_buffer_range;
    uint64_t device_local_bytes; /* largest device-local heap */
    int shader_int8;
    int storage_8bit;
    int storage_16bit;
    int shader_float16;
    int integer_dot_product;             /* VK_KHR_shader_integer_dot_product usable */
    int integer_dot_product_accelerated; /* 4x8-bit packed signed dot is accelerated */
    int shader_int16;
    /* The compute limits the kernels are fitted to: the device's own, or those of a forced
     * profile (qsr_context_desc.force_limits, QSR_FORCE_LIMITS), which also clears the
     * shader_int8/int16/float16 and 8/16-bit storage flags above (no kernel needs them). */
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint32_t max_shared_memory_bytes;
    uint32_t max_texel_buffer_elements; /* larger activations/weights use storage buffers */
    uint32_t max_push_constant_bytes;
    uint64_t memory_budget_cap; /* caps the default activation budget; 0 = no cap */
    int limits_forced;          /* 1 when forced limits are in effect (a profile or overrides) */
} qsr_device_info;

/* Limits profiles (qsr_context_desc.force_limits). QSR_LIMITS_MOBILE makes the runtime behave
 * as on a mobile-class GPU at the Vulkan minimums: 128 invocations per workgroup,
 * maxTexelBufferElements 65536 (larger buffers are read as storage buffers), no shaderInt8,
 * shaderInt16, shaderFloat16 or 8/16-bit storage, and a default activation budget of 64 MiB
 * (larger images are tiled). Results are the same; it exists to test those paths on any
 * device. The environment variable QSR_FORCE_LIMITS=mobile does the same for every context
 * (and for qsr_device_list); `mobile,invocations=N,texels=N,memory=MIB,groups=N` also
 * overrides single limits, below the Vulkan minimums too (tests use that). */
typedef enum qsr_limits_profile {
    QSR_LIMITS_DEVICE = 0, /* the device's own limits and features */
    QSR_LIMITS_MOBILE = 1
} qsr_limits_profile;

/* Lists every Vulkan device. `infos` may be NULL to query the count. On input *count is the
 * capacity of infos; on output the number of devices. */
QSR_API qsr_status qsr_device_list(qsr_device_info *infos, uint32_t *count);
QSR_API const char *qsr_device_type_name(qsr_device_type type);

typedef struct qsr_context_desc {
    /* Device to use: 0 = automatic (discrete > integrated > virtual > CPU), unless the
     * QSR_DEVICE environment variable says N; N >= 1 picks the device whose index is N - 1
     * (the numbering of `quantsr devices`). */
    int32_t device;
    /* Enable VK_LAYER_KHRONOS_validation (also with QSR_VALIDATION=1). Every message is
     * printed to stderr and counted (qsr_context_validation_messages). */
    int validation;
    /* Called for every validation message (besides printing and counting it), including the
     * ones the layer's object tracker sends while qsr_context_destroy runs about Vulkan
     * objects that were never destroyed. NULL: none. */
    void (*on_validation_message)(void *user, int is_error, const char *message);
    void *validation_user;

    /* Vulkan interop, for an application that draws the output with the context's own device
     * (quantsr-view presents through a swapchain this way). Extra instance and device
     * extensions to enable, e.g. the list of SDL_Vulkan_GetInstanceExtensions and
     * "VK_KHR_swapchain". Automatic device choice skips devices without the device
     * extensions; a device named by `device` that lacks one is QSR_ERROR_UNSUPPORTED. */
    const char *const *instance_extensions;
    uint32_t instance_extension_count;
    const char *const *device_extensions;
    uint32_t device_extension_count;
    /* Vulkan requires a queue to be used by one thread at a time. An application that submits
     * to the context's queue (qsr_context_get_vulkan) from another thread gives a lock here:
     * the runtime calls queue_lock(user, 1) before and queue_lock(user, 0) after each of its
     * queue calls. NULL: the runtime assumes it is the only user of the queue. */
    void (*queue_lock)(void *user, int locked);
    void *queue_lock_user;
    /* On-disk pipeline cache, so that a second start skips most of the driver's shader
     * compilation: the folder of the cache file, made if missing. NULL = $QSR_PIPELINE_CACHE_DIR
     * if set, else the user's cache folder: $XDG_CACHE_HOME/quantsr, else
     * $HOME/.cache/quantsr (Linux), $HOME/Library/Caches/quantsr (macOS),
     * %LOCALAPPDATA%\quantsr (Windows), none on Android (apps pass Context.getCacheDir());
     * "" = no file. Paths are UTF-8 on every system. The file
     * (pipelines-<pipelineCacheUUID>-<vendor>-<device>-<driver version>.bin) is read by
     * qsr_context_create and written, when it changed, by qsr_context_destroy through a
     * temporary file and a rename. A missing, damaged or foreign file is ignored, and a failed
     * write is not reported: the cache only saves time. Upscalers of one context share their
     * pipelines with or without the file. */
    const char *pipeline_cache_dir;
    /* Behave as if the device had a limits profile's smaller limits and fewer features
     * (qsr_limits_profile; QSR_FORCE_LIMITS in the environment applies too). */
    qsr_limits_profile force_limits;
} qsr_context_desc;

typedef struct qsr_context qsr_context;

/* For programs that own their process (the quantsr tool calls it first): when the CPU
 * has AVX-512 and LP_NATIVE_VECTOR_WIDTH is unset, sets it to 512, so that Mesa's lavapipe (the
 * Vulkan driver on the CPU) runs shaders on 512-bit vectors: the paper-size QuantSR-C took 4.2 s
 * instead of 5.9 s on lavapipe (docs/benchmarks.md). Mesa's shader cache does not tell code of
 * the two widths apart (whichever width runs first fills it for both), so unless
 * MESA_SHADER_CACHE_DIR is set it also points that at a folder of its own, mesa-lp512 in the
 * pipeline cache folder (qsr_context_desc.pipeline_cache_dir's default). Other Vulkan drivers
 * ignore the width; Mesa's OpenGL llvmpipe does not, and crashed at 512 bits in Mesa 22.3 (so
 * quantsr-view, whose SDL renderer may draw with it, does not call this). Call it before anything
 * loads Vulkan in the process; the library never calls it, since it changes the environment of the
 * whole process. *applied (may be NULL): 1 when it set the width, 0 when it left the environment as
 * it was: another CPU, the user's own LP_NATIVE_VECTOR_WIDTH (which also opts out), or no cache
 * folder it could make. Fails only when out of memory. */
QSR_API qsr_status qsr_prefer_wide_cpu_vectors(int *applied);

/* desc may be NULL for all defaults. */
QSR_API qsr_status qsr_context_create(const qsr_context_desc *desc, qsr_context **out);
QSR_API void qsr_context_destroy(qsr_context *ctx);
QSR_API qsr_status qsr_context_get_device_info(const qsr_context *ctx, qsr_device_info *out);
/* Number of validation-layer messages (warnings and errors) seen so far. */
QSR_API uint32_t qsr_context_validation_messages(const qsr_context *ctx);

/* Vulkan memory the context's objects hold right now (all upscalers together). */
typedef struct qsr_memory_stats {
    uint64_t device_bytes;      /* device-local: weights and activations */
    uint64_t host_bytes;        /* host-visible: uploads, downloads, status flags */
    uint32_t allocations;       /* live vkAllocateMemory allocations */
    uint64_t peak_device_bytes; /* the most device_bytes ever held by this context */
} qsr_memory_stats;

QSR_API qsr_status qsr_context_get_memory_stats(const qsr_context *ctx, qsr_memory_stats *out);

/* What the device sustains in microkernels shaped like the network's inner loops
 * (shaders/peak.comp; `quantsr bench --peak`): the limits `bench --ops` compares each op
 * with. Takes a fraction of a second on a CPU driver. */
typedef struct qsr_device_peak {
    double int_pair_gmacs; /* integer multiply-adds, two products per 32-bit multiply
                              (conv3x3_q's form), billions per second */
    double fp32_gmacs;     /* fp32 multiply-adds (conv3x3_f32's form) */
    double texel_gfetches; /* texel-buffer fetches at random indices, billions per second */
    double buffer_gloads;  /* storage-buffer loads at random indices */
    double int_quad_gmacs; /* integer multiply-adds, four products per 32-bit multiply
                              (conv3x3_q2's form, 2- and 3-bit layers) */
} qsr_device_peak;

QSR_API qsr_status qsr_context_measure_peak(qsr_context *ctx, qsr_device_peak *out);

/* A function pointer of any type (the C way to carry PFN_vkGetInstanceProcAddr). */
typedef void (*qsr_void_function)(void);

/* The context's Vulkan objects, as opaque pointers so that this header needs no vulkan.h. */
typedef struct qsr_vulkan_handles {
    void *instance;        /* VkInstance */
    void *physical_device; /* VkPhysicalDevice */
    void *device;          /* VkDevice */
    void *queue;           /* VkQueue the runtime submits to (see qsr_context_desc.queue_lock) */
    uint32_t queue_family;
    uint32_t api_version; /* the instance's (VK_API_VERSION_1_1 or later) */
    /* Increases each time the runtime recreated a lost device: device and queue are then
     * new, and objects an application made on the old device must be made again. */
    uint32_t generation;
    qsr_void_function get_instance_proc_addr; /* PFN_vkGetInstanceProcAddr */
} qsr_vulkan_handles;

QSR_API qsr_status qsr_context_get_vulkan(const qsr_context *ctx, qsr_vulkan_handles *out);

/* ---------------------------------------------------------------------------------------------
 * A context on the application's own Vulkan device (games, engines). The runtime makes its
 * buffers, pipelines, descriptor pools and one command pool on that device, through the
 * application's allocation callbacks, and destroys them all in qsr_context_destroy; it never
 * creates or destroys an instance or a device of its own, and never enables a layer or an
 * extension. Handles are opaque pointers so that this header needs no vulkan.h.
 *
 * What the application's objects must offer:
 * - The instance was created with VkApplicationInfo.apiVersion >= VK_API_VERSION_1_1 (given in
 *   api_version), and the physical device reports Vulkan 1.1 or later.
 * - The device needs no optional feature and no extension: the shaders use only core compute
 *   (storage buffers, uniform texel buffers of R32_UINT and R32G32B32A32_UINT, storage texel
 *   buffers of R32_UINT written with a declared format, 128 bytes of push constants).
 *   Optional: where the application enabled shaderIntegerDotProduct (Vulkan 1.3 core, or
 *   VK_KHR_shader_integer_dot_product) it sets QSR_VULKAN_FEATURE_INTEGER_DOT_PRODUCT
 *   and the runtime uses packed int8 dot products where the device accelerates them. Vulkan
 *   cannot report the features a VkDevice was created with, so the runtime trusts this bit
 *   (and ignores it on a device that does not support the feature at all).
 * - queue belongs to queue_family, whose family supports VK_QUEUE_COMPUTE_BIT (checked;
 *   QSR_ERROR_UNSUPPORTED otherwise). Timestamps are optional (without them run statistics
 *   carry no device time).
 * The runtime submits to `queue` only in calls that wait for their own work anyway
 * (qsr_upscaler_create uploads the weights, qsr_upscaler_run* and qsr_upscale_rgba8 run and
 * read back, as do the first qsr_upscaler_depth_for_budget and qsr_context_measure_peak);
 * qsr_upscaler_prepare and qsr_cmd_upscale never submit or wait. Around each of its
 * queue calls it calls qsr_context_desc.queue_lock, which an application that uses the queue
 * from other threads must give. It never calls vkDeviceWaitIdle on the application's device
 * (other threads may own its other queues); where it must wait it waits for `queue`.
 *
 * Lifetime: destroy every upscaler, then the context, before the application destroys its
 * device; command buffers recorded by qsr_cmd_upscale must have completed (or been freed
 * without submission) before the upscaler that recorded them is destroyed or prepared again.
 * Device loss: the runtime cannot recreate a device it does not own: a loss is returned as
 * QSR_ERROR_DEVICE_LOST; the application then destroys the upscalers and the context,
 * recreates its device and creates them again.
 * Validation: enable the layer on the application's instance; its messages go to the
 * application's messenger (qsr_context_validation_messages stays 0).
 */
#define QSR_VULKAN_FEATURE_INTEGER_DOT_PRODUCT 0x1u /* shaderIntegerDotProduct is enabled */

typedef struct qsr_vulkan_external {
    void *instance;        /* VkInstance */
    void *physical_device; /* VkPhysicalDevice the device was created from */
    void *device;          /* VkDevice */
    void *queue;           /* VkQueue of queue_family that the runtime's own work goes to */
    uint32_t queue_family;
    uint32_t api_version; /* the instance's VkApplicationInfo.apiVersion (>= 1.1) */
    /* PFN_vkGetInstanceProcAddr the instance was made with (a loader or a layer's); NULL = the
     * system Vulkan loader's. Every device function is then looked up through the device. */
    qsr_void_function get_instance_proc_addr;
    /* const VkAllocationCallbacks *: used for every Vulkan object the runtime creates and
     * destroys; NULL = the driver's allocator. Must stay valid until qsr_context_destroy. */
    const void *allocation_callbacks;
    uint32_t features; /* QSR_VULKAN_FEATURE_* bits the application enabled on the device */
} qsr_vulkan_external;

/* A context on `external` (copied; the handles must stay valid until qsr_context_destroy).
 * desc may be NULL; of it, queue_lock and pipeline_cache_dir apply. device, validation
 * (QSR_VALIDATION is ignored here), on_validation_message and the extension lists describe how
 * the runtime would make its own instance and device and must be 0 / NULL.
 * qsr_context_get_vulkan returns the application's handles. */
QSR_API qsr_status qsr_context_create_external(const qsr_context_desc *desc,
                                               const qsr_vulkan_external *external,
                                               qsr_context **out);

/* ---------------------------------------------------------------------------------------------
 * Upscalers: a model bound to a context, with its weights on the device.
 */
typedef enum qsr_precision {
    QSR_PRECISION_DEFAULT = 0, /* the model's own: quantized body if the model is quantized */
    QSR_PRECISION_FP32         /* every convolution in fp32 with dequantized weights and
                                  unquantized activations (FP models; benchmark baseline) */
} qsr_precision;

/* How the floating-point convolutions after the last quantizer (conv_after_body, the
 * upsampler, conv_last, and the body of an fp32 execution) round. conv_first, whose output
 * feeds the quantizers, always runs in the reference order (a flipped code would spread), and
 * so does QuantSR-T's conv_after_body (its upsampler amplifies last-bit differences). */
typedef enum qsr_fp_math {
    QSR_FP_MATH_FAST = 0, /* products and sums may fuse into FMAs (faster on most GPUs), and
                             QuantSR-C's upsampler and conv_last, all linear, run as one 5x5
                             convolution (5-10x fewer multiply-adds); every 8-bit output within
                             1 level of the reference order, >= 99.9 % identical
                             (tests/test_gpu_network.c); tiling still changes no byte */
    QSR_FP_MATH_REFERENCE /* each product and sum rounded in the CPU reference's order */
} qsr_fp_math;

typedef struct qsr_upscaler_desc {
    /* Output tile edge in LR pixels; 0 = chosen from the device limits and max_memory. */
    uint32_t tile;
    /* Device memory budget for activations in bytes; 0 = 1/4 of the device heap, at most
     * 1 GiB. */
    uint64_t max_memory;
    qsr_precision precision;
    qsr_fp_math fp_math;
} qsr_upscaler_desc;

typedef struct qsr_upscaler qsr_upscaler;

typedef struct qsr_run_stats {
    uint32_t tiles;
    uint32_t tile;        /* tile edge used (LR pixels) */
    uint32_t submissions; /* queue submissions; each is kept under QSR_SUBMIT_MS (250) of
                             device time so OS GPU watchdogs never fire */
    double gpu_ms;        /* sum of the measured device time of every submission */
    double total_ms;      /* wall time of the run, uploads and downloads included */
    uint64_t macs;        /* multiply-accumulates executed, halos included */
} qsr_run_stats;

/* The upscaler keeps a pointer to `model` (and uses `ctx`): destroy it before either. */
QSR_API qsr_status qsr_upscaler_create(qsr_context *ctx, const qsr_model *model,
                                       const qsr_upscaler_desc *desc, qsr_upscaler **out);
QSR_API void qsr_upscaler_destroy(qsr_upscaler *up);
/* Upscales an RGB or RGBA image (alpha is resized bicubically) at `depth` blocks (0 = all;
 * any value 1..blocks runs, qsr_model_check_depth restricts it to the model's levels).
 * stats may be NULL. */
QSR_API qsr_status qsr_upscaler_run(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                                    qsr_image *out, qsr_run_stats *stats);

/* A rectangle in pixels. */
typedef struct qsr_rect {
    uint32_t x, y, width, height;
} qsr_rect;

/* Computes only part of the output: the output pixels of the LR rectangle `region` of `in`
 * (which is the whole input, so that pixels near the region's edges see the same neighbours
 * as in a full run). `out` must already be the full output image (in->width * scale x
 * in->height * scale, 3 or 4 channels); only the pixels of region * scale are written, and
 * where the model has QSR_MODEL_CAP_REGION_EXACT (qsr_model_capabilities) they are
 * byte-identical to the same pixels of qsr_upscaler_run. A viewer uses this to compute
 * just the tiles on screen. region NULL = the whole image. */
QSR_API qsr_status qsr_upscaler_run_region(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                                           const qsr_rect *region, qsr_image *out,
                                           qsr_run_stats *stats);

/* A range of a VkBuffer made on the context's device (qsr_context_get_vulkan). */
typedef struct qsr_gpu_buffer {
    void *buffer;    /* VkBuffer with VK_BUFFER_USAGE_TRANSFER_DST_BIT */
    uint64_t offset; /* bytes, a multiple of 4 */
    uint64_t size;   /* bytes usable from offset */
} qsr_gpu_buffer;

/* Like qsr_upscaler_run_region, but the output stays in device memory: each output pixel of
 * region * scale is written to `dst` as one 32-bit word (R in the low byte, then G, B, and 255),
 * rows of in->width * scale words, so dst holds the whole output image (width * height * 4
 * bytes). The copy waits for every earlier use of the queue (a full barrier), and the writes
 * are complete when the call returns. Non-finite results are QSR_ERROR_BAD_OUTPUT (the
 * constant-output check of qsr_upscaler_run needs the pixels on the host and is not made);
 * a device loss is returned as QSR_ERROR_DEVICE_LOST (dst belongs to the lost device). */
QSR_API qsr_status qsr_upscaler_run_to_buffer(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                                              const qsr_rect *region, const qsr_gpu_buffer *dst,
                                              qsr_run_stats *stats);

/* ---------------------------------------------------------------------------------------------
 * Recording into the application's command buffer (GPU-resident frames)
 *
 * For a renderer that upscales every frame on its own device (qsr_context_create_external, or
 * the handles of qsr_context_get_vulkan): qsr_upscaler_prepare fixes the input size once and
 * makes everything a frame needs (intermediate buffers, descriptor sets, every pipeline any
 * depth uses); qsr_cmd_upscale then only records commands: no allocation, no submission, no
 * wait, for any depth, changing from frame to frame. The whole image is recorded at once; an
 * image too large for the memory budget (qsr_upscaler_desc.max_memory) is recorded as several
 * tiles into the same command buffer. The result is byte-identical to qsr_upscaler_run of the
 * same pixels and depth.
 *
 * Pixels are 32-bit words, R in the low byte, then G, B, A (VK_FORMAT_R8G8B8A8_UNORM order),
 * rows of `width` words with no padding. The input's alpha is ignored; the output's is 255.
 *
 * Buffers (qsr_gpu_buffer): VkBuffers on the context's device. src needs
 * VK_BUFFER_USAGE_TRANSFER_SRC_BIT and holds width * height * 4 bytes from its offset; dst
 * needs VK_BUFFER_USAGE_TRANSFER_DST_BIT and holds width * scale * height * scale * 4 bytes;
 * offsets are multiples of 4, and the two ranges do not overlap. Images are not taken: copy
 * an image to a buffer first (vkCmdCopyImageToBuffer) and back after (vkCmdCopyBufferToImage).
 * With VK_SHARING_MODE_EXCLUSIVE buffers used on another queue family, the application records
 * the queue family ownership transfers itself.
 *
 * Synchronisation recorded by the call: it begins with a global memory barrier from every
 * earlier command (VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, memory writes) to its own transfers and
 * compute shaders, and ends with one from its writes to every later command
 * (VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, memory reads and writes). So the application needs no
 * barrier of its own for src or dst on this queue: a src written earlier in the frame (render
 * pass, compute, copy) is read after those writes, and dst may be read, sampled or copied right
 * after the call. (These barriers are what makes frames in flight safe, see threading.)
 *
 * Command buffer: a primary command buffer in the recording state, outside a render pass
 * instance, allocated from a pool of the context's queue family (the runtime's buffers are
 * VK_SHARING_MODE_EXCLUSIVE and owned by that family). The call binds compute pipelines,
 * descriptor sets and push constants:
 * the application rebinds its own compute state after it (graphics state is untouched).
 *
 * Threading and frames in flight: one upscaler records from one thread at a time, and not
 * while another call of that upscaler or its context runs. Every command buffer an upscaler
 * records uses the same intermediate buffers; because each recording begins with the barrier
 * above, any number of them may be in flight at once when they are submitted to one queue
 * (each frame's work waits for the previous one's on the device). Command buffers submitted to
 * different queues must not run at the same time. qsr_upscaler_run* on the same upscaler use
 * their own buffers and may be called between frames (they submit and wait, on the context's
 * queue). Several upscalers (one per stream) record independently of each other.
 */

/* Prepares frames of width x height input pixels (qsr_cmd_upscale): allocates the
 * intermediate buffers and descriptor sets for the whole image at every depth, and makes
 * every pipeline any depth needs. Call it again for another size (it waits for the context's
 * queue to go idle, and releases the previous size's buffers: no command buffer recorded for
 * them may still be pending). QSR_ERROR_LIMIT if the size is outside 1..QSR_MAX_IMAGE_DIMENSION;
 * QSR_ERROR_OUT_OF_DEVICE_MEMORY if even the smallest tiles do not fit max_memory. */
QSR_API qsr_status qsr_upscaler_prepare(qsr_upscaler *up, uint32_t width, uint32_t height);

/* Records the upscale of `src` into `dst` at `depth` blocks (0 = all, else 1..blocks) into
 * command_buffer (a VkCommandBuffer), for the size of the last qsr_upscaler_prepare. Every
 * argument is checked before anything is recorded: a NULL command buffer or buffer, an
 * unprepared upscaler, a buffer range too small or misaligned, or a depth out of range is
 * QSR_ERROR_INVALID_ARGUMENT with a message, and the command buffer is left as it was.
 * After a device loss that the context recovered from (qsr_vulkan_handles.generation changed)
 * it is QSR_ERROR_DEVICE_LOST until qsr_upscaler_prepare is called again. Non-finite values
 * are not detected (that check needs a host read; qsr_upscaler_run makes it). */
QSR_API qsr_status qsr_cmd_upscale(qsr_upscaler *up, void *command_buffer,
                                   const qsr_gpu_buffer *src, const qsr_gpu_buffer *dst,
                                   uint32_t depth);

/* The one-call CPU-memory form: upscales width x height RGBA8 pixels (src rows `src_stride`
 * bytes apart) into dst (rows `dst_stride` bytes apart, width * scale x height * scale pixels),
 * at `depth`. Colour as qsr_upscaler_run; alpha is upscaled bicubically. Strides are at least
 * 4 * width (resp. 4 * width * scale). Blocks until done; dst is written only on success. */
QSR_API qsr_status qsr_upscale_rgba8(qsr_upscaler *up, const uint8_t *src, uint32_t width,
                                     uint32_t height, size_t src_stride, uint8_t *dst,
                                     size_t dst_stride, uint32_t depth);

/* The deepest depth level of the model whose device time for a width x height input is
 * predicted to fit budget_ms (real-time use: `quantsr upscale --budget-ms`). The prediction
 * is the device time per multiply-accumulate measured by this upscaler's runs times the
 * level's MACs; before the first run a small synthetic image is upscaled at the shallowest
 * level to measure it. When no level fits, *depth is the shallowest level. predicted_ms (may
 * be NULL) receives the chosen level's predicted device time. */
QSR_API qsr_status qsr_upscaler_depth_for_budget(qsr_upscaler *up, uint32_t width, uint32_t height,
                                                 double budget_ms, uint32_t *depth,
                                                 double *predicted_ms);

/* Per-op device time (`quantsr bench --ops`). While profiling is on, a timestamp follows
 * every op (a small overhead on most devices); ops of one kind (every quantized conv1 of the
 * body, every quantizer pass, ...) are summed until profiling is switched on again. */
typedef struct qsr_op_profile {
    const char *name;    /* static string, e.g. "body conv1 (q)" */
    uint32_t dispatches; /* ops of this kind run */
    double gpu_ms;       /* their measured device time */
    uint64_t macs;       /* their multiply-accumulates (0 for ops that make none) */
} qsr_op_profile;

/* The shader the upscaler's body convolutions run: "conv3x3_q" (two output channels per
 * multiply), "conv3x3_q2" (2- and 3-bit: four), "conv3x3_q_dot" (packed int8 dot products),
 * "conv3x3_q_tiled" (shared-memory tiles) for a quantized execution, chosen per device
 * (QSR_KERNEL forces one), or "conv3x3_f32" for an fp32 one. A static string. */
QSR_API const char *qsr_upscaler_kernel_name(const qsr_upscaler *up);

/* Switches profiling on (clearing the sums) or off. */
QSR_API qsr_status qsr_upscaler_set_profiling(qsr_upscaler *up, int enable);
/* Copies up to `max` kinds that ran since profiling was switched on into ops (in execution
 * order); returns how many kinds there are. */
QSR_API uint32_t qsr_upscaler_get_profile(const qsr_upscaler *up, qsr_op_profile *ops,
                                          uint32_t max);

#ifdef __cplusplus
}
#endif
#endif /* QUANTSR_H */
