#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// window_attention: QuantSR-T's quantized windowed multi-head self-attention, one window of
// N = WIN x WIN tokens and one head per workgroup (gl_WorkGroupID.x: window, row-major over the
// grid's windows; .y: head), from the qkv layer's fp32 output [3E][h][w] to the heads' fp32
// output [E][h][w] (proj's input; quantize_rlq.comp makes proj's codes of it). On shifted
// layers the window is taken from the grid rolled by -shift, as index arithmetic: token n of
// the window at rolled (wy + n / WIN, wx + n % WIN) is pixel ((y + shift) mod h,
// (x + shift) mod w), and its output goes back to that pixel. Per token n and m of the window
// (runtime/reference_t.c):
//   qQ, qK, qV = RLQ codes of qkv[Q] / sqrt(d), qkv[K], qkv[V] (each its own quantizer)
//   S[n][m] = (float)(int sum_c qQ[n][c] qK[m][c]) * (aq ak) + rel_bias + (shifted and the
//             tokens in different regions: -100)
//   P = softmax_m(S) in fp32: e = exp(S - max), P = e / sum e; qP = clamp(round(P / ap), 0, Qp)
//   O[n][c] = (float)(int sum_m qP[n][m] qV[m][c]) * (ap av)
// The window's codes live in shared memory, 8 per word (qpack.glsl). Each invocation takes
// tokens n = local id, local id + local size, ...; it recomputes a score row three times (max,
// sum, codes) instead of keeping it in a dynamically indexed private array (lavapipe.md).
// Loop iterations per invocation grow as ceil(N / local size) * 3 N * ceil(d / 8): the op's
// record function refuses shapes that reach lavapipe's limiter.
#include "qpack.glsl"

layout(local_size_x_id = 100, local_size_y_id = 101, local_size_z = 1) in;

// C mirror: qsr__attention_push in runtime/ops/ops.h.
layout(push_constant) uniform Push {
    int grid_w, grid_h; // the padded grid (multiples of WIN)
    int channels;       // E
    int heads;
    int shift;          // cyclic shift: 0 or WIN / 2
    int q_shift_off, k_shift_off, v_shift_off; // the quantizers' shifts [E] in params
    int bias_off;       // relative position bias [(2 WIN - 1)^2][heads] in params
    float sqrt_d;       // float32(sqrt(d))
    float q_step, k_step, v_step, p_step;
    float qk_scale, pv_scale; // q_step * k_step and p_step * v_step, as float products
} pc;

layout(std430, binding = 0) readonly buffer Src { float qkv[]; };
layout(std430, binding = 1) readonly buffer Params { float params[]; };
layout(std430, binding = 2) writeonly buffer Dst { float dst[]; };

layout(constant_id = 0) const int WIN = 8;
layout(constant_id = 1) const int D = 16; // channels per head
layout(constant_id = 2) const int BITS_A = 4;
layout(constant_id = 3) const int Q_SIGNED = 1;
layout(constant_id = 4) const int K_SIGNED = 1;
layout(constant_id = 5) const int V_SIGNED = 1;
const int N = WIN * WIN;
const int DW = (D + QPACK_CPW - 1) / QPACK_CPW; // code words per token
const int NW = N / QPACK_CPW;                   // words of one row of qP
const int SPAN = 2 * WIN - 1;
const int CONT = QPACK_CONTAINER;
const float MASK_VALUE = -100.0;

shared uint sq[N * DW], sk[N * DW], sv[N * DW];
shared uint sp[gl_WorkGroupSize.x * NW]; // each invocation's row of qP
shared float sbias[SPAN * SPAN];

// Grid pixel of token n of the window at (wy, wx) on the rolled grid.
int window_pixel(int wy, int wx, int n) {
    int y = (wy + n / WIN + pc.shift) % pc.grid_h, x = (wx + n % WIN + pc.shift) % pc.grid_w;
    return y * pc.grid_w + x;
}

// Which of the bands [0, n - WIN), [n - WIN, n - shift), [n - shift, n) holds i.
int band(int i, int n) { return i < n - WIN ? 0 : (i < n - pc.shift ? 1 : 2); }

int region(int wy, int wx, int n) {
    return band(wy + n / WIN, pc.grid_h) * 3 + band(wx + n % WIN, pc.grid_w);
}

int code_of(float v, float shift, float step, bool sgn) {
    float qn = sgn ? -float(1 << (BITS_A - 1)) : 0.0;
    float qp = sgn ? float((1 << (BITS_A - 1)) - 1) : float((1 << BITS_A) - 1);
    precise float t = (v + shift) / step;
    return int(clamp(roundEven(t), qn, qp));
}

