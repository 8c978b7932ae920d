/* pipeline_cache.c - the context's shared pipelines and its VkPipelineCache on disk.
 *
 * Plans ask for pipelines by description (qsr__pipeline_get), so the upscalers of one context,
 * and a plan rebuilt after a device loss, compile each distinct pipeline once. Compilation goes
 * through one VkPipelineCache that starts from a file named by the device's pipelineCacheUUID
 * and IDs, and is written back (temporary file + rename) when the context closes it, so the
 * next process skips most of the driver's compilation.
 *
 * The file is the driver's cache data followed by an 8-byte trailer of ours: the CRC-32 of the
 * data and a magic word. It is only a hint: a file that is missing, truncated, corrupt or made
 * for another device or driver is ignored (and replaced at the next save), because drivers are
 * not all robust against damaged cache data; a failed write is never an error of the work that
 * was done. */
#include "platform.h"
#include "vk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_HEADER_BYTES  32u         /* VkPipelineCacheHeaderVersionOne */
#define CACHE_TRAILER_BYTES 8u          /* CRC-32 of the data, then CACHE_MAGIC */
#define CACHE_MAGIC         0x43505351u /* "QSPC" in file order */
#define CACHE_MAX_BYTES     ((size_t)256 << 20)

/* ---------------------------------------------------------------------------------------------
 * Shared pipelines
 */

/* The description as a key: spec[] past spec_count does not matter, so it is zeroed. Every
 * field is 32 bits wide (no padding), so memcmp compares exactly the fields. */
static qsr__pipeline_desc desc_key(const qsr__pipeline_desc *desc) {
    qsr__pipeline_desc key = *desc;
    for (uint32_t i = key.spec_count; i < QSR__MAX_SPEC; i++)
        key.spec[i] = 0;
    return key;
}

qsr_status qsr__pipeline_get(qsr_context *ctx, const qsr__pipeline_desc *desc, qsr__pipeline *out) {
    qsr__pipeline_store *s = &ctx->pipelines;
    qsr__pipeline_desc key = desc_key(desc);
    /* Stored descriptions are fitted to the device (qsr__pipeline_create), so is the key. */
    qsr_status fitted = qsr__pipeline_fit(ctx, &key);
    if (fitted != QSR_OK) return fitted;
    for (uint32_t i = 0; i < s->shared_count; i++)
        if (memcmp(&s->shared[i].desc, &key, sizeof key) == 0) {
            *out = s->shared[i];
            return QSR_OK;
        }
    if (s->shared_count == s->shared_capacity) {
        uint32_t capacity = s->shared_capacity ? 2 * s->shared_capacity : 16;
        qsr__pipeline *grown = realloc(s->shared, capacity * sizeof *grown);
        if (!grown) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "pipeline list");
        s->shared = grown;
        s->shared_capacity = capacity;
    }
    qsr__pipeline made;
    qsr_status st = qsr__pipeline_create(ctx, &key, &made);
    if (st != QSR_OK) return st;
    s->shared[s->shared_count++] = made;
    *out = made;
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Where the file lives
 */

/* A malloc'ed string, or NULL when out of memory. */
static char *format_string(const char *fmt, ...) QSR__PRINTF(1, 2);
static char *format_string(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *text = malloc((size_t)n + 1);
    if (!text) return NULL;
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return text;
}

char *qsr__pipeline_cache_folder(const char *dir) {
    if (dir) return *dir ? qsr__strdup(dir) : NULL;
    const char *env = getenv("QSR_PIPELINE_CACHE_DIR");
    if (env && *env) return qsr__strdup(env);
    return qsr__user_cache_dir();
}

qsr_status qsr__pipeline_store_init(qsr_context *ctx, const char *dir) {
    char *base = qsr__pipeline_cache_folder(dir);
    if (!base) return QSR_OK; /* no folder, or no memory for its name: run without the file */
    /* Devices, and drivers of one device, keep separate files: a driver update makes a new
     * file instead of a rejected old one. */
    const VkPhysicalDeviceProperties *p = &ctx->props;
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++)
        snprintf(uuid + 2 * i, 3, "%02x", p->pipelineCacheUUID[i]);
    ctx->pipelines.path = format_string("%s/pipelines-%s-%04x-%04x-%08x.bin", base, uuid,
                                        p->vendorID, p->deviceID, p->driverVersion);
    free(base);
    if (!ctx->pipelines.path) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "pipeline cache path");
    return QSR_OK;
}

