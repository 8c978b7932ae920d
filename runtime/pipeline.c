/* pipeline.c - compute pipelines from the embedded SPIR-V table, descriptor sets and
 * checked dispatch recording. */
#include "vk.h"
#include "shader_table.h"

#include <string.h>

static VkDescriptorType binding_type(const qsr__pipeline_desc *desc, uint32_t i) {
    return ((desc->texel_mask | desc->texel4_mask) >> i) & 1u
               ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
               : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
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

qsr_status qsr__pipeline_create(qsr_context *ctx, const qsr__pipeline_desc *desc,
                                qsr__pipeline *out) {
    memset(out, 0, sizeof *out);
    if (desc->shader >= QSR_SHADER_COUNT || desc->binding_count > QSR__MAX_BINDINGS ||
        desc->spec_count > QSR__MAX_SPEC || desc->push_bytes > 128)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "bad pipeline description");
    out->desc = *desc;
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
    VkComputePipelineCreateInfo cpi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
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
    VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, sets * QSR__MAX_BINDINGS},
                                     {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, sets * 3}};
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = sets,
        .poolSizeCount = 2,
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
        if (type == VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER) {
            VkBufferView *view;
            qsr_status st = texel_view(ctx, buffers[i], (p->desc.texel4_mask >> i) & 1u, &view);
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
    if (groups_x > limit[0] || groups_y > limit[1] || groups_z > limit[2])
        return qsr__fail(QSR_ERROR_LIMIT, "%s: %ux%ux%u workgroups exceed the device limit",
                         qsr_shader_table[p->desc.shader].name, groups_x, groups_y, groups_z);
    if (groups_x == 0 || groups_y == 0 || groups_z == 0) return QSR_OK;
    ctx->vk.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    ctx->vk.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0,
                                    NULL);
    if (push_bytes)
        ctx->vk.vkCmdPushConstants(cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes,
                                   push);
    ctx->vk.vkCmdDispatch(cmd, groups_x, groups_y, groups_z);
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
