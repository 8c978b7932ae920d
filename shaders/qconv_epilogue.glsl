// qconv_epilogue.glsl - what the quantized convolutions (conv3x3_q*.comp) do
// with their integer sums: y = sum * (a * a_w[oc]) + bias[oc], the RELU / RESIDUAL epilogue, and
// optionally the next quantized convolution's RLQ codes of the result (CODES_OUT):
//   conv1 (RELU):     codes of max(y, 0) only; the fp32 activation is never written;
//   conv2 (RESIDUAL): h = h * dst_scale * shortcut + y in fp32 (the next shortcut needs it)
//                     and the codes of h for the next active block's conv1;
//   fc1 (GELU, linear_q.comp): codes of gelu(y) only (gelu.glsl).
// The codes are those quantize_rlq.comp makes from the stored value:
//   q = clamp(round_half_even((v * in_scale + shift[oc]) / step), Qn, Qp),
// with shift at params[pc.aux_off], step and in_scale (the shortcut product of skipped
// blocks in between) from the push block. The includer declares bindings 0 and 1.
#include "gelu.glsl"
layout(std430, binding = 2) readonly buffer Params { float params[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
// The residual epilogue reads h through this texel view of dst's buffer (a fetch, not a
// per-lane loop; a read-only storage view in the QSR_STORAGE_FETCH variants); each invocation
// reads its own pixels before it writes them. Kernels that define QCONV_RESIDUAL_ROWS read it
// a row segment at a time (RESIDUAL_ROWS below) through a 16-byte texel view.
#ifdef QCONV_RESIDUAL_ROWS
FETCH_BUFFER4(4, dst_in4);
#else
FETCH_BUFFER(4, dst_in);
#endif
layout(std430, binding = 5) writeonly buffer Codes { uint codes[]; }; // [cout/8][h][w]

layout(constant_id = 3) const int BITS_A = 4;
layout(constant_id = 4) const int SIGNED_A = 1;
layout(constant_id = 5) const int CODES_OUT = 0; // 0: none, 1: unsigned, 2: signed
const int CONT = QPACK_CONTAINER;
const int OCB = 8; // output channels per invocation (4 pair words, one code word)

const int EPILOGUE_STORE = 0, EPILOGUE_RELU = 1, EPILOGUE_RESIDUAL = 2, EPILOGUE_GELU = 6;
layout(constant_id = 0) const int EPILOGUE = 0; // STORE, RELU, RESIDUAL or GELU (ops.h)
// The activations whose fp32 values no later op reads when their codes are made.
const bool EPILOGUE_CODES_ONLY = EPILOGUE == EPILOGUE_RELU || EPILOGUE == EPILOGUE_GELU;

// Per-channel constants of the invocation's 8 output channels, loaded once for all pixels
// (element p of *_even is channel oc0 + 2p, of *_odd channel oc0 + 2p + 1).
struct channel_consts {
    vec4 scale_even, scale_odd, bias_even, bias_odd, shift_even, shift_odd;
};

float param_or_zero(int off, int oc) {
    return oc < pc.cout ? params[off + oc] : 0.0;
}

channel_consts load_consts(int oc0) {
    channel_consts k;
    [[unroll]] for (int p = 0; p < 4; p++) {
        int e = oc0 + 2 * p, o = e + 1;
        k.scale_even[p] = param_or_zero(pc.scale_off, e);
        k.scale_odd[p] = param_or_zero(pc.scale_off, o);
        k.bias_even[p] = param_or_zero(pc.bias_off, e);
        k.bias_odd[p] = param_or_zero(pc.bias_off, o);
        if (CODES_OUT != 0) {
            k.shift_even[p] = param_or_zero(pc.aux_off, e);
            k.shift_odd[p] = param_or_zero(pc.aux_off, o);
        }
    }
    return k;
}

// The next quantizer's code of v for a channel with shift `shift` (quantize_rlq.comp).
int next_code(float v, float shift) {
    float qn = CODES_OUT == 2 ? -float(1 << (BITS_A - 1)) : 0.0;
    float qp = CODES_OUT == 2 ? float((1 << (BITS_A - 1)) - 1) : float((1 << BITS_A) - 1);
    precise float t = (v * pc.in_scale + shift) / pc.step;
    return int(clamp(roundEven(t), qn, qp));
}

// The value the epilogue leaves for a channel (what a later op would read back): v after the
// activation, or for RESIDUAL h * dst_scale * shortcut + v, h the value dst held.
float epilogue_value(float v, float h) {
    if (EPILOGUE == EPILOGUE_RELU) return max(v, 0.0);
    if (EPILOGUE == EPILOGUE_GELU) return qsr_gelu(v);
    if (EPILOGUE == EPILOGUE_RESIDUAL) {
        precise float r = (h * pc.dst_scale) * pc.shortcut + v;
        return r;
    }
    return v;
}

// Stores pixel (x, y) of output channels oc0 .. oc0 + 7 from their integer sums; h: what dst
// holds there (read by RESIDUAL only).
void store_pixel_h(int x, int y, int oc0, ivec4 lo, ivec4 hi, channel_consts k, float h[OCB]) {
    if (x >= pc.out_w || y >= pc.out_h) return;
    uint word = 0u;
    [[unroll]] for (int p = 0; p < 4; p++) {
        [[unroll]] for (int half_ = 0; half_ < 2; half_++) {
            int oc = oc0 + 2 * p + half_;
            if (oc < pc.cout) {
                int sum = half_ == 0 ? lo[p] : hi[p];
                float scale = half_ == 0 ? k.scale_even[p] : k.scale_odd[p];
                float bias = half_ == 0 ? k.bias_even[p] : k.bias_odd[p];
                precise float v = float(sum) * scale + bias;
                int idx = oc * pc.out_w * pc.out_h + y * pc.out_w + x;
                float r = epilogue_value(v, h[2 * p + half_]);
                // conv1's ReLU and fc1's GELU output are needed only as codes; the residual
                // in fp32 too.
                if (CODES_OUT == 0 || !EPILOGUE_CODES_ONLY) dst[idx] = r;
                if (CODES_OUT != 0) {
                    float shift = half_ == 0 ? k.shift_even[p] : k.shift_odd[p];
                    word |= qpack_put(next_code(r, shift), 2 * p + half_, CONT);
                }
            }
        }
    }
    if (CODES_OUT != 0) codes[(oc0 / OCB) * pc.out_w * pc.out_h + y * pc.out_w + x] = word;
}

#ifdef QCONV_RESIDUAL_ROWS
// RESIDUAL_ROWS(x0_, y_, oc0_, n_, out_): out_[o][i] = what dst holds for channel oc0_ + o at
// (x0_ + i, y_), i < n_, read n_ words at a time as 16-byte texels (row_fetch.glsl: included
// before the macro is used). Rows, channels and words outside the output are clamped reads whose
// values are never stored; a texel may hold a neighbour invocation's pixels, whose words are
// dropped by the selects.
#define RESIDUAL_ROWS(x0_, y_, oc0_, n_, out_)                                                    \
    {                                                                                            \
        int last_ = FETCH4_COUNT(dst_in4) - 1, row_ = min(y_, pc.out_h - 1) * pc.out_w + (x0_);   \
        [[unroll]] for (int o_ = 0; o_ < OCB; o_++) {                                             \
            uint w_[n_];                                                                         \
            int plane_ = min((oc0_) + o_, pc.cout - 1) * pc.out_w * pc.out_h;                     \
            FETCH_ROW(dst_in4, plane_ + row_, last_, n_, w_)                                     \
            [[unroll]] for (int i_ = 0; i_ < (n_); i_++) out_[o_][i_] = uintBitsToFloat(w_[i_]);   \
        }                                                                                        \
    }
#else
// store_pixel_h with h fetched per value (RESIDUAL only).
void store_pixel(int x, int y, int oc0, ivec4 lo, ivec4 hi, channel_consts k) {
    float h[OCB];
    bool inside = x < pc.out_w && y < pc.out_h;
    [[unroll]] for (int o = 0; o < OCB; o++) {
        int idx = (oc0 + o) * pc.out_w * pc.out_h + y * pc.out_w + x;
        h[o] = EPILOGUE == EPILOGUE_RESIDUAL && inside && oc0 + o < pc.cout
                   ? uintBitsToFloat(FETCH(dst_in, idx))
                   : 0.0;
    }
    store_pixel_h(x, y, oc0, lo, hi, k, h);
}
#endif
