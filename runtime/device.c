/* device.c - Vulkan instance, device choice, feature detection and the context. */
#include "vk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QSR__VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

qsr_status qsr__vk_fail(VkResult result, const char *call) {
    qsr_status status = QSR_ERROR_VULKAN;
    const char *what = "failed";
    switch (result) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
        status = QSR_ERROR_OUT_OF_HOST_MEMORY;
        what = "ran out of host memory";
        break;
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        status = QSR_ERROR_OUT_OF_DEVICE_MEMORY;
        what = "ran out of device memory";
        break;
    case VK_ERROR_DEVICE_LOST:
        status = QSR_ERROR_DEVICE_LOST;
        what = "lost the device";
        break;
    case VK_ERROR_INITIALIZATION_FAILED:
    case VK_ERROR_INCOMPATIBLE_DRIVER:
        status = QSR_ERROR_NO_DEVICE;
        what = "found no usable driver";
        break;
    default:
        break;
    }
    return qsr__fail(status, "%s %s (VkResult %d)", call, what, (int)result);
}

int qsr__env_int(const char *name, int fallback) {
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    return (end && *end == '\0') ? (int)n : fallback;
}

const char *qsr_device_type_name(qsr_device_type type) {
    switch (type) {
    case QSR_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated GPU";
    case QSR_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete GPU";
    case QSR_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual GPU";
    case QSR_DEVICE_TYPE_CPU:
        return "CPU";
    default:
        return "other";
    }
}

static qsr_status load_vulkan(void) {
    /* volkInitialize only resolves the loader's entry points; calling it again is harmless. */
    if (volkInitialize() != VK_SUCCESS)
        return qsr__fail(QSR_ERROR_NO_DEVICE, "no Vulkan loader found (libvulkan.so.1); install "
                                              "a Vulkan driver, e.g. mesa-vulkan-drivers");
    return QSR_OK;
}

static int has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *layers = calloc(n, sizeof *layers);
    if (!layers) return 0;
    int found = 0;
    if (vkEnumerateInstanceLayerProperties(&n, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            found |= strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

/* MoltenVK (macOS, iOS) is a portability implementation: Vulkan loaders since 1.3.216 list it
 * only to an instance created with VK_KHR_portability_enumeration and the enumerate-portability
 * flag, and a device that offers VK_KHR_portability_subset must have it enabled. The names are
 * spelled out because older headers (Android NDKs) lack the first and keep the second in
 * vulkan_beta.h. */
#define QSR__PORTABILITY_ENUMERATION "VK_KHR_portability_enumeration"
#define QSR__PORTABILITY_SUBSET      "VK_KHR_portability_subset"
/* VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR */
#define QSR__CREATE_ENUMERATE_PORTABILITY 0x00000001u

static int has_instance_extension(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *ext = calloc(n, sizeof *ext);
    if (!ext) return 0;
    int found = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, ext) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            found |= strcmp(ext[i].extensionName, name) == 0;
    free(ext);
    return found;
}

static int listed_name(const char *const *names, uint32_t count, const char *name) {
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return 1;
    return 0;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    qsr_context *ctx = (qsr_context *)user;
    int is_error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    const char *text = data && data->pMessage ? data->pMessage : "";
    /* Messages of the general type alone come from the loader, not the validation layer: on a
     * multiarch system it reports every driver manifest of another architecture it cannot
     * load. They say nothing about this program's use of Vulkan, so they are neither printed
     * nor counted (VK_LOADER_DEBUG=all shows them to whoever debugs the loader). */
    if (!(types & (VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)))
        return VK_FALSE;
    if (ctx) ctx->validation_messages++;
    fprintf(stderr, "quantsr: vulkan validation (%s): %s\n", is_error ? "error" : "warning", text);
    if (ctx && ctx->desc.on_validation_message)
        ctx->desc.on_validation_message(ctx->desc.validation_user, is_error, text);
    return VK_FALSE;
}

/* The debug-utils extension (with validation), the application's extensions, and portability
 * enumeration where the loader has it (*portability = 1 then). */
static qsr_status instance_extensions(int validation, const qsr_context_desc *d, const char ***out,
                                      uint32_t *count, int *portability) {
    uint32_t extra = d ? d->instance_extension_count : 0;
    if (extra && !d->instance_extensions)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "instance_extension_count is %u but "
                         "instance_extensions is NULL",
                         extra);
    const char **list = calloc((size_t)extra + 2, sizeof *list);
    if (!list) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "instance extension list");
    uint32_t n = 0;
    if (validation) list[n++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    for (uint32_t i = 0; i < extra; i++) {
        if (!d->instance_extensions[i]) {
            free(list);
            return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "instance_extensions[%u] is NULL", i);
        }
        list[n++] = d->instance_extensions[i];
    }
    *portability = has_instance_extension(QSR__PORTABILITY_ENUMERATION);
    if (*portability && !listed_name(list, n, QSR__PORTABILITY_ENUMERATION))
        list[n++] = QSR__PORTABILITY_ENUMERATION;
    *out = list;
    *count = n;
    return QSR_OK;
}

