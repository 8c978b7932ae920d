/* quantsr_t.c - QuantSR-T (arch 2), SwinIR-light with RLQ-quantized linear layers, attention
 * products and group convolutions (docs/model-format.md, "QuantSR-T (arch 2)"): its tensors,
 * ops and their bindings, the recording of one run, its geometry and MACs. plan.c executes
 * it; reference_t.c is the CPU walk it is tested against.
 *
 * The network runs on the whole image at once: windows are laid on the padded image and
 * shifted every other layer, so no tile of it has an exact halo. Every token tensor lives on
 * the padded grid (QSR__GRID_PADDED: the image padded on the right and bottom to multiples of
 * the window), planar [C][Hp][Wp] in fp32 or packed codes [C/8][Hp][Wp].
 *
 * One Swin layer, as dispatches:
 *   layernorm_q   tok -> codes          norm1 with qkv's quantizer
 *   linear_q      codes -> qkv          qkv (fp32 out)
 *   window_attn   qkv -> heads          the heads' outputs, fp32
 *   quantize_rlq  heads -> codes        proj's quantizer
 *   linear_q      codes -> tok          proj, tok = tok * shortcut + y
 *   layernorm_q   tok -> codes          norm2 with fc1's quantizer
 *   linear_q      codes -> hcodes       fc1, GELU and fc2's quantizer
 *   linear_q      hcodes -> tok         fc2, tok = tok + y
 * A skipped layer (DQA) is tok = tok * shortcut: its factor is carried to the next op that
 * reads tok (norm1's input scale and proj's residual scale, or the group conv's quantizer),
 * as QuantSR-C does with its skipped blocks. */
#include "arch.h"
#include "reference.h"

#include <math.h>

/* ---------------------------------------------------------------------------------------------
 * Tensors
 */
enum {
    T_IMG_IN,  /* RGBA8 words of the image */
    T_XPAD,    /* planar network input on the padded grid (reflected) */
    T_F,       /* conv_first's output, kept for the global skip */
    T_TOK,     /* the running tokens */
    T_U,       /* a group's input (its residual); the final norm's output */
    T_QKV,     /* qkv's fp32 output [3E] */
    T_HEADS,   /* the attention heads' fp32 output [E] */
    T_CODES,   /* packed codes of the next E-input layer (qkv, proj, fc1, group conv) */
    T_HCODES,  /* packed codes of fc2's input [H] */
    T_UPS,     /* upsample.0's output, pixel-shuffled: [3][s Hp][s Wp] */
    T_IMG_OUT, /* RGBA8 words of the output */
    T_STATUS,  /* non-finite flag */
    T_DUMMY,   /* bound where an op variant reads or writes nothing */
    T_COUNT
};

static uint32_t channels(const qsr__plan *p) {
    return p->model->info.channels;
}
static uint32_t qkv_words(const qsr__plan *p) {
    return 3 * p->model->info.channels;
}
static uint32_t code_words(const qsr__plan *p) {
    return qsr__div_up(p->model->info.channels, QSR__CODES_PER_WORD);
}
static uint32_t hidden_code_words(const qsr__plan *p) {
    return qsr__div_up(p->model->info.mlp_hidden, QSR__CODES_PER_WORD);
}
static uint32_t shuffled_words(const qsr__plan *p) {
    return 3 * p->model->info.scale * p->model->info.scale;
}
static uint32_t hr_pixel_words(const qsr__plan *p) {
    return p->model->info.scale * p->model->info.scale;
}

static const qsr__tensor_spec tensors[T_COUNT] = {
    [T_IMG_IN] = {"img_in", QSR__GRID_REGION, qsr__words_one, QSR__TENSOR_IO},
    [T_XPAD] = {"xpad", QSR__GRID_PADDED, qsr__words_three, 0},
    [T_F] = {"f", QSR__GRID_PADDED, channels, 0},
    [T_TOK] = {"tok", QSR__GRID_PADDED, channels, 0},
    [T_U] = {"u", QSR__GRID_PADDED, channels, 0},
    [T_QKV] = {"qkv", QSR__GRID_PADDED, qkv_words, 0},
    [T_HEADS] = {"heads", QSR__GRID_PADDED, channels, 0},
    [T_CODES] = {"codes", QSR__GRID_PADDED, code_words, 0},
    [T_HCODES] = {"hcodes", QSR__GRID_PADDED, hidden_code_words, 0},
    [T_UPS] = {"ups", QSR__GRID_PADDED, shuffled_words, 0},
    [T_IMG_OUT] = {"img_out", QSR__GRID_TILE, hr_pixel_words, QSR__TENSOR_IO},
    [T_STATUS] = {"status", QSR__GRID_FIXED, qsr__words_flag, QSR__TENSOR_HOST},
    [T_DUMMY] = {"dummy", QSR__GRID_FIXED, qsr__words_flag, 0},
};

