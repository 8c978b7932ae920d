/* test_gpu_ops.c - every shader against the CPU reference layers on random tensors and odd
 * sizes. Integer results (activation codes, quantized convolution sums) must match exactly;
 * fp32 convolutions within a relative 1e-5 of the largest magnitude. Runs with the Khronos
 * validation layer (QSR_VALIDATION=1 from ctest); any validation message fails the test.
 * `test_gpu_ops --case N` runs one case. */
#include "ops/ops.h"
#include "reference.h"
#include "op_harness.h"
#include "test_util.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static qsr_context *ctx;
static qsr_test_cases cases = {-1, 0};
/* Every convolution case runs twice: with the kernels' texel fetches (their storage twins
 * where a buffer exceeds the device's maxTexelBufferElements, as with QSR_FORCE_LIMITS=mobile),
 * then with every storage twin (shaders/fetch.glsl). */
static int force_storage;
static uint32_t storage_by_limit; /* dispatches switched to a twin by the texel limit */
/* workgroup_shapes(): another preferred workgroup shape and quantized kernel (-1: the
 * device's choice). */
static uint32_t force_local_x, force_local_y;
static int force_kernel = -1;

static qsr__buffer make_buffer(size_t bytes, const void *init) {
    return qsr_test_host_buffer(ctx, bytes, init);
}

/* One dispatch (support/op_harness.c) of the kernel the runtime would pick: its storage twin
 * where forced or where a texel binding exceeds the device's limit, the forced workgroup. */
static void run_op(const qsr__pipeline_desc *desc, qsr__buffer **bufs, const void *push,
                   qsr__op_recorder record) {
    qsr__pipeline_desc chosen = *desc;
    if (force_storage)
        CHECK(qsr__pipeline_desc_storage(&chosen), "shader %u has no storage twin", desc->shader);
    else
        storage_by_limit += (uint32_t)qsr__pipeline_desc_for_buffers(ctx, &chosen, bufs);
    if (force_local_x) {
        chosen.local_x = force_local_x;
        chosen.local_y = force_local_y;
    }
    qsr_test_dispatch(ctx, &chosen, bufs, push, record, 1);
}

/* The c4 layout of ops.h, [ceil(C/4)][plane][4], from planar [C][plane] (lanes past C 0). */
static float *to_c4(const float *planar, uint32_t c, size_t plane) {
    float *out = calloc(QSR__C4_WORDS(c) * plane, sizeof(float));
    for (uint32_t ch = 0; ch < c; ch++)
        for (size_t i = 0; i < plane; i++)
            out[((ch / 4) * plane + i) * 4 + ch % 4] = planar[ch * plane + i];
    return out;
}

/* planar from c4; *pad_nonzero counts the lanes past C that are not 0. */
static float *from_c4(const float *c4, uint32_t c, size_t plane, size_t *pad_nonzero) {
    float *out = malloc(c * plane * sizeof(float));
    *pad_nonzero = 0;
    for (uint32_t ch = 0; ch < QSR__C4_WORDS(c); ch++)
        for (size_t i = 0; i < plane; i++) {
            float v = c4[((ch / 4) * plane + i) * 4 + ch % 4];
            if (ch < c)
                out[ch * plane + i] = v;
            else
                *pad_nonzero += v != 0.0f;
        }
    return out;
}

/* What a padded code plane's words outside the grid hold before a producer runs: the producer
 * must leave them as they are. */
#define OUTSIDE_FILL 0xa5a5a5a5u

/* n code words of OUTSIDE_FILL: an output buffer before its producer runs. */
static uint32_t *outside_filled(size_t n) {
    uint32_t *w = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        w[i] = OUTSIDE_FILL;
    return w;
}

/* ---- quantize_rlq: codes equal the reference's exactly; with h_c4, its source in c4; padded
 * code planes (QuantSR-C's body) with the words around the grid untouched ---- */
