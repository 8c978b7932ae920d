/* test_model.c - the .qsr loader: round trips of writer-made models, every rule of
 * docs/model-format.md broken one at a time, and the depth and cost queries. */
#include "internal.h"
#include "support/model_writer.h"
#include "support/test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Helpers
 */
static void *write_model(const qsr_test_model_params *p, size_t *size) {
    void *data = NULL;
    qsr_status st = qsr_test_model_write(p, &data, size);
    CHECK(st == QSR_OK, "writer failed: %s", qsr_last_error());
    return st == QSR_OK ? data : NULL;
}

static void *copy_bytes(const void *data, size_t size) {
    void *copy = malloc(size ? size : 1);
    if (copy) memcpy(copy, data, size);
    return copy;
}

/* The file's own element i of a QW tensor, decoded here independently of the loader. */
static int32_t decode_code(const uint8_t *tensor, uint32_t bits, size_t i) {
    uint32_t container = bits == 2 ? 2 : 4, per_word = 32 / container;
    size_t word = i / per_word, shift = (i % per_word) * container;
    uint32_t w = (uint32_t)tensor[4 * word] | (uint32_t)tensor[4 * word + 1] << 8 |
                 (uint32_t)tensor[4 * word + 2] << 16 | (uint32_t)tensor[4 * word + 3] << 24;
    int32_t field = (int32_t)((w >> shift) & ((1u << container) - 1));
    return field >= (1 << (container - 1)) ? field - (1 << container) : field;
}

/* Expects loading `data` to fail with `expected` and a message containing `needle`. */
static void expect_failure(const char *what, const void *data, size_t size, qsr_status expected,
                           const char *needle) {
    qsr_model *model = NULL;
    qsr_status st = qsr_model_load_memory(data, size, &model);
    const char *msg = qsr_last_error();
    CHECK(st == expected, "%s: got %s, expected %s (%s)", what, qsr_status_name(st),
          qsr_status_name(expected), msg);
    CHECK(model == NULL, "%s: out was written on failure", what);
    CHECK(msg[0] != 0, "%s: empty error message", what);
    if (needle)
        CHECK(strstr(msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, msg, needle);
    if (getenv("QSR_TEST_VERBOSE")) printf("%-32s %s: %s\n", what, qsr_status_name(st), msg);
    if (st == QSR_OK) qsr_model_destroy(model);
}

/* ---------------------------------------------------------------------------------------------
 * Round trip: everything the loader exposes equals what the file holds
 */
typedef struct trip_stats {
    uint32_t tensors_seen;
    uint64_t elements_seen;
    uint32_t code_seen[16]; /* code + 8 */
} trip_stats;

static const uint8_t *tensor_of(const void *data, size_t size, const char *name,
                                qsr_test_tensor *t) {
    int found = qsr_test_model_find_tensor(data, size, name, t);
    CHECK(found, "tensor '%s' not in the written file", name);
    if (!found) return NULL;
    return (const uint8_t *)data + t->offset;
}

static void check_floats(const char *name, const float *loaded, size_t count, const void *data,
                         size_t size, trip_stats *stats) {
    qsr_test_tensor t;
    const uint8_t *raw = tensor_of(data, size, name, &t);
    if (!raw) return;
    CHECK(loaded != NULL, "%s: not loaded", name);
    if (!loaded) return;
    CHECK(t.count == count, "%s: %zu elements in the file, %zu expected", name, t.count, count);
    CHECK((uintptr_t)loaded % 64 == 0, "%s: pointer not 64-byte aligned", name);
    size_t mismatches = 0;
    for (size_t i = 0; i < count && i < t.count; i++)
        mismatches += memcmp(&loaded[i], raw + 4 * i, 4) != 0;
    CHECK(mismatches == 0, "%s: %zu values differ from the file", name, mismatches);
    stats->tensors_seen++;
    stats->elements_seen += t.count;
}

static void check_scalar(const char *name, float loaded, const void *data, size_t size,
                         trip_stats *stats) {
    qsr_test_tensor t;
    const uint8_t *raw = tensor_of(data, size, name, &t);
    if (!raw) return;
    CHECK(t.count == 1, "%s: %zu elements", name, t.count);
    CHECK(memcmp(&loaded, raw, 4) == 0, "%s: loaded %g, file %g", name, (double)loaded,
          (double)qsr_test_get_f32(raw, 0));
    stats->tensors_seen++;
    stats->elements_seen += t.count;
}

static void check_qweight(const char *name, const qsr__conv *conv, const void *data, size_t size,
                          trip_stats *stats) {
    qsr_test_tensor t;
    const uint8_t *raw = tensor_of(data, size, name, &t);
    if (!raw || !conv->qweight || !conv->wcode) {
        CHECK(conv->qweight && conv->wcode, "%s: codes not loaded", name);
        return;
    }
    size_t count = (size_t)conv->cout * conv->cin * 9, bad_unpack = 0, bad_get = 0;
    CHECK(t.count == count, "%s: %zu codes in the file, %zu expected", name, t.count, count);
    CHECK(memcmp(conv->qweight, raw, t.bytes) == 0, "%s: packed words differ", name);
    CHECK((uintptr_t)conv->qweight % 64 == 0, "%s: pointer not 64-byte aligned", name);
    for (size_t i = 0; i < count; i++) {
        int32_t code = decode_code(raw, conv->bits_w, i);
        bad_unpack += conv->wcode[i] != code;
        bad_get += qsr__qw_get(conv->qweight, conv->bits_w, i) != code;
        if (code >= -8 && code < 8) stats->code_seen[code + 8]++;
    }
    CHECK(bad_unpack == 0, "%s: %zu unpacked codes differ from the file", name, bad_unpack);
    CHECK(bad_get == 0, "%s: qsr__qw_get differs from the file at %zu codes", name, bad_get);
    stats->tensors_seen++;
    stats->elements_seen += t.count;
}

static void check_conv(const char *prefix, const qsr__conv *conv, uint32_t cin, uint32_t cout,
                       uint32_t bits_w, uint32_t bits_a, const void *data, size_t size,
                       trip_stats *stats) {
    char name[64];
    CHECK(conv->cin == cin && conv->cout == cout, "%s: %ux%u, expected %ux%u", prefix, conv->cin,
          conv->cout, cin, cout);
    CHECK(conv->bits_w == bits_w && conv->bits_a == bits_a, "%s: bits %u/%u, expected %u/%u",
          prefix, conv->bits_w, conv->bits_a, bits_w, bits_a);
    snprintf(name, sizeof name, "%s.bias", prefix);
    check_floats(name, conv->bias, cout, data, size, stats);
    snprintf(name, sizeof name, "%s.weight", prefix);
    if (bits_w == 32) {
        CHECK(conv->qweight == NULL && conv->wcode == NULL, "%s: float conv has codes", prefix);
        check_floats(name, conv->weight, (size_t)cout * cin * 9, data, size, stats);
        return;
    }
    CHECK(conv->weight == NULL, "%s: quantized conv has float weights", prefix);
    check_qweight(name, conv, data, size, stats);

    qsr_test_tensor t;
    snprintf(name, sizeof name, "%s.weight_step", prefix);
    const uint8_t *raw = tensor_of(data, size, name, &t);
    if (raw && conv->weight_step) {
        size_t bad = 0;
        for (uint32_t o = 0; o < cout; o++)
            bad += memcmp(&conv->weight_step[o], raw + (t.count == 1 ? 0 : 4 * (size_t)o), 4) != 0;
        CHECK(bad == 0, "%s: %zu steps differ from the file (count %zu)", name, bad, t.count);
        stats->tensors_seen++;
        stats->elements_seen += t.count;
    }
    CHECK(conv->weight_step != NULL, "%s: not loaded", name);
    snprintf(name, sizeof name, "%s.act_step", prefix);
    check_scalar(name, conv->act_step, data, size, stats);
    snprintf(name, sizeof name, "%s.act_shift", prefix);
    check_floats(name, conv->act_shift, cin, data, size, stats);
    snprintf(name, sizeof name, "%s.act_signed", prefix);
    raw = tensor_of(data, size, name, &t);
    if (raw) {
        CHECK((uint32_t)conv->act_signed == qsr_test_get_u32(raw, 0), "%s: %d vs file %u", name,
              conv->act_signed, qsr_test_get_u32(raw, 0));
        stats->tensors_seen++;
        stats->elements_seen += t.count;
    }
}

static void check_info(const qsr_model_info *info, const void *data, size_t size) {
    CHECK(info->arch == qsr_test_get_u32(data, QSR__HDR_ARCH), "arch");
    CHECK(info->scale == qsr_test_get_u32(data, QSR__HDR_SCALE), "scale");
    CHECK(info->in_channels == 3, "in_channels %u", info->in_channels);
    CHECK(info->channels == qsr_test_get_u32(data, QSR__HDR_CHANNELS), "channels");
    CHECK(info->blocks == qsr_test_get_u32(data, QSR__HDR_BLOCKS), "blocks");
    CHECK(info->bits_w == qsr_test_get_u32(data, QSR__HDR_BITS_W), "bits_w");
    CHECK(info->bits_a == qsr_test_get_u32(data, QSR__HDR_BITS_A), "bits_a");
    CHECK(info->depth_level_count == qsr_test_get_u32(data, QSR__HDR_DEPTH_LEVEL_COUNT),
          "depth_level_count");
    for (uint32_t i = 0; i < QSR_MAX_DEPTH_LEVELS; i++)
        CHECK(info->depth_levels[i] ==
                  qsr_test_get_u32(data, QSR__HDR_DEPTH_LEVELS + 4 * (size_t)i),
              "depth_levels[%u]", i);
    CHECK(memcmp(info->block_rank, (const uint8_t *)data + QSR__HDR_BLOCK_RANK, QSR_MAX_BLOCKS) ==
              0,
          "block_rank");
    for (int c = 0; c < 3; c++)
        CHECK(info->rgb_mean[c] == qsr_test_get_f32(data, QSR__HDR_RGB_MEAN + 4 * (size_t)c),
              "rgb_mean[%d]", c);
    CHECK(info->img_range == qsr_test_get_f32(data, QSR__HDR_IMG_RANGE), "img_range");
    CHECK(info->tensor_count == qsr_test_get_u32(data, QSR__HDR_TENSOR_COUNT), "tensor_count");
    CHECK(info->file_bytes == size, "file_bytes %llu, size %zu",
          (unsigned long long)info->file_bytes, size);
}

static void check_model_matches_file(const qsr_model *m, const void *data, size_t size,
                                     trip_stats *stats) {
    const qsr_model_info *info = &m->info;
    const uint32_t c = info->channels, s = info->scale;
    check_info(info, data, size);
    check_conv("conv_first", &m->conv_first, 3, c, 32, 32, data, size, stats);
    for (uint32_t i = 0; i < info->blocks; i++) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "body.%u.conv1", i);
        check_conv(prefix, &m->body[2 * i], c, c, info->bits_w, info->bits_a, data, size, stats);
        snprintf(prefix, sizeof prefix, "body.%u.conv2", i);
        check_conv(prefix, &m->body[2 * i + 1], c, c, info->bits_w, info->bits_a, data, size,
                   stats);
        snprintf(prefix, sizeof prefix, "body.%u.shortcut", i);
        check_scalar(prefix, m->shortcut[i], data, size, stats);
    }
    check_conv("conv_after_body", &m->conv_after_body, c, c, 32, 32, data, size, stats);
    uint32_t stages = s == 4 ? 2 : 1, r = s == 3 ? 3 : 2;
    CHECK(m->upsample_count == stages && m->upsample_factor == r, "x%u: %u stages of x%u", s,
          m->upsample_count, m->upsample_factor);
    for (uint32_t k = 0; k < stages; k++) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "upsample.%u", k);
        check_conv(prefix, &m->upsample[k], c, r * r * c, 32, 32, data, size, stats);
    }
    check_conv("conv_last", &m->conv_last, c, 3, 32, 32, data, size, stats);
    CHECK(stats->tensors_seen == info->tensor_count, "%u tensors checked, file has %u",
          stats->tensors_seen, info->tensor_count);
    CHECK(info->parameters == stats->elements_seen, "parameters %llu, tensors hold %llu",
          (unsigned long long)info->parameters, (unsigned long long)stats->elements_seen);
    CHECK(m->data_size == size && memcmp(m->data, data, size) == 0, "private copy differs");
}