static uint32_t pad_align(const qsr__plan *plan) {
    return plan->model->info.window;
}

/* ---------------------------------------------------------------------------------------------
 * Pipelines
 */

static uint32_t bits_a(const qsr__plan *plan) {
    return plan->model->info.bits_a;
}

/* conv_first feeds the quantizers and keeps the reference order. So does conv_after_body
 * (ADD_SKIP): the upsampler that follows amplifies its last-bit differences. With FMAs there,
 * `quantsr upscale` of assets/sample.png with the first shipped QuantSR-T (commit 46189c2) had
 * 0.56 % of its bytes 1-2 levels off `--cpu`; byte-identical without (shipped_models.sh). The
 * upsampler and the RGB output may fuse into FMAs. */
static qsr__pipeline_desc f32_desc(const qsr__plan *plan, qsr__epilogue epilogue) {
    int fast =
        epilogue != QSR__EPILOGUE_STORE && epilogue != QSR__EPILOGUE_ADD_SKIP && plan->fast_fp;
    uint32_t r = epilogue == QSR__EPILOGUE_SHUFFLE ? plan->model->info.scale : 0;
    return qsr__conv3x3_f32_desc(epilogue, r, fast, 0);
}

static qsr__pipeline_desc norm_desc(const qsr__plan *plan, qsr__codes_out codes) {
    return qsr__layernorm_q_desc(codes, bits_a(plan), plan->model->info.channels);
}

static qsr__pipeline_desc attention_desc(const qsr__plan *plan, const qsr__t_layer *l) {
    const qsr_model_info *info = &plan->model->info;
    return qsr__window_attention_desc(info->window, info->channels / info->heads, info->bits_a,
                                      l->q.is_signed, l->k.is_signed, l->v.is_signed);
}

/* Set layouts: one representative pipeline per shader. */
static qsr__pipeline_desc layout_f32(const qsr__plan *plan) {
    return f32_desc(plan, QSR__EPILOGUE_STORE);
}
static qsr__pipeline_desc layout_norm(const qsr__plan *plan) {
    return norm_desc(plan, QSR__CODES_NONE);
}
static qsr__pipeline_desc layout_linear(const qsr__plan *plan) {
    return qsr__linear_q_desc(QSR__EPILOGUE_STORE, bits_a(plan), 1, QSR__CODES_NONE);
}
static qsr__pipeline_desc layout_attention(const qsr__plan *plan) {
    return attention_desc(plan, &plan->model->t.layers[0]);
}
static qsr__pipeline_desc layout_quantize(const qsr__plan *plan) {
    return qsr__quantize_rlq_desc(bits_a(plan), 1, 0);
}
static qsr__pipeline_desc layout_convq(const qsr__plan *plan) {
    return qsr__conv3x3_q_desc(plan->kernel, QSR__EPILOGUE_RESIDUAL, bits_a(plan), 1,
                               QSR__CODES_NONE);
}

static uint32_t pipelines(const qsr__plan *plan, qsr__pipeline_desc out[QSR__MAX_PIPES]) {
    uint32_t n = 0;
    out[n++] = qsr__rgb_to_planar_desc();
    out[n++] = f32_desc(plan, QSR__EPILOGUE_STORE);
    out[n++] = f32_desc(plan, QSR__EPILOGUE_ADD_SKIP);
    out[n++] = f32_desc(plan, QSR__EPILOGUE_SHUFFLE);
    out[n++] = f32_desc(plan, QSR__EPILOGUE_RGB);
    out[n++] = norm_desc(plan, QSR__CODES_NONE);
    return n;
}

