/* pipeline.c - compute pipelines from the embedded SPIR-V table, descriptor sets and
 * checked dispatch recording. */
#include "vk.h"
#include "ops/ops.h"
#include "shader_table.h"

#include <string.h>

static VkDescriptorType binding_type(const qsr__pipeline_desc *desc, uint32_t i) {
    if ((desc->image_mask >> i) & 1u) return VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
    return ((desc->texel_mask | desc->texel4_mask) >> i) & 1u
               ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
               : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
}

/* Bindings read or written through a buffer view, and those of them with 16-byte texels. */
static uint32_t view_mask(const qsr__pipeline_desc *desc) {
    return desc->texel_mask | desc->texel4_mask | desc->image_mask;
}
static int view_is_wide(const qsr__pipeline_desc *desc, uint32_t i) {
    return (int)((desc->texel4_mask >> i) & 1u);
}

/* Each texel-fetch kernel and its storage-buffer twin (the same source with
 * QSR_STORAGE_FETCH, shaders/shaders.cmake). */
static const uint32_t storage_twins[][2] = {
    {QSR_SHADER_CONV3X3_F32, QSR_SHADER_CONV3X3_F32_STORAGE},
    {QSR_SHADER_CONV3X3_F32_FAST, QSR_SHADER_CONV3X3_F32_FAST_STORAGE},
    {QSR_SHADER_CONV3X3_Q, QSR_SHADER_CONV3X3_Q_STORAGE},
    {QSR_SHADER_CONV3X3_Q2, QSR_SHADER_CONV3X3_Q2_STORAGE},
    {QSR_SHADER_CONV3X3_Q_DOT, QSR_SHADER_CONV3X3_Q_DOT_STORAGE},
    {QSR_SHADER_CONV3X3_Q_TILED, QSR_SHADER_CONV3X3_Q_TILED_STORAGE},
    {QSR_SHADER_LINEAR_Q, QSR_SHADER_LINEAR_Q_STORAGE},
    {QSR_SHADER_LAYERNORM_Q, QSR_SHADER_LAYERNORM_Q_STORAGE},
    {QSR_SHADER_WINDOW_ATTENTION, QSR_SHADER_WINDOW_ATTENTION_STORAGE},
    {QSR_SHADER_QUANTIZE_RLQ, QSR_SHADER_QUANTIZE_RLQ_STORAGE},
    {QSR_SHADER_UPSAMPLE_FOLDED, QSR_SHADER_UPSAMPLE_FOLDED_STORAGE},
};
#define TWIN_COUNT (sizeof storage_twins / sizeof storage_twins[0])

int qsr__pipeline_desc_storage(qsr__pipeline_desc *desc) {
    if (!view_mask(desc)) return 1;
    for (size_t i = 0; i < TWIN_COUNT; i++)
        if (desc->shader == storage_twins[i][0]) {
            desc->shader = storage_twins[i][1];
            desc->texel_mask = desc->texel4_mask = desc->image_mask = 0;
            return 1;
        }
    return 0;
}

int qsr__pipeline_desc_for_buffers(const qsr_context *ctx, qsr__pipeline_desc *desc,
                                   qsr__buffer *const *buffers) {
    for (uint32_t i = 0; i < desc->binding_count; i++) {
        if (((view_mask(desc) >> i) & 1u) &&
            buffers[i]->size > qsr__texel_buffer_max_bytes(ctx, view_is_wide(desc, i)))
            return qsr__pipeline_desc_storage(desc);
    }
    return 0;
}

uint32_t qsr__shader_texel_base(uint32_t shader) {
    for (size_t i = 0; i < TWIN_COUNT; i++)
        if (shader == storage_twins[i][1]) return storage_twins[i][0];
    return shader;
}

static uint64_t shared_bytes(const qsr__pipeline_desc *d, uint32_t x, uint32_t y) {
    return d->shared_base + (uint64_t)d->shared_halo * (x + 2) * (y + 2);
}

