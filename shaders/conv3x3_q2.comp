#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_q2: conv3x3_q for 2-bit weights and 2-bit activations, four output channels per
// 32-bit multiply (lavapipe.md: 8-bit fields). Codes and weights are made non-negative so the
// 8-bit fields never borrow from each other:
//   w' = w + 2 in [0, 3], stored in the bytes of "quad" words (byte k = output channel k);
//   a' = a (unsigned codes, padding 0) or a + 2 (signed codes; padding is a = 0, so a' = 2).
// Per output channel the kernel sums T = sum a' w' in the byte fields and A = sum a' per
// pixel (the same for every channel), and recovers the true sum over the 9 * cin terms:
//   unsigned: sum a w = T - 2 A
//   signed:   sum a w = T - 2 A - 2 sum w' + 36 cin        (a w = (a' - 2)(w' - 2))
// The per-channel constant K = -2 sum w' + 36 cin (0 for unsigned codes) follows the layer's
// weights in the weight buffer. A field takes at most 3 channels * 9 taps * 3 * 3 = 243 < 256
// before it is flushed into 16-bit fields, which hold a layer's T up to 81 * cin < 65536.
#include "common.glsl"
#include "qpack.glsl"

#include "fetch.glsl"
FETCH_BUFFER4(0, src); // codes [cin/8][h][w]
// Weights: per [cout/8][cin][kernel row] two uvec4 of quad words (kx 0 h 0, kx 0 h 1, kx 1 h 0,
// kx 1 h 1 | kx 2 h 0, kx 2 h 1, 0, 0), then K[cout] (uvec4 units throughout).
FETCH_BUFFER4(1, weights);
#include "qconv_epilogue.glsl"

// Each invocation computes PX neighbouring pixels of one row for 8 output channels (two quad
// accumulators per pixel).
const int PX = 16;
const uint BIAS_A = SIGNED_A != 0 ? 2u : 0u;

#include "row_fetch.glsl"

// a' of channel j of a packed word: the low 2 bits of its nibble plus the bias (a 4-bit
// two's complement code a in [-2, 1] plus 2 has its value in the low 2 bits).
uint code_of(uint word, int j) {
    return ((word >> (4 * j)) + BIAS_A) & 3u;
}

// sum of a' over the first `valid` channels of a word.
uint code_sum(uint word, int valid) {
    uint even = ((word & 0x0F0F0F0Fu) + BIAS_A * 0x01010101u) & 0x03030303u;
    uint odd = (((word >> 4) & 0x0F0F0F0Fu) + BIAS_A * 0x01010101u) & 0x03030303u;
    if (valid < 8) { // channel 2k is byte k of even, 2k + 1 byte k of odd
        even &= valid >= 7 ? 0x03030303u : valid >= 5 ? 0x030303u : valid >= 3 ? 0x0303u : valid >= 1 ? 0x03u : 0u;
        odd &= valid >= 8 ? 0x03030303u : valid >= 6 ? 0x030303u : valid >= 4 ? 0x0303u : valid >= 2 ? 0x03u : 0u;
    }
    return ((even + odd) * 0x01010101u) >> 24;
}

// Moves the byte fields into 16-bit fields: p.x = channels 0, 2; p.y = 1, 3; p.z = 4, 6;
// p.w = 5, 7 (low half first).
void flush(uvec2 q, inout uvec4 p) {
    p += uvec4(q.x & 0x00FF00FFu, (q.x >> 8) & 0x00FF00FFu, q.y & 0x00FF00FFu,
               (q.y >> 8) & 0x00FF00FFu);
}

// The true sums of the 8 channels in conv3x3_q's lo (even channels) / hi (odd) layout.
void finish(uvec4 p, uint a, ivec4 k_even, ivec4 k_odd, out ivec4 lo, out ivec4 hi) {
    ivec4 t_even = ivec4(uvec4(p.x & 0xFFFFu, p.x >> 16, p.z & 0xFFFFu, p.z >> 16));
    ivec4 t_odd = ivec4(uvec4(p.y & 0xFFFFu, p.y >> 16, p.w & 0xFFFFu, p.w >> 16));
    lo = t_even - 2 * int(a) + k_even;
    hi = t_odd - 2 * int(a) + k_odd;
}