static void test_round_trip(uint32_t scale, uint32_t bits, uint32_t channels, int per_channel) {
    qsr_test_model_params p = {0};
    p.scale = scale;
    p.bits_w = bits;
    p.channels = channels;
    p.blocks = 3;
    p.seed = 100 * scale + bits;
    p.per_channel_weight_step = per_channel;
    size_t size = 0;
    void *data = write_model(&p, &size);
    if (!data) return;
    qsr_model *m = NULL;
    CHECK_OK(qsr_model_load_memory(data, size, &m));
    if (m) {
        trip_stats stats = {0};
        check_model_matches_file(m, data, size, &stats);
        /* Every code of the range occurs (the writer spreads them), so the most negative code's
         * sign extension is exercised too. */
        if (bits != 32) {
            int32_t qn, qp;
            qsr__act_range(bits, 1, &qn, &qp);
            for (int32_t q = qn; q <= qp; q++)
                CHECK(stats.code_seen[q + 8] > 0, "x%u w%u: code %d never occurs", scale, bits,
                      (int)q);
        }
        for (uint32_t i = 0; bits != 32 && i < 2 * m->info.blocks; i++) {
            CHECK(m->body[i].act_signed == (i % 2 == 0), "body conv %u: act_signed %d", i,
                  m->body[i].act_signed);
            CHECK(m->body[i].bits_a == bits, "body conv %u: bits_a %u", i, m->body[i].bits_a);
        }
        qsr_model_destroy(m);
    }
    free(data);
}

static void test_round_trips(void) {
    const uint32_t bits[] = {2, 3, 4, 32};
    for (uint32_t s = 2; s <= 4; s++)
        for (int b = 0; b < 4; b++) {
            /* 5 channels: 225 codes per conv, so the last QW word is partly used. */
            test_round_trip(s, bits[b], b % 2 ? 5 : 8, (int)((s + (uint32_t)b) % 2));
        }
}