uint32_t qsr__row_lanes(const qsr_context *ctx) {
    uint32_t sub = ctx->info.subgroup_size, area = QSR__LOCAL_X * QSR__LOCAL_Y;
    int cpu = ctx->info.type == QSR_DEVICE_TYPE_CPU;
    return cpu && sub > QSR__LOCAL_X && sub <= area && area % sub == 0 ? sub : QSR__LOCAL_X;
}

qsr_status qsr__pipeline_fit(const qsr_context *ctx, qsr__pipeline_desc *desc) {
    const VkPhysicalDeviceLimits *l = &ctx->props.limits;
    uint32_t x = desc->local_x ? desc->local_x : 1, y = desc->local_y ? desc->local_y : 1;
    if (x == QSR__LOCAL_X && y == QSR__LOCAL_Y) { /* the per-pixel ops' preferred shape */
        x = qsr__row_lanes(ctx);
        y = QSR__LOCAL_X * QSR__LOCAL_Y / x;
    }
    while (x * y > l->maxComputeWorkGroupInvocations || x > l->maxComputeWorkGroupSize[0] ||
           y > l->maxComputeWorkGroupSize[1] ||
           shared_bytes(desc, x, y) > l->maxComputeSharedMemorySize) {
        if (x == 1 && y == 1)
            return qsr__fail(QSR_ERROR_UNSUPPORTED,
                             "%s: even a one-invocation workgroup exceeds the device's limits "
                             "(%llu bytes of shared memory, %u allowed)",
                             qsr_shader_table[desc->shader].name,
                             (unsigned long long)shared_bytes(desc, 1, 1),
                             l->maxComputeSharedMemorySize);
        if (x > l->maxComputeWorkGroupSize[0])
            x /= 2;
        else if (y > l->maxComputeWorkGroupSize[1])
            y /= 2;
        else if (y >= x)
            y /= 2;
        else
            x /= 2;
    }
    desc->local_x = x;
    desc->local_y = y;
    return QSR_OK;
}

/* Descriptor and push-constant limits a mobile GPU may set low: refused with a clear message
 * here rather than left to the driver. */
static qsr_status check_interface(const qsr_context *ctx, const qsr__pipeline_desc *desc) {
    const VkPhysicalDeviceLimits *l = &ctx->props.limits;
    uint32_t texel = 0, image = 0, storage = 0;
    for (uint32_t i = 0; i < desc->binding_count; i++) {
        VkDescriptorType type = binding_type(desc, i);
        if (type == VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER)
            image++;
        else if (type == VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER)
            texel++;
        else
            storage++;
    }
    const char *name = qsr_shader_table[desc->shader].name;
    if (desc->push_bytes > l->maxPushConstantsSize)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "%s needs %u push-constant bytes, the device allows %u", name,
                         desc->push_bytes, l->maxPushConstantsSize);
    if (storage > l->maxPerStageDescriptorStorageBuffers ||
        texel > l->maxPerStageDescriptorSampledImages ||
        image > l->maxPerStageDescriptorStorageImages ||
        storage + texel + image > l->maxPerStageResources)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "%s binds %u storage buffers, %u uniform and %u storage texel buffers; "
                         "the device allows %u, %u, %u and %u resources per stage",
                         name, storage, texel, image, l->maxPerStageDescriptorStorageBuffers,
                         l->maxPerStageDescriptorSampledImages,
                         l->maxPerStageDescriptorStorageImages, l->maxPerStageResources);
    return QSR_OK;
}

VkDeviceSize qsr__texel_buffer_max_bytes(const qsr_context *ctx, int wide) {
    return (VkDeviceSize)ctx->props.limits.maxTexelBufferElements * (wide ? 16u : 4u);
}

