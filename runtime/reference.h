/* reference.h - the layers of the CPU reference network (runtime/reference.c), exported with
 * plain-array signatures so op-level GPU tests can compare one layer at a time, and the alpha
 * helper the GPU path shares. The exact formulas are documented at the top of reference.c.
 *
 * Tensors are float32 (or int8 codes) in planar layout [C][H][W], rows tightly packed. */
#ifndef QSR_REFERENCE_H
#define QSR_REFERENCE_H

#include "internal.h"

#include <math.h>
#include <stdint.h>

/* 3x3 convolution, stride 1, zero padding 1, float accumulation in the fixed order of
 * reference.c: out[o] = (sum over c, ky, kx of w * x, in that order) + bias[o].
 * in: [cin][h][w]; weight: [cout][cin][3][3]; bias: [cout]; out: [cout][h][w] (not in).
 * Fails only with QSR_ERROR_OUT_OF_HOST_MEMORY (a small tile buffer). */
qsr_status qsr__ref_conv3x3_f32(const float *in, uint32_t cin, uint32_t h, uint32_t w,
                                const float *weight, const float *bias, uint32_t cout, float *out);

/* The same with the sum scaled before the bias: out[o] = (sum * in_scale) + bias[o], each
 * rounded (how a conv applies the shortcut product of skipped blocks to its input, as the GPU
 * does; in_scale 1 gives qsr__ref_conv3x3_f32's result exactly). */
qsr_status qsr__ref_conv3x3_f32_scaled(const float *in, float in_scale, uint32_t cin, uint32_t h,
                                       uint32_t w, const float *weight, const float *bias,
                                       uint32_t cout, float *out);

/* One activation code: clamp(rintf((x + shift) / step), lo, hi) with the float add and division
 * rounded separately, rintf in the default mode (half to even, as torch.round); a NaN maps to
 * lo. lo, hi are Qn, Qp as floats, within int8. */
static inline int8_t qsr__ref_quantize_one(float x, float shift, float step, float lo, float hi) {
    float scaled = (x + shift) / step;
    float r = rintf(scaled);
    if (!(r >= lo)) r = lo; /* also a NaN */
    if (r > hi) r = hi;
    return (int8_t)r;
}

/* Activation quantizer: codes[c][i] = clamp(rintf((in[c][i] + shift[c]) / step), qn, qp).
 * in: [channels][plane]; shift: [channels]; codes: [channels][plane]. qn >= -128, qp <= 127. */
void qsr__ref_quantize(const float *in, uint32_t channels, size_t plane, const float *shift,
                       float step, int32_t qn, int32_t qp, int8_t *codes);

/* The same on the rounded products in[c][i] * in_scale (in_scale 1: qsr__ref_quantize). */
void qsr__ref_quantize_scaled(const float *in, float in_scale, uint32_t channels, size_t plane,
                              const float *shift, float step, int32_t qn, int32_t qp,
                              int8_t *codes);

/* Quantized 3x3 convolution on activation codes, zero padding in the code domain:
 * sum = int32 sum over c, ky, kx of q * wcode; out[o] = (float)sum * (act_step * weight_step[o])
 * + bias[o], the scale being one float product computed first.
 * codes: [cin][h][w]; wcode: [cout][cin][9]; weight_step, bias: [cout]; out: [cout][h][w].
 * Fails only with QSR_ERROR_OUT_OF_HOST_MEMORY (a small tile buffer). */
qsr_status qsr__ref_conv3x3_q(const int8_t *codes, uint32_t cin, uint32_t h, uint32_t w,
                              const int8_t *wcode, const float *weight_step, float act_step,
                              const float *bias, uint32_t cout, float *out);

/* A model's 3x3 convolution layer as the reference runs it on in * in_scale: the FP
 * convolution with conv->weight when `quantized` is 0 (its sum scaled,
 * qsr__ref_conv3x3_f32_scaled), else the products in * in_scale quantized into `codes`
 * ([cin][h][w]) and the quantized convolution; `wcode_scratch` ([cout][cin][9]) receives the
 * weight codes unpacked from conv->qweight when the conv has no wcode. in: [cin][h][w]; out:
 * [cout][h][w]. */
qsr_status qsr__ref_conv_layer(const qsr__conv *conv, int quantized, const float *in,
                               float in_scale, uint32_t h, uint32_t w, int8_t *codes,
                               int8_t *wcode_scratch, float *out);

