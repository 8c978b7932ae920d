/* plan.c - weights on the device, pipelines, activation buffers and one tile's recording. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Weights: every fp32 convolution in one float buffer, every quantized one in one uint32
 * buffer of nibble-packed codes, every per-channel vector in one parameter buffer; layers find
 * their data through offsets in the push constants, so a whole network needs only a few bindings.
 */
typedef struct weight_builder {
    float *wf;
    size_t wf_len;
    uint32_t *wq;
    size_t wq_len;
    float *params;
    size_t params_len;
    qsr__qkernel kernel; /* the layout quantized layers are packed in */
    int failed;
} weight_builder;

static int32_t append_floats(float **arr, size_t *len, const float *src, size_t n) {
    int32_t off = (int32_t)*len;
    if (*arr && src) memcpy(*arr + *len, src, n * sizeof(float));
    *len += n;
    return off;
}

/* Adds one convolution. In the first pass (arrays NULL) only the lengths are counted.
 * Weight offsets are in the shaders' vector units (4 elements). */
static void add_conv(weight_builder *b, const qsr__conv *conv, int run_quantized,
                     qsr__layer_slot *slot) {
    size_t nw = (size_t)conv->cout * conv->cin * 9;
    slot->bias_off = append_floats(&b->params, &b->params_len, conv->bias, conv->cout);
    if (conv->qweight && run_quantized) {
        /* Kernels with uvec4 weights address them in uvec4s (every layer's length is then a
         * multiple of 4 words). */
        slot->w_off = (int32_t)(qsr__conv3x3_q_wide_weights(b->kernel) ? b->wq_len / 4 : b->wq_len);
        if (b->wq)
            qsr__conv3x3_q_pack_weights(b->kernel, conv->wcode, conv->cout, conv->cin,
                                        conv->act_signed, b->wq + b->wq_len);
        b->wq_len += qsr__conv3x3_q_weight_words(b->kernel, conv->cout, conv->cin);
        slot->shift_off = append_floats(&b->params, &b->params_len, conv->act_shift, conv->cin);
        slot->scale_off = (int32_t)b->params_len;
        if (b->params)
            for (uint32_t o = 0; o < conv->cout; o++)
                /* One float product a * a_w, as the CPU reference computes it. */
                b->params[b->params_len + o] = conv->act_step * conv->weight_step[o];
        b->params_len += conv->cout;
        return;
    }
    slot->w_off = (int32_t)(b->wf_len / 4);
    if (b->wf) {
        const float *w = conv->weight;
        float *dequantized = NULL;
        if (conv->qweight) {
            /* fp32 execution of a quantized layer: dequantized weights code * a_w. */
            dequantized = malloc(nw * sizeof(float));
            if (!dequantized) {
                b->failed = 1;
                return;
            }
            for (size_t i = 0; i < nw; i++)
                dequantized[i] =
                    (float)conv->wcode[i] * conv->weight_step[i / ((size_t)conv->cin * 9)];
            w = dequantized;
        }
        qsr__conv3x3_f32_pack_weights(w, conv->cout, conv->cin, b->wf + b->wf_len);
        free(dequantized);
    }
    b->wf_len += qsr__conv3x3_f32_weight_floats(conv->cout, conv->cin);
}

static void add_all(weight_builder *b, qsr__plan *plan) {
    const qsr_model *m = plan->model;
    add_conv(b, &m->conv_first, 0, &plan->first);
    for (uint32_t i = 0; i < 2 * m->info.blocks; i++)
        add_conv(b, &m->body[i], plan->quantized, &plan->body[i]);
    add_conv(b, &m->conv_after_body, 0, &plan->after_body);
    for (uint32_t k = 0; k < m->upsample_count; k++)
        add_conv(b, &m->upsample[k], 0, &plan->upsample[k]);
    add_conv(b, &m->conv_last, 0, &plan->last);
}

static qsr_status upload_weights(qsr__plan *plan) {
    weight_builder b = {NULL, 0, NULL, 0, NULL, 0, plan->kernel, 0};
    add_all(&b, plan); /* count */
    weight_builder fill = {calloc(b.wf_len + 1, sizeof(float)),
                           0,
                           calloc(b.wq_len + 1, sizeof(uint32_t)),
                           0,
                           calloc(b.params_len + 1, sizeof(float)),
                           0,
                           plan->kernel,
                           0};
    qsr_status st = QSR_OK;
    if (!fill.wf || !fill.wq || !fill.params)
        st = qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "packing weights");
    if (st == QSR_OK) {
        add_all(&fill, plan);
        if (fill.failed) st = qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "packing weights");
    }
    if (st == QSR_OK) {
        qsr_context *ctx = plan->ctx;
        /* conv3x3_f32 reads 16-byte texels, conv3x3_q_dot too, the other kernels words. */
        plan->weights_storage =
            fill.wf_len * 4 > qsr__texel_buffer_max_bytes(ctx, 1) ||
            fill.wq_len * 4 > qsr__texel_buffer_max_bytes(ctx, plan->kernel == QSR__QKERNEL_DOT);
        plan->storage_fetch = plan->weights_storage;
        st = qsr__buffer_create(ctx, fill.wf_len * 4, QSR__MEMORY_DEVICE, &plan->wf);
        if (st == QSR_OK) st = qsr__buffer_upload(ctx, &plan->wf, fill.wf, fill.wf_len * 4);
        if (st == QSR_OK)
            st = qsr__buffer_create(ctx, fill.wq_len * 4, QSR__MEMORY_DEVICE, &plan->wq);
        if (st == QSR_OK && fill.wq_len)
            st = qsr__buffer_upload(ctx, &plan->wq, fill.wq, fill.wq_len * 4);
        if (st == QSR_OK)
            st = qsr__buffer_create(ctx, fill.params_len * 4, QSR__MEMORY_DEVICE, &plan->params);
        if (st == QSR_OK)
            st = qsr__buffer_upload(ctx, &plan->params, fill.params, fill.params_len * 4);
    }
    free(fill.wf);
    free(fill.wq);
    free(fill.params);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Pipelines
 */