static void test_quantize(qsr_rng *rng, uint32_t bits, int is_signed, uint32_t c, uint32_t w,
                          uint32_t h, int h_c4, int padded) {
    if (!qsr_test_begin_case(&cases, "quantize_rlq bits %u signed %u %ux%u c %u c4 %d padded %d",
                             bits, (uint32_t)is_signed, w, h, c, h_c4, padded))
        return;
    size_t plane = (size_t)w * h, words = (c + QSR__CODES_PER_WORD - 1) / QSR__CODES_PER_WORD;
    size_t plane_words = qsr__code_plane_words(w, h, padded);
    float step = 0.37f, in_scale = 0.8125f;
    float *x = qsr_test_random_floats(rng, c * plane, -6, 6),
          *shift = qsr_test_random_floats(rng, c, -0.5f, 0.5f);
    float *params = calloc(c + 8, sizeof(float));
    memcpy(params + 5, shift, c * sizeof(float));
    uint32_t *before = outside_filled(words * plane_words);
    qsr__buffer bx = make_buffer(c * plane * 4, x), bp = make_buffer((c + 8) * 4, params),
                bq = make_buffer(words * plane_words * 4, before),
                bh = make_buffer(h_c4 ? QSR__C4_WORDS(c) * plane * 4 : 16, NULL);
    qsr__buffer *bufs[] = {&bx, &bp, &bq, &bh};
    qsr__quantize_rlq_push push = {.in_w = (int32_t)w,
                                   .in_h = (int32_t)h,
                                   .cin = (int32_t)c,
                                   .shift_off = 5,
                                   .in_scale = in_scale,
                                   .step = step};
    qsr__pipeline_desc d = qsr__quantize_rlq_desc(bits, is_signed, h_c4);
    if (padded) qsr__quantize_rlq_pad_codes(&d);
    run_op(&d, bufs, &push, qsr__record_quantize_rlq);
    if (padded) {
        size_t changed = qsr_test_code_planes_outside_changed(bq.mapped, c, w, h, OUTSIDE_FILL);
        CHECK(changed == 0, "%zu words around the grid were written", changed);
    }
    if (h_c4) { /* the source itself, unscaled, bit for bit */
        size_t pad_nonzero;
        float *got_h = from_c4(bh.mapped, c, plane, &pad_nonzero);
        CHECK(memcmp(got_h, x, c * plane * sizeof(float)) == 0, "h in c4 differs from the source");
        CHECK(pad_nonzero == 0, "%zu lanes past the channels are not 0", pad_nonzero);
        free(got_h);
    }

    int32_t qn, qp;
    qsr__act_range(bits, is_signed, &qn, &qp);
    for (size_t i = 0; i < c * plane; i++)
        x[i] *= in_scale; /* the quantizer's input scaling */
    int8_t *want = malloc(c * plane), *got = malloc(c * plane);
    qsr__ref_quantize(x, c, plane, shift, step, qn, qp, want);
    qsr_test_unpack_code_planes(bq.mapped, c, w, h, padded, is_signed, got);
    size_t bad = 0;
    for (size_t i = 0; i < c * plane; i++)
        bad += want[i] != got[i];
    CHECK(bad == 0, "%zu of %zu codes differ", bad, c * plane);
    /* Channels past c in the last word must be zero (the convolution relies on it). */
    uint32_t cpw = QSR__CODES_PER_WORD;
    if (c % cpw) {
        const uint32_t *q = bq.mapped;
        uint32_t used = (c % cpw) * (32 / cpw);
        int dirty = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x0 = 0; x0 < w; x0++)
                dirty |= (q[qsr__code_word(w, h, padded, (uint32_t)words - 1, x0, y)] >> used) != 0;
        CHECK(!dirty, "unused code fields are not zero");
    }
    qsr__buffer_destroy(ctx, &bx), qsr__buffer_destroy(ctx, &bp), qsr__buffer_destroy(ctx, &bq);
    qsr__buffer_destroy(ctx, &bh);
    free(x), free(shift), free(params), free(want), free(got), free(before);
}

/* ---- conv3x3_q: integer sums equal the reference's exactly; with fused codes, the codes
 * (and the residual's fp32 values) equal the reference quantizer's of the reference result ---- */
typedef struct conv_q_case {
    uint32_t bits_w, bits_a, cin, cout, w, h;
    int is_signed;
    qsr__epilogue epilogue; /* STORE, RELU, RESIDUAL or RESIDUAL_C4 (h in c4) */
    qsr__codes_out codes;   /* NONE, or the next quantizer's codes */
    uint32_t px;            /* pixels per invocation; 0: the runtime's choice for w */
    /* 0: code planes padded where the kernel reads them so (QuantSR-C's body), 1: planar
     * (QuantSR-T's group convolution) */
    int planar;
} conv_q_case;

