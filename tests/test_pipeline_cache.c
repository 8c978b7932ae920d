/* test_pipeline_cache.c - the context's pipeline store (runtime/pipeline_cache.c): upscalers of
 * one context share their pipelines (also across a device loss), the VkPipelineCache is saved
 * to a file with a valid header for this device and loaded by the next context, a damaged or
 * foreign file is ignored (and replaced) without changing a single output byte, and a
 * disabled cache writes nothing. Every file goes into a temporary folder, never into $HOME. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv */
#include "model_writer.h"
#include "test_util.h"
#include "vk.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static qsr_model *model;
static qsr_image input, reference;

static qsr_context *open_context(const char *dir) {
    qsr_context_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.pipeline_cache_dir = dir;
    qsr_context *ctx = NULL;
    CHECK_OK(qsr_context_create(&desc, &ctx));
    return ctx;
}

static void close_context(qsr_context *ctx) {
    if (!ctx) return;
    uint32_t messages = qsr_context_validation_messages(ctx);
    CHECK(messages == 0, "%u validation message(s)", messages);
    qsr_context_destroy(ctx);
}

/* Output bytes must agree with the CPU reference as in test_gpu_network (99.9% identical, none
 * more than 2 levels apart). */
static void check_like_reference(const qsr_image *out, const char *what) {
    size_t n = (size_t)reference.width * reference.height * reference.channels, same = 0;
    int max_diff = 0;
    int shape = out->pixels && out->width == reference.width && out->height == reference.height &&
                out->channels == reference.channels;
    CHECK(shape, "%s: no output of the reference's shape", what);
    for (size_t i = 0; shape && i < n; i++) {
        int d = abs((int)out->pixels[i] - (int)reference.pixels[i]);
        same += d == 0;
        if (d > max_diff) max_diff = d;
    }
    CHECK(!shape || (same * 1000 >= n * 999 && max_diff <= 2),
          "%s: %zu of %zu bytes equal the reference, max difference %d", what, same, n, max_diff);
}

static int same_image(const qsr_image *a, const qsr_image *b) {
    return a->pixels && b->pixels && a->width == b->width && a->height == b->height &&
           a->channels == b->channels &&
           memcmp(a->pixels, b->pixels, (size_t)a->width * a->height * a->channels) == 0;
}

static size_t file_count(const char *dir) {
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            remove(path);
    }
    closedir(d);
    rmdir(dir);
}

static uint8_t *read_whole(const char *path, size_t *size) {
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *data = malloc(1 << 24);
    if (data) *size = fread(data, 1, 1 << 24, f);
    fclose(f);
    return data;
}

static void write_whole(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    CHECK(fwrite(data, 1, size, f) == size, "short write to %s", path);
    fclose(f);
}

/* VkPipelineCacheHeaderVersionOne of this device, least significant byte first. */
static int header_valid(const uint8_t *data, size_t size, const qsr_context *ctx) {
    if (size < 32) return 0;
    uint32_t header_bytes = qsr_test_get_u32(data, 0);
    return header_bytes >= 32 && header_bytes <= size &&
           qsr_test_get_u32(data, 4) == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
           qsr_test_get_u32(data, 8) == ctx->props.vendorID &&
           qsr_test_get_u32(data, 12) == ctx->props.deviceID &&
           memcmp(data + 16, ctx->props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

/* (a) Two upscalers of one model create no pipeline the first did not; they keep working
 * after one of them is destroyed; another shape of model does add pipelines. */
static void check_sharing(const char *dir) {
    qsr_context *ctx = open_context(dir);
    if (!ctx) return;
    qsr_upscaler *first = NULL, *second = NULL;
    qsr_image a = {0}, b = {0}, c = {0};
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &first));
    if (first) CHECK_OK(qsr_upscaler_run(first, &input, 0, &a, NULL));
    uint32_t made = ctx->pipelines.stats.pipelines_created;
    CHECK(made > 0, "no pipeline was counted");
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &second));
    if (second) CHECK_OK(qsr_upscaler_run(second, &input, 0, &b, NULL));
    printf("sharing: %u pipelines for the first upscaler, %u after the second\n", made,
           ctx->pipelines.stats.pipelines_created);
    CHECK(ctx->pipelines.stats.pipelines_created == made,
          "the second upscaler made %u more pipelines",
          ctx->pipelines.stats.pipelines_created - made);
    CHECK(same_image(&a, &b), "two upscalers of one model differ");
    qsr_upscaler_destroy(first);
    if (second) CHECK_OK(qsr_upscaler_run(second, &input, 0, &c, NULL));
    CHECK(same_image(&a, &c), "the second upscaler changed after the first was destroyed");
    check_like_reference(&c, "shared pipelines");

    qsr_test_model_params mp = {.scale = 3, .channels = 8, .blocks = 1, .bits_w = 4, .seed = 8};
    qsr_model *other = NULL;
    qsr_upscaler *third = NULL;
    qsr_image d = {0};
    CHECK_OK(qsr_test_model_make(&mp, &other));
    if (other) CHECK_OK(qsr_upscaler_create(ctx, other, NULL, &third));
    if (third) CHECK_OK(qsr_upscaler_run(third, &input, 0, &d, NULL));
    CHECK(ctx->pipelines.stats.pipelines_created > made,
          "an x3 model made no pipeline of its own: the counter cannot tell sharing apart");
    qsr_upscaler_destroy(third);
    qsr_upscaler_destroy(second);
    qsr_model_destroy(other);
    qsr_image_free(&a), qsr_image_free(&b), qsr_image_free(&c), qsr_image_free(&d);
    close_context(ctx);
}

