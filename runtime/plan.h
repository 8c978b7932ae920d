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

/* Capacities of a program (arch.h): tensors, ops and pipelines a plan keeps. */
#define QSR__MAX_ACTIVATIONS 16
#define QSR__MAX_OPS         32
#define QSR__MAX_PIPES       64

/* Where a run's work goes (tile.h): the LR stages (conv_first, the body, conv_after_body)
 * run once per body tile over `region` (the body tile grown by the exact margin), the HR
 * stages (upsampler over `ups`, conv_last over `tile`) once per HR tile inside it. The body
 * tile is as large as memory allows, so the depth-sized margin is paid rarely, and the HR
 * tiles, whose buffers are 16x larger per pixel at x4, stay small with a 1-pixel halo. */
typedef struct qsr__tile_geometry {
    qsr__rect body, region;    /* LR stages */
    qsr__rect tile, ups;       /* HR stages of one HR tile of the body tile */
    uint32_t image_w, image_h; /* the whole input image, LR pixels */
} qsr__tile_geometry;

/* Timestamps per submission for the profiler; a segment that fills them is cut. */
#define QSR__PROFILE_MARKS 256u

typedef struct qsr__plan_profile {
    int enabled;
    uint32_t marks;                        /* timestamps recorded in the open segment */
    uint8_t mark_kind[QSR__PROFILE_MARKS]; /* the program op each timestamp ends */
    uint64_t mark_macs[QSR__PROFILE_MARKS];
    uint32_t order[QSR__MAX_OPS]; /* first-seen rank + 1, 0 = not run */
    uint32_t seen;
    uint32_t dispatches[QSR__MAX_OPS];
    double ms[QSR__MAX_OPS];
    uint64_t macs[QSR__MAX_OPS];
} qsr__plan_profile;

typedef struct qsr__plan {
    qsr_context *ctx;
    const qsr_model *model;
    int quantized;       /* body runs conv3x3_q */
    qsr__qkernel kernel; /* ... with this kernel (qsr__conv3x3_q_choose) */
    int fast_fp;         /* conv3x3_f32_fast after the last quantizer (QSR_FP_MATH_FAST) */
    /* The fast math's folded upsampler (runtime/upsample_fold.h) where the architecture has
     * one; cleared where its kernels would take the fp32 weights past the texel limit. */
    int fold_upsampler;
    /* The convolutions read activations and weights through storage buffers instead of texel
     * buffers (the *_storage shader twins): always when a weight buffer exceeds the device's
     * maxTexelBufferElements, else when the tile size chosen for a run needs an activation
     * buffer beyond it (qsr__plan_set_fetch). */
    int weights_storage;
    int storage_fetch;
    const struct qsr__program *program; /* the model's entry in the architecture table */
    qsr__buffer wf, wq, params;
    qsr__layer_slot *slots; /* program->slot_count(model), filled by program->add_weights */
    /* The pipelines looked up so far, keyed by the description asked for (shader,
     * specialization, fetch family); the pipelines themselves are the context's. A model
     * makes only the variants its layers ask for, on first use. */
    qsr__pipeline_desc pipe_keys[QSR__MAX_PIPES];
    qsr__pipeline pipes[QSR__MAX_PIPES];
    uint32_t pipe_count;
    qsr__buffer act[QSR__MAX_ACTIVATIONS];
    VkDeviceSize act_bytes[QSR__MAX_ACTIVATIONS]; /* capacity */
    VkDescriptorPool pool;
    VkDescriptorSet sets[QSR__MAX_OPS]; /* one per program op */
    uint8_t set_bindings[QSR__MAX_OPS]; /* the bindings of each set's layout */
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

/* The profile line of program op `op`. */
const char *qsr__plan_op_name(const qsr__plan *plan, uint32_t op);

qsr_status qsr__plan_create(qsr_context *ctx, const qsr_model *model, const qsr_upscaler_desc *desc,
                            qsr__plan *out);
void qsr__plan_destroy(qsr__plan *plan);
/* Does g's HR tile run the folded upsampler (plan->fold_upsampler, an image of 2 x 2 LR pixels
 * or more)? */
int qsr__plan_folds(const qsr__plan *plan, const qsr__tile_geometry *g);
/* Bytes of every activation buffer for one tile geometry. */
void qsr__plan_activation_bytes(const qsr__plan *plan, const qsr__tile_geometry *g,
                                VkDeviceSize bytes[QSR__MAX_ACTIVATIONS]);
/* Switches the convolutions to storage-buffer (storage = 1) or texel fetches (0; storage
 * regardless when the weights or the activation buffers already allocated exceed the texel
 * limit), rewriting the descriptor sets of existing buffers. */
qsr_status qsr__plan_set_fetch(qsr__plan *plan, int storage);
/* Grows the activation buffers to at least `bytes` (reallocating and rewriting sets). */
qsr_status qsr__plan_reserve(qsr__plan *plan, const VkDeviceSize bytes[QSR__MAX_ACTIVATIONS]);
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
/* Makes every pipeline that some depth of the model records, so that recording at any depth
 * creates none. */
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

/* ---- For the programs' recorders (runtime/arch/): ---- */
/* The plan's pipeline for `desc` (with the plan's fetch family), made on first use. */
qsr_status qsr__plan_pipeline(qsr__plan *plan, const qsr__pipeline_desc *desc,
                              const qsr__pipeline **out);
/* Before recording op `op` of `macs` multiply-accumulates: its pipeline for `desc` and its
 * descriptor set. */
qsr_status qsr__plan_op_begin(qsr__plan *plan, uint32_t op, const qsr__pipeline_desc *desc,
                              uint64_t macs, const qsr__pipeline **pipe, VkDescriptorSet *set);
/* After recording op `op`: its profile timestamp. */
void qsr__plan_op_end(qsr__plan *plan, uint32_t op, uint64_t macs);
/* Between ops: submits what is recorded once it would run past the time budget. */
qsr_status qsr__plan_split_point(qsr__plan *plan);
/* A global memory barrier between the stages and accesses given. */
void qsr__plan_barrier(qsr__plan *plan, VkPipelineStageFlags src, VkAccessFlags src_access,
                       VkPipelineStageFlags dst, VkAccessFlags dst_access);

/* Non-zero if a run since the last call produced non-finite values; clears the flag. */
int qsr__plan_take_nonfinite(qsr__plan *plan);
/* Releases the activation buffers (they grow again on the next run). */
void qsr__plan_release_activations(qsr__plan *plan);

#endif