static void test_load_file(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/test_model_tmp.qsr", qsr_test_env("QSR_BINARY_DIR", "."));
    qsr_test_model_params p = {0};
    p.scale = 4;
    p.seed = 5;
    CHECK_OK(qsr_test_model_write_file(&p, path));
    qsr_model *m = NULL;
    CHECK_OK(qsr_model_load_file(path, &m));
    size_t size = 0;
    void *data = write_model(&p, &size);
    if (m && data) {
        trip_stats stats = {0};
        check_model_matches_file(m, data, size, &stats);
    }
    qsr_model_destroy(m);

    /* A corrupt file's message names the path. */
    if (data) {
        qsr_test_put_u32(data, QSR__HDR_SCALE, 5);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL, "cannot rewrite %s", path);
        if (f) {
            fwrite(data, 1, size, f);
            fclose(f);
            m = NULL;
            CHECK_STATUS(qsr_model_load_file(path, &m), QSR_ERROR_MODEL_CORRUPT);
            CHECK(strstr(qsr_last_error(), path) != NULL, "message '%s' lacks the path",
                  qsr_last_error());
            CHECK(strstr(qsr_last_error(), "scale") != NULL, "message '%s' lacks the field",
                  qsr_last_error());
            CHECK(m == NULL, "out written on failure");
        }
        /* An empty file. */
        f = fopen(path, "wb");
        if (f) fclose(f);
        CHECK_STATUS(qsr_model_load_file(path, &m), QSR_ERROR_MODEL_CORRUPT);
        CHECK(strstr(qsr_last_error(), path) != NULL, "message '%s' lacks the path",
              qsr_last_error());
    }
    free(data);
    remove(path);

    const char *missing = "/nonexistent-dir/no-such-model.qsr";
    CHECK_STATUS(qsr_model_load_file(missing, &m), QSR_ERROR_IO);
    CHECK(strstr(qsr_last_error(), missing) != NULL, "message '%s' lacks the path",
          qsr_last_error());
    CHECK(strstr(qsr_last_error(), "No such file") != NULL, "message '%s' lacks strerror",
          qsr_last_error());
    /* A directory is not a model file. */
    const char *dir = qsr_test_env("QSR_BINARY_DIR", ".");
    CHECK_STATUS(qsr_model_load_file(dir, &m), QSR_ERROR_IO);
    CHECK(qsr_last_error()[0] != 0, "empty message");

    CHECK_STATUS(qsr_model_load_file(NULL, &m), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_model_load_memory(NULL, 300, &m), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_model_load_memory("QSRM", 4, NULL), QSR_ERROR_INVALID_ARGUMENT);
    qsr_model_info info;
    CHECK_STATUS(qsr_model_get_info(NULL, &info), QSR_ERROR_INVALID_ARGUMENT);
    qsr_model_destroy(NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Bad files
 */
typedef struct bad_file {
    void *data;
    size_t size;
} bad_file;

/* A fresh copy of a valid model to break. */
static bad_file fresh(const void *valid, size_t size) {
    bad_file b = {copy_bytes(valid, size), size};
    return b;
}

static void put_header_u32(const void *valid, size_t size, size_t field, uint32_t value,
                           qsr_status expected, const char *needle, const char *what) {
    bad_file b = fresh(valid, size);
    qsr_test_put_u32(b.data, field, value);
    expect_failure(what, b.data, b.size, expected, needle);
    free(b.data);
}

static void test_truncated(const void *valid, size_t size) {
    uint64_t data_offset = qsr_test_get_u64(valid, QSR__HDR_DATA_OFFSET);
    const size_t cuts[] = {0,
                           2,
                           7,
                           100,
                           255,
                           256,
                           256 + 96 * 2 + 10,
                           (size_t)data_offset - 1,
                           (size_t)data_offset + 100,
                           size / 2,
                           size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", cuts[i]);
        expect_failure(what, valid, cuts[i], QSR_ERROR_MODEL_CORRUPT, NULL);
    }
    expect_failure("truncated mid-data", valid, size - 1, QSR_ERROR_MODEL_CORRUPT, "truncated");
    expect_failure("truncated mid-header", valid, 100, QSR_ERROR_MODEL_CORRUPT, "truncated");
    /* Trailing bytes are as wrong as missing ones. */
    bad_file b = fresh(valid, size);
    void *longer = realloc(b.data, size + 64);
    if (longer) {
        memset((uint8_t *)longer + size, 0, 64);
        expect_failure("trailing data", longer, size + 64, QSR_ERROR_MODEL_CORRUPT,
                       "payload_bytes");
        b.data = longer;
    }
    free(b.data);
}

static void test_bad_header(const void *valid, size_t size) {
    bad_file b = fresh(valid, size);
    memcpy(b.data, "PNG\x89", 4);
    expect_failure("wrong magic", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "not a .qsr model file");
    free(b.data);
    put_header_u32(valid, size, QSR__HDR_VERSION, 2, QSR_ERROR_UNSUPPORTED, "version", "version 2");
    put_header_u32(valid, size, QSR__HDR_VERSION, 0, QSR_ERROR_UNSUPPORTED, "0", "version 0");
    put_header_u32(valid, size, QSR__HDR_HEADER_BYTES, 128, QSR_ERROR_MODEL_CORRUPT, "header_bytes",
                   "header_bytes");
    /* A QuantSR-C file relabelled arch 2 lacks the QuantSR-T fields. */
    put_header_u32(valid, size, QSR__HDR_ARCH, 2, QSR_ERROR_MODEL_CORRUPT, "heads", "arch 2");
    put_header_u32(valid, size, QSR__HDR_ARCH, 3, QSR_ERROR_UNSUPPORTED, "arch", "arch 3");
    /* ... and must keep them zero. */
    put_header_u32(valid, size, QSR__HDR_WINDOW, 8, QSR_ERROR_MODEL_CORRUPT, "window",
                   "arch 1 with window 8");
    put_header_u32(valid, size, QSR__HDR_GROUP_DEPTHS + 28, 1, QSR_ERROR_MODEL_CORRUPT,
                   "group_depths[7]", "arch 1 with group_depths[7] 1");
    put_header_u32(valid, size, QSR__HDR_ARCH, 77, QSR_ERROR_UNSUPPORTED, "77", "arch 77");
    put_header_u32(valid, size, QSR__HDR_SCALE, 5, QSR_ERROR_MODEL_CORRUPT, "scale", "scale 5");
    put_header_u32(valid, size, QSR__HDR_SCALE, 1, QSR_ERROR_MODEL_CORRUPT, "scale", "scale 1");
    put_header_u32(valid, size, QSR__HDR_IN_CHANNELS, 4, QSR_ERROR_MODEL_CORRUPT, "in_channels",
                   "in_channels 4");
    put_header_u32(valid, size, QSR__HDR_CHANNELS, 0, QSR_ERROR_MODEL_CORRUPT, "channels",
                   "channels 0");
    put_header_u32(valid, size, QSR__HDR_CHANNELS, 257, QSR_ERROR_MODEL_CORRUPT, "channels",
                   "channels 257");
    put_header_u32(valid, size, QSR__HDR_BLOCKS, 0, QSR_ERROR_MODEL_CORRUPT, "blocks", "blocks 0");
    put_header_u32(valid, size, QSR__HDR_BLOCKS, 65, QSR_ERROR_MODEL_CORRUPT, "blocks",
                   "blocks 65");
    put_header_u32(valid, size, QSR__HDR_BITS_W, 5, QSR_ERROR_MODEL_CORRUPT, "bits_w", "bits_w 5");
    put_header_u32(valid, size, QSR__HDR_BITS_A, 1, QSR_ERROR_MODEL_CORRUPT, "bits_a", "bits_a 1");
    put_header_u32(valid, size, QSR__HDR_BITS_A, 32, QSR_ERROR_MODEL_CORRUPT, "bits_a",
                   "bits_a 32 with bits_w 4");
    put_header_u32(valid, size, QSR__HDR_TENSOR_COUNT, 0, QSR_ERROR_MODEL_CORRUPT, "tensor_count",
                   "tensor_count 0");
    put_header_u32(valid, size, QSR__HDR_TENSOR_COUNT, 5000, QSR_ERROR_MODEL_CORRUPT,
                   "tensor_count", "tensor_count 5000");
    put_header_u32(valid, size, QSR__HDR_TENSOR_COUNT,
                   qsr_test_get_u32(valid, QSR__HDR_TENSOR_COUNT) + 1, QSR_ERROR_MODEL_CORRUPT,
                   "data_offset", "tensor_count + 1");
    put_header_u32(valid, size, QSR__HDR_TABLE_OFFSET, 512, QSR_ERROR_MODEL_CORRUPT,
                   "tensor_table_offset", "tensor_table_offset");
    put_header_u32(valid, size, QSR__HDR_DATA_OFFSET,
                   (uint32_t)qsr_test_get_u64(valid, QSR__HDR_DATA_OFFSET) + 64,
                   QSR_ERROR_MODEL_CORRUPT, "data_offset", "data_offset");
    put_header_u32(valid, size, QSR__HDR_PAYLOAD_BYTES, 1000, QSR_ERROR_MODEL_CORRUPT,
                   "payload_bytes", "payload_bytes");
    put_header_u32(valid, size, QSR__HDR_IMG_RANGE, 0, QSR_ERROR_MODEL_CORRUPT, "img_range",
                   "img_range 0");
    put_header_u32(valid, size, QSR__HDR_IMG_RANGE, 0xBF800000u, QSR_ERROR_MODEL_CORRUPT,
                   "img_range", "img_range -1");
    put_header_u32(valid, size, QSR__HDR_RGB_MEAN + 4, 0x7FC00000u, QSR_ERROR_MODEL_CORRUPT,
                   "rgb_mean", "rgb_mean NaN");
    put_header_u32(valid, size, QSR__HDR_RESERVED + 12, 1, QSR_ERROR_MODEL_CORRUPT, "reserved",
                   "reserved byte");
    put_header_u32(valid, size, QSR__HDR_PAYLOAD_CRC,
                   qsr_test_get_u32(valid, QSR__HDR_PAYLOAD_CRC) ^ 1u, QSR_ERROR_MODEL_CORRUPT,
                   "CRC", "stored CRC off by a bit");
}

/* The valid model here has B = 4 and levels {4, 2, 1}. */
static void test_bad_depth_levels(const void *valid, size_t size) {
    const size_t lv = QSR__HDR_DEPTH_LEVELS;
    put_header_u32(valid, size, lv + 4, 4, QSR_ERROR_MODEL_CORRUPT, "depth_levels",
                   "levels {4, 4, 1}");
    put_header_u32(valid, size, lv + 8, 3, QSR_ERROR_MODEL_CORRUPT, "depth_levels",
                   "levels {4, 2, 3}");
    put_header_u32(valid, size, lv, 3, QSR_ERROR_MODEL_CORRUPT, "depth_levels[0]",
                   "levels {3, 2, 1}");
    put_header_u32(valid, size, lv + 8, 0, QSR_ERROR_MODEL_CORRUPT, "depth_levels",
                   "levels {4, 2, 0}");
    put_header_u32(valid, size, lv + 12, 1, QSR_ERROR_MODEL_CORRUPT, "depth_levels[3]",
                   "unused level not 0");
    put_header_u32(valid, size, QSR__HDR_DEPTH_LEVEL_COUNT, 0, QSR_ERROR_MODEL_CORRUPT,
                   "depth_level_count", "0 levels");
    put_header_u32(valid, size, QSR__HDR_DEPTH_LEVEL_COUNT, 9, QSR_ERROR_MODEL_CORRUPT,
                   "depth_level_count", "9 levels");
    put_header_u32(valid, size, QSR__HDR_DEPTH_LEVEL_COUNT, 4, QSR_ERROR_MODEL_CORRUPT,
                   "depth_levels", "4 levels, last 0");

    const size_t rank = QSR__HDR_BLOCK_RANK;
    const uint8_t *r = (const uint8_t *)valid + rank;
    bad_file b = fresh(valid, size);
    ((uint8_t *)b.data)[rank + 1] = r[0]; /* a block twice */
    expect_failure("block_rank duplicate", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "block_rank");
    ((uint8_t *)b.data)[rank + 1] = 4; /* index >= B */
    expect_failure("block_rank index 4", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "block_rank");
    ((uint8_t *)b.data)[rank + 1] = r[1];
    ((uint8_t *)b.data)[rank + 10] = 1; /* past B, must be 0 */
    expect_failure("block_rank tail", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "block_rank");
    free(b.data);
}

/* Changes one u32/u64 field of the entry of `name`, refreshing the CRC so the structural check,
 * not the CRC, must catch it. */
static void break_entry(const void *valid, size_t size, const char *name, size_t field,
                        uint64_t value, int is_u64, const char *needle, const char *what) {
    bad_file b = fresh(valid, size);
    qsr_test_tensor t;
    int found = qsr_test_model_find_tensor(b.data, b.size, name, &t);
    CHECK(found, "%s: no tensor '%s'", what, name);
    if (found) {
        if (is_u64)
            qsr_test_put_u64(b.data, t.entry_offset + field, value);
        else
            qsr_test_put_u32(b.data, t.entry_offset + field, (uint32_t)value);
        qsr_test_model_fix_crc(b.data, b.size);
        expect_failure(what, b.data, b.size, QSR_ERROR_MODEL_CORRUPT, needle);
    }
    free(b.data);
}

static void test_bad_table(const void *valid, size_t size) {
    qsr_test_tensor bias, other;
    qsr_test_model_find_tensor(valid, size, "conv_first.bias", &bias);
    qsr_test_model_find_tensor(valid, size, "body.0.conv1.bias", &other);

    /* The CRC covers table and data: one flipped bit anywhere is caught. */
    bad_file b = fresh(valid, size);
    ((uint8_t *)b.data)[size - 3] ^= 0x10;
    expect_failure("flipped data bit", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "CRC");
    ((uint8_t *)b.data)[size - 3] ^= 0x10;
    ((uint8_t *)b.data)[bias.entry_offset + QSR__ENT_OFFSET] ^= 0x40;
    expect_failure("flipped table bit", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "CRC");
    free(b.data);

    const char *n = "conv_first.bias";
    const uint64_t aligned_end = ((uint64_t)size + 63) & ~(uint64_t)63;
    break_entry(valid, size, n, QSR__ENT_OFFSET, aligned_end, 1, "past the end",
                "offset at end of file");
    break_entry(valid, size, n, QSR__ENT_OFFSET, aligned_end + 6400, 1, "past the end",
                "offset past end");
    break_entry(valid, size, n, QSR__ENT_OFFSET, UINT64_MAX - 63, 1, "past the end",
                "offset 2^64-64");
    /* The last tensor ends at the end of the file; one more element runs past it. */
    qsr_test_tensor last;
    qsr_test_model_tensor_at(valid, size, qsr_test_get_u32(valid, QSR__HDR_TENSOR_COUNT) - 1,
                             &last);
    CHECK(last.offset + last.bytes == size, "writer: last tensor does not end the file");
    b = fresh(valid, size);
    qsr_test_put_u32(b.data, last.entry_offset + QSR__ENT_SHAPE, last.shape[0] + 1);
    qsr_test_put_u64(b.data, last.entry_offset + QSR__ENT_BYTES, last.bytes + 4);
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("last tensor one element long", b.data, b.size, QSR_ERROR_MODEL_CORRUPT,
                   "past the end");
    free(b.data);
    break_entry(valid, size, n, QSR__ENT_OFFSET, bias.offset + 4, 1, "multiple of 64",
                "unaligned offset");
    break_entry(valid, size, n, QSR__ENT_OFFSET, 192, 1, "data_offset", "offset inside the table");
    break_entry(valid, size, n, QSR__ENT_BYTES, bias.bytes + 4, 1, "bytes", "bytes + 4");
    break_entry(valid, size, n, QSR__ENT_BYTES, UINT64_MAX, 1, "bytes", "bytes 2^64-1");
    break_entry(valid, size, n, QSR__ENT_OFFSET, other.offset, 1, "overlap",
                "two tensors at one offset");
    break_entry(valid, size, n, QSR__ENT_DTYPE, 7, 0, "dtype", "dtype 7");
    break_entry(valid, size, n, QSR__ENT_DTYPE, QSR__DTYPE_I32, 0, "dtype", "bias as I32");
    break_entry(valid, size, n, QSR__ENT_BITS, 16, 0, "bits", "F32 with bits 16");
    break_entry(valid, size, "body.1.conv1.weight", QSR__ENT_BITS, 2, 0, "bits",
                "QW bits != bits_w");
    break_entry(valid, size, n, QSR__ENT_NDIM, 0, 0, "ndim", "ndim 0");
    break_entry(valid, size, n, QSR__ENT_NDIM, 5, 0, "ndim", "ndim 5");
    break_entry(valid, size, n, QSR__ENT_RESERVED, 1, 0, "reserved", "entry reserved");
    break_entry(valid, size, n, QSR__ENT_SHAPE + 4, 2, 0, "shape", "shape past ndim");
    break_entry(valid, size, n, QSR__ENT_SHAPE, 0, 0, "shape", "shape 0");
    break_entry(valid, size, n, QSR__ENT_SHAPE, 0xFFFFFFFFu, 0, n, "shape 2^32-1");
    /* Same byte count, wrong dimensions: [C, 3, 3, 3] written as [3, C, 3, 3]. */
    qsr_test_tensor w;
    qsr_test_model_find_tensor(valid, size, "conv_first.weight", &w);
    b = fresh(valid, size);
    qsr_test_put_u32(b.data, w.entry_offset + QSR__ENT_SHAPE, 3);
    qsr_test_put_u32(b.data, w.entry_offset + QSR__ENT_SHAPE + 4, w.shape[0]);
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("transposed shape", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "shape");
    free(b.data);
    /* weight_step: [1] and [C] are the only shapes. */
    break_entry(valid, size, "body.0.conv1.weight_step", QSR__ENT_NDIM, 2, 0,
                "body.0.conv1.weight_step", "weight_step [1, 1]");

    /* Names: duplicate, unprintable, not NUL-padded, empty. */
    b = fresh(valid, size);
    memcpy((uint8_t *)b.data + other.entry_offset, bias.name, 48);
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("duplicate name", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "twice");
    free(b.data);
    b = fresh(valid, size);
    ((uint8_t *)b.data)[bias.entry_offset + 2] = 0x07;
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("unprintable name", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "printable");
    ((uint8_t *)b.data)[bias.entry_offset + 2] = 'n';
    ((uint8_t *)b.data)[bias.entry_offset + 40] = 'x';
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("name not NUL-padded", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "NUL");
    memset((uint8_t *)b.data + bias.entry_offset, 'a', 48);
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("name not terminated", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "NUL");
    memset((uint8_t *)b.data + bias.entry_offset, 0, 48);
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("empty name", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "empty");
    free(b.data);
    /* A renamed tensor is both unknown and leaves one missing; unknown is reported first. */
    b = fresh(valid, size);
    memcpy((uint8_t *)b.data + bias.entry_offset, "conv_first.bais", 15);
    qsr_test_model_fix_crc(b.data, b.size);
    expect_failure("misspelled name", b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "conv_first.bais");
    free(b.data);
}

/* Files with a valid layout and CRC that lack a tensor or carry a foreign one. */
static void test_missing_and_unknown(void) {
    const char *omit[] = {"body.1.conv2.act_shift", "body.3.shortcut", "conv_last.bias",
                          "upsample.0.weight", "body.0.conv1.weight"};
    for (size_t i = 0; i < sizeof omit / sizeof omit[0]; i++) {
        qsr_test_model_params p = {0};
        p.omit_tensor = omit[i];
        size_t size;
        void *data = write_model(&p, &size);
        if (!data) continue;
        char what[96];
        snprintf(what, sizeof what, "missing %s", omit[i]);
        expect_failure(what, data, size, QSR_ERROR_MODEL_CORRUPT, omit[i]);
        CHECK(strstr(qsr_last_error(), "missing") != NULL, "%s: '%s'", what, qsr_last_error());
        free(data);
    }
    const char *extra[] = {"body.0.conv3.weight", "body.4.shortcut", "upsample.1.bias",
                           "conv_first.weight_step"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        qsr_test_model_params p = {0};
        p.scale = 2; /* so upsample.1 is foreign too */
        p.extra_tensor = extra[i];
        size_t size;
        void *data = write_model(&p, &size);
        if (!data) continue;
        char what[96];
        snprintf(what, sizeof what, "unknown %s", extra[i]);
        expect_failure(what, data, size, QSR_ERROR_MODEL_CORRUPT, extra[i]);
        CHECK(strstr(qsr_last_error(), "unknown") != NULL, "%s: '%s'", what, qsr_last_error());
        free(data);
    }
    /* With an odd tensor count the table ends 32 bytes before data_offset; the padding must be
     * zero (checked before the table, so the extra tensor is not what fails here). */
    qsr_test_model_params odd = {0};
    odd.extra_tensor = "padding.probe";
    size_t odd_size;
    void *odd_data = write_model(&odd, &odd_size);
    if (odd_data) {
        uint32_t count = qsr_test_get_u32(odd_data, QSR__HDR_TENSOR_COUNT);
        size_t table_end = QSR__HEADER_BYTES + (size_t)QSR__ENTRY_BYTES * count;
        CHECK(count % 2 == 1, "expected an odd tensor count, got %u", count);
        ((uint8_t *)odd_data)[table_end + 5] = 0xAB;
        qsr_test_model_fix_crc(odd_data, odd_size);
        expect_failure("non-zero table padding", odd_data, odd_size, QSR_ERROR_MODEL_CORRUPT,
                       "padding");
        free(odd_data);
    }

    /* A float model's body has no quantizer tensors. */
    qsr_test_model_params p = {0};
    p.bits_w = 32;
    p.extra_tensor = "body.0.conv1.act_step";
    size_t size;
    void *data = write_model(&p, &size);
    if (data) {
        expect_failure("act_step in a float model", data, size, QSR_ERROR_MODEL_CORRUPT, "unknown");
        free(data);
    }
}

/* Writes one element of a tensor's data and refreshes the CRC. */
static void break_value(const void *valid, size_t size, const char *name, size_t element,
                        uint32_t bits, const char *needle, const char *what) {
    bad_file b = fresh(valid, size);
    qsr_test_tensor t;
    if (qsr_test_model_find_tensor(b.data, b.size, name, &t)) {
        qsr_test_put_u32(b.data, (size_t)t.offset + 4 * element, bits);
        qsr_test_model_fix_crc(b.data, b.size);
        expect_failure(what, b.data, b.size, QSR_ERROR_MODEL_CORRUPT, needle);
    } else {
        CHECK(0, "%s: no tensor '%s'", what, name);
    }
    free(b.data);
}

static void test_bad_values(const void *valid, size_t size) {
    const uint32_t nan = 0x7FC00000u, inf = 0x7F800000u, ninf = 0xFF800000u;
    break_value(valid, size, "conv_first.weight", 5, nan, "conv_first.weight", "NaN weight");
    break_value(valid, size, "conv_last.bias", 2, inf, "not finite", "Inf bias");
    break_value(valid, size, "body.2.shortcut", 0, ninf, "not finite", "-Inf shortcut");
    break_value(valid, size, "body.1.conv2.act_shift", 3, nan, "act_shift", "NaN act_shift");
    break_value(valid, size, "body.0.conv1.act_step", 0, 0, "act_step", "zero act_step");
    break_value(valid, size, "body.0.conv1.act_step", 0, 0x80000000u, "act_step",
                "negative zero act_step");
    break_value(valid, size, "body.3.conv2.weight_step", 0, 0xBF800000u, "weight_step",
                "negative weight_step");
    break_value(valid, size, "body.3.conv2.weight_step", 0, nan, "weight_step", "NaN weight_step");
    break_value(valid, size, "body.1.conv1.act_signed", 0, 2, "act_signed", "act_signed 2");
    break_value(valid, size, "body.1.conv1.act_signed", 0, 0xFFFFFFFFu, "act_signed",
                "act_signed -1");

    /* A float model: NaN in a body weight. */
    qsr_test_model_params p = {0};
    p.bits_w = 32;
    size_t fsize;
    void *fp = write_model(&p, &fsize);
    if (fp) {
        break_value(fp, fsize, "body.1.conv2.weight", 17, nan, "body.1.conv2.weight",
                    "NaN float body weight");
        free(fp);
    }

    /* 3-bit codes live in 4-bit fields; the field values 4..11 are not 3-bit codes. Five
     * channels leave the last word of each QW tensor partly unused; those fields must be 0. */
    p.bits_w = 3;
    p.channels = 5;
    size_t qsize;
    void *q3 = write_model(&p, &qsize);
    if (q3) {
        qsr_model *m = NULL;
        CHECK_OK(qsr_model_load_memory(q3, qsize, &m));
        qsr_model_destroy(m);
        qsr_test_tensor t;
        qsr_test_model_find_tensor(q3, qsize, "body.2.conv1.weight", &t);
        uint32_t word = qsr_test_get_u32(q3, (size_t)t.offset + 8);
        const uint32_t bad_fields[] = {4, 7, 8, 11};
        for (int k = 0; k < 4; k++) {
            char what[64];
            snprintf(what, sizeof what, "3-bit field value %u", bad_fields[k]);
            break_value(q3, qsize, "body.2.conv1.weight", 2, (word & ~0xF0u) | bad_fields[k] << 4,
                        "body.2.conv1.weight", what);
        }
        size_t last = (t.bytes / 4) - 1; /* 225 codes: one used field in the last word */
        uint32_t last_word = qsr_test_get_u32(q3, (size_t)t.offset + 4 * last);
        break_value(q3, qsize, "body.2.conv1.weight", last, last_word | 0x10u, "unused",
                    "unused QW field set");
        free(q3);
    }
}

/* Random damage to the header and table, with the CRC refreshed, must yield either a model or a
 * clean error (run under a sanitizer this also proves no out-of-bounds access). */
static void test_random_damage(void) {
    qsr_test_model_params p = {0};
    p.channels = 4;
    p.blocks = 2;
    p.bits_w = 3;
    size_t size;
    void *valid = write_model(&p, &size);
    if (!valid) return;
    size_t data_offset = (size_t)qsr_test_get_u64(valid, QSR__HDR_DATA_OFFSET);
    qsr_rng rng = {1234};
    int loaded = 0, failed = 0;
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *b = (uint8_t *)copy_bytes(valid, size);
        if (!b) break;
        int flips = qsr_rng_int(&rng, 1, 4);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)qsr_rng_int(&rng, 0, (int32_t)data_offset - 1);
            b[at] ^= (uint8_t)(1u << qsr_rng_int(&rng, 0, 7));
        }
        qsr_test_model_fix_crc(b, size);
        qsr_model *m = NULL;
        qsr_status st = qsr_model_load_memory(b, size, &m);
        if (st == QSR_OK) {
            loaded++;
            CHECK(m && m->conv_first.bias && m->conv_last.weight && m->body, "partial model");
            qsr_model_destroy(m);
        } else {
            failed++;
            CHECK(qsr_last_error()[0] != 0, "iteration %d: %s without a message", iter,
                  qsr_status_name(st));
            CHECK(st == QSR_ERROR_MODEL_CORRUPT || st == QSR_ERROR_UNSUPPORTED,
                  "iteration %d: unexpected %s (%s)", iter, qsr_status_name(st), qsr_last_error());
        }
        free(b);
    }
    /* Nearly every flip hits a checked field; only a few land in bytes whose every value is
     * valid (such as rgb_mean) and load. */
    CHECK(failed > 2500, "only %d of 3000 damaged files were rejected (%d loaded)", failed, loaded);
    free(valid);
}

