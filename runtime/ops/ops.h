/* ops.h - the network's operations: one pipeline family per shader (shaders/<op>.comp), each
 * with a create (specialization constants) and a record function. */
#ifndef QSR_OPS_H
#define QSR_OPS_H

#include "vk.h"

#include <stddef.h>

/* C mirror of the push-constant block in shaders/common.glsl; keep the order identical. Every
 * shader declares this one block; conv3x3_f32 and conv3x3_q read most of it (their push
 * struct), the other ops have structs of their own below with the same offsets for the fields
 * they read and reserved words elsewhere. */
typedef struct qsr__op_push {
    int32_t in_w, in_h;
    int32_t out_w, out_h;
    int32_t org_x, org_y;
    int32_t cin, cout;
    int32_t w_off;
    int32_t bias_off;
    int32_t scale_off;
    int32_t dst_w, dst_h;
    int32_t dst_x, dst_y;
    int32_t aux_off;
    float in_scale;
    float shortcut;
    float step;
    float img_range;
    float mean[3];
    float dst_scale;
} qsr__op_push;
_Static_assert(sizeof(qsr__op_push) == 96, "push block must match shaders/common.glsl");
_Static_assert(sizeof(qsr__op_push) <= 128, "push constants beyond the guaranteed 128 bytes");

