#version 450
#extension GL_GOOGLE_include_directive : require
// linear_q: a quantized linear layer over tokens (QuantSR-T's qkv, proj, fc1, fc2): the 1x1
// convolution of packed low-bit activation codes [cin/8][h][w] with weight codes, integer
// accumulation, then the epilogue of qconv_epilogue.glsl: y = sum * (a * a_w[oc]) + bias[oc]
// stored in fp32 (STORE: qkv), added to the residual stream (RESIDUAL, h = h * dst_scale *
// shortcut + y: proj with the layer's shortcut, fc2 with 1), or GELU followed by the codes of
// the next layer's quantizer only (GELU with CODES_OUT: fc1 -> fc2).
//
// Arithmetic as conv3x3_q.comp (qpairs.glsl): a weight word of 8 output channels' nibbles
// becomes 4 pair words, each multiplied by one activation code unpacked once; the 16-bit
// fields are flushed after every FLUSH_WORDS activation words (32 words * 8 channels *
// |15 * 8| = 30720 < 32768): a 1x1 layer has 9 times fewer products per word than a 3x3 one,
// and flushing after every word cost about a third of the time.
#include "common.glsl"
#include "qpack.glsl"
#include "fetch.glsl"
FETCH_BUFFER4(0, src); // codes [cin/8][h][w], read as 16-byte texels (row_fetch.glsl)
// Weights: [cout/8][cin/8][2] uvec4: the 8 words of input channels 8cw .. 8cw + 7, word j
// holding in nibble o the code of output channel 8g + o (0 past cin or cout).
FETCH_BUFFER4(1, weights);
#include "qconv_epilogue.glsl"
#include "qpairs.glsl"
#include "row_fetch.glsl"

// Tokens per invocation (a row segment of the h x w grid): a weight word serves PX tokens.
const int PX = 8;
const int FLUSH_WORDS = 32;

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW, last_texel = FETCH4_COUNT(src) - 1;
    int plane = pc.in_w * pc.in_h;
    bool sgn = SIGNED_A != 0;
    // Named accumulators, never arrays indexed in loops (lavapipe.md).
    ivec4 lo0 = ivec4(0), lo1 = ivec4(0), lo2 = ivec4(0), lo3 = ivec4(0);
    ivec4 hi0 = ivec4(0), hi1 = ivec4(0), hi2 = ivec4(0), hi3 = ivec4(0);
    ivec4 lo4 = ivec4(0), lo5 = ivec4(0), lo6 = ivec4(0), lo7 = ivec4(0);
    ivec4 hi4 = ivec4(0), hi5 = ivec4(0), hi6 = ivec4(0), hi7 = ivec4(0);
    int wb = pc.w_off + group * words * 2;
    for (int cw0 = 0; cw0 < words; cw0 += FLUSH_WORDS) {
        ivec4 s0 = ivec4(0), s1 = ivec4(0), s2 = ivec4(0), s3 = ivec4(0);
        ivec4 s4 = ivec4(0), s5 = ivec4(0), s6 = ivec4(0), s7 = ivec4(0);
        for (int cw = cw0; cw < min(cw0 + FLUSH_WORDS, words); cw++) {
            // Tokens past the row's end read the next row's codes (or a clamped texel): their
            // sums are never stored.
            uint a[PX];
            FETCH_ROW(src, cw * plane + y * pc.in_w + x0, last_texel, PX, a)
            uvec4 wlo = FETCH4(weights, wb + 2 * cw), whi = FETCH4(weights, wb + 2 * cw + 1);
            [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
                ivec4 w = unpack_pairs(j < 4 ? wlo[j & 3] : whi[j & 3]);
                s0 += qpack_get(a[0], j, CONT, sgn) * w;
                s1 += qpack_get(a[1], j, CONT, sgn) * w;
                s2 += qpack_get(a[2], j, CONT, sgn) * w;
                s3 += qpack_get(a[3], j, CONT, sgn) * w;
                s4 += qpack_get(a[4], j, CONT, sgn) * w;
                s5 += qpack_get(a[5], j, CONT, sgn) * w;
                s6 += qpack_get(a[6], j, CONT, sgn) * w;
                s7 += qpack_get(a[7], j, CONT, sgn) * w;
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
