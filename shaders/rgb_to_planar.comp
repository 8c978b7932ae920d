#version 450
#extension GL_GOOGLE_include_directive : require
// rgb_to_planar: 8-bit RGBA pixels (in_w x in_h) -> the network input
// (rgb/255 - mean) * img_range, planar over out_w x out_h: the same grid, or (QuantSR-T) one
// padded on the right and bottom with the image reflected (PyTorch's 'reflect': the edge pixel
// is not repeated; the mirror repeats with period 2 (n - 1) where the pad exceeds the image).
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };

int reflect_index(int i, int n) {
    if (n == 1) return 0;
    int period = 2 * (n - 1);
    i %= period;
    return i < n ? i : period - i;
}

void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.out_w || y >= pc.out_h) return;
    uint p = src[reflect_index(y, pc.in_h) * pc.in_w + reflect_index(x, pc.in_w)];
    int plane = pc.out_w * pc.out_h;
    [[unroll]] for (int c = 0; c < 3; c++) {
        precise float v = (float((p >> (8 * c)) & 0xFFu) / 255.0 - rgb_mean(c)) * pc.img_range;
        dst[c * plane + y * pc.out_w + x] = v;
    }
}
