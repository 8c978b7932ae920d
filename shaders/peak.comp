#version 450
#extension GL_GOOGLE_include_directive : require
// peak: microkernels that measure what the device sustains in the forms the network's
// kernels use (`quantsr bench --peak`); each invocation runs ITERATIONS steps and writes one
// value so nothing is optimised away. ITERATIONS stays far below lavapipe's 65535-iteration
// loop limit. MODE (specialization constant 0):
//   0  integer pair-word multiply-adds, 8 codes x 4 pair words live (conv3x3_q's inner step:
//      2 products per 32-bit multiply);
//   1  fp32 multiply-adds, 8 pixels x a vec4 of weights (conv3x3_f32's inner step);
//   2  texel fetches (the convolutions' loads), 8 per step;
//   3  storage-buffer loads, 8 per step;
//   4  integer quad-word multiply-adds: mode 0's step with four products per 32-bit multiply
//      in 8-bit fields (conv3x3_q2's inner step; like mode 0, without the field flushes).
#include "common.glsl"

layout(constant_id = 0) const int MODE = 0;
layout(constant_id = 1) const int ITERATIONS = 1024;

layout(binding = 0) uniform usamplerBuffer table; // >= 4096 words
layout(std430, binding = 1) readonly buffer Words { uint words[]; };
layout(std430, binding = 2) writeonly buffer Out { uint result[]; };

void main() {
    uint id = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * 4096u;
    uint seed = id * 2654435761u + uint(pc.cin);
    uint acc = 0u;
    if (MODE == 0 || MODE == 4) {
        // pair words: two 4-bit weights in 16-bit fields; quad words: four 2-bit ones in bytes
        int fields = MODE == 0 ? 0x000F000F : 0x03030303;
        ivec4 w = ivec4(int(seed), int(seed >> 3), int(seed >> 7), int(seed >> 11)) & fields;
        ivec4 s0 = ivec4(0), s1 = ivec4(0), s2 = ivec4(0), s3 = ivec4(0);
        ivec4 s4 = ivec4(0), s5 = ivec4(0), s6 = ivec4(0), s7 = ivec4(0);
        int c = int(seed & 15u);
        for (int i = 0; i < ITERATIONS; i++) {
            int c0 = c, c1 = c + 1, c2 = c ^ 3, c3 = c + 5, c4 = c ^ 6, c5 = c + 7, c6 = c ^ 9, c7 = c + 2;
            s0 += c0 * w; s1 += c1 * w; s2 += c2 * w; s3 += c3 * w;
            s4 += c4 * w; s5 += c5 * w; s6 += c6 * w; s7 += c7 * w;
            w = w.yzwx;
            c = (c + i) & (MODE == 0 ? 15 : 3);
        }
        ivec4 s = s0 ^ s1 ^ s2 ^ s3 ^ s4 ^ s5 ^ s6 ^ s7;
        acc = uint(s.x ^ s.y ^ s.z ^ s.w);
    } else if (MODE == 1) {
        vec4 w = vec4(float(seed & 255u), float(seed >> 24), 0.5, 0.25) * 1e-3;
        vec4 a0 = vec4(0.0), a1 = vec4(0.0), a2 = vec4(0.0), a3 = vec4(0.0);
        vec4 a4 = vec4(0.0), a5 = vec4(0.0), a6 = vec4(0.0), a7 = vec4(0.0);
        float v = float(seed & 1023u) * 1e-3;
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = fma(w, vec4(v), a0); a1 = fma(w, vec4(v + 1.0), a1);
            a2 = fma(w, vec4(v + 2.0), a2); a3 = fma(w, vec4(v + 3.0), a3);
            a4 = fma(w, vec4(v + 4.0), a4); a5 = fma(w, vec4(v + 5.0), a5);
            a6 = fma(w, vec4(v + 6.0), a6); a7 = fma(w, vec4(v + 7.0), a7);
            w = w.yzwx;
            v += 0.125;
        }
        vec4 a = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        acc = floatBitsToUint(a.x + a.y + a.z + a.w);
    } else {
        int i0 = int(seed & 4095u);
        for (int i = 0; i < ITERATIONS; i++) {
            [[unroll]] for (int k = 0; k < 8; k++) {
                int idx = (i0 + k * 97) & 4095;
                acc += MODE == 2 ? texelFetch(table, idx).x : words[idx];
            }
            i0 += 13;
        }
    }
    result[id & 4095u] = acc;
}
