#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_f32: 3x3 convolution, stride 1, zero padding, fp32 weights and activations.
// Each invocation computes OCB output channels of one pixel. The sum runs over (c, ky, kx)
// in that order without fused multiply-adds (`precise`), the order the CPU reference uses.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) readonly buffer Weights { float weights[]; }; // [cout][cin][9]
layout(std430, binding = 2) readonly buffer Params { float params[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
layout(std430, binding = 4) readonly buffer Skip { float skip[]; };
layout(std430, binding = 5) writeonly buffer DstRgba { uint dst_rgba[]; };

layout(constant_id = 1) const int OCB = 4;

#include "epilogue.glsl"

void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    int oc0 = int(gl_GlobalInvocationID.z) * OCB;
    if (x >= pc.out_w || y >= pc.out_h) return;
    int sx = x + pc.org_x, sy = y + pc.org_y;
    int plane = pc.in_w * pc.in_h;
    precise float acc[OCB];
    [[unroll]] for (int o = 0; o < OCB; o++) acc[o] = 0.0;
    for (int c = 0; c < pc.cin; c++) {
        float v[9];
        [[unroll]] for (int k = 0; k < 9; k++) {
            int ix = sx + k % 3 - 1, iy = sy + k / 3 - 1;
            bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
            v[k] = inside ? src[c * plane + iy * pc.in_w + ix] : 0.0;
        }
        [[unroll]] for (int o = 0; o < OCB; o++) {
            int oc = min(oc0 + o, pc.cout - 1);
            int wbase = pc.w_off + (oc * pc.cin + c) * 9;
            [[unroll]] for (int k = 0; k < 9; k++) acc[o] += weights[wbase + k] * v[k];
        }
    }
    if (EPILOGUE == EPILOGUE_RGB) {
        // conv_last: all three channels live in this invocation (OCB >= 3, cout = 3).
        uint rgba = 0xFF000000u;
        [[unroll]] for (int c = 0; c < 3; c++) {
            precise float r = acc[c] * pc.in_scale + params[pc.bias_off + c];
            rgba |= rgb_to_u8(r, c) << (8 * c);
        }
        dst_rgba[(y + pc.dst_y) * pc.dst_w + x + pc.dst_x] = rgba;
        return;
    }
    [[unroll]] for (int o = 0; o < OCB; o++) {
        int oc = oc0 + o;
        if (oc >= pc.cout) break;
        precise float r = acc[o] * pc.in_scale + params[pc.bias_off + oc];
        epilogue_store(oc, x, y, r);
    }
}
