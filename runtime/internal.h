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
/* A 3x3 convolution, or (QuantSR-T) a linear layer, which is the same with a 1x1 kernel: its
 * weight is [cout][cin] and wcode [cout][cin]. */
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

/* An activation quantizer without a layer of its own (QuantSR-T attention Q, K, V). */
typedef struct qsr__act_quant {
    float step;
    int is_signed;
    const float *shift; /* [E], channel order of the qkv output part */
} qsr__act_quant;

/* One QuantSR-T Swin layer (docs/model-format.md, "QuantSR-T (arch 2)"). Quantizer fields are
 * set only in quantized models. */
typedef struct qsr__t_layer {
    const float *norm1_weight, *norm1_bias, *norm2_weight, *norm2_bias; /* [E] each */
    qsr__conv qkv, proj, fc1, fc2;                                      /* linear layers */
    const float *rel_bias;                                              /* [(2W-1)^2][heads] */
    qsr__act_quant q, k, v;
    float p_step; /* softmax output quantizer (unsigned, no shift) */
    float shortcut;
} qsr__t_layer;

/* The QuantSR-T parts of a model; conv_first, conv_after_body and upsample[0] (3 s^2 outputs)
 * live in struct qsr_model as for QuantSR-C. */
typedef struct qsr__t_parts {
    const float *patch_norm_weight, *patch_norm_bias, *norm_weight, *norm_bias; /* [E] each */
    qsr__t_layer *layers;                                                       /* [blocks] */
    qsr__conv *group_conv;                                                      /* [group_count] */
} qsr__t_parts;

struct qsr_model {
    qsr_model_info info;
    qsr__conv conv_first;
    qsr__conv *body; /* 2 * blocks: body[2 i] = conv1, body[2 i + 1] = conv2 */
    float *shortcut; /* [blocks] */
    qsr__conv conv_after_body;
    uint32_t upsample_count;  /* 1 (x2, x3) or 2 (x4); QuantSR-T: 1 */
    uint32_t upsample_factor; /* r of each stage: 2 or 3; QuantSR-T: the scale */
    qsr__conv upsample[2];
    qsr__conv conv_last;
    qsr__t_parts t; /* QuantSR-T only (arrays NULL for QuantSR-C) */
    void *data;     /* owned copy of the file */
    size_t data_size;
};

/* Is block `block` kept at depth `depth` (0 = all)? */
int qsr__model_block_active(const qsr_model *model, uint32_t depth, uint32_t block);
/* Qn/Qp of an activation quantizer. */
void qsr__act_range(uint32_t bits, int is_signed, int32_t *qn, int32_t *qp);
/* Unpacks element i of a canonical QW tensor. */
int32_t qsr__qw_get(const uint32_t *words, uint32_t bits, size_t i);

#endif