static void test_bad_inputs(void) {
    qsr_test_model_params p = {0}; /* x2, C = 8, B = 4, w4a4, levels {4, 2, 1} */
    p.seed = 42;
    size_t size = 0;
    void *valid = write_model(&p, &size);
    if (!valid) return;
    qsr_model *m = NULL;
    CHECK_OK(qsr_model_load_memory(valid, size, &m));
    qsr_model_destroy(m);
    test_truncated(valid, size);
    test_bad_header(valid, size);
    test_bad_depth_levels(valid, size);
    test_bad_table(valid, size);
    test_bad_values(valid, size);
    test_missing_and_unknown();
    free(valid);
}

/* ---------------------------------------------------------------------------------------------
 * Depth, cost and the small helpers
 */
static qsr_model *load_params(const qsr_test_model_params *p) {
    size_t size;
    void *data = write_model(p, &size);
    qsr_model *m = NULL;
    if (data) CHECK_OK(qsr_model_load_memory(data, size, &m));
    free(data);
    return m;
}

static void test_depth(void) {
    qsr_test_model_params p = {0};
    p.blocks = 4;
    p.seed = 3;
    qsr_model *m = load_params(&p);
    if (!m) return;
    const uint32_t levels[] = {4, 2, 1};
    CHECK(m->info.depth_level_count == 3, "default levels: %u", m->info.depth_level_count);
    for (int i = 0; i < 3; i++)
        CHECK(m->info.depth_levels[i] == levels[i], "level %d is %u", i, m->info.depth_levels[i]);
    CHECK_OK(qsr_model_check_depth(m, 0, 0));
    for (int i = 0; i < 3; i++)
        CHECK_OK(qsr_model_check_depth(m, levels[i], 0));
    CHECK_STATUS(qsr_model_check_depth(m, 3, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), "4, 2, 1") != NULL, "message '%s' lacks the levels",
          qsr_last_error());
    CHECK_STATUS(qsr_model_check_depth(m, 5, 0), QSR_ERROR_INVALID_ARGUMENT);
    for (uint32_t d = 0; d <= 4; d++)
        CHECK_OK(qsr_model_check_depth(m, d, 1));
    CHECK_STATUS(qsr_model_check_depth(m, 5, 1), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(qsr_last_error()[0] != 0, "empty message");

    /* The block rank is a permutation, and depth D keeps exactly block_rank[0..D-1]. */
    uint32_t seen = 0;
    for (uint32_t i = 0; i < 4; i++)
        seen |= 1u << m->info.block_rank[i];
    CHECK(seen == 0xF, "block_rank is not a permutation of 0..3");
    for (uint32_t d = 0; d <= 4; d++) {
        uint32_t active = 0;
        for (uint32_t b = 0; b < 4; b++) {
            int expected = d == 0;
            for (uint32_t k = 0; k < d; k++)
                expected |= m->info.block_rank[k] == b;
            CHECK(qsr__model_block_active(m, d, b) == expected, "depth %u block %u", d, b);
            active += (uint32_t)qsr__model_block_active(m, d, b);
        }
        CHECK(active == (d ? d : 4), "depth %u keeps %u blocks", d, active);
    }
    CHECK(!qsr__model_block_active(m, 0, 4), "block 4 of 4 is active");
    qsr_model_destroy(m);

    /* Explicit levels and the halving default for B = 16. */
    p.blocks = 6;
    p.depth_level_count = 2;
    p.depth_levels[0] = 6;
    p.depth_levels[1] = 3;
    m = load_params(&p);
    if (m) {
        CHECK_OK(qsr_model_check_depth(m, 3, 0));
        CHECK_STATUS(qsr_model_check_depth(m, 2, 0), QSR_ERROR_INVALID_ARGUMENT);
        CHECK(strstr(qsr_last_error(), "6, 3") != NULL, "message '%s'", qsr_last_error());
        qsr_model_destroy(m);
    }
    memset(&p, 0, sizeof p);
    p.blocks = 16;
    p.channels = 4;
    m = load_params(&p);
    if (m) {
        const uint32_t halving[] = {16, 8, 4, 2, 1};
        CHECK(m->info.depth_level_count == 5, "B=16: %u levels", m->info.depth_level_count);
        for (int i = 0; i < 5; i++)
            CHECK(m->info.depth_levels[i] == halving[i], "B=16 level %d: %u", i,
                  m->info.depth_levels[i]);
        qsr_model_destroy(m);
    }
}

