/* test_gpu_t_ops.c - the QuantSR-T (arch 2) GPU ops against the CPU reference's per-op
 * functions (runtime/reference_t.c, qsr__ref_t_*) on random tensors and random quantizer
 * parameters, at 2 and 4 bits, signed and unsigned activations, grids that are not multiples of
 * the window (the token ops) and shapes large enough to meet lavapipe's loop limiter.
 * The shaders compute the reference's float formulas in its order (exp and erf included:
 * shaders/float_math.glsl and runtime/float_math.c are twins), so on an IEEE device (lavapipe)
 * every output must be bit-exact. Elsewhere division, sqrt and the like may round differently,
 * and the tolerances are:
 *   linear_q:         integer sums exact, so fp32 outputs (STORE, RESIDUAL) bit-exact;
 *                     GELU in fp32 within 4e-7 |x| + 1e-7 of the reference;
 *                     GELU's codes equal on >= 99.9 %, within 1 level;
 *   layernorm_q:      codes equal on >= 99.9 %, within 1 level; fp32 within 1e-6 (1 + |y|);
 *   window_attention: the integer products are exact, but a probability may round to a
 *                     neighbouring code: outputs equal on >= 99.9 % and within 2 ap av max|qV|
 *                     everywhere (two probability codes' worth).
 * Runs with the Khronos validation layer (QSR_VALIDATION=1 from ctest); any validation message
 * fails the test. `test_gpu_t_ops --case N` runs one case. */
#include "ops/ops.h"
#include "platform.h"
#include "reference.h"
#include "shader_table.h"
#include "op_harness.h"
#include "test_util.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static qsr_context *ctx;
static qsr_test_cases cases = {-1, 0};
/* 1: the token ops read through their storage-buffer twins (shaders/fetch.glsl); else they do
 * where a texel binding exceeds the device's limit (QSR_FORCE_LIMITS=mobile). */
static int force_storage;
static uint32_t storage_by_limit;

static qsr__buffer make_buffer(size_t bytes, const void *init) {
    return qsr_test_host_buffer(ctx, bytes, init);
}

/* What one case records: the op's record function with its push block. */
typedef qsr__op_recorder record_fn;

/* Runs one dispatch. An idempotent op (one that does not read its own output) runs twice, the
 * first run warming the pipeline up; returns the wall time of the last run in seconds. */
static double run_op(const qsr__pipeline_desc *desc, qsr__buffer **bufs, const void *push,
                     record_fn record, int idempotent) {
    qsr__pipeline_desc chosen = *desc;
    /* The runtime's own choice (pipeline.c): the storage twin where a texel binding exceeds
     * the device's limit, or always when forced. */
    qsr__pipeline_desc texel = chosen;
    int by_limit = !force_storage && qsr__pipeline_desc_for_buffers(ctx, &chosen, bufs);
    storage_by_limit += (uint32_t)(by_limit && chosen.shader != texel.shader);
    if (force_storage) qsr__pipeline_desc_storage(&chosen);
    return qsr_test_dispatch(ctx, &chosen, bufs, push, record, idempotent ? 2 : 1);
}

/* [tokens][c] <-> [c][tokens] */
static void transpose(const float *in, size_t rows, size_t cols, float *out) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            out[c * rows + r] = in[r * cols + c];
}

/* On an IEEE device (lavapipe) the float parts are the reference's formulas in its order. */
static int exact_floats;

/* Codes [c][plane] against the reference's codes [plane][c] (tokens): equal on >= 99.9 %,
 * within one level everywhere (every code equal where exact_floats). */
static void check_codes(const int8_t *got, const int8_t *want_tokens, uint32_t channels,
                        size_t plane, const char *what) {
    size_t differ = 0, far = 0;
    for (uint32_t c = 0; c < channels; c++)
        for (size_t i = 0; i < plane; i++) {
            int d = got[(size_t)c * plane + i] - want_tokens[i * channels + c];
            differ += d != 0;
            far += d < -1 || d > 1;
        }
    size_t n = (size_t)channels * plane;
    printf("  %s: %zu of %zu codes differ by one level\n", what, differ, n);
    CHECK(far == 0, "%s: %zu of %zu codes differ by more than one level", what, far, n);
    CHECK(differ * 1000 <= n, "%s: %zu of %zu codes differ", what, differ, n);
    CHECK(!exact_floats || differ == 0, "%s: %zu codes differ on an IEEE device", what, differ);
}

