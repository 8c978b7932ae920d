#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_f32: 3x3 convolution, stride 1, zero padding, fp32 weights and activations.
// Each invocation computes 8 output channels (two vec4 groups) of PX pixels. Every sum runs
// over (c, ky, kx) in that order without fused multiply-adds (`precise`), as the CPU reference.
#include "common.glsl"

// Weights: [cout/4][cin][9] vec4 (cout padded to a multiple of 8), lane o holding output
// channel 4g+o; fetched through texel buffers (one fetch is a vector gather on lavapipe).
layout(binding = 0) uniform usamplerBuffer src;
layout(binding = 1) uniform usamplerBuffer weights4;
vec4 weight(int i) { return uintBitsToFloat(texelFetch(weights4, i)); }
layout(std430, binding = 2) readonly buffer Params { float params[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
layout(std430, binding = 4) readonly buffer Skip { float skip[]; };
layout(std430, binding = 5) writeonly buffer DstRgba { uint dst_rgba[]; };
// status[0] != 0 after a run: conv_last produced a non-finite value (the output is unusable).
layout(std430, binding = 6) buffer Status { uint status[]; };

const int OCB = 4; // output channels per vec4 group; an invocation makes two groups

#include "epilogue.glsl"

// Each invocation computes PX = 8 neighbouring pixels of one row for 8 output channels: an
// input value fetched once serves 24 products, a weight vector 8 pixels (on lavapipe every
// fetch costs far more than the arithmetic; accumulators spilled to the stack cost less).
const int PX = 8;

// The load is unconditional (clamped index) and zero padding a select afterwards: lavapipe
// turns a load under a condition into a masked per-lane gather, many times slower.
float load_value(int c, int ix, int iy, int plane) {
    bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
    float v = uintBitsToFloat(texelFetch(src, c * plane + clamp(iy, 0, pc.in_h - 1) * pc.in_w + clamp(ix, 0, pc.in_w - 1)).x);
    return inside ? v : 0.0;
}

// The biases of output channels oc0..oc0+3, loaded once per invocation (a storage-buffer load
// per pixel and channel was a measurable share of the time).
vec4 load_bias(int oc0) {
    vec4 b;
    [[unroll]] for (int o = 0; o < OCB; o++)
        b[o] = oc0 + o < pc.cout ? params[pc.bias_off + oc0 + o] : 0.0;
    return b;
}

void store_pixel(int x, int y, int oc0, vec4 acc, vec4 bias) {
    if (x >= pc.out_w) return;
    if (EPILOGUE == EPILOGUE_RGB) {
        // conv_last: the three channels of one pixel live in this invocation (cout = 3).
        uint rgba = 0xFF000000u;
        [[unroll]] for (int c = 0; c < 3; c++) {
            precise float r = acc[c] * pc.in_scale + bias[c];
            if (isnan(r) || isinf(r)) status[0] = 1u;
            rgba |= rgb_to_u8(r, c) << (8 * c);
        }
        dst_rgba[(y + pc.dst_y) * pc.dst_w + x + pc.dst_x] = rgba;
        return;
    }
    [[unroll]] for (int o = 0; o < OCB; o++) {
        int oc = oc0 + o;
        if (oc < pc.cout) {
            precise float r = acc[o] * pc.in_scale + bias[o];
            epilogue_store(oc, x, y, r);
        }
    }
}

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_GlobalInvocationID.z);
    int sx = x0 + pc.org_x, sy = y + pc.org_y;
    int plane = pc.in_w * pc.in_h;
    precise vec4 a0 = vec4(0.0), a1 = vec4(0.0), a2 = vec4(0.0), a3 = vec4(0.0);
    precise vec4 a4 = vec4(0.0), a5 = vec4(0.0), a6 = vec4(0.0), a7 = vec4(0.0);
    precise vec4 b0 = vec4(0.0), b1 = vec4(0.0), b2 = vec4(0.0), b3 = vec4(0.0);
    precise vec4 b4 = vec4(0.0), b5 = vec4(0.0), b6 = vec4(0.0), b7 = vec4(0.0);
    for (int c = 0; c < pc.cin; c++) {
        int wb = pc.w_off + (2 * group * pc.cin + c) * 9; // vec4 group 2 * group
        int wb2 = wb + pc.cin * 9;                        // and the next
        [[unroll]] for (int ky = 0; ky < 3; ky++) {
            int iy = sy + ky - 1;
            float v0 = load_value(c, sx - 1, iy, plane), v1 = load_value(c, sx, iy, plane),
                  v2 = load_value(c, sx + 1, iy, plane), v3 = load_value(c, sx + 2, iy, plane),
                  v4 = load_value(c, sx + 3, iy, plane), v5 = load_value(c, sx + 4, iy, plane),
                  v6 = load_value(c, sx + 5, iy, plane), v7 = load_value(c, sx + 6, iy, plane),
                  v8 = load_value(c, sx + 7, iy, plane), v9 = load_value(c, sx + 8, iy, plane);
            [[unroll]] for (int kx = 0; kx < 3; kx++) {
                vec4 w = weight(wb + ky * 3 + kx);
                float p0 = kx == 0 ? v0 : kx == 1 ? v1 : v2;
                float p1 = kx == 0 ? v1 : kx == 1 ? v2 : v3;
                float p2 = kx == 0 ? v2 : kx == 1 ? v3 : v4;
                float p3 = kx == 0 ? v3 : kx == 1 ? v4 : v5;
                float p4 = kx == 0 ? v4 : kx == 1 ? v5 : v6;
                float p5 = kx == 0 ? v5 : kx == 1 ? v6 : v7;
                float p6 = kx == 0 ? v6 : kx == 1 ? v7 : v8;
                float p7 = kx == 0 ? v7 : kx == 1 ? v8 : v9;
                a0 += w * p0; a1 += w * p1; a2 += w * p2; a3 += w * p3;
                a4 += w * p4; a5 += w * p5; a6 += w * p6; a7 += w * p7;
                // conv_last (3 output channels) has one vec4 group: the compiler drops this.
                if (EPILOGUE != EPILOGUE_RGB) {
                    vec4 u = weight(wb2 + ky * 3 + kx);
                    b0 += u * p0; b1 += u * p1; b2 += u * p2; b3 += u * p3;
                    b4 += u * p4; b5 += u * p5; b6 += u * p6; b7 += u * p7;
                }
            }
        }
    }
    int oc0 = group * 8;
    if (y >= pc.out_h) return;
    vec4 bias_a = load_bias(oc0), bias_b = EPILOGUE == EPILOGUE_RGB ? vec4(0.0) : load_bias(oc0 + 4);
    store_pixel(x0, y, oc0, a0, bias_a);
    store_pixel(x0 + 1, y, oc0, a1, bias_a);
    store_pixel(x0 + 2, y, oc0, a2, bias_a);
    store_pixel(x0 + 3, y, oc0, a3, bias_a);
    store_pixel(x0 + 4, y, oc0, a4, bias_a);
    store_pixel(x0 + 5, y, oc0, a5, bias_a);
    store_pixel(x0 + 6, y, oc0, a6, bias_a);
    store_pixel(x0 + 7, y, oc0, a7, bias_a);
    if (EPILOGUE == EPILOGUE_RGB) return; // the 3 channels of a pixel are all in a*
    store_pixel(x0, y, oc0 + 4, b0, bias_b);
    store_pixel(x0 + 1, y, oc0 + 4, b1, bias_b);
    store_pixel(x0 + 2, y, oc0 + 4, b2, bias_b);
    store_pixel(x0 + 3, y, oc0 + 4, b3, bias_b);
    store_pixel(x0 + 4, y, oc0 + 4, b4, bias_b);
    store_pixel(x0 + 5, y, oc0 + 4, b5, bias_b);
    store_pixel(x0 + 6, y, oc0 + 4, b6, bias_b);
    store_pixel(x0 + 7, y, oc0 + 4, b7, bias_b);
}