/* The variants of layer i's ops (their signedness comes from the model). */
static qsr_status warm_layer(qsr__plan *plan, const qsr__t_layer *l) {
    const uint32_t b = bits_a(plan);
    qsr__pipeline_desc d[] = {
        norm_desc(plan, qsr__codes_for(l->qkv.act_signed)),
        qsr__linear_q_desc(QSR__EPILOGUE_STORE, b, l->qkv.act_signed, QSR__CODES_NONE),
        attention_desc(plan, l),
        qsr__quantize_rlq_desc(b, l->proj.act_signed, 0),
        qsr__linear_q_desc(QSR__EPILOGUE_RESIDUAL, b, l->proj.act_signed, QSR__CODES_NONE),
        norm_desc(plan, qsr__codes_for(l->fc1.act_signed)),
        qsr__linear_q_desc(QSR__EPILOGUE_GELU, b, l->fc1.act_signed,
                           qsr__codes_for(l->fc2.act_signed)),
        qsr__linear_q_desc(QSR__EPILOGUE_RESIDUAL, b, l->fc2.act_signed, QSR__CODES_NONE),
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        const qsr__pipeline *p;
        qsr_status st = qsr__plan_pipeline(plan, &d[i], &p);
        if (st != QSR_OK) return st;
    }
    return QSR_OK;
}

