/* quantsr_c.c - QuantSR-C (arch 1), EDSR-style: its tensors, its ops and their bindings, the
 * recording of one tile's dispatches, its tile geometry and MACs. plan.c executes it. */
#include "arch.h"
#include "reference.h"
#include "upsample_fold.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Tensors
 */
enum {
    T_IMG_IN, /* RGBA8 words of the body tile's region */
    T_X0,     /* planar network input */
    T_F,      /* conv_first's output, kept for the global skip */
    T_H,      /* the body's running features (c4 layout in quantized plans, ops.h) */
    T_T,      /* scratch: fp32 conv1 output, then r = conv_after_body(h) + f */
    T_Q,      /* packed codes of the next conv1's input (padded code planes, ops.h) */
    T_Q2,     /* packed codes of conv2's input (padded) */
    T_U1,     /* first upsampler stage (PixelShuffled) */
    T_U2,     /* second upsampler stage (x4) */
    T_IMG_OUT,
    T_STATUS, /* non-finite flag */
    T_DUMMY,  /* bound where an op variant reads or writes nothing */
    T_COUNT,
    /* Resolved per model (resolve): the upsampler's last output, conv_last's input. */
    T_UPS_OUT = T_COUNT
};

static uint32_t channels(const qsr__plan *p) {
    return p->model->info.channels;
}
/* h is c4 where the body is quantized (conv2's RESIDUAL_C4), planar in fp32 executions. */
static uint32_t h_words(const qsr__plan *p) {
    return p->quantized ? QSR__C4_WORDS(p->model->info.channels) : p->model->info.channels;
}
static uint32_t code_words(const qsr__plan *p) {
    return p->quantized ? qsr__div_up(p->model->info.channels, QSR__CODES_PER_WORD) : 0;
}
static uint32_t u1_words(const qsr__plan *p) {
    uint32_t r = p->model->upsample_factor;
    return p->model->info.channels * r * r;
}
static uint32_t u2_words(const qsr__plan *p) {
    uint32_t s = p->model->info.scale;
    return p->model->upsample_count > 1 ? p->model->info.channels * s * s : 0;
}
static uint32_t hr_pixel_words(const qsr__plan *p) {
    return p->model->info.scale * p->model->info.scale;
}

static const qsr__tensor_spec tensors[T_COUNT] = {
    [T_IMG_IN] = {"img_in", QSR__GRID_REGION, qsr__words_one, QSR__TENSOR_IO},
    [T_X0] = {"x0", QSR__GRID_REGION, qsr__words_three, 0},
    [T_F] = {"f", QSR__GRID_REGION, channels, 0},
    [T_H] = {"h", QSR__GRID_REGION, h_words, 0},
    [T_T] = {"t", QSR__GRID_REGION, channels, 0},
    [T_Q] = {"q", QSR__GRID_CODES, code_words, 0},
    [T_Q2] = {"q2", QSR__GRID_CODES, code_words, 0},
    [T_U1] = {"u1", QSR__GRID_UPS, u1_words, 0},
    [T_U2] = {"u2", QSR__GRID_UPS, u2_words, 0},
    [T_IMG_OUT] = {"img_out", QSR__GRID_TILE, hr_pixel_words, QSR__TENSOR_IO},
    [T_STATUS] = {"status", QSR__GRID_FIXED, qsr__words_flag, QSR__TENSOR_HOST},
    [T_DUMMY] = {"dummy", QSR__GRID_FIXED, qsr__words_flag, 0},
};

static int resolve(const qsr__plan *plan, int tensor) {
    (void)tensor; /* T_UPS_OUT, the only alias */
    return plan->model->upsample_count > 1 ? T_U2 : T_U1;
}

/* ---------------------------------------------------------------------------------------------
 * Pipelines
 */

/* conv_first (STORE) feeds the quantizers and keeps the reference order; every other fp32 conv
 * runs after the last quantizer (or in an fp32 execution, where none follows). */
