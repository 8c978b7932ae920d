#version 450
#extension GL_GOOGLE_include_directive : require
// layernorm_q: LayerNorm over the channels of each token of planar fp32 activations
// [cin][h][w] (QuantSR-T's norm1, norm2, patch_norm, norm), fp32 statistics in the order of
// the reference (runtime/reference_t.c):
//   mean = (sum x) / E; var = (sum (x - mean)^2) / E; y = (x - mean) * (1 / sqrt(var + 1e-5))
//   * weight + bias,
// then either the RLQ codes of the next linear layer's quantizer,
//   q = clamp(round_half_even((y + shift_c) / step), Qn, Qp), packed [cin/8][h][w] (qpack.glsl),
// or (CODES_OUT 0) y itself in fp32 [cin][h][w]. One token per invocation: three passes over
// its E channels (3 E <= 768 loop iterations, far below lavapipe's limiter).
#include "common.glsl"
#include "qpack.glsl"
#include "fetch.glsl"
FETCH_BUFFER(0, src); // fp32 bits [cin][h][w]
// weight at scale_off, bias at bias_off, the next quantizer's shifts at aux_off; fetched too
// (read in the channel loops, where a storage-buffer load is a loop over the lanes)
FETCH_BUFFER(1, params);
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; }; // codes, or fp32 bits

layout(constant_id = 0) const int CODES_OUT = 2; // 0: fp32, 1: unsigned codes, 2: signed
layout(constant_id = 1) const int BITS_A = 4;
const int CONT = QPACK_CONTAINER;

// in_scale: the product of the shortcuts of skipped layers since the tokens were last written
// (1 otherwise: an exact multiplication).
float load(int c, int p) {
    precise float v = uintBitsToFloat(FETCH(src, c * pc.in_w * pc.in_h + p)) * pc.in_scale;
    return v;
}
float param(int i) { return uintBitsToFloat(FETCH(params, i)); }

void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.in_w || y >= pc.in_h) return;
    int p = y * pc.in_w + x, plane = pc.in_w * pc.in_h, e = pc.cin;
    precise float sum = 0.0;
    for (int c = 0; c < e; c++) sum += load(c, p);
    precise float mean = sum / float(e);
    precise float sq = 0.0;
    for (int c = 0; c < e; c++) {
        precise float dev = load(c, p) - mean;
        sq += dev * dev;
    }
    precise float var_eps = sq / float(e) + 1e-5;
    precise float rstd = 1.0 / sqrt(var_eps);
    float qn = CODES_OUT == 2 ? -float(1 << (BITS_A - 1)) : 0.0;
    float qp = CODES_OUT == 2 ? float((1 << (BITS_A - 1)) - 1) : float((1 << BITS_A) - 1);
    int words = (e + QPACK_CPW - 1) / QPACK_CPW;
    for (int cw = 0; cw < words; cw++) {
        uint word = 0u;
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
            int c = cw * QPACK_CPW + j;
            if (c < e) {
                precise float normed = (load(c, p) - mean) * rstd;
                precise float v = normed * param(pc.scale_off + c) + param(pc.bias_off + c);
                if (CODES_OUT == 0) {
                    dst[c * plane + p] = floatBitsToUint(v);
                } else {
                    precise float t = (v + param(pc.aux_off + c)) / pc.step;
                    word |= qpack_put(int(clamp(roundEven(t), qn, qp)), j, CONT);
                }
            }
        }
        if (CODES_OUT != 0) dst[cw * plane + p] = word;
    }
}