/* The reference quantizer's codes of values [tokens][c]. */
static void quantize_tokens(const float *v, size_t tokens, uint32_t c, const float *shift,
                            float step, uint32_t bits, int is_signed, int8_t *codes) {
    int32_t qn, qp;
    qsr__act_range(bits, is_signed, &qn, &qp);
    for (size_t t = 0; t < tokens; t++)
        for (uint32_t k = 0; k < c; k++)
            codes[t * c + k] =
                qsr__ref_quantize_one(v[t * c + k], shift[k], step, (float)qn, (float)qp);
}

/* ---- linear_q ---- */
typedef struct linear_case {
    uint32_t bits_w, bits_a, cin, cout, w, h;
    int is_signed;
    qsr__epilogue epilogue; /* STORE, RESIDUAL or GELU */
    qsr__codes_out codes;   /* GELU: the next quantizer's codes, or NONE (fp32 GELU) */
    int extreme;            /* every code Qp, every weight the most negative: the largest sums */
} linear_case;

/* A random quantized linear layer with codes and steps (act_shift: zeros). */
static qsr__conv random_linear(qsr_rng *rng, const linear_case *k, int8_t *wcode) {
    int32_t wn = -(1 << (k->bits_w - 1)), wp = (1 << (k->bits_w - 1)) - 1;
    for (size_t i = 0; i < (size_t)k->cout * k->cin; i++)
        wcode[i] = (int8_t)(k->extreme ? wn : qsr_rng_int(rng, wn, wp));
    qsr__conv l = {.cin = k->cin,
                   .cout = k->cout,
                   .bias = qsr_test_random_floats(rng, k->cout, -1, 1),
                   .bits_w = k->bits_w,
                   .bits_a = k->bits_a,
                   .wcode = wcode,
                   .weight_step = qsr_test_random_floats(rng, k->cout, 0.002f, 0.05f),
                   .act_step = 0.05f + 0.3f * qsr_rng_float(rng),
                   .act_signed = k->is_signed,
                   .act_shift = calloc(k->cin, sizeof(float))};
    return l;
}

