/* plan.h - a model bound to a device: weights on the device, pipelines, activation buffers
 * and the recording of one tile's dispatches. upscaler.c drives it tile by tile. */
#ifndef QSR_PLAN_H
#define QSR_PLAN_H

#include "ops/ops.h"
#include "tile.h"

/* Where one convolution's data lives in the shared weight and parameter buffers. */
typedef struct qsr__layer_slot {
    int32_t w_off;     /* first weight (float in wf, or pair word in wq) */
    int32_t bias_off;  /* first bias in params */
    int32_t scale_off; /* quantized: per-output scale a * a_w in params */
    int32_t shift_off; /* quantized: per-input shift in params */
} qsr__layer_slot;

/* The pipelines a plan uses: the context's shared ones (qsr__pipeline_get). */
typedef enum qsr__pipe {
    QSR__PIPE_RGB_TO_PLANAR,
    QSR__PIPE_CONV_STORE,
    QSR__PIPE_CONV_RELU,
    QSR__PIPE_CONV_RESIDUAL,
    QSR__PIPE_CONV_ADD_SKIP,
    QSR__PIPE_CONV_SHUFFLE,
    QSR__PIPE_CONV_SHUFFLE_LR, /* the first upsampler stage: narrow grids */
    QSR__PIPE_CONV_RGB,
    QSR__PIPE_QUANTIZE_UNSIGNED,
    QSR__PIPE_QUANTIZE_SIGNED,
    QSR__PIPE_COUNT
} qsr__pipe;

/* Descriptor sets: one per (op, buffers) combination the recording uses. */
typedef enum qsr__set {
    QSR__SET_RGB,        /* img_in -> x0 */
    QSR__SET_FIRST,      /* x0 -> f */
    QSR__SET_QUANT_H,    /* h -> q (codes of the first active block's conv1) */
    QSR__SET_CONVQ_1,    /* q -> codes q2 (conv1 + ReLU + conv2's quantizer) */
    QSR__SET_CONVQ_2,    /* q2 -> h, codes q (conv2 + residual + next conv1's quantizer) */
    QSR__SET_F32_H_T,    /* h -> t (fp32 body conv1) */
    QSR__SET_F32_T_H,    /* t -> h (fp32 body conv2) */
    QSR__SET_AFTER_BODY, /* h (+ f) -> t */
    QSR__SET_UPS0,       /* t -> u1 */
    QSR__SET_UPS1,       /* u1 -> u2 */
    QSR__SET_LAST,       /* u1 or u2 -> img_out */
    QSR__SET_COUNT
} qsr__set;

/* Activation buffers, sized for the largest tile seen so far. */
typedef enum qsr__act {
    QSR__ACT_IMG_IN, /* host-visible RGBA8 region */
    QSR__ACT_X0,
    QSR__ACT_F,
    QSR__ACT_H,
    QSR__ACT_T,
    QSR__ACT_Q,
    QSR__ACT_Q2,
    QSR__ACT_U1,
    QSR__ACT_U2,
    QSR__ACT_IMG_OUT, /* host-visible RGBA8 tile */
    QSR__ACT_STATUS,  /* host-visible flags: non-finite output */
    QSR__ACT_DUMMY,
    QSR__ACT_COUNT
} qsr__act;

/* Where a run's work goes (tile.h): the LR stages (conv_first, the body, conv_after_body)
 * run once per body tile over `region` (the body tile grown by the exact margin), the HR
 * stages (upsampler over `ups`, conv_last over `tile`) once per HR tile inside it. The body
 * tile is as large as memory allows, so the depth-sized margin is paid rarely, and the HR
 * tiles, whose buffers are 16x larger per pixel at x4, stay small with a 1-pixel halo. */
typedef struct qsr__tile_geometry {
    qsr__rect body, region; /* LR stages */
    qsr__rect tile, ups;    /* HR stages of one HR tile of the body tile */
} qsr__tile_geometry;