/* d: the application's requests (NULL for none); ctx receives validation messages (may be
 * NULL for a throwaway instance). */
static qsr_status create_instance(int validation, const qsr_context_desc *d, qsr_context *ctx,
                                  VkInstance *out) {
    const char *layers[1] = {QSR__VALIDATION_LAYER};
    if (validation && !has_layer(QSR__VALIDATION_LAYER))
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "validation was asked for but %s is not installed "
                         "(Debian: vulkan-validationlayers)",
                         QSR__VALIDATION_LAYER);
    const char **extensions = NULL;
    uint32_t extension_count = 0;
    int portability = 0;
    qsr_status st = instance_extensions(validation, d, &extensions, &extension_count, &portability);
    if (st != QSR_OK) return st;
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "quantsr",
        .pEngineName = "quantsr",
        .engineVersion = VK_MAKE_VERSION(QSR_VERSION_MAJOR, QSR_VERSION_MINOR, QSR_VERSION_PATCH),
        .apiVersion = VK_API_VERSION_1_1,
    };
    /* Synchronization validation catches missing barriers between dispatches. */
    VkValidationFeatureEnableEXT enables[1] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = &features,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation_message,
        .pUserData = ctx,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validation ? &messenger : NULL,
        .flags = portability ? QSR__CREATE_ENUMERATE_PORTABILITY : 0u,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1u : 0u,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = extension_count,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult r = vkCreateInstance(&info, NULL, out);
    free(extensions);
    if (r == VK_ERROR_EXTENSION_NOT_PRESENT)
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "vkCreateInstance: an instance extension the "
                                                "application asked for is not available");
    if (r != VK_SUCCESS) return qsr__vk_fail(r, "vkCreateInstance");
    if (ctx) ctx->api_version = app.apiVersion;
    volkLoadInstanceOnly(*out);
    if (validation && ctx) {
        messenger.pNext = NULL; /* the validation features belong to the instance only */
        r = vkCreateDebugUtilsMessengerEXT(*out, &messenger, NULL, &ctx->messenger);
        if (r != VK_SUCCESS) {
            vkDestroyInstance(*out, NULL);
            return qsr__vk_fail(r, "vkCreateDebugUtilsMessengerEXT");
        }
    }
    return QSR_OK;
}

static int device_has_extension(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS) return 0;
    VkExtensionProperties *ext = calloc(n ? n : 1, sizeof *ext);
    if (!ext) return 0;
    int found = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, ext) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            found |= strcmp(ext[i].extensionName, name) == 0;
    free(ext);
    return found;
}

static qsr_device_type map_type(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return QSR_DEVICE_TYPE_INTEGRATED_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return QSR_DEVICE_TYPE_DISCRETE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return QSR_DEVICE_TYPE_VIRTUAL_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return QSR_DEVICE_TYPE_CPU;
    default:
        return QSR_DEVICE_TYPE_OTHER;
    }
}