static void test_linear(qsr_rng *rng, const linear_case *k) {
    if (!qsr_test_begin_case(&cases,
                             "linear_q w%u a%u %s cin %u cout %u %ux%u epilogue %d codes %d",
                             k->bits_w, k->bits_a, k->is_signed ? "signed" : "unsigned", k->cin,
                             k->cout, k->w, k->h, (int)k->epilogue, (int)k->codes))
        return;
    uint32_t cin = k->cin, cout = k->cout, cpw = QSR__CODES_PER_WORD;
    size_t plane = (size_t)k->w * k->h, words = (cin + cpw - 1) / cpw;
    size_t out_words = (cout + cpw - 1) / cpw;
    int8_t *wcode = malloc((size_t)cout * cin);
    qsr__conv l = random_linear(rng, k, wcode);
    /* Input codes, and tokens x = code * a that the reference quantizes back to them. */
    int32_t qn, qp;
    qsr__act_range(k->bits_a, k->is_signed, &qn, &qp);
    float *x = malloc(plane * cin * sizeof(float));
    uint32_t *packed = calloc(words * plane, 4);
    for (size_t t = 0; t < plane; t++)
        for (uint32_t c = 0; c < cin; c++) {
            int32_t q = k->extreme ? qp : qsr_rng_int(rng, qn, qp);
            x[t * cin + c] = (float)q * l.act_step;
            packed[(c / cpw) * plane + t] |= ((uint32_t)q & 0xFu) << ((c % cpw) * 4);
        }
    size_t nw = qsr__linear_q_weight_words(cout, cin);
    /* The layer sits at uvec4 offset 2 of its weight buffer, as later layers do. */
    uint32_t *wbuf = calloc(nw + 8, 4);
    qsr__linear_q_pack_weights(wcode, cout, cin, wbuf + 8);
    /* params: bias, scale a * a_w, the next quantizer's shifts; 3 floats of slack first. */
    float *params = calloc(3 * cout + 3, sizeof(float)), *next_shift = params + 3 + 2 * cout;
    memcpy(params + 3, l.bias, cout * sizeof(float));
    for (uint32_t o = 0; o < cout; o++) {
        params[3 + cout + o] = l.act_step * l.weight_step[o];
        next_shift[o] = -0.3f + 0.6f * qsr_rng_float(rng);
    }
    float *h0 =
        qsr_test_random_floats(rng, cout * plane, -3, 3); /* the residual stream [cout][P] */
    int residual = k->epilogue == QSR__EPILOGUE_RESIDUAL;
    qsr__buffer bq = make_buffer(words * plane * 4, packed), bw = make_buffer((nw + 8) * 4, wbuf),
                bp = make_buffer((3 * cout + 3) * 4, params),
                bo = make_buffer(cout * plane * 4, residual ? h0 : NULL),
                bc = make_buffer(out_words * plane * 4, NULL);
    qsr__buffer *bufs[] = {&bq, &bw, &bp, &bo, &bo, &bc};
    qsr__op_push push = qsr_test_push(k->w, k->h, cin, cout);
    push.w_off = 2;
    push.bias_off = 3;
    push.scale_off = (int32_t)(3 + cout);
    push.aux_off = (int32_t)(3 + 2 * cout);
    push.step = 0.05f + 0.2f * qsr_rng_float(rng);
    push.shortcut = 0.5f + qsr_rng_float(rng);
    qsr__pipeline_desc d = qsr__linear_q_desc(k->epilogue, k->bits_a, k->is_signed, k->codes);
    double s = run_op(&d, bufs, &push, qsr__record_linear_q, !residual);
    printf("  %.3f ms, %.2f GMAC/s\n", s * 1e3, (double)qsr__linear_q_macs(&push) / s * 1e-9);

    int8_t *scratch = malloc(cin);
    float *want = malloc(plane * cout * sizeof(float)), *got = malloc(plane * cout * sizeof(float));
    qsr__ref_t_linear(&l, 1, x, plane, scratch, want); /* [P][cout] */
    float *pre = malloc(plane * cout * sizeof(float));
    memcpy(pre, want, plane * cout * sizeof(float));
    transpose(bo.mapped, cout, plane, got); /* -> [P][cout] */
    if (k->epilogue == QSR__EPILOGUE_RESIDUAL)
        for (size_t t = 0; t < plane; t++)
            for (uint32_t o = 0; o < cout; o++) {
                float scaled = h0[o * plane + t] * push.shortcut; /* reference_t.c's order */
                want[t * cout + o] = scaled + want[t * cout + o];
            }
    if (k->epilogue == QSR__EPILOGUE_GELU) qsr__ref_t_gelu(want, plane * cout);
    if (k->epilogue != QSR__EPILOGUE_GELU) {
        size_t bad = 0;
        for (size_t i = 0; i < plane * cout; i++)
            bad += want[i] != got[i];
        CHECK(bad == 0, "%zu of %zu outputs differ (first: want %.9g got %.9g)", bad, plane * cout,
              want[0], got[0]);
    } else if (!k->codes) {
        double worst = 0;
        for (size_t i = 0; i < plane * cout; i++) {
            double tol = 4e-7 * fabs(pre[i]) + 1e-7;
            worst = fmax(worst, fabs(want[i] - got[i]) / tol);
        }
        printf("  GELU: worst error %.3g of the tolerance\n", worst);
        CHECK(worst <= 1.0, "GELU error %.3g times the tolerance 4e-7 |x| + 1e-7", worst);
        CHECK(!exact_floats || worst == 0.0, "GELU not bit-exact on an IEEE device");
    } else {
        int8_t *want_codes = malloc(plane * cout), *got_codes = malloc(plane * cout);
        int next_signed = k->codes == QSR__CODES_SIGNED;
        quantize_tokens(want, plane, cout, next_shift, push.step, k->bits_a, next_signed,
                        want_codes);
        qsr_test_unpack_codes(bc.mapped, cout, plane, next_signed, got_codes);
        check_codes(got_codes, want_codes, cout, plane, "GELU codes");
        free(want_codes), free(got_codes);
    }
    qsr__buffer_destroy(ctx, &bq), qsr__buffer_destroy(ctx, &bw), qsr__buffer_destroy(ctx, &bp);
    qsr__buffer_destroy(ctx, &bo), qsr__buffer_destroy(ctx, &bc);
    free(wcode), free((void *)l.bias), free(l.weight_step), free((void *)l.act_shift);
    free(x), free(packed), free(wbuf), free(params), free(h0), free(scratch), free(want), free(got),
        free(pre);
}

