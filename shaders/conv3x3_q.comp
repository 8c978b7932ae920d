#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_q: 3x3 convolution over packed low-bit activation codes and weight codes with
// integer accumulation, then the epilogue of qconv_epilogue.glsl (with the next layer's codes,
// a residual block is two dispatches that read only packed words).
//
// Arithmetic: two output channels share one 32-bit multiply: a pair word holds
// w[2p] + 65536 * w[2p+1], so code * word adds both products at once (lavapipe.md: unpack
// each activation once, multiply wide fields). The 16-bit fields are flushed into 32-bit
// sums after every activation word: at most 8 channels * 9 taps * |15 * 8| = 8640 < 32768.
#include "common.glsl"
#include "qpack.glsl"

// Texel buffers (or storage buffers where they would exceed the device's limit: fetch.glsl),
// both read as 16-byte texels.
#include "fetch.glsl"
FETCH_BUFFER4(0, src); // codes [cin/8][h][w]
// Weights: [cout/8][cin][3] uvec4, one per kernel row: taps kx = 0..2 as words of 8 nibbles
// (output channels 8g..8g+7) and a zero word. One fetch brings a row's three words: on
// lavapipe a fetch is a gather of the same cost at any width.
FETCH_BUFFER4(1, weights);
#include "qconv_epilogue.glsl"
#include "qpairs.glsl"

// Each invocation computes PX neighbouring pixels of one row: a weight word fetched once
// serves PX pixels, an activation word 3 * OCB * (its 8 channels) products.
const int PX = 8;

#include "row_fetch.glsl"

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW, last_texel = FETCH4_COUNT(src) - 1;
    bool sgn = SIGNED_A != 0;
    // Accumulators are named vectors, never arrays indexed in loops: lavapipe turns a
    // private array with a dynamic index into per-lane memory traffic.
    ivec4 lo0 = ivec4(0), lo1 = ivec4(0), lo2 = ivec4(0), lo3 = ivec4(0);
    ivec4 hi0 = ivec4(0), hi1 = ivec4(0), hi2 = ivec4(0), hi3 = ivec4(0);
    ivec4 lo4 = ivec4(0), lo5 = ivec4(0), lo6 = ivec4(0), lo7 = ivec4(0);
    ivec4 hi4 = ivec4(0), hi5 = ivec4(0), hi6 = ivec4(0), hi7 = ivec4(0);
    for (int cw = 0; cw < words; cw++) {
        uint nb[3 * (PX + 2)]; // 3 rows x (PX + 2) words around the PX pixels
        [[unroll]] for (int r = 0; r < 3; r++) {
            uint row[PX + 2];
            LOAD_PLANE_ROW(src, cw, y + r - 1, x0 - 1, last_texel, PX + 2, row)
            [[unroll]] for (int i = 0; i < PX + 2; i++) nb[r * (PX + 2) + i] = row[i];
        }
        ivec4 s0 = ivec4(0), s1 = ivec4(0), s2 = ivec4(0), s3 = ivec4(0);
        ivec4 s4 = ivec4(0), s5 = ivec4(0), s6 = ivec4(0), s7 = ivec4(0);
        int cend = min(QPACK_CPW, pc.cin - cw * QPACK_CPW);
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
            if (j >= cend) break;
            int wb = pc.w_off + (group * pc.cin + cw * QPACK_CPW + j) * 3;
            // One weight word live at a time keeps the accumulators in registers.
            [[unroll]] for (int ky = 0; ky < 3; ky++) {
                int r = ky * (PX + 2);
                int c0 = qpack_get(nb[r + 0], j, CONT, sgn), c1 = qpack_get(nb[r + 1], j, CONT, sgn);
                int c2 = qpack_get(nb[r + 2], j, CONT, sgn), c3 = qpack_get(nb[r + 3], j, CONT, sgn);
                int c4 = qpack_get(nb[r + 4], j, CONT, sgn), c5 = qpack_get(nb[r + 5], j, CONT, sgn);
                int c6 = qpack_get(nb[r + 6], j, CONT, sgn), c7 = qpack_get(nb[r + 7], j, CONT, sgn);
                int c8 = qpack_get(nb[r + 8], j, CONT, sgn), c9 = qpack_get(nb[r + 9], j, CONT, sgn);
                uvec4 row = FETCH4(weights, wb + ky);
                ivec4 w = unpack_pairs(row.x);
                s0 += c0 * w; s1 += c1 * w; s2 += c2 * w; s3 += c3 * w;
                s4 += c4 * w; s5 += c5 * w; s6 += c6 * w; s7 += c7 * w;
                w = unpack_pairs(row.y);
                s0 += c1 * w; s1 += c2 * w; s2 += c3 * w; s3 += c4 * w;
                s4 += c5 * w; s5 += c6 * w; s6 += c7 * w; s7 += c8 * w;
                w = unpack_pairs(row.z);
                s0 += c2 * w; s1 += c3 * w; s2 += c4 * w; s3 += c5 * w;
                s4 += c6 * w; s5 += c7 * w; s6 += c8 * w; s7 += c9 * w;
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
    channel_consts k = load_consts(oc0);
    store_pixel(x0, y, oc0, lo0, hi0, k);
    store_pixel(x0 + 1, y, oc0, lo1, hi1, k);
    store_pixel(x0 + 2, y, oc0, lo2, hi2, k);
    store_pixel(x0 + 3, y, oc0, lo3, hi3, k);
    store_pixel(x0 + 4, y, oc0, lo4, hi4, k);
    store_pixel(x0 + 5, y, oc0, lo5, hi5, k);
    store_pixel(x0 + 6, y, oc0, lo6, hi6, k);
    store_pixel(x0 + 7, y, oc0, lo7, hi7, k);
}