/* Fills the feature report of one device. Features are queried through the extension
 * structs so a Vulkan 1.1 device without them simply reports 0. */
static void describe_device(VkPhysicalDevice pd, uint32_t index, qsr_device_info *info) {
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(pd, &props);
    info->index = index;
    snprintf(info->name, sizeof info->name, "%s", props.deviceName);
    info->type = map_type(props.deviceType);
    info->vendor_id = props.vendorID;
    info->device_id = props.deviceID;
    info->api_version = props.apiVersion;
    info->max_storage_buffer_range = props.limits.maxStorageBufferRange;

    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (uint32_t i = 0; i < mem.memoryHeapCount; i++)
        if ((mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            mem.memoryHeaps[i].size > info->device_local_bytes)
            info->device_local_bytes = mem.memoryHeaps[i].size;

    int has_1_2 = props.apiVersion >= VK_API_VERSION_1_2;
    int has_idot_ext = props.apiVersion >= VK_API_VERSION_1_3 ||
                       device_has_extension(pd, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    int has_f16i8 = has_1_2 || device_has_extension(pd, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
    int has_8bit = has_1_2 || device_has_extension(pd, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);

    VkPhysicalDeviceShaderIntegerDotProductFeatures idot = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16i8 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice8BitStorageFeatures s8 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    void *chain = &s16;
    if (has_8bit) s8.pNext = chain, chain = &s8;
    if (has_f16i8) f16i8.pNext = chain, chain = &f16i8;
    if (has_idot_ext) idot.pNext = chain, chain = &idot;
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                          .pNext = chain};
    vkGetPhysicalDeviceFeatures2(pd, &features);
    info->storage_16bit = s16.storageBuffer16BitAccess != 0;
    info->storage_8bit = s8.storageBuffer8BitAccess != 0;
    info->shader_int8 = f16i8.shaderInt8 != 0;
    info->shader_float16 = f16i8.shaderFloat16 != 0;
    info->integer_dot_product = idot.shaderIntegerDotProduct != 0;
    info->shader_int16 = features.features.shaderInt16 != 0;
    qsr__limits_report(&props.limits, info);

    VkPhysicalDeviceShaderIntegerDotProductProperties idot_props = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
        .pNext = has_idot_ext ? &idot_props : NULL};
    VkPhysicalDeviceProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                          .pNext = &subgroup};
    vkGetPhysicalDeviceProperties2(pd, &props2);
    info->subgroup_size = subgroup.subgroupSize;
    info->integer_dot_product_accelerated =
        info->integer_dot_product && idot_props.integerDotProduct4x8BitPackedSignedAccelerated;
}

static qsr_status enumerate(VkInstance instance, VkPhysicalDevice **out, uint32_t *count) {
    uint32_t n = 0;
    QSR__VK(vkEnumeratePhysicalDevices(instance, &n, NULL));
    if (n == 0) {
        *out = NULL;
        *count = 0;
        return QSR_OK;
    }
    VkPhysicalDevice *list = calloc(n, sizeof *list);
    if (!list) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "device list");
    VkResult r = vkEnumeratePhysicalDevices(instance, &n, list);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(list);
        return qsr__vk_fail(r, "vkEnumeratePhysicalDevices");
    }
    *out = list;
    *count = n;
    return QSR_OK;
}

qsr_status qsr_device_list(qsr_device_info *infos, uint32_t *count) {
    if (!count) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_device_list: count is NULL");
    qsr_status st = load_vulkan();
    if (st != QSR_OK) return st;
    VkInstance instance;
    st = create_instance(0, NULL, NULL, &instance);
    if (st != QSR_OK) return st;
    VkPhysicalDevice *list = NULL;
    uint32_t n = 0;
    qsr__forced_limits forced;
    st = qsr__limits_resolve(QSR_LIMITS_DEVICE, getenv("QSR_FORCE_LIMITS"), &forced);
    if (st == QSR_OK) st = enumerate(instance, &list, &n);
    if (st == QSR_OK) {
        for (uint32_t i = 0; infos && i < n && i < *count; i++) {
            describe_device(list[i], i, &infos[i]);
            qsr__limits_force(&forced, NULL, &infos[i]);
        }
        *count = n;
    }
    free(list);
    vkDestroyInstance(instance, NULL);
    return st;
}

