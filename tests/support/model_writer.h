/* model_writer.h - writes random but realistic .qsr models (docs/model-format.md) for the
 * tests and the benchmark, and gives tests raw access to a file's bytes so they can corrupt
 * single fields. */
#ifndef QSR_TEST_MODEL_WRITER_H
#define QSR_TEST_MODEL_WRITER_H

#include "quantsr.h"

#include <stddef.h>
#include <stdint.h>

/* Every field may be left 0 for its default, so `{.scale = 4, .seed = 7}` is a full request. */
typedef struct qsr_test_model_params {
    uint32_t scale;    /* 2, 3 or 4; 0 = 2 */
    uint32_t channels; /* C, 1 to 256; 0 = 8 */
    uint32_t blocks;   /* B, 1 to 64; 0 = 4 */
    uint32_t bits_w;   /* 2, 3, 4, or 32 for an unquantized model; 0 = 4 */
    uint32_t bits_a;   /* 2, 3, 4 or 32; 0 = bits_w */
    /* DQA levels, written as given (so a test may write bad ones); count 0 = halving levels
     * B, B/2, B/4, ..., 1 (B = 4: {4, 2, 1}). */
    uint32_t depth_level_count;
    uint32_t depth_levels[QSR_MAX_DEPTH_LEVELS];
    uint64_t seed;               /* weights and the block rank (a random permutation) */
    int per_channel_weight_step; /* weight_step of shape [C] instead of [1] */
    float rgb_mean[3];           /* used only when img_range != 0 */
    float img_range;             /* 0 = the EDSR defaults: (0.4488, 0.4371, 0.4040), 255 */
    /* To build structurally bad files with a valid layout and CRC: */
    const char *omit_tensor;  /* leave out the tensor of this name */
    const char *extra_tensor; /* add an F32 [1] tensor of this name */
} qsr_test_model_params;

/* Writes a model into a new malloc'ed buffer (free() it). */
qsr_status qsr_test_model_write(const qsr_test_model_params *params, void **out_data,
                                size_t *out_size);
/* Writes a model into memory and loads it (the tests' usual way to get a random model). */
qsr_status qsr_test_model_make(const qsr_test_model_params *params, qsr_model **out);

/* Writes a model to a file. */
qsr_status qsr_test_model_write_file(const qsr_test_model_params *params, const char *path);

/* Recomputes the payload CRC-32 in the header after a test edited the payload. */
void qsr_test_model_fix_crc(void *data, size_t size);

/* Byte offsets of the header fields and of the fields of a tensor table entry. */
enum {
    QSR_TEST_HDR_MAGIC = 0,
    QSR_TEST_HDR_VERSION = 4,
    QSR_TEST_HDR_HEADER_BYTES = 8,
    QSR_TEST_HDR_ARCH = 12,
    QSR_TEST_HDR_SCALE = 16,
    QSR_TEST_HDR_IN_CHANNELS = 20,
    QSR_TEST_HDR_CHANNELS = 24,
    QSR_TEST_HDR_BLOCKS = 28,
    QSR_TEST_HDR_BITS_W = 32,
    QSR_TEST_HDR_BITS_A = 36,
    QSR_TEST_HDR_DEPTH_LEVEL_COUNT = 40,
    QSR_TEST_HDR_DEPTH_LEVELS = 44,
    QSR_TEST_HDR_TENSOR_COUNT = 76,
    QSR_TEST_HDR_TABLE_OFFSET = 80,
    QSR_TEST_HDR_DATA_OFFSET = 88,
    QSR_TEST_HDR_PAYLOAD_BYTES = 96,
    QSR_TEST_HDR_PAYLOAD_CRC = 104,
    QSR_TEST_HDR_RGB_MEAN = 108,
    QSR_TEST_HDR_IMG_RANGE = 120,
    QSR_TEST_HDR_BLOCK_RANK = 124,
    QSR_TEST_HDR_RESERVED = 188,
    QSR_TEST_HEADER_BYTES = 256,
    QSR_TEST_ENTRY_NAME = 0,
    QSR_TEST_ENTRY_DTYPE = 48,
    QSR_TEST_ENTRY_BITS = 52,
    QSR_TEST_ENTRY_NDIM = 56,
    QSR_TEST_ENTRY_RESERVED = 60,
    QSR_TEST_ENTRY_SHAPE = 64,
    QSR_TEST_ENTRY_OFFSET = 80,
    QSR_TEST_ENTRY_BYTES = 88,
    QSR_TEST_ENTRY_SIZE = 96
};
enum { QSR_TEST_DTYPE_F32 = 0, QSR_TEST_DTYPE_I32 = 1, QSR_TEST_DTYPE_QW = 2 };

/* Little-endian field access at a byte offset. */
uint32_t qsr_test_get_u32(const void *data, size_t offset);
uint64_t qsr_test_get_u64(const void *data, size_t offset);
float qsr_test_get_f32(const void *data, size_t offset);
void qsr_test_put_u32(void *data, size_t offset, uint32_t value);
void qsr_test_put_u64(void *data, size_t offset, uint64_t value);
void qsr_test_put_f32(void *data, size_t offset, float value);

/* One tensor table entry as the file states it (no validation beyond staying in bounds). */
typedef struct qsr_test_tensor {
    uint32_t index;      /* table position */
    size_t entry_offset; /* byte offset of the table entry in the file */
    char name[48];
    uint32_t dtype, bits, ndim;
    uint32_t shape[4];
    uint64_t offset, bytes; /* the data */
    size_t count;           /* elements: product of the shape */
} qsr_test_tensor;

/* Reads table entry `index` / the entry named `name`; returns 0 if there is none. */
int qsr_test_model_tensor_at(const void *data, size_t size, uint32_t index, qsr_test_tensor *out);
int qsr_test_model_find_tensor(const void *data, size_t size, const char *name,
                               qsr_test_tensor *out);

#endif
