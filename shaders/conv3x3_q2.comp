#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_q2: conv3x3_q for 2-bit (and 3-bit) weights and activations, a four-term dot
// product per 32-bit multiply. Codes and weights are made non-negative so that no byte
// borrows (B = 2 at 2 bits, 4 at 3 bits: half the codes' range):
//   w' = w + B in [0, 2B - 1];  a' = a (unsigned codes, padding 0) or a + B (signed codes;
//   padding is a = 0, so a' = B).
// An activation word's 8 codes become two words of bytes, E (channels 0, 2, 4, 6 in bytes
// 0..3) and O (1, 3, 5, 7); a weight word holds one output channel's w' of those channels in
// reverse byte order, so byte 3 of E * W is sum_b a'_b w'_b (the product's lower bytes hold
// partial sums, its higher ones fall off the 32 bits). At 2 bits byte 2 takes at most
// 3 * 9 = 27 per product and byte 3 36, so six products (a kernel row, both halves) add up
// without a carry into or out of byte 3 before `>> 24` flushes them into a 32-bit sum; at 3
// bits byte 3 takes up to 4 * 49 = 196 and byte 2 147, so each product is flushed by itself.
// Per output channel the kernel sums T = sum a' w' and per pixel A = sum a', and recovers the
// true sum over 9 cin terms:
//   unsigned: sum a w = T - B A
//   signed:   sum a w = T - B A - B sum w' + 9 B^2 cin        (a w = (a' - B)(w' - B))
// The per-channel constant K = -B sum w' + 9 B^2 cin (0 for unsigned codes) follows the
// layer's weights in the weight buffer. Per four MACs: a multiply and an add at 2 bits, a
// multiply, a shift and an add at 3, and no code extraction per tap, where conv3x3_q's pair
// words take two multiplies and two adds (3 bits: 25 % fewer instructions than conv3x3_q,
// docs/benchmarks.md); the previous 2-bit version (four output channels per multiply)
// extracted each code for each tap: about 1.1x slower.
#include "common.glsl"
#include "qpack.glsl"

#include "fetch.glsl"
FETCH_BUFFER4(0, src); // codes [cin/8][h][w], planar or padded (qpack.glsl)
// Weights: per [cout/8][cin/8][tap] one uvec4 that holds in bits 2q and 2q + 1 of each byte
// the words of output channels 8g + 2q (.x E-half, .y O-half) and 8g + 2q + 1 (.z, .w), q = 0..3:
// w' in reverse byte order, 2 for channels past cin (pack_byte_words in runtime/ops/
// conv3x3_q.c, folded); then K[cout] (uvec4 units throughout).
FETCH_BUFFER4(1, weights);
#include "qconv_epilogue.glsl"

// Each invocation computes PX neighbouring pixels of one row for 8 output channels: 16, 8 for
// narrow grids or 32 for wide ones (qsr__conv_px).
layout(constant_id = 1) const int PX = 16;
// The code width the kernel reads (2 or 3; BITS_A, the epilogue's, is the same in every network)
// and the bytes' offset B and field mask.
const int QBITS = BITS_A == 2 ? 2 : 3;
const uint HALF_RANGE = 1u << (QBITS - 1);
const uint FIELDS = QBITS == 2 ? 0x03030303u : 0x07070707u;
const uint BIAS_A = SIGNED_A != 0 ? HALF_RANGE : 0u;
// Weight texels per tap: the four channel pairs' bytes w' folded into one texel at 2 bits
// (bits 2q, 2q + 1 of each byte), two at 3 bits (pairs 2t and 2t + 1 in texel t, bits 0-2 and
// 4-6).
const int TAP_TEXELS = QBITS == 2 ? 1 : 2;

#include "row_fetch.glsl"

// a' of the even (half 0) or odd (half 1) channels of a packed word as bytes: the low QBITS
// bits of each nibble, for signed codes with the top one flipped (a 4-bit two's complement
// code a in [-B, B - 1] has a & (2B - 1) = a + 2B for a < 0, a otherwise; xor B gives a + B).
uint half_bytes(uint word, int half_) {
    return ((word >> (4 * half_)) & FIELDS) ^ (BIAS_A * 0x01010101u);
}

// The weight bytes of channel pair q at a tap from its texels (see TAP_TEXELS).
uvec4 pair_weights(uvec4 texels[2], int q) {
    return QBITS == 2 ? (texels[0] >> (2 * q)) & FIELDS : (texels[q / 2] >> (4 * (q % 2))) & FIELDS;
}

// A product's contribution to the byte-3 sums: the whole word at 2 bits (six of them add up
// before `>> 24`), byte 3 alone at 3 bits.
uint dot_bytes(uint a, uint w) {
    return QBITS == 2 ? a * w : (a * w) >> 24;
}