#define MAC_ROW(o)                                                                         \
    s0 += c[o + 0] * q; s1 += c[o + 1] * q; s2 += c[o + 2] * q; s3 += c[o + 3] * q;             \
    s4 += c[o + 4] * q; s5 += c[o + 5] * q; s6 += c[o + 6] * q; s7 += c[o + 7] * q;             \
    s8 += c[o + 8] * q; s9 += c[o + 9] * q; s10 += c[o + 10] * q; s11 += c[o + 11] * q;         \
    s12 += c[o + 12] * q; s13 += c[o + 13] * q; s14 += c[o + 14] * q; s15 += c[o + 15] * q;

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int last_texel = FETCH4_COUNT(src) - 1;
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW;
    uvec4 p0 = uvec4(0), p1 = uvec4(0), p2 = uvec4(0), p3 = uvec4(0);
    uvec4 p4 = uvec4(0), p5 = uvec4(0), p6 = uvec4(0), p7 = uvec4(0);
    uvec4 p8 = uvec4(0), p9 = uvec4(0), p10 = uvec4(0), p11 = uvec4(0);
    uvec4 p12 = uvec4(0), p13 = uvec4(0), p14 = uvec4(0), p15 = uvec4(0);
    uint a0 = 0u, a1 = 0u, a2 = 0u, a3 = 0u, a4 = 0u, a5 = 0u, a6 = 0u, a7 = 0u;
    uint a8 = 0u, a9 = 0u, a10 = 0u, a11 = 0u, a12 = 0u, a13 = 0u, a14 = 0u, a15 = 0u;
    for (int cw = 0; cw < words; cw++) {
        int cend = min(QPACK_CPW, pc.cin - cw * QPACK_CPW);
        uint nb[3 * (PX + 2)];
        [[unroll]] for (int r = 0; r < 3; r++) {
            uint sum[PX + 2], row[PX + 2];
            LOAD_PLANE_ROW(src, cw, y + r - 1, x0 - 1, last_texel, PX + 2, row)
            [[unroll]] for (int i = 0; i < PX + 2; i++) {
                nb[r * (PX + 2) + i] = row[i];
                sum[i] = code_sum(nb[r * (PX + 2) + i], cend);
            }
            a0 += sum[0] + sum[1] + sum[2]; a1 += sum[1] + sum[2] + sum[3];
            a2 += sum[2] + sum[3] + sum[4]; a3 += sum[3] + sum[4] + sum[5];
            a4 += sum[4] + sum[5] + sum[6]; a5 += sum[5] + sum[6] + sum[7];
            a6 += sum[6] + sum[7] + sum[8]; a7 += sum[7] + sum[8] + sum[9];
            a8 += sum[8] + sum[9] + sum[10]; a9 += sum[9] + sum[10] + sum[11];
            a10 += sum[10] + sum[11] + sum[12]; a11 += sum[11] + sum[12] + sum[13];
            a12 += sum[12] + sum[13] + sum[14]; a13 += sum[13] + sum[14] + sum[15];
            a14 += sum[14] + sum[15] + sum[16]; a15 += sum[15] + sum[16] + sum[17];
        }
        uvec2 s0 = uvec2(0), s1 = uvec2(0), s2 = uvec2(0), s3 = uvec2(0);
        uvec2 s4 = uvec2(0), s5 = uvec2(0), s6 = uvec2(0), s7 = uvec2(0);
        uvec2 s8 = uvec2(0), s9 = uvec2(0), s10 = uvec2(0), s11 = uvec2(0);
        uvec2 s12 = uvec2(0), s13 = uvec2(0), s14 = uvec2(0), s15 = uvec2(0);
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
            if (j >= cend) break;
            int wb = pc.w_off + (group * pc.cin + cw * QPACK_CPW + j) * 6;
            [[unroll]] for (int ky = 0; ky < 3; ky++) {
                int r = ky * (PX + 2);
                uint c[PX + 2];
                [[unroll]] for (int i = 0; i < PX + 2; i++) c[i] = code_of(nb[r + i], j);
                uvec4 r01 = FETCH4(weights, wb + ky * 2);
                uvec2 q = r01.xy;
                MAC_ROW(0)
                q = r01.zw;
                MAC_ROW(1)
                q = FETCH4(weights, wb + ky * 2 + 1).xy;
                MAC_ROW(2)
            }
            // Flush after every 3 channels and at the end of the word (see the header).
            if (j == 2 || j == 5 || j == cend - 1) {
                flush(s0, p0); flush(s1, p1); flush(s2, p2); flush(s3, p3);
                flush(s4, p4); flush(s5, p5); flush(s6, p6); flush(s7, p7);
                flush(s8, p8); flush(s9, p9); flush(s10, p10); flush(s11, p11);
                flush(s12, p12); flush(s13, p13); flush(s14, p14); flush(s15, p15);
                s0 = uvec2(0); s1 = uvec2(0); s2 = uvec2(0); s3 = uvec2(0);
                s4 = uvec2(0); s5 = uvec2(0); s6 = uvec2(0); s7 = uvec2(0);
                s8 = uvec2(0); s9 = uvec2(0); s10 = uvec2(0); s11 = uvec2(0);
                s12 = uvec2(0); s13 = uvec2(0); s14 = uvec2(0); s15 = uvec2(0);
            }
        }
    }
    int oc0 = group * OCB;
    int kb = pc.w_off + ((pc.cout + OCB - 1) / OCB) * pc.cin * 6 + oc0 / 4;
    ivec4 k03 = ivec4(FETCH4(weights, kb)), k47 = ivec4(FETCH4(weights, kb + 1));
    ivec4 k_even = ivec4(k03.x, k03.z, k47.x, k47.z);
    ivec4 k_odd = ivec4(k03.y, k03.w, k47.y, k47.w);
    channel_consts k = load_consts(oc0);
    ivec4 lo, hi;
    finish(p0, a0, k_even, k_odd, lo, hi); store_pixel(x0, y, oc0, lo, hi, k);
    finish(p1, a1, k_even, k_odd, lo, hi); store_pixel(x0 + 1, y, oc0, lo, hi, k);
    finish(p2, a2, k_even, k_odd, lo, hi); store_pixel(x0 + 2, y, oc0, lo, hi, k);
    finish(p3, a3, k_even, k_odd, lo, hi); store_pixel(x0 + 3, y, oc0, lo, hi, k);
    finish(p4, a4, k_even, k_odd, lo, hi); store_pixel(x0 + 4, y, oc0, lo, hi, k);
    finish(p5, a5, k_even, k_odd, lo, hi); store_pixel(x0 + 5, y, oc0, lo, hi, k);
    finish(p6, a6, k_even, k_odd, lo, hi); store_pixel(x0 + 6, y, oc0, lo, hi, k);
    finish(p7, a7, k_even, k_odd, lo, hi); store_pixel(x0 + 7, y, oc0, lo, hi, k);
    finish(p8, a8, k_even, k_odd, lo, hi); store_pixel(x0 + 8, y, oc0, lo, hi, k);
    finish(p9, a9, k_even, k_odd, lo, hi); store_pixel(x0 + 9, y, oc0, lo, hi, k);
    finish(p10, a10, k_even, k_odd, lo, hi); store_pixel(x0 + 10, y, oc0, lo, hi, k);
    finish(p11, a11, k_even, k_odd, lo, hi); store_pixel(x0 + 11, y, oc0, lo, hi, k);
    finish(p12, a12, k_even, k_odd, lo, hi); store_pixel(x0 + 12, y, oc0, lo, hi, k);
    finish(p13, a13, k_even, k_odd, lo, hi); store_pixel(x0 + 13, y, oc0, lo, hi, k);
    finish(p14, a14, k_even, k_odd, lo, hi); store_pixel(x0 + 14, y, oc0, lo, hi, k);
    finish(p15, a15, k_even, k_odd, lo, hi); store_pixel(x0 + 15, y, oc0, lo, hi, k);
}