static void test_conv_q(qsr_rng *rng, const conv_q_case *k) {
    if (!qsr_test_begin_case(
            &cases, "conv3x3_q w%u a%u cin %u cout %u %ux%u px %u epilogue %d planar %d", k->bits_w,
            k->bits_a, k->cin, k->cout, k->w, k->h, k->px, (int)k->epilogue, k->planar))
        return;
    /* The plan's choice (conv3x3_q2 for 2-bit weights and activations here, unless QSR_KERNEL
     * forces another). */
    qsr__qkernel kernel;
    if (qsr__conv3x3_q_choose(ctx, k->bits_w, k->bits_a, &kernel) != QSR_OK) {
        CHECK(0, "no quantized kernel: %s", qsr_last_error());
        return;
    }
    if (force_kernel >= 0) kernel = (qsr__qkernel)force_kernel;
    uint32_t cin = k->cin, cout = k->cout, w = k->w, h = k->h;
    size_t plane = (size_t)w * h;
    uint32_t cpw = QSR__CODES_PER_WORD;
    size_t words = (cin + cpw - 1) / cpw, out_words = (cout + cpw - 1) / cpw;
    int32_t qn, qp, wn = -(1 << (k->bits_w - 1)), wp = (1 << (k->bits_w - 1)) - 1;
    qsr__act_range(k->bits_a, k->is_signed, &qn, &qp);
    int padded = !k->planar && qsr__conv3x3_q_pads_codes(kernel);
    size_t plane_words = qsr__code_plane_words(w, h, padded);
    int8_t *codes = malloc(cin * plane), *wcode = malloc((size_t)cout * cin * 9);
    uint32_t *packed = malloc(words * plane_words * 4);
    for (size_t i = 0; i < cin * plane; i++)
        codes[i] = (int8_t)qsr_rng_int(rng, qn, qp);
    /* Words past a padded row's border feed only pixels outside the grid: all ones there. */
    qsr_test_pack_code_planes(codes, cin, w, h, padded, 0xffffffffu, packed);
    uint32_t *codes_before = outside_filled(out_words * plane_words);
    for (size_t i = 0; i < (size_t)cout * cin * 9; i++)
        wcode[i] = (int8_t)qsr_rng_int(rng, wn, wp);
    size_t weight_words = qsr__conv3x3_q_weight_words(kernel, cout, cin);
    uint32_t *pairs = malloc(weight_words * 4 + 4);
    qsr__conv3x3_q_pack_weights(kernel, wcode, cout, cin, k->is_signed, pairs);
    /* scale 1 and bias 0: y is the integer sum itself (exact in float below 2^24); the next
     * quantizer's shifts follow at 2 * cout. */
    float *params = calloc(3 * cout + 4, sizeof(float));
    float *shift = qsr_test_random_floats(rng, cout, -0.5f, 0.5f);
    for (uint32_t o = 0; o < cout; o++)
        params[cout + o] = 1.0f;
    memcpy(params + 2 * cout, shift, cout * sizeof(float));
    float *h0 = qsr_test_random_floats(rng, cout * plane, -40, 40);
    int c4 = k->epilogue == QSR__EPILOGUE_RESIDUAL_C4;
    int residual = c4 || k->epilogue == QSR__EPILOGUE_RESIDUAL;
    float *h0_c4 = to_c4(h0, cout, plane);
    qsr__buffer bq = make_buffer(words * plane_words * 4, packed),
                bw = make_buffer(weight_words * 4, pairs),
                bp = make_buffer((3 * cout + 4) * 4, params),
                bo = make_buffer((c4 ? QSR__C4_WORDS(cout) : cout) * plane * 4,
                                 residual ? (c4 ? h0_c4 : h0) : NULL),
                bc = make_buffer(out_words * plane_words * 4, codes_before);
    /* Binding 4 is the residual's view of the destination. */
    qsr__buffer *bufs[] = {&bq, &bw, &bp, &bo, &bo, &bc};
    qsr__op_push push = qsr_test_push(w, h, cin, cout);
    push.bias_off = 0;
    push.scale_off = (int32_t)cout;
    push.aux_off = (int32_t)(2 * cout);
    push.step = 23.5f; /* the next quantizer's */
    push.in_scale = 0.8125f;
    push.shortcut = 0.75f;
    push.dst_scale = 1.25f;
    qsr__pipeline_desc d =
        qsr__conv3x3_q_desc(kernel, k->epilogue, k->bits_a, k->is_signed, k->codes);
    if (padded) qsr__conv3x3_q_pad_codes(&d);
    qsr__conv3x3_fit_px(ctx, &d, w);
    if (k->px && d.spec[1]) d.spec[1] = (int32_t)k->px; /* PAIRS and QUADS */
    run_op(&d, bufs, &push, qsr__record_conv3x3_q);

    float *ones = malloc(cout * sizeof(float)), *zeros = calloc(cout, sizeof(float));
    for (uint32_t o = 0; o < cout; o++)
        ones[o] = 1.0f;
    float *want = malloc(cout * plane * sizeof(float));
    CHECK_OK(qsr__ref_conv3x3_q(codes, cin, h, w, wcode, ones, 1.0f, zeros, cout, want));
    /* What the epilogue leaves, as the plan's CPU reference computes it. */
    for (size_t i = 0; i < cout * plane; i++) {
        if (k->epilogue == QSR__EPILOGUE_RELU) want[i] = want[i] > 0.0f ? want[i] : 0.0f;
        if (residual) {
            float scaled = h0[i] * push.dst_scale;
            want[i] = scaled * push.shortcut + want[i];
        }
    }
    size_t pad_nonzero = 0;
    float *got_c4 = c4 ? from_c4(bo.mapped, cout, plane, &pad_nonzero) : NULL;
    const float *got = c4 ? got_c4 : bo.mapped;
    CHECK(pad_nonzero == 0, "%zu lanes past the channels are not 0", pad_nonzero);
    size_t bad = 0;
    int fp32_written = !(k->codes && k->epilogue == QSR__EPILOGUE_RELU);
    if (fp32_written)
        for (size_t i = 0; i < cout * plane; i++)
            bad += want[i] != got[i];
    CHECK(bad == 0, "%zu of %zu outputs differ (first: want %g got %g)", bad, cout * plane, want[0],
          got[0]);
    if (k->codes) {
        int next_signed = k->codes == QSR__CODES_SIGNED;
        int32_t nqn, nqp;
        qsr__act_range(k->bits_a, next_signed, &nqn, &nqp);
        for (size_t i = 0; i < cout * plane; i++)
            want[i] *= push.in_scale;
        int8_t *want_codes = malloc(cout * plane), *got_codes = malloc(cout * plane);
        qsr__ref_quantize(want, cout, plane, shift, push.step, nqn, nqp, want_codes);
        qsr_test_unpack_code_planes(bc.mapped, cout, w, h, padded, next_signed, got_codes);
        size_t changed =
            padded ? qsr_test_code_planes_outside_changed(bc.mapped, cout, w, h, OUTSIDE_FILL) : 0;
        CHECK(changed == 0, "%zu words around the grid were written", changed);
        size_t bad_codes = 0;
        for (size_t i = 0; i < cout * plane; i++)
            bad_codes += want_codes[i] != got_codes[i];
        CHECK(bad_codes == 0, "%zu of %zu fused codes differ", bad_codes, cout * plane);
        free(want_codes), free(got_codes);
    }
    qsr__buffer_destroy(ctx, &bq), qsr__buffer_destroy(ctx, &bw), qsr__buffer_destroy(ctx, &bp);
    qsr__buffer_destroy(ctx, &bo), qsr__buffer_destroy(ctx, &bc);
    free(codes), free(wcode), free(packed), free(pairs), free(params), free(ones), free(zeros),
        free(want), free(shift), free(h0), free(h0_c4), free(got_c4), free(codes_before);
}