/* Checks that a per-op push struct lays `field` where the shared block has `block_field`. */
#define QSR__PUSH_AT(type, field, block_field)                                                     \
    _Static_assert(offsetof(type, field) == offsetof(qsr__op_push, block_field),                   \
                   #type "." #field " must sit at qsr__op_push." #block_field)

/* rgb_to_planar's fields of the block. */
typedef struct qsr__rgb_to_planar_push {
    int32_t in_w, in_h;   /* the region */
    int32_t out_w, out_h; /* the output grid: in_w x in_h, or larger with reflected pixels */
    int32_t reserved0[12];
    float reserved1[3];
    float img_range;
    float mean[3];
    float reserved2;
} qsr__rgb_to_planar_push;
_Static_assert(sizeof(qsr__rgb_to_planar_push) == sizeof(qsr__op_push), "rgb_to_planar push");
QSR__PUSH_AT(qsr__rgb_to_planar_push, in_h, in_h);
QSR__PUSH_AT(qsr__rgb_to_planar_push, out_h, out_h);
QSR__PUSH_AT(qsr__rgb_to_planar_push, img_range, img_range);
QSR__PUSH_AT(qsr__rgb_to_planar_push, mean, mean);

/* quantize_rlq's fields of the block. */
typedef struct qsr__quantize_rlq_push {
    int32_t in_w, in_h; /* the tensor */
    int32_t reserved0[4];
    int32_t cin;
    int32_t reserved1[3];
    int32_t shift_off; /* first per-channel shift t_c in the parameter buffer */
    int32_t reserved2[5];
    float in_scale; /* pending shortcut product applied to the source */
    float reserved3;
    float step; /* the quantizer's step a */
    float reserved4[5];
} qsr__quantize_rlq_push;
_Static_assert(sizeof(qsr__quantize_rlq_push) == sizeof(qsr__op_push), "quantize_rlq push");
QSR__PUSH_AT(qsr__quantize_rlq_push, in_h, in_h);
QSR__PUSH_AT(qsr__quantize_rlq_push, cin, cin);
QSR__PUSH_AT(qsr__quantize_rlq_push, shift_off, scale_off);
QSR__PUSH_AT(qsr__quantize_rlq_push, in_scale, in_scale);
QSR__PUSH_AT(qsr__quantize_rlq_push, step, step);

/* upsample_folded's fields of the block (runtime/upsample_fold.h): a grid of LR pixels whose
 * HR blocks land at LR pixel (dst_x, dst_y) of an output of dst_w HR pixels per row. */
typedef struct qsr__upsample_folded_push {
    int32_t in_w, in_h;   /* r, the source tensor */
    int32_t out_w, out_h; /* the grid, LR pixels */
    int32_t org_x, org_y; /* grid pixel (0, 0) in the source */
    int32_t cin;
    int32_t class_x; /* column class of the whole grid: 0 first, 1 inner, 2 last */
    int32_t w_off;   /* the class tables, in vec4s */
    int32_t bias_off;
    int32_t image_y; /* image row of grid row 0 (row classes are per row) */
    int32_t dst_w, dst_h;
    int32_t dst_x, dst_y;
    int32_t image_h;
    float reserved0[3];
    float img_range;
    float mean[3];
    float reserved1;
} qsr__upsample_folded_push;
_Static_assert(sizeof(qsr__upsample_folded_push) == sizeof(qsr__op_push), "upsample_folded push");
QSR__PUSH_AT(qsr__upsample_folded_push, org_y, org_y);
QSR__PUSH_AT(qsr__upsample_folded_push, class_x, cout);
QSR__PUSH_AT(qsr__upsample_folded_push, image_y, scale_off);
QSR__PUSH_AT(qsr__upsample_folded_push, dst_y, dst_y);
QSR__PUSH_AT(qsr__upsample_folded_push, image_h, aux_off);
QSR__PUSH_AT(qsr__upsample_folded_push, img_range, img_range);
QSR__PUSH_AT(qsr__upsample_folded_push, mean, mean);

/* Epilogues of the 3x3 convolutions (shaders/epilogue.glsl). */
typedef enum qsr__epilogue {
    QSR__EPILOGUE_STORE = 0,
    QSR__EPILOGUE_RELU = 1,
    QSR__EPILOGUE_RESIDUAL = 2,
    QSR__EPILOGUE_ADD_SKIP = 3,
    QSR__EPILOGUE_SHUFFLE = 4,
    QSR__EPILOGUE_RGB = 5,
    QSR__EPILOGUE_GELU = 6, /* linear_q: GELU, then (with codes out) only the next codes */
    /* conv3x3_q: RESIDUAL with h in the c4 layout below (QuantSR-C's body) */
    QSR__EPILOGUE_RESIDUAL_C4 = 7
} qsr__epilogue;

/* fp32 activations are planar, [C][h][w], except QuantSR-C's residual stream h in quantized
 * plans, which is c4: [ceil(C/4)][h][w][4], a pixel's channels 4q .. 4q + 3 in 16 bytes (lanes
 * past C zero). There conv2's residual epilogue loads and stores a pixel's 8 channels as two
 * 16-byte elements; planar, they were 8 per-lane gathers and scatters on lavapipe, which made
 * conv2 1.25x as slow as conv1 (docs/benchmarks.md). quantize_rlq writes h so (H_C4),
 * conv3x3_q updates it (RESIDUAL_C4) and conv3x3_f32 reads it (SRC_C4). */
#define QSR__C4_WORDS(channels) (((channels) + 3u) / 4u * 4u)

/* Preferred workgroup shape of the per-pixel ops: 64 invocations, within every device's
 * limits; pipelines fit it to the device (qsr__pipeline_fit) and record functions size their
 * dispatches by the pipeline's local_x/local_y. */
#define QSR__LOCAL_X 8u
#define QSR__LOCAL_Y 8u

/* rgb_to_planar: bindings (rgba u32 in, float out). */
qsr__pipeline_desc qsr__rgb_to_planar_desc(void);
qsr_status qsr__rgb_to_planar_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                     VkDescriptorSet set, const qsr__rgb_to_planar_push *push);

/* conv3x3_f32: bindings (src, weights, params, dst, skip, dst_rgba, status). */
#define QSR__CONV_F32_BINDINGS 7u
/* px: pixels per invocation, 0 = the default (16); qsr__conv3x3_fit_px sets it per grid. */
qsr__pipeline_desc qsr__conv3x3_f32_desc(qsr__epilogue epilogue, uint32_t shuffle_r, int fast,
                                         uint32_t px);
/* The desc reading its source in the c4 layout (SRC_C4) instead of planar. */
void qsr__conv3x3_f32_src_c4(qsr__pipeline_desc *d);
/* Pixels per invocation (PX) of conv3x3_f32, upsample_folded (max_px 16) and conv3x3_q's PAIRS,
 * QUADS and QUADS3 kernels (max_px QSR__CONV_Q_MAX_PX) for a grid `width` wide in workgroup rows of
 * `lanes` invocations: 8, 16 or 32, whichever costs least counting the empty part of the last
 * workgroup row and each PX's cost per pixel (lower at larger PX); 32 only where the grid
 * spans a whole row of it. */
