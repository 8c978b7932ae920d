#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_f32: 3x3 convolution, stride 1, zero padding, fp32 weights and activations.
// Each invocation computes 8 output channels (two vec4 groups) of PX pixels. Every sum runs
// over (c, ky, kx) in that order; the `reference` variant rounds each product and sum as the
// CPU reference does (`precise`), the `fast` one (QSR_FP_FAST) lets them fuse into FMAs.
#include "common.glsl"

// Weights: [cout/8][cin][9][2] vec4 (cout padded to a multiple of 8): an invocation's 8 output
// channels, 18 vec4 per input channel, lane o of half h holding output channel 8g+4h+o; fetched
// through texel buffers (one fetch is a vector gather on lavapipe) or storage buffers (fetch.glsl).
#include "f32_bindings.glsl"

const int OCB = 4; // output channels per vec4 group; an invocation makes two groups

#ifdef QSR_FP_FAST
#define ACC_PRECISE
#define MAC(acc, w, p) acc = fma(w, vec4(p), acc)
#else
#define ACC_PRECISE precise
#define MAC(acc, w, p) acc += w * p
#endif

#include "epilogue.glsl"

// Each invocation computes PX neighbouring pixels of one row for 8 output channels: an input
// value fetched once serves 24 products, a weight vector PX pixels. On lavapipe the fetches
// (vector gathers) cost more than the arithmetic and accumulators spilled to the stack less
// than fetches: 16 pixels measured 1.1-1.25x faster than 8. PX is 16, or 8 for grids where 16
// would leave much of a workgroup row empty (qsr__conv_px).
layout(constant_id = 1) const int PX = 16;

// Activations are read a row segment at a time through binding 0's 16-byte texel view: planar
// [cin][h][w], or with SRC_C4 in the c4 layout [ceil(cin/4)][h][w][4] (ops.h), four channels
// per fetch (QuantSR-C's conv_after_body reads the body's residual stream so).
layout(constant_id = 3) const int SRC_C4 = 0;
#include "row_fetch.glsl"

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

// Channel c's products with its inputs v[3][PX + 2] (rows y - 1 .. y + 1 from x0 - 1): all its
// weights first, then each accumulator's 9 products in a row: an accumulator spilled to the
// stack is loaded and stored once per channel instead of once per tap. The order of every sum,
// (c, ky, kx), is that of the CPU reference.
#define CHANNEL_MACS(c_, v_)                                                                     \
    {                                                                                            \
        int wc_ = pc.w_off + (group * pc.cin + (c_)) * 18;                                       \
        vec4 wa_[9], wb_[9];                                                                     \
        [[unroll]] for (int k = 0; k < 9; k++) {                                                 \
            wa_[k] = weight(wc_ + k * 2);                                                        \
            /* conv_last (3 output channels) has one vec4 group: the compiler drops this. */     \
            wb_[k] = EPILOGUE != EPILOGUE_RGB ? weight(wc_ + k * 2 + 1) : vec4(0.0);             \
        }                                                                                        \
        [[unroll]] for (int i = 0; i < PX; i++) {                                                \
            [[unroll]] for (int k = 0; k < 9; k++) MAC(acc_a[i], wa_[k], v_[k / 3][i + k % 3]);  \
            if (EPILOGUE != EPILOGUE_RGB)                                                        \
                [[unroll]] for (int k = 0; k < 9; k++)                                           \
                    MAC(acc_b[i], wb_[k], v_[k / 3][i + k % 3]);                                 \
        }                                                                                        \
    }

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_GlobalInvocationID.z);
    int sx = x0 + pc.org_x, sy = y + pc.org_y;
    int last_texel = FETCH4_COUNT(src) - 1;
    ACC_PRECISE vec4 acc_a[PX], acc_b[PX]; // output channels oc0..oc0+3 and oc0+4..oc0+7
    [[unroll]] for (int i = 0; i < PX; i++) {
        acc_a[i] = vec4(0.0);
        acc_b[i] = vec4(0.0);
    }
    if (SRC_C4 == 0) {
        for (int c = 0; c < pc.cin; c++) {
            float v[3][PX + 2];
            [[unroll]] for (int ky = 0; ky < 3; ky++) {
                uint row[PX + 2];
                LOAD_PLANE_ROW(src, c, sy + ky - 1, sx - 1, last_texel, PX + 2, row)
                [[unroll]] for (int i = 0; i < PX + 2; i++) v[ky][i] = uintBitsToFloat(row[i]);
            }
            CHANNEL_MACS(c, v)
        }
    } else {
        for (int cq = 0; cq < (pc.cin + 3) / 4; cq++) {
            uvec4 rows[3][PX + 2];
            [[unroll]] for (int ky = 0; ky < 3; ky++)
                LOAD_C4_ROW(src, cq, sy + ky - 1, sx - 1, last_texel, PX + 2, rows[ky])
            [[unroll]] for (int j = 0; j < 4; j++) {
                int c = 4 * cq + j;
                if (c < pc.cin) {
                    float v[3][PX + 2];
                    [[unroll]] for (int ky = 0; ky < 3; ky++)
                        [[unroll]] for (int i = 0; i < PX + 2; i++)
                            v[ky][i] = uintBitsToFloat(rows[ky][i][j]);
                    CHANNEL_MACS(c, v)
                }
            }
        }
    }
    int oc0 = group * 8;
    if (y >= pc.out_h) return;
    vec4 bias_a = load_bias(oc0), bias_b = EPILOGUE == EPILOGUE_RGB ? vec4(0.0) : load_bias(oc0 + 4);
    [[unroll]] for (int i = 0; i < PX; i++) store_pixel(x0 + i, y, oc0, acc_a[i], bias_a);
    if (EPILOGUE == EPILOGUE_RGB) return; // the 3 channels of a pixel are all in acc_a
    [[unroll]] for (int i = 0; i < PX; i++) store_pixel(x0 + i, y, oc0 + 4, acc_b[i], bias_b);
}
