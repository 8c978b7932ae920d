/* plan.c - weights on the device, pipelines, activation buffers and one tile's recording. */
#include "arch.h"
#include "shader_table.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Weights: every fp32 convolution in one float buffer, every quantized one in one uint32
 * buffer of nibble-packed codes, every per-channel vector in one parameter buffer; layers find
 * their data through offsets in the push constants, so a whole network needs only a few bindings.
 */
struct qsr__weight_builder {
    float *wf;
    size_t wf_len;
    uint32_t *wq;
    size_t wq_len;
    float *params;
    size_t params_len;
    qsr__qkernel kernel; /* the layout quantized layers are packed in */
    int failed;
};
typedef qsr__weight_builder weight_builder;

static int32_t append_floats(float **arr, size_t *len, const float *src, size_t n) {
    int32_t off = (int32_t)*len;
    if (*arr && src) memcpy(*arr + *len, src, n * sizeof(float));
    *len += n;
    return off;
}

/* Adds one convolution. In the first pass (arrays NULL) only the lengths are counted.
 * Weight offsets are in the shaders' vector units (4 elements). */
void qsr__weights_add_conv(qsr__weight_builder *b, const qsr__conv *conv, int run_quantized,
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

void qsr__weights_add_linear(qsr__weight_builder *b, const qsr__conv *layer,
                             qsr__layer_slot *slot) {
    slot->bias_off = append_floats(&b->params, &b->params_len, layer->bias, layer->cout);
    b->wq_len = (b->wq_len + 3) / 4 * 4; /* uvec4 addressing; a 3x3 layout may end mid-uvec4 */
    slot->w_off = (int32_t)(b->wq_len / 4);
    if (b->wq) qsr__linear_q_pack_weights(layer->wcode, layer->cout, layer->cin, b->wq + b->wq_len);
    b->wq_len += qsr__linear_q_weight_words(layer->cout, layer->cin);
    slot->shift_off = append_floats(&b->params, &b->params_len, layer->act_shift, layer->cin);
    slot->scale_off = (int32_t)b->params_len;
    if (b->params)
        for (uint32_t o = 0; o < layer->cout; o++)
            b->params[b->params_len + o] = layer->act_step * layer->weight_step[o];
    b->params_len += layer->cout;
}

int32_t qsr__weights_add_params(qsr__weight_builder *b, const float *values, size_t n) {
    return append_floats(&b->params, &b->params_len, values, n);
}

float *qsr__weights_reserve_f32(qsr__weight_builder *b, size_t n, int32_t *vec4_off) {
    *vec4_off = (int32_t)(b->wf_len / 4);
    float *at = b->wf ? b->wf + b->wf_len : NULL;
    b->wf_len += (n + 3) / 4 * 4;
    return at;
}

float *qsr__weights_reserve_params(qsr__weight_builder *b, size_t n, int32_t *off) {
    *off = (int32_t)b->params_len;
    float *at = b->params ? b->params + b->params_len : NULL;
    b->params_len += n;
    return at;
}

void qsr__weights_fail(qsr__weight_builder *b) {
    b->failed = 1;
}

static void add_all(weight_builder *b, qsr__plan *plan) {
    plan->program->add_weights(plan, b);
}

static qsr_status upload_weights(qsr__plan *plan) {
    weight_builder b = {NULL, 0, NULL, 0, NULL, 0, plan->kernel, 0};
    add_all(&b, plan); /* count */
    if (plan->fold_upsampler && b.wf_len * 4 > qsr__texel_buffer_max_bytes(plan->ctx, 1)) {
        /* The folded kernels would take the fp32 weights past the texel limit (mobile GPUs) and
         * every fp32 convolution onto storage-buffer fetches: keep the stages there. */
        plan->fold_upsampler = 0;
        b = (weight_builder){NULL, 0, NULL, 0, NULL, 0, plan->kernel, 0};
        add_all(&b, plan);
    }
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
        /* conv3x3_f32 reads 16-byte texels, conv3x3_q_dot too, the other kernels words; the
         * quantized kernels' epilogue, quantize_rlq and window_attention read the parameters
         * as words. */
        plan->weights_storage =
            fill.wf_len * 4 > qsr__texel_buffer_max_bytes(ctx, 1) ||
            fill.wq_len * 4 > qsr__texel_buffer_max_bytes(ctx, plan->kernel == QSR__QKERNEL_DOT) ||
            fill.params_len * 4 > qsr__texel_buffer_max_bytes(ctx, 0);
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
qsr_status qsr__plan_pipeline(qsr__plan *plan, const qsr__pipeline_desc *desc,
                              const qsr__pipeline **out) {
    qsr__pipeline_desc d = *desc;
    if (plan->storage_fetch) qsr__pipeline_desc_storage(&d);
    for (uint32_t i = 0; i < plan->pipe_count; i++)
        if (memcmp(&plan->pipe_keys[i], &d, sizeof d) == 0) {
            *out = &plan->pipes[i];
            return QSR_OK;
        }
    if (plan->pipe_count == QSR__MAX_PIPES)
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "internal: a plan of more than %u pipelines",
                         QSR__MAX_PIPES);
    qsr__pipeline *p = &plan->pipes[plan->pipe_count];
    qsr_status st = qsr__pipeline_get(plan->ctx, &d, p);
    if (st != QSR_OK) return st;
    plan->pipe_keys[plan->pipe_count++] = d;
    *out = p;
    return QSR_OK;
}

/* The pipelines the program makes with the plan (in its fetch family). */
static qsr_status create_pipelines(qsr__plan *plan) {
    qsr__pipeline_desc d[QSR__MAX_PIPES];
    uint32_t n = plan->program->pipelines(plan, d);
    for (uint32_t i = 0; i < n; i++) {
        const qsr__pipeline *p;
        qsr_status st = qsr__plan_pipeline(plan, &d[i], &p);
        if (st != QSR_OK) return st;
    }
    return QSR_OK;
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
    const qsr__program *program = NULL;
    qsr_status gate = qsr__arch_gpu_program(model, &program);
    if (gate != QSR_OK) return gate;
    /* The plan's fixed arrays hold any program within these capacities (profile kinds are
     * stored in a byte). */
    if (program->tensor_count > QSR__MAX_ACTIVATIONS || program->op_count > QSR__MAX_OPS)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "internal error: a program of %u tensors and %u ops (at most %u and %u)",
                         program->tensor_count, program->op_count, QSR__MAX_ACTIVATIONS,
                         QSR__MAX_OPS);
    out->ctx = ctx;
    out->model = model;
    out->program = program;
    out->quantized = model->info.bits_w != 32 && desc->precision != QSR_PRECISION_FP32;
    out->fast_fp = desc->fp_math == QSR_FP_MATH_FAST;
    /* QSR_FOLD=0 keeps the upsampler's stages in the fast math too (benchmarks compare). */
    out->fold_upsampler =
        out->fast_fp && program->folds_upsampler && qsr__env_int("QSR_FOLD", 1) != 0;
    if (out->quantized) {
        qsr_status chosen =
            qsr__conv3x3_q_choose(ctx, model->info.bits_w, model->info.bits_a, &out->kernel);
        if (chosen != QSR_OK) return chosen;
    }
    if (program->quantized_only && !out->quantized)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "%s runs on the GPU with its quantized kernels only: %s (use the CPU "
                         "reference, quantsr --cpu)",
                         qsr_arch_name(model->info.arch),
                         model->info.bits_w == 32 ? "this is a float model"
                                                  : "QSR_PRECISION_FP32 was asked for");
    out->slots = calloc(program->slot_count(model), sizeof *out->slots);
    if (!out->slots) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "plan");
    qsr_status st = upload_weights(out);
    if (st == QSR_OK) st = create_pipelines(out);
    if (st == QSR_OK) st = create_sync(out);
    if (st == QSR_OK) st = qsr__descriptor_pool_create(ctx, program->op_count, &out->pool);
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
    qsr_status st = qsr__descriptor_pool_create(base->ctx, base->program->op_count, &out->pool);
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
    qsr_status st = plan->program->warm(plan);
    /* Each convolution also at its other pixel count per invocation: the grids of a recording
     * pick theirs (qsr__conv3x3_fit_px). */
    for (uint32_t i = 0, n = plan->pipe_count; i < n && st == QSR_OK; i++) {
        qsr__pipeline_desc twin;
        const qsr__pipeline *p;
        if (qsr__conv3x3_px_twin(&plan->pipe_keys[i], &twin))
            st = qsr__plan_pipeline(plan, &twin, &p);
    }
    return st;
}

