/* reference.h - the layers of the CPU reference network (runtime/reference.c), exported with
 * plain-array signatures so op-level GPU tests can compare one layer at a time, and the alpha
 * helper the GPU path shares. The exact formulas are documented at the top of reference.c.
 *
 * Tensors are float32 (or int8 codes) in planar layout [C][H][W], rows tightly packed. */
#ifndef QSR_REFERENCE_H
#define QSR_REFERENCE_H

#include "internal.h"

#include <stdint.h>

/* 3x3 convolution, stride 1, zero padding 1, float accumulation in the fixed order of
 * reference.c: out[o] = (sum over c, ky, kx of w * x, in that order) + bias[o].
 * in: [cin][h][w]; weight: [cout][cin][3][3]; bias: [cout]; out: [cout][h][w] (not in).
 * Fails only with QSR_ERROR_OUT_OF_HOST_MEMORY (a small tile buffer). */
qsr_status qsr__ref_conv3x3_f32(const float *in, uint32_t cin, uint32_t h, uint32_t w,
                                const float *weight, const float *bias, uint32_t cout, float *out);

/* Activation quantizer: codes[c][i] = clamp(rintf((in[c][i] + shift[c]) / step), qn, qp).
 * in: [channels][plane]; shift: [channels]; codes: [channels][plane]. qn >= -128, qp <= 127. */
void qsr__ref_quantize(const float *in, uint32_t channels, size_t plane, const float *shift,
                       float step, int32_t qn, int32_t qp, int8_t *codes);

/* Quantized 3x3 convolution on activation codes, zero padding in the code domain:
 * sum = int32 sum over c, ky, kx of q * wcode; out[o] = (float)sum * (act_step * weight_step[o])
 * + bias[o], the scale being one float product computed first.
 * codes: [cin][h][w]; wcode: [cout][cin][9]; weight_step, bias: [cout]; out: [cout][h][w].
 * Fails only with QSR_ERROR_OUT_OF_HOST_MEMORY (a small tile buffer). */
qsr_status qsr__ref_conv3x3_q(const int8_t *codes, uint32_t cin, uint32_t h, uint32_t w,
                              const int8_t *wcode, const float *weight_step, float act_step,
                              const float *bias, uint32_t cout, float *out);

/* PixelShuffle(r), PyTorch semantics: out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x].
 * in: [c*r*r][h][w]; out: [c][h*r][w*r]. */
void qsr__ref_pixel_shuffle(const float *in, uint32_t c, uint32_t h, uint32_t w, uint32_t r,
                            float *out);

/* Pre-processing of an interleaved 8-bit image (3 or 4 channels; only RGB is read):
 * out[c][y][x] = ((float)p / 255.0f - mean[c]) * img_range. out: [3][h][w]. */
void qsr__ref_preprocess(const qsr_image *in, const float mean[3], float img_range, float *out);

/* Post-processing into an interleaved image with `channels` (3 or 4; alpha is not written):
 * v = in[c][y][x] / img_range + mean[c], clamped to [0, 1], pixel = (uint8_t)floorf(v * 255 +
 * 0.5f). A NaN maps to 0. in: [3][h][w] with h, w the image's size. */
void qsr__ref_postprocess(const float *in, const float mean[3], float img_range, qsr_image *out);

/* Alpha for RGBA inputs: resizes `in` (4 channels) with qsr_image_resize_bicubic to
 * (scale * width, scale * height) and writes its alpha channel into out_rgba, a 4-channel image
 * of that size whose RGB the network already wrote (RGB is left untouched). */
qsr_status qsr__upscale_alpha(const qsr_image *in, uint32_t scale, qsr_image *out_rgba);

#endif
