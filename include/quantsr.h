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
 *
 * Typical use:
 *     qsr_model *model; qsr_context *ctx; qsr_upscaler *up; qsr_image in, out;
 *     qsr_model_load_file("models/quantsr_c_x4_w4a4.qsr", &model);
 *     qsr_context_create(NULL, &ctx);                       // picks the best Vulkan device
 *     qsr_upscaler_create(ctx, model, NULL, &up);
 *     qsr_image_load_file("in.png", &in);
 *     qsr_upscaler_run(up, &in, 0, &out);                   // depth 0 = every block
 *     qsr_image_save_file("out.png", &out, 0);
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

typedef enum qsr_arch { QSR_ARCH_QUANTSR_C = 1, QSR_ARCH_QUANTSR_T = 2 } qsr_arch;

typedef struct qsr_model_info {
    uint32_t arch;        /* qsr_arch */
    uint32_t scale;       /* 2, 3 or 4 */
    uint32_t in_channels; /* 3 */
    uint32_t channels;    /* feature channels C */
    uint32_t blocks;      /* residual blocks B */
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
} qsr_model_info;

typedef struct qsr_model qsr_model;

QSR_API qsr_status qsr_model_load_file(const char *path, qsr_model **out);
QSR_API qsr_status qsr_model_load_memory(const void *data, size_t size, qsr_model **out);
QSR_API void qsr_model_destroy(qsr_model *model);
QSR_API qsr_status qsr_model_get_info(const qsr_model *model, qsr_model_info *out);
/* Multiply-accumulates per input (LR) pixel at `depth` blocks (0 = all). */
QSR_API uint64_t qsr_model_macs_per_pixel(const qsr_model *model, uint32_t depth);
/* Checks that depth is one of the model's levels (or, with any_depth, 0..blocks). 0 means
 * every block and is always valid. */
QSR_API qsr_status qsr_model_check_depth(const qsr_model *model, uint32_t depth, int any_depth);

/* ---------------------------------------------------------------------------------------------
 * CPU reference: a plain-C implementation of the whole network, independent of the shaders.
 * Integer-exact for the quantized convolutions; slow. Used to check GPU results.
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
} qsr_device_info;

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
} qsr_context_desc;

typedef struct qsr_context qsr_context;

/* desc may be NULL for all defaults. */
QSR_API qsr_status qsr_context_create(const qsr_context_desc *desc, qsr_context **out);
QSR_API void qsr_context_destroy(qsr_context *ctx);
QSR_API qsr_status qsr_context_get_device_info(const qsr_context *ctx, qsr_device_info *out);
/* Number of validation-layer messages (warnings and errors) seen so far. */
QSR_API uint32_t qsr_context_validation_messages(const qsr_context *ctx);

/* ---------------------------------------------------------------------------------------------
 * Upscalers: a model bound to a context, with its weights on the device.
 */
typedef enum qsr_precision {
    QSR_PRECISION_DEFAULT = 0, /* the model's own: quantized body if the model is quantized */
    QSR_PRECISION_FP32         /* every convolution in fp32 with dequantized weights and
                                  unquantized activations (FP models; benchmark baseline) */
} qsr_precision;

typedef struct qsr_upscaler_desc {
    /* Output tile edge in LR pixels; 0 = chosen from the device limits and max_memory. */
    uint32_t tile;
    /* Device memory budget for activations in bytes; 0 = 1/4 of the device heap, at most
     * 1 GiB. */
    uint64_t max_memory;
    qsr_precision precision;
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

QSR_API qsr_status qsr_upscaler_create(qsr_context *ctx, const qsr_model *model,
                                       const qsr_upscaler_desc *desc, qsr_upscaler **out);
QSR_API void qsr_upscaler_destroy(qsr_upscaler *up);
/* Upscales an RGB or RGBA image (alpha is resized bicubically) at `depth` blocks (0 = all;
 * any value 1..blocks runs, qsr_model_check_depth restricts it to the model's levels).
 * stats may be NULL. */
QSR_API qsr_status qsr_upscaler_run(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                                    qsr_image *out, qsr_run_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* QUANTSR_H */