static qsr_status create_pipelines(qsr__plan *plan) {
    const qsr_model *m = plan->model;
    uint32_t bits_a = m->info.bits_a;
    qsr__pipeline_desc d[QSR__PIPE_COUNT];
    memset(d, 0, sizeof d);
    d[QSR__PIPE_RGB_TO_PLANAR] = qsr__rgb_to_planar_desc();
    /* conv_first (STORE) feeds the quantizers and keeps the reference order; every other fp32
     * conv runs after the last quantizer (or in an fp32 execution, where none follows). */
    int fast = plan->fast_fp;
    d[QSR__PIPE_CONV_STORE] = qsr__conv3x3_f32_desc(QSR__EPILOGUE_STORE, 0, 0, 0);
    d[QSR__PIPE_CONV_RELU] = qsr__conv3x3_f32_desc(QSR__EPILOGUE_RELU, 0, fast, 0);
    d[QSR__PIPE_CONV_RESIDUAL] = qsr__conv3x3_f32_desc(QSR__EPILOGUE_RESIDUAL, 0, fast, 0);
    d[QSR__PIPE_CONV_ADD_SKIP] = qsr__conv3x3_f32_desc(QSR__EPILOGUE_ADD_SKIP, 0, fast, 0);
    d[QSR__PIPE_CONV_SHUFFLE] =
        qsr__conv3x3_f32_desc(QSR__EPILOGUE_SHUFFLE, m->upsample_factor, fast, 0);
    /* The first upsampler conv runs over an HR tile's LR grid (at most QSR__HR_GRID_MAX wide). */
    d[QSR__PIPE_CONV_SHUFFLE_LR] =
        qsr__conv3x3_f32_desc(QSR__EPILOGUE_SHUFFLE, m->upsample_factor, fast,
                              qsr__conv3x3_f32_px(QSR__HR_GRID_MAX));
    d[QSR__PIPE_CONV_RGB] = qsr__conv3x3_f32_desc(QSR__EPILOGUE_RGB, 0, fast, 0);
    if (plan->quantized) {
        d[QSR__PIPE_QUANTIZE_UNSIGNED] = qsr__quantize_rlq_desc(bits_a, 0);
        d[QSR__PIPE_QUANTIZE_SIGNED] = qsr__quantize_rlq_desc(bits_a, 1);
    }
    for (int i = 0; i < QSR__PIPE_COUNT; i++) {
        if (d[i].binding_count == 0) continue; /* not used by this plan */
        if (plan->storage_fetch) qsr__pipeline_desc_storage(&d[i]);
        qsr_status st = qsr__pipeline_get(plan->ctx, &d[i], &plan->pipes[i]);
        if (st != QSR_OK) return st;
    }
    return QSR_OK;
}

static qsr__codes_out codes_for(int is_signed) {
    return is_signed ? QSR__CODES_SIGNED : QSR__CODES_UNSIGNED;
}

/* The conv3x3_q variant, made on first use. */
static qsr_status convq_pipeline(qsr__plan *plan, qsr__epilogue epilogue, int signed_in,
                                 qsr__codes_out codes, const qsr__pipeline **out) {
    qsr__pipeline *p =
        &plan->convq[epilogue == QSR__EPILOGUE_RESIDUAL][signed_in ? 1 : 0][(int)codes];
    *out = p;
    if (p->pipeline) return QSR_OK;
    qsr__pipeline_desc d =
        qsr__conv3x3_q_desc(plan->kernel, epilogue, plan->model->info.bits_a, signed_in, codes);
    if (plan->storage_fetch) qsr__pipeline_desc_storage(&d);
    return qsr__pipeline_get(plan->ctx, &d, p);
}

/* The variant every quantized model runs first; it also lends its set layout to the sets. */
static qsr_status first_convq_pipeline(qsr__plan *plan, const qsr__pipeline **out) {
    const qsr_model *m = plan->model;
    return convq_pipeline(plan, QSR__EPILOGUE_RELU, m->body[0].act_signed,
                          codes_for(m->body[1].act_signed), out);
}

static qsr_status create_sync(qsr__plan *plan) {
    qsr_context *ctx = plan->ctx;
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = ctx->command_pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    QSR__VK(ctx->vk.vkAllocateCommandBuffers(ctx->device, &ai, &plan->cmd));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    QSR__VK(ctx->vk.vkCreateFence(ctx->device, &fi, ctx->alloc, &plan->fence));
    if (ctx->timestamp_period_ns > 0) {
        VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                    .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                    .queryCount = 2 + QSR__PROFILE_MARKS};
        QSR__VK(ctx->vk.vkCreateQueryPool(ctx->device, &qi, ctx->alloc, &plan->queries));
    }
    return QSR_OK;
}

qsr_status qsr__plan_create(qsr_context *ctx, const qsr_model *model, const qsr_upscaler_desc *desc,
                            qsr__plan *out) {
    memset(out, 0, sizeof *out);
    out->ctx = ctx;
    out->model = model;
    out->quantized = model->info.bits_w != 32 && desc->precision != QSR_PRECISION_FP32;
    out->fast_fp = desc->fp_math == QSR_FP_MATH_FAST;
    if (out->quantized) {
        qsr_status chosen =
            qsr__conv3x3_q_choose(ctx, model->info.bits_w, model->info.bits_a, &out->kernel);
        if (chosen != QSR_OK) return chosen;
    }
    out->body = calloc(2 * model->info.blocks, sizeof *out->body);
    if (!out->body) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "plan");
    qsr_status st = upload_weights(out);
    if (st == QSR_OK) st = create_pipelines(out);
    if (st == QSR_OK && out->quantized) {
        const qsr__pipeline *first;
        st = first_convq_pipeline(out, &first);
    }
    if (st == QSR_OK) st = create_sync(out);
    if (st == QSR_OK) st = qsr__descriptor_pool_create(ctx, QSR__SET_COUNT, &out->pool);
    if (st != QSR_OK) qsr__plan_destroy(out);
    out->generation = ctx->generation;
    out->budget_ms = qsr__env_int("QSR_SUBMIT_MS", 250);
    /* A pessimistic 1 GMAC/s until the first submission is measured: the first cut comes
     * early on fast GPUs and is corrected at once. */
    out->ns_per_mac = 1.0;
    return st;
}

