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
FETCH_BUFFER4(0, src); // codes [cin/8][h][w], planar or padded (qpack.glsl)
// Weights: [cout/8][cin/8] blocks of 18 uvec4: the 72 words (channel j of the code word, tap k)
// at word 9 j + k, each of 8 nibbles (output channels 8g..8g+7); 0 for channels past cin, so
// a partial last code word needs no mask (its padding codes meet zero weights). On lavapipe a
// fetch is a call to a gather function, of the same cost at any width, and its caller spills
// its vector registers around every call: 18 fetches per code word, one per 4 words.
FETCH_BUFFER4(1, weights);
#include "qconv_epilogue.glsl"
#include "qpairs.glsl"

// Each invocation computes PX neighbouring pixels of one row for OCB output channels: a weight
// word fetched and unpacked once serves PX pixels. PX is 16, or 8 for grids where 16 would
// leave much of a workgroup row empty, 32 for grids of whole rows at 32 (qsr__conv_px).
layout(constant_id = 1) const int PX = 16;

#include "row_fetch.glsl"

// Per code word: its rows of codes and all its weights (unpacked to pair words) first, then each
// pixel's 72 products into one 16-bit-field accumulator. On lavapipe every accumulator that
// lives across a loop body is spilled to the stack; with the pixel loop outside, a pixel's
// accumulator stays in a register for its 72 products and the weights are read back from the
// stack as memory operands (1.35x against the tap-major order with 8 pixels).
void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW, last_texel = FETCH4_COUNT(src) - 1;
    bool sgn = SIGNED_A != 0;
    // Arrays indexed only by unrolled loops: lavapipe turns a dynamic index into a private
    // array into per-lane memory traffic.
    ivec4 lo[PX], hi[PX]; // 32-bit sums of channels oc0 + 2p (lo) and oc0 + 2p + 1 (hi)
    [[unroll]] for (int i = 0; i < PX; i++) {
        lo[i] = ivec4(0);
        hi[i] = ivec4(0);
    }
    for (int cw = 0; cw < words; cw++) {
        uint nb[3][PX + 2]; // 3 rows x (PX + 2) words around the PX pixels
        [[unroll]] for (int r = 0; r < 3; r++)
            LOAD_CODE_ROW(src, cw, y + r - 1, x0 - 1, last_texel, PX + 2, nb[r])
        uvec4 block[18];
        int wb = pc.w_off + (group * words + cw) * 18;
        [[unroll]] for (int t = 0; t < 18; t++) block[t] = FETCH4(weights, wb + t);
        ivec4 w[QPACK_CPW][9];
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++)
            [[unroll]] for (int k = 0; k < 9; k++) {
                int n = 9 * j + k;
                w[j][k] = unpack_pairs(block[n / 4][n % 4]);
            }
        [[unroll]] for (int i = 0; i < PX; i++) {
            ivec4 s = ivec4(0);
            [[unroll]] for (int j = 0; j < QPACK_CPW; j++)
                [[unroll]] for (int k = 0; k < 9; k++)
                    s += qpack_get(nb[k / 3][i + k % 3], j, CONT, sgn) * w[j][k];
            flush(s, lo[i], hi[i]);
        }
    }
    int oc0 = group * OCB;
    channel_consts k = load_consts(oc0);
    [[unroll]] for (int i = 0; i < PX; i++) store_pixel(x0 + i, y, oc0, lo[i], hi[i], k);
}