/* The buffer's texel view of 4- or 16-byte texels (whole texels), made once. */
static qsr_status texel_view(qsr_context *ctx, qsr__buffer *b, int wide, VkBufferView **out) {
    VkBufferView *view = wide ? &b->view4 : &b->view;
    *out = view;
    if (*view) return QSR_OK;
    VkDeviceSize texel = wide ? 16 : 4;
    /* A view shorter than the buffer would make fetches past it read 0: fail instead (tiles
     * are sized under this limit, qsr__texel_buffer_max_bytes). */
    if (b->size > qsr__texel_buffer_max_bytes(ctx, wide))
        return qsr__fail(QSR_ERROR_LIMIT,
                         "a buffer of %llu bytes exceeds the device's maxTexelBufferElements "
                         "(%u texels of %u bytes)",
                         (unsigned long long)b->size, ctx->props.limits.maxTexelBufferElements,
                         (unsigned)texel);
    VkDeviceSize range = b->size / texel * texel;
    VkBufferViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                 .buffer = b->buffer,
                                 .format = wide ? VK_FORMAT_R32G32B32A32_UINT : VK_FORMAT_R32_UINT,
                                 .offset = 0,
                                 .range = range ? range : texel};
    QSR__VK(ctx->vk.vkCreateBufferView(ctx->device, &vi, ctx->alloc, view));
    return QSR_OK;
}

#define SPV_MAGIC              0x07230203u
#define SPV_OP_DECORATE        71u
#define SPV_DECORATION_BINDING 33u

qsr_status qsr__spirv_bindings(const uint32_t *words, size_t bytes, uint32_t *mask) {
    size_t n = bytes / 4;
    if (n < 5 || words[0] != SPV_MAGIC)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "not a SPIR-V module");
    uint32_t found = 0;
    for (size_t i = 5; i < n;) {
        uint32_t count = words[i] >> 16, op = words[i] & 0xFFFFu;
        if (count == 0 || i + count > n)
            return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "malformed SPIR-V instruction at word %zu",
                             i);
        /* OpDecorate target Binding n */
        if (op == SPV_OP_DECORATE && count == 4 && words[i + 2] == SPV_DECORATION_BINDING) {
            if (words[i + 3] >= 32)
                return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "SPIR-V binding %u past 31",
                                 words[i + 3]);
            found |= 1u << words[i + 3];
        }
        i += count;
    }
    *mask = found;
    return QSR_OK;
}

qsr_status qsr__pipeline_check_bindings(const qsr__pipeline_desc *desc) {
    const qsr_shader_blob *blob = &qsr_shader_table[desc->shader];
    uint32_t declared = 0;
    qsr_status st = qsr__spirv_bindings(blob->words, blob->bytes, &declared);
    if (st != QSR_OK) return qsr__fail_context(st, "internal error: shader %s", blob->name);
    uint32_t expected = desc->binding_count >= 32 ? ~0u : (1u << desc->binding_count) - 1u;
    if (declared != expected)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "internal error: shader %s declares bindings 0x%x, its C description "
                         "%u (0x%x)",
                         blob->name, declared, desc->binding_count, expected);
    return QSR_OK;
}