static void test_macs(void) {
    /* C = 8, B = 4, worked out by hand from docs/model-format.md:
     *   conv_first 9*3*8 = 216; a body block 2*9*64 = 1152; conv_after_body 9*64 = 576;
     *   x2: upsample 9*8*32 = 2304, conv_last 9*8*3*4 = 864;
     *   x3: upsample 9*8*72 = 5184, conv_last 9*8*3*9 = 1944;
     *   x4: upsample 2304 + 4*2304 = 11520, conv_last 9*8*3*16 = 3456. */
    const uint64_t fixed[5] = {0, 0, 216 + 576 + 2304 + 864, 216 + 576 + 5184 + 1944,
                               216 + 576 + 11520 + 3456};
    for (uint32_t s = 2; s <= 4; s++) {
        qsr_test_model_params p = {0};
        p.scale = s;
        p.channels = 8;
        p.blocks = 4;
        qsr_model *m = load_params(&p);
        if (!m) continue;
        CHECK(qsr_model_macs_per_pixel(m, 0) == fixed[s] + 4 * 1152, "x%u all: %llu", s,
              (unsigned long long)qsr_model_macs_per_pixel(m, 0));
        CHECK(qsr_model_macs_per_pixel(m, 4) == fixed[s] + 4 * 1152, "x%u depth 4", s);
        CHECK(qsr_model_macs_per_pixel(m, 2) == fixed[s] + 2 * 1152, "x%u depth 2: %llu", s,
              (unsigned long long)qsr_model_macs_per_pixel(m, 2));
        CHECK(qsr_model_macs_per_pixel(m, 1) == fixed[s] + 1152, "x%u depth 1", s);
        qsr_model_destroy(m);
    }
    CHECK(qsr_model_macs_per_pixel(NULL, 0) == 0, "NULL model");
}

/* The architecture table's public face: names and capabilities. */
static void test_capabilities(void) {
    qsr_test_model_params p = {0};
    p.scale = 2;
    p.channels = 8;
    p.blocks = 2;
    qsr_model *m = load_params(&p);
    if (m) {
        CHECK(qsr_model_capabilities(m) == (QSR_MODEL_CAP_GPU | QSR_MODEL_CAP_REGION_EXACT),
              "QuantSR-C capabilities %u", qsr_model_capabilities(m));
        qsr_model_destroy(m);
    }
    CHECK(qsr_model_capabilities(NULL) == 0, "NULL model");
    CHECK(strcmp(qsr_arch_name(QSR_ARCH_QUANTSR_C), "QuantSR-C") == 0, "arch 1");
    CHECK(strcmp(qsr_arch_name(QSR_ARCH_QUANTSR_T), "QuantSR-T") == 0, "arch 2");
    CHECK(strcmp(qsr_arch_name(77), "unknown") == 0, "arch 77");
}