// sum of a' over a word's 8 channels, from its two halves (bytes <= 14, their sum <= 56).
uint code_sum(uint even, uint odd) {
    return ((even + odd) * 0x01010101u) >> 24;
}

// Per code word its bytes and all its weights first, then each pixel's products with its
// sums in registers (the loop order of conv3x3_q.comp), the 4 channel pairs innermost so that
// a tap's two activation words are read once for all 8 output channels (3 % fewer
// instructions than with the pairs outside the taps, docs/benchmarks.md). Channels past cin in
// a partial last word have w' = 2 (w = 0): whatever their codes, they add 2 a' to T and a' to
// A, which the -2 A cancels, so A needs no mask per word (a per-lane select chain on lavapipe,
// ~9 % of this kernel's instructions).
void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int last_texel = FETCH4_COUNT(src) - 1;
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW;
    uvec4 t_lo[PX], t_hi[PX]; // T of channels 0, 2, 4, 6 (t_lo) and 1, 3, 5, 7 (t_hi)
    uint a[PX];
    [[unroll]] for (int i = 0; i < PX; i++) {
        t_lo[i] = uvec4(0);
        t_hi[i] = uvec4(0);
        a[i] = 0u;
    }
    for (int cw = 0; cw < words; cw++) {
        uint e[3][PX + 2], o[3][PX + 2];
        [[unroll]] for (int r = 0; r < 3; r++) {
            uint nb[PX + 2];
            LOAD_CODE_ROW(src, cw, y + r - 1, x0 - 1, last_texel, PX + 2, nb)
            uint sum[PX + 2];
            [[unroll]] for (int i = 0; i < PX + 2; i++) {
                e[r][i] = half_bytes(nb[i], 0);
                o[r][i] = half_bytes(nb[i], 1);
                sum[i] = code_sum(e[r][i], o[r][i]);
            }
            [[unroll]] for (int i = 0; i < PX; i++) a[i] += sum[i] + sum[i + 1] + sum[i + 2];
        }
        // w[k][q]: output channels 2q (.xy: E-half, O-half) and 2q + 1 (.zw) at tap k
        uvec4 w[9][4];
        int wb = pc.w_off + (group * words + cw) * 9 * TAP_TEXELS;
        [[unroll]] for (int k = 0; k < 9; k++) {
            uvec4 texels[2];
            [[unroll]] for (int t = 0; t < 2; t++)
                texels[t] = t < TAP_TEXELS ? FETCH4(weights, wb + k * TAP_TEXELS + t) : uvec4(0);
            [[unroll]] for (int q = 0; q < 4; q++) w[k][q] = pair_weights(texels, q);
        }
        [[unroll]] for (int i = 0; i < PX; i++) {
            uvec4 s_even = uvec4(0u), s_odd = uvec4(0u);
            [[unroll]] for (int ky = 0; ky < 3; ky++) {
                // byte 3 of six products (2 bits), or six flushed byte-3 sums (3 bits)
                uvec4 d_even = uvec4(0u), d_odd = uvec4(0u);
                [[unroll]] for (int kx = 0; kx < 3; kx++) {
                    uint ev = e[ky][i + kx], od = o[ky][i + kx];
                    [[unroll]] for (int q = 0; q < 4; q++) {
                        uvec4 wk = w[ky * 3 + kx][q];
                        d_even[q] += dot_bytes(ev, wk.x) + dot_bytes(od, wk.y);
                        d_odd[q] += dot_bytes(ev, wk.z) + dot_bytes(od, wk.w);
                    }
                }
                s_even += QBITS == 2 ? d_even >> 24 : d_even;
                s_odd += QBITS == 2 ? d_odd >> 24 : d_odd;
            }
            t_lo[i] += s_even;
            t_hi[i] += s_odd;
        }
    }
    int oc0 = group * OCB;
    int kb = pc.w_off + ((pc.cout + OCB - 1) / OCB) * words * 9 * TAP_TEXELS + oc0 / 4;
    ivec4 k03 = ivec4(FETCH4(weights, kb)), k47 = ivec4(FETCH4(weights, kb + 1));
    ivec4 k_even = ivec4(k03.x, k03.z, k47.x, k47.z);
    ivec4 k_odd = ivec4(k03.y, k03.w, k47.y, k47.w);
    channel_consts k = load_consts(oc0);
    [[unroll]] for (int i = 0; i < PX; i++) {
        ivec4 correction = ivec4(-int(HALF_RANGE * a[i]));
        store_pixel(x0 + i, y, oc0, ivec4(t_lo[i]) + correction + k_even,
                    ivec4(t_hi[i]) + correction + k_odd, k);
    }
}