qsr_status qsr__plan_create_frame(qsr__plan *base, qsr__plan *out) {
    /* The base's slots and pipeline handles; nothing it owns per run. Its weight buffers are
     * reached through `base` (buffer_of), so that texel views made for them stay the base's. */
    *out = *base;
    memset(&out->wf, 0, sizeof out->wf);
    memset(&out->wq, 0, sizeof out->wq);
    memset(&out->params, 0, sizeof out->params);
    memset(out->act, 0, sizeof out->act);
    memset(out->act_bytes, 0, sizeof out->act_bytes);
    memset(out->sets, 0, sizeof out->sets);
    memset(&out->profile, 0, sizeof out->profile);
    out->pool = VK_NULL_HANDLE;
    out->cmd = VK_NULL_HANDLE;
    out->fence = VK_NULL_HANDLE;
    out->queries = VK_NULL_HANDLE;
    out->gpu_ms = NULL;
    out->rows = NULL;
    out->rows_capacity = 0;
    out->base = base;
    qsr_status st = qsr__descriptor_pool_create(base->ctx, QSR__SET_COUNT, &out->pool);
    if (st != QSR_OK) qsr__plan_destroy(out);
    return st;
}

qsr_status qsr__plan_reserve_rows(qsr__plan *plan, uint32_t rows) {
    if (rows <= plan->rows_capacity) return QSR_OK;
    VkBufferCopy *grown = realloc(plan->rows, (size_t)rows * sizeof *grown);
    if (!grown) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "copy regions for %u rows", rows);
    plan->rows = grown;
    plan->rows_capacity = rows;
    return QSR_OK;
}

qsr_status qsr__plan_warm_pipelines(qsr__plan *plan) {
    if (!plan->quantized) return QSR_OK;
    const qsr_model *m = plan->model;
    const qsr__pipeline *p;
    for (uint32_t b = 0; b < m->info.blocks; b++) {
        const qsr__conv *c1 = &m->body[2 * b], *c2 = &m->body[2 * b + 1];
        qsr_status st =
            convq_pipeline(plan, QSR__EPILOGUE_RELU, c1->act_signed, codes_for(c2->act_signed), &p);
        /* conv2 writes no codes after the last active block, else those of whichever later
         * block is the next active one at the depth run. */
        if (st == QSR_OK)
            st = convq_pipeline(plan, QSR__EPILOGUE_RESIDUAL, c2->act_signed, QSR__CODES_NONE, &p);
        for (uint32_t n = b + 1; n < m->info.blocks && st == QSR_OK; n++)
            st = convq_pipeline(plan, QSR__EPILOGUE_RESIDUAL, c2->act_signed,
                                codes_for(m->body[2 * n].act_signed), &p);
        if (st != QSR_OK) return st;
    }
    return QSR_OK;
}

void qsr__plan_release_activations(qsr__plan *plan) {
    for (int i = 0; i < QSR__ACT_COUNT; i++) {
        qsr__buffer_destroy(plan->ctx, &plan->act[i]);
        plan->act_bytes[i] = 0;
    }
    if (plan->pool) plan->ctx->vk.vkResetDescriptorPool(plan->ctx->device, plan->pool, 0);
}

void qsr__plan_destroy(qsr__plan *plan) {
    if (!plan || !plan->ctx) return;
    qsr_context *ctx = plan->ctx;
    qsr__device_wait_idle(ctx);
    qsr__plan_release_activations(plan);
    if (plan->pool) ctx->vk.vkDestroyDescriptorPool(ctx->device, plan->pool, ctx->alloc);
    /* The pipelines belong to the context (qsr__pipeline_get). */
    if (plan->queries) ctx->vk.vkDestroyQueryPool(ctx->device, plan->queries, ctx->alloc);
    if (plan->fence) ctx->vk.vkDestroyFence(ctx->device, plan->fence, ctx->alloc);
    if (plan->cmd) ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->command_pool, 1, &plan->cmd);
    if (!plan->base) { /* a frame plan borrows these from its base */
        qsr__buffer_destroy(ctx, &plan->wf);
        qsr__buffer_destroy(ctx, &plan->wq);
        qsr__buffer_destroy(ctx, &plan->params);
        free(plan->body);
    }
    free(plan->rows);
    memset(plan, 0, sizeof *plan);
}

/* ---------------------------------------------------------------------------------------------
 * Activation buffers
 */
void qsr__plan_activation_bytes(const qsr__plan *plan, const qsr__tile_geometry *g,
                                VkDeviceSize bytes[QSR__ACT_COUNT]) {
    const qsr_model *m = plan->model;
    VkDeviceSize c = m->info.channels, s = m->info.scale, r = m->upsample_factor;
    VkDeviceSize region = (VkDeviceSize)g->region.w * g->region.h;
    VkDeviceSize ups = (VkDeviceSize)g->ups.w * g->ups.h;
    VkDeviceSize words = plan->quantized ? qsr__div_up((uint32_t)c, QSR__CODES_PER_WORD) : 0;
    memset(bytes, 0, sizeof(VkDeviceSize) * QSR__ACT_COUNT);
    bytes[QSR__ACT_IMG_IN] = region * 4;
    bytes[QSR__ACT_X0] = 3 * region * 4;
    bytes[QSR__ACT_F] = bytes[QSR__ACT_H] = bytes[QSR__ACT_T] = c * region * 4;
    bytes[QSR__ACT_Q] = bytes[QSR__ACT_Q2] = words * region * 4;
    bytes[QSR__ACT_U1] = c * r * r * ups * 4;
    bytes[QSR__ACT_U2] = m->upsample_count > 1 ? c * s * s * ups * 4 : 0;
    bytes[QSR__ACT_IMG_OUT] = (VkDeviceSize)g->tile.w * g->tile.h * s * s * 4;
    bytes[QSR__ACT_STATUS] = 16;
    bytes[QSR__ACT_DUMMY] = 16;
}