/* Discrete > integrated > virtual > other > CPU, as ncnn and ggml order them. */
static int type_rank(qsr_device_type t) {
    switch (t) {
    case QSR_DEVICE_TYPE_DISCRETE_GPU:
        return 4;
    case QSR_DEVICE_TYPE_INTEGRATED_GPU:
        return 3;
    case QSR_DEVICE_TYPE_VIRTUAL_GPU:
        return 2;
    case QSR_DEVICE_TYPE_OTHER:
        return 1;
    default:
        return 0;
    }
}

static int find_compute_queue(VkPhysicalDevice pd, uint32_t *family, uint32_t *ts_bits) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    /* Prefer a compute queue that also does graphics: it is the one with timestamps on
     * every driver we know of; a dedicated compute queue would do as well. */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++) {
            int compute = (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0;
            int graphics = (q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) != 0;
            if (compute && (pass == 1 || graphics)) {
                *family = i;
                *ts_bits = q[i].timestampValidBits;
                return 1;
            }
        }
    return 0;
}

/* The first device extension the application asked for that `pd` lacks, or NULL. */
static const char *missing_extension(const qsr_context *ctx, VkPhysicalDevice pd) {
    for (uint32_t i = 0; i < ctx->device_extension_count; i++)
        if (!device_has_extension(pd, ctx->device_extensions[i])) return ctx->device_extensions[i];
    return NULL;
}

/* The context's physical device, its feature report (index: its place in the instance's
 * list), properties and memory types. */
static void adopt_physical_device(qsr_context *ctx, VkPhysicalDevice pd, uint32_t index) {
    ctx->physical = pd;
    describe_device(pd, index, &ctx->info);
    vkGetPhysicalDeviceProperties(pd, &ctx->props);
    qsr__limits_force(&ctx->forced, &ctx->props.limits, &ctx->info);
    vkGetPhysicalDeviceMemoryProperties(pd, &ctx->memory);
}

static qsr_status pick_device(qsr_context *ctx, int32_t requested) {
    VkPhysicalDevice *list = NULL;
    uint32_t n = 0;
    qsr_status st = enumerate(ctx->instance, &list, &n);
    if (st != QSR_OK) return st;
    if (n == 0) {
        free(list);
        return qsr__fail(QSR_ERROR_NO_DEVICE, "no Vulkan device found (for a CPU fallback "
                                              "install lavapipe: mesa-vulkan-drivers)");
    }
    int chosen = -1;
    if (requested >= 0) {
        if ((uint32_t)requested >= n) {
            free(list);
            return qsr__fail(QSR_ERROR_NO_DEVICE,
                             "device %d asked for, but only %u device(s) "
                             "exist (see `quantsr devices`)",
                             requested, n);
        }
        chosen = requested;
        const char *missing = missing_extension(ctx, list[chosen]);
        if (missing) {
            free(list);
            return qsr__fail(QSR_ERROR_UNSUPPORTED, "device %d lacks the extension %s",
                             requested + 1, missing);
        }
    } else {
        int best = -1;
        for (uint32_t i = 0; i < n; i++) {
            qsr_device_info info;
            describe_device(list[i], i, &info);
            uint32_t fam, bits;
            if (!find_compute_queue(list[i], &fam, &bits) || missing_extension(ctx, list[i]))
                continue;
            if (type_rank(info.type) > best) best = type_rank(info.type), chosen = (int)i;
        }
    }
    if (chosen < 0) {
        free(list);
        return qsr__fail(QSR_ERROR_NO_DEVICE, ctx->device_extension_count
                                                  ? "no Vulkan device has a compute queue and "
                                                    "the requested device extensions"
                                                  : "no Vulkan device has a compute queue");
    }
    VkPhysicalDevice pd = list[chosen];
    free(list);
    adopt_physical_device(ctx, pd, (uint32_t)chosen);
    uint32_t ts_bits = 0;
    if (!find_compute_queue(ctx->physical, &ctx->queue_family, &ts_bits))
        return qsr__fail(QSR_ERROR_NO_DEVICE, "device %s has no compute queue", ctx->info.name);
    ctx->timestamp_period_ns = ts_bits ? ctx->props.limits.timestampPeriod : 0.0f;
    return QSR_OK;
}

