/* internal.h - declarations shared by the runtime's files (not part of the public API). */
#ifndef QSR_INTERNAL_H
#define QSR_INTERNAL_H

#include "quantsr.h"

#include <stdint.h>
#include <stddef.h>

#if defined(__MINGW32__)
/* MinGW builds use its C99 printf (__USE_MINGW_ANSI_STDIO, set by CMakeLists.txt): %zu, %llu. */
#define QSR__PRINTF(fmt_index, first_arg) __attribute__((format(gnu_printf, fmt_index, first_arg)))
#elif defined(__GNUC__) || defined(__clang__)
#define QSR__PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define QSR__PRINTF(fmt_index, first_arg)
#endif

/* Sets the thread's last-error text and returns `status`, so a failure site reads
 * `return qsr__fail(QSR_ERROR_X, "what went wrong: %u", value);`. */
qsr_status qsr__fail(qsr_status status, const char *fmt, ...) QSR__PRINTF(2, 3);
/* Prefixes the current last-error text with more context and returns `status`. */
qsr_status qsr__fail_context(qsr_status status, const char *fmt, ...) QSR__PRINTF(2, 3);

/* Overflow-checked size arithmetic: returns 0 and leaves *out untouched on overflow. */
int qsr__mul_size(size_t a, size_t b, size_t *out);

/* CRC-32/ISO-HDLC (zlib, PNG). */
uint32_t qsr__crc32(const void *data, size_t size);

/* ------------------------------------------------------------------------------------------
 * Loaded model (runtime/model.c). Pointers point into model->data, an aligned private copy
 * of the file, or into arrays the loader allocated.
 */
typedef struct qsr__conv {
    uint32_t cin, cout;
    const float *weight; /* F32 [cout][cin][3][3], or NULL when quantized */
    const float *bias;   /* [cout] */
    /* Quantized convolutions only (bits_w != 32): */
    uint32_t bits_w, bits_a;
    const uint32_t *qweight; /* canonical QW packing, docs/model-format.md */
    int8_t *wcode;           /* the same codes unpacked, [cout][cin][9] */
    float *weight_step;      /* [cout] (a scalar step is expanded) */
    float act_step;
    int act_signed;
    const float *act_shift; /* [cin] */
} qsr__conv;

struct qsr_model {
    qsr_model_info info;
    qsr__conv conv_first;
    qsr__conv *body; /* 2 * blocks: body[2 i] = conv1, body[2 i + 1] = conv2 */
    float *shortcut; /* [blocks] */
    qsr__conv conv_after_body;
    uint32_t upsample_count;  /* 1 (x2, x3) or 2 (x4) */
    uint32_t upsample_factor; /* r of each stage: 2 or 3 */
    qsr__conv upsample[2];
    qsr__conv conv_last;
    void *data; /* owned copy of the file */
    size_t data_size;
};

/* Is block `block` kept at depth `depth` (0 = all)? */
int qsr__model_block_active(const qsr_model *model, uint32_t depth, uint32_t block);
/* Qn/Qp of an activation quantizer. */
void qsr__act_range(uint32_t bits, int is_signed, int32_t *qn, int32_t *qp);
/* Unpacks element i of a canonical QW tensor. */
int32_t qsr__qw_get(const uint32_t *words, uint32_t bits, size_t i);

#endif