uint32_t qsr__conv_px(uint32_t width, uint32_t lanes, uint32_t max_px);
#define QSR__CONV_Q_MAX_PX 32u
/* Sets a conv3x3_f32, conv3x3_q or upsample_folded desc's PX for a dispatch over a grid `width`
 * wide on ctx's device (qsr__row_lanes; no-op for the kernels of fixed shape, DOT and TILED). */
void qsr__conv3x3_fit_px(const qsr_context *ctx, qsr__pipeline_desc *d, uint32_t width);
/* For such a desc, its twin at the other of 8 and 16 (1; both are made when a plan warms its
 * pipelines, 32 only when a grid first picks it); 0 for descs without one. */
int qsr__conv3x3_px_twin(const qsr__pipeline_desc *d, qsr__pipeline_desc *twin);
qsr_status qsr__conv3x3_f32_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const qsr__op_push *push);
/* Multiply-accumulates of one 3x3 convolution dispatch (its output region). */
uint64_t qsr__conv3x3_macs(const qsr__op_push *push);

/* upsample_folded: conv3x3_f32's bindings (dst and skip unused), `px` LR pixels per
 * invocation (16 or 8 as qsr__conv_px), or 1 for a grid one pixel wide (the image's border
 * columns), whose pixels then run down the workgroups' lanes. */
qsr__pipeline_desc qsr__upsample_folded_desc(uint32_t scale, uint32_t px);
qsr_status qsr__upsample_folded_record(qsr_context *ctx, VkCommandBuffer cmd,
                                       const qsr__pipeline *p, VkDescriptorSet set,
                                       const qsr__upsample_folded_push *push);
uint64_t qsr__upsample_folded_macs(const qsr__upsample_folded_push *push, uint32_t scale);

/* quantize_rlq: bindings (src float, params, dst packed, h in c4 or unused). h_c4: the pass also
 * writes its (unscaled) source in the c4 layout to binding 3. */
qsr__pipeline_desc qsr__quantize_rlq_desc(uint32_t bits, int is_signed, int h_c4);
qsr_status qsr__quantize_rlq_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                    VkDescriptorSet set, const qsr__quantize_rlq_push *push);
/* The same desc writing padded code planes (below). */
void qsr__quantize_rlq_pad_codes(qsr__pipeline_desc *d);
/* Codes per packed activation word: 4-bit containers at every bit width (QPACK_CPW in
 * shaders/qpack.glsl). */
#define QSR__CODES_PER_WORD 8u

/* Code planes ([words][h][w] of packed codes) are planar, or padded where QuantSR-C's body
 * runs conv3x3_q or conv3x3_q2: a plane is h + 2 rows of QSR__CODE_STRIDE(w) words, pixel
 * (x, y) at word (y + 1) * stride + x + 1, and the words around the grid are 0, the
 * convolution's zero padding (the producers write only the grid; the plan clears the planes
 * once per tile). A row segment from x0 - 1 (x0 a multiple of 4) then starts on a 16-byte texel
 * and needs no alignment selects and no masks: about 4 % fewer instructions for conv3x3_q and
 * conv3x3_q2 (docs/benchmarks.md). shaders/qpack.glsl's code_index is the shaders' twin. */
#define QSR__CODE_STRIDE(w) (((w) + 5u) & ~3u)
static inline size_t qsr__code_plane_words(uint32_t w, uint32_t h, int padded) {
    return padded ? (size_t)QSR__CODE_STRIDE(w) * (h + 2u) : (size_t)w * h;
}
static inline size_t qsr__code_word(uint32_t w, uint32_t h, int padded, uint32_t plane, uint32_t x,
                                    uint32_t y) {
    if (!padded) return ((size_t)plane * h + y) * w + x;
    return ((size_t)plane * (h + 2u) + y + 1u) * QSR__CODE_STRIDE(w) + x + 1u;
}

/* conv3x3_q: bindings (src codes, weight words, params, dst, dst again (the residual reads it
 * as a texel buffer: of 16-byte texels for RESIDUAL_C4), codes out). */
#define QSR__CONV_Q_BINDINGS 6u
/* What conv3x3_q makes of its result besides the epilogue: nothing, or the next quantizer's
 * unsigned or signed codes (with RELU: the codes only). */
