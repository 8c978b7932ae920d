#version 450
#extension GL_GOOGLE_include_directive : require
// layernorm_q: LayerNorm over the channels of each token of planar fp32 activations
// [cin][h][w] (QuantSR-T's norm1, norm2, patch_norm, norm), fp32 statistics in the order of
// the reference (runtime/reference_t.c):
//   mean = (sum x) / E; var = (sum (x - mean)^2) / E; y = (x - mean) * (1 / sqrt(var + 1e-5))
//   * weight + bias,
// then either the RLQ codes of the next linear layer's quantizer,
//   q = clamp(round_half_even((y + shift_c) / step), Qn, Qp), packed [cin/8][h][w] (qpack.glsl),
// or (CODES_OUT 0) y itself in fp32 [cin][h][w]. One token per invocation; E (the channel
// count, a specialization constant) unrolls the channel loops, so the token's E values are
// fetched once into registers for the three passes over them, and every parameter read has an
// address built from push constants and constants, outside any loop or branch: on lavapipe
// that is one scalar load, where a read inside a loop (or one through a texel buffer) is a
// per-lane gather. For the same reason no invocation returns early: those past the grid read
// its last pixel and store nothing.
#include "common.glsl"
#include "qpack.glsl"
#include "fetch.glsl"
FETCH_BUFFER(0, src); // fp32 bits [cin][h][w]
// weight at scale_off, bias at bias_off, the next quantizer's shifts at aux_off
layout(std430, binding = 1) readonly buffer Params { float params[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; }; // codes, or fp32 bits

layout(constant_id = 0) const int CODES_OUT = 2; // 0: fp32, 1: unsigned codes, 2: signed
layout(constant_id = 1) const int BITS_A = 4;
layout(constant_id = 2) const int E = 60; // channels: pc.cin (the record function checks)
const int CONT = QPACK_CONTAINER;
const int WORDS = (E + QPACK_CPW - 1) / QPACK_CPW;

// in_scale: the product of the shortcuts of skipped layers since the tokens were last written
// (1 otherwise: an exact multiplication).
float load(int c, int p) {
    precise float v = uintBitsToFloat(FETCH(src, c * pc.in_w * pc.in_h + p)) * pc.in_scale;
    return v;
}

void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    bool inside = x < pc.in_w && y < pc.in_h;
    int p = min(y, pc.in_h - 1) * pc.in_w + min(x, pc.in_w - 1), plane = pc.in_w * pc.in_h;
    float v[E];
    precise float sum = 0.0;
    [[unroll]] for (int c = 0; c < E; c++) {
        v[c] = load(c, p);
        sum += v[c];
    }
    precise float mean = sum / float(E);
    precise float sq = 0.0;
    [[unroll]] for (int c = 0; c < E; c++) {
        precise float dev = v[c] - mean;
        sq += dev * dev;
    }
    precise float var_eps = sq / float(E) + 1e-5;
    precise float rstd = 1.0 / sqrt(var_eps);
    float qn = CODES_OUT == 2 ? -float(1 << (BITS_A - 1)) : 0.0;
    float qp = CODES_OUT == 2 ? float((1 << (BITS_A - 1)) - 1) : float((1 << BITS_A) - 1);
    [[unroll]] for (int cw = 0; cw < WORDS; cw++) {
        uint word = 0u;
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
            int c = cw * QPACK_CPW + j;
            if (c < E) {
                precise float normed = (v[c] - mean) * rstd;
                precise float r = normed * params[pc.scale_off + c] + params[pc.bias_off + c];
                if (CODES_OUT == 0) {
                    if (inside) dst[c * plane + p] = floatBitsToUint(r);
                } else {
                    precise float t = (r + params[pc.aux_off + c]) / pc.step;
                    word |= qpack_put(int(clamp(roundEven(t), qn, qp)), j, CONT);
                }
            }
        }
        if (CODES_OUT != 0 && inside) dst[cw * plane + p] = word;
    }
}