static void test_helpers(void) {
    int32_t qn, qp;
    qsr__act_range(2, 1, &qn, &qp);
    CHECK(qn == -2 && qp == 1, "2-bit signed: [%d, %d]", (int)qn, (int)qp);
    qsr__act_range(2, 0, &qn, &qp);
    CHECK(qn == 0 && qp == 3, "2-bit unsigned: [%d, %d]", (int)qn, (int)qp);
    qsr__act_range(3, 1, &qn, &qp);
    CHECK(qn == -4 && qp == 3, "3-bit signed: [%d, %d]", (int)qn, (int)qp);
    qsr__act_range(4, 0, &qn, &qp);
    CHECK(qn == 0 && qp == 15, "4-bit unsigned: [%d, %d]", (int)qn, (int)qp);
    qsr__act_range(4, 1, &qn, &qp);
    CHECK(qn == -8 && qp == 7, "4-bit signed: [%d, %d]", (int)qn, (int)qp);

    /* 2-bit fields, element 0 in the low bits: 00 01 10 11 -> 0 1 -2 -1; word 1 element 16. */
    const uint32_t w2[2] = {0xE4u, 0x2u};
    const int32_t e2[4] = {0, 1, -2, -1};
    for (int i = 0; i < 4; i++)
        CHECK(qsr__qw_get(w2, 2, (size_t)i) == e2[i], "2-bit element %d", i);
    CHECK(qsr__qw_get(w2, 2, 16) == -2, "2-bit element 16");
    /* 4-bit fields: 7, 8 (-8), 15 (-1), 0, ... ; 3-bit codes use the same containers. */
    const uint32_t w4[2] = {0x0F87u, 0xC0000000u};
    CHECK(qsr__qw_get(w4, 4, 0) == 7 && qsr__qw_get(w4, 4, 1) == -8 &&
              qsr__qw_get(w4, 4, 2) == -1 && qsr__qw_get(w4, 4, 3) == 0,
          "4-bit fields");
    CHECK(qsr__qw_get(w4, 3, 15) == -4, "3-bit element 15: %d", (int)qsr__qw_get(w4, 3, 15));

    /* The writer is deterministic in its seed. */
    qsr_test_model_params p = {0};
    p.seed = 9;
    size_t a_size, b_size, c_size;
    void *a = write_model(&p, &a_size), *b = write_model(&p, &b_size);
    p.seed = 10;
    void *c = write_model(&p, &c_size);
    if (a && b && c) {
        CHECK(a_size == b_size && memcmp(a, b, a_size) == 0, "same seed, different files");
        CHECK(a_size == c_size && memcmp(a, c, a_size) != 0, "different seeds, same file");
    }
    free(a);
    free(b);
    free(c);
}

/* The writer's models are realistic: a photo-like image through the CPU reference gives an
 * output spread over mid-range values (not saturated, not flat), and the quantized body
 * changes it (dropping blocks makes a visible difference). */
typedef struct output_spread {
    double saturated; /* fraction of 0 or 255 values */
    double stddev;    /* of all values */
    uint32_t distinct;
} output_spread;

static output_spread measure_spread(const qsr_image *img) {
    output_spread r = {0, 0, 0};
    size_t n = (size_t)img->width * img->height * img->channels, saturated = 0;
    uint8_t used[256] = {0};
    double sum = 0, square = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t v = img->pixels[i];
        saturated += v == 0 || v == 255;
        used[v] = 1;
        sum += v;
        square += (double)v * v;
    }
    for (int v = 0; v < 256; v++)
        r.distinct += used[v];
    r.saturated = (double)saturated / (double)n;
    r.stddev = sqrt(square / (double)n - (sum / (double)n) * (sum / (double)n));
    return r;
}

/* Random models (QuantSR-C and QuantSR-T) keep their activations in range: outputs spread, not
 * saturated, and the body matters (depth 1 differs from the full depth). */
static void test_writer_realism(void) {
    /* scale, bits_w, bits_a, arch (0: QuantSR-C) */
    const uint32_t configs[][4] = {{2, 2, 2, 0},   {3, 3, 3, 0}, {4, 4, 4, 0}, {2, 32, 32, 0},
                                   {4, 2, 4, 0},   {3, 4, 2, 0}, {2, 4, 4, 2}, {4, 2, 2, 2},
                                   {3, 32, 32, 2}, {2, 3, 4, 2}};
    qsr_rng rng = {77};
    qsr_image in = qsr_test_random_image(&rng, 20, 20, 3);
    CHECK(in.pixels != NULL, "no test image");
    for (size_t k = 0; in.pixels && k < sizeof configs / sizeof configs[0]; k++) {
        qsr_test_model_params p = {0};
        p.scale = configs[k][0];
        p.bits_w = configs[k][1];
        p.bits_a = configs[k][2];
        p.channels = 16;
        p.blocks = 6;
        p.seed = 1000 + k;
        p.per_channel_weight_step = (int)(k % 2);
        p.arch = configs[k][3];
        p.window = 4; /* QuantSR-T: 5 x 5 windows over the 20 x 20 input */
        qsr_model *m = load_params(&p);
        if (!m) continue;
        qsr_image full = {0}, shallow = {0};
        CHECK_OK(qsr_reference_upscale(m, &in, 0, &full));
        CHECK_OK(qsr_reference_upscale(m, &in, 1, &shallow));
        if (full.pixels && shallow.pixels) {
            output_spread s = measure_spread(&full);
            double diff = 0;
            size_t n = (size_t)full.width * full.height * 3;
            for (size_t i = 0; i < n; i++)
                diff += fabs((double)full.pixels[i] - shallow.pixels[i]);
            diff /= (double)n;
            if (getenv("QSR_TEST_VERBOSE"))
                printf("arch %u x%u w%ua%u: saturated %.4f stddev %.1f distinct %u depth-1 diff "
                       "%.2f\n",
                       p.arch, p.scale, p.bits_w, p.bits_a, s.saturated, s.stddev, s.distinct,
                       diff);
            CHECK(s.saturated < 0.01, "x%u w%u: %.1f%% of outputs are 0 or 255", p.scale, p.bits_w,
                  100 * s.saturated);
            CHECK(s.stddev > 10, "x%u w%u: output stddev %.1f, too flat", p.scale, p.bits_w,
                  s.stddev);
            CHECK(s.distinct >= 64, "x%u w%u: only %u distinct output values", p.scale, p.bits_w,
                  s.distinct);
            CHECK(diff > 1.0, "x%u w%u: the body barely matters (depth 1 differs by %.2f)", p.scale,
                  p.bits_w, diff);
        }
        qsr_image_free(&full);
        qsr_image_free(&shallow);
        qsr_model_destroy(m);
    }
    qsr_image_free(&in);
}

/* qsr_model_create_random: the requested shape, halving depth levels, reproducible weights
 * from the seed, and a clear error for a shape the format cannot hold. */
static void test_create_random(void) {
    qsr_random_model_desc d = {
        .scale = 3, .channels = 24, .blocks = 6, .bits_w = 2, .bits_a = 3, .seed = 5};
    qsr_model *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(qsr_model_create_random(&d, &a));
    CHECK_OK(qsr_model_create_random(&d, &b));
    d.seed = 6;
    CHECK_OK(qsr_model_create_random(&d, &c));
    qsr_model_info ia, ib, ic;
    CHECK_OK(qsr_model_get_info(a, &ia));
    CHECK_OK(qsr_model_get_info(b, &ib));
    CHECK_OK(qsr_model_get_info(c, &ic));
    CHECK(ia.arch == QSR_ARCH_QUANTSR_C && ia.scale == 3 && ia.channels == 24 && ia.blocks == 6 &&
              ia.bits_w == 2 && ia.bits_a == 3,
          "random model info: x%u C%u B%u W%u A%u", ia.scale, ia.channels, ia.blocks, ia.bits_w,
          ia.bits_a);
    CHECK(ia.depth_level_count == 3 && ia.depth_levels[0] == 6 && ia.depth_levels[1] == 3 &&
              ia.depth_levels[2] == 1,
          "depth levels of a 6-block random model");
    qsr_rng rng = {3};
    qsr_image in = qsr_test_random_image(&rng, 9, 7, 3), oa, ob, oc;
    CHECK_OK(qsr_reference_upscale(a, &in, 0, &oa));
    CHECK_OK(qsr_reference_upscale(b, &in, 0, &ob));
    CHECK_OK(qsr_reference_upscale(c, &in, 0, &oc));
    size_t n = (size_t)oa.width * oa.height * 3;
    CHECK(memcmp(oa.pixels, ob.pixels, n) == 0, "the same seed made different weights");
    CHECK(memcmp(oa.pixels, oc.pixels, n) != 0, "another seed made the same weights");
    qsr_image_free(&in), qsr_image_free(&oa), qsr_image_free(&ob), qsr_image_free(&oc);
    qsr_model_destroy(a), qsr_model_destroy(b), qsr_model_destroy(c);
    qsr_random_model_desc bad = {.scale = 5, .channels = 8, .blocks = 2, .bits_w = 4, .bits_a = 4};
    qsr_model *none = NULL;
    CHECK_STATUS(qsr_model_create_random(&bad, &none), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(none == NULL, "a failed create returned a model");
    bad = (qsr_random_model_desc){.scale = 2, .channels = 8, .blocks = 2, .bits_w = 4};
    CHECK_STATUS(qsr_model_create_random(&bad, &none), QSR_ERROR_INVALID_ARGUMENT);

    /* QuantSR-T: the requested transformer fields, defaults for the others. */
    qsr_random_model_desc t = {.scale = 4,
                               .channels = 30,
                               .blocks = 5,
                               .bits_w = 4,
                               .bits_a = 4,
                               .seed = 2,
                               .arch = QSR_ARCH_QUANTSR_T,
                               .heads = 5,
                               .window = 16};
    qsr_model *mt = NULL;
    CHECK_OK(qsr_model_create_random(&t, &mt));
    qsr_model_info it;
    if (mt && qsr_model_get_info(mt, &it) == QSR_OK)
        CHECK(it.arch == QSR_ARCH_QUANTSR_T && it.channels == 30 && it.blocks == 5 &&
                  it.heads == 5 && it.window == 16 && it.mlp_hidden == 60 && it.group_count == 2 &&
                  it.group_depths[0] == 3 && it.group_depths[1] == 2 && it.group_depths[2] == 0,
              "random T info: C%u B%u heads %u window %u hidden %u groups %u (%u + %u)",
              it.channels, it.blocks, it.heads, it.window, it.mlp_hidden, it.group_count,
              it.group_depths[0], it.group_depths[1]);
    qsr_model_destroy(mt);
    t.heads = 4; /* does not divide 30 */
    CHECK_STATUS(qsr_model_create_random(&t, &none), QSR_ERROR_INVALID_ARGUMENT);
    t.heads = 0, t.window = 5;
    CHECK_STATUS(qsr_model_create_random(&t, &none), QSR_ERROR_INVALID_ARGUMENT);
    t.window = 0, t.group_count = 6; /* more groups than layers */
    CHECK_STATUS(qsr_model_create_random(&t, &none), QSR_ERROR_INVALID_ARGUMENT);
    t.group_count = 0, t.arch = (qsr_arch)3;
    CHECK_STATUS(qsr_model_create_random(&t, &none), QSR_ERROR_INVALID_ARGUMENT);
}

/* ---------------------------------------------------------------------------------------------
 * QuantSR-T (arch 2): tests/data/quantsr_t_tiny.qsr, written by tests/data/make_t_golden.py
 * --fixture (E 8, heads 2, window 4, mlp_hidden 16, groups [2, 2], x2, 4 bits, depth levels
 * 4, 3, 2, 1, block_rank 2 0 3 1)
 */
static void *read_t_fixture(size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/quantsr_t_tiny.qsr",
             qsr_test_env("QSR_SOURCE_DIR", "."));
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return NULL;
    void *data = malloc(1 << 20);
    *size = data ? fread(data, 1, 1 << 20, f) : 0;
    fclose(f);
    CHECK(*size > QSR__HEADER_BYTES, "%s: %zu bytes", path, *size);
    return data;
}

