#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_q: 3x3 convolution over packed low-bit activation codes and weight codes with
// integer accumulation, y = sum * (a * a_w[oc]) + bias[oc], then an epilogue, and optionally
// the next quantized convolution's RLQ codes of the result (CODES_OUT), so that a residual
// block is two dispatches that read only packed words:
//   conv1 (RELU):     codes of max(y, 0) only; the fp32 activation is never written;
//   conv2 (RESIDUAL): h = h * dst_scale * shortcut + y in fp32 (the next shortcut needs it)
//                     and the codes of h for the next active block's conv1.
// The codes are those quantize_rlq.comp makes from the stored value:
//   q = clamp(round_half_even((v * in_scale + shift[oc]) / step), Qn, Qp),
// with shift at params[pc.aux_off], step and in_scale (the shortcut product of skipped
// blocks in between) from the push block.
//
// Arithmetic: two output channels share one 32-bit multiply: a pair word holds
// w[2p] + 65536 * w[2p+1], so code * word adds both products at once (lavapipe.md: unpack
// each activation once, multiply wide fields). The 16-bit fields are flushed into 32-bit
// sums after every activation word: at most 8 channels * 9 taps * |15 * 8| = 8640 < 32768.
#include "common.glsl"
#include "qpack.glsl"

// Texel buffers: on lavapipe a texel fetch is a plain vector gather, a storage-buffer load a
// loop over the lanes with a bounds check each.
layout(binding = 0) uniform usamplerBuffer src;     // codes [cin/8][h][w]
layout(binding = 1) uniform usamplerBuffer weights; // [cout/8][cin][9] words of 8 nibbles
layout(std430, binding = 2) readonly buffer Params { float params[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
// The residual epilogue reads h through this texel view of dst's buffer (a fetch, not a
// per-lane loop); each invocation reads its own pixels before it writes them.
layout(binding = 4) uniform usamplerBuffer dst_in;
layout(std430, binding = 5) writeonly buffer Codes { uint codes[]; }; // [cout/8][h][w]

layout(constant_id = 3) const int BITS_A = 4;
layout(constant_id = 4) const int SIGNED_A = 1;
layout(constant_id = 5) const int CODES_OUT = 0; // 0: none, 1: unsigned, 2: signed
const int CONT = QPACK_CONTAINER;
const int OCB = 8; // output channels per invocation (4 pair words, one code word)

const int EPILOGUE_STORE = 0, EPILOGUE_RELU = 1, EPILOGUE_RESIDUAL = 2;
layout(constant_id = 0) const int EPILOGUE = 0; // STORE, RELU or RESIDUAL (epilogue.glsl)

// Each invocation computes PX neighbouring pixels of one row: a weight word fetched once
// serves PX pixels, an activation word 3 * OCB * (its 8 channels) products.
const int PX = 8;

// Unconditional fetch at a clamped index, zero padding by a select afterwards.
uint load_word(int cw, int ix, int iy, int plane) {
    bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
    int i = cw * plane + clamp(iy, 0, pc.in_h - 1) * pc.in_w + clamp(ix, 0, pc.in_w - 1);
    return inside ? texelFetch(src, i).x : 0u;
}

// The pair words of one weight word: lane p = code[2p] + 65536 * code[2p + 1].
ivec4 unpack_pairs(uint word) {
    ivec4 w = ivec4(int(word));
    return ((w << ivec4(28, 20, 12, 4)) >> 28) + (((w << ivec4(24, 16, 8, 0)) >> 28) << 16);
}

// Flushes 16-bit field sums into the 32-bit accumulators of one pixel.
void flush(ivec4 acc16, inout ivec4 lo, inout ivec4 hi) {
    ivec4 l = (acc16 << 16) >> 16;
    lo += l;
    hi += (acc16 - l) >> 16;
}

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

// The value the epilogue leaves for channel oc (what a later op would read back).
float epilogue_value(int idx, float v) {
    if (EPILOGUE == EPILOGUE_RELU) return max(v, 0.0);
    if (EPILOGUE == EPILOGUE_RESIDUAL) {
        precise float h = (uintBitsToFloat(texelFetch(dst_in, idx).x) * pc.dst_scale) *
                              pc.shortcut + v;
        return h;
    }
    return v;
}

void store_pixel(int x, int y, int oc0, ivec4 lo, ivec4 hi, channel_consts k) {
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
                float r = epilogue_value(idx, v);
                // conv1's ReLU output is needed only as codes; the residual in fp32 too.
                if (CODES_OUT == 0 || EPILOGUE != EPILOGUE_RELU) dst[idx] = r;
                if (CODES_OUT != 0) {
                    float shift = half_ == 0 ? k.shift_even[p] : k.shift_odd[p];
                    word |= qpack_put(next_code(r, shift), 2 * p + half_, CONT);
                }
            }
        }
    }
    if (CODES_OUT != 0) codes[(oc0 / OCB) * pc.out_w * pc.out_h + y * pc.out_w + x] = word;
}

