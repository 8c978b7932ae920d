/* arch.h - the architecture table: everything the runtime knows about one network family in one
 * place, so that plan.c (the GPU executor), upscaler.c (tiling), reference.c (the CPU walk),
 * model.c and the command line ask the table instead of testing arch numbers.
 *
 * An entry gives the depth rule (which blocks a depth keeps), the tile geometry (alignment and
 * halo), the MACs per pixel, the CPU reference walk and, where the GPU kernels exist, a program:
 * a schema of named tensors, a list of ops over them (each with the binding of every descriptor
 * binding to a tensor and the pipeline its set layout comes from) and the recorders that emit
 * those ops for one tile. Adding a layer type or an architecture is local to runtime/arch/. */
#ifndef QSR_ARCH_H
#define QSR_ARCH_H

#include "plan.h"

/* The grid a tensor's pixels are counted on (qsr__tile_geometry): */
typedef enum qsr__grid {
    QSR__GRID_FIXED,  /* no grid: `words` is the whole size */
    QSR__GRID_REGION, /* the body tile's region (LR stages) */
    QSR__GRID_UPS,    /* an HR tile grown by the upsampler's margin, in LR pixels */
    QSR__GRID_TILE,   /* an HR tile, in LR pixels */
    QSR__GRID_PADDED, /* the region padded on the right and bottom to multiples of the
                         architecture's tile alignment (QuantSR-T: its window) */
    QSR__GRID_CODES   /* the region as a padded code plane (ops.h, QSR__CODE_STRIDE) */
} qsr__grid;

/* Host access of a tensor. */
#define QSR__TENSOR_HOST 1u /* host-visible in every plan (flags the host reads) */
#define QSR__TENSOR_IO                                                                             \
    2u /* pixels in or out: host-visible where the plan submits itself,                            \
          device-local in a frame plan (filled and read by copies) */

typedef struct qsr__tensor_spec {
    const char *name;
    qsr__grid grid;
    /* 32-bit words per pixel of the grid (per tensor for QSR__GRID_FIXED); 0 = unused. */
    uint32_t (*words)(const qsr__plan *plan);
    uint32_t flags;
} qsr__tensor_spec;

/* Binding ids past the program's tensors: the plan's weight buffers. */
#define QSR__BIND_WEIGHTS_F32 (QSR__MAX_ACTIVATIONS + 0)
#define QSR__BIND_WEIGHTS_Q   (QSR__MAX_ACTIVATIONS + 1)
#define QSR__BIND_PARAMS      (QSR__MAX_ACTIVATIONS + 2)

/* When an op's descriptor set is needed. */
typedef enum qsr__op_when { QSR__OP_ALWAYS, QSR__OP_QUANTIZED } qsr__op_when;

/* One op of a program: a dispatch (or copy) with its own descriptor set and profile line. */
typedef struct qsr__op_spec {
    const char *name; /* its line in qsr_upscaler_get_profile */
    /* The description of a pipeline whose set layout the op's set is made with (every variant
     * of one shader has the same layout); NULL for ops that bind nothing (copies). */
    qsr__pipeline_desc (*layout)(const qsr__plan *plan);
    int8_t bind[QSR__MAX_BINDINGS]; /* tensor (or QSR__BIND_*) of each binding */
    qsr__op_when when;
} qsr__op_spec;

/* Collects the layers' weights into the plan's buffers (plan.c). */
typedef struct qsr__weight_builder qsr__weight_builder;
/* Adds one 3x3 convolution (quantized ones run quantized when run_quantized) to `slot`. */
void qsr__weights_add_conv(qsr__weight_builder *b, const qsr__conv *conv, int run_quantized,
                           qsr__layer_slot *slot);
/* Adds one quantized linear layer (weight [cout][cin], linear_q's layout, offset in uvec4s). */
void qsr__weights_add_linear(qsr__weight_builder *b, const qsr__conv *layer, qsr__layer_slot *slot);
/* Adds n floats to the parameter buffer; returns their offset. */
int32_t qsr__weights_add_params(qsr__weight_builder *b, const float *values, size_t n);
/* Reserves n floats of the fp32 weight buffer (offset in vec4s) or of the parameter buffer;
 * returns where to write them, NULL in the counting pass. */
float *qsr__weights_reserve_f32(qsr__weight_builder *b, size_t n, int32_t *vec4_off);
float *qsr__weights_reserve_params(qsr__weight_builder *b, size_t n, int32_t *off);
/* Marks the build failed (out of host memory). */
void qsr__weights_fail(qsr__weight_builder *b);