// Codes word cw of token m of one part (0: Q, 1: K, 2: V) of this head.
uint pack_part(int part, int head, int pixel, int cw) {
    int plane = pc.grid_w * pc.grid_h;
    int off = part == 0 ? pc.q_shift_off : (part == 1 ? pc.k_shift_off : pc.v_shift_off);
    float step = part == 0 ? pc.q_step : (part == 1 ? pc.k_step : pc.v_step);
    bool sgn = (part == 0 ? Q_SIGNED : (part == 1 ? K_SIGNED : V_SIGNED)) != 0;
    uint word = 0u;
    [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
        int c = cw * QPACK_CPW + j;
        if (c < D) {
            int ch = head * D + c;
            precise float v = qkv[(part * pc.channels + ch) * plane + pixel];
            if (part == 0) v = v / pc.sqrt_d;
            word |= qpack_put(code_of(v, params[off + ch], step, sgn), j, CONT);
        }
    }
    return word;
}

// S[n][m] before the softmax.
float score(int n, int m, int wy, int wx, int head, int region_n) {
    int acc = 0;
    for (int cw = 0; cw < DW; cw++) {
        uint a = sq[n * DW + cw], b = sk[m * DW + cw];
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++)
            acc += qpack_get(a, j, CONT, Q_SIGNED != 0) * qpack_get(b, j, CONT, K_SIGNED != 0);
    }
    precise float s = float(acc) * pc.qk_scale;
    int idx = (n / WIN + WIN - 1 - m / WIN) * SPAN + (n % WIN + WIN - 1 - m % WIN);
    s = s + sbias[idx];
    if (pc.shift != 0) s = s + (region(wy, wx, m) != region_n ? MASK_VALUE : 0.0);
    return s;
}

void main() {
    int lid = int(gl_LocalInvocationID.x), lsize = int(gl_WorkGroupSize.x);
    int windows_x = pc.grid_w / WIN, window = int(gl_WorkGroupID.x);
    int head = int(gl_WorkGroupID.y);
    int wy = (window / windows_x) * WIN, wx = (window % windows_x) * WIN;
    for (int i = lid; i < N * DW; i += lsize) {
        int m = i / DW, cw = i % DW, pixel = window_pixel(wy, wx, m);
        sq[i] = pack_part(0, head, pixel, cw);
        sk[i] = pack_part(1, head, pixel, cw);
        sv[i] = pack_part(2, head, pixel, cw);
    }
    for (int i = lid; i < SPAN * SPAN; i += lsize) sbias[i] = params[pc.bias_off + i * pc.heads + head];
    barrier();

    float qp = float((1 << BITS_A) - 1); // qP is unsigned
    int plane = pc.grid_w * pc.grid_h;
    for (int n = lid; n < N; n += lsize) {
        int region_n = pc.shift != 0 ? region(wy, wx, n) : 0;
        float mx = score(n, 0, wy, wx, head, region_n);
        for (int m = 1; m < N; m++) mx = max(mx, score(n, m, wy, wx, head, region_n));
        precise float sum = 0.0;
        for (int m = 0; m < N; m++) sum += exp(score(n, m, wy, wx, head, region_n) - mx);
        for (int mw = 0; mw < NW; mw++) {
            uint word = 0u;
            [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
                precise float e = exp(score(n, mw * QPACK_CPW + j, wy, wx, head, region_n) - mx);
                precise float p = e / sum;
                precise float t = p / pc.p_step;
                word |= qpack_put(int(clamp(roundEven(t), 0.0, qp)), j, CONT);
            }
            sp[lid * NW + mw] = word;
        }
        int pixel = window_pixel(wy, wx, n);
        for (int cw = 0; cw < DW; cw++) {
            ivec4 lo = ivec4(0), hi = ivec4(0); // channels cw * 8 + 0..3, + 4..7
            for (int mw = 0; mw < NW; mw++) {
                uint pw = sp[lid * NW + mw];
                [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
                    int pc_ = qpack_get(pw, j, CONT, false);
                    uint vw = sv[(mw * QPACK_CPW + j) * DW + cw];
                    bool vs = V_SIGNED != 0;
                    lo += pc_ * ivec4(qpack_get(vw, 0, CONT, vs), qpack_get(vw, 1, CONT, vs),
                                      qpack_get(vw, 2, CONT, vs), qpack_get(vw, 3, CONT, vs));
                    hi += pc_ * ivec4(qpack_get(vw, 4, CONT, vs), qpack_get(vw, 5, CONT, vs),
                                      qpack_get(vw, 6, CONT, vs), qpack_get(vw, 7, CONT, vs));
                }
            }
            [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
                int c = cw * QPACK_CPW + j;
                if (c < D) {
                    int sum_c = j < 4 ? lo[j & 3] : hi[j & 3];
                    precise float o = float(sum_c) * pc.pv_scale;
                    dst[(head * D + c) * plane + pixel] = o;
                }
            }
        }
    }
}