static qsr_status create_command_pool(qsr_context *ctx);

static qsr_status create_device(qsr_context *ctx) {
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    /* The packed dot product (conv3x3_q_dot) where the device has it: a Vulkan 1.3 feature, an
     * extension before (the instance's version counts too: it may be older than the device). */
    const char **extensions = calloc(ctx->device_extension_count + 2, sizeof *extensions);
    if (!extensions) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "device extensions");
    uint32_t extension_count = 0;
    int listed = 0;
    for (uint32_t i = 0; i < ctx->device_extension_count; i++) {
        extensions[extension_count++] = ctx->device_extensions[i];
        listed |= strcmp(ctx->device_extensions[i],
                         VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME) == 0;
    }
    VkPhysicalDeviceShaderIntegerDotProductFeatures idot = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES,
        .shaderIntegerDotProduct = VK_TRUE};
    int dot = ctx->info.integer_dot_product;
    uint32_t version =
        ctx->props.apiVersion < ctx->api_version ? ctx->props.apiVersion : ctx->api_version;
    if (dot && version < VK_API_VERSION_1_3 && !listed)
        extensions[extension_count++] = VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME;
    if (device_has_extension(ctx->physical, QSR__PORTABILITY_SUBSET) &&
        !listed_name(extensions, extension_count, QSR__PORTABILITY_SUBSET))
        extensions[extension_count++] = QSR__PORTABILITY_SUBSET;
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = dot ? &idot : NULL,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = extension_count,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult r = vkCreateDevice(ctx->physical, &info, NULL, &ctx->device);
    free(extensions);
    if (r != VK_SUCCESS) return qsr__vk_fail(r, "vkCreateDevice");
    volkLoadDeviceTable(&ctx->vk, ctx->device);
    ctx->vk.vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    return create_command_pool(ctx);
}

/* The pool of the runtime's own command buffers (weight uploads, qsr_upscaler_run). */
static qsr_status create_command_pool(qsr_context *ctx) {
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = ctx->queue_family,
    };
    QSR__VK(ctx->vk.vkCreateCommandPool(ctx->device, &pool, ctx->alloc, &ctx->command_pool));
    return QSR_OK;
}

void qsr__device_wait_idle(qsr_context *ctx) {
    if (ctx->desc.queue_lock) ctx->desc.queue_lock(ctx->desc.queue_lock_user, 1);
    if (ctx->external)
        ctx->vk.vkQueueWaitIdle(ctx->queue);
    else
        ctx->vk.vkDeviceWaitIdle(ctx->device);
    if (ctx->desc.queue_lock) ctx->desc.queue_lock(ctx->desc.queue_lock_user, 0);
}

static void destroy_device(qsr_context *ctx) {
    if (!ctx->device) return;
    qsr__device_wait_idle(ctx);
    qsr__pipeline_store_close(ctx);
    if (ctx->command_pool) ctx->vk.vkDestroyCommandPool(ctx->device, ctx->command_pool, ctx->alloc);
    if (!ctx->external) ctx->vk.vkDestroyDevice(ctx->device, NULL);
    ctx->command_pool = VK_NULL_HANDLE;
    ctx->device = VK_NULL_HANDLE;
}