/* A lost device takes the shared pipelines with it: the recovering upscaler and the other one
 * (rebuilt on its next run) get new ones and the same bytes. */
static void check_device_loss(const char *dir) {
    /* Submissions 1-6 upload the two upscalers' weights; 7 is the first tile. */
    setenv("QSR_FAULT", "lost:7", 1);
    qsr_context *ctx = open_context(dir);
    unsetenv("QSR_FAULT");
    if (!ctx) return;
    qsr_upscaler *first = NULL, *second = NULL;
    qsr_image a = {0}, b = {0};
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &first));
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &second));
    uint32_t made = ctx->pipelines.stats.pipelines_created;
    if (first) CHECK_OK(qsr_upscaler_run(first, &input, 0, &a, NULL));
    CHECK(ctx->generation == 1, "the device was not recreated (generation %u)", ctx->generation);
    CHECK(ctx->pipelines.stats.pipelines_created > made, "no pipeline was made on the new device");
    if (second) CHECK_OK(qsr_upscaler_run(second, &input, 0, &b, NULL));
    check_like_reference(&a, "recovered upscaler");
    CHECK(same_image(&a, &b), "the other upscaler differs after the device loss");
    qsr_upscaler_destroy(first);
    qsr_upscaler_destroy(second);
    qsr_image_free(&a), qsr_image_free(&b);
    close_context(ctx);
}

/* (b) The file exists after the context is gone, has this device's header, and the next
 * context starts from it. Returns the file's path (malloc'ed) or NULL. */
static char *check_saved_and_loaded(const char *dir) {
    qsr_context *ctx = open_context(dir);
    if (!ctx) return NULL;
    CHECK(ctx->pipelines.path != NULL, "no cache file path");
    char *path = ctx->pipelines.path ? strdup(ctx->pipelines.path) : NULL;
    CHECK(path && strncmp(path, dir, strlen(dir)) == 0, "cache file %s is not in %s",
          path ? path : "(none)", dir);
    qsr_upscaler *up = NULL;
    qsr_image out = {0};
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    if (up) CHECK_OK(qsr_upscaler_run(up, &input, 0, &out, NULL));
    qsr_upscaler_destroy(up);
    qsr_image_free(&out);
    VkPhysicalDeviceProperties props = ctx->props;
    close_context(ctx);

    size_t size = 0;
    uint8_t *data = path ? read_whole(path, &size) : NULL;
    CHECK(data && size > 0, "no cache file %s after the context was destroyed",
          path ? path : "(none)");
    qsr_context *next = open_context(dir);
    if (next) {
        CHECK(memcmp(&next->props, &props, sizeof props) == 0, "another device was chosen");
        CHECK(data && header_valid(data, size, next), "the file's header is not this device's");
        printf("saved: %zu bytes; loaded: %llu bytes of driver data\n", size,
               (unsigned long long)next->pipelines.stats.cache_loaded_bytes);
        CHECK(next->pipelines.stats.cache_loaded_bytes >= 32, "the saved file was not loaded");
        CHECK(next->pipelines.stats.cache_rejected == 0, "the saved file was rejected");
    }
    close_context(next);
    free(data);
    return path;
}

/* (c) A damaged or foreign file: ignored, the output still the reference's, and a good file
 * written in its place. */
static void check_damaged(const char *path, const char *what, const uint8_t *data, size_t size,
                          const char *dir) {
    write_whole(path, data, size);
    qsr_context *ctx = open_context(dir);
    if (!ctx) return;
    CHECK(ctx->pipelines.stats.cache_loaded_bytes == 0, "%s: loaded", what);
    CHECK(ctx->pipelines.stats.cache_rejected == 1, "%s: not counted as rejected", what);
    qsr_upscaler *up = NULL;
    qsr_image out = {0};
    CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
    if (up) CHECK_OK(qsr_upscaler_run(up, &input, 0, &out, NULL));
    check_like_reference(&out, what);
    qsr_upscaler_destroy(up);
    qsr_image_free(&out);
    close_context(ctx);
    qsr_context *next = open_context(dir);
    if (next) {
        size_t got = 0;
        uint8_t *saved = read_whole(path, &got);
        CHECK(saved && header_valid(saved, got, next), "%s: not replaced by a valid file", what);
        CHECK(next->pipelines.stats.cache_loaded_bytes > 0, "%s: the replacement is not loaded",
              what);
        free(saved);
    }
    close_context(next);
    printf("%-26s ignored and replaced\n", what);
}