/* ---- layernorm_q ---- */
static void test_layernorm(qsr_rng *rng, uint32_t e, uint32_t w, uint32_t h, uint32_t bits,
                           qsr__codes_out codes) {
    if (!qsr_test_begin_case(&cases, "layernorm_q E %u %ux%u bits %u codes %d", e, w, h, bits,
                             (int)codes))
        return;
    size_t plane = (size_t)w * h, words = (e + QSR__CODES_PER_WORD - 1) / QSR__CODES_PER_WORD;
    /* Tokens with a per-channel offset and spread, as a residual stream has. */
    float *x = malloc(plane * e * sizeof(float)), *offset = qsr_test_random_floats(rng, e, -2, 2);
    for (size_t t = 0; t < plane; t++)
        for (uint32_t c = 0; c < e; c++)
            x[t * e + c] = offset[c] + (qsr_rng_float(rng) - 0.5f) * (1.0f + (float)(c % 5));
    float *params = calloc(3 * e + 1, sizeof(float));
    float *weight = params + 1, *bias = params + 1 + e, *shift = params + 1 + 2 * e;
    for (uint32_t c = 0; c < e; c++) {
        weight[c] = 0.5f + qsr_rng_float(rng);
        bias[c] = -0.5f + qsr_rng_float(rng);
        shift[c] = -0.3f + 0.6f * qsr_rng_float(rng);
    }
    float *planar = malloc(plane * e * sizeof(float));
    transpose(x, plane, e, planar);
    size_t out_bytes = codes ? words * plane * 4 : e * plane * 4;
    qsr__buffer bx = make_buffer(plane * e * 4, planar), bp = make_buffer((3 * e + 1) * 4, params),
                bo = make_buffer(out_bytes, NULL);
    qsr__buffer *bufs[] = {&bx, &bp, &bo};
    qsr__op_push push = qsr_test_push(w, h, e, e);
    push.scale_off = 1;
    push.bias_off = (int32_t)(1 + e);
    push.aux_off = (int32_t)(1 + 2 * e);
    push.step = bits == 2 ? 0.9f : 0.3f;
    qsr__pipeline_desc d = qsr__layernorm_q_desc(codes, bits, e);
    double s = run_op(&d, bufs, &push, qsr__record_layernorm_q, 1);
    printf("  %.3f ms, %.1f Mtokens/s\n", s * 1e3, (double)plane / s * 1e-6);

    float *want = malloc(plane * e * sizeof(float));
    qsr__ref_t_layer_norm(x, plane, e, weight, bias, want);
    if (codes) {
        int8_t *want_codes = malloc(plane * e), *got_codes = malloc(plane * e);
        int is_signed = codes == QSR__CODES_SIGNED;
        quantize_tokens(want, plane, e, shift, push.step, bits, is_signed, want_codes);
        qsr_test_unpack_codes(bo.mapped, e, plane, is_signed, got_codes);
        check_codes(got_codes, want_codes, e, plane, "LayerNorm codes");
        free(want_codes), free(got_codes);
    } else {
        transpose(bo.mapped, e, plane, planar);
        double worst = 0;
        for (size_t i = 0; i < plane * e; i++)
            worst = fmax(worst, fabs(want[i] - planar[i]) / (1e-6 * (1 + fabs(want[i]))));
        printf("  fp32: worst error %.3g of the tolerance\n", worst);
        CHECK(worst <= 1.0, "LayerNorm error %.3g times the tolerance 1e-6 (1 + |y|)", worst);
        CHECK(!exact_floats || worst == 0.0, "LayerNorm not bit-exact on an IEEE device");
    }
    qsr__buffer_destroy(ctx, &bx), qsr__buffer_destroy(ctx, &bp), qsr__buffer_destroy(ctx, &bo);
    free(x), free(offset), free(params), free(planar), free(want);
}

