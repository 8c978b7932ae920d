/* upsample_fold.h - QuantSR-C's upsampler (3x3 convolutions, each followed by a PixelShuffle)
 * and conv_last are linear in r, conv_after_body's output: together they are one 5x5
 * convolution of r with 3 s^2 outputs per LR pixel, one per HR pixel of its s x s block and
 * colour (the receptive field of conv_last through the stages is 2 LR pixels). At x4 that is
 * 25 C 48 = 1200 C multiply-adds per LR pixel instead of 180 C^2 + 432 C (9 C 4 C at LR, the
 * same on 4 pixels at 2x, 9 C 3 on 16 HR pixels): 5.2x fewer at 32 channels, 10x at 64, summed
 * in another order, so the fast FP math only (QSR_FP_MATH_FAST; docs/benchmarks.md).
 *
 * The stages pad their inputs with zeros at the image border, so the outermost LR pixels see a
 * different linear map: each LR pixel belongs to one of 3 x 3 classes (first, inner or last
 * row, times the same for columns), each with its own kernel and bias, for images of at least
 * 2 x 2 LR pixels (a 1-pixel-wide image runs the stages unfolded). The kernels are built once,
 * when an upscaler is made, by propagating each output back through the stages (the adjoint). */
#ifndef QSR_UPSAMPLE_FOLD_H
#define QSR_UPSAMPLE_FOLD_H

#include "internal.h"

#define QSR__FOLD_TAPS    25u /* 5 x 5 */
#define QSR__FOLD_CLASSES 9u  /* class = 3 row class + column class; 0 first, 1 inner, 2 last */

/* HR rows of an LR pixel's s x s block that one table (and one invocation) covers: both at x2
 * (12 outputs, three whole vec4s), one at x3 and x4 (9 and 12). */
uint32_t qsr__fold_rows(uint32_t scale);
/* Outputs of one table (rows x s pixels x RGB), rounded up to whole vec4s: the shader's
 * accumulators per pixel. */
uint32_t qsr__fold_table_floats(uint32_t scale);
/* Floats of the kernels of every class, in upsample_folded.comp's layout
 * [class][group][cin][tap][table floats] (group g = HR rows g rows .. g rows + rows - 1 of the
 * block), and of the biases, [class][group][table floats]; HR pixel (a, b) of the block, colour
 * k, is output ((a % rows) s + b) 3 + k of group a / rows. */
size_t qsr__fold_weight_floats(const qsr_model *model);
size_t qsr__fold_bias_floats(const qsr_model *model);
/* Multiply-adds per LR pixel the fold saves: the stages' (upsampler + conv_last) minus its own
 * 25 C 3 s^2, so that run statistics and the depth-budget prediction count what runs. */
uint64_t qsr__fold_saved_macs_per_pixel(const qsr_model *model);
/* Builds them (QuantSR-C models, fp32 upsampler). QSR_ERROR_OUT_OF_HOST_MEMORY on failure. */
qsr_status qsr__fold_upsampler(const qsr_model *model, float *weights, float *biases);

#endif