void qsr__context_add_user(qsr_context *ctx, qsr__device_user *user) {
    user->next = ctx->users;
    ctx->users = user;
}

void qsr__context_remove_user(qsr_context *ctx, qsr__device_user *user) {
    for (qsr__device_user **at = &ctx->users; *at; at = &(*at)->next)
        if (*at == user) {
            *at = user->next;
            return;
        }
}

qsr_status qsr__context_reset_device(qsr_context *ctx) {
    if (ctx->external)
        return qsr__fail(QSR_ERROR_DEVICE_LOST,
                         "the application's device %s was lost; quantsr cannot recreate a device "
                         "it does not own: destroy the upscalers and the context, recreate the "
                         "device, then them",
                         ctx->info.name);
    /* Other upscalers of this context still hold objects of the old device. */
    for (qsr__device_user *user = ctx->users; user; user = user->next)
        user->release(user);
    destroy_device(ctx);
    ctx->generation++;
    qsr_status st = create_device(ctx);
    if (st != QSR_OK) return qsr__fail_context(st, "recreating the lost device %s", ctx->info.name);
    qsr__pipeline_store_open(ctx);
    return QSR_OK;
}

VkResult qsr__queue_submit(qsr_context *ctx, const VkSubmitInfo *submit, VkFence fence) {
    if (qsr__fault_hit(&ctx->faults, QSR__FAULT_LOST)) return VK_ERROR_DEVICE_LOST;
    if (qsr__fault_hit(&ctx->faults, QSR__FAULT_SUBMIT)) return VK_ERROR_UNKNOWN;
    if (ctx->desc.queue_lock) ctx->desc.queue_lock(ctx->desc.queue_lock_user, 1);
    VkResult r = ctx->vk.vkQueueSubmit(ctx->queue, 1, submit, fence);
    if (ctx->desc.queue_lock) ctx->desc.queue_lock(ctx->desc.queue_lock_user, 0);
    return r;
}

/* Keeps private copies of the application's device extension names (the desc's arrays need
 * not outlive qsr_context_create, and a lost device is recreated with the same list). */
static qsr_status copy_device_extensions(qsr_context *ctx, const qsr_context_desc *d) {
    if (d->device_extension_count && !d->device_extensions)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "device_extension_count is %u but device_extensions is NULL",
                         d->device_extension_count);
    if (!d->device_extension_count) return QSR_OK;
    ctx->device_extensions = calloc(d->device_extension_count, sizeof(char *));
    if (!ctx->device_extensions) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "extension list");
    for (uint32_t i = 0; i < d->device_extension_count; i++) {
        const char *name = d->device_extensions[i];
        if (!name) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "device_extensions[%u] is NULL", i);
        size_t len = strlen(name) + 1;
        ctx->device_extensions[i] = malloc(len);
        if (!ctx->device_extensions[i])
            return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "extension name");
        memcpy(ctx->device_extensions[i], name, len);
        ctx->device_extension_count = i + 1;
    }
    return QSR_OK;
}