/* Checks a layer of a model built in memory before the reference dereferences it: cin -> cout
 * channels, a bias, an F32 weight (quantized 0) or codes, steps and shifts (quantized 1).
 * `name` goes into the message. */
qsr_status qsr__ref_check_layer(const qsr__conv *conv, const char *name, uint32_t cin,
                                uint32_t cout, int quantized);

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
/* QSR_ERROR_LIMIT when the input or its x`scale` output exceeds QSR_MAX_IMAGE_DIMENSION. */
qsr_status qsr__ref_check_dimensions(const qsr_image *in, uint32_t scale);
/* The output image of the network's final planar values (3 x HR pixels, before the mean is
 * added back): qsr__ref_postprocess into a new image, alpha upscaled bicubically when the input
 * has it. *out is set only on success. */
qsr_status qsr__ref_finish_image(const float *planar, const qsr_image *in,
                                 const qsr_model_info *info, qsr_image *out);

/* The reference allocates every buffer of a run at once; a run that needs more than this is
 * refused with QSR_ERROR_LIMIT rather than left to the out-of-memory killer (an overcommitting
 * malloc would accept it). The reference is for checking small images. */
#define QSR__REF_MAX_BYTES ((uint64_t)8 << 30)

/* Adds `count` elements of `elem` bytes to *total; 0 on overflow or past QSR__REF_MAX_BYTES. */
int qsr__ref_add_bytes(uint64_t *total, size_t count, size_t elem);

/* QSR_ERROR_BAD_OUTPUT naming the first non-finite value of the network's last layer. */
qsr_status qsr__ref_check_finite(const float *v, size_t count, const char *layer);

/* The networks' walks (the architecture table's `reference`): QuantSR-C (runtime/reference.c)
 * and QuantSR-T (runtime/reference_t.c); qsr_reference_upscale dispatches to them after
 * checking its arguments, so in, out and depth are valid. */
qsr_status qsr__reference_upscale_c(const qsr_model *model, const qsr_image *in, uint32_t depth,
                                    qsr_image *out);
qsr_status qsr__reference_upscale_t(const qsr_model *model, const qsr_image *in, uint32_t depth,
                                    qsr_image *out);

/* The QuantSR-T network's operations as qsr__reference_upscale_t runs them (formulas at the
 * top of reference_t.c), for op-level GPU tests. Tokens are [tokens][channels]. */
/* LayerNorm over the e channels of each token (biased variance, eps 1e-5); y != x. */
void qsr__ref_t_layer_norm(const float *x, size_t tokens, uint32_t e, const float *weight,
                           const float *bias, float *y);
/* A linear layer l->cin -> l->cout on each token: quantized (RLQ codes of x, integer sums with
 * l->wcode [cout][cin], scale act_step * weight_step[o], bias) or float (l->weight).
 * codes: scratch of l->cin bytes. */
void qsr__ref_t_linear(const qsr__conv *l, int quantized, const float *x, size_t tokens,
                       int8_t *codes, float *y);
/* GELU in place: x * 0.5f * (1 + qsr__erf(x / sqrt 2)) (float_math.h). */
void qsr__ref_t_gelu(float *x, size_t count);
/* The attention heads (window info->window, info->heads heads, quantized when info->bits_w !=
 * 32 with info->bits_a-bit codes) of every window of an hp x wp grid (multiples of the window),
 * cyclically shifted by `shift` (0 or window / 2) with the shift mask, from the qkv layer's
 * output qkv [hp * wp][3 E] into heads [hp * wp][E] (before proj), E = info->channels.
 * layer supplies rel_bias and the q, k, v and p quantizers. */
qsr_status qsr__ref_t_window_attention(const qsr_model_info *info, const qsr__t_layer *layer,
                                       uint32_t shift, uint32_t hp, uint32_t wp, const float *qkv,
                                       float *heads);

/* Alpha for RGBA inputs: resizes `in` (4 channels) with qsr_image_resize_bicubic to
 * (scale * width, scale * height) and writes its alpha channel into out_rgba, a 4-channel image
 * of that size whose RGB the network already wrote (RGB is left untouched). */
qsr_status qsr__upscale_alpha(const qsr_image *in, uint32_t scale, qsr_image *out_rgba);

#endif
