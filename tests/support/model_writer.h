/* model_writer.h - writes random but realistic .qsr models (docs/model-format.md) for the
 * tests and the benchmark, and gives tests raw access to a file's bytes so they can corrupt
 * single fields. */
#ifndef QSR_TEST_MODEL_WRITER_H
#define QSR_TEST_MODEL_WRITER_H

#include "model_format.h"
#include "quantsr.h"
#include "random_model.h"

#include <stddef.h>
#include <stdint.h>

/* Every field may be left 0 for its default, so `{.scale = 4, .seed = 7}` is a full request
 * (runtime/random_model.h has the fields). */
typedef qsr__random_model_params qsr_test_model_params;

/* Writes a model into a new malloc'ed buffer (free() it). */
qsr_status qsr_test_model_write(const qsr_test_model_params *params, void **out_data,
                                size_t *out_size);
/* Writes a model into memory and loads it (the tests' usual way to get a random model). */
qsr_status qsr_test_model_make(const qsr_test_model_params *params, qsr_model **out);

/* Writes a model to a file. */
qsr_status qsr_test_model_write_file(const qsr_test_model_params *params, const char *path);

/* Recomputes the payload CRC-32 in the header after a test edited the payload. */
void qsr_test_model_fix_crc(void *data, size_t size);

/* Header and table entry field offsets: QSR__HDR_* and QSR__ENT_* of runtime/model_format.h. */

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