qsr_status qsr_context_create(const qsr_context_desc *desc, qsr_context **out) {
    if (!out) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_context_create: out is NULL");
    qsr_context_desc d = desc ? *desc : (qsr_context_desc){0};
    int validation = d.validation || qsr__env_int("QSR_VALIDATION", 0) > 0;
    /* device: 0 = automatic (or QSR_DEVICE=N), N = index N - 1. */
    int32_t number = d.device > 0 ? d.device : qsr__env_int("QSR_DEVICE", 0);
    int32_t requested = number > 0 ? number - 1 : -1;

    qsr_status st = load_vulkan();
    if (st != QSR_OK) return st;
    qsr_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "context");
    qsr__faults_parse(&ctx->faults, getenv("QSR_FAULT"));
    ctx->desc = d;
    ctx->desc.instance_extensions = NULL;
    ctx->desc.device_extensions = NULL;
    ctx->desc.pipeline_cache_dir = NULL; /* resolved into ctx->pipelines.path */
    st = qsr__limits_resolve(d.force_limits, getenv("QSR_FORCE_LIMITS"), &ctx->forced);
    if (st == QSR_OK) st = copy_device_extensions(ctx, &d);
    if (st == QSR_OK) st = create_instance(validation, &d, ctx, &ctx->instance);
    if (st == QSR_OK) st = pick_device(ctx, requested);
    if (st == QSR_OK) st = qsr__pipeline_store_init(ctx, d.pipeline_cache_dir);
    if (st == QSR_OK) st = create_device(ctx);
    if (st != QSR_OK) {
        qsr_context_destroy(ctx);
        return st;
    }
    ctx->get_instance_proc_addr = vkGetInstanceProcAddr;
    qsr__pipeline_store_open(ctx);
    *out = ctx;
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * A context on the application's instance and device (qsr_context_create_external)
 */

/* The desc fields that ask the runtime to make its own instance or device cannot apply. */
static qsr_status check_external_desc(const qsr_context_desc *d) {
    const char *field = d->device                     ? "device"
                        : d->validation               ? "validation"
                        : d->on_validation_message    ? "on_validation_message"
                        : d->instance_extension_count ? "instance_extension_count"
                        : d->device_extension_count   ? "device_extension_count"
                                                      : NULL;
    if (field)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "qsr_context_create_external: desc->%s must be 0: the application made "
                         "the instance and device (enable layers and extensions there)",
                         field);
    return QSR_OK;
}

static qsr_status check_external_handles(const qsr_vulkan_external *e) {
    const char *missing = !e->instance          ? "instance"
                          : !e->physical_device ? "physical_device"
                          : !e->device          ? "device"
                          : !e->queue           ? "queue"
                                                : NULL;
    if (missing)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_context_create_external: %s is NULL",
                         missing);
    if (e->api_version < VK_API_VERSION_1_1)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "qsr_context_create_external: api_version %u.%u: the instance must be "
                         "created with Vulkan 1.1 or later",
                         VK_API_VERSION_MAJOR(e->api_version),
                         VK_API_VERSION_MINOR(e->api_version));
    return QSR_OK;
}

/* The physical device's Vulkan version and the queue family's compute support. */
static qsr_status check_external_device(qsr_context *ctx, uint32_t family) {
    if (ctx->props.apiVersion < VK_API_VERSION_1_1)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "device %s supports Vulkan %u.%u; quantsr needs 1.1", ctx->info.name,
                         VK_API_VERSION_MAJOR(ctx->props.apiVersion),
                         VK_API_VERSION_MINOR(ctx->props.apiVersion));
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &n, q);
    if (family >= n || !(q[family].queueFlags & VK_QUEUE_COMPUTE_BIT))
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "queue family %u of %s %s; quantsr needs a compute queue", family,
                         ctx->info.name, family >= n ? "does not exist" : "has no compute");
    ctx->queue_family = family;
    ctx->timestamp_period_ns =
        q[family].timestampValidBits ? ctx->props.limits.timestampPeriod : 0.0f;
    return QSR_OK;
}

/* The physical device's place in the instance's list (the index of qsr_device_info). */
static uint32_t physical_device_index(VkInstance instance, VkPhysicalDevice pd) {
    VkPhysicalDevice *list = NULL;
    uint32_t n = 0, index = 0;
    if (enumerate(instance, &list, &n) != QSR_OK) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (list[i] == pd) index = i;
    free(list);
    return index;
}

/* The application's objects as the context's, with the integer dot product only where the
 * application says it enabled it (a VkDevice cannot be asked). */