qsr_status qsr__pipeline_create(qsr_context *ctx, const qsr__pipeline_desc *desc,
                                qsr__pipeline *out) {
    memset(out, 0, sizeof *out);
    if (desc->shader >= QSR_SHADER_COUNT || desc->binding_count > QSR__MAX_BINDINGS ||
        desc->spec_count > QSR__MAX_SPEC || desc->push_bytes > 128)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "bad pipeline description");
    qsr_status declared = qsr__pipeline_check_bindings(desc);
    if (declared != QSR_OK) return declared;
    out->desc = *desc;
    qsr_status fitted = qsr__pipeline_fit(ctx, &out->desc);
    if (fitted == QSR_OK) fitted = check_interface(ctx, &out->desc);
    if (fitted != QSR_OK) return fitted;
    desc = &out->desc;
    const qsr_shader_blob *blob = &qsr_shader_table[desc->shader];

    VkDescriptorSetLayoutBinding bindings[QSR__MAX_BINDINGS];
    for (uint32_t i = 0; i < desc->binding_count; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = binding_type(desc, i),
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo sli = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = desc->binding_count,
        .pBindings = bindings,
    };
    QSR__VK(ctx->vk.vkCreateDescriptorSetLayout(ctx->device, &sli, ctx->alloc, &out->set_layout));
    VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, desc->push_bytes};
    VkPipelineLayoutCreateInfo pli = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &out->set_layout,
        .pushConstantRangeCount = desc->push_bytes ? 1u : 0u,
        .pPushConstantRanges = &range,
    };
    VkResult r = ctx->vk.vkCreatePipelineLayout(ctx->device, &pli, ctx->alloc, &out->layout);
    if (r != VK_SUCCESS) {
        qsr__pipeline_destroy(ctx, out);
        return qsr__vk_fail(r, "vkCreatePipelineLayout");
    }

    VkShaderModuleCreateInfo smi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = blob->bytes,
        .pCode = blob->words,
    };
    VkShaderModule module;
    r = ctx->vk.vkCreateShaderModule(ctx->device, &smi, ctx->alloc, &module);
    if (r != VK_SUCCESS) {
        qsr__pipeline_destroy(ctx, out);
        return qsr__vk_fail(r, "vkCreateShaderModule");
    }
    /* Spec constants: ids 0..n-1 carry the op's shape; 100/101 the workgroup size. */
    int32_t values[QSR__MAX_SPEC + 2];
    VkSpecializationMapEntry entries[QSR__MAX_SPEC + 2];
    uint32_t n = 0;
    for (uint32_t i = 0; i < desc->spec_count; i++, n++) {
        values[n] = desc->spec[i];
        entries[n] = (VkSpecializationMapEntry){i, n * 4, 4};
    }
    values[n] = (int32_t)(desc->local_x ? desc->local_x : 1);
    entries[n] = (VkSpecializationMapEntry){100, n * 4, 4};
    n++;
    values[n] = (int32_t)(desc->local_y ? desc->local_y : 1);
    entries[n] = (VkSpecializationMapEntry){101, n * 4, 4};
    n++;
    VkSpecializationInfo spec = {n, entries, n * 4, values};
    /* Dispatches beyond maxComputeWorkGroupCount are split with a base group (vk.h). */
    const uint32_t *count = ctx->props.limits.maxComputeWorkGroupCount;
    out->dispatch_base = count[0] < 65535u || count[1] < 65535u || count[2] < 65535u;
    VkComputePipelineCreateInfo cpi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .flags = out->dispatch_base ? VK_PIPELINE_CREATE_DISPATCH_BASE_BIT : 0u,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = module,
                  .pName = "main",
                  .pSpecializationInfo = &spec},
        .layout = out->layout,
    };
    r = ctx->vk.vkCreateComputePipelines(ctx->device, ctx->pipelines.cache, 1, &cpi, ctx->alloc,
                                         &out->pipeline);
    ctx->vk.vkDestroyShaderModule(ctx->device, module, ctx->alloc);
    if (r == VK_SUCCESS) ctx->pipelines.stats.pipelines_created++;
    if (r != VK_SUCCESS) {
        qsr__pipeline_destroy(ctx, out);
        return qsr__fail_context(qsr__vk_fail(r, "vkCreateComputePipelines"), "shader %s",
                                 blob->name);
    }
    return QSR_OK;
}

void qsr__pipeline_destroy(qsr_context *ctx, qsr__pipeline *p) {
    if (!p) return;
    if (p->pipeline) ctx->vk.vkDestroyPipeline(ctx->device, p->pipeline, ctx->alloc);
    if (p->layout) ctx->vk.vkDestroyPipelineLayout(ctx->device, p->layout, ctx->alloc);
    if (p->set_layout) ctx->vk.vkDestroyDescriptorSetLayout(ctx->device, p->set_layout, ctx->alloc);
    memset(p, 0, sizeof *p);
}

qsr_status qsr__descriptor_pool_create(qsr_context *ctx, uint32_t sets, VkDescriptorPool *out) {
    VkDescriptorPoolSize sizes[3] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, sets * QSR__MAX_BINDINGS},
        {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, sets * QSR__MAX_BINDINGS},
        {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, sets * QSR__MAX_BINDINGS}};
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = sets,
        .poolSizeCount = 3,
        .pPoolSizes = sizes,
    };
    QSR__VK(ctx->vk.vkCreateDescriptorPool(ctx->device, &info, ctx->alloc, out));
    return QSR_OK;
}