void qsr__pipeline_store_free(qsr_context *ctx) {
    free(ctx->pipelines.path);
    ctx->pipelines.path = NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Loading
 */
static uint32_t get_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Is `data` cache data of this device and driver? VkPipelineCacheHeaderVersionOne is stored
 * least significant byte first whatever the host's byte order. */
static int header_matches(const qsr_context *ctx, const uint8_t *data, size_t size) {
    if (size < CACHE_HEADER_BYTES) return 0;
    uint32_t header_bytes = get_le32(data);
    return header_bytes >= CACHE_HEADER_BYTES && header_bytes <= size &&
           get_le32(data + 4) == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
           get_le32(data + 8) == ctx->props.vendorID &&
           get_le32(data + 12) == ctx->props.deviceID &&
           memcmp(data + 16, ctx->props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

/* Reads a whole regular file of at most CACHE_MAX_BYTES; NULL if there is none (or it is not
 * readable, or too large). */
static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = qsr__fopen(path, "rb");
    if (!f) return NULL;
    uint64_t file_size = 0;
    uint8_t *data = NULL;
    if (qsr__regular_file_size(f, &file_size) == 0 && file_size > 0 && file_size <= CACHE_MAX_BYTES)
        data = malloc((size_t)file_size);
    size_t got = data ? fread(data, 1, (size_t)file_size, f) : 0;
    fclose(f);
    if (data && got != (size_t)file_size) {
        free(data);
        data = NULL;
    }
    *size = got;
    return data;
}

/* The driver data of the cache file when the file is whole and made for this device; counts a
 * file that is there but unusable in stats.cache_rejected. */
static uint8_t *load_cache_file(qsr_context *ctx, size_t *size) {
    qsr__pipeline_store *s = &ctx->pipelines;
    *size = 0;
    if (!s->path) return NULL;
    size_t file_size = 0;
    uint8_t *data = read_file(s->path, &file_size);
    if (!data) {
        if (qsr__path_exists(s->path)) s->stats.cache_rejected++;
        return NULL;
    }
    size_t n = file_size >= CACHE_TRAILER_BYTES ? file_size - CACHE_TRAILER_BYTES : 0;
    int whole = file_size >= CACHE_TRAILER_BYTES && get_le32(data + n + 4) == CACHE_MAGIC &&
                get_le32(data + n) == qsr__crc32(data, n);
    if (!whole || !header_matches(ctx, data, n)) {
        s->stats.cache_rejected++;
        free(data);
        return NULL;
    }
    *size = n;
    return data;
}

void qsr__pipeline_store_open(qsr_context *ctx) {
    qsr__pipeline_store *s = &ctx->pipelines;
    s->loaded_size = 0;
    s->loaded_crc = 0;
    s->stats.cache_loaded_bytes = 0;
    size_t size = 0;
    uint8_t *data = load_cache_file(ctx, &size);
    VkPipelineCacheCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkResult r = ctx->vk.vkCreatePipelineCache(ctx->device, &info, ctx->alloc, &s->cache);
    if (r != VK_SUCCESS && data) {
        /* The driver refused the data after all: start empty. */
        s->stats.cache_rejected++;
        info.initialDataSize = 0;
        info.pInitialData = NULL;
        size = 0;
        r = ctx->vk.vkCreatePipelineCache(ctx->device, &info, ctx->alloc, &s->cache);
    }
    if (r != VK_SUCCESS) {
        s->cache = VK_NULL_HANDLE; /* pipelines are compiled without one */
    } else if (size) {
        s->loaded_size = size;
        s->loaded_crc = qsr__crc32(data, size);
        s->stats.cache_loaded_bytes = size;
    }
    free(data);
}

/* ---------------------------------------------------------------------------------------------
 * Saving
 */

/* Writes `path` through a temporary file beside it and a rename, so a reader (another process
 * starting) sees the old file or the new one, never a part. */
static void write_file_atomically(const char *path, const uint8_t *data, size_t size) {
    /* New folders private to the user, as XDG asks. */
    if (qsr__make_parent_dirs(path) != 0) return;
    /* The buffer's address tells apart two contexts of this process saving at once. */
    char *temp = format_string("%s.tmp-%ld-%p", path, qsr__process_id(), (const void *)data);
    if (!temp) return;
    FILE *f = qsr__create_exclusive(temp);
    if (f) {
        int ok = fwrite(data, 1, size, f) == size && qsr__sync_file(f) == 0;
        ok = fclose(f) == 0 && ok;
        if (!ok || qsr__replace_file(temp, path) != 0) qsr__remove_file(temp);
    }
    free(temp);
}

/* Writes the cache to its file unless it holds what was loaded. */
static void save_cache(qsr_context *ctx) {
    qsr__pipeline_store *s = &ctx->pipelines;
    size_t size = 0;
    if (!s->path || !s->cache ||
        ctx->vk.vkGetPipelineCacheData(ctx->device, s->cache, &size, NULL) != VK_SUCCESS ||
        size < CACHE_HEADER_BYTES || size > CACHE_MAX_BYTES - CACHE_TRAILER_BYTES)
        return;
    uint8_t *data = malloc(size + CACHE_TRAILER_BYTES);
    if (!data) return;
    /* Data the loader would reject is not worth writing. */
    if (ctx->vk.vkGetPipelineCacheData(ctx->device, s->cache, &size, data) == VK_SUCCESS &&
        header_matches(ctx, data, size)) {
        uint32_t crc = qsr__crc32(data, size);
        if (size != s->loaded_size || crc != s->loaded_crc) {
            put_le32(data + size, crc);
            put_le32(data + size + 4, CACHE_MAGIC);
            write_file_atomically(s->path, data, size + CACHE_TRAILER_BYTES);
        }
    }
    free(data);
}

void qsr__pipeline_store_close(qsr_context *ctx) {
    qsr__pipeline_store *s = &ctx->pipelines;
    for (uint32_t i = 0; i < s->shared_count; i++)
        qsr__pipeline_destroy(ctx, &s->shared[i]);
    free(s->shared);
    s->shared = NULL;
    s->shared_count = s->shared_capacity = 0;
    if (!s->cache) return;
    save_cache(ctx);
    ctx->vk.vkDestroyPipelineCache(ctx->device, s->cache, ctx->alloc);
    s->cache = VK_NULL_HANDLE;
}