#define WF  (QSR__ACT_COUNT + 0)
#define WQ  (QSR__ACT_COUNT + 1)
#define PRM (QSR__ACT_COUNT + 2)
#define DUM QSR__ACT_DUMMY
#define STA QSR__ACT_STATUS
/* Sets of the conv3x3_q variants (one layout for all). */
#define CONVQ QSR__PIPE_COUNT

static qsr__buffer *buffer_of(qsr__plan *plan, int id) {
    qsr__plan *weights = plan->base ? plan->base : plan;
    if (id == WF) return &weights->wf;
    if (id == WQ) return &weights->wq;
    if (id == PRM) return &weights->params;
    return &plan->act[id];
}

static qsr_status write_sets(qsr__plan *plan) {
    int last_in = plan->model->upsample_count > 1 ? QSR__ACT_U2 : QSR__ACT_U1;
    const struct {
        qsr__set set;
        qsr__pipe pipe;
        int bufs[QSR__MAX_BINDINGS];
        int quantized_only;
    } specs[] = {
        {QSR__SET_RGB, QSR__PIPE_RGB_TO_PLANAR, {QSR__ACT_IMG_IN, QSR__ACT_X0}, 0},
        {QSR__SET_FIRST,
         QSR__PIPE_CONV_STORE,
         {QSR__ACT_X0, WF, PRM, QSR__ACT_F, DUM, DUM, STA},
         0},
        {QSR__SET_QUANT_H, QSR__PIPE_QUANTIZE_SIGNED, {QSR__ACT_H, PRM, QSR__ACT_Q}, 1},
        {QSR__SET_CONVQ_1, CONVQ, {QSR__ACT_Q, WQ, PRM, DUM, DUM, QSR__ACT_Q2}, 1},
        {QSR__SET_CONVQ_2, CONVQ, {QSR__ACT_Q2, WQ, PRM, QSR__ACT_H, QSR__ACT_H, QSR__ACT_Q}, 1},
        {QSR__SET_F32_H_T,
         QSR__PIPE_CONV_STORE,
         {QSR__ACT_H, WF, PRM, QSR__ACT_T, DUM, DUM, STA},
         0},
        {QSR__SET_F32_T_H,
         QSR__PIPE_CONV_STORE,
         {QSR__ACT_T, WF, PRM, QSR__ACT_H, DUM, DUM, STA},
         0},
        {QSR__SET_AFTER_BODY,
         QSR__PIPE_CONV_STORE,
         {QSR__ACT_H, WF, PRM, QSR__ACT_T, QSR__ACT_F, DUM, STA},
         0},
        {QSR__SET_UPS0, QSR__PIPE_CONV_STORE, {QSR__ACT_T, WF, PRM, QSR__ACT_U1, DUM, DUM, STA}, 0},
        {QSR__SET_UPS1,
         QSR__PIPE_CONV_STORE,
         {QSR__ACT_U1, WF, PRM, QSR__ACT_U2, DUM, DUM, STA},
         0},
        {QSR__SET_LAST,
         QSR__PIPE_CONV_STORE,
         {last_in, WF, PRM, DUM, DUM, QSR__ACT_IMG_OUT, STA},
         0},
    };
    plan->ctx->vk.vkResetDescriptorPool(plan->ctx->device, plan->pool, 0);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        /* Sets are compatible across pipelines of one shader (identical layouts), so one
         * representative pipeline per shader allocates them. */
        if (specs[i].quantized_only && !plan->quantized) continue;
        const qsr__pipeline *p = &plan->pipes[specs[i].pipe];
        if ((int)specs[i].pipe == CONVQ) {
            qsr_status st = first_convq_pipeline(plan, &p);
            if (st != QSR_OK) return st;
        }
        qsr__buffer *bufs[QSR__MAX_BINDINGS];
        for (uint32_t b = 0; b < p->desc.binding_count; b++)
            bufs[b] = buffer_of(plan, specs[i].bufs[b]);
        qsr_status st =
            qsr__descriptor_set_create(plan->ctx, plan->pool, p, bufs, &plan->sets[specs[i].set]);
        if (st != QSR_OK) return st;
    }
    return QSR_OK;
}

qsr_status qsr__plan_set_fetch(qsr__plan *plan, int storage) {
    storage = storage || plan->weights_storage;
    /* Buffers only grow: ones a larger image left beyond the limit keep storage fetches. */
    for (int i = 0; i < QSR__ACT_COUNT && !storage; i++)
        storage = plan->act_bytes[i] > qsr__texel_buffer_max_bytes(plan->ctx, 0);
    if (storage == plan->storage_fetch) return QSR_OK;
    plan->storage_fetch = storage;
    /* The context keeps both families of pipelines; the plan's handles are only looked up. */
    memset(plan->pipes, 0, sizeof plan->pipes);
    memset(plan->convq, 0, sizeof plan->convq);
    qsr_status st = create_pipelines(plan);
    if (st == QSR_OK && plan->quantized) {
        const qsr__pipeline *first;
        st = first_convq_pipeline(plan, &first);
    }
    /* Texel and storage bindings differ in descriptor type: existing buffers get new sets. */
    if (st == QSR_OK && plan->act[QSR__ACT_IMG_IN].buffer) st = write_sets(plan);
    return st;
}

qsr_status qsr__plan_reserve(qsr__plan *plan, const VkDeviceSize bytes[QSR__ACT_COUNT]) {
    int grow = 0;
    for (int i = 0; i < QSR__ACT_COUNT; i++)
        grow |= bytes[i] > plan->act_bytes[i];
    if (!grow) return QSR_OK;
    /* Grow to the larger of old and new per buffer, so images of alternating shapes do not
     * reallocate every time; an out-of-memory retry releases everything first. */
    VkDeviceSize want[QSR__ACT_COUNT];
    for (int i = 0; i < QSR__ACT_COUNT; i++)
        want[i] = bytes[i] > plan->act_bytes[i] ? bytes[i] : plan->act_bytes[i];
    qsr__plan_release_activations(plan);
    for (int i = 0; i < QSR__ACT_COUNT; i++) {
        int io = i == QSR__ACT_IMG_IN || i == QSR__ACT_IMG_OUT;
        int host = i == QSR__ACT_STATUS || (io && !plan->base);
        qsr_status st =
            qsr__buffer_create(plan->ctx, want[i] ? want[i] : 16,
                               host ? QSR__MEMORY_HOST : QSR__MEMORY_DEVICE, &plan->act[i]);
        if (st != QSR_OK) {
            qsr__plan_release_activations(plan);
            return st;
        }
        plan->act_bytes[i] = want[i];
    }
    return write_sets(plan);
}