/* The kinds of op the profiler sums (qsr_upscaler_get_profile). */
typedef enum qsr__op_kind {
    QSR__OP_RGB_TO_PLANAR,
    QSR__OP_CONV_FIRST,
    QSR__OP_COPY_SKIP,
    QSR__OP_QUANTIZE,
    QSR__OP_BODY_CONV1,
    QSR__OP_BODY_CONV2,
    QSR__OP_AFTER_BODY,
    QSR__OP_UPSAMPLE0,
    QSR__OP_UPSAMPLE1,
    QSR__OP_CONV_LAST,
    QSR__OP_COPY_OUT,
    QSR__OP_KIND_COUNT
} qsr__op_kind;

/* Timestamps per submission for the profiler; a segment that fills them is cut. */
#define QSR__PROFILE_MARKS 256u

typedef struct qsr__plan_profile {
    int enabled;
    uint32_t marks;                        /* timestamps recorded in the open segment */
    uint8_t mark_kind[QSR__PROFILE_MARKS]; /* the op each timestamp ends */
    uint64_t mark_macs[QSR__PROFILE_MARKS];
    uint32_t order[QSR__OP_KIND_COUNT]; /* first-seen rank + 1, 0 = not run */
    uint32_t seen;
    uint32_t dispatches[QSR__OP_KIND_COUNT];
    double ms[QSR__OP_KIND_COUNT];
    uint64_t macs[QSR__OP_KIND_COUNT];
} qsr__plan_profile;

typedef struct qsr__plan {
    qsr_context *ctx;
    const qsr_model *model;
    int quantized;       /* body runs conv3x3_q */
    qsr__qkernel kernel; /* ... with this kernel (qsr__conv3x3_q_choose) */
    int fast_fp;         /* conv3x3_f32_fast after the last quantizer (QSR_FP_MATH_FAST) */
    /* The convolutions read activations and weights through storage buffers instead of texel
     * buffers (the *_storage shader twins): always when a weight buffer exceeds the device's
     * maxTexelBufferElements, else when the tile size chosen for a run needs an activation
     * buffer beyond it (qsr__plan_set_fetch). */
    int weights_storage;
    int storage_fetch;
    qsr__buffer wf, wq, params;
    qsr__layer_slot first, after_body, upsample[2], last;
    qsr__layer_slot *body; /* 2 * blocks */
    qsr__pipeline pipes[QSR__PIPE_COUNT];
    /* conv3x3_q variants [epilogue RELU/RESIDUAL][signed input][codes out], made on first
     * use: a model needs only the few its signedness pattern asks for. */
    qsr__pipeline convq[2][2][3];
    qsr__buffer act[QSR__ACT_COUNT];
    VkDeviceSize act_bytes[QSR__ACT_COUNT]; /* capacity */
    VkDescriptorPool pool;
    VkDescriptorSet sets[QSR__SET_COUNT];
    VkCommandBuffer cmd;
    VkFence fence;
    VkQueryPool queries;
    uint32_t generation; /* ctx->generation the plan was made on */
    /* Submissions are cut so that each stays under budget_ms of device time (OS GPU
     * watchdogs such as Windows' 2 s TDR kill longer ones); the cost of recorded work is
     * estimated from the device time per MAC measured so far. */
    double budget_ms;
    double ns_per_mac;
    uint64_t segment_macs;
    double *gpu_ms; /* where the running tile adds measured device time */
    uint32_t submissions;
    qsr__plan_profile profile;
    /* A frame plan (qsr__plan_create_frame) has a base: the plan whose weight buffers (and
     * their texel views), layer slots and pipelines it uses. It records into an application's
     * command buffer and never submits; its input and output staging buffers are device-local
     * (filled and read by copies on the device). NULL for a plan that owns its weights. */
    struct qsr__plan *base;
    VkBufferCopy *rows; /* row copy regions, kept so that recording allocates nothing */
    uint32_t rows_capacity;
} qsr__plan;

/* Whether the upscaler's last run read through storage buffers (tests ask). */
int qsr__upscaler_storage_fetch(const qsr_upscaler *up);

