/* model_format.h - the .qsr layout (docs/model-format.md): sizes, header and table entry field
 * offsets, little-endian field access. Shared by the loader (model.c) and the random-model
 * writer (random_model.c). */
#ifndef QSR_MODEL_FORMAT_H
#define QSR_MODEL_FORMAT_H

#include <stdint.h>
#include <string.h>

#define QSR__HEADER_BYTES   256u
#define QSR__ENTRY_BYTES    96u
#define QSR__NAME_BYTES     48u
#define QSR__ALIGN          64u
#define QSR__MAX_FILE_BYTES ((uint64_t)2 << 30) /* 2 GiB */
#define QSR__MAX_TENSORS    4096u
#define QSR__MAX_CHANNELS   256u
#define QSR__FORMAT_VERSION 1u

enum { QSR__DTYPE_F32 = 0, QSR__DTYPE_I32 = 1, QSR__DTYPE_QW = 2 };

/* Header field offsets (docs/model-format.md, "Header"). */
enum {
    QSR__HDR_MAGIC = 0,
    QSR__HDR_VERSION = 4,
    QSR__HDR_HEADER_BYTES = 8,
    QSR__HDR_ARCH = 12,
    QSR__HDR_SCALE = 16,
    QSR__HDR_IN_CHANNELS = 20,
    QSR__HDR_CHANNELS = 24,
    QSR__HDR_BLOCKS = 28,
    QSR__HDR_BITS_W = 32,
    QSR__HDR_BITS_A = 36,
    QSR__HDR_DEPTH_LEVEL_COUNT = 40,
    QSR__HDR_DEPTH_LEVELS = 44,
    QSR__HDR_TENSOR_COUNT = 76,
    QSR__HDR_TABLE_OFFSET = 80,
    QSR__HDR_DATA_OFFSET = 88,
    QSR__HDR_PAYLOAD_BYTES = 96,
    QSR__HDR_PAYLOAD_CRC = 104,
    QSR__HDR_RGB_MEAN = 108,
    QSR__HDR_IMG_RANGE = 120,
    QSR__HDR_BLOCK_RANK = 124,
    /* QuantSR-T fields; zero in a QuantSR-C file (they were reserved before arch 2). */
    QSR__HDR_T_FIELDS = 188,
    QSR__HDR_HEADS = 188,
    QSR__HDR_WINDOW = 192,
    QSR__HDR_MLP_HIDDEN = 196,
    QSR__HDR_GROUP_COUNT = 200,
    QSR__HDR_GROUP_DEPTHS = 204,
    QSR__HDR_RESERVED = 236
};

/* Tensor table entry field offsets. */
enum {
    QSR__ENT_NAME = 0,
    QSR__ENT_DTYPE = 48,
    QSR__ENT_BITS = 52,
    QSR__ENT_NDIM = 56,
    QSR__ENT_RESERVED = 60,
    QSR__ENT_SHAPE = 64,
    QSR__ENT_OFFSET = 80,
    QSR__ENT_BYTES = 88
};

static inline uint32_t qsr__le_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t qsr__le_u64(const uint8_t *p) {
    return (uint64_t)qsr__le_u32(p) | (uint64_t)qsr__le_u32(p + 4) << 32;
}

static inline float qsr__le_f32(const uint8_t *p) {
    uint32_t bits = qsr__le_u32(p);
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline void qsr__le_put_u32(uint8_t *p, uint32_t value) {
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(value >> (8 * k));
}

static inline void qsr__le_put_u64(uint8_t *p, uint64_t value) {
    qsr__le_put_u32(p, (uint32_t)value);
    qsr__le_put_u32(p + 4, (uint32_t)(value >> 32));
}

static inline void qsr__le_put_f32(uint8_t *p, float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    qsr__le_put_u32(p, bits);
}

#endif