/* ---- window_attention ---- */
typedef struct attention_case {
    uint32_t window, channels, heads, grid_w, grid_h, bits;
    int shifted;
    int q_signed, k_signed, v_signed;
    uint32_t local; /* a workgroup size to force (several token pairs per invocation), or 0 */
} attention_case;

static void test_attention(qsr_rng *rng, const attention_case *k) {
    if (!qsr_test_begin_case(
            &cases,
            "window_attention window %u E %u heads %u %ux%u bits %u shift %d signs "
            "q%d k%d v%d",
            k->window, k->channels, k->heads, k->grid_w, k->grid_h, k->bits, k->shifted,
            k->q_signed, k->k_signed, k->v_signed))
        return;
    uint32_t e = k->channels, d = e / k->heads, span = 2 * k->window - 1;
    size_t plane = (size_t)k->grid_w * k->grid_h;
    qsr_model_info info = {
        .channels = e, .heads = k->heads, .window = k->window, .bits_w = 4, .bits_a = k->bits};
    /* params: 1 float of slack, the q, k, v shifts [E] each, the bias [span^2][heads]. */
    size_t nbias = (size_t)span * span * k->heads, nparams = 1 + 3 * e + nbias;
    float *params = malloc(nparams * sizeof(float));
    params[0] = 0;
    for (size_t i = 1; i < 1 + 3 * e; i++)
        params[i] = -0.2f + 0.4f * qsr_rng_float(rng);
    for (size_t i = 1 + 3 * e; i < nparams; i++)
        params[i] = -2.0f + 4.0f * qsr_rng_float(rng);
    /* Steps that spread the values over the code range (4 bits: about 15 levels over [-3, 3]). */
    float levels = (float)((1 << k->bits) - 1), scale = 6.0f / levels;
    qsr__t_layer layer = {
        .rel_bias = params + 1 + 3 * e,
        .q = {scale * 0.4f * (0.8f + 0.4f * qsr_rng_float(rng)), k->q_signed, params + 1},
        .k = {scale * (0.8f + 0.4f * qsr_rng_float(rng)), k->k_signed, params + 1 + e},
        .v = {scale * (0.8f + 0.4f * qsr_rng_float(rng)), k->v_signed, params + 1 + 2 * e},
        .p_step = 1.0f / levels};
    /* qkv [P][3E]: unsigned quantizers see mostly positive values. */
    float *qkv = malloc(plane * 3 * e * sizeof(float)), *planar = malloc(plane * 3 * e * 4);
    int sign[3] = {k->q_signed, k->k_signed, k->v_signed};
    for (size_t t = 0; t < plane; t++)
        for (uint32_t c = 0; c < 3 * e; c++)
            qkv[t * 3 * e + c] =
                sign[c / e] ? -3.0f + 6.0f * qsr_rng_float(rng) : -0.5f + 6.0f * qsr_rng_float(rng);
    transpose(qkv, plane, 3 * e, planar);
    qsr__buffer bx = make_buffer(plane * 3 * e * 4, planar), bp = make_buffer(nparams * 4, params),
                bo = make_buffer(plane * e * 4, NULL);
    qsr__buffer *bufs[] = {&bx, &bp, &bo};
    qsr__attention_push push = {.grid_w = (int32_t)k->grid_w,
                                .grid_h = (int32_t)k->grid_h,
                                .channels = (int32_t)e,
                                .heads = (int32_t)k->heads,
                                .shift = k->shifted ? (int32_t)(k->window / 2) : 0,
                                .q_shift_off = 1,
                                .k_shift_off = (int32_t)(1 + e),
                                .v_shift_off = (int32_t)(1 + 2 * e),
                                .bias_off = (int32_t)(1 + 3 * e),
                                .sqrt_d = (float)sqrt((double)d),
                                .q_step = layer.q.step,
                                .k_step = layer.k.step,
                                .v_step = layer.v.step,
                                .p_step = layer.p_step,
                                .qk_scale = layer.q.step * layer.k.step,
                                .pv_scale = layer.p_step * layer.v.step};
    qsr__pipeline_desc desc =
        qsr__window_attention_desc(k->window, d, k->bits, k->q_signed, k->k_signed, k->v_signed);
    if (k->local) desc.local_x = k->local;
    double s = run_op(&desc, bufs, &push, qsr__record_window_attention, 1);
    printf("  %.3f ms, %.2f GMAC/s\n", s * 1e3,
           (double)qsr__window_attention_macs(&push, k->window) / s * 1e-9);

    float *want = malloc(plane * e * sizeof(float)), *got = malloc(plane * e * sizeof(float));
    CHECK_OK(qsr__ref_t_window_attention(&info, &layer, (uint32_t)push.shift, k->grid_h, k->grid_w,
                                         qkv, want));
    transpose(bo.mapped, e, plane, got);
    int32_t vn, vp;
    qsr__act_range(k->bits, k->v_signed, &vn, &vp);
    double level = (double)push.pv_scale * (vp > -vn ? vp : -vn), worst = 0;
    size_t differ = 0;
    for (size_t i = 0; i < plane * e; i++) {
        differ += want[i] != got[i];
        worst = fmax(worst, fabs(want[i] - got[i]) / level);
    }
    printf("  %zu of %zu outputs differ, worst by %.3g ap av max|qV|\n", differ, plane * e, worst);
    CHECK(worst <= 2.0, "outputs differ by up to %.3g ap av max|qV| (2 allowed)", worst);
    CHECK(differ * 1000 <= plane * e, "%zu of %zu outputs differ (0.1 %% allowed)", differ,
          plane * e);
    CHECK(!exact_floats || differ == 0, "%zu outputs differ on an IEEE device", differ);
    qsr__buffer_destroy(ctx, &bx), qsr__buffer_destroy(ctx, &bp), qsr__buffer_destroy(ctx, &bo);
    free(params), free(qkv), free(planar), free(want), free(got);
}

