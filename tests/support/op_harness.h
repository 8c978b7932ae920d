/* op_harness.h - the GPU op tests' minimal harness: host-visible buffers and one recorded
 * dispatch submitted and waited for (tests/test_gpu_ops.c, tests/test_gpu_t_ops.c). */
#ifndef QSR_OP_HARNESS_H
#define QSR_OP_HARNESS_H

#include "arch.h"
#include "test_util.h"

/* A host-visible buffer of `bytes` (16 at least) holding `init` (zeros if NULL); exits the
 * test when the device cannot make it. */
qsr__buffer qsr_test_host_buffer(qsr_context *ctx, size_t bytes, const void *init);

/* Makes the pipeline of `desc` and a set of `bufs`, records `record` with `push` (then a barrier
 * to the host), submits and waits `runs` times (>= 1; runs after the first time a warm
 * pipeline) and frees it all; returns the wall time of the last run in seconds. The pipeline's
 * workgroup must fit the device's (possibly forced) limits. */
double qsr_test_dispatch(qsr_context *ctx, const qsr__pipeline_desc *desc, qsr__buffer **bufs,
                         const void *push, qsr__op_recorder record, int runs);

/* Unpacks packed activation codes [channels/8][plane] (4-bit containers, sign-extended when
 * signed) into codes [channels][plane]. */
void qsr_test_unpack_codes(const uint32_t *words, uint32_t channels, size_t plane, int is_signed,
                           int8_t *codes);
/* The same for the code planes of a w x h grid, planar or padded (qsr__code_word, ops.h). */
void qsr_test_unpack_code_planes(const uint32_t *words, uint32_t channels, uint32_t w, uint32_t h,
                                 int padded, int is_signed, int8_t *codes);
/* Packs codes [channels][h][w] into code planes, planar or padded; `words` (ceil(channels/8)
 * planes of qsr__code_plane_words) is filled first: padded planes' borders 0, the words past
 * each row's border (which only pixels outside the grid may read) `slack`. */
void qsr_test_pack_code_planes(const int8_t *codes, uint32_t channels, uint32_t w, uint32_t h,
                               int padded, uint32_t slack, uint32_t *words);
/* The words of padded code planes outside the w x h grids (borders and slack) that differ
 * from `fill` (what they held before a producer ran). */
size_t qsr_test_code_planes_outside_changed(const uint32_t *words, uint32_t channels, uint32_t w,
                                            uint32_t h, uint32_t fill);

/* The push block of a same-size w x h op of cin -> cout channels with neutral factors (1) and
 * the EDSR input normalization. */
qsr__op_push qsr_test_push(uint32_t w, uint32_t h, uint32_t cin, uint32_t cout);

/* Numbered cases: `--case N` on the command line runs case N alone (only >= 0). */
typedef struct qsr_test_cases {
    int only, next;
} qsr_test_cases;
/* Takes the next case number; prints "case N: <what>" and returns 1 if it is to run. */
int qsr_test_begin_case(qsr_test_cases *cases, const char *fmt, ...) QSR__PRINTF(2, 3);

#endif