/* A quantized linear layer: geometry, bias, steps, shift and every unpacked code. */
static void check_linear(const char *prefix, const qsr__conv *l, uint32_t cin, uint32_t cout,
                         const void *data, size_t size, trip_stats *stats) {
    char name[64];
    CHECK(l->cin == cin && l->cout == cout, "%s: %ux%u", prefix, l->cin, l->cout);
    snprintf(name, sizeof name, "%s.bias", prefix);
    check_floats(name, l->bias, cout, data, size, stats);
    snprintf(name, sizeof name, "%s.act_shift", prefix);
    check_floats(name, l->act_shift, cin, data, size, stats);
    snprintf(name, sizeof name, "%s.act_step", prefix);
    check_scalar(name, l->act_step, data, size, stats);
    snprintf(name, sizeof name, "%s.weight", prefix);
    qsr_test_tensor t;
    const uint8_t *raw = tensor_of(data, size, name, &t);
    CHECK(l->wcode != NULL && l->weight_step != NULL, "%s: codes or steps not loaded", prefix);
    if (!raw || !l->wcode) return;
    CHECK(t.ndim == 2 && t.count == (size_t)cin * cout, "%s: %zu codes", name, t.count);
    size_t bad = 0;
    for (size_t i = 0; i < t.count; i++)
        bad += l->wcode[i] != decode_code(raw, l->bits_w, i);
    CHECK(bad == 0, "%s: %zu unpacked codes differ from the file", name, bad);
}