typedef enum qsr__codes_out {
    QSR__CODES_NONE = 0,
    QSR__CODES_UNSIGNED = 1,
    QSR__CODES_SIGNED = 2
} qsr__codes_out;
/* The quantized convolution kernels; each has its own weight layout (pack_weights below):
 *   PAIRS: conv3x3_q, two output channels per 32-bit multiply, any width (the portable one);
 *   QUADS: conv3x3_q2, 2-bit weights and activations, a four-term dot product of bytes per
 *          32-bit multiply;
 *   DOT:   conv3x3_q_dot, packed 4x8-bit dot products (VK_KHR_shader_integer_dot_product);
 *   TILED: conv3x3_q_tiled, PAIRS' arithmetic and layout over shared-memory tiles (GPUs);
 *   QUADS3: conv3x3_q2 for 3-bit weights and activations, each four-term product flushed by
 *          itself (two weight texels per tap where QUADS folds four pairs into one). */
typedef enum qsr__qkernel {
    QSR__QKERNEL_PAIRS,
    QSR__QKERNEL_QUADS,
    QSR__QKERNEL_DOT,
    QSR__QKERNEL_TILED,
    QSR__QKERNEL_QUADS3
} qsr__qkernel;
/* The kernel for a model's widths on this device: DOT where the device reports the packed
 * 4x8-bit signed dot accelerated, else TILED on GPUs, else (CPU drivers such as lavapipe, where
 * shared memory is no faster than a fetch) QUADS for 2-bit weights and activations, QUADS3 for
 * 3-bit ones, else PAIRS.
 * QSR_KERNEL=portable|dot|tiled forces PAIRS, DOT (an error where the device lacks the dot
 * product) or TILED; anything else but auto is an error. */
qsr_status qsr__conv3x3_q_choose(const qsr_context *ctx, uint32_t bits_w, uint32_t bits_a,
                                 qsr__qkernel *out);
qsr__pipeline_desc qsr__conv3x3_q_desc(qsr__qkernel kernel, qsr__epilogue epilogue, uint32_t bits_a,
                                       int is_signed, qsr__codes_out codes_out);
/* The name of the kernel's shader ("conv3x3_q2" for QUADS and QUADS3). */
const char *qsr__conv3x3_q_shader_name(qsr__qkernel kernel);
/* Whether the kernel can read and write padded code planes (PAIRS, QUADS and QUADS3). */
int qsr__conv3x3_q_pads_codes(qsr__qkernel kernel);
/* The same desc (of a kernel that can) reading and writing padded code planes. */
void qsr__conv3x3_q_pad_codes(qsr__pipeline_desc *d);
qsr_status qsr__conv3x3_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                 VkDescriptorSet set, const qsr__op_push *push);
/* Whether the kernel reads its weights as uvec4 texels (offsets then count uvec4s). */
int qsr__conv3x3_q_wide_weights(qsr__qkernel kernel);
/* Number of 32-bit words the kernel reads for a cout x cin layer (a multiple of 4 for the
 * kernels with uvec4 weights). */
size_t qsr__conv3x3_q_weight_words(qsr__qkernel kernel, uint32_t cout, uint32_t cin);
/* Repacks a layer's weight codes ([cout][cin][9]) into the kernel's layout: PAIRS
 * [cout/8][cin][9] words of 8 nibbles; QUADS, QUADS3 and DOT also depend on whether the
 * layer's input codes are signed. */
void qsr__conv3x3_q_pack_weights(qsr__qkernel kernel, const int8_t *codes, uint32_t cout,
                                 uint32_t cin, int act_signed, uint32_t *out);
/* Floats conv3x3_f32 reads for a cout x cin layer (a multiple of 4: offsets are in vec4s). */
size_t qsr__conv3x3_f32_weight_floats(uint32_t cout, uint32_t cin);
/* Repacks [cout][cin][9] weights into conv3x3_f32's layout [cout/4][cin][9][4], cout padded
 * with zero weights to a multiple of 8 (an invocation makes two vec4 groups). */
void qsr__conv3x3_f32_pack_weights(const float *w, uint32_t cout, uint32_t cin, float *out);

