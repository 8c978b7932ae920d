/* limits.c - the compute limits the kernels are fitted to, and the forced limits profiles
 * (qsr_context_desc.force_limits, QSR_FORCE_LIMITS) that make any device behave as a
 * mobile-class GPU, so that the paths such devices take are tested on lavapipe. */
#include "vk.h"

#include <stdlib.h>
#include <string.h>

/* The Vulkan minimums a mobile GPU may report (Vulkan 1.1 "Required Limits"). */
#define MOBILE_INVOCATIONS 128u
#define MOBILE_SIZE_XY     128u
#define MOBILE_SIZE_Z      64u
#define MOBILE_GROUPS      65535u
#define MOBILE_SHARED      16384u
#define MOBILE_TEXELS      65536u
#define MOBILE_STORAGE     (1u << 27)
#define MOBILE_PUSH        128u
/* A phone shares a few GiB between everything; 64 MiB of activations makes the runtime tile
 * images a desktop GPU runs whole. */
#define MOBILE_MEMORY (64ull << 20)

static uint32_t min_u32(uint32_t a, uint32_t b) {
    return a < b ? a : b;
}

/* Parses one "key=value" override of QSR_FORCE_LIMITS into f. */
static qsr_status parse_override(const char *item, size_t len, qsr__forced_limits *f) {
    static const char *const keys[] = {"invocations", "texels", "memory", "groups"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t n = strlen(keys[k]);
        if (len <= n + 1 || strncmp(item, keys[k], n) != 0 || item[n] != '=') continue;
        char digits[24];
        size_t dl = len - n - 1;
        if (dl >= sizeof digits) break;
        memcpy(digits, item + n + 1, dl);
        digits[dl] = '\0';
        char *end = NULL;
        unsigned long long v = strtoull(digits, &end, 10);
        if (!end || *end || v == 0 || v > 0xFFFFFFFFull) break;
        if (k == 0) f->invocations = (uint32_t)v;
        if (k == 1) f->texels = (uint32_t)v;
        if (k == 2) f->memory = v << 20;
        if (k == 3) f->groups = (uint32_t)v;
        f->active = 1;
        return QSR_OK;
    }
    return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                     "QSR_FORCE_LIMITS: cannot read \"%.*s\" (expected mobile, device, or "
                     "invocations=N, texels=N, memory=MIB, groups=N with N >= 1)",
                     (int)len, item);
}

static void mobile_preset(qsr__forced_limits *f) {
    f->active = 1;
    f->profile = QSR_LIMITS_MOBILE;
    f->invocations = MOBILE_INVOCATIONS;
    f->texels = MOBILE_TEXELS;
    f->memory = MOBILE_MEMORY;
    f->groups = MOBILE_GROUPS;
    f->no_small_types = 1;
}

qsr_status qsr__limits_resolve(qsr_limits_profile profile, const char *env,
                               qsr__forced_limits *out) {
    memset(out, 0, sizeof *out);
    if ((unsigned)profile > QSR_LIMITS_MOBILE)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "unknown limits profile %d", (int)profile);
    if (profile == QSR_LIMITS_MOBILE) mobile_preset(out);
    /* The environment's items apply in order, on top of the application's profile. */
    for (const char *s = env ? env : ""; *s;) {
        size_t len = strcspn(s, ",");
        if (len == 6 && strncmp(s, "mobile", 6) == 0) {
            mobile_preset(out);
        } else if (len == 6 && strncmp(s, "device", 6) == 0) {
            memset(out, 0, sizeof *out);
        } else if (len) {
            qsr_status st = parse_override(s, len, out);
            if (st != QSR_OK) return st;
        }
        s += len;
        if (*s == ',') s++;
    }
    return QSR_OK;
}

void qsr__limits_report(const VkPhysicalDeviceLimits *l, qsr_device_info *info) {
    info->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_size[i] = l->maxComputeWorkGroupSize[i];
        info->max_workgroup_count[i] = l->maxComputeWorkGroupCount[i];
    }
    info->max_shared_memory_bytes = l->maxComputeSharedMemorySize;
    info->max_texel_buffer_elements = l->maxTexelBufferElements;
    info->max_push_constant_bytes = l->maxPushConstantsSize;
    info->max_storage_buffer_range = l->maxStorageBufferRange;
}

void qsr__limits_force(const qsr__forced_limits *f, VkPhysicalDeviceLimits *limits,
                       qsr_device_info *info) {
    if (!f->active) return;
    /* Work on a copy when the caller has no limits to change (qsr_device_list). */
    VkPhysicalDeviceLimits local;
    VkPhysicalDeviceLimits *l = limits ? limits : &local;
    if (!limits) {
        memset(&local, 0, sizeof local);
        local.maxComputeWorkGroupInvocations = info->max_workgroup_invocations;
        for (int i = 0; i < 3; i++) {
            local.maxComputeWorkGroupSize[i] = info->max_workgroup_size[i];
            local.maxComputeWorkGroupCount[i] = info->max_workgroup_count[i];
        }
        local.maxComputeSharedMemorySize = info->max_shared_memory_bytes;
        local.maxTexelBufferElements = info->max_texel_buffer_elements;
        local.maxPushConstantsSize = info->max_push_constant_bytes;
        local.maxStorageBufferRange = (uint32_t)info->max_storage_buffer_range;
    }
    if (f->invocations) {
        l->maxComputeWorkGroupInvocations =
            min_u32(l->maxComputeWorkGroupInvocations, f->invocations);
        for (int i = 0; i < 3; i++)
            l->maxComputeWorkGroupSize[i] = min_u32(l->maxComputeWorkGroupSize[i], f->invocations);
    }
    if (f->groups)
        for (int i = 0; i < 3; i++)
            l->maxComputeWorkGroupCount[i] = min_u32(l->maxComputeWorkGroupCount[i], f->groups);
    if (f->texels) l->maxTexelBufferElements = min_u32(l->maxTexelBufferElements, f->texels);
    if (f->profile == QSR_LIMITS_MOBILE) {
        l->maxComputeWorkGroupSize[0] = min_u32(l->maxComputeWorkGroupSize[0], MOBILE_SIZE_XY);
        l->maxComputeWorkGroupSize[1] = min_u32(l->maxComputeWorkGroupSize[1], MOBILE_SIZE_XY);
        l->maxComputeWorkGroupSize[2] = min_u32(l->maxComputeWorkGroupSize[2], MOBILE_SIZE_Z);
        l->maxComputeSharedMemorySize = min_u32(l->maxComputeSharedMemorySize, MOBILE_SHARED);
        l->maxStorageBufferRange = min_u32(l->maxStorageBufferRange, MOBILE_STORAGE);
        l->maxPushConstantsSize = min_u32(l->maxPushConstantsSize, MOBILE_PUSH);
    }
    if (f->no_small_types) {
        info->shader_int8 = info->shader_int16 = info->shader_float16 = 0;
        info->storage_8bit = info->storage_16bit = 0;
    }
    qsr__limits_report(l, info);
    info->memory_budget_cap = f->memory;
    info->limits_forced = 1;
}