/* The name of an op kind, for profiles. */
const char *qsr__op_kind_name(qsr__op_kind kind, int quantized);

qsr_status qsr__plan_create(qsr_context *ctx, const qsr_model *model, const qsr_upscaler_desc *desc,
                            qsr__plan *out);
void qsr__plan_destroy(qsr__plan *plan);
/* Bytes of every activation buffer for one tile geometry. */
void qsr__plan_activation_bytes(const qsr__plan *plan, const qsr__tile_geometry *g,
                                VkDeviceSize bytes[QSR__ACT_COUNT]);
/* Switches the convolutions to storage-buffer (storage = 1) or texel fetches (0; storage
 * regardless when the weights or the activation buffers already allocated exceed the texel
 * limit), rewriting the descriptor sets of existing buffers. */
qsr_status qsr__plan_set_fetch(qsr__plan *plan, int storage);
/* Grows the activation buffers to at least `bytes` (reallocating and rewriting sets). */
qsr_status qsr__plan_reserve(qsr__plan *plan, const VkDeviceSize bytes[QSR__ACT_COUNT]);
/* Where a tile's output goes: a host image (3 or 4 channels; alpha left alone), or, when
 * image is NULL, a device buffer of RGBA8 words with rows of row_pixels words from offset. */
typedef struct qsr__tile_sink {
    qsr_image *image;
    VkBuffer buffer;
    VkDeviceSize offset;
    uint32_t row_pixels;
} qsr__tile_sink;

/* Runs the LR stages of g's body tile: uploads region pixels from `in` (RGB or RGBA),
 * records, submits and waits; r = conv_after_body's output stays on the device. */
qsr_status qsr__plan_run_body(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t depth,
                              const qsr_image *in, double *gpu_ms);
/* Runs the HR stages of g's HR tile from the body tile's r and writes the tile's RGB output
 * to the sink. */
qsr_status qsr__plan_run_hr_tile(qsr__plan *plan, const qsr__tile_geometry *g,
                                 const qsr__tile_sink *sink, double *gpu_ms);
/* A frame plan for qsr_cmd_upscale: shares base's weights and pipelines (destroy it before
 * base), has its own activation buffers and descriptor sets (qsr__plan_reserve). */
qsr_status qsr__plan_create_frame(qsr__plan *base, qsr__plan *out);
/* Makes every conv3x3_q variant that some depth of the model records, so that recording at
 * any depth creates no pipeline. */
qsr_status qsr__plan_warm_pipelines(qsr__plan *plan);
/* Grows the row-copy scratch to `rows` regions (done before recording, not during). */
qsr_status qsr__plan_reserve_rows(qsr__plan *plan, uint32_t rows);

/* Where a recorded frame reads its input: a device buffer of RGBA8 words, rows of row_pixels
 * words from offset. */
typedef struct qsr__tile_source {
    VkBuffer buffer;
    VkDeviceSize offset;
    uint32_t row_pixels;
} qsr__tile_source;

/* The barrier a recorded frame starts with: every earlier command's writes (the application's
 * source pixels, the previous frame's use of the intermediates) before its copies and
 * dispatches. */
void qsr__plan_record_frame_begin(qsr__plan *plan, VkCommandBuffer cmd);
/* Records into cmd, without submitting, the LR stages of g's body tile (a frame plan), its
 * input copied from src. */
qsr_status qsr__plan_record_body(qsr__plan *plan, VkCommandBuffer cmd, const qsr__tile_geometry *g,
                                 uint32_t depth, const qsr__tile_source *src);
/* Records the HR stages of g's HR tile and the copy of its output into the buffer sink. */
qsr_status qsr__plan_record_hr_tile(qsr__plan *plan, VkCommandBuffer cmd,
                                    const qsr__tile_geometry *g, const qsr__tile_sink *sink);

/* Non-zero if a run since the last call produced non-finite values; clears the flag. */
int qsr__plan_take_nonfinite(qsr__plan *plan);
/* Releases the activation buffers (they grow again on the next run). */
void qsr__plan_release_activations(qsr__plan *plan);

#endif
