// epilogue.glsl - what a 3x3 convolution does with its result y for output channel oc at
// region pixel (x, y): one of the EPILOGUE_* modes, chosen by specialization constant 0.
// Needs: `dst` (float), `skip` (float) and `dst_rgba` (uint) buffers declared by the includer.
#define EPILOGUE_STORE    0 // dst = y
#define EPILOGUE_RELU     1 // dst = max(y, 0)
#define EPILOGUE_RESIDUAL 2 // dst = (dst * dst_scale) * shortcut + y  (block output, in place)
#define EPILOGUE_ADD_SKIP 3 // dst = y + skip                           (global skip)
#define EPILOGUE_SHUFFLE  4 // dst[c][y*r+i][x*r+j] = y for oc = c*r*r + i*r + j  (PixelShuffle)
#define EPILOGUE_RGB      5 // dst_rgba = 8-bit RGB of (y / img_range + mean)     (network output)

layout(constant_id = 0) const int EPILOGUE = 0;
layout(constant_id = 2) const int SHUFFLE_R = 2;

// The output pixel: v = y / img_range + mean, clamped to [0, 1], rounded half up to 8 bits.
uint rgb_to_u8(float y, int c) {
    precise float v = y / pc.img_range + rgb_mean(c);
    v = clamp(v, 0.0, 1.0);
    return uint(floor(v * 255.0 + 0.5));
}

void epilogue_store(int oc, int x, int y, float v) {
    int plane = pc.out_w * pc.out_h;
    if (EPILOGUE == EPILOGUE_SHUFFLE) {
        int rr = SHUFFLE_R * SHUFFLE_R;
        int c = oc / rr, i = (oc % rr) / SHUFFLE_R, j = oc % SHUFFLE_R;
        int w = pc.out_w * SHUFFLE_R, h = pc.out_h * SHUFFLE_R;
        dst[(c * h + y * SHUFFLE_R + i) * w + x * SHUFFLE_R + j] = v;
        return;
    }
    int idx = oc * plane + y * pc.out_w + x;
    if (EPILOGUE == EPILOGUE_RELU) {
        dst[idx] = max(v, 0.0);
    } else if (EPILOGUE == EPILOGUE_RESIDUAL) {
        precise float h = (dst[idx] * pc.dst_scale) * pc.shortcut + v;
        dst[idx] = h;
    } else if (EPILOGUE == EPILOGUE_ADD_SKIP) {
        precise float r = v + skip[idx];
        dst[idx] = r;
    } else {
        dst[idx] = v;
    }
}