/* ---- conv3x3_f32 (store and pixel-shuffle epilogues) within fp32 rounding ---- */
static void test_conv_f32(qsr_rng *rng, uint32_t cin, uint32_t cout, uint32_t w, uint32_t h,
                          uint32_t shuffle_r, uint32_t px, int src_c4) {
    if (!qsr_test_begin_case(&cases, "conv3x3_f32 cin %u cout %u %ux%u px %u src c4 %d", cin, cout,
                             w, h, px, src_c4))
        return;
    size_t plane = (size_t)w * h;
    float *x = qsr_test_random_floats(rng, cin * plane, -2, 2), *x_c4 = to_c4(x, cin, plane);
    float *wt = qsr_test_random_floats(rng, (size_t)cout * cin * 9, -0.3f, 0.3f);
    float *bias = qsr_test_random_floats(rng, cout, -1, 1);
    float *params = calloc(cout + 3, sizeof(float));
    memcpy(params + 3, bias, cout * sizeof(float));
    /* The layer sits at vec4 offset 3 of its weight buffer, as layers after the first do. */
    size_t nw = qsr__conv3x3_f32_weight_floats(cout, cin);
    float *wbuf = calloc(nw + 12, sizeof(float));
    qsr__conv3x3_f32_pack_weights(wt, cout, cin, wbuf + 12);
    qsr__buffer bx = src_c4 ? make_buffer(QSR__C4_WORDS(cin) * plane * 4, x_c4)
                            : make_buffer(cin * plane * 4, x),
                bw = make_buffer((nw + 12) * 4, wbuf), bp = make_buffer((cout + 3) * 4, params),
                bo = make_buffer(cout * plane * 4, NULL), bd = make_buffer(16, NULL),
                bd2 = make_buffer(16, NULL), bd3 = make_buffer(16, NULL);
    qsr__buffer *bufs[] = {&bx, &bw, &bp, &bo, &bd, &bd2, &bd3};
    qsr__op_push push = qsr_test_push(w, h, cin, cout);
    push.w_off = 3;
    push.bias_off = 3;
    qsr__pipeline_desc d = qsr__conv3x3_f32_desc(
        shuffle_r ? QSR__EPILOGUE_SHUFFLE : QSR__EPILOGUE_STORE, shuffle_r, 0, px);
    if (src_c4) qsr__conv3x3_f32_src_c4(&d);
    run_op(&d, bufs, &push, qsr__record_conv3x3_f32);

    float *want = malloc(cout * plane * sizeof(float)),
          *shuffled = malloc(cout * plane * sizeof(float));
    CHECK_OK(qsr__ref_conv3x3_f32(x, cin, h, w, wt, bias, cout, want));
    if (shuffle_r) {
        qsr__ref_pixel_shuffle(want, cout / (shuffle_r * shuffle_r), h, w, shuffle_r, shuffled);
        memcpy(want, shuffled, cout * plane * sizeof(float));
    }
    const float *got = bo.mapped;
    double max_ref = 0, max_err = 0;
    for (size_t i = 0; i < cout * plane; i++) {
        max_ref = fmax(max_ref, fabs(want[i]));
        max_err = fmax(max_err, fabs(want[i] - got[i]));
    }
    CHECK(max_err <= 1e-5 * max_ref, "max error %g (max magnitude %g)", max_err, max_ref);
    qsr__buffer_destroy(ctx, &bx), qsr__buffer_destroy(ctx, &bw), qsr__buffer_destroy(ctx, &bp);
    qsr__buffer_destroy(ctx, &bo), qsr__buffer_destroy(ctx, &bd), qsr__buffer_destroy(ctx, &bd2);
    qsr__buffer_destroy(ctx, &bd3);
    free(x), free(x_c4), free(wt), free(bias), free(params), free(wbuf), free(want), free(shuffled);
}