void main() {
    int x0 = int(gl_GlobalInvocationID.x) * PX, y = int(gl_GlobalInvocationID.y);
    int group = int(gl_WorkGroupID.z);
    int plane = pc.in_w * pc.in_h;
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW;
    bool sgn = SIGNED_A != 0;
    // Accumulators are named vectors, never arrays indexed in loops: lavapipe turns a
    // private array with a dynamic index into per-lane memory traffic.
    ivec4 lo0 = ivec4(0), lo1 = ivec4(0), lo2 = ivec4(0), lo3 = ivec4(0);
    ivec4 hi0 = ivec4(0), hi1 = ivec4(0), hi2 = ivec4(0), hi3 = ivec4(0);
    ivec4 lo4 = ivec4(0), lo5 = ivec4(0), lo6 = ivec4(0), lo7 = ivec4(0);
    ivec4 hi4 = ivec4(0), hi5 = ivec4(0), hi6 = ivec4(0), hi7 = ivec4(0);
    for (int cw = 0; cw < words; cw++) {
        uint nb[3 * (PX + 2)]; // 3 rows x (PX + 2) words around the PX pixels
        [[unroll]] for (int i = 0; i < 3 * (PX + 2); i++)
            nb[i] = load_word(cw, x0 + i % (PX + 2) - 1, y + i / (PX + 2) - 1, plane);
        ivec4 s0 = ivec4(0), s1 = ivec4(0), s2 = ivec4(0), s3 = ivec4(0);
        ivec4 s4 = ivec4(0), s5 = ivec4(0), s6 = ivec4(0), s7 = ivec4(0);
        int cend = min(QPACK_CPW, pc.cin - cw * QPACK_CPW);
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
            if (j >= cend) break;
            int wb = pc.w_off + (group * pc.cin + cw * QPACK_CPW + j) * 9;
            // One weight word live at a time keeps the accumulators in registers.
            [[unroll]] for (int ky = 0; ky < 3; ky++) {
                int r = ky * (PX + 2);
                int c0 = qpack_get(nb[r + 0], j, CONT, sgn), c1 = qpack_get(nb[r + 1], j, CONT, sgn);
                int c2 = qpack_get(nb[r + 2], j, CONT, sgn), c3 = qpack_get(nb[r + 3], j, CONT, sgn);
                int c4 = qpack_get(nb[r + 4], j, CONT, sgn), c5 = qpack_get(nb[r + 5], j, CONT, sgn);
                int c6 = qpack_get(nb[r + 6], j, CONT, sgn), c7 = qpack_get(nb[r + 7], j, CONT, sgn);
                int c8 = qpack_get(nb[r + 8], j, CONT, sgn), c9 = qpack_get(nb[r + 9], j, CONT, sgn);
                ivec4 w = unpack_pairs(texelFetch(weights, wb + ky * 3).x);
                s0 += c0 * w; s1 += c1 * w; s2 += c2 * w; s3 += c3 * w;
                s4 += c4 * w; s5 += c5 * w; s6 += c6 * w; s7 += c7 * w;
                w = unpack_pairs(texelFetch(weights, wb + ky * 3 + 1).x);
                s0 += c1 * w; s1 += c2 * w; s2 += c3 * w; s3 += c4 * w;
                s4 += c5 * w; s5 += c6 * w; s6 += c7 * w; s7 += c8 * w;
                w = unpack_pairs(texelFetch(weights, wb + ky * 3 + 2).x);
                s0 += c2 * w; s1 += c3 * w; s2 += c4 * w; s3 += c5 * w;
                s4 += c6 * w; s5 += c7 * w; s6 += c8 * w; s7 += c9 * w;
            }
        }
        flush(s0, lo0, hi0);
        flush(s1, lo1, hi1);
        flush(s2, lo2, hi2);
        flush(s3, lo3, hi3);
        flush(s4, lo4, hi4);
        flush(s5, lo5, hi5);
        flush(s6, lo6, hi6);
        flush(s7, lo7, hi7);
    }
    int oc0 = group * OCB;
    channel_consts k = load_consts(oc0);
    store_pixel(x0, y, oc0, lo0, hi0, k);
    store_pixel(x0 + 1, y, oc0, lo1, hi1, k);
    store_pixel(x0 + 2, y, oc0, lo2, hi2, k);
    store_pixel(x0 + 3, y, oc0, lo3, hi3, k);
    store_pixel(x0 + 4, y, oc0, lo4, hi4, k);
    store_pixel(x0 + 5, y, oc0, lo5, hi5, k);
    store_pixel(x0 + 6, y, oc0, lo6, hi6, k);
    store_pixel(x0 + 7, y, oc0, lo7, hi7, k);
}