static qsr__pipeline_desc f32_desc(const qsr__plan *plan, qsr__epilogue epilogue) {
    int fast = epilogue != QSR__EPILOGUE_STORE && plan->fast_fp;
    uint32_t r = epilogue == QSR__EPILOGUE_SHUFFLE ? plan->model->upsample_factor : 0;
    return qsr__conv3x3_f32_desc(epilogue, r, fast, 0);
}

/* The body's code planes are padded where its kernel reads them so (ops.h). */
static int pads_codes(const qsr__plan *plan) {
    return qsr__conv3x3_q_pads_codes(plan->kernel);
}

/* The quantizer pass of the first active block, which lays out h in c4 on the way. */
static qsr__pipeline_desc quantize_desc(const qsr__plan *plan, int is_signed) {
    qsr__pipeline_desc d = qsr__quantize_rlq_desc(plan->model->info.bits_a, is_signed, 1);
    if (pads_codes(plan)) qsr__quantize_rlq_pad_codes(&d);
    return d;
}

static qsr__pipeline_desc convq_desc(const qsr__plan *plan, qsr__epilogue epilogue, int signed_in,
                                     qsr__codes_out codes) {
    qsr__pipeline_desc d =
        qsr__conv3x3_q_desc(plan->kernel, epilogue, plan->model->info.bits_a, signed_in, codes);
    if (pads_codes(plan)) qsr__conv3x3_q_pad_codes(&d);
    return d;
}

/* The variant every quantized model runs first. */
static qsr__pipeline_desc first_convq_desc(const qsr__plan *plan) {
    const qsr_model *m = plan->model;
    return convq_desc(plan, QSR__EPILOGUE_RELU, m->body[0].act_signed,
                      qsr__codes_for(m->body[1].act_signed));
}

/* conv2 at full depth's first block; also the representative of conv2's set, whose binding 4
 * is a view of 16-byte texels (RESIDUAL_C4). */
static qsr__pipeline_desc first_conv2_desc(const qsr__plan *plan) {
    const qsr_model *m = plan->model;
    qsr__codes_out codes =
        m->info.blocks > 1 ? qsr__codes_for(m->body[2].act_signed) : QSR__CODES_NONE;
    return convq_desc(plan, QSR__EPILOGUE_RESIDUAL_C4, m->body[1].act_signed, codes);
}

/* conv_after_body reads h, c4 in quantized plans. */
static qsr__pipeline_desc after_body_desc(const qsr__plan *plan) {
    qsr__pipeline_desc d = f32_desc(plan, QSR__EPILOGUE_ADD_SKIP);
    if (plan->quantized) qsr__conv3x3_f32_src_c4(&d);
    return d;
}

/* Set layouts: one representative pipeline per shader. */
static qsr__pipeline_desc layout_f32(const qsr__plan *plan) {
    return f32_desc(plan, QSR__EPILOGUE_STORE);
}
static qsr__pipeline_desc layout_quantize(const qsr__plan *plan) {
    return quantize_desc(plan, 1);
}

static uint32_t pipelines(const qsr__plan *plan, qsr__pipeline_desc out[QSR__MAX_PIPES]) {
    static const qsr__epilogue f32[] = {QSR__EPILOGUE_STORE, QSR__EPILOGUE_RELU,
                                        QSR__EPILOGUE_RESIDUAL, QSR__EPILOGUE_SHUFFLE};
    uint32_t n = 0;
    out[n++] = qsr__rgb_to_planar_desc();
    for (size_t i = 0; i < sizeof f32 / sizeof f32[0]; i++)
        out[n++] = f32_desc(plan, f32[i]);
    out[n++] = f32_desc(plan, QSR__EPILOGUE_RGB);
    out[n++] = after_body_desc(plan);
    if (plan->fold_upsampler) {
        /* the inner columns (the other PX is made on first use, or by warm, as for the
         * convolutions), the image's first and last columns at PX 1 */
        out[n++] = qsr__upsample_folded_desc(plan->model->info.scale, 16);
        out[n++] = qsr__upsample_folded_desc(plan->model->info.scale, 1);
    }
    if (plan->quantized) {
        out[n++] = quantize_desc(plan, 0);
        out[n++] = quantize_desc(plan, 1);
        out[n++] = first_convq_desc(plan);
        out[n++] = first_conv2_desc(plan);
    }
    return n;
}