static qsr_status adopt_external(qsr_context *ctx, const qsr_vulkan_external *e) {
    ctx->external = 1;
    ctx->alloc = (const VkAllocationCallbacks *)e->allocation_callbacks;
    ctx->instance = (VkInstance)e->instance;
    ctx->api_version = e->api_version;
    ctx->get_instance_proc_addr = vkGetInstanceProcAddr;
    volkLoadInstanceOnly(ctx->instance);
    VkPhysicalDevice pd = (VkPhysicalDevice)e->physical_device;
    adopt_physical_device(ctx, pd, physical_device_index(ctx->instance, pd));
    if (!(e->features & QSR_VULKAN_FEATURE_INTEGER_DOT_PRODUCT))
        ctx->info.integer_dot_product = ctx->info.integer_dot_product_accelerated = 0;
    qsr_status st = check_external_device(ctx, e->queue_family);
    if (st != QSR_OK) return st;
    ctx->device = (VkDevice)e->device;
    volkLoadDeviceTable(&ctx->vk, ctx->device);
    ctx->queue = (VkQueue)e->queue;
    return create_command_pool(ctx);
}

qsr_status qsr_context_create_external(const qsr_context_desc *desc,
                                       const qsr_vulkan_external *external, qsr_context **out) {
    if (!external || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_context_create_external: NULL argument");
    qsr_context_desc d = desc ? *desc : (qsr_context_desc){0};
    qsr_status st = check_external_desc(&d);
    if (st == QSR_OK) st = check_external_handles(external);
    if (st != QSR_OK) return st;
    /* volk resolves instance functions through the application's loader when it gave one. */
    if (external->get_instance_proc_addr)
        volkInitializeCustom((PFN_vkGetInstanceProcAddr)external->get_instance_proc_addr);
    else if ((st = load_vulkan()) != QSR_OK)
        return st;
    qsr_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "context");
    qsr__faults_parse(&ctx->faults, getenv("QSR_FAULT"));
    ctx->desc = d;
    ctx->desc.pipeline_cache_dir = NULL; /* resolved into ctx->pipelines.path */
    st = adopt_external(ctx, external);
    if (st == QSR_OK) st = qsr__pipeline_store_init(ctx, d.pipeline_cache_dir);
    if (st != QSR_OK) {
        qsr_context_destroy(ctx);
        return st;
    }
    qsr__pipeline_store_open(ctx);
    *out = ctx;
    return QSR_OK;
}

void qsr_context_destroy(qsr_context *ctx) {
    if (!ctx) return;
    destroy_device(ctx);
    if (ctx->messenger) vkDestroyDebugUtilsMessengerEXT(ctx->instance, ctx->messenger, NULL);
    if (ctx->instance && !ctx->external) vkDestroyInstance(ctx->instance, NULL);
    qsr__pipeline_store_free(ctx);
    for (uint32_t i = 0; i < ctx->device_extension_count; i++)
        free(ctx->device_extensions[i]);
    free(ctx->device_extensions);
    free(ctx);
}

qsr_status qsr_context_get_memory_stats(const qsr_context *ctx, qsr_memory_stats *out) {
    if (!ctx || !out) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_context_get_memory_stats");
    *out = ctx->memory_stats;
    return QSR_OK;
}

qsr_status qsr_context_get_vulkan(const qsr_context *ctx, qsr_vulkan_handles *out) {
    if (!ctx || !out) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_context_get_vulkan");
    *out = (qsr_vulkan_handles){
        .instance = (void *)ctx->instance,
        .physical_device = (void *)ctx->physical,
        .device = (void *)ctx->device,
        .queue = (void *)ctx->queue,
        .queue_family = ctx->queue_family,
        .api_version = ctx->api_version,
        .generation = ctx->generation,
        .get_instance_proc_addr = (qsr_void_function)ctx->get_instance_proc_addr,
    };
    return QSR_OK;
}

qsr_status qsr_context_get_device_info(const qsr_context *ctx, qsr_device_info *out) {
    if (!ctx || !out) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_context_get_device_info");
    *out = ctx->info;
    return QSR_OK;
}

uint32_t qsr_context_validation_messages(const qsr_context *ctx) {
    return ctx ? ctx->validation_messages : 0;
}