void qsr__plan_release_activations(qsr__plan *plan) {
    for (int i = 0; i < QSR__MAX_ACTIVATIONS; i++) {
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
        free(plan->slots);
    }
    free(plan->rows);
    memset(plan, 0, sizeof *plan);
}

/* ---------------------------------------------------------------------------------------------
 * Activation buffers
 */
void qsr__plan_padded_region(const qsr__plan *plan, const qsr__tile_geometry *g, uint32_t *w,
                             uint32_t *h) {
    uint32_t a = plan->program->pad_align ? plan->program->pad_align(plan) : 1;
    *w = qsr__div_up(g->region.w, a) * a;
    *h = qsr__div_up(g->region.h, a) * a;
}

static VkDeviceSize grid_pixels(const qsr__plan *plan, qsr__grid grid,
                                const qsr__tile_geometry *g) {
    switch (grid) {
    case QSR__GRID_REGION:
        return (VkDeviceSize)g->region.w * g->region.h;
    case QSR__GRID_PADDED: {
        uint32_t w, h;
        qsr__plan_padded_region(plan, g, &w, &h);
        return (VkDeviceSize)w * h;
    }
    case QSR__GRID_CODES:
        return qsr__code_plane_words(g->region.w, g->region.h, 1);
    case QSR__GRID_UPS:
        return (VkDeviceSize)g->ups.w * g->ups.h;
    case QSR__GRID_TILE:
        return (VkDeviceSize)g->tile.w * g->tile.h;
    default:
        return 1;
    }
}

