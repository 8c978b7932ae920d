/* model_writer.c - the tests' access to .qsr bytes: random models (runtime/random_model.c),
 * little-endian fields, table entries, the payload CRC. */
#include "model_writer.h"
#include "test_util.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Raw field access
 */
uint32_t qsr_test_get_u32(const void *data, size_t offset) {
    return qsr__le_u32((const uint8_t *)data + offset);
}

uint64_t qsr_test_get_u64(const void *data, size_t offset) {
    return qsr__le_u64((const uint8_t *)data + offset);
}

float qsr_test_get_f32(const void *data, size_t offset) {
    return qsr__le_f32((const uint8_t *)data + offset);
}

void qsr_test_put_u32(void *data, size_t offset, uint32_t value) {
    qsr__le_put_u32((uint8_t *)data + offset, value);
}

void qsr_test_put_u64(void *data, size_t offset, uint64_t value) {
    qsr__le_put_u64((uint8_t *)data + offset, value);
}

void qsr_test_put_f32(void *data, size_t offset, float value) {
    qsr__le_put_f32((uint8_t *)data + offset, value);
}

void qsr_test_model_fix_crc(void *data, size_t size) {
    if (size < QSR__HEADER_BYTES) return;
    uint32_t crc = qsr__crc32((const uint8_t *)data + QSR__HEADER_BYTES, size - QSR__HEADER_BYTES);
    qsr_test_put_u32(data, QSR__HDR_PAYLOAD_CRC, crc);
}

int qsr_test_model_tensor_at(const void *data, size_t size, uint32_t index, qsr_test_tensor *out) {
    if (size < QSR__HEADER_BYTES) return 0;
    uint32_t count = qsr_test_get_u32(data, QSR__HDR_TENSOR_COUNT);
    size_t entry = QSR__HEADER_BYTES + (size_t)QSR__ENTRY_BYTES * index;
    if (index >= count || entry + QSR__ENTRY_BYTES > size) return 0;
    memset(out, 0, sizeof *out);
    out->index = index;
    out->entry_offset = entry;
    memcpy(out->name, (const uint8_t *)data + entry, QSR__NAME_BYTES);
    out->name[QSR__NAME_BYTES - 1] = 0;
    out->dtype = qsr_test_get_u32(data, entry + QSR__ENT_DTYPE);
    out->bits = qsr_test_get_u32(data, entry + QSR__ENT_BITS);
    out->ndim = qsr_test_get_u32(data, entry + QSR__ENT_NDIM);
    out->count = 1;
    for (int d = 0; d < 4; d++) {
        out->shape[d] = qsr_test_get_u32(data, entry + QSR__ENT_SHAPE + 4 * (size_t)d);
        out->count *= out->shape[d];
    }
    out->offset = qsr_test_get_u64(data, entry + QSR__ENT_OFFSET);
    out->bytes = qsr_test_get_u64(data, entry + QSR__ENT_BYTES);
    return 1;
}

int qsr_test_model_find_tensor(const void *data, size_t size, const char *name,
                               qsr_test_tensor *out) {
    qsr_test_tensor t;
    for (uint32_t i = 0; qsr_test_model_tensor_at(data, size, i, &t); i++)
        if (strcmp(t.name, name) == 0) {
            *out = t;
            return 1;
        }
    return 0;
}

qsr_status qsr_test_model_write(const qsr_test_model_params *params, void **out_data,
                                size_t *out_size) {
    return qsr__random_model_write(params, out_data, out_size);
}

qsr_status qsr_test_model_make(const qsr_test_model_params *params, qsr_model **out) {
    void *data = NULL;
    size_t size = 0;
    qsr_status st = qsr_test_model_write(params, &data, &size);
    if (st == QSR_OK) st = qsr_model_load_memory(data, size, out);
    free(data);
    return st;
}

qsr_status qsr_test_model_write_file(const qsr_test_model_params *params, const char *path) {
    void *data = NULL;
    size_t size = 0;
    qsr_status st = qsr_test_model_write(params, &data, &size);
    if (st != QSR_OK) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(data);
        return qsr__fail(QSR_ERROR_IO, "%s: cannot create", path);
    }
    size_t written = fwrite(data, 1, size, f);
    int close_failed = fclose(f);
    free(data);
    if (written != size || close_failed) return qsr__fail(QSR_ERROR_IO, "%s: write failed", path);
    return QSR_OK;
}
