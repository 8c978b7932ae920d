#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_f32: 3x3 convolution, stride 1, zero padding, fp32 weights and activations.
// Each invocation computes OCB output channels of one pixel. The sum runs over (c, ky, kx)
// in that order without fused multiply-adds (`precise`), the order the CPU reference uses.
#include "common.glsl"

// Weights: [cout/4][cin][9] vec4, lane o holding output channel 4g+o.
layout(binding = 0) uniform usamplerBuffer src;
layout(binding = 1) uniform usamplerBuffer weights4;
vec4 weight(int i) { return uintBitsToFloat(texelFetch(weights4, i)); }
layout(std430, binding = 2) readonly buffer Params { float params[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
layout(std430, binding = 4) readonly buffer Skip { float skip[]; };
layout(std430, binding = 5) writeonly buffer DstRgba { uint dst_rgba[]; };
// status[0] != 0 after a run: conv_last produced a non-finite value (the output is unusable).
layout(std430, binding = 6) buffer Status { uint status[]; };

const int OCB = 4; // output channels per invocation: one vec4

#include "epilogue.glsl"

// Each invocation computes PX = 8 neighbouring pixels of one row for 4 output channels, so
// the 9 weight vectors of an input channel are loaded once for 8 pixels (on lavapipe every
// buffer load costs far more than the arithmetic; docs/benchmarks.md).
const int PX = 8;

// The load is unconditional (clamped index) and zero padding a select afterwards: lavapipe
// turns a load under a condition into a masked per-lane gather, many times slower.
float load_value(int c, int ix, int iy, int plane) {
    bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
    float v = uintBitsToFloat(texelFetch(src, c * plane + clamp(iy, 0, pc.in_h - 1) * pc.in_w + clamp(ix, 0, pc.in_w - 1)).x);
    return inside ? v : 0.0;
}

void store_pixel(int x, int y, int oc0, vec4 acc) {
    if (x >= pc.out_w) return;
    if (EPILOGUE == EPILOGUE_RGB) {
        // conv_last: the three channels of one pixel live in this invocation (cout = 3).
        uint rgba = 0xFF000000u;
        [[unroll]] for (int c = 0; c < 3; c++) {
            precise float r = acc[c] * pc.in_scale + params[pc.bias_off + c];
            if (isnan(r) || isinf(r)) status[0] = 1u;
            rgba |= rgb_to_u8(r, c) << (8 * c);
        }
        dst_rgba[(y + pc.dst_y) * pc.dst_w + x + pc.dst_x] = rgba;
        return;
    }
    [[unroll]] for (int o = 0; o < OCB; o++) {
        int oc = oc0 + o;
        if (oc < pc.cout) {
            precise float r = acc[o] * pc.in_scale + params[pc.bias_off + oc];
            epilogue_store(oc, x, y, r);
        }
    }
}

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_GlobalInvocationID.z);
    if (x0 >= pc.out_w || y >= pc.out_h) return;
    int sx = x0 + pc.org_x, sy = y + pc.org_y;
    int plane = pc.in_w * pc.in_h;
    // The sum runs over (c, ky, kx) for every output, as in the CPU reference.
    precise vec4 a0 = vec4(0.0), a1 = vec4(0.0), a2 = vec4(0.0), a3 = vec4(0.0);
    precise vec4 a4 = vec4(0.0), a5 = vec4(0.0), a6 = vec4(0.0), a7 = vec4(0.0);
    for (int c = 0; c < pc.cin; c++) {
        int wb = pc.w_off + (group * pc.cin + c) * 9;
        [[unroll]] for (int ky = 0; ky < 3; ky++) {
            int iy = sy + ky - 1;
            float v0 = load_value(c, sx - 1, iy, plane), v1 = load_value(c, sx, iy, plane),
                  v2 = load_value(c, sx + 1, iy, plane), v3 = load_value(c, sx + 2, iy, plane),
                  v4 = load_value(c, sx + 3, iy, plane), v5 = load_value(c, sx + 4, iy, plane),
                  v6 = load_value(c, sx + 5, iy, plane), v7 = load_value(c, sx + 6, iy, plane),
                  v8 = load_value(c, sx + 7, iy, plane), v9 = load_value(c, sx + 8, iy, plane);
            vec4 w = weight(wb + ky * 3);
            a0 += w * v0; a1 += w * v1; a2 += w * v2; a3 += w * v3;
            a4 += w * v4; a5 += w * v5; a6 += w * v6; a7 += w * v7;
            w = weight(wb + ky * 3 + 1);
            a0 += w * v1; a1 += w * v2; a2 += w * v3; a3 += w * v4;
            a4 += w * v5; a5 += w * v6; a6 += w * v7; a7 += w * v8;
            w = weight(wb + ky * 3 + 2);
            a0 += w * v2; a1 += w * v3; a2 += w * v4; a3 += w * v5;
            a4 += w * v6; a5 += w * v7; a6 += w * v8; a7 += w * v9;
        }
    }
    int oc0 = group * OCB;
    store_pixel(x0, y, oc0, a0);
    store_pixel(x0 + 1, y, oc0, a1);
    store_pixel(x0 + 2, y, oc0, a2);
    store_pixel(x0 + 3, y, oc0, a3);
    store_pixel(x0 + 4, y, oc0, a4);
    store_pixel(x0 + 5, y, oc0, a5);
    store_pixel(x0 + 6, y, oc0, a6);
    store_pixel(x0 + 7, y, oc0, a7);
}
