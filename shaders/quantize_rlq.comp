#version 450
#extension GL_GOOGLE_include_directive : require
// quantize_rlq: the RLQ activation quantizer of one quantized convolution,
//   q = clamp(round_half_even((x * in_scale + shift_c) / step), Qn, Qp),
// packed CPW channels per word: dst[word][y][x], planar or padded (CODES_PADDED, qpack.glsl's
// code_index; the border words are left as they are). Channels past cin pack as 0.
// With H_C4, also x itself, unscaled, in the c4 layout [ceil(cin/4)][h][w][4] (ops.h) for the
// residual epilogue of QuantSR-C's body (RESIDUAL_C4, qconv_epilogue.glsl): the pass that
// makes the first block's codes lays out the residual stream on the way, instead of a copy.
#include "common.glsl"
#include "qpack.glsl"

// Read through texel buffers: on lavapipe a texel fetch is one vector gather where a
// storage-buffer read is a loop over the lanes (10x slower here; the *_storage twin reads
// storage buffers where a buffer exceeds the device's texel limit, fetch.glsl).
#include "fetch.glsl"
FETCH_BUFFER(0, src);    // fp32 bits [cin][h][w]
FETCH_BUFFER(1, params); // fp32 bits; the shifts at scale_off
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };
layout(std430, binding = 3) writeonly buffer DstC4 { vec4 dst_c4[]; };

layout(constant_id = 0) const int BITS = 4;
layout(constant_id = 1) const int SIGNED = 1;
layout(constant_id = 2) const int H_C4 = 0;
layout(constant_id = 3) const int CODES_PADDED = 0;
const int CONT = QPACK_CONTAINER;
const int CPW = QPACK_CPW;

void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    int word = int(gl_GlobalInvocationID.z);
    if (x >= pc.in_w || y >= pc.in_h) return;
    float qn = SIGNED != 0 ? -float(1 << (BITS - 1)) : 0.0;
    float qp = SIGNED != 0 ? float((1 << (BITS - 1)) - 1) : float((1 << BITS) - 1);
    int plane = pc.in_w * pc.in_h;
    uint packed = 0u;
    vec4 x_c4[2] = vec4[2](vec4(0.0), vec4(0.0));
    [[unroll]] for (int k = 0; k < CPW; k++) {
        int c = word * CPW + k;
        if (c < pc.cin) {
            float v = uintBitsToFloat(FETCH(src, c * plane + y * pc.in_w + x));
            float shift = uintBitsToFloat(FETCH(params, pc.scale_off + c));
            precise float t = (v * pc.in_scale + shift) / pc.step;
            packed |= qpack_put(int(clamp(roundEven(t), qn, qp)), k, CONT);
            x_c4[k / 4][k % 4] = v;
        }
    }
    dst[code_index(CODES_PADDED != 0, pc.in_w, pc.in_h, word, x, y)] = packed;
    if (H_C4 != 0) {
        [[unroll]] for (int q = 0; q < 2; q++)
            if (word * CPW + 4 * q < pc.cin)
                dst_c4[(2 * word + q) * plane + y * pc.in_w + x] = x_c4[q];
    }
}