/* Workgroup sizes are specialization constants fitted to the device (qsr__pipeline_fit):
 * every kernel must give the same results at other shapes, such as a mobile GPU's smaller
 * workgroups (conv3x3_q_tiled's shared tiles are sized by them, and fewer than its 72 weight
 * words' invocations stage the weights in rounds). */
static void workgroup_shapes(qsr_rng *rng) {
    static const uint32_t shapes[][2] = {{4, 2}, {8, 4}, {2, 16}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        force_local_x = shapes[i][0];
        force_local_y = shapes[i][1];
        printf("--- preferred workgroup %ux%u\n", force_local_x, force_local_y);
        for (int tiled = 0; tiled <= 1; tiled++) {
            force_kernel = tiled ? (int)QSR__QKERNEL_TILED : -1;
            test_conv_q(rng, &(conv_q_case){4, 4, 64, 24, 37, 19, 1, QSR__EPILOGUE_RESIDUAL,
                                            QSR__CODES_SIGNED, 0, 0});
            test_conv_q(rng, &(conv_q_case){2, 2, 21, 16, 23, 9, 0, QSR__EPILOGUE_RELU,
                                            QSR__CODES_UNSIGNED, 0, 0});
            test_conv_q(rng, &(conv_q_case){4, 4, 32, 20, 29, 11, 1, QSR__EPILOGUE_RESIDUAL_C4,
                                            QSR__CODES_SIGNED, 0, 0});
        }
        force_kernel = -1;
        test_conv_f32(rng, 17, 12, 41, 9, 0, 0, 0);
        test_conv_f32(rng, 17, 12, 41, 9, 0, 0, 1);
        test_quantize(rng, 4, 1, 13, 11, 7, 1, 1);
    }
    force_local_x = force_local_y = 0;
}