/* ---- the cases ---- */
static void token_cases(qsr_rng *rng) {
    /* Every width and sign on a grid that is no multiple of a window; partial code words. */
    for (uint32_t bits = 2; bits <= 4; bits += 2)
        for (int sgn = 0; sgn <= 1; sgn++) {
            test_linear(rng, &(linear_case){bits, bits, 60, 180, 37, 19, sgn, QSR__EPILOGUE_STORE,
                                            QSR__CODES_NONE, 0});
            test_linear(rng, &(linear_case){4, bits, 13, 7, 11, 5, sgn, QSR__EPILOGUE_RESIDUAL,
                                            QSR__CODES_NONE, 0});
            test_linear(rng, &(linear_case){bits, bits, 60, 120, 21, 13, sgn, QSR__EPILOGUE_GELU,
                                            sgn ? QSR__CODES_SIGNED : QSR__CODES_UNSIGNED, 0});
            test_layernorm(rng, 60, 37, 19, bits, sgn ? QSR__CODES_SIGNED : QSR__CODES_UNSIGNED);
        }
    test_linear(
        rng, &(linear_case){4, 4, 120, 60, 29, 17, 1, QSR__EPILOGUE_RESIDUAL, QSR__CODES_NONE, 0});
    test_linear(rng,
                &(linear_case){4, 4, 64, 64, 23, 9, 0, QSR__EPILOGUE_GELU, QSR__CODES_NONE, 0});
    /* fc2 of a wide MLP: 1024 inputs are 4 blocks of 32 code words between flushes of the
     * 16-bit fields; with the largest products each block sums to -30720 per field. */
    test_linear(rng, &(linear_case){4, 4, 1024, 24, 13, 3, 0, QSR__EPILOGUE_STORE, 0, 1});
    test_linear(rng, &(linear_case){4, 4, 520, 16, 9, 2, 0, QSR__EPILOGUE_STORE, 0, 0});
    test_layernorm(rng, 60, 13, 11, 4, QSR__CODES_NONE);
    test_layernorm(rng, 5, 3, 2, 2, QSR__CODES_UNSIGNED);
    /* Realistic sizes (64+ channels, 128x128 tokens) meet lavapipe's loop limiter. */
    test_linear(rng, &(linear_case){4, 4, 64, 64, 128, 128, 1, QSR__EPILOGUE_STORE, 0, 0});
    test_linear(rng, &(linear_case){2, 2, 96, 192, 128, 128, 0, QSR__EPILOGUE_GELU,
                                    QSR__CODES_UNSIGNED, 0});
    test_layernorm(rng, 96, 128, 128, 4, QSR__CODES_SIGNED);
}

