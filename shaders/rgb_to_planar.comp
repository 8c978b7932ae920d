#version 450
#extension GL_GOOGLE_include_directive : require
// rgb_to_planar: 8-bit RGBA pixels -> the network input (rgb/255 - mean) * img_range, planar.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };

void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.in_w || y >= pc.in_h) return;
    uint p = src[y * pc.in_w + x];
    int plane = pc.in_w * pc.in_h;
    [[unroll]] for (int c = 0; c < 3; c++) {
        precise float v = (float((p >> (8 * c)) & 0xFFu) / 255.0 - rgb_mean(c)) * pc.img_range;
        dst[c * plane + y * pc.in_w + x] = v;
    }
}