/* ---------------------------------------------------------------------------------------------
 * Recording one tile
 */
static void upload_region(qsr__plan *plan, const qsr__rect *r, const qsr_image *in) {
    uint32_t *dst = (uint32_t *)plan->act[QSR__ACT_IMG_IN].mapped;
    uint32_t ch = in->channels;
    for (uint32_t y = 0; y < r->h; y++) {
        const uint8_t *row = in->pixels + ((size_t)(r->y + y) * in->width + r->x) * ch;
        for (uint32_t x = 0; x < r->w; x++, row += ch)
            dst[(size_t)y * r->w + x] =
                row[0] | (uint32_t)row[1] << 8 | (uint32_t)row[2] << 16 | 0xFF000000u;
    }
}

static void download_tile(qsr__plan *plan, const qsr__rect *t, uint32_t scale, qsr_image *out) {
    const uint32_t *src = (const uint32_t *)plan->act[QSR__ACT_IMG_OUT].mapped;
    uint32_t w = t->w * scale, h = t->h * scale, ch = out->channels;
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *row = out->pixels + ((size_t)(t->y * scale + y) * out->width + t->x * scale) * ch;
        for (uint32_t x = 0; x < w; x++, row += ch) {
            uint32_t p = src[(size_t)y * w + x];
            row[0] = (uint8_t)p;
            row[1] = (uint8_t)(p >> 8);
            row[2] = (uint8_t)(p >> 16);
        }
    }
}

static qsr__op_push base_push(const qsr__plan *plan) {
    const qsr_model *m = plan->model;
    return (qsr__op_push){.in_scale = 1.0f,
                          .shortcut = 1.0f,
                          .step = 1.0f,
                          .img_range = m->info.img_range,
                          .mean = {m->info.rgb_mean[0], m->info.rgb_mean[1], m->info.rgb_mean[2]},
                          .dst_scale = 1.0f};
}

/* A same-size convolution over a w x h tensor. */
static qsr__op_push conv_push(const qsr__plan *plan, const qsr__conv *conv,
                              const qsr__layer_slot *slot, uint32_t w, uint32_t h) {
    qsr__op_push p = base_push(plan);
    p.in_w = p.out_w = (int32_t)w;
    p.in_h = p.out_h = (int32_t)h;
    p.cin = (int32_t)conv->cin;
    p.cout = (int32_t)conv->cout;
    p.w_off = slot->w_off;
    p.bias_off = slot->bias_off;
    p.scale_off = slot->scale_off;
    return p;
}