int qsr__plan_folds(const qsr__plan *plan, const qsr__tile_geometry *g) {
    return plan->fold_upsampler && g->image_w >= 2 && g->image_h >= 2;
}

void qsr__plan_activation_bytes(const qsr__plan *plan, const qsr__tile_geometry *g,
                                VkDeviceSize bytes[QSR__MAX_ACTIVATIONS]) {
    const qsr__program *pr = plan->program;
    memset(bytes, 0, sizeof(VkDeviceSize) * QSR__MAX_ACTIVATIONS);
    /* The folded upsampler reads r and writes the output itself: the stages' intermediates
     * (the tensors on the upsampler's grid) take no memory where it runs. */
    int folds = qsr__plan_folds(plan, g);
    for (uint32_t i = 0; i < pr->tensor_count; i++)
        if (!(folds && pr->tensors[i].grid == QSR__GRID_UPS))
            bytes[i] = grid_pixels(plan, pr->tensors[i].grid, g) * pr->tensors[i].words(plan) * 4;
}

/* The buffer behind binding id `id` of an op (arch.h). */
static qsr__buffer *buffer_of(qsr__plan *plan, int id) {
    qsr__plan *weights = plan->base ? plan->base : plan;
    if (id == QSR__BIND_WEIGHTS_F32) return &weights->wf;
    if (id == QSR__BIND_WEIGHTS_Q) return &weights->wq;
    if (id == QSR__BIND_PARAMS) return &weights->params;
    if ((uint32_t)id >= plan->program->tensor_count) id = plan->program->resolve(plan, id);
    return &plan->act[id];
}

/* One descriptor set per op, its buffers bound as the op's table says. */
static qsr_status write_sets(qsr__plan *plan) {
    const qsr__program *pr = plan->program;
    plan->ctx->vk.vkResetDescriptorPool(plan->ctx->device, plan->pool, 0);
    for (uint32_t i = 0; i < pr->op_count; i++) {
        const qsr__op_spec *op = &pr->ops[i];
        plan->sets[i] = VK_NULL_HANDLE;
        if (!op->layout || (op->when == QSR__OP_QUANTIZED && !plan->quantized)) continue;
        /* Sets are compatible across pipelines of one shader (identical layouts), so one
         * representative pipeline per shader allocates them. */
        qsr__pipeline_desc d = op->layout(plan);
        const qsr__pipeline *p;
        qsr_status st = qsr__plan_pipeline(plan, &d, &p);
        if (st != QSR_OK) return st;
        qsr__buffer *bufs[QSR__MAX_BINDINGS];
        for (uint32_t b = 0; b < p->desc.binding_count; b++)
            bufs[b] = buffer_of(plan, op->bind[b]);
        st = qsr__descriptor_set_create(plan->ctx, plan->pool, p, bufs, &plan->sets[i]);
        if (st != QSR_OK) return st;
        plan->set_bindings[i] = (uint8_t)p->desc.binding_count;
    }
    return QSR_OK;
}