static void attention_cases(qsr_rng *rng) {
    for (uint32_t bits = 2; bits <= 4; bits += 2)
        for (int shifted = 0; shifted <= 1; shifted++) {
            /* SwinIR-light: E 60, 6 heads of 10 channels, window 8. */
            test_attention(rng, &(attention_case){8, 60, 6, 24, 16, bits, shifted, 1, 1, 1, 0});
            test_attention(rng, &(attention_case){8, 60, 6, 16, 8, bits, shifted, 0, 1, 0, 0});
        }
    test_attention(rng, &(attention_case){4, 32, 2, 12, 20, 4, 1, 1, 0, 1, 0});
    test_attention(rng, &(attention_case){16, 24, 3, 32, 16, 4, 1, 0, 0, 0, 0});
    test_attention(rng, &(attention_case){8, 180, 6, 16, 16, 2, 1, 1, 1, 0, 0});
    /* 128x128 tokens: 256 windows x 6 heads. */
    test_attention(rng, &(attention_case){8, 60, 6, 128, 128, 4, 1, 1, 1, 1, 0});
    /* 8 invocations per window: 2 groups of 4 tokens each. */
    test_attention(rng, &(attention_case){8, 60, 6, 24, 16, 4, 1, 1, 1, 1, 8});
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--case") == 0) cases.only = atoi(argv[i + 1]);
    qsr_status st = qsr_context_create(NULL, &ctx);
    if (st != QSR_OK) return qsr_test_no_device("test_gpu_t_ops");
    exact_floats = qsr_test_device_is_ieee(ctx);
    printf("%s: float parts %s\n", exact_floats ? "IEEE device" : "GPU",
           exact_floats ? "must be bit-exact" : "within the tolerances");
    qsr_rng rng = {2024};
    for (force_storage = 0; force_storage <= 1; force_storage++) {
        printf("--- %s fetches\n", force_storage ? "storage-buffer" : "texel-buffer");
        qsr_rng again = rng;
        token_cases(&again);
    }
    force_storage = 0;
    if (ctx->props.limits.maxTexelBufferElements <= 65536u && cases.only < 0)
        CHECK(storage_by_limit > 0, "no dispatch took a storage twin under a %u-texel limit",
              ctx->props.limits.maxTexelBufferElements);
    attention_cases(&rng);
    uint32_t messages = qsr_context_validation_messages(ctx);
    CHECK(messages == 0, "%u validation message(s)", messages);
    qsr_context_destroy(ctx);
    return qsr_test_finish("test_gpu_t_ops");
}
