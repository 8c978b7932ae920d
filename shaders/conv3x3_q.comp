#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_q: 3x3 convolution over packed low-bit activation codes and weight codes with
// integer accumulation, then y = sum * (a * a_w[oc]) + bias[oc] and an epilogue.
// Two output channels share one 32-bit multiply: a weight word holds w[2p] in its low 16 bits
// and w[2p+1] in its high 16 bits (as the integer w0 + 65536 * w1), so code * word adds both
// products at once (lavapipe.md: unpack each activation once, multiply wide fields). The
// 16-bit fields are flushed into 32-bit sums after every activation word: at most
// 16 channels * 9 taps * |15 * 8| = 17280 < 32768 accumulate in a field, so they never overflow.
#include "common.glsl"
#include "qpack.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };       // [cin/CPW][h][w]
layout(std430, binding = 1) readonly buffer Weights { int weights[]; }; // [pairs][cin][9]
layout(std430, binding = 2) readonly buffer Params { float params[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
layout(std430, binding = 4) readonly buffer Skip { float skip[]; };

layout(constant_id = 1) const int OCB = 8; // output channels per invocation, even
layout(constant_id = 3) const int BITS_A = 4;
layout(constant_id = 4) const int SIGNED_A = 1;
const int CONT = BITS_A == 2 ? 2 : 4;
const int CPW = 32 / CONT;
const int PAIRS = OCB / 2;

#include "epilogue.glsl"

void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    int oc0 = int(gl_GlobalInvocationID.z) * OCB;
    if (x >= pc.out_w || y >= pc.out_h) return;
    int plane = pc.in_w * pc.in_h;
    int words = (pc.cin + CPW - 1) / CPW;
    int last_pair = (pc.cout + 1) / 2 - 1;
    int acc_lo[PAIRS], acc_hi[PAIRS];
    [[unroll]] for (int p = 0; p < PAIRS; p++) acc_lo[p] = acc_hi[p] = 0;
    for (int cw = 0; cw < words; cw++) {
        uint nb[9];
        [[unroll]] for (int k = 0; k < 9; k++) {
            int ix = x + k % 3 - 1, iy = y + k / 3 - 1;
            bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
            nb[k] = inside ? src[cw * plane + iy * pc.in_w + ix] : 0u;
        }
        int acc16[PAIRS];
        [[unroll]] for (int p = 0; p < PAIRS; p++) acc16[p] = 0;
        [[unroll]] for (int j = 0; j < CPW; j++) {
            int c = cw * CPW + j;
            if (c >= pc.cin) break;
            int code[9];
            [[unroll]] for (int k = 0; k < 9; k++) code[k] = qpack_get(nb[k], j, CONT, SIGNED_A != 0);
            [[unroll]] for (int p = 0; p < PAIRS; p++) {
                int wb = pc.w_off + (min(oc0 / 2 + p, last_pair) * pc.cin + c) * 9;
                [[unroll]] for (int k = 0; k < 9; k++) acc16[p] += code[k] * weights[wb + k];
            }
        }
        [[unroll]] for (int p = 0; p < PAIRS; p++) {
            int lo = (acc16[p] << 16) >> 16;
            acc_lo[p] += lo;
            acc_hi[p] += (acc16[p] - lo) >> 16;
        }
    }
    [[unroll]] for (int p = 0; p < PAIRS; p++) {
        [[unroll]] for (int half_ = 0; half_ < 2; half_++) {
            int oc = oc0 + 2 * p + half_;
            if (oc < pc.cout) {
                int sum = half_ == 0 ? acc_lo[p] : acc_hi[p];
                precise float v = float(sum) * params[pc.scale_off + oc] + params[pc.bias_off + oc];
                epilogue_store(oc, x, y, v);
            }
        }
    }
}