qsr_status qsr__descriptor_set_create(qsr_context *ctx, VkDescriptorPool pool,
                                      const qsr__pipeline *p, qsr__buffer *const *buffers,
                                      VkDescriptorSet *out) {
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &p->set_layout,
    };
    QSR__VK(ctx->vk.vkAllocateDescriptorSets(ctx->device, &ai, out));
    VkDescriptorBufferInfo infos[QSR__MAX_BINDINGS];
    VkWriteDescriptorSet writes[QSR__MAX_BINDINGS];
    for (uint32_t i = 0; i < p->desc.binding_count; i++) {
        VkDescriptorType type = binding_type(&p->desc, i);
        infos[i] = (VkDescriptorBufferInfo){buffers[i]->buffer, 0, VK_WHOLE_SIZE};
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = *out,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = type,
            .pBufferInfo = &infos[i],
        };
        if (type != VK_DESCRIPTOR_TYPE_STORAGE_BUFFER) {
            VkBufferView *view;
            qsr_status st = texel_view(ctx, buffers[i], view_is_wide(&p->desc, i), &view);
            if (st != QSR_OK) return st;
            writes[i].pBufferInfo = NULL;
            writes[i].pTexelBufferView = view;
        }
    }
    ctx->vk.vkUpdateDescriptorSets(ctx->device, p->desc.binding_count, writes, 0, NULL);
    return QSR_OK;
}

qsr_status qsr__record_dispatch(qsr_context *ctx, VkCommandBuffer cmd, const qsr__pipeline *p,
                                VkDescriptorSet set, const void *push, uint32_t push_bytes,
                                uint32_t groups_x, uint32_t groups_y, uint32_t groups_z) {
    const uint32_t *limit = ctx->props.limits.maxComputeWorkGroupCount;
    if (push_bytes != p->desc.push_bytes)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "%s: %u push-constant bytes, pipeline has %u",
                         qsr_shader_table[p->desc.shader].name, push_bytes, p->desc.push_bytes);
    if (groups_x == 0 || groups_y == 0 || groups_z == 0) return QSR_OK;
    int split = groups_x > limit[0] || groups_y > limit[1] || groups_z > limit[2];
    if (split && (!p->dispatch_base || !ctx->vk.vkCmdDispatchBase))
        return qsr__fail(QSR_ERROR_LIMIT,
                         "%s: %ux%ux%u workgroups exceed the device limit (%ux%ux%u) and "
                         "cannot be split",
                         qsr_shader_table[p->desc.shader].name, groups_x, groups_y, groups_z,
                         limit[0], limit[1], limit[2]);
    ctx->vk.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    ctx->vk.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0,
                                    NULL);
    if (push_bytes)
        ctx->vk.vkCmdPushConstants(cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes,
                                   push);
    if (!split) {
        ctx->vk.vkCmdDispatch(cmd, groups_x, groups_y, groups_z);
    } else {
        /* Chunks of at most the limit per dimension; every chunk writes disjoint outputs. */
        for (uint32_t z = 0; z < groups_z; z += limit[2])
            for (uint32_t y = 0; y < groups_y; y += limit[1])
                for (uint32_t x = 0; x < groups_x; x += limit[0])
                    ctx->vk.vkCmdDispatchBase(cmd, x, y, z,
                                              groups_x - x < limit[0] ? groups_x - x : limit[0],
                                              groups_y - y < limit[1] ? groups_y - y : limit[1],
                                              groups_z - z < limit[2] ? groups_z - z : limit[2]);
    }
    /* One full compute->compute barrier between dependent dispatches (ggml's rule); per-buffer
     * tracking can replace it once plans overlap independent work. */
    VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
    };
    ctx->vk.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &barrier, 0, NULL, 0,
                                 NULL);
    return QSR_OK;
}