/* Every conv3x3_q variant some depth records. */
static qsr_status warm(qsr__plan *plan) {
    if (!plan->quantized) return QSR_OK;
    const qsr_model *m = plan->model;
    const qsr__pipeline *p;
    for (uint32_t b = 0; b < m->info.blocks; b++) {
        const qsr__conv *c1 = &m->body[2 * b], *c2 = &m->body[2 * b + 1];
        qsr__pipeline_desc d =
            convq_desc(plan, QSR__EPILOGUE_RELU, c1->act_signed, qsr__codes_for(c2->act_signed));
        qsr_status st = qsr__plan_pipeline(plan, &d, &p);
        /* conv2 writes no codes after the last active block, else those of whichever later
         * block is the next active one at the depth run. */
        d = convq_desc(plan, QSR__EPILOGUE_RESIDUAL_C4, c2->act_signed, QSR__CODES_NONE);
        if (st == QSR_OK) st = qsr__plan_pipeline(plan, &d, &p);
        for (uint32_t n = b + 1; n < m->info.blocks && st == QSR_OK; n++) {
            d = convq_desc(plan, QSR__EPILOGUE_RESIDUAL_C4, c2->act_signed,
                           qsr__codes_for(m->body[2 * n].act_signed));
            st = qsr__plan_pipeline(plan, &d, &p);
        }
        if (st != QSR_OK) return st;
    }
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Ops (one descriptor set and one profile line each)
 */
enum {
    OP_RGB,
    OP_FIRST,
    OP_COPY_SKIP,
    OP_CLEAR_CODES,
    OP_QUANTIZE,
    OP_CONV1_Q,
    OP_CONV2_Q,
    OP_CONV1_F32,
    OP_CONV2_F32,
    OP_AFTER_BODY,
    OP_UPS0,
    OP_UPS1,
    OP_LAST,
    OP_FOLDED,
    OP_COPY_OUT,
    OP_COUNT
};

#define WF  QSR__BIND_WEIGHTS_F32
#define WQ  QSR__BIND_WEIGHTS_Q
#define PRM QSR__BIND_PARAMS
#define DUM T_DUMMY
#define STA T_STATUS

/* Bindings: rgb_to_planar (rgba in, float out); conv3x3_f32 (src, weights, params, dst, skip,
 * dst_rgba, status); quantize_rlq (src, params, codes, h in c4); conv3x3_q (src codes, weight
 * words, params, dst, dst again (the residual reads it as a texel buffer), codes out). The
 * first active block's quantizer reads f (h is f then) and writes h for the body; fp32
 * executions copy f to h instead. */
static const qsr__op_spec ops[OP_COUNT] = {
    [OP_RGB] = {"rgb_to_planar", qsr__arch_layout_rgb, {T_IMG_IN, T_X0}, QSR__OP_ALWAYS},
    [OP_FIRST] = {"conv_first", layout_f32, {T_X0, WF, PRM, T_F, DUM, DUM, STA}, QSR__OP_ALWAYS},
    [OP_COPY_SKIP] = {"copy (global skip)", NULL, {0}, QSR__OP_ALWAYS},
    [OP_CLEAR_CODES] = {"clear (code planes)", NULL, {0}, QSR__OP_QUANTIZED},
    [OP_QUANTIZE] = {"quantize_rlq", layout_quantize, {T_F, PRM, T_Q, T_H}, QSR__OP_QUANTIZED},
    [OP_CONV1_Q] = {"body conv1 (q)",
                    first_convq_desc,
                    {T_Q, WQ, PRM, DUM, DUM, T_Q2},
                    QSR__OP_QUANTIZED},
    [OP_CONV2_Q] = {"body conv2 (q)",
                    first_conv2_desc,
                    {T_Q2, WQ, PRM, T_H, T_H, T_Q},
                    QSR__OP_QUANTIZED},
    [OP_CONV1_F32] = {"body conv1 (fp32)",
                      layout_f32,
                      {T_H, WF, PRM, T_T, DUM, DUM, STA},
                      QSR__OP_ALWAYS},
    [OP_CONV2_F32] = {"body conv2 (fp32)",
                      layout_f32,
                      {T_T, WF, PRM, T_H, DUM, DUM, STA},
                      QSR__OP_ALWAYS},
    [OP_AFTER_BODY] = {"conv_after_body",
                       after_body_desc,
                       {T_H, WF, PRM, T_T, T_F, DUM, STA},
                       QSR__OP_ALWAYS},
    [OP_UPS0] = {"upsample conv 1",
                 layout_f32,
                 {T_T, WF, PRM, T_U1, DUM, DUM, STA},
                 QSR__OP_ALWAYS},
    [OP_UPS1] = {"upsample conv 2",
                 layout_f32,
                 {T_U1, WF, PRM, T_U2, DUM, DUM, STA},
                 QSR__OP_ALWAYS},
    [OP_LAST] = {"conv_last",
                 layout_f32,
                 {T_UPS_OUT, WF, PRM, DUM, DUM, T_IMG_OUT, STA},
                 QSR__OP_ALWAYS},
    [OP_FOLDED] = {"folded upsample+last",
                   layout_f32,
                   {T_T, WF, PRM, DUM, DUM, T_IMG_OUT, STA},
                   QSR__OP_ALWAYS},
    [OP_COPY_OUT] = {"copy (output)", NULL, {0}, QSR__OP_ALWAYS},
};

/* ---------------------------------------------------------------------------------------------
 * Weights: slot 0 conv_first, 1 .. 2 B the body (conv1, conv2 of each block), then
 * conv_after_body, the upsampler stages and conv_last.
 */
#define SLOT_FIRST 0u
#define SLOT_BODY  1u
static uint32_t slot_after_body(const qsr_model *m) {
    return SLOT_BODY + 2 * m->info.blocks;
}
static uint32_t slot_upsample(const qsr_model *m, uint32_t k) {
    return slot_after_body(m) + 1 + k;
}
static uint32_t slot_last(const qsr_model *m) {
    return slot_after_body(m) + 3;
}
static uint32_t slot_folded(const qsr_model *m) {
    return slot_last(m) + 1;
}
static uint32_t slot_count(const qsr_model *m) {
    return slot_folded(m) + 1;
}

static void add_weights(qsr__plan *plan, qsr__weight_builder *b) {
    const qsr_model *m = plan->model;
    qsr__weights_add_conv(b, &m->conv_first, 0, &plan->slots[SLOT_FIRST]);
    for (uint32_t i = 0; i < 2 * m->info.blocks; i++)
        qsr__weights_add_conv(b, &m->body[i], plan->quantized, &plan->slots[SLOT_BODY + i]);
    qsr__weights_add_conv(b, &m->conv_after_body, 0, &plan->slots[slot_after_body(m)]);
    for (uint32_t k = 0; k < m->upsample_count; k++)
        qsr__weights_add_conv(b, &m->upsample[k], 0, &plan->slots[slot_upsample(m, k)]);
    qsr__weights_add_conv(b, &m->conv_last, 0, &plan->slots[slot_last(m)]);
    if (!plan->fold_upsampler) return;
    qsr__layer_slot *folded = &plan->slots[slot_folded(m)];
    float *w = qsr__weights_reserve_f32(b, qsr__fold_weight_floats(m), &folded->w_off);
    float *bias = qsr__weights_reserve_params(b, qsr__fold_bias_floats(m), &folded->bias_off);
    if (w && bias && qsr__fold_upsampler(m, w, bias) != QSR_OK) qsr__weights_fail(b);
}

/* ---------------------------------------------------------------------------------------------
 * Recording one tile
 */
#define conv_push qsr__arch_layer_push

/* Both convolutions take their pixels per invocation from the grid they run over. */
static qsr_status conv_f32(qsr__plan *plan, uint32_t op, qsr__pipeline_desc d,
                           const qsr__op_push *p) {
    qsr__conv3x3_fit_px(plan->ctx, &d, (uint32_t)p->out_w);
    return qsr__arch_run_op(plan, op, &d, qsr__conv3x3_macs(p), qsr__record_conv3x3_f32, p);
}

static qsr_status conv_q(qsr__plan *plan, uint32_t op, qsr__pipeline_desc d,
                         const qsr__op_push *p) {
    qsr__conv3x3_fit_px(plan->ctx, &d, (uint32_t)p->out_w);
    return qsr__arch_run_op(plan, op, &d, qsr__conv3x3_macs(p), qsr__record_conv3x3_q, p);
}

/* The first block from `from` on that runs at `depth` (m->info.blocks if none) and the
 * product of the shortcuts of the blocks skipped before it, multiplied in the order the blocks
 * come (as the CPU reference does). */
static uint32_t next_active_block(const qsr_model *m, uint32_t depth, uint32_t from,
                                  float *skipped) {
    *skipped = 1.0f;
    for (uint32_t b = from; b < m->info.blocks; b++) {
        if (qsr__arch_block_active(&m->info, depth, b)) return b;
        *skipped *= m->shortcut[b];
    }
    return m->info.blocks;
}

/* Where a block sits among the active ones: `pending` is the product of the shortcuts skipped
 * since the last active block, `next` the next active block (blocks if none) and `skipped` the
 * product of the shortcuts between them. */
typedef struct block_step {
    uint32_t block, next;
    float pending, skipped;
    int codes_ready; /* the last block wrote this block's conv1 codes */
} block_step;

/* The quantizer pass of the first active block: h -> q. */
static qsr_status record_quantize(qsr__plan *plan, const block_step *k, uint32_t w, uint32_t h) {
    const qsr__conv *c1 = &plan->model->body[2 * k->block];
    const qsr__layer_slot *s1 = &plan->slots[SLOT_BODY + 2 * k->block];
    qsr__quantize_rlq_push p = {.in_w = (int32_t)w,
                                .in_h = (int32_t)h,
                                .cin = (int32_t)c1->cin,
                                .shift_off = s1->shift_off,
                                .in_scale = k->pending,
                                .step = c1->act_step};
    qsr__pipeline_desc d = quantize_desc(plan, c1->act_signed);
    return qsr__arch_run_op(plan, OP_QUANTIZE, &d, 0, qsr__record_quantize_rlq, &p);
}

/* One quantized block as two dispatches over packed codes: conv1 + ReLU writes conv2's codes
 * (q -> q2); conv2 + residual updates h and writes the next active block's conv1 codes
 * (q2 -> h, q). Only the first active block quantizes h in a pass of its own. */
static qsr_status record_block_q(qsr__plan *plan, const block_step *k, uint32_t w, uint32_t h) {
    const qsr_model *m = plan->model;
    uint32_t s1 = SLOT_BODY + 2 * k->block, s2 = s1 + 1;
    const qsr__conv *c1 = &m->body[2 * k->block], *c2 = &m->body[2 * k->block + 1];
    qsr_status st = k->codes_ready ? QSR_OK : record_quantize(plan, k, w, h);
    if (st != QSR_OK) return st;
    qsr__op_push p = conv_push(plan, c1, s1, w, h);
    p.aux_off = plan->slots[s2].shift_off;
    p.step = c2->act_step;
    p.in_scale = 1.0f;
    st = conv_q(
        plan, OP_CONV1_Q,
        convq_desc(plan, QSR__EPILOGUE_RELU, c1->act_signed, qsr__codes_for(c2->act_signed)), &p);
    if (st != QSR_OK) return st;

    p = conv_push(plan, c2, s2, w, h);
    p.shortcut = m->shortcut[k->block];
    p.dst_scale = k->pending;
    qsr__codes_out codes = QSR__CODES_NONE;
    if (k->next < m->info.blocks) {
        const qsr__conv *n1 = &m->body[2 * k->next];
        codes = qsr__codes_for(n1->act_signed);
        p.aux_off = plan->slots[SLOT_BODY + 2 * k->next].shift_off;
        p.step = n1->act_step;
        p.in_scale = k->skipped;
    }
    return conv_q(plan, OP_CONV2_Q,
                  convq_desc(plan, QSR__EPILOGUE_RESIDUAL_C4, c2->act_signed, codes), &p);
}

/* The same block in fp32 (FP models, or QSR_PRECISION_FP32). */
static qsr_status record_block_f32(qsr__plan *plan, const block_step *k, uint32_t w, uint32_t h) {
    const qsr_model *m = plan->model;
    uint32_t s1 = SLOT_BODY + 2 * k->block;
    qsr__op_push p = conv_push(plan, &m->body[2 * k->block], s1, w, h);
    p.in_scale = k->pending;
    qsr_status st = conv_f32(plan, OP_CONV1_F32, f32_desc(plan, QSR__EPILOGUE_RELU), &p);
    if (st != QSR_OK) return st;
    p = conv_push(plan, &m->body[2 * k->block + 1], s1 + 1, w, h);
    p.shortcut = m->shortcut[k->block];
    p.dst_scale = k->pending;
    return conv_f32(plan, OP_CONV2_F32, f32_desc(plan, QSR__EPILOGUE_RESIDUAL), &p);
}

/* h starts as a copy of f, which the global skip needs unchanged (fp32 executions; quantized
 * ones lay out h in the first quantizer pass). */
static void record_copy_skip(qsr__plan *plan, uint32_t w, uint32_t h) {
    qsr__arch_copy_tensor(plan, OP_COPY_SKIP, T_F, T_H,
                          (VkDeviceSize)plan->model->info.channels * w * h * 4);
}

/* The border words of padded code planes are the convolutions' zero padding, and the
 * producers write only the grid: the planes start each tile (whose grid may differ from the
 * last one's) as zeros. */
static void record_clear_codes(qsr__plan *plan, uint32_t w, uint32_t h) {
    VkDeviceSize bytes = code_words(plan) * qsr__code_plane_words(w, h, 1) * 4;
    qsr__arch_clear_tensor(plan, OP_CLEAR_CODES, T_Q, bytes);
    qsr__arch_clear_tensor(plan, OP_CLEAR_CODES, T_Q2, bytes);
}

/* rgb_to_planar, conv_first, the body and conv_after_body over the LR region; returns in t:
 * r = conv(h) + f. */
static qsr_status record_lr(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t depth) {
    const qsr_model *m = plan->model;
    uint32_t w = g->region.w, h = g->region.h;
    qsr_status st = qsr__arch_rgb_to_planar(plan, OP_RGB, w, h, w, h);
    if (st != QSR_OK) return st;
    qsr__op_push p = conv_push(plan, &m->conv_first, SLOT_FIRST, w, h);
    st = conv_f32(plan, OP_FIRST, f32_desc(plan, QSR__EPILOGUE_STORE), &p);
    if (st != QSR_OK) return st;
    if (!plan->quantized) record_copy_skip(plan, w, h);
    if (plan->quantized && pads_codes(plan)) record_clear_codes(plan, w, h);

    /* A skipped block is h = h * shortcut: instead of a pass over h, its factor is carried
     * to the next op that reads h (no dispatch, no memory traffic). */
    block_step k = {0, 0, 1.0f, 1.0f, 0};
    k.block = next_active_block(m, depth, 0, &k.pending);
    for (; k.block < m->info.blocks; k.block = k.next, k.pending = k.skipped, k.codes_ready = 1) {
        k.next = next_active_block(m, depth, k.block + 1, &k.skipped);
        st = plan->quantized ? record_block_q(plan, &k, w, h) : record_block_f32(plan, &k, w, h);
        if (st == QSR_OK) st = qsr__plan_split_point(plan);
        if (st != QSR_OK) return st;
    }
    p = conv_push(plan, &m->conv_after_body, slot_after_body(m), w, h);
    p.in_scale = k.pending; /* the shortcuts after the last active block */
    st = conv_f32(plan, OP_AFTER_BODY, after_body_desc(plan), &p);
    return st == QSR_OK ? qsr__plan_split_point(plan) : st;
}

/* The folded upsampler over one part of the tile: columns [from, to) of the image, all of
 * the tile's rows, column class `cls` (upsample_fold.h). */
static qsr_status record_folded_part(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t from,
                                     uint32_t to, int32_t cls) {
    const qsr_model *m = plan->model;
    const qsr__layer_slot *slot = &plan->slots[slot_folded(m)];
    uint32_t s = m->info.scale;
    qsr__op_push base = qsr__arch_base_push(plan);
    qsr__upsample_folded_push p;
    memcpy(&p, &base, sizeof p);
    p.in_w = (int32_t)g->region.w;
    p.in_h = (int32_t)g->region.h;
    p.out_w = (int32_t)(to - from);
    p.out_h = (int32_t)g->tile.h;
    p.org_x = (int32_t)(from - g->region.x);
    p.org_y = (int32_t)(g->tile.y - g->region.y);
    p.cin = (int32_t)m->info.channels;
    p.class_x = cls;
    p.w_off = slot->w_off;
    p.bias_off = slot->bias_off;
    p.image_y = (int32_t)g->tile.y;
    p.image_h = (int32_t)g->image_h;
    p.dst_w = (int32_t)(g->tile.w * s);
    p.dst_h = (int32_t)(g->tile.h * s);
    p.dst_x = (int32_t)(from - g->tile.x);
    p.dst_y = 0;
    /* A border column is one pixel wide: PX 1, its pixels down the workgroups' lanes. */
    qsr__pipeline_desc d = qsr__upsample_folded_desc(s, cls == 1 ? 16 : 1);
    if (cls == 1) qsr__conv3x3_fit_px(plan->ctx, &d, to - from);
    return qsr__arch_run_op(plan, OP_FOLDED, &d, qsr__upsample_folded_macs(&p, s),
                            qsr__record_upsample_folded, &p);
}

/* The folded upsampler over the tile: the image's first column, the inner ones and its last
 * column take their own kernels. */
static qsr_status record_hr_folded(qsr__plan *plan, const qsr__tile_geometry *g) {
    uint32_t x0 = g->tile.x, x1 = g->tile.x + g->tile.w, w = g->image_w;
    uint32_t inner0 = x0 > 1 ? x0 : 1, inner1 = x1 < w - 1 ? x1 : w - 1;
    qsr_status st = QSR_OK;
    if (x0 == 0) st = record_folded_part(plan, g, 0, 1, 0);
    if (st == QSR_OK && inner0 < inner1) st = record_folded_part(plan, g, inner0, inner1, 1);
    if (st == QSR_OK && x1 == w) st = record_folded_part(plan, g, w - 1, w, 2);
    return st;
}

/* The upsampler over g->ups and conv_last over the tile. */
static qsr_status record_hr(qsr__plan *plan, const qsr__tile_geometry *g) {
    const qsr_model *m = plan->model;
    if (qsr__plan_folds(plan, g)) return record_hr_folded(plan, g);
    uint32_t r = m->upsample_factor, s = m->info.scale;
    qsr__op_push p =
        conv_push(plan, &m->upsample[0], slot_upsample(m, 0), g->region.w, g->region.h);
    p.out_w = (int32_t)g->ups.w;
    p.out_h = (int32_t)g->ups.h;
    p.org_x = (int32_t)(g->ups.x - g->region.x);
    p.org_y = (int32_t)(g->ups.y - g->region.y);
    qsr_status st = conv_f32(plan, OP_UPS0, f32_desc(plan, QSR__EPILOGUE_SHUFFLE), &p);
    if (st == QSR_OK) st = qsr__plan_split_point(plan);
    if (st != QSR_OK) return st;
    uint32_t w = g->ups.w * r, h = g->ups.h * r;
    if (m->upsample_count > 1) {
        p = conv_push(plan, &m->upsample[1], slot_upsample(m, 1), w, h);
        st = conv_f32(plan, OP_UPS1, f32_desc(plan, QSR__EPILOGUE_SHUFFLE), &p);
        if (st == QSR_OK) st = qsr__plan_split_point(plan);
        if (st != QSR_OK) return st;
        w *= r;
        h *= r;
    }
    p = conv_push(plan, &m->conv_last, slot_last(m), w, h);
    p.out_w = p.dst_w = (int32_t)(g->tile.w * s);
    p.out_h = p.dst_h = (int32_t)(g->tile.h * s);
    p.org_x = (int32_t)((g->tile.x - g->ups.x) * s);
    p.org_y = (int32_t)((g->tile.y - g->ups.y) * s);
    return conv_f32(plan, OP_LAST, f32_desc(plan, QSR__EPILOGUE_RGB), &p);
}

/* ---------------------------------------------------------------------------------------------
 * MACs per LR pixel
 */
static uint64_t macs_per_pixel(const qsr_model_info *info, uint64_t active) {
    const uint64_t c = info->channels, s = info->scale;
    uint64_t macs = 9 * 3 * c;      /* conv_first */
    macs += active * 2 * 9 * c * c; /* body */
    macs += 9 * c * c;              /* conv_after_body */
    if (s == 2) macs += 9 * c * 4 * c;
    if (s == 3) macs += 9 * c * 9 * c;
    /* x4: the second x2 stage runs on 4 times as many pixels. */
    if (s == 4) macs += 9 * c * 4 * c + 4 * 9 * c * 4 * c;
    macs += 9 * c * 3 * s * s; /* conv_last at the output resolution */
    return macs;
}

static const qsr__program program = {
    .tensors = tensors,
    .tensor_count = T_COUNT,
    .tensor_in = T_IMG_IN,
    .tensor_out = T_IMG_OUT,
    .tensor_status = T_STATUS,
    .folds_upsampler = 1,
    .resolve = resolve,
    .ops = ops,
    .op_count = OP_COUNT,
    .op_copy_out = OP_COPY_OUT,
    .slot_count = slot_count,
    .add_weights = add_weights,
    .pipelines = pipelines,
    .warm = warm,
    .record_lr = record_lr,
    .record_hr = record_hr,
};

/* Going backwards from the output (tile.h): conv_last needs 1 HR pixel, which every upsampler
 * stage and its conv turn into 2 LR pixels of r, conv_after_body 1 more, each active block 2
 * (two convs), conv_first 1: halo = 4 + 2 x active blocks. Every convolution pads with zeros
 * only at the real image border, so any region is exact. */
const qsr__arch qsr__arch_quantsr_c = {
    .id = QSR_ARCH_QUANTSR_C,
    .name = "QuantSR-C",
    .schema = &qsr__model_schema_c,
    .program = &program,
    .tile = {.align = 1,
             .halo_base = 4,
             .halo_per_block = 2,
             .hr_margin = QSR__UPSAMPLE_MARGIN,
             .hr_tile_max = QSR__HR_TILE_MAX},
    .region_exact = 1,
    .macs_per_pixel = macs_per_pixel,
    .reference = qsr__reference_upscale_c,
};
