#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_spirv_intrinsics : require
// conv3x3_q_dot: conv3x3_q with 4x8-bit packed dot products (VK_KHR_shader_integer_dot_product,
// OpSDot), four input channels per call. Chosen where the device reports the packed
// signed dot accelerated (int8 dot instructions of recent GPUs); QSR_KERNEL=dot forces it.
//
// An activation word (8 channels in nibbles) splits into two words of bytes, channels 0,2,4,6
// and 1,3,5,7, by two masks. Signed codes a become a + 8 (nibble ^ 8; padding, a = 0, becomes 8
// too), so every byte is a non-negative int8 and the per-channel constant
// K = -8 * sum of the layer's weights (0 for unsigned codes) restores sum a w.
#include "common.glsl"
#include "qpack.glsl"

#include "fetch.glsl"
FETCH_BUFFER(0, src);      // codes [cin/8][h][w]
// [cout/8][cin/8][9][4] uvec4, then K[cout]: uvec4 q of (group, word, tap) holds output
// channel 8g+2q's weights for channels (0,2,4,6) and (1,3,5,7) of the word in int8 bytes,
// then channel 8g+2q+1's.
FETCH_BUFFER4(1, weights4);
#include "qconv_epilogue.glsl"

const int PX = 8;
const uint SIGN_FLIP = SIGNED_A != 0 ? 0x88888888u : 0u;

// Unconditional fetch at a clamped index, zero padding by a select afterwards.
uint load_word(int cw, int ix, int iy, int plane) {
    bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
    int i = cw * plane + clamp(iy, 0, pc.in_h - 1) * pc.in_w + clamp(ix, 0, pc.in_w - 1);
    return (inside ? FETCH(src, i) : 0u) ^ SIGN_FLIP;
}

// OpSDot (4450) on two packed 4x8-bit signed vectors (format literal 0), declared through
// GL_EXT_spirv_intrinsics: Debian's glslang 12 predates GL_EXT_integer_dot_product's
// dotPacked4x8EXT. Capabilities DotProduct (6019) and DotProductInput4x8BitPacked (6018).
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018],
                  id = 4450)
int dot_packed_4x8(int a, int b, spirv_literal int packed_format);

// One output channel's sum over the 8 channels of an activation word.
int dot8(uint w_even, uint w_odd, int a_even, int a_odd) {
    return dot_packed_4x8(int(w_even), a_even, 0) + dot_packed_4x8(int(w_odd), a_odd, 0);
}

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int plane = pc.in_w * pc.in_h;
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW;
    ivec4 lo[PX], hi[PX]; // channels oc0 + 2p and oc0 + 2p + 1
    [[unroll]] for (int i = 0; i < PX; i++) {
        lo[i] = ivec4(0);
        hi[i] = ivec4(0);
    }
    for (int cw = 0; cw < words; cw++) {
        int a_even[3 * (PX + 2)], a_odd[3 * (PX + 2)]; // 3 rows x (PX + 2) words
        [[unroll]] for (int i = 0; i < 3 * (PX + 2); i++) {
            uint w = load_word(cw, x0 + i % (PX + 2) - 1, y + i / (PX + 2) - 1, plane);
            a_even[i] = int(w & 0x0F0F0F0Fu);
            a_odd[i] = int((w >> 4) & 0x0F0F0F0Fu);
        }
        int wb = pc.w_off + (group * words + cw) * 36;
        [[unroll]] for (int tap = 0; tap < 9; tap++) {
            uvec4 q0 = FETCH4(weights4, wb + tap * 4), q1 = FETCH4(weights4, wb + tap * 4 + 1);
            uvec4 q2 = FETCH4(weights4, wb + tap * 4 + 2), q3 = FETCH4(weights4, wb + tap * 4 + 3);
            [[unroll]] for (int i = 0; i < PX; i++) {
                int n = (tap / 3) * (PX + 2) + i + tap % 3;
                int e = a_even[n], o = a_odd[n];
                lo[i] += ivec4(dot8(q0.x, q0.y, e, o), dot8(q1.x, q1.y, e, o),
                               dot8(q2.x, q2.y, e, o), dot8(q3.x, q3.y, e, o));
                hi[i] += ivec4(dot8(q0.z, q0.w, e, o), dot8(q1.z, q1.w, e, o),
                               dot8(q2.z, q2.w, e, o), dot8(q3.z, q3.w, e, o));
            }
        }
    }
    int oc0 = group * OCB;
    int kb = pc.w_off + ((pc.cout + OCB - 1) / OCB) * words * 36 + group * 2;
    ivec4 k0 = ivec4(FETCH4(weights4, kb)), k1 = ivec4(FETCH4(weights4, kb + 1));
    ivec4 k_even = ivec4(k0.x, k0.z, k1.x, k1.z), k_odd = ivec4(k0.y, k0.w, k1.y, k1.w);
    channel_consts k = load_consts(oc0);
    [[unroll]] for (int i = 0; i < PX; i++)
        store_pixel(x0 + i, y, oc0, lo[i] + k_even, hi[i] + k_odd, k);
}
