// qconv_epilogue.glsl - what the quantized convolutions (conv3x3_q*.comp) do
// with their integer sums: y = sum * (a * a_w[oc]) + bias[oc], the RELU / RESIDUAL epilogue, and
// optionally the next quantized convolution's RLQ codes of the result (CODES_OUT):
//   conv1 (RELU):     codes of max(y, 0) only; the fp32 activation is never written;
//   conv2 (RESIDUAL): h = h * dst_scale * shortcut + y in fp32 (the next shortcut needs it)
//                     and the codes of h for the next active block's conv1;
//   conv2 (RESIDUAL_C4): the same with h in the c4 layout [ceil(C/4)][h][w][4] (ops.h), where a
//                     pixel's 8 channels are two 16-byte loads and stores: QuantSR-C's body;
//   fc1 (GELU, linear_q.comp): codes of gelu(y) only (gelu.glsl).
// The codes are those quantize_rlq.comp makes from the stored value:
//   q = clamp(round_half_even((v * in_scale + shift[oc]) / step), Qn, Qp),
// with shift at params[pc.aux_off], step and in_scale (the shortcut product of skipped
// blocks in between) from the push block. The includer declares bindings 0 and 1.
#include "gelu.glsl"
#include "store.glsl"
// The per-channel parameters through a texel view (fetch.glsl): a storage-buffer read is a
// per-lane loop on lavapipe, which took a quarter of linear_q's time (8 tokens x 8 channels
// per invocation load 24 of them).
FETCH_BUFFER(2, params);
layout(std430, binding = 3) buffer Dst { float dst[]; };
// dst's buffer as 16-byte elements (RESIDUAL_C4): planar h costs a per-lane gather and scatter
// per channel on lavapipe, 1.25x conv1's time for conv2; c4 h, two of each per pixel. (A
// write-only block at a binding of its own counted no fewer instructions: docs/benchmarks.md.)
layout(std430, binding = 3) buffer Dst4 { vec4 dst4[]; };
// The residual epilogues read h through this texel view of dst's buffer (a fetch, not a
// per-lane loop; a read-only storage view in the QSR_STORAGE_FETCH variants): of 4-byte texels
// for RESIDUAL, 16-byte ones for RESIDUAL_C4. Each invocation reads its own pixels before it
// writes them.
FETCH_BUFFER_WORDS_OR_TEXELS(4, dst_in);
STORE_BUFFER(5, codes); // [cout/8][h][w] (code_index)

layout(constant_id = 3) const int BITS_A = 4;
layout(constant_id = 4) const int SIGNED_A = 1;
layout(constant_id = 5) const int CODES_OUT = 0; // 0: none, 1: unsigned, 2: signed
// The code planes read and written: planar (0) or padded (1, conv3x3_q and conv3x3_q2 in
// QuantSR-C's body; qpack.glsl's code_index).
layout(constant_id = 6) const int CODES_PADDED = 0;
const int CONT = QPACK_CONTAINER;
const int OCB = 8; // output channels per invocation (4 pair words, one code word)

const int EPILOGUE_STORE = 0, EPILOGUE_RELU = 1, EPILOGUE_RESIDUAL = 2, EPILOGUE_GELU = 6;
const int EPILOGUE_RESIDUAL_C4 = 7;
// STORE, RELU, RESIDUAL, GELU or RESIDUAL_C4 (ops.h)
layout(constant_id = 0) const int EPILOGUE = 0;
// The activations whose fp32 values no later op reads when their codes are made.
const bool EPILOGUE_CODES_ONLY = EPILOGUE == EPILOGUE_RELU || EPILOGUE == EPILOGUE_GELU;

// Per-channel constants of the invocation's 8 output channels, loaded once for all pixels
// (element p of *_even is channel oc0 + 2p, of *_odd channel oc0 + 2p + 1).
struct channel_consts {
    vec4 scale_even, scale_odd, bias_even, bias_odd, shift_even, shift_odd;
};

float param_or_zero(int off, int oc) {
    return oc < pc.cout ? uintBitsToFloat(FETCH(params, off + oc)) : 0.0;
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

// The value the epilogue leaves for a channel whose result is v (what a later op would read
// back); h_in: the channel's h before the block (the residual epilogues).
float epilogue_value(float h_in, float v) {
    if (EPILOGUE == EPILOGUE_RELU) return max(v, 0.0);
    if (EPILOGUE == EPILOGUE_GELU) return qsr_gelu(v);
    if (EPILOGUE == EPILOGUE_RESIDUAL || EPILOGUE == EPILOGUE_RESIDUAL_C4) {
        precise float h = (h_in * pc.dst_scale) * pc.shortcut + v;
        return h;
    }
    return v;
}

void store_pixel(int x, int y, int oc0, ivec4 lo, ivec4 hi, channel_consts k) {
    if (x >= pc.out_w || y >= pc.out_h) return;
    const bool c4 = EPILOGUE == EPILOGUE_RESIDUAL_C4;
    int plane = pc.out_w * pc.out_h, pixel = y * pc.out_w + x;
    // c4 h: the 8 channels in two 16-byte loads and stores; a quad wholly past cout is neither
    // read nor written, the lanes past cout of a partial one keep their zeros.
    vec4 h4[2] = vec4[2](vec4(0.0), vec4(0.0));
    if (c4) {
        [[unroll]] for (int q = 0; q < 2; q++)
            if (oc0 + 4 * q < pc.cout)
                h4[q] = uintBitsToFloat(FETCH4_ALIASED(dst_in, (oc0 / 4 + q) * plane + pixel));
    }
    uint word = 0u;
    [[unroll]] for (int p = 0; p < 4; p++) {
        [[unroll]] for (int half_ = 0; half_ < 2; half_++) {
            int ch = 2 * p + half_, oc = oc0 + ch;
            if (c4 || oc < pc.cout) {
                int sum = half_ == 0 ? lo[p] : hi[p];
                float scale = half_ == 0 ? k.scale_even[p] : k.scale_odd[p];
                float bias = half_ == 0 ? k.bias_even[p] : k.bias_odd[p];
                precise float v = float(sum) * scale + bias;
                int idx = oc * plane + pixel;
                float h_in = c4 ? h4[ch / 4][ch % 4]
                           : EPILOGUE == EPILOGUE_RESIDUAL ? uintBitsToFloat(FETCH(dst_in, idx))
                                                            : 0.0;
                float r = epilogue_value(h_in, v);
                // conv1's ReLU and fc1's GELU output are needed only as codes; the residual
                // in fp32 too.
                if (c4)
                    h4[ch / 4][ch % 4] = r;
                else if (CODES_OUT == 0 || !EPILOGUE_CODES_ONLY)
                    dst[idx] = r;
                if (CODES_OUT != 0 && oc < pc.cout) {
                    float shift = half_ == 0 ? k.shift_even[p] : k.shift_odd[p];
                    word |= qpack_put(next_code(r, shift), ch, CONT);
                }
            }
        }
    }
    if (c4) {
        [[unroll]] for (int q = 0; q < 2; q++)
            if (oc0 + 4 * q < pc.cout) dst4[(oc0 / 4 + q) * plane + pixel] = h4[q];
    }
    if (CODES_OUT != 0)
        STORE(codes, code_index(CODES_PADDED != 0, pc.out_w, pc.out_h, oc0 / OCB, x, y), word);
}