qsr_status qsr__plan_set_fetch(qsr__plan *plan, int storage) {
    storage = storage || plan->weights_storage;
    /* Buffers only grow: ones a larger image left beyond the limit keep storage fetches. */
    for (int i = 0; i < QSR__MAX_ACTIVATIONS && !storage; i++)
        storage = plan->act_bytes[i] > qsr__texel_buffer_max_bytes(plan->ctx, 0);
    if (storage == plan->storage_fetch) return QSR_OK;
    plan->storage_fetch = storage;
    /* The context keeps both families of pipelines; the plan's handles are only looked up. */
    plan->pipe_count = 0;
    qsr_status st = create_pipelines(plan);
    /* Texel and storage bindings differ in descriptor type: existing buffers get new sets. */
    if (st == QSR_OK && plan->act[plan->program->tensor_in].buffer) st = write_sets(plan);
    return st;
}

/* Host access of tensor i: flags the host reads always, pixel staging where the plan
 * submits itself (a frame plan copies on the device). */
static int tensor_on_host(const qsr__plan *plan, uint32_t i) {
    uint32_t flags = plan->program->tensors[i].flags;
    return (flags & QSR__TENSOR_HOST) || ((flags & QSR__TENSOR_IO) && !plan->base);
}

qsr_status qsr__plan_reserve(qsr__plan *plan, const VkDeviceSize bytes[QSR__MAX_ACTIVATIONS]) {
    uint32_t n = plan->program->tensor_count;
    int grow = 0;
    for (uint32_t i = 0; i < n; i++)
        grow |= bytes[i] > plan->act_bytes[i];
    if (!grow) return QSR_OK;
    /* Grow to the larger of old and new per buffer, so images of alternating shapes do not
     * reallocate every time; an out-of-memory retry releases everything first. */
    VkDeviceSize want[QSR__MAX_ACTIVATIONS];
    for (uint32_t i = 0; i < n; i++)
        want[i] = bytes[i] > plan->act_bytes[i] ? bytes[i] : plan->act_bytes[i];
    qsr__plan_release_activations(plan);
    for (uint32_t i = 0; i < n; i++) {
        qsr_status st = qsr__buffer_create(
            plan->ctx, want[i] ? want[i] : 16,
            tensor_on_host(plan, i) ? QSR__MEMORY_HOST : QSR__MEMORY_DEVICE, &plan->act[i]);
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
    uint32_t *dst = (uint32_t *)plan->act[plan->program->tensor_in].mapped;
    uint32_t ch = in->channels;
    for (uint32_t y = 0; y < r->h; y++) {
        const uint8_t *row = in->pixels + ((size_t)(r->y + y) * in->width + r->x) * ch;
        for (uint32_t x = 0; x < r->w; x++, row += ch)
            dst[(size_t)y * r->w + x] =
                row[0] | (uint32_t)row[1] << 8 | (uint32_t)row[2] << 16 | 0xFF000000u;
    }
}

static void download_tile(qsr__plan *plan, const qsr__rect *t, uint32_t scale, qsr_image *out) {
    const uint32_t *src = (const uint32_t *)plan->act[plan->program->tensor_out].mapped;
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

void qsr__plan_barrier(qsr__plan *plan, VkPipelineStageFlags src, VkAccessFlags src_access,
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
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_HOST_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    plan->segment_macs = 0;
    plan->profile.marks = 0;
    return QSR_OK;
}

/* Profiling: a timestamp after the op just recorded, attributed to `kind`. */
static void profile_mark(qsr__plan *plan, uint32_t op, uint64_t macs) {
    qsr__plan_profile *pr = &plan->profile;
    if (!pr->enabled || !plan->queries || pr->marks >= QSR__PROFILE_MARKS) return;
    plan->ctx->vk.vkCmdWriteTimestamp(plan->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                                      plan->queries, 2 + pr->marks);
    pr->mark_kind[pr->marks] = (uint8_t)op;
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
        uint32_t k = pr->mark_kind[i];
        if (!pr->order[k]) pr->order[k] = ++pr->seen;
        pr->dispatches[k]++;
        pr->macs[k] += pr->mark_macs[i];
        if (ts[i] >= prev)
            pr->ms[k] += (double)(ts[i] - prev) * plan->ctx->timestamp_period_ns * 1e-6;
        prev = ts[i] > prev ? ts[i] : prev;
    }
}

const char *qsr__plan_op_name(const qsr__plan *plan, uint32_t op) {
    return plan->program && op < plan->program->op_count ? plan->program->ops[op].name : "?";
}

static qsr_status segment_submit(qsr__plan *plan) {
    qsr_context *ctx = plan->ctx;
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
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

qsr_status qsr__plan_split_point(qsr__plan *plan) {
    if (plan->base) return QSR_OK; /* a frame: the application submits its command buffer */
    double estimate_ms = (double)plan->segment_macs * plan->ns_per_mac * 1e-6;
    if (estimate_ms < plan->budget_ms && plan->profile.marks + 8 < QSR__PROFILE_MARKS)
        return QSR_OK;
    qsr_status st = segment_submit(plan);
    return st == QSR_OK ? segment_begin(plan) : st;
}

qsr_status qsr__plan_op_begin(qsr__plan *plan, uint32_t op, const qsr__pipeline_desc *desc,
                              uint64_t macs, const qsr__pipeline **pipe, VkDescriptorSet *set) {
    /* A recorder asking for an op its program did not give a set (a quantized-only op in an
     * fp32 plan, a copy) is a bug in the program, reported rather than bound as no set. */
    if (op >= plan->program->op_count || !plan->sets[op])
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "internal error: op %u (%s) has no descriptor set in this plan", op,
                         qsr__plan_op_name(plan, op));
    qsr_status st = qsr__plan_pipeline(plan, desc, pipe);
    if (st != QSR_OK) return st;
    if ((*pipe)->desc.binding_count != plan->set_bindings[op])
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "internal error: op %s has a set of %u bindings, its pipeline %s %u",
                         qsr__plan_op_name(plan, op), plan->set_bindings[op],
                         qsr_shader_table[(*pipe)->desc.shader].name, (*pipe)->desc.binding_count);
    plan->segment_macs += macs;
    *set = plan->sets[op];
    return QSR_OK;
}