/* An architecture's GPU program. */
typedef struct qsr__program {
    const qsr__tensor_spec *tensors;
    uint32_t tensor_count;
    /* Its kernels run quantized layers only: float models and QSR_PRECISION_FP32 are
     * refused (QSR_ERROR_UNSUPPORTED) and have no QSR_MODEL_CAP_GPU. */
    int quantized_only;
    /* The fast FP math runs its upsampler folded (upsample_fold.h; qsr__plan.fold_upsampler). */
    int folds_upsampler;
    /* The alignment of QSR__GRID_PADDED tensors; NULL if the program has none. */
    uint32_t (*pad_align)(const qsr__plan *plan);
    uint32_t tensor_in, tensor_out, tensor_status; /* pixels in, pixels out, non-finite flag */
    /* Maps an alias (an id from tensor_count up, below QSR__MAX_ACTIVATIONS) to the tensor it
     * names for the plan's model; NULL if the program binds no alias. */
    int (*resolve)(const qsr__plan *plan, int tensor);
    const qsr__op_spec *ops;
    uint32_t op_count;
    uint32_t op_copy_out; /* the profile line of the copy into a device-buffer sink */
    /* Layer slots (weight offsets) of a model, and the walk that fills them. */
    uint32_t (*slot_count)(const qsr_model *model);
    void (*add_weights)(qsr__plan *plan, qsr__weight_builder *b);
    /* The pipelines made with the plan (the rest on first use); returns how many. */
    uint32_t (*pipelines)(const qsr__plan *plan, qsr__pipeline_desc out[QSR__MAX_PIPES]);
    /* Makes every pipeline some depth records, so that recording a frame creates none. */
    qsr_status (*warm)(qsr__plan *plan);
    /* Records the LR stages of g's body tile at `depth`, the HR stages of g's HR tile. */
    qsr_status (*record_lr)(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t depth);
    qsr_status (*record_hr)(qsr__plan *plan, const qsr__tile_geometry *g);
} qsr__program;

/* How an image may be cut into tiles whose output equals the untiled output (tile.h). */
typedef struct qsr__tile_rule {
    uint32_t align;     /* body tiles start at multiples of this (1 = anywhere, the only value the
                           upscaler supports so far; 0 = the image cannot be cut at all) */
    uint32_t halo_base; /* LR halo of a body tile: halo_base + halo_per_block x active */
    uint32_t halo_per_block; /* blocks */
    uint32_t hr_margin;      /* LR halo of an HR tile (the upsampler's) */
    uint32_t hr_tile_max;    /* HR tiles are at most this many LR pixels on a side */
    int whole_image;         /* no exact halo: the image is one body tile and one HR tile */
} qsr__tile_rule;

/* The .qsr loader's part of an entry (model.c): the architecture's own header fields, the
 * arrays the header sizes, and the tensors the file must hold. */
typedef struct qsr__spec_list qsr__spec_list;
typedef struct qsr__model_schema {
    qsr_status (*check_header)(const qsr_model_info *info);
    qsr_status (*prepare)(qsr_model *model);
    qsr_status (*tensors)(qsr_model *model, qsr__spec_list *list);
} qsr__model_schema;
extern const qsr__model_schema qsr__model_schema_c;
extern const qsr__model_schema qsr__model_schema_t;

typedef struct qsr__arch {
    uint32_t id; /* qsr_arch */
    const char *name;
    const qsr__model_schema *schema; /* how a .qsr file of it is read */
    const qsr__program *program;     /* NULL: no GPU program yet */
    qsr__tile_rule tile;
    /* qsr_upscaler_run_region's pixels equal the same pixels of a full run. */
    int region_exact;
    uint64_t (*macs_per_pixel)(const qsr_model_info *info, uint64_t active_blocks);
    qsr_status (*reference)(const qsr_model *model, const qsr_image *in, uint32_t depth,
                            qsr_image *out);
} qsr__arch;

extern const qsr__arch qsr__arch_quantsr_c;
extern const qsr__arch qsr__arch_quantsr_t;

