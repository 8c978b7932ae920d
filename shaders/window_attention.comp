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
//   P = softmax_m(S) in fp32: e = qsr_exp(S - max) (float_math.glsl), P = e / sum e;
//   qP = clamp(round(P / ap), 0, Qp)
//   O[n][c] = (float)(int sum_m qP[n][m] qV[m][c]) * (ap av)
// The window's codes live in shared memory, 8 per word (qpack.glsl). Each invocation takes
// TPI query tokens at a time (token groups i = local id, local id + local size, ...), so every
// K and V code read from shared memory serves TPI rows (2 tokens ran 1.75x faster than 1, 4
// 1.3x faster than 2). The loops over the window's tokens m and a head's channels c have
// constant trip counts (specialization constants) and are unrolled, so the score rows,
// probabilities and sums stay in registers (no dynamically indexed private arrays,
// lavapipe.md) and K and V codes are read at constant shared-memory addresses, the same for
// every invocation. Where the workgroup has one invocation per token group (the desc's size,
// unless the device allows fewer), the token groups are not a loop either: lavapipe makes such
// a read one scalar load only outside loops and branches, and a per-lane loop with a store to
// the stack per lane inside one (half of the op's time was in those loops). qkv, the shifts
// and the relative position bias (the only gathered reads) come through texel buffers
// (fetch.glsl: one vector gather each on lavapipe, where a storage-buffer read is again a
// per-lane loop). Loop iterations per invocation, were nothing unrolled: about
// ceil(N / (TPI local size)) TPI (2 N d + 4 N); the op's record function refuses shapes that
// would reach lavapipe's limiter.
#include "qpack.glsl"
#include "float_math.glsl"
#include "fetch.glsl"

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

FETCH_BUFFER(0, qkv);    // the qkv layer's output [3E][h][w], fp32 bits
FETCH_BUFFER(1, params); // the quantizers' shifts and the bias, fp32 bits
float param(int i) { return uintBitsToFloat(FETCH(params, i)); }
layout(std430, binding = 2) writeonly buffer Dst { float dst[]; };

layout(constant_id = 0) const int WIN = 8;
layout(constant_id = 1) const int D = 16; // channels per head
layout(constant_id = 2) const int BITS_A = 4;
layout(constant_id = 3) const int Q_SIGNED = 1;
layout(constant_id = 4) const int K_SIGNED = 1;
layout(constant_id = 5) const int V_SIGNED = 1;
const int N = WIN * WIN;
const int DW = (D + QPACK_CPW - 1) / QPACK_CPW; // code words per token
const int SPAN = 2 * WIN - 1;
const int CONT = QPACK_CONTAINER;
const float MASK_VALUE = -100.0;
// Query tokens per invocation: each K and V code read serves TPI rows. Windows of 16 (256
// tokens) take one: their unrolled rows already make a pipeline compile for tens of seconds.
const int TPI = N > 64 ? 1 : 4;

shared uint sq[N * DW], sk[N * DW], sv[N * DW];

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

// The quantizer shifts of this head's D channels of one part (0: Q, 1: K, 2: V).
void load_shifts(int part, int head, out float shift[D]) {
    int off = part == 0 ? pc.q_shift_off : (part == 1 ? pc.k_shift_off : pc.v_shift_off);
    [[unroll]] for (int c = 0; c < D; c++) shift[c] = param(off + head * D + c);
}

// Codes word cw of the token at `pixel` of one part of this head.
uint pack_part(int part, int head, int pixel, int cw, float shift[D]) {
    int plane = pc.grid_w * pc.grid_h;
    float step = part == 0 ? pc.q_step : (part == 1 ? pc.k_step : pc.v_step);
    bool sgn = (part == 0 ? Q_SIGNED : (part == 1 ? K_SIGNED : V_SIGNED)) != 0;
    uint word = 0u;
    [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
        int c = cw * QPACK_CPW + j;
        if (c < D) {
            int ch = head * D + c;
            precise float v = uintBitsToFloat(FETCH(qkv, (part * pc.channels + ch) * plane + pixel));
            if (part == 0) v = v / pc.sqrt_d;
            word |= qpack_put(code_of(v, shift[c], step, sgn), j, CONT);
        }
    }
    return word;
}

// Code c of token m in a shared array of codes.
int code(uint word, int c, int is_signed) { return qpack_get(word, c % QPACK_CPW, CONT, is_signed != 0); }