static void write_barrier(qsr__plan *plan, VkPipelineStageFlags src, VkAccessFlags src_access,
                          VkPipelineStageFlags dst, VkAccessFlags dst_access) {
    VkMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                         .srcAccessMask = src_access,
                         .dstAccessMask = dst_access};
    plan->ctx->vk.vkCmdPipelineBarrier(plan->cmd, src, dst, 0, 1, &b, 0, NULL, 0, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Segments: a tile's work goes out in one or more submissions, cut between ops so each stays
 * under the time budget.
 */
static void write_barrier(qsr__plan *plan, VkPipelineStageFlags src, VkAccessFlags src_access,
                          VkPipelineStageFlags dst, VkAccessFlags dst_access);

static qsr_status segment_begin(qsr__plan *plan) {
    qsr_context *ctx = plan->ctx;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    QSR__VK(ctx->vk.vkResetCommandBuffer(plan->cmd, 0));
    QSR__VK(ctx->vk.vkBeginCommandBuffer(plan->cmd, &bi));
    if (plan->queries) {
        ctx->vk.vkCmdResetQueryPool(plan->cmd, plan->queries, 0, 2 + QSR__PROFILE_MARKS);
        ctx->vk.vkCmdWriteTimestamp(plan->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, plan->queries, 0);
    }
    /* Host writes (uploaded pixels, cleared flags) and earlier submissions' results. */
    write_barrier(plan, VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_HOST_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    plan->segment_macs = 0;
    plan->profile.marks = 0;
    return QSR_OK;
}

/* Profiling: a timestamp after the op just recorded, attributed to `kind`. */
static void profile_mark(qsr__plan *plan, qsr__op_kind kind, uint64_t macs) {
    qsr__plan_profile *pr = &plan->profile;
    if (!pr->enabled || !plan->queries || pr->marks >= QSR__PROFILE_MARKS) return;
    plan->ctx->vk.vkCmdWriteTimestamp(plan->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                                      plan->queries, 2 + pr->marks);
    pr->mark_kind[pr->marks] = (uint8_t)kind;
    pr->mark_macs[pr->marks] = macs;
    pr->marks++;
}

/* After a profiled submission: each op's time is its timestamp minus the one before. */
static void profile_collect(qsr__plan *plan, uint64_t start) {
    qsr__plan_profile *pr = &plan->profile;
    if (!pr->enabled || pr->marks == 0) return;
    uint64_t ts[QSR__PROFILE_MARKS];
    if (plan->ctx->vk.vkGetQueryPoolResults(plan->ctx->device, plan->queries, 2, pr->marks,
                                            sizeof ts, ts, sizeof ts[0],
                                            VK_QUERY_RESULT_64_BIT) != VK_SUCCESS)
        return;
    uint64_t prev = start;
    for (uint32_t i = 0; i < pr->marks; i++) {
        qsr__op_kind k = (qsr__op_kind)pr->mark_kind[i];
        if (!pr->order[k]) pr->order[k] = ++pr->seen;
        pr->dispatches[k]++;
        pr->macs[k] += pr->mark_macs[i];
        if (ts[i] >= prev)
            pr->ms[k] += (double)(ts[i] - prev) * plan->ctx->timestamp_period_ns * 1e-6;
        prev = ts[i] > prev ? ts[i] : prev;
    }
}

const char *qsr__op_kind_name(qsr__op_kind kind, int quantized) {
    switch (kind) {
    case QSR__OP_RGB_TO_PLANAR:
        return "rgb_to_planar";
    case QSR__OP_CONV_FIRST:
        return "conv_first";
    case QSR__OP_COPY_SKIP:
        return "copy (global skip)";
    case QSR__OP_QUANTIZE:
        return "quantize_rlq";
    case QSR__OP_BODY_CONV1:
        return quantized ? "body conv1 (q)" : "body conv1 (fp32)";
    case QSR__OP_BODY_CONV2:
        return quantized ? "body conv2 (q)" : "body conv2 (fp32)";
    case QSR__OP_AFTER_BODY:
        return "conv_after_body";
    case QSR__OP_UPSAMPLE0:
        return "upsample conv 1";
    case QSR__OP_UPSAMPLE1:
        return "upsample conv 2";
    case QSR__OP_CONV_LAST:
        return "conv_last";
    case QSR__OP_COPY_OUT:
        return "copy (output)";
    default:
        return "?";
    }
}

static qsr_status segment_submit(qsr__plan *plan) {
    qsr_context *ctx = plan->ctx;
    write_barrier(plan, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    if (plan->queries)
        ctx->vk.vkCmdWriteTimestamp(plan->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, plan->queries,
                                    1);
    QSR__VK(ctx->vk.vkEndCommandBuffer(plan->cmd));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .commandBufferCount = 1,
                       .pCommandBuffers = &plan->cmd};
    QSR__VK(ctx->vk.vkResetFences(ctx->device, 1, &plan->fence));
    VkResult r = qsr__queue_submit(ctx, &si, plan->fence);
    if (r != VK_SUCCESS) return qsr__vk_fail(r, "vkQueueSubmit");
    QSR__VK(ctx->vk.vkWaitForFences(ctx->device, 1, &plan->fence, VK_TRUE, UINT64_MAX));
    plan->submissions++;
    uint64_t ts[2];
    if (plan->queries &&
        ctx->vk.vkGetQueryPoolResults(ctx->device, plan->queries, 0, 2, sizeof ts, ts, sizeof ts[0],
                                      VK_QUERY_RESULT_64_BIT) == VK_SUCCESS &&
        ts[1] >= ts[0]) {
        double ns = (double)(ts[1] - ts[0]) * ctx->timestamp_period_ns;
        if (plan->gpu_ms) *plan->gpu_ms += ns * 1e-6;
        if (plan->segment_macs > 1000000) plan->ns_per_mac = ns / (double)plan->segment_macs;
        profile_collect(plan, ts[0]);
    }
    return QSR_OK;
}

/* Called between ops: submits what is recorded once it would take longer than the budget. */
static qsr_status segment_split_point(qsr__plan *plan) {
    if (plan->base) return QSR_OK; /* a frame: the application submits its command buffer */
    double estimate_ms = (double)plan->segment_macs * plan->ns_per_mac * 1e-6;
    if (estimate_ms < plan->budget_ms && plan->profile.marks + 8 < QSR__PROFILE_MARKS)
        return QSR_OK;
    qsr_status st = segment_submit(plan);
    return st == QSR_OK ? segment_begin(plan) : st;
}

static qsr_status conv_f32(qsr__plan *plan, qsr__pipe pipe, qsr__set set, const qsr__op_push *p,
                           qsr__op_kind kind) {
    uint64_t macs = qsr__conv3x3_macs(p);
    plan->segment_macs += macs;
    qsr_status st =
        qsr__conv3x3_f32_record(plan->ctx, plan->cmd, &plan->pipes[pipe], plan->sets[set], p);
    profile_mark(plan, kind, macs);
    return st;
}

static qsr_status conv_q(qsr__plan *plan, const qsr__pipeline *pipe, qsr__set set,
                         const qsr__op_push *p, qsr__op_kind kind) {
    uint64_t macs = qsr__conv3x3_macs(p);
    plan->segment_macs += macs;
    qsr_status st = qsr__conv3x3_q_record(plan->ctx, plan->cmd, pipe, plan->sets[set], p);
    profile_mark(plan, kind, macs);
    return st;
}

/* The first block from `from` on that runs at `depth` (m->info.blocks if none) and the
 * product of the shortcuts of the blocks skipped before it, multiplied in the order the blocks
 * come (as the CPU reference does). */
static uint32_t next_active_block(const qsr_model *m, uint32_t depth, uint32_t from,
                                  float *skipped) {
    *skipped = 1.0f;
    for (uint32_t b = from; b < m->info.blocks; b++) {
        if (qsr__model_block_active(m, depth, b)) return b;
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

/* One quantized block as two dispatches over packed codes: conv1 + ReLU writes conv2's codes
 * (q -> q2); conv2 + residual updates h and writes the next active block's conv1 codes
 * (q2 -> h, q). Only the first active block quantizes h in a pass of its own. */
static qsr_status record_block_q(qsr__plan *plan, const block_step *k, uint32_t w, uint32_t h) {
    uint32_t block = k->block;
    float pending = k->pending;
    qsr_context *ctx = plan->ctx;
    const qsr_model *m = plan->model;
    const qsr__conv *c1 = &m->body[2 * block], *c2 = &m->body[2 * block + 1];
    const qsr__layer_slot *s1 = &plan->body[2 * block], *s2 = &plan->body[2 * block + 1];
    qsr__op_push p;
    qsr_status st;
    if (!k->codes_ready) {
        p = conv_push(plan, c1, s1, w, h);
        p.scale_off = s1->shift_off;
        p.step = c1->act_step;
        p.in_scale = pending;
        st = qsr__quantize_rlq_record(
            ctx, plan->cmd,
            &plan->pipes[c1->act_signed ? QSR__PIPE_QUANTIZE_SIGNED : QSR__PIPE_QUANTIZE_UNSIGNED],
            plan->sets[QSR__SET_QUANT_H], &p);
        profile_mark(plan, QSR__OP_QUANTIZE, 0);
        if (st != QSR_OK) return st;
    }
    const qsr__pipeline *pipe;
    st = convq_pipeline(plan, QSR__EPILOGUE_RELU, c1->act_signed, codes_for(c2->act_signed), &pipe);
    if (st != QSR_OK) return st;
    p = conv_push(plan, c1, s1, w, h);
    p.aux_off = s2->shift_off;
    p.step = c2->act_step;
    p.in_scale = 1.0f;
    st = conv_q(plan, pipe, QSR__SET_CONVQ_1, &p, QSR__OP_BODY_CONV1);
    if (st != QSR_OK) return st;

    p = conv_push(plan, c2, s2, w, h);
    p.shortcut = m->shortcut[block];
    p.dst_scale = pending;
    qsr__codes_out codes = QSR__CODES_NONE;
    if (k->next < m->info.blocks) {
        const qsr__conv *n1 = &m->body[2 * k->next];
        codes = codes_for(n1->act_signed);
        p.aux_off = plan->body[2 * k->next].shift_off;
        p.step = n1->act_step;
        p.in_scale = k->skipped;
    }
    st = convq_pipeline(plan, QSR__EPILOGUE_RESIDUAL, c2->act_signed, codes, &pipe);
    if (st != QSR_OK) return st;
    return conv_q(plan, pipe, QSR__SET_CONVQ_2, &p, QSR__OP_BODY_CONV2);
}

/* The same block in fp32 (FP models, or QSR_PRECISION_FP32). */
static qsr_status record_block_f32(qsr__plan *plan, const block_step *k, uint32_t w, uint32_t h) {
    const qsr_model *m = plan->model;
    uint32_t block = k->block;
    float pending = k->pending;
    qsr__op_push p = conv_push(plan, &m->body[2 * block], &plan->body[2 * block], w, h);
    p.in_scale = pending;
    qsr_status st = conv_f32(plan, QSR__PIPE_CONV_RELU, QSR__SET_F32_H_T, &p, QSR__OP_BODY_CONV1);
    if (st != QSR_OK) return st;
    p = conv_push(plan, &m->body[2 * block + 1], &plan->body[2 * block + 1], w, h);
    p.shortcut = m->shortcut[block];
    p.dst_scale = pending;
    return conv_f32(plan, QSR__PIPE_CONV_RESIDUAL, QSR__SET_F32_T_H, &p, QSR__OP_BODY_CONV2);
}

/* conv_first, the body and conv_after_body over the LR region; returns in t: r = conv(h) + f. */
static qsr_status record_lr_stages(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t depth) {
    qsr_context *ctx = plan->ctx;
    const qsr_model *m = plan->model;
    uint32_t w = g->region.w, h = g->region.h;
    qsr__op_push p = base_push(plan);
    p.in_w = (int32_t)w;
    p.in_h = (int32_t)h;
    qsr_status st = qsr__rgb_to_planar_record(ctx, plan->cmd, &plan->pipes[QSR__PIPE_RGB_TO_PLANAR],
                                              plan->sets[QSR__SET_RGB], &p);
    profile_mark(plan, QSR__OP_RGB_TO_PLANAR, 0);
    if (st != QSR_OK) return st;
    p = conv_push(plan, &m->conv_first, &plan->first, w, h);
    st = conv_f32(plan, QSR__PIPE_CONV_STORE, QSR__SET_FIRST, &p, QSR__OP_CONV_FIRST);
    if (st != QSR_OK) return st;

    /* h starts as a copy of f, which the global skip needs unchanged. */
    write_barrier(plan, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferCopy copy = {0, 0, (VkDeviceSize)m->info.channels * w * h * 4};
    ctx->vk.vkCmdCopyBuffer(plan->cmd, plan->act[QSR__ACT_F].buffer, plan->act[QSR__ACT_H].buffer,
                            1, &copy);
    profile_mark(plan, QSR__OP_COPY_SKIP, 0);
    write_barrier(plan, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);

    /* A skipped block is h = h * shortcut: instead of a pass over h, its factor is carried
     * to the next op that reads h (no dispatch, no memory traffic). */
    block_step k = {0, 0, 1.0f, 1.0f, 0};
    k.block = next_active_block(m, depth, 0, &k.pending);
    for (; k.block < m->info.blocks; k.block = k.next, k.pending = k.skipped, k.codes_ready = 1) {
        k.next = next_active_block(m, depth, k.block + 1, &k.skipped);
        st = plan->quantized ? record_block_q(plan, &k, w, h) : record_block_f32(plan, &k, w, h);
        if (st == QSR_OK) st = segment_split_point(plan);
        if (st != QSR_OK) return st;
    }
    p = conv_push(plan, &m->conv_after_body, &plan->after_body, w, h);
    p.in_scale = k.pending; /* the shortcuts after the last active block */
    st = conv_f32(plan, QSR__PIPE_CONV_ADD_SKIP, QSR__SET_AFTER_BODY, &p, QSR__OP_AFTER_BODY);
    return st == QSR_OK ? segment_split_point(plan) : st;
}

/* The upsampler over g->ups and conv_last over the tile. */
static qsr_status record_hr_stages(qsr__plan *plan, const qsr__tile_geometry *g) {
    const qsr_model *m = plan->model;
    uint32_t r = m->upsample_factor, s = m->info.scale;
    qsr__op_push p = conv_push(plan, &m->upsample[0], &plan->upsample[0], g->region.w, g->region.h);
    p.out_w = (int32_t)g->ups.w;
    p.out_h = (int32_t)g->ups.h;
    p.org_x = (int32_t)(g->ups.x - g->region.x);
    p.org_y = (int32_t)(g->ups.y - g->region.y);
    qsr_status st =
        conv_f32(plan, QSR__PIPE_CONV_SHUFFLE_LR, QSR__SET_UPS0, &p, QSR__OP_UPSAMPLE0);
    if (st == QSR_OK) st = segment_split_point(plan);
    if (st != QSR_OK) return st;
    uint32_t w = g->ups.w * r, h = g->ups.h * r;
    if (m->upsample_count > 1) {
        p = conv_push(plan, &m->upsample[1], &plan->upsample[1], w, h);
        st = conv_f32(plan, QSR__PIPE_CONV_SHUFFLE, QSR__SET_UPS1, &p, QSR__OP_UPSAMPLE1);
        if (st == QSR_OK) st = segment_split_point(plan);
        if (st != QSR_OK) return st;
        w *= r;
        h *= r;
    }
    p = conv_push(plan, &m->conv_last, &plan->last, w, h);
    p.out_w = p.dst_w = (int32_t)(g->tile.w * s);
    p.out_h = p.dst_h = (int32_t)(g->tile.h * s);
    p.org_x = (int32_t)((g->tile.x - g->ups.x) * s);
    p.org_y = (int32_t)((g->tile.y - g->ups.y) * s);
    return conv_f32(plan, QSR__PIPE_CONV_RGB, QSR__SET_LAST, &p, QSR__OP_CONV_LAST);
}

/* Copies the tile's output words into the sink's device buffer, one region per row. The
 * barrier orders the copy after conv_last and after every earlier use of the destination on
 * the queue (the application may have read it, e.g. to present it). */
static qsr_status record_copy_to_buffer(qsr__plan *plan, const qsr__rect *t,
                                        const qsr__tile_sink *sink) {
    uint32_t s = plan->model->info.scale, w = t->w * s, h = t->h * s;
    qsr_status st = qsr__plan_reserve_rows(plan, h);
    if (st != QSR_OK) return st;
    VkBufferCopy *rows = plan->rows;
    for (uint32_t y = 0; y < h; y++)
        rows[y] = (VkBufferCopy){
            .srcOffset = (VkDeviceSize)y * w * 4,
            .dstOffset =
                sink->offset + ((VkDeviceSize)(t->y * s + y) * sink->row_pixels + t->x * s) * 4,
            .size = (VkDeviceSize)w * 4,
        };
    write_barrier(plan, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                  VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    plan->ctx->vk.vkCmdCopyBuffer(plan->cmd, plan->act[QSR__ACT_IMG_OUT].buffer, sink->buffer, h,
                                  rows);
    profile_mark(plan, QSR__OP_COPY_OUT, 0);
    /* Later submissions (the application's too) see the copied words. */
    write_barrier(plan, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                  VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    return QSR_OK;
}

/* Copies the body tile's region of the source buffer into img_in, one region per row. */
static qsr_status record_copy_from_source(qsr__plan *plan, const qsr__rect *r,
                                          const qsr__tile_source *src) {
    qsr_status st = qsr__plan_reserve_rows(plan, r->h);
    if (st != QSR_OK) return st;
    for (uint32_t y = 0; y < r->h; y++)
        plan->rows[y] = (VkBufferCopy){
            .srcOffset = src->offset + ((VkDeviceSize)(r->y + y) * src->row_pixels + r->x) * 4,
            .dstOffset = (VkDeviceSize)y * r->w * 4,
            .size = (VkDeviceSize)r->w * 4,
        };
    /* The previous body tile's rgb_to_planar has read img_in (write after read). */
    write_barrier(plan, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_TRANSFER_WRITE_BIT);
    plan->ctx->vk.vkCmdCopyBuffer(plan->cmd, src->buffer, plan->act[QSR__ACT_IMG_IN].buffer, r->h,
                                  plan->rows);
    write_barrier(plan, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    return QSR_OK;
}

qsr_status qsr__plan_run_body(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t depth,
                              const qsr_image *in, double *gpu_ms) {
    upload_region(plan, &g->region, in);
    plan->gpu_ms = gpu_ms;
    qsr_status st = segment_begin(plan);
    if (st == QSR_OK) st = record_lr_stages(plan, g, depth);
    if (st == QSR_OK)
        st = segment_submit(plan);
    else
        plan->ctx->vk.vkEndCommandBuffer(plan->cmd);
    plan->gpu_ms = NULL;
    return st;
}

qsr_status qsr__plan_run_hr_tile(qsr__plan *plan, const qsr__tile_geometry *g,
                                 const qsr__tile_sink *sink, double *gpu_ms) {
    plan->gpu_ms = gpu_ms;
    qsr_status st = segment_begin(plan);
    if (st == QSR_OK) st = record_hr_stages(plan, g);
    if (st == QSR_OK && !sink->image) st = record_copy_to_buffer(plan, &g->tile, sink);
    if (st == QSR_OK)
        st = segment_submit(plan);
    else
        plan->ctx->vk.vkEndCommandBuffer(plan->cmd);
    plan->gpu_ms = NULL;
    if (st != QSR_OK) return st;
    if (sink->image) download_tile(plan, &g->tile, plan->model->info.scale, sink->image);
    return QSR_OK;
}

void qsr__plan_record_frame_begin(qsr__plan *plan, VkCommandBuffer cmd) {
    plan->cmd = cmd;
    write_barrier(plan, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                      VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    plan->cmd = VK_NULL_HANDLE;
}

qsr_status qsr__plan_record_body(qsr__plan *plan, VkCommandBuffer cmd, const qsr__tile_geometry *g,
                                 uint32_t depth, const qsr__tile_source *src) {
    plan->cmd = cmd; /* the recorders write into plan->cmd */
    qsr_status st = record_copy_from_source(plan, &g->region, src);
    if (st == QSR_OK) st = record_lr_stages(plan, g, depth);
    plan->cmd = VK_NULL_HANDLE;
    return st;
}

qsr_status qsr__plan_record_hr_tile(qsr__plan *plan, VkCommandBuffer cmd,
                                    const qsr__tile_geometry *g, const qsr__tile_sink *sink) {
    plan->cmd = cmd;
    qsr_status st = record_hr_stages(plan, g);
    if (st == QSR_OK) st = record_copy_to_buffer(plan, &g->tile, sink);
    plan->cmd = VK_NULL_HANDLE;
    return st;
}

int qsr__plan_take_nonfinite(qsr__plan *plan) {
    uint32_t *flags = (uint32_t *)plan->act[QSR__ACT_STATUS].mapped;
    if (!flags) return 0;
    int bad = flags[0] != 0;
    flags[0] = 0;
    return bad;
}
