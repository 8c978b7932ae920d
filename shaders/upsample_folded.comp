#version 450
#extension GL_GOOGLE_include_directive : require
// upsample_folded: QuantSR-C's upsampler and conv_last as one 5x5 convolution of r
// (conv_after_body's output) with 3 s^2 outputs per LR pixel, written as 8-bit RGB (the fast FP
// math only; runtime/upsample_fold.h builds the kernels and says why they exist).
// Bindings are conv3x3_f32's (f32_bindings.glsl); dst and skip are unused.
#include "common.glsl"

// Reads r (binding 0, [cin][in_h][in_w]). Kernels (binding 1) [class][group][cin][25 taps][NV]
// vec4: group g holds HR rows g ROWS .. g ROWS + ROWS - 1 of an LR pixel's block; output
// o = ((a % ROWS) SCALE + b) 3 + colour of HR pixel (a, b) is component o % 4 of vec4 o / 4.
// Biases (binding 2) [class][group][NV * 4].
#include "f32_bindings.glsl"
#include "epilogue.glsl"

// The push block's fields as this op uses them (qsr__upsample_folded_push in ops.h):
#define FOLD_CLASS_X pc.cout      // column class of the whole grid: 0 first, 1 inner, 2 last
#define FOLD_IMAGE_Y pc.scale_off // image row of grid row 0 (row classes are per row)
#define FOLD_IMAGE_H pc.aux_off   // image height in LR pixels

// LR pixels per invocation (a row segment); 1 for a grid one pixel wide (the image's first or
// last column), whose pixels then fill the workgroup's lanes down the column.
layout(constant_id = 1) const int PX = 16;
layout(constant_id = 3) const int SCALE = 4;
layout(constant_id = 4) const int ROWS = 1; // HR rows per invocation: 2 at x2, else 1
const int NO = 3 * SCALE * ROWS;            // outputs of an invocation's rows of a block
const int NV = (NO + 3) / 4;                // as vec4s

#include "row_fetch.glsl"

// One LR pixel's HR rows of group g: ROWS x SCALE RGBA words.
void store_block_rows(int x, int y, int g, vec4 acc[NV], vec4 bias[NV]) {
    if (x >= pc.out_w || y >= pc.out_h) return;
    int col = (pc.dst_x + x) * SCALE;
    [[unroll]] for (int ar = 0; ar < ROWS; ar++) {
        int row = (pc.dst_y + y) * SCALE + g * ROWS + ar;
        [[unroll]] for (int b = 0; b < SCALE; b++) {
            uint rgba = 0xFF000000u;
            [[unroll]] for (int c = 0; c < 3; c++) {
                int o = (ar * SCALE + b) * 3 + c;
                float r = acc[o / 4][o % 4] + bias[o / 4][o % 4];
                if (isnan(r) || isinf(r)) status[0] = 1u;
                rgba |= rgb_to_u8(r, c) << (8 * c);
            }
            dst_rgba[row * pc.dst_w + col + b] = rgba;
        }
    }
}

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    if (PX == 1) {
        x0 = 0;
        y = int(gl_WorkGroupID.x * gl_WorkGroupSize.x * gl_WorkGroupSize.y +
                gl_LocalInvocationIndex);
    }
    int g = int(gl_GlobalInvocationID.z);
    int sx = x0 + pc.org_x, sy = y + pc.org_y;
    int last_texel = FETCH4_COUNT(src) - 1;
    int iy = FOLD_IMAGE_Y + y;
    int row_class = iy == 0 ? 0 : (iy == FOLD_IMAGE_H - 1 ? 2 : 1);
    int table = (row_class * 3 + FOLD_CLASS_X) * (SCALE / ROWS) + g;
    vec4 acc[PX][NV];
    [[unroll]] for (int i = 0; i < PX; i++)
        [[unroll]] for (int n = 0; n < NV; n++) acc[i][n] = vec4(0.0);
    for (int c = 0; c < pc.cin; c++) {
        // As conv3x3_f32: the channel's inputs and weights first, then each pixel's products.
        float v[5][PX + 4];
        [[unroll]] for (int ky = 0; ky < 5; ky++) {
            uint row[PX + 4];
            LOAD_PLANE_ROW(src, c, sy + ky - 2, sx - 2, last_texel, PX + 4, row)
            [[unroll]] for (int i = 0; i < PX + 4; i++) v[ky][i] = uintBitsToFloat(row[i]);
        }
        int wc = pc.w_off + (table * pc.cin + c) * 25 * NV;
        vec4 w[25][NV];
        [[unroll]] for (int k = 0; k < 25; k++)
            [[unroll]] for (int n = 0; n < NV; n++) w[k][n] = weight(wc + k * NV + n);
        [[unroll]] for (int i = 0; i < PX; i++)
            [[unroll]] for (int k = 0; k < 25; k++)
                [[unroll]] for (int n = 0; n < NV; n++)
                    acc[i][n] = fma(w[k][n], vec4(v[k / 5][i + k % 5]), acc[i][n]);
    }
    vec4 bias[NV];
    [[unroll]] for (int n = 0; n < NV; n++)
        [[unroll]] for (int o = 0; o < 4; o++) bias[n][o] = params[pc.bias_off + table * NV * 4 + 4 * n + o];
    [[unroll]] for (int i = 0; i < PX; i++) store_block_rows(x0 + i, y, g, acc[i], bias);
}