// Query tokens TPI i .. TPI i + TPI - 1 of the window at (wy, wx): their output rows.
void attend(int i, int wy, int wx, int head) {
    float qp = float((1 << BITS_A) - 1); // qP is unsigned
    int plane = pc.grid_w * pc.grid_h;
    int q[TPI][D], region_n[TPI];
    [[unroll]] for (int t = 0; t < TPI; t++) {
        int n = TPI * i + t;
        region_n[t] = pc.shift != 0 ? region(wy, wx, n) : 0;
        [[unroll]] for (int c = 0; c < D; c++)
            q[t][c] = code(sq[n * DW + c / QPACK_CPW], c, Q_SIGNED);
    }
    // The TPI tokens lie in one window row (TPI divides WIN: the record function checks), at
    // row ny from column nx0. Against key row r their biases are the TPI + WIN - 1 entries
    // (dy, dx) = (ny - r + WIN - 1, nx0 + k) of the bias table, k = t - j + WIN - 1 for key
    // column j: gathered once per key row instead of once per token pair (each a gather).
    int ny = (TPI * i) / WIN, nx0 = (TPI * i) % WIN;
    float s[TPI][N];
    [[unroll]] for (int r = 0; r < WIN; r++) {
        float row_bias[TPI + WIN - 1];
        int row_base = pc.bias_off + ((ny - r + WIN - 1) * SPAN + nx0) * pc.heads + head;
        [[unroll]] for (int k = 0; k < TPI + WIN - 1; k++) row_bias[k] = param(row_base + k * pc.heads);
        [[unroll]] for (int j = 0; j < WIN; j++) {
            int m = r * WIN + j;
            int k[D];
            [[unroll]] for (int c = 0; c < D; c++) k[c] = code(sk[m * DW + c / QPACK_CPW], c, K_SIGNED);
            int region_m = pc.shift != 0 ? region(wy, wx, m) : 0;
            [[unroll]] for (int t = 0; t < TPI; t++) {
                int acc = 0;
                [[unroll]] for (int c = 0; c < D; c++) acc += q[t][c] * k[c];
                precise float v = float(acc) * pc.qk_scale;
                v = v + row_bias[t - j + WIN - 1];
                // A select, not a branch (see above): unshifted windows have one region.
                v = v + (region_m != region_n[t] ? MASK_VALUE : 0.0);
                s[t][m] = v;
            }
        }
    }
    float sum[TPI];
    [[unroll]] for (int t = 0; t < TPI; t++) {
        float mx = s[t][0];
        [[unroll]] for (int m = 1; m < N; m++) mx = max(mx, s[t][m]);
        precise float total = 0.0;
        [[unroll]] for (int m = 0; m < N; m++) {
            s[t][m] = qsr_exp(s[t][m] - mx);
            total += s[t][m];
        }
        sum[t] = total;
    }
    int o[TPI][D];
    [[unroll]] for (int t = 0; t < TPI; t++)
        [[unroll]] for (int c = 0; c < D; c++) o[t][c] = 0;
    [[unroll]] for (int m = 0; m < N; m++) {
        int v[D];
        [[unroll]] for (int c = 0; c < D; c++) v[c] = code(sv[m * DW + c / QPACK_CPW], c, V_SIGNED);
        [[unroll]] for (int t = 0; t < TPI; t++) {
            precise float p = s[t][m] / sum[t];
            precise float r = p / pc.p_step;
            int pq = int(clamp(roundEven(r), 0.0, qp));
            [[unroll]] for (int c = 0; c < D; c++) o[t][c] += pq * v[c];
        }
    }
    [[unroll]] for (int t = 0; t < TPI; t++) {
        int pixel = window_pixel(wy, wx, TPI * i + t);
        [[unroll]] for (int c = 0; c < D; c++) {
            precise float out_c = float(o[t][c]) * pc.pv_scale;
            dst[(head * D + c) * plane + pixel] = out_c;
        }
    }
}

void main() {
    int lid = int(gl_LocalInvocationID.x), lsize = int(gl_WorkGroupSize.x);
    int windows_x = pc.grid_w / WIN, window = int(gl_WorkGroupID.x);
    int head = int(gl_WorkGroupID.y);
    int wy = (window / windows_x) * WIN, wx = (window % windows_x) * WIN;
    // The window's codes, a token's code words per iteration: the channel indices are
    // constants, so each value is fetched once and the shifts once per invocation.
    float shift_q[D], shift_k[D], shift_v[D];
    load_shifts(0, head, shift_q);
    load_shifts(1, head, shift_k);
    load_shifts(2, head, shift_v);
    for (int m = lid; m < N; m += lsize) {
        int pixel = window_pixel(wy, wx, m);
        [[unroll]] for (int cw = 0; cw < DW; cw++) {
            sq[m * DW + cw] = pack_part(0, head, pixel, cw, shift_q);
            sk[m * DW + cw] = pack_part(1, head, pixel, cw, shift_k);
            sv[m * DW + cw] = pack_part(2, head, pixel, cw, shift_v);
        }
    }
    barrier();
    // gl_WorkGroupSize is a specialization constant: one of these two goes at specialization.
    if (gl_WorkGroupSize.x == uint(N / TPI)) {
        attend(lid, wy, wx, head);
    } else {
        for (int i = lid; i < N / TPI; i += lsize) attend(i, wy, wx, head);
    }
}
