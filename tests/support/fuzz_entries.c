/* fuzz_entries.c - the work of the fuzz targets on one input (see fuzz_entries.h). */
#include "fuzz_entries.h"
#include "model_writer.h"
#include "quantsr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_HEADER_BYTES 256u

/* A broken promise of the API: report it and crash, so the fuzzer keeps the input. */
static void require(int condition, const char *what) {
    if (condition) return;
    fprintf(stderr, "fuzz: broken promise: %s (last error: %s)\n", what, qsr_last_error());
    abort();
}

/* A failed call must leave a message and must not write its output. */
static void require_clean_failure(const void *out, const void *untouched, size_t bytes,
                                  const char *call) {
    char what[128];
    snprintf(what, sizeof what, "%s failed without a message", call);
    require(qsr_last_error()[0] != '\0', what);
    snprintf(what, sizeof what, "%s wrote its output on failure", call);
    require(memcmp(out, untouched, bytes) == 0, what);
}

static void check_loaded_model(const qsr_model *model) {
    qsr_model_info info;
    require(qsr_model_get_info(model, &info) == QSR_OK, "qsr_model_get_info of a loaded model");
    require(info.scale >= 2 && info.scale <= 4, "scale is 2, 3 or 4");
    require(info.blocks >= 1 && info.blocks <= QSR_MAX_BLOCKS, "blocks in 1..QSR_MAX_BLOCKS");
    require(info.depth_level_count <= QSR_MAX_DEPTH_LEVELS, "depth_level_count");
    uint64_t all = qsr_model_macs_per_pixel(model, 0);
    require(all > 0, "a loaded model costs something per pixel");
    for (uint32_t i = 0; i < info.depth_level_count; i++) {
        uint32_t depth = info.depth_levels[i];
        require(depth >= 1 && depth <= info.blocks, "a depth level is in 1..blocks");
        require(i == 0 || depth < info.depth_levels[i - 1], "depth levels descend");
        require(qsr_model_check_depth(model, depth, 0) == QSR_OK, "a depth level is valid");
        uint64_t macs = qsr_model_macs_per_pixel(model, depth);
        require(macs > 0 && macs <= all, "fewer blocks cost no more than all of them");
    }
    require(qsr_model_check_depth(model, info.blocks + 1, 1) != QSR_OK, "depth blocks + 1");
}

static void load_model_bytes(const uint8_t *data, size_t size) {
    qsr_model *model = (qsr_model *)&model; /* a sentinel that must survive a failure */
    qsr_model *const untouched = model;
    if (qsr_model_load_memory(data, size, &model) != QSR_OK) {
        require_clean_failure(&model, &untouched, sizeof model, "qsr_model_load_memory");
        return;
    }
    check_loaded_model(model);
    qsr_model_destroy(model);
}

void qsr_fuzz_model(const uint8_t *data, size_t size) {
    load_model_bytes(data, size);
    if (size < MODEL_HEADER_BYTES) return;
    uint8_t *fixed = (uint8_t *)malloc(size);
    require(fixed != NULL, "malloc for the CRC-fixed copy");
    memcpy(fixed, data, size);
    qsr_test_model_fix_crc(fixed, size);
    if (memcmp(fixed, data, MODEL_HEADER_BYTES) != 0) load_model_bytes(fixed, size);
    free(fixed);
}

void qsr_fuzz_image(const uint8_t *data, size_t size) {
    qsr_image image, untouched;
    memset(&image, 0xA5, sizeof image);
    memcpy(&untouched, &image, sizeof image);
    if (qsr_image_load_memory(data, size, QSR_FUZZ_MAX_PIXELS, &image) != QSR_OK) {
        require_clean_failure(&image, &untouched, sizeof image, "qsr_image_load_memory");
        return;
    }
    require(image.pixels != NULL, "a decoded image has pixels");
    require(image.channels == 3 || image.channels == 4, "a decoded image is RGB or RGBA");
    require(image.width >= 1 && image.height >= 1, "a decoded image is not empty");
    require((uint64_t)image.width * image.height <= QSR_FUZZ_MAX_PIXELS, "the max_pixels cap");
    /* Every byte is defined (a sanitizer or valgrind sees a read of one that is not). */
    unsigned sum = 0;
    size_t bytes = (size_t)image.width * image.height * image.channels;
    for (size_t i = 0; i < bytes; i++)
        sum += image.pixels[i];
    (void)sum;
    qsr_image small;
    uint32_t width = 1 + image.width % 17, height = 1 + image.height % 13;
    require(qsr_image_resize_bicubic(&image, width, height, &small) == QSR_OK,
            "qsr_image_resize_bicubic of a decoded image");
    require(small.width == width && small.height == height && small.channels == image.channels,
            "the resized image has the size asked for");
    qsr_image_free(&small);
    qsr_image_free(&image);
}

int qsr_fuzz_split_args(const uint8_t *data, size_t size, char *text, char **argv,
                        size_t max_args) {
    static char program[] = "quantsr";
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 0;
    argv[argc++] = program;
    /* Each line is an argument; a final '\n' ends the last line rather than adding "". */
    size_t start = 0;
    while (start < size && (size_t)argc <= max_args) {
        char *newline = memchr(text + start, '\n', size - start);
        size_t end = newline ? (size_t)(newline - text) : size;
        text[end] = '\0';
        argv[argc++] = text + start;
        start = end + 1;
    }
    argv[argc] = NULL;
    return argc;
}