static qsr_status warm(qsr__plan *plan) {
    const qsr_model *m = plan->model;
    for (uint32_t i = 0; i < m->info.blocks; i++) {
        qsr_status st = warm_layer(plan, &m->t.layers[i]);
        if (st != QSR_OK) return st;
    }
    for (uint32_t g = 0; g < m->info.group_count; g++) {
        const qsr__conv *c = &m->t.group_conv[g];
        qsr__pipeline_desc d[] = {qsr__quantize_rlq_desc(bits_a(plan), c->act_signed, 0),
                                  qsr__conv3x3_q_desc(plan->kernel, QSR__EPILOGUE_RESIDUAL,
                                                      bits_a(plan), c->act_signed,
                                                      QSR__CODES_NONE)};
        for (size_t i = 0; i < 2; i++) {
            const qsr__pipeline *p;
            qsr_status st = qsr__plan_pipeline(plan, &d[i], &p);
            if (st != QSR_OK) return st;
        }
    }
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Ops (one descriptor set and one profile line each)
 */
enum {
    OP_RGB,
    OP_FIRST,
    OP_PATCH_NORM,
    OP_COPY_GROUP_IN,
    OP_NORM1,
    OP_QKV,
    OP_ATTENTION,
    OP_QUANTIZE_PROJ,
    OP_PROJ,
    OP_NORM2,
    OP_FC1,
    OP_FC2,
    OP_QUANTIZE_GROUP,
    OP_GROUP_CONV,
    OP_COPY_GROUP_OUT,
    OP_NORM,
    OP_AFTER_BODY,
    OP_UPSAMPLE,
    OP_OUTPUT,
    OP_COPY_OUT,
    OP_COUNT
};

#define WF  QSR__BIND_WEIGHTS_F32
#define WQ  QSR__BIND_WEIGHTS_Q
#define PRM QSR__BIND_PARAMS
#define DUM T_DUMMY
#define STA T_STATUS

/* Bindings: rgb_to_planar (rgba in, float out); conv3x3_f32 (src, weights, params, dst, skip,
 * dst_rgba, status); layernorm_q (src, params, dst); linear_q and conv3x3_q (src codes, weight
 * words, params, dst, dst again (the residual reads it as a texel buffer), codes out);
 * window_attention (qkv, params, heads); quantize_rlq (src, params, codes, unused). */
static const qsr__op_spec ops[OP_COUNT] = {
    [OP_RGB] = {"rgb_to_planar (reflect pad)",
                qsr__arch_layout_rgb,
                {T_IMG_IN, T_XPAD},
                QSR__OP_ALWAYS},
    [OP_FIRST] = {"conv_first", layout_f32, {T_XPAD, WF, PRM, T_F, DUM, DUM, STA}, QSR__OP_ALWAYS},
    [OP_PATCH_NORM] = {"patch_norm", layout_norm, {T_F, PRM, T_TOK}, QSR__OP_ALWAYS},
    [OP_COPY_GROUP_IN] = {"copy (group input)", NULL, {0}, QSR__OP_ALWAYS},
    [OP_NORM1] = {"norm1 + quantize", layout_norm, {T_TOK, PRM, T_CODES}, QSR__OP_ALWAYS},
    [OP_QKV] = {"linear qkv (q)",
                layout_linear,
                {T_CODES, WQ, PRM, T_QKV, T_QKV, DUM},
                QSR__OP_ALWAYS},
    [OP_ATTENTION] = {"window attention (q)",
                      layout_attention,
                      {T_QKV, PRM, T_HEADS},
                      QSR__OP_ALWAYS},
    [OP_QUANTIZE_PROJ] = {"quantize (proj)",
                          layout_quantize,
                          {T_HEADS, PRM, T_CODES, DUM},
                          QSR__OP_ALWAYS},
    [OP_PROJ] = {"linear proj (q)",
                 layout_linear,
                 {T_CODES, WQ, PRM, T_TOK, T_TOK, DUM},
                 QSR__OP_ALWAYS},
    [OP_NORM2] = {"norm2 + quantize", layout_norm, {T_TOK, PRM, T_CODES}, QSR__OP_ALWAYS},
    [OP_FC1] = {"linear fc1 + GELU (q)",
                layout_linear,
                {T_CODES, WQ, PRM, DUM, DUM, T_HCODES},
                QSR__OP_ALWAYS},
    [OP_FC2] = {"linear fc2 (q)",
                layout_linear,
                {T_HCODES, WQ, PRM, T_TOK, T_TOK, DUM},
                QSR__OP_ALWAYS},
    [OP_QUANTIZE_GROUP] = {"quantize (group conv)",
                           layout_quantize,
                           {T_TOK, PRM, T_CODES, DUM},
                           QSR__OP_ALWAYS},
    [OP_GROUP_CONV] = {"group conv (q)",
                       layout_convq,
                       {T_CODES, WQ, PRM, T_U, T_U, DUM},
                       QSR__OP_ALWAYS},
    [OP_COPY_GROUP_OUT] = {"copy (group output)", NULL, {0}, QSR__OP_ALWAYS},
    [OP_NORM] = {"norm", layout_norm, {T_TOK, PRM, T_U}, QSR__OP_ALWAYS},
    [OP_AFTER_BODY] = {"conv_after_body",
                       layout_f32,
                       {T_U, WF, PRM, T_TOK, T_F, DUM, STA},
                       QSR__OP_ALWAYS},
    [OP_UPSAMPLE] = {"upsample conv",
                     layout_f32,
                     {T_TOK, WF, PRM, T_UPS, DUM, DUM, STA},
                     QSR__OP_ALWAYS},
    [OP_OUTPUT] = {"output (crop, 8 bits)",
                   layout_f32,
                   {T_UPS, WF, PRM, DUM, DUM, T_IMG_OUT, STA},
                   QSR__OP_ALWAYS},
    [OP_COPY_OUT] = {"copy (output)", NULL, {0}, QSR__OP_ALWAYS},
};

/* ---------------------------------------------------------------------------------------------
 * Weights. Slots: conv_first, conv_after_body, upsample.0, the output's identity conv, the
 * patch_norm and norm LayerNorms, then 7 per Swin layer (qkv, proj, fc1, fc2, norm1, norm2,
 * attention) and one per group conv. A LayerNorm's slot holds its weight at scale_off and its
 * bias at bias_off; an attention slot its Q, K, V quantizers' shifts at shift_off, scale_off
 * and bias_off and its relative position bias at w_off (all in the parameter buffer).
 */
enum {
    SLOT_FIRST,
    SLOT_AFTER_BODY,
    SLOT_UPSAMPLE,
    SLOT_OUTPUT,
    SLOT_PATCH_NORM,
    SLOT_NORM,
    SLOT_LAYERS
};
enum { L_QKV, L_PROJ, L_FC1, L_FC2, L_NORM1, L_NORM2, L_ATTENTION, L_SLOTS };

static uint32_t slot_layer(uint32_t i, uint32_t k) {
    return SLOT_LAYERS + L_SLOTS * i + k;
}
static uint32_t slot_group(const qsr_model *m, uint32_t g) {
    return SLOT_LAYERS + L_SLOTS * m->info.blocks + g;
}
static uint32_t slot_count(const qsr_model *m) {
    return slot_group(m, m->info.group_count);
}

/* The output op is conv3x3_f32's RGB epilogue (mean, range, clamp, 8-bit rounding, the crop)
 * over the shuffled image with an identity kernel: centre tap 1 from channel c to c, every other
 * weight 0, so each value passes through exactly. */
static const float identity_weight[3 * 3 * 9] = {
    [0 * 27 + 0 * 9 + 4] = 1.0f, [1 * 27 + 1 * 9 + 4] = 1.0f, [2 * 27 + 2 * 9 + 4] = 1.0f};
static const float zero_bias[3] = {0.0f, 0.0f, 0.0f};

static void add_norm(qsr__weight_builder *b, const float *weight, const float *bias, uint32_t e,
                     qsr__layer_slot *slot) {
    slot->scale_off = qsr__weights_add_params(b, weight, e);
    slot->bias_off = qsr__weights_add_params(b, bias, e);
}

static void add_layer(qsr__plan *plan, qsr__weight_builder *b, uint32_t i) {
    const qsr_model_info *info = &plan->model->info;
    const qsr__t_layer *l = &plan->model->t.layers[i];
    const uint32_t e = info->channels, span = 2 * info->window - 1;
    qsr__weights_add_linear(b, &l->qkv, &plan->slots[slot_layer(i, L_QKV)]);
    qsr__weights_add_linear(b, &l->proj, &plan->slots[slot_layer(i, L_PROJ)]);
    qsr__weights_add_linear(b, &l->fc1, &plan->slots[slot_layer(i, L_FC1)]);
    qsr__weights_add_linear(b, &l->fc2, &plan->slots[slot_layer(i, L_FC2)]);
    add_norm(b, l->norm1_weight, l->norm1_bias, e, &plan->slots[slot_layer(i, L_NORM1)]);
    add_norm(b, l->norm2_weight, l->norm2_bias, e, &plan->slots[slot_layer(i, L_NORM2)]);
    qsr__layer_slot *a = &plan->slots[slot_layer(i, L_ATTENTION)];
    a->shift_off = qsr__weights_add_params(b, l->q.shift, e);
    a->scale_off = qsr__weights_add_params(b, l->k.shift, e);
    a->bias_off = qsr__weights_add_params(b, l->v.shift, e);
    a->w_off = qsr__weights_add_params(b, l->rel_bias, (size_t)span * span * info->heads);
}

static void add_weights(qsr__plan *plan, qsr__weight_builder *b) {
    const qsr_model *m = plan->model;
    const uint32_t e = m->info.channels;
    const qsr__conv identity = {.cin = 3, .cout = 3, .weight = identity_weight, .bias = zero_bias};
    qsr__weights_add_conv(b, &m->conv_first, 0, &plan->slots[SLOT_FIRST]);
    qsr__weights_add_conv(b, &m->conv_after_body, 0, &plan->slots[SLOT_AFTER_BODY]);
    qsr__weights_add_conv(b, &m->upsample[0], 0, &plan->slots[SLOT_UPSAMPLE]);
    qsr__weights_add_conv(b, &identity, 0, &plan->slots[SLOT_OUTPUT]);
    add_norm(b, m->t.patch_norm_weight, m->t.patch_norm_bias, e, &plan->slots[SLOT_PATCH_NORM]);
    add_norm(b, m->t.norm_weight, m->t.norm_bias, e, &plan->slots[SLOT_NORM]);
    for (uint32_t i = 0; i < m->info.blocks; i++)
        add_layer(plan, b, i);
    for (uint32_t g = 0; g < m->info.group_count; g++)
        qsr__weights_add_conv(b, &m->t.group_conv[g], 1, &plan->slots[slot_group(m, g)]);
}

/* ---------------------------------------------------------------------------------------------
 * Recording
 */

/* The padded grid of a run. */
typedef struct t_grid {
    uint32_t w, h;
} t_grid;

static t_grid padded(const qsr__plan *plan, const qsr__tile_geometry *g) {
    t_grid grid;
    qsr__plan_padded_region(plan, g, &grid.w, &grid.h);
    return grid;
}

/* A layer's push over the padded grid. */
static qsr__op_push layer_push(const qsr__plan *plan, t_grid grid, const qsr__conv *c,
                               uint32_t slot) {
    return qsr__arch_layer_push(plan, c, slot, grid.w, grid.h);
}

/* The push of an op with no layer (LayerNorm) over the padded grid. */
static qsr__op_push grid_push(const qsr__plan *plan, t_grid grid) {
    qsr__op_push p = qsr__arch_base_push(plan);
    p.in_w = p.out_w = (int32_t)grid.w;
    p.in_h = p.out_h = (int32_t)grid.h;
    return p;
}

/* Where a layer's codes go next: the quantizer of `next` (shifts, step) in p. */
static void next_quantizer(const qsr__plan *plan, const qsr__conv *next, uint32_t next_slot,
                           qsr__op_push *p) {
    p->aux_off = plan->slots[next_slot].shift_off;
    p->step = next->act_step;
}

static qsr_status run_op(qsr__plan *plan, uint32_t op, qsr__pipeline_desc d, uint64_t macs,
                         qsr__op_recorder record, const void *push) {
    return qsr__arch_run_op(plan, op, &d, macs, record, push);
}

static qsr_status conv_f32(qsr__plan *plan, uint32_t op, qsr__epilogue epilogue,
                           const qsr__op_push *p) {
    qsr__pipeline_desc d = f32_desc(plan, epilogue);
    qsr__conv3x3_fit_px(plan->ctx, &d, (uint32_t)p->out_w);
    return run_op(plan, op, d, qsr__conv3x3_macs(p), qsr__record_conv3x3_f32, p);
}

/* A LayerNorm of the tokens in `slot`: fp32 out (codes NONE) or the codes of `next`'s
 * quantizer; in_scale: skipped layers' shortcut product still to apply to the tokens. */
static qsr_status norm(qsr__plan *plan, uint32_t op, t_grid grid, uint32_t slot,
                       const qsr__conv *next, uint32_t next_slot, float in_scale) {
    const qsr__layer_slot *s = &plan->slots[slot];
    qsr__op_push p = grid_push(plan, grid);
    p.cin = (int32_t)plan->model->info.channels;
    p.scale_off = s->scale_off;
    p.bias_off = s->bias_off;
    p.in_scale = in_scale;
    qsr__codes_out codes = QSR__CODES_NONE;
    if (next) {
        codes = qsr__codes_for(next->act_signed);
        next_quantizer(plan, next, next_slot, &p);
    }
    return run_op(plan, op, norm_desc(plan, codes), 0, qsr__record_layernorm_q, &p);
}

static qsr_status linear(qsr__plan *plan, uint32_t op, qsr__epilogue epilogue, qsr__codes_out codes,
                         const qsr__conv *c, const qsr__op_push *p) {
    qsr__pipeline_desc d = qsr__linear_q_desc(epilogue, bits_a(plan), c->act_signed, codes);
    return run_op(plan, op, d, qsr__linear_q_macs(p), qsr__record_linear_q, p);
}

static qsr_status quantize(qsr__plan *plan, uint32_t op, t_grid grid, const qsr__conv *c,
                           uint32_t slot, float in_scale) {
    qsr__quantize_rlq_push p = {.in_w = (int32_t)grid.w,
                                .in_h = (int32_t)grid.h,
                                .cin = (int32_t)c->cin,
                                .shift_off = plan->slots[slot].shift_off,
                                .in_scale = in_scale,
                                .step = c->act_step};
    return run_op(plan, op, qsr__quantize_rlq_desc(bits_a(plan), c->act_signed, 0), 0,
                  qsr__record_quantize_rlq, &p);
}

static qsr_status attention(qsr__plan *plan, t_grid grid, uint32_t i, uint32_t shift) {
    const qsr_model_info *info = &plan->model->info;
    const qsr__t_layer *l = &plan->model->t.layers[i];
    const qsr__layer_slot *s = &plan->slots[slot_layer(i, L_ATTENTION)];
    const uint32_t d = info->channels / info->heads;
    qsr__attention_push p = {.grid_w = (int32_t)grid.w,
                             .grid_h = (int32_t)grid.h,
                             .channels = (int32_t)info->channels,
                             .heads = (int32_t)info->heads,
                             .shift = (int32_t)shift,
                             .q_shift_off = s->shift_off,
                             .k_shift_off = s->scale_off,
                             .v_shift_off = s->bias_off,
                             .bias_off = s->w_off,
                             .sqrt_d = (float)sqrt((double)d), /* as reference_t.c */
                             .q_step = l->q.step,
                             .k_step = l->k.step,
                             .v_step = l->v.step,
                             .p_step = l->p_step,
                             .qk_scale = l->q.step * l->k.step,
                             .pv_scale = l->p_step * l->v.step};
    return run_op(plan, OP_ATTENTION, attention_desc(plan, l),
                  qsr__window_attention_macs(&p, info->window), qsr__record_window_attention, &p);
}

/* One active Swin layer; `pending` is the product of the shortcuts of the layers skipped since
 * the tokens were last written. */
static qsr_status record_layer(qsr__plan *plan, t_grid grid, uint32_t i, uint32_t shift,
                               float pending) {
    const qsr__t_layer *l = &plan->model->t.layers[i];
    qsr_status st =
        norm(plan, OP_NORM1, grid, slot_layer(i, L_NORM1), &l->qkv, slot_layer(i, L_QKV), pending);
    qsr__op_push p = layer_push(plan, grid, &l->qkv, slot_layer(i, L_QKV));
    if (st == QSR_OK) st = linear(plan, OP_QKV, QSR__EPILOGUE_STORE, QSR__CODES_NONE, &l->qkv, &p);
    if (st == QSR_OK) st = attention(plan, grid, i, shift);
    if (st == QSR_OK)
        st = quantize(plan, OP_QUANTIZE_PROJ, grid, &l->proj, slot_layer(i, L_PROJ), 1.0f);
    if (st != QSR_OK) return st;
    p = layer_push(plan, grid, &l->proj, slot_layer(i, L_PROJ));
    p.shortcut = l->shortcut;
    p.dst_scale = pending;
    st = linear(plan, OP_PROJ, QSR__EPILOGUE_RESIDUAL, QSR__CODES_NONE, &l->proj, &p);
    if (st == QSR_OK)
        st =
            norm(plan, OP_NORM2, grid, slot_layer(i, L_NORM2), &l->fc1, slot_layer(i, L_FC1), 1.0f);
    if (st != QSR_OK) return st;
    p = layer_push(plan, grid, &l->fc1, slot_layer(i, L_FC1));
    next_quantizer(plan, &l->fc2, slot_layer(i, L_FC2), &p);
    st = linear(plan, OP_FC1, QSR__EPILOGUE_GELU, qsr__codes_for(l->fc2.act_signed), &l->fc1, &p);
    if (st != QSR_OK) return st;
    p = layer_push(plan, grid, &l->fc2, slot_layer(i, L_FC2));
    return linear(plan, OP_FC2, QSR__EPILOGUE_RESIDUAL, QSR__CODES_NONE, &l->fc2, &p);
}

static void copy_tokens(qsr__plan *plan, uint32_t op, int from, int to, t_grid grid) {
    qsr__arch_copy_tensor(plan, op, from, to,
                          (VkDeviceSize)plan->model->info.channels * grid.w * grid.h * 4);
}

/* Group g: its layers from layer `first`, then tok = group_conv(tok) + u. */
static qsr_status record_group(qsr__plan *plan, t_grid grid, uint32_t depth, uint32_t g,
                               uint32_t first) {
    const qsr_model *m = plan->model;
    copy_tokens(plan, OP_COPY_GROUP_IN, T_TOK, T_U, grid);
    float pending = 1.0f;
    for (uint32_t l = 0; l < m->info.group_depths[g]; l++) {
        uint32_t i = first + l;
        if (!qsr__arch_block_active(&m->info, depth, i)) {
            pending *= m->t.layers[i].shortcut;
            continue;
        }
        uint32_t shift = l % 2 ? m->info.window / 2 : 0;
        qsr_status st = record_layer(plan, grid, i, shift, pending);
        if (st == QSR_OK) st = qsr__plan_split_point(plan);
        if (st != QSR_OK) return st;
        pending = 1.0f;
    }
    const qsr__conv *c = &m->t.group_conv[g];
    qsr_status st = quantize(plan, OP_QUANTIZE_GROUP, grid, c, slot_group(m, g), pending);
    if (st != QSR_OK) return st;
    qsr__op_push p = layer_push(plan, grid, c, slot_group(m, g));
    qsr__pipeline_desc d = qsr__conv3x3_q_desc(plan->kernel, QSR__EPILOGUE_RESIDUAL, bits_a(plan),
                                               c->act_signed, QSR__CODES_NONE);
    qsr__conv3x3_fit_px(plan->ctx, &d, (uint32_t)p.out_w);
    st = run_op(plan, OP_GROUP_CONV, d, qsr__conv3x3_macs(&p), qsr__record_conv3x3_q, &p);
    if (st != QSR_OK) return st;
    copy_tokens(plan, OP_COPY_GROUP_OUT, T_U, T_TOK, grid);
    return qsr__plan_split_point(plan);
}

/* The image reflected onto the padded grid, conv_first, patch_norm, the groups, norm and
 * conv_after_body: tok = conv_after_body(norm(tok)) + f. */
static qsr_status record_lr(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t depth) {
    const qsr_model *m = plan->model;
    const qsr_model_info *info = &m->info;
    t_grid grid = padded(plan, g);
    qsr_status st = qsr__arch_rgb_to_planar(plan, OP_RGB, g->region.w, g->region.h, grid.w, grid.h);
    if (st != QSR_OK) return st;
    qsr__op_push p = layer_push(plan, grid, &m->conv_first, SLOT_FIRST);
    st = conv_f32(plan, OP_FIRST, QSR__EPILOGUE_STORE, &p);
    if (st == QSR_OK) st = norm(plan, OP_PATCH_NORM, grid, SLOT_PATCH_NORM, NULL, 0, 1.0f);
    for (uint32_t group = 0, first = 0; group < info->group_count && st == QSR_OK; group++) {
        st = record_group(plan, grid, depth, group, first);
        first += info->group_depths[group];
    }
    if (st == QSR_OK) st = norm(plan, OP_NORM, grid, SLOT_NORM, NULL, 0, 1.0f);
    if (st != QSR_OK) return st;
    p = layer_push(plan, grid, &m->conv_after_body, SLOT_AFTER_BODY);
    st = conv_f32(plan, OP_AFTER_BODY, QSR__EPILOGUE_ADD_SKIP, &p);
    return st == QSR_OK ? qsr__plan_split_point(plan) : st;
}

/* upsample.0 with the pixel shuffle over the padded grid, then the output op over the HR tile
 * (the whole image: the tile rule makes one). */
static qsr_status record_hr(qsr__plan *plan, const qsr__tile_geometry *g) {
    const qsr_model *m = plan->model;
    const uint32_t s = m->info.scale;
    t_grid grid = padded(plan, g);
    qsr__op_push p = layer_push(plan, grid, &m->upsample[0], SLOT_UPSAMPLE);
    qsr_status st = conv_f32(plan, OP_UPSAMPLE, QSR__EPILOGUE_SHUFFLE, &p);
    if (st == QSR_OK) st = qsr__plan_split_point(plan);
    if (st != QSR_OK) return st;
    const qsr__conv identity = {.cin = 3, .cout = 3};
    p = layer_push(plan, (t_grid){grid.w * s, grid.h * s}, &identity, SLOT_OUTPUT);
    p.out_w = p.dst_w = (int32_t)(g->tile.w * s);
    p.out_h = p.dst_h = (int32_t)(g->tile.h * s);
    p.org_x = (int32_t)((g->tile.x - g->region.x) * s);
    p.org_y = (int32_t)((g->tile.y - g->region.y) * s);
    /* The identity kernel's products are no network MACs: none counted, so the profile shows
     * no rate for this op. */
    qsr__pipeline_desc d = f32_desc(plan, QSR__EPILOGUE_RGB);
    qsr__conv3x3_fit_px(plan->ctx, &d, (uint32_t)p.out_w);
    return run_op(plan, OP_OUTPUT, d, 0, qsr__record_conv3x3_f32, &p);
}

/* ---------------------------------------------------------------------------------------------
 * MACs per LR pixel (= per token): each active Swin layer runs qkv (3 E^2), proj (E^2), fc1
 * and fc2 (2 E H) and the two attention products Q K^T and P V (N E each, N = W^2 tokens per
 * window); every group runs its 3x3 conv. Window padding is not counted.
 */
static uint64_t macs_per_pixel(const qsr_model_info *info, uint64_t active) {
    const uint64_t e = info->channels, hid = info->mlp_hidden, s = info->scale;
    const uint64_t n = (uint64_t)info->window * info->window;
    uint64_t macs = 9 * 3 * e;                              /* conv_first */
    macs += active * (4 * e * e + 2 * e * hid + 2 * n * e); /* Swin layers */
    macs += (uint64_t)info->group_count * 9 * e * e;        /* group convs */
    macs += 9 * e * e;                                      /* conv_after_body */
    macs += 9 * e * 3 * s * s;                              /* upsample.0 */
    return macs;
}

static const qsr__program program = {
    .tensors = tensors,
    .tensor_count = T_COUNT,
    .quantized_only = 1, /* linear_q, window_attention: a float model stays on the CPU */
    .pad_align = pad_align,
    .tensor_in = T_IMG_IN,
    .tensor_out = T_IMG_OUT,
    .tensor_status = T_STATUS,
    .resolve = NULL,
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

/* Windows are laid on the padded whole image and shifted every other layer, so a pixel's
 * result depends on where the image's window grid falls: there is no exact halo. The image is
 * one body tile and one HR tile (whole_image), and a region run differs from the same pixels of
 * a full run. */
const qsr__arch qsr__arch_quantsr_t = {
    .id = QSR_ARCH_QUANTSR_T,
    .name = "QuantSR-T",
    .schema = &qsr__model_schema_t,
    .program = &program,
    .tile = {.align = 1, .whole_image = 1},
    .region_exact = 0,
    .macs_per_pixel = macs_per_pixel,
    .reference = qsr__reference_upscale_t,
};