void qsr__plan_op_end(qsr__plan *plan, uint32_t op, uint64_t macs) {
    profile_mark(plan, op, macs);
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
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                      VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    plan->ctx->vk.vkCmdCopyBuffer(plan->cmd, plan->act[plan->program->tensor_out].buffer,
                                  sink->buffer, h, rows);
    profile_mark(plan, plan->program->op_copy_out, 0);
    /* Later submissions (the application's too) see the copied words. */
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
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
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_ACCESS_TRANSFER_WRITE_BIT);
    plan->ctx->vk.vkCmdCopyBuffer(plan->cmd, src->buffer,
                                  plan->act[plan->program->tensor_in].buffer, r->h, plan->rows);
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    return QSR_OK;
}

qsr_status qsr__plan_run_body(qsr__plan *plan, const qsr__tile_geometry *g, uint32_t depth,
                              const qsr_image *in, double *gpu_ms) {
    upload_region(plan, &g->region, in);
    plan->gpu_ms = gpu_ms;
    qsr_status st = segment_begin(plan);
    if (st == QSR_OK) st = plan->program->record_lr(plan, g, depth);
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
    if (st == QSR_OK) st = plan->program->record_hr(plan, g);
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
    qsr__plan_barrier(plan, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                          VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    plan->cmd = VK_NULL_HANDLE;
}

qsr_status qsr__plan_record_body(qsr__plan *plan, VkCommandBuffer cmd, const qsr__tile_geometry *g,
                                 uint32_t depth, const qsr__tile_source *src) {
    plan->cmd = cmd; /* the recorders write into plan->cmd */
    qsr_status st = record_copy_from_source(plan, &g->region, src);
    if (st == QSR_OK) st = plan->program->record_lr(plan, g, depth);
    plan->cmd = VK_NULL_HANDLE;
    return st;
}

qsr_status qsr__plan_record_hr_tile(qsr__plan *plan, VkCommandBuffer cmd,
                                    const qsr__tile_geometry *g, const qsr__tile_sink *sink) {
    plan->cmd = cmd;
    qsr_status st = plan->program->record_hr(plan, g);
    if (st == QSR_OK) st = record_copy_to_buffer(plan, &g->tile, sink);
    plan->cmd = VK_NULL_HANDLE;
    return st;
}

int qsr__plan_take_nonfinite(qsr__plan *plan) {
    uint32_t *flags = (uint32_t *)plan->act[plan->program->tensor_status].mapped;
    if (!flags) return 0;
    int bad = flags[0] != 0;
    flags[0] = 0;
    return bad;
}