/* Every convolution case (run once per fetch mode). */
static void conv_cases(qsr_rng *rng_) {
    qsr_rng rng = *rng_;
    for (uint32_t bw = 2; bw <= 4; bw++)
        for (uint32_t ba = 2; ba <= 4; ba++)
            test_conv_q(&rng, &(conv_q_case){bw, ba, 13, 7, 11, 9, (int)(bw + ba) % 2,
                                             QSR__EPILOGUE_STORE, QSR__CODES_NONE, 0, 0});
    /* A realistic layer (64 channels, a 48x40 tile) catches lavapipe's loop limiter. */
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 48, 40, 1, QSR__EPILOGUE_STORE, 0, 0, 0});
    test_conv_q(&rng, &(conv_q_case){2, 2, 64, 64, 33, 17, 0, QSR__EPILOGUE_STORE, 0, 0, 0});
    /* conv3x3_q2's corrections: signed codes (padding is a = 0), a partial code word. */
    test_conv_q(&rng, &(conv_q_case){2, 2, 64, 64, 29, 21, 1, QSR__EPILOGUE_STORE, 0, 0, 0});
    test_conv_q(&rng, &(conv_q_case){2, 2, 13, 9, 7, 5, 1, QSR__EPILOGUE_STORE, 0, 0, 0});
    test_conv_q(&rng,
                &(conv_q_case){2, 2, 21, 16, 9, 4, 0, QSR__EPILOGUE_RELU, QSR__CODES_SIGNED, 0, 0});
    test_conv_q(&rng, &(conv_q_case){3, 4, 1, 1, 1, 1, 0, QSR__EPILOGUE_STORE, 0, 0, 0});
    /* The fused epilogues: conv1's codes only, conv2's residual and codes, at each width,
     * both code signs, channel counts that leave a partial code word. */
    for (uint32_t ba = 2; ba <= 4; ba++) {
        test_conv_q(&rng, &(conv_q_case){4, ba, 16, 13, 19, 7, 0, QSR__EPILOGUE_RELU,
                                         ba % 2 ? QSR__CODES_SIGNED : QSR__CODES_UNSIGNED, 0, 0});
        test_conv_q(&rng, &(conv_q_case){ba, ba, 24, 20, 10, 6, 1, QSR__EPILOGUE_RESIDUAL,
                                         ba % 2 ? QSR__CODES_UNSIGNED : QSR__CODES_SIGNED, 0, 0});
        /* h in c4 (QuantSR-C's body): a last group of one quad (20), a partial quad (18). */
        test_conv_q(&rng, &(conv_q_case){ba, ba, 24, 20, 10, 6, 1, QSR__EPILOGUE_RESIDUAL_C4,
                                         ba % 2 ? QSR__CODES_UNSIGNED : QSR__CODES_SIGNED, 0, 0});
        test_conv_q(&rng, &(conv_q_case){ba, ba, 13, 18, 9, 5, 0, QSR__EPILOGUE_RESIDUAL_C4,
                                         ba % 2 ? QSR__CODES_SIGNED : QSR__CODES_UNSIGNED, 0, 0});
    }
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 40, 33, 1, QSR__EPILOGUE_RESIDUAL_C4,
                                     QSR__CODES_SIGNED, 0, 0});
    test_conv_q(&rng, &(conv_q_case){2, 2, 64, 64, 40, 33, 0, QSR__EPILOGUE_RESIDUAL_C4,
                                     QSR__CODES_UNSIGNED, 0, 0});
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 5, 3, 1, QSR__EPILOGUE_RESIDUAL_C4, 0, 0, 0});
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 40, 33, 0, QSR__EPILOGUE_RESIDUAL,
                                     QSR__CODES_SIGNED, 0, 0});
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 5, 3, 1, QSR__EPILOGUE_RESIDUAL, 0, 0, 0});
    /* 16 pixels per invocation (wide grids; the cases above are narrow and take 8): a realistic
     * layer, partial workgroup rows (70 and 137 columns), partial code words. */
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 48, 40, 1, QSR__EPILOGUE_STORE, 0, 16, 0});
    test_conv_q(&rng, &(conv_q_case){2, 2, 64, 64, 48, 40, 0, QSR__EPILOGUE_STORE, 0, 16, 0});
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 70, 9, 1, QSR__EPILOGUE_RESIDUAL,
                                     QSR__CODES_SIGNED, 16, 0});
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 70, 9, 1, QSR__EPILOGUE_RESIDUAL_C4,
                                     QSR__CODES_SIGNED, 16, 0});
    test_conv_q(&rng, &(conv_q_case){2, 2, 64, 64, 70, 9, 0, QSR__EPILOGUE_RESIDUAL_C4,
                                     QSR__CODES_SIGNED, 16, 0});
    test_conv_q(&rng, &(conv_q_case){2, 2, 64, 64, 70, 9, 0, QSR__EPILOGUE_RELU,
                                     QSR__CODES_UNSIGNED, 16, 0});
    test_conv_q(&rng, &(conv_q_case){2, 2, 13, 9, 137, 5, 1, QSR__EPILOGUE_STORE, 0, 16, 0});
    test_conv_q(&rng, &(conv_q_case){3, 4, 21, 16, 137, 3, 0, QSR__EPILOGUE_RELU, QSR__CODES_SIGNED,
                                     16, 0});
    /* 32 pixels per invocation (grids of whole 256-pixel rows at 8 lanes): a realistic layer
     * (its 8 code words stay far under the loop limiter), a whole row and a partial one (300
     * columns), both kernels, conv1's and conv2's epilogues, partial code words. */
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 256, 5, 1, QSR__EPILOGUE_RELU,
                                     QSR__CODES_UNSIGNED, 32, 0});
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 300, 4, 1, QSR__EPILOGUE_RESIDUAL_C4,
                                     QSR__CODES_SIGNED, 32, 0});
    test_conv_q(&rng, &(conv_q_case){3, 4, 21, 16, 137, 3, 0, QSR__EPILOGUE_RELU, QSR__CODES_SIGNED,
                                     32, 0});
    /* conv3x3_q2 at 2 and 3 bits (CPU devices): the same at PX 32, input codes unsigned at 2
     * bits and signed at 3 for conv2's epilogue. */
    for (uint32_t b = 2; b <= 3; b++) {
        test_conv_q(&rng, &(conv_q_case){b, b, 64, 64, 256, 5, 0, QSR__EPILOGUE_RELU,
                                         QSR__CODES_UNSIGNED, 32, 0});
        test_conv_q(&rng, &(conv_q_case){b, b, 64, 64, 300, 4, (int)b % 2,
                                         QSR__EPILOGUE_RESIDUAL_C4, QSR__CODES_SIGNED, 32, 0});
        test_conv_q(&rng, &(conv_q_case){b, b, 13, 9, 70, 5, 1, QSR__EPILOGUE_STORE, 0, 32, 0});
    }
    /* 3 bits beyond those: a realistic layer at PX 16 (signed codes), planar planes. */
    test_conv_q(&rng, &(conv_q_case){3, 3, 64, 64, 48, 40, 1, QSR__EPILOGUE_STORE, 0, 16, 0});
    test_conv_q(&rng, &(conv_q_case){3, 3, 21, 16, 37, 5, 0, QSR__EPILOGUE_RESIDUAL,
                                     QSR__CODES_UNSIGNED, 8, 1});
    /* Planar code planes (QuantSR-T's group convolution reads them so) at each PX. */
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 70, 9, 1, QSR__EPILOGUE_RESIDUAL, 0, 16, 1});
    test_conv_q(&rng, &(conv_q_case){2, 2, 13, 9, 37, 5, 1, QSR__EPILOGUE_STORE, 0, 8, 1});
    test_conv_q(&rng, &(conv_q_case){4, 4, 64, 64, 300, 4, 1, QSR__EPILOGUE_RESIDUAL_C4,
                                     QSR__CODES_SIGNED, 32, 1});
    test_conv_q(&rng, &(conv_q_case){2, 2, 64, 64, 256, 5, 0, QSR__EPILOGUE_RELU,
                                     QSR__CODES_UNSIGNED, 32, 1});
    /* 16 pixels per invocation (the default) and 8 (narrow grids); 70 columns leave a partial
     * workgroup row at both. */
    for (uint32_t px = 8; px <= 16; px += 8) {
        test_conv_f32(&rng, 3, 16, 13, 9, 0, px, 0);
        test_conv_f32(&rng, 17, 5, 7, 12, 0, px, 0);
        test_conv_f32(&rng, 64, 64, 24, 20, 0, px, 0);
        test_conv_f32(&rng, 16, 16, 70, 3, 0, px, 0);
        test_conv_f32(&rng, 8, 32, 9, 6, 2, px, 0);
        test_conv_f32(&rng, 6, 54, 5, 7, 3, px, 0);
        /* the source in c4 (conv_after_body of quantized QuantSR-C): partial quads (3, 17) */
        test_conv_f32(&rng, 3, 16, 13, 9, 0, px, 1);
        test_conv_f32(&rng, 17, 5, 7, 12, 0, px, 1);
        test_conv_f32(&rng, 64, 64, 70, 20, 0, px, 1);
    }
    /* A layer whose activations (64 x 72 x 64 floats: 73728 16-byte texels) exceed the 65536
     * texels of a mobile GPU: under QSR_FORCE_LIMITS=mobile it must take conv3x3_f32's
     * storage twin. */
    uint32_t before = storage_by_limit;
    test_conv_f32(&rng, 64, 16, 72, 64, 0, 0, 0);
    test_conv_f32(&rng, 64, 16, 72, 64, 0, 0, 1);
    if (!force_storage && cases.only < 0 && ctx->props.limits.maxTexelBufferElements <= 65536u)
        CHECK(storage_by_limit > before,
              "the 72x64 layer kept texel fetches under a %u-texel limit",
              ctx->props.limits.maxTexelBufferElements);
    *rng_ = rng;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--case") == 0) cases.only = atoi(argv[i + 1]);
    qsr_status st = qsr_context_create(NULL, &ctx);
    if (st != QSR_OK) return qsr_test_no_device("test_gpu_ops");
    if (qsr_test_kernel_unavailable(ctx)) {
        qsr_context_destroy(ctx);
        return 77;
    }
    qsr_rng rng = {42};
    for (uint32_t bits = 2; bits <= 4; bits++)
        for (int s = 0; s <= 1; s++) {
            test_quantize(&rng, bits, s, 13, 11, 7, 0, 0);
            test_quantize(&rng, bits, s, 64, 5, 3, 0, 0);
            test_quantize(&rng, bits, s, 13, 11, 7, 1, 0);
            /* QuantSR-C's first quantizer under conv3x3_q and conv3x3_q2 */
            test_quantize(&rng, bits, s, 13, 11, 7, 1, 1);
            test_quantize(&rng, bits, s, 64, 5, 3, 1, 1);
        }
    for (force_storage = 0; force_storage <= 1; force_storage++) {
        printf("--- %s fetches\n", force_storage ? "storage-buffer" : "texel-buffer");
        conv_cases(&rng);
    }
    force_storage = 0;
    /* With forced mobile limits the realistic layers exceed maxTexelBufferElements: the
     * storage twins must have been chosen for them. */
    if (ctx->props.limits.maxTexelBufferElements <= 65536u)
        CHECK(storage_by_limit > 0, "no dispatch took a storage twin under a %u-texel limit",
              ctx->props.limits.maxTexelBufferElements);
    printf("%u dispatch(es) took storage twins by the texel limit\n", storage_by_limit);
    workgroup_shapes(&rng);
    uint32_t messages = qsr_context_validation_messages(ctx);
    CHECK(messages == 0, "%u validation message(s)", messages);
    qsr_context_destroy(ctx);
    return qsr_test_finish("test_gpu_ops");
}
