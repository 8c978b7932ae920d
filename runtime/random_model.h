/* random_model.h - random but realistic QuantSR-C and QuantSR-T models (the tests' models, and
 * `quantsr bench --arch c|t` / qsr_model_create_random), and the splitmix64 generator they use. */
#ifndef QSR_RANDOM_MODEL_H
#define QSR_RANDOM_MODEL_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

typedef struct qsr__rng {
    uint64_t state;
} qsr__rng;
uint64_t qsr__rng_next(qsr__rng *rng);
/* Uniform in [0, 1). */
float qsr__rng_float(qsr__rng *rng);
/* Uniform integer in [lo, hi]. */
int32_t qsr__rng_int(qsr__rng *rng, int32_t lo, int32_t hi);

/* Every field may be left 0 for its default, so `{.scale = 4, .seed = 7}` is a full request. */
typedef struct qsr__random_model_params {
    uint32_t scale;    /* 2, 3 or 4; 0 = 2 */
    uint32_t channels; /* C, 1 to 256; 0 = 8 */
    uint32_t blocks;   /* B, 1 to 64; 0 = 4 */
    uint32_t bits_w;   /* 2, 3, 4, or 32 for an unquantized model; 0 = 4 */
    uint32_t bits_a;   /* 2, 3, 4 or 32; 0 = bits_w */
    /* DQA levels, written as given (so a test may write bad ones); count 0 = halving levels
     * B, B/2, B/4, ..., 1 (B = 4: {4, 2, 1}). */
    uint32_t depth_level_count;
    uint32_t depth_levels[QSR_MAX_DEPTH_LEVELS];
    uint64_t seed; /* weights and the block rank (a random permutation) */
    uint32_t arch; /* QSR_ARCH_QUANTSR_C (0 = C) or QSR_ARCH_QUANTSR_T */
    /* QuantSR-T: blocks counts Swin layers; 0 = heads 4, 2 or 1 (the largest dividing
     * channels), window 8, mlp_hidden 2 C, min(2, blocks) groups sharing the layers evenly. */
    uint32_t heads, window, mlp_hidden, group_count;
    int per_channel_weight_step; /* weight_step of shape [C] instead of [1] */
    float rgb_mean[3];           /* used only when img_range != 0 */
    float img_range;             /* 0 = the EDSR defaults: (0.4488, 0.4371, 0.4040), 255 */
    /* To build structurally bad files with a valid layout and CRC: */
    const char *omit_tensor;  /* leave out the tensor of this name */
    const char *extra_tensor; /* add an F32 [1] tensor of this name */
} qsr__random_model_params;

/* Writes a model into a new malloc'ed buffer (free() it). */
qsr_status qsr__random_model_write(const qsr__random_model_params *params, void **out_data,
                                   size_t *out_size);

#endif