/* ---- QuantSR-T (arch 2) token ops: activations planar [C][h][w] over the padded grid, codes
 * packed [C/8][h][w] as for the convolutions. linear_q and layernorm_q read through texel
 * buffers and have storage-buffer twins (linear_q_storage, layernorm_q_storage in
 * shaders.cmake, listed in runtime/pipeline.c's storage_twins). A Swin layer
 * (runtime/arch/quantsr_t.c):
 *   layernorm_q (norm1, qkv's codes) -> linear_q STORE (qkv) -> window_attention (heads, fp32)
 *   -> quantize_rlq (proj's codes) -> linear_q RESIDUAL (proj, shortcut) -> layernorm_q (norm2,
 *   fc1's codes) -> linear_q GELU + codes (fc1) -> linear_q RESIDUAL (fc2, shortcut 1). ---- */

/* linear_q: a quantized linear layer = conv3x3_q's arithmetic and epilogue as a 1x1
 * convolution. Bindings as conv3x3_q (src codes, weight words, params, dst, dst again, codes
 * out); push: in_w x in_h = out_w x out_h the grid, cin, cout, w_off (uvec4s), bias_off,
 * scale_off (a * a_w[oc]), aux_off and step (the next quantizer, with codes out), shortcut and
 * dst_scale (RESIDUAL). Epilogues: STORE, RESIDUAL, GELU. */
qsr__pipeline_desc qsr__linear_q_desc(qsr__epilogue epilogue, uint32_t bits_a, int is_signed,
                                      qsr__codes_out codes_out);
qsr_status qsr__linear_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                VkDescriptorSet set, const qsr__op_push *push);
/* 32-bit words of a cout x cin layer's weights (a multiple of 4). */
size_t qsr__linear_q_weight_words(uint32_t cout, uint32_t cin);
/* Packs weight codes [cout][cin] into linear_q's layout [cout/8][cin/8][8] words, word j of a
 * group holding input channel 8 cw + j's codes of output channels 8g .. 8g + 7 in nibbles. */
void qsr__linear_q_pack_weights(const int8_t *codes, uint32_t cout, uint32_t cin, uint32_t *out);
/* Multiply-accumulates of one linear_q dispatch. */
uint64_t qsr__linear_q_macs(const qsr__op_push *push);

/* layernorm_q: bindings (src fp32, params, dst); push: in_w x in_h, cin (E, the desc's
 * `channels`), scale_off (weight), bias_off, aux_off and step (the next quantizer's shifts and
 * step). codes_out NONE: fp32 output [E][h][w]; else the next quantizer's bits_a-bit codes. */
qsr__pipeline_desc qsr__layernorm_q_desc(qsr__codes_out codes_out, uint32_t bits_a,
                                         uint32_t channels);
qsr_status qsr__layernorm_q_record(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                   VkDescriptorSet set, const qsr__op_push *push);

/* window_attention: bindings (qkv fp32 [3E][h][w], params, heads fp32 [E][h][w]); its own push
 * block (shaders/window_attention.comp). */
typedef struct qsr__attention_push {
    int32_t grid_w, grid_h; /* the padded grid, multiples of the window */
    int32_t channels, heads;
    int32_t shift; /* 0 or window / 2 */
    int32_t q_shift_off, k_shift_off, v_shift_off, bias_off;
    float sqrt_d;
    float q_step, k_step, v_step, p_step;
    float qk_scale, pv_scale; /* q_step * k_step, p_step * v_step */
} qsr__attention_push;
_Static_assert(sizeof(qsr__attention_push) == 64, "push block must match window_attention.comp");
/* window: 4, 8 or 16; head_dim: E / heads. */
qsr__pipeline_desc qsr__window_attention_desc(uint32_t window, uint32_t head_dim, uint32_t bits_a,
                                              int q_signed, int k_signed, int v_signed);
/* Fails with QSR_ERROR_UNSUPPORTED where the pipeline's workgroup would make an invocation run
 * past lavapipe's 65535 loop iterations (a small workgroup with large windows and heads). */
qsr_status qsr__window_attention_record(qsr_context *ctx, VkCommandBuffer cmd,
                                        const qsr__pipeline *p, VkDescriptorSet set,
                                        const qsr__attention_push *push);
/* Multiply-accumulates (Q K^T and P V) of one window_attention dispatch. */
uint64_t qsr__window_attention_macs(const qsr__attention_push *push, uint32_t window);

#endif