static void check_damaged_files(const char *path, const char *dir) {
    size_t size = 0;
    uint8_t *good = read_whole(path, &size);
    if (!good || size < 40) {
        CHECK(0, "no good cache file to damage");
        free(good);
        return;
    }
    uint8_t *bad = malloc(size + 4096);
    qsr_rng rng = {17};
    for (size_t i = 0; i < 4096; i++)
        bad[i] = (uint8_t)qsr_rng_next(&rng);
    check_damaged(path, "random bytes", bad, 4096, dir);
    check_damaged(path, "empty", bad, 0, dir);
    check_damaged(path, "truncated in the header", good, 20, dir);
    check_damaged(path, "truncated by one byte", good, size - 1, dir);
    memcpy(bad, good, size);
    /* The last byte of the driver's data past the header, or (header only) the checksum. */
    bad[size > 40 ? size - 9 : size - 8] ^= 0x40;
    check_damaged(path, "one flipped bit", bad, size, dir);
    memcpy(bad, good, size);
    bad[16] ^= 0xFF; /* another pipelineCacheUUID */
    check_damaged(path, "another driver's UUID", bad, size, dir);
    memcpy(bad, good, size);
    bad[4] = 2; /* header version */
    check_damaged(path, "unknown header version", bad, size, dir);
    memcpy(bad, good, size);
    memcpy(bad + size, good, size); /* data after the trailer */
    check_damaged(path, "two files in one", bad, 2 * size, dir);
    free(bad);
    free(good);
}

/* (d) "" writes nothing, even with $QSR_PIPELINE_CACHE_DIR set; a folder that cannot be made is
 * no error either. */
static void check_disabled(const char *base) {
    char env_dir[1024], blocked[1024];
    snprintf(env_dir, sizeof env_dir, "%s/env", base);
    CHECK(mkdir(env_dir, 0700) == 0, "mkdir %s", env_dir);
    setenv("QSR_PIPELINE_CACHE_DIR", env_dir, 1);
    qsr_context *ctx = open_context("");
    qsr_upscaler *up = NULL;
    qsr_image out = {0};
    if (ctx) {
        CHECK(ctx->pipelines.path == NULL, "disabled, yet a path: %s", ctx->pipelines.path);
        CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
        if (up) CHECK_OK(qsr_upscaler_run(up, &input, 0, &out, NULL));
        check_like_reference(&out, "disabled cache");
        qsr_upscaler_destroy(up);
        qsr_image_free(&out);
    }
    close_context(ctx);
    CHECK(file_count(env_dir) == 0, "a disabled cache wrote %zu file(s)", file_count(env_dir));

    /* NULL takes $QSR_PIPELINE_CACHE_DIR. */
    ctx = open_context(NULL);
    close_context(ctx);
    CHECK(file_count(env_dir) == 1, "$QSR_PIPELINE_CACHE_DIR holds %zu files, not 1",
          file_count(env_dir));

    /* A folder below a regular file can never be made: the context works and closes. */
    snprintf(blocked, sizeof blocked, "%s/plain-file", base);
    write_whole(blocked, "x", 1);
    strncat(blocked, "/cache", sizeof blocked - strlen(blocked) - 1);
    ctx = open_context(blocked);
    if (ctx) {
        CHECK_OK(qsr_upscaler_create(ctx, model, NULL, &up));
        if (up) CHECK_OK(qsr_upscaler_run(up, &input, 0, &out, NULL));
        check_like_reference(&out, "unwritable cache folder");
        qsr_upscaler_destroy(up);
        qsr_image_free(&out);
    }
    close_context(ctx);
}

int main(void) {
    char base[] = "/tmp/qsr-pipeline-cache-XXXXXX";
    if (!mkdtemp(base)) {
        fprintf(stderr, "cannot make a temporary folder\n");
        return 1;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/nested/cache", base); /* folders are made as needed */
    qsr_test_model_params mp = {.scale = 2, .channels = 8, .blocks = 2, .bits_w = 4, .seed = 31};
    CHECK_OK(qsr_test_model_make(&mp, &model));
    qsr_rng rng = {9};
    input = qsr_test_random_image(&rng, 24, 20, 3);
    CHECK_OK(qsr_reference_upscale(model, &input, 0, &reference));
    qsr_context_desc no_file = {.pipeline_cache_dir = ""};
    qsr_context *probe = NULL;
    if (qsr_context_create(&no_file, &probe) != QSR_OK) {
        remove_tree(base);
        return qsr_test_no_device("test_pipeline_cache");
    }
    qsr_context_destroy(probe);

    check_sharing(dir);
    check_device_loss(dir);
    char *path = check_saved_and_loaded(dir);
    if (path) check_damaged_files(path, dir);
    free(path);
    check_disabled(base);

    remove_tree(base);
    qsr_image_free(&input);
    qsr_image_free(&reference);
    qsr_model_destroy(model);
    return qsr_test_finish("test_pipeline_cache");
}
