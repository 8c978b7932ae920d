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

// Weights: [cout/8][cin][9] words, nibble o of a word = 4-bit code of output channel 8g+o
// (2- and 3-bit codes sign-extended). One load brings a tap's codes for 8 channels; the
// shader expands them into 4 pair words (ALU is cheap next to loads on lavapipe).
layout(std430, binding = 0) readonly buffer Src { uint src[]; }; // [cin/CPW][h][w]
layout(std430, binding = 1) readonly buffer Weights { uint weights[]; };
layout(std430, binding = 2) readonly buffer Params { float params[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
layout(std430, binding = 4) readonly buffer Skip { float skip[]; };

layout(constant_id = 3) const int BITS_A = 4;
layout(constant_id = 4) const int SIGNED_A = 1;
const int CONT = BITS_A == 2 ? 2 : 4;
const int CPW = 32 / CONT;
const int OCB = 8; // output channels per invocation: 4 pair words in one ivec4

#include "epilogue.glsl"

// Each invocation computes PX = 8 neighbouring pixels of one row for 8 output channels:
// the 9 weight vectors of an input channel are loaded once and used for all 8 pixels (on
// lavapipe every buffer load costs far more than the arithmetic; docs/benchmarks.md).
const int PX = 8;

// The load is unconditional (clamped index) and zero padding a select afterwards: lavapipe
// turns a load under a condition into a masked per-lane gather, many times slower.
uint load_word(int cw, int ix, int iy, int plane) {
    bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
    uint v = src[cw * plane + clamp(iy, 0, pc.in_h - 1) * pc.in_w + clamp(ix, 0, pc.in_w - 1)];
    return inside ? v : 0u;
}

// The pair words of one weight word: lane p = code[2p] + 65536 * code[2p + 1].
ivec4 unpack_pairs(uint word) {
    ivec4 w = ivec4(int(word));
    return ((w << ivec4(28, 20, 12, 4)) >> 28) + (((w << ivec4(24, 16, 8, 0)) >> 28) << 16);
}

// Flushes 16-bit field sums into the 32-bit accumulators of one pixel.
void flush(ivec4 acc16, inout ivec4 lo, inout ivec4 hi) {
    ivec4 l = (acc16 << 16) >> 16;
    lo += l;
    hi += (acc16 - l) >> 16;
}

void store_pixel(int x, int y, int oc0, ivec4 lo, ivec4 hi) {
    if (x >= pc.out_w) return;
    [[unroll]] for (int p = 0; p < 4; p++) {
        [[unroll]] for (int half_ = 0; half_ < 2; half_++) {
            int oc = oc0 + 2 * p + half_;
            if (oc < pc.cout) {
                int sum = half_ == 0 ? lo[p] : hi[p];
                precise float v = float(sum) * params[pc.scale_off + oc] + params[pc.bias_off + oc];
                epilogue_store(oc, x, y, v);
            }
        }
    }
}

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_GlobalInvocationID.z);
    if (x0 >= pc.out_w || y >= pc.out_h) return;
    int plane = pc.in_w * pc.in_h;
    int words = (pc.cin + CPW - 1) / CPW;
    bool sgn = SIGNED_A != 0;
    // Accumulators are named vectors, never arrays indexed in loops: lavapipe turns a
    // private array with a dynamic index into per-lane memory traffic.
    ivec4 lo0 = ivec4(0), lo1 = ivec4(0), lo2 = ivec4(0), lo3 = ivec4(0);
    ivec4 lo4 = ivec4(0), lo5 = ivec4(0), lo6 = ivec4(0), lo7 = ivec4(0);
    ivec4 hi0 = ivec4(0), hi1 = ivec4(0), hi2 = ivec4(0), hi3 = ivec4(0);
    ivec4 hi4 = ivec4(0), hi5 = ivec4(0), hi6 = ivec4(0), hi7 = ivec4(0);
    for (int cw = 0; cw < words; cw++) {
        uint nb[30]; // 3 rows x (PX + 2) words around the 8 pixels
        [[unroll]] for (int i = 0; i < 30; i++)
            nb[i] = load_word(cw, x0 + i % 10 - 1, y + i / 10 - 1, plane);
        ivec4 s0 = ivec4(0), s1 = ivec4(0), s2 = ivec4(0), s3 = ivec4(0);
        ivec4 s4 = ivec4(0), s5 = ivec4(0), s6 = ivec4(0), s7 = ivec4(0);
        int cend = min(CPW, pc.cin - cw * CPW);
        [[unroll]] for (int j = 0; j < CPW; j++) {
            if (j >= cend) break;
            int wb = pc.w_off + (group * pc.cin + cw * CPW + j) * 9;
            [[unroll]] for (int ky = 0; ky < 3; ky++) {
                ivec4 w0 = unpack_pairs(weights[wb + ky * 3]),
                      w1 = unpack_pairs(weights[wb + ky * 3 + 1]),
                      w2 = unpack_pairs(weights[wb + ky * 3 + 2]);
                int r = ky * 10;
                int c0 = qpack_get(nb[r + 0], j, CONT, sgn), c1 = qpack_get(nb[r + 1], j, CONT, sgn);
                int c2 = qpack_get(nb[r + 2], j, CONT, sgn), c3 = qpack_get(nb[r + 3], j, CONT, sgn);
                int c4 = qpack_get(nb[r + 4], j, CONT, sgn), c5 = qpack_get(nb[r + 5], j, CONT, sgn);
                int c6 = qpack_get(nb[r + 6], j, CONT, sgn), c7 = qpack_get(nb[r + 7], j, CONT, sgn);
                int c8 = qpack_get(nb[r + 8], j, CONT, sgn), c9 = qpack_get(nb[r + 9], j, CONT, sgn);
                s0 += c0 * w0 + c1 * w1 + c2 * w2;
                s1 += c1 * w0 + c2 * w1 + c3 * w2;
                s2 += c2 * w0 + c3 * w1 + c4 * w2;
                s3 += c3 * w0 + c4 * w1 + c5 * w2;
                s4 += c4 * w0 + c5 * w1 + c6 * w2;
                s5 += c5 * w0 + c6 * w1 + c7 * w2;
                s6 += c6 * w0 + c7 * w1 + c8 * w2;
                s7 += c7 * w0 + c8 * w1 + c9 * w2;
            }
        }
        flush(s0, lo0, hi0);
        flush(s1, lo1, hi1);
        flush(s2, lo2, hi2);
        flush(s3, lo3, hi3);
        flush(s4, lo4, hi4);
        flush(s5, lo5, hi5);
        flush(s6, lo6, hi6);
        flush(s7, lo7, hi7);
    }
    int oc0 = group * OCB;
    store_pixel(x0, y, oc0, lo0, hi0);
    store_pixel(x0 + 1, y, oc0, lo1, hi1);
    store_pixel(x0 + 2, y, oc0, lo2, hi2);
    store_pixel(x0 + 3, y, oc0, lo3, hi3);
    store_pixel(x0 + 4, y, oc0, lo4, hi4);
    store_pixel(x0 + 5, y, oc0, lo5, hi5);
    store_pixel(x0 + 6, y, oc0, lo6, hi6);
    store_pixel(x0 + 7, y, oc0, lo7, hi7);
}
