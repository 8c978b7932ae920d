#version 450
// compose.comp - one frame of quantsr-view's Vulkan presentation: the left side (bicubic or
// nearest), the right side (the network output, straight from the buffer that
// qsr_upscaler_run_to_buffer wrote), both under the view's zoom and pan and split at the
// divider, then the overlay (divider, text and panels; premultiplied alpha) on top. Every
// pixel is one 32-bit word, R in the low byte; the result is copied into the swapchain image.
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, binding = 0) readonly buffer LeftSide { uint left_px[]; };
layout(std430, binding = 1) readonly buffer RightSide { uint right_px[]; };
layout(std430, binding = 2) readonly buffer Overlay { uint overlay_px[]; };
layout(std430, binding = 3) writeonly buffer Frame { uint frame_px[]; };

layout(push_constant) uniform Params {
    int win_w, win_h;  // frame size
    int split_x;       // first column of the right side
    int img_w, img_h;  // output image size (both sides)
    float zoom;        // screen pixels per image pixel
    float off_x, off_y;  // screen position of the image's top-left corner
    uint has_left, has_right;
    uint swap_rb;      // the swapchain is B8G8R8A8
    uint linear;       // bilinear when shrinking, nearest when magnifying (as the renderer)
    uint background;   // RGBA word
} p;

uint fetch(bool right, ivec2 q) {
    q = clamp(q, ivec2(0), ivec2(p.img_w - 1, p.img_h - 1));
    int i = q.y * p.img_w + q.x;
    return right ? right_px[i] : left_px[i];
}

vec3 sample_side(bool right, vec2 pos) {
    if (p.linear == 0u) return unpackUnorm4x8(fetch(right, ivec2(floor(pos)))).rgb;
    vec2 t = pos - 0.5;
    ivec2 q = ivec2(floor(t));
    vec2 f = t - floor(t);
    vec3 a = unpackUnorm4x8(fetch(right, q)).rgb, b = unpackUnorm4x8(fetch(right, q + ivec2(1, 0))).rgb;
    vec3 c = unpackUnorm4x8(fetch(right, q + ivec2(0, 1))).rgb, d = unpackUnorm4x8(fetch(right, q + ivec2(1, 1))).rgb;
    return mix(mix(a, b, f.x), mix(c, d, f.x), f.y);
}

void main() {
    ivec2 s = ivec2(gl_GlobalInvocationID.xy);
    if (s.x >= p.win_w || s.y >= p.win_h) return;
    vec3 color = unpackUnorm4x8(p.background).rgb;
    vec2 pos = (vec2(s) + 0.5 - vec2(p.off_x, p.off_y)) / p.zoom;
    bool inside = pos.x >= 0.0 && pos.y >= 0.0 && pos.x < float(p.img_w) && pos.y < float(p.img_h);
    bool right = s.x >= p.split_x;
    if (inside && (right ? p.has_right : p.has_left) != 0u) color = sample_side(right, pos);
    vec4 over = unpackUnorm4x8(overlay_px[s.y * p.win_w + s.x]);
    color = over.rgb + color * (1.0 - over.a);
    uint word = packUnorm4x8(vec4(color, 1.0));
    if (p.swap_rb != 0u) word = (word & 0xff00ff00u) | ((word & 0xffu) << 16) | ((word >> 16) & 0xffu);
    frame_px[s.y * p.win_w + s.x] = word;
}
