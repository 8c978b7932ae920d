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
// accumulators per pixel): 16, or 8 for narrow grids (qsr__conv_px).
layout(constant_id = 1) const int PX = 16;
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

// The loop order of conv3x3_q.comp: per code word its codes and weights first, then each
// pixel's products in one accumulator that stays in a register (1.4x against the tap-major
// order). Channels past cin in a partial last word get zero weights, so the flushes can sit
// at fixed channels.
void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int last_texel = FETCH4_COUNT(src) - 1;
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW;
    uvec4 p[PX];
    uint a[PX];
    [[unroll]] for (int i = 0; i < PX; i++) {
        p[i] = uvec4(0);
        a[i] = 0u;
    }
    for (int cw = 0; cw < words; cw++) {
        int cend = min(QPACK_CPW, pc.cin - cw * QPACK_CPW);
        uint nb[3][PX + 2];
        [[unroll]] for (int r = 0; r < 3; r++) {
            LOAD_PLANE_ROW(src, cw, y + r - 1, x0 - 1, last_texel, PX + 2, nb[r])
            uint sum[PX + 2];
            [[unroll]] for (int i = 0; i < PX + 2; i++) sum[i] = code_sum(nb[r][i], cend);
            [[unroll]] for (int i = 0; i < PX; i++) a[i] += sum[i] + sum[i + 1] + sum[i + 2];
        }
        uvec2 q[QPACK_CPW][9];
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
            int wb = pc.w_off + (group * pc.cin + cw * QPACK_CPW + min(j, cend - 1)) * 6;
            bool on = j < cend;
            [[unroll]] for (int ky = 0; ky < 3; ky++) {
                uvec4 r01 = FETCH4(weights, wb + ky * 2);
                uvec2 r2 = FETCH4(weights, wb + ky * 2 + 1).xy;
                q[j][ky * 3 + 0] = on ? r01.xy : uvec2(0);
                q[j][ky * 3 + 1] = on ? r01.zw : uvec2(0);
                q[j][ky * 3 + 2] = on ? r2 : uvec2(0);
            }
        }
        [[unroll]] for (int i = 0; i < PX; i++) {
            uvec2 s = uvec2(0);
            [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
                [[unroll]] for (int k = 0; k < 9; k++)
                    s += code_of(nb[k / 3][i + k % 3], j) * q[j][k];
                // Flush after every 3 channels and at the end of the word (see the header).
                if (j % 3 == 2 || j == QPACK_CPW - 1) {
                    flush(s, p[i]);
                    s = uvec2(0);
                }
            }
        }
    }
    int oc0 = group * OCB;
    int kb = pc.w_off + ((pc.cout + OCB - 1) / OCB) * pc.cin * 6 + oc0 / 4;
    ivec4 k03 = ivec4(FETCH4(weights, kb)), k47 = ivec4(FETCH4(weights, kb + 1));
    ivec4 k_even = ivec4(k03.x, k03.z, k47.x, k47.z);
    ivec4 k_odd = ivec4(k03.y, k03.w, k47.y, k47.w);
    channel_consts k = load_consts(oc0);
    [[unroll]] for (int i = 0; i < PX; i++) {
        ivec4 lo, hi;
        finish(p[i], a[i], k_even, k_odd, lo, hi);
        store_pixel(x0 + i, y, oc0, lo, hi, k);
    }
}