static void test_t_load(const void *data, size_t size) {
    qsr_model *m = NULL;
    CHECK_OK(qsr_model_load_memory(data, size, &m));
    if (!m) return;
    qsr_model_info info;
    CHECK_OK(qsr_model_get_info(m, &info));
    CHECK(info.arch == QSR_ARCH_QUANTSR_T && info.scale == 2 && info.channels == 8 &&
              info.blocks == 4 && info.bits_w == 4 && info.bits_a == 4,
          "arch %u x%u E %u B %u W%u A%u", info.arch, info.scale, info.channels, info.blocks,
          info.bits_w, info.bits_a);
    /* The architecture table: on the GPU (quantized), no exact regions (windows over the whole
     * image). */
    CHECK(qsr_model_capabilities(m) == QSR_MODEL_CAP_GPU, "QuantSR-T capabilities %u",
          qsr_model_capabilities(m));
    CHECK(strcmp(qsr_arch_name(info.arch), "QuantSR-T") == 0, "name %s", qsr_arch_name(info.arch));
    CHECK(info.heads == 2 && info.window == 4 && info.mlp_hidden == 16 && info.group_count == 2 &&
              info.group_depths[0] == 2 && info.group_depths[1] == 2 && info.group_depths[2] == 0,
          "heads %u window %u mlp_hidden %u groups %u [%u, %u, %u]", info.heads, info.window,
          info.mlp_hidden, info.group_count, info.group_depths[0], info.group_depths[1],
          info.group_depths[2]);
    CHECK(info.depth_level_count == 4 && info.depth_levels[3] == 1, "levels");
    CHECK(info.block_rank[0] == 2 && info.block_rank[1] == 0, "block_rank");
    CHECK(info.parameters > 0, "parameters");
    /* Pointers into the file and unpacked codes equal the file's values. */
    trip_stats stats = {0};
    check_floats("layer.1.attn.rel_bias", m->t.layers[1].rel_bias, 49 * 2, data, size, &stats);
    check_floats("layer.3.attn.v.act_shift", m->t.layers[3].v.shift, 8, data, size, &stats);
    check_floats("patch_norm.weight", m->t.patch_norm_weight, 8, data, size, &stats);
    check_floats("norm.bias", m->t.norm_bias, 8, data, size, &stats);
    check_floats("layer.2.norm2.weight", m->t.layers[2].norm2_weight, 8, data, size, &stats);
    check_scalar("layer.2.shortcut", m->t.layers[2].shortcut, data, size, &stats);
    check_scalar("layer.0.attn.p.act_step", m->t.layers[0].p_step, data, size, &stats);
    check_scalar("layer.1.attn.k.act_step", m->t.layers[1].k.step, data, size, &stats);
    check_linear("layer.0.qkv", &m->t.layers[0].qkv, 8, 24, data, size, &stats);
    check_linear("layer.1.proj", &m->t.layers[1].proj, 8, 8, data, size, &stats);
    check_linear("layer.2.fc1", &m->t.layers[2].fc1, 8, 16, data, size, &stats);
    check_linear("layer.3.fc2", &m->t.layers[3].fc2, 16, 8, data, size, &stats);
    check_conv("group.1.conv", &m->t.group_conv[1], 8, 8, 4, 4, data, size, &stats);
    check_conv("upsample.0", &m->upsample[0], 8, 12, 32, 32, data, size, &stats);
    CHECK(m->upsample[0].cout == 12 && m->upsample_count == 1, "upsample.0");
    /* MACs per LR pixel, by hand: conv_first 9*3*8 = 216; a Swin layer: qkv 3*64, proj 64,
     * fc1 + fc2 2*8*16, attention 2*16*8: 768; group convs 2*9*64 = 1152; conv_after_body
     * 576; upsample.0 9*8*12 = 864. */
    const uint64_t fixed = 216 + 1152 + 576 + 864;
    CHECK(qsr_model_macs_per_pixel(m, 0) == fixed + 4 * 768, "all: %llu",
          (unsigned long long)qsr_model_macs_per_pixel(m, 0));
    CHECK(qsr_model_macs_per_pixel(m, 2) == fixed + 2 * 768, "depth 2");
    CHECK(qsr_model_macs_per_pixel(m, 1) == fixed + 768, "depth 1");
    /* Depth levels count Swin layers. */
    CHECK_OK(qsr_model_check_depth(m, 3, 0));
    CHECK_OK(qsr_model_check_depth(m, 1, 0));
    CHECK_STATUS(qsr_model_check_depth(m, 5, 1), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(qsr__model_block_active(m, 1, 2) && !qsr__model_block_active(m, 1, 0), "depth 1");
    qsr_model_destroy(m);
}

static void test_t_bad_header(const void *valid, size_t size) {
    const struct {
        size_t field;
        uint32_t value;
        const char *needle, *what;
    } cases[] = {
        {QSR__HDR_HEADS, 0, "heads", "heads 0"},
        {QSR__HDR_HEADS, 3, "heads", "heads 3 (does not divide E 8)"},
        {QSR__HDR_HEADS, 32, "heads", "heads 32"},
        {QSR__HDR_WINDOW, 5, "window", "window 5"},
        {QSR__HDR_WINDOW, 0, "window", "window 0"},
        {QSR__HDR_MLP_HIDDEN, 0, "mlp_hidden", "mlp_hidden 0"},
        {QSR__HDR_MLP_HIDDEN, 1025, "mlp_hidden", "mlp_hidden 1025"},
        {QSR__HDR_GROUP_COUNT, 0, "group_count", "group_count 0"},
        {QSR__HDR_GROUP_COUNT, 9, "group_count", "group_count 9"},
        {QSR__HDR_GROUP_COUNT, 3, "group_depths[2]", "group_count 3 with depths [2, 2, 0]"},
        {QSR__HDR_GROUP_DEPTHS, 0, "group_depths[0]", "group_depths[0] 0"},
        {QSR__HDR_GROUP_DEPTHS + 4, 3, "group_depths", "group_depths sum 5"},
        {QSR__HDR_GROUP_DEPTHS + 4, 0xFFFFFFFFu, "group_depths[1]", "group_depths[1] huge"},
        {QSR__HDR_GROUP_DEPTHS + 8, 1, "group_depths[2]", "unused group_depths[2] 1"},
        {QSR__HDR_RESERVED + 4, 1, "reserved", "reserved byte 240"},
        {QSR__HDR_ARCH, 1, "heads", "arch 1 with QuantSR-T fields"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        put_header_u32(valid, size, cases[i].field, cases[i].value, QSR_ERROR_MODEL_CORRUPT,
                       cases[i].needle, cases[i].what);
    /* Depths [1, 3] hold the same layers as [2, 2] (only the groups and shifts differ). */
    bad_file b = fresh(valid, size);
    qsr_test_put_u32(b.data, QSR__HDR_GROUP_DEPTHS, 1);
    qsr_test_put_u32(b.data, QSR__HDR_GROUP_DEPTHS + 4, 3);
    qsr_model *m = NULL;
    CHECK_OK(qsr_model_load_memory(b.data, b.size, &m));
    qsr_model_destroy(m);
    free(b.data);
    /* Fewer layers: the header is consistent, the table holds tensors it does not name. */
    b = fresh(valid, size);
    qsr_test_put_u32(b.data, QSR__HDR_BLOCKS, 3);
    qsr_test_put_u32(b.data, QSR__HDR_GROUP_DEPTHS + 4, 1);
    for (uint32_t i = 0; i < 4; i++) /* levels 3, 2, 1 */
        qsr_test_put_u32(b.data, QSR__HDR_DEPTH_LEVELS + 4 * i, i < 3 ? 3 - i : 0);
    qsr_test_put_u32(b.data, QSR__HDR_DEPTH_LEVEL_COUNT, 3);
    ((uint8_t *)b.data)[QSR__HDR_BLOCK_RANK] = 1; /* rank 1 0 2 */
    ((uint8_t *)b.data)[QSR__HDR_BLOCK_RANK + 2] = 2;
    ((uint8_t *)b.data)[QSR__HDR_BLOCK_RANK + 3] = 0;
    expect_failure("T with 3 layers in the header", b.data, b.size, QSR_ERROR_MODEL_CORRUPT,
                   "layer.3.");
    free(b.data);
}

/* Removes the entry of `name` from the table (the last entry takes its place, data_offset and
 * the table padding are redone, its data stays unreferenced) and refreshes the CRC. */
static void drop_tensor(bad_file *b, const char *name) {
    qsr_test_tensor t, last;
    uint32_t count = qsr_test_get_u32(b->data, QSR__HDR_TENSOR_COUNT);
    if (!qsr_test_model_find_tensor(b->data, b->size, name, &t) ||
        !qsr_test_model_tensor_at(b->data, b->size, count - 1, &last)) {
        CHECK(0, "no tensor '%s' to drop", name);
        return;
    }
    uint8_t *bytes = (uint8_t *)b->data;
    memcpy(bytes + t.entry_offset, bytes + last.entry_offset, QSR__ENTRY_BYTES);
    uint64_t old_data = qsr_test_get_u64(b->data, QSR__HDR_DATA_OFFSET);
    uint64_t table_end = QSR__HEADER_BYTES + (uint64_t)QSR__ENTRY_BYTES * (count - 1);
    memset(bytes + table_end, 0, (size_t)(old_data - table_end));
    qsr_test_put_u32(b->data, QSR__HDR_TENSOR_COUNT, count - 1);
    qsr_test_put_u64(b->data, QSR__HDR_DATA_OFFSET, (table_end + 63) / 64 * 64);
    qsr_test_model_fix_crc(b->data, b->size);
}

/* Gives the entry of `name` the 2-d shape [d0, d1] of the same element count. */
static void break_shape(const void *valid, size_t size, const char *name, uint32_t d0, uint32_t d1,
                        const char *what) {
    bad_file b = fresh(valid, size);
    qsr_test_tensor t;
    if (qsr_test_model_find_tensor(b.data, b.size, name, &t)) {
        CHECK(t.count == (size_t)d0 * d1, "%s: %zu elements, not %u x %u", what, t.count, d0, d1);
        qsr_test_put_u32(b.data, t.entry_offset + QSR__ENT_NDIM, 2);
        qsr_test_put_u32(b.data, t.entry_offset + QSR__ENT_SHAPE, d0);
        qsr_test_put_u32(b.data, t.entry_offset + QSR__ENT_SHAPE + 4, d1);
        qsr_test_model_fix_crc(b.data, b.size);
        expect_failure(what, b.data, b.size, QSR_ERROR_MODEL_CORRUPT, "shape is");
        CHECK(strstr(qsr_last_error(), name) != NULL, "%s: '%s'", what, qsr_last_error());
    } else {
        CHECK(0, "%s: no tensor '%s'", what, name);
    }
    free(b.data);
}

static void test_t_bad_tensors(const void *valid, size_t size) {
    const char *drop[] = {"layer.1.attn.p.act_step", "layer.2.attn.rel_bias",
                          "group.1.conv.weight",     "patch_norm.bias",
                          "layer.3.fc2.act_signed",  "upsample.0.bias"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
        bad_file b = fresh(valid, size);
        drop_tensor(&b, drop[i]);
        char what[96];
        snprintf(what, sizeof what, "T without %s", drop[i]);
        expect_failure(what, b.data, b.size, QSR_ERROR_MODEL_CORRUPT, drop[i]);
        CHECK(strstr(qsr_last_error(), "missing") != NULL, "%s: '%s'", what, qsr_last_error());
        free(b.data);
    }
    /* Same element count, other shape: the shape check, not the size check, must catch it. */
    break_shape(valid, size, "layer.0.attn.rel_bias", 98, 1, "rel_bias [98, 1]");
    break_shape(valid, size, "layer.2.qkv.weight", 8, 24, "qkv.weight [8, 24]");
    break_shape(valid, size, "layer.1.fc1.weight", 8, 16, "fc1.weight [8, 16]");
    break_shape(valid, size, "layer.3.attn.q.act_shift", 2, 4, "attn.q.act_shift [2, 4]");
    /* Other element count: the size no longer matches the bytes. */
    break_entry(valid, size, "layer.0.attn.rel_bias", QSR__ENT_SHAPE + 4, 1, 0, "bytes",
                "rel_bias [49, 1]");
    bad_file b;
    qsr_test_tensor t;
    break_entry(valid, size, "layer.0.attn.q.act_signed", QSR__ENT_DTYPE, QSR__DTYPE_F32, 0,
                "dtype", "attn.q.act_signed as F32");
    /* Values. */
    const uint32_t nan = 0x7FC00000u, minus_one = 0xBF800000u;
    break_value(valid, size, "layer.1.attn.q.act_step", 0, minus_one, "layer.1.attn.q.act_step",
                "attn.q step -1");
    break_value(valid, size, "layer.0.attn.p.act_step", 0, 0, "must be > 0", "attn.p step 0");
    break_value(valid, size, "layer.2.attn.k.act_signed", 0, 2, "0 or 1", "attn.k signed 2");
    break_value(valid, size, "layer.3.attn.rel_bias", 17, nan, "not finite", "rel_bias NaN");
    break_value(valid, size, "norm.weight", 3, nan, "norm.weight", "norm.weight NaN");
    break_value(valid, size, "layer.0.norm2.bias", 0, nan, "norm2.bias", "norm2.bias NaN");
    break_value(valid, size, "group.0.conv.weight_step", 0, minus_one, "weight_step",
                "group conv weight_step -1");
    /* A name that is not a QuantSR-T tensor is reported as such. */
    b = fresh(valid, size);
    if (qsr_test_model_find_tensor(b.data, b.size, "layer.0.shortcut", &t)) {
        memcpy((uint8_t *)b.data + t.entry_offset, "body.0.shortcut", 16);
        qsr_test_model_fix_crc(b.data, b.size);
        expect_failure("C name in a T file", b.data, b.size, QSR_ERROR_MODEL_CORRUPT,
                       "not a tensor of this QuantSR-T model");
    }
    free(b.data);
}

static void test_t_truncated(const void *valid, size_t size) {
    for (size_t cut = 0; cut < size; cut += cut < 600 ? 37 : 997) {
        char what[64];
        snprintf(what, sizeof what, "T truncated to %zu bytes", cut);
        expect_failure(what, valid, cut, QSR_ERROR_MODEL_CORRUPT, NULL);
    }
    /* Damage anywhere in the payload with a fixed-up CRC: never a crash, always an answer. */
    qsr_rng rng = {99};
    for (int i = 0; i < 300; i++) {
        bad_file b = fresh(valid, size);
        size_t at = QSR__HEADER_BYTES + (size_t)qsr_rng_int(&rng, 0, (int32_t)(size - 257));
        ((uint8_t *)b.data)[at] ^= (uint8_t)qsr_rng_int(&rng, 1, 255);
        qsr_test_model_fix_crc(b.data, b.size);
        qsr_model *m = NULL;
        if (qsr_model_load_memory(b.data, b.size, &m) == QSR_OK) qsr_model_destroy(m);
        free(b.data);
    }
}

static void test_quantsr_t(void) {
    size_t size = 0;
    void *valid = read_t_fixture(&size);
    if (!valid) return;
    test_t_load(valid, size);
    test_t_bad_header(valid, size);
    test_t_bad_tensors(valid, size);
    test_t_truncated(valid, size);
    free(valid);
}

int main(void) {
    test_helpers();
    test_create_random();
    test_round_trips();
    test_load_file();
    test_bad_inputs();
    test_random_damage();
    test_depth();
    test_macs();
    test_capabilities();
    test_writer_realism();
    test_quantsr_t();
    return qsr_test_finish("test_model");
}