/* The entry of an architecture number, NULL if there is none. */
const qsr__arch *qsr__arch_find(uint32_t arch);
/* The gate: the entry, or QSR_ERROR_UNSUPPORTED naming the unknown number. */
qsr_status qsr__arch_get(uint32_t arch, const qsr__arch **out);
/* The model's GPU program, or QSR_ERROR_UNSUPPORTED where its entry has none. */
qsr_status qsr__arch_gpu_program(const qsr_model *model, const qsr__program **out);
/* Blocks run at `depth` (0 or more than the model has = all). */
uint32_t qsr__arch_active_blocks(const qsr_model_info *info, uint32_t depth);
/* Is block `block` kept at `depth`? The `depth` most important blocks of block_rank are. */
int qsr__arch_block_active(const qsr_model_info *info, uint32_t depth, uint32_t block);
/* The LR halo of a body tile at `depth`. */
uint32_t qsr__arch_halo(const qsr__arch *arch, const qsr_model_info *info, uint32_t depth);

/* The size of the QSR__GRID_PADDED grid of g's region (plan.c). */
void qsr__plan_padded_region(const qsr__plan *plan, const qsr__tile_geometry *g, uint32_t *w,
                             uint32_t *h);

/* ---- What the programs' recorders share (runtime/arch/program_util.c) ---- */

/* The codes a quantizer of that signedness writes. */
qsr__codes_out qsr__codes_for(int is_signed);
/* rgb_to_planar's set layout (qsr__op_spec.layout). */
qsr__pipeline_desc qsr__arch_layout_rgb(const qsr__plan *plan);
/* Tensor sizes (qsr__tensor_spec.words): one word, three (planar RGB), 16 bytes (a flag). */
uint32_t qsr__words_one(const qsr__plan *plan);
uint32_t qsr__words_three(const qsr__plan *plan);
uint32_t qsr__words_flag(const qsr__plan *plan);
/* The push block with the neutral factors (in_scale, shortcut, step, dst_scale 1) and the
 * model's input normalization. */
qsr__op_push qsr__arch_base_push(const qsr__plan *plan);
/* A same-size layer of slot `slot` over a w x h tensor: sizes, channels and the slot's
 * offsets. */
qsr__op_push qsr__arch_layer_push(const qsr__plan *plan, const qsr__conv *conv, uint32_t slot,
                                  uint32_t w, uint32_t h);
/* One op: its pipeline and set (qsr__plan_op_begin), the recorder's dispatch, its profile mark. */
typedef qsr_status (*qsr__op_recorder)(qsr_context *ctx, VkCommandBuffer cmd,
                                       const qsr__pipeline *p, VkDescriptorSet set,
                                       const void *push);
qsr_status qsr__arch_run_op(qsr__plan *plan, uint32_t op, const qsr__pipeline_desc *desc,
                            uint64_t macs, qsr__op_recorder record, const void *push);
/* The recorders of runtime/ops/ with that signature. */
qsr_status qsr__record_upsample_folded(qsr_context *ctx, VkCommandBuffer cmd,
                                       const qsr__pipeline *p, VkDescriptorSet set,
                                       const void *push);
qsr_status qsr__record_conv3x3_f32(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const void *push);
qsr_status qsr__record_conv3x3_q(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                 VkDescriptorSet set, const void *push);
qsr_status qsr__record_rgb_to_planar(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                     VkDescriptorSet set, const void *push);
qsr_status qsr__record_quantize_rlq(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                    VkDescriptorSet set, const void *push);
qsr_status qsr__record_linear_q(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                VkDescriptorSet set, const void *push);
qsr_status qsr__record_layernorm_q(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const void *push);
qsr_status qsr__record_window_attention(qsr_context *ctx, VkCommandBuffer cmd,
                                        const qsr__pipeline *p, VkDescriptorSet set,
                                        const void *push);
/* The model's input as planar fp32 on an out_w x out_h grid from the w x h RGBA8 region
 * (out larger: the image reflected into the padding), as op `op`. */
qsr_status qsr__arch_rgb_to_planar(qsr__plan *plan, uint32_t op, uint32_t w, uint32_t h,
                                   uint32_t out_w, uint32_t out_h);
/* Copies `bytes` from tensor `from` to `to` between compute work, as op `op`'s profile line. */
void qsr__arch_copy_tensor(qsr__plan *plan, uint32_t op, int from, int to, VkDeviceSize bytes);
/* Sets the first `bytes` of tensor `t` to 0 between compute work, as op `op`'s profile line. */
void qsr__arch_clear_tensor(qsr__plan *plan, uint32_t op, int t, VkDeviceSize bytes);

#endif
