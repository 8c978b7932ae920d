/* cmd_bench.c - `quantsr bench`: times the model's own (quantized) path against the FP32 path
 * on the same device in the same process, on a deterministic synthetic image, at each depth
 * level. Speed and memory are measured here and only here; tests never assert them.
 *
 * JSON keys (for docs/cli.md):
 *   model, arch, scale, bits_w, bits_a, device   as in `info` / `eval`
 *   width, height       int     input size (--size)
 *   runs, warmup        int     timed runs per measurement (medians are reported), warm-ups
 *   results             [ per depth:
 *     depth             int     blocks run
 *     macs_per_pixel    int     per input pixel
 *     quantized, fp32   { total_ms, gpu_ms (medians), gmac_per_s (MACs run / median device
 *                         time, wall time if the device reports none; MACs run count the
 *                         folded upsampler's own), tiles, tile }
 *     ratio_gpu_ms      number  quantized gpu_ms / fp32 gpu_ms (< 1: quantized is faster)
 *     ratio_total_ms    number  the same for the wall time
 *     time_share, mac_share  number  the quantized path's device time and MACs run at this
 *                       depth over those at full depth (where full depth was measured) ]
 *                       (fp32 and the ratios are left out where the model has no fp32 GPU
 *                       path, QuantSR-T: then fp32_unavailable, string, says why)
 *   body_weight_bytes   { quantized, fp32 }  size of the quantized layers' weights (the
 *                       residual body; QuantSR-T: linear layers and group convs) at bits_w
 *                       and at 32 bits, from the model header
 *   host_peak_rss_bytes int     the process's peak resident memory at the end
 *
 * With --ops (one warm-up and --runs profiled runs per depth, default 1, each just after a
 * measurement of the device's limits; the model's own path only):
 *   model, device, width, height, runs
 *   kernel              string  the body convolutions' shader (qsr_upscaler_kernel_name)
 *   profiles            [ per depth: depth, runs, gpu_ms (the whole run, median), ops: [ per
 *                         kind of op in execution order: name, dispatches, gpu_ms (median),
 *                         macs, gmac_per_s (macs / median gpu_ms), fraction_of_limit (the
 *                         median over the runs of the run's GMAC/s over the limit of the op's
 *                         form measured just before it: int_quad for quantized ops where the
 *                         kernel is conv3x3_q2, int_pair for the other quantized ones, fp32
 *                         for the rest; 0 for ops without MACs) ],
 *                         quantized (where there are quantized ops, "(q)" in their names:
 *                         QuantSR-C's body convolutions) { the same keys but name, for those
 *                         ops together }, peak (as below: the medians of this depth's
 *                         measurements) ]
 *   peak                { int_pair_gmac_per_s, int_quad_gmac_per_s, fp32_gmac_per_s,
 *                         texel_gfetch_per_s, buffer_gload_per_s }  the device's microkernel
 *                         limits (--peak), medians of every measurement
 * With --peak: device, peak.
 *
 * With --batch DIR (the `upscale` pipeline of cli/pipeline.h over the images of DIR: decode,
 * upscale at --depth, encode as PNG into a temporary folder, delete; after one warm-up upscale
 * of the first image; --runs passes, default 1, serial and pipelined passes alternating):
 *   model, device, batch (DIR), images (int, in DIR), runs
 *   pipelined           { jobs ("L:P:S", -j), images_per_s (images upscaled and saved per
 *                         second of wall time), wall_ms (a pass), load_ms, upscale_ms, save_ms
 *                         (time in each stage per image: decode, upscale, encode + write; with
 *                         threads the stages overlap, so they add up to more than wall_ms /
 *                         images), gpu_ms (device time per image), failed (images) }
 *                         medians over the passes
 *   serial              the same for -j 0:1:0 (with --compare)
 *   speedup             pipelined images_per_s / serial images_per_s (with --compare)
 */
#define _POSIX_C_SOURCE 200809L

#include "args.h"
#include "cli.h"
#include "interrupt.h"
#include "json.h"
#include "pipeline.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define BENCH_WARMUP 1u

typedef struct bench_options {
    cli_model_options model;
    const char *size;
    uint32_t width, height, runs, tile, device;
    int json, ops, peak;
    /* --batch DIR: the upscale pipeline over a folder, with -j; --compare adds -j 0:1:0 */
    const char *batch, *jobs_text;
    cli_pipeline_jobs jobs;
    int compare;
    /* --arch c: a random-weight model (shape options below) instead of -m */
    const char *arch;
    uint32_t channels, blocks, scale, bits;
    qsr_random_model_desc random;
} bench_options;

/* Medians over the timed runs of one (depth, precision). */
typedef struct bench_measure {
    double total_ms, gpu_ms, gmac_per_s;
    uint64_t macs; /* run (qsr_run_stats.macs) */
    uint32_t tiles, tile;
} bench_measure;

typedef struct bench_row {
    uint32_t depth;
    uint64_t macs_per_pixel;
    bench_measure quantized, fp32;
} bench_row;

/* Device memory one upscaler holds for this input at full depth: weights + activations; and
 * why the model has no fp32 GPU path ("" if it has one; QuantSR-T's kernels are quantized). */
typedef struct bench_memory {
    uint64_t quantized, fp32;
    char fp32_unavailable[256];
} bench_memory;

/* "WxH" with both in 1..QSR_MAX_IMAGE_DIMENSION. */
static int parse_size(const char *text, uint32_t *w, uint32_t *h) {
    const char *x = strchr(text, 'x');
    char w_text[16];
    if (x == NULL || (size_t)(x - text) >= sizeof w_text) return 0;
    memcpy(w_text, text, (size_t)(x - text));
    w_text[x - text] = '\0';
    return cli_parse_u32(w_text, w) && cli_parse_u32(x + 1, h) && *w >= 1 && *h >= 1 &&
           *w <= QSR_MAX_IMAGE_DIMENSION && *h <= QSR_MAX_IMAGE_DIMENSION;
}

/* A photo-like deterministic pattern: smooth gradients, edges and hashed noise, so the
 * activation quantizers see realistic ranges. */
static qsr_status synthetic_image(uint32_t w, uint32_t h, qsr_image *out) {
    qsr_status st = qsr_image_create(w, h, 3, out);
    if (st != QSR_OK) return st;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint32_t hash = (x * 73856093u) ^ (y * 19349663u);
            hash ^= hash >> 13;
            hash *= 0x5bd1e995u;
            int noise = (int)((hash >> 24) & 31u) - 16;
            int edge = ((x / 16 + y / 16) & 1) ? 40 : -40;
            int r = (int)(x * 200u / w) + 28 + noise;
            int g = (int)(y * 200u / h) + 28 + edge / 2 + noise;
            int b = 128 + edge + noise;
            uint8_t *p = out->pixels + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
            p[1] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : g);
            p[2] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
        }
    }
    return QSR_OK;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, uint32_t n) {
    qsort(values, n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/* Warm-up, then `runs` timed runs; fills m with medians. */
static qsr_status measure(qsr_upscaler *up, const qsr_image *in, uint32_t depth, uint32_t runs,
                          bench_measure *m) {
    double *total = calloc(runs, sizeof *total), *gpu = calloc(runs, sizeof *gpu);
    qsr_run_stats stats = {.tiles = 0};
    qsr_status st = (total && gpu) ? QSR_OK : QSR_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; st == QSR_OK && i < BENCH_WARMUP + runs; i++) {
        qsr_image out;
        st = qsr_upscaler_run(up, in, depth, &out, &stats);
        if (st != QSR_OK) break;
        qsr_image_free(&out);
        if (i < BENCH_WARMUP) continue;
        total[i - BENCH_WARMUP] = stats.total_ms;
        gpu[i - BENCH_WARMUP] = stats.gpu_ms;
    }
    if (st == QSR_OK) {
        m->total_ms = median(total, runs);
        m->gpu_ms = median(gpu, runs);
        double ms = m->gpu_ms > 0.0 ? m->gpu_ms : m->total_ms;
        m->gmac_per_s = ms > 0.0 ? (double)stats.macs / (ms * 1.0e6) : 0.0;
        m->macs = stats.macs;
        m->tiles = stats.tiles;
        m->tile = stats.tile;
    }
    free(total);
    free(gpu);
    return st;
}

static qsr_status create_upscaler(const cli_session *s, const bench_options *o,
                                  qsr_precision precision, qsr_upscaler **out) {
    qsr_upscaler_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.tile = o->tile;
    desc.precision = precision;
    return qsr_upscaler_create(s->ctx, s->model, &desc, out);
}

/* The depths to measure: --depth alone, or every level of the model. */
static uint32_t bench_depths(const cli_session *s, const bench_options *o, uint32_t *depths) {
    if (o->model.depth) {
        depths[0] = o->model.depth;
        return 1;
    }
    for (uint32_t i = 0; i < s->info.depth_level_count; i++)
        depths[i] = s->info.depth_levels[i];
    return s->info.depth_level_count;
}

static double ratio(double a, double b) {
    return b > 0.0 ? a / b : 0.0;
}

static uint64_t body_weight_bytes(const qsr_model_info *in, uint32_t bits) {
    /* bits 3 is stored in 4-bit fields (docs/model-format.md). */
    uint64_t container = bits == 3 ? 4 : bits;
    uint64_t e = in->channels, weights = 2ull * in->blocks * e * e * 9ull;
    /* QuantSR-T: each Swin layer's qkv, proj, fc1, fc2 and each group's 3x3 conv. */
    if (in->arch == QSR_ARCH_QUANTSR_T)
        weights = in->blocks * (4 * e * e + 2 * e * in->mlp_hidden) + in->group_count * 9 * e * e;
    return (weights * container + 7) / 8;
}

static uint64_t peak_rss_bytes(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    return (uint64_t)usage.ru_maxrss * 1024u; /* Linux reports KiB */
}

/* The row of the full depth (every block), NULL if it was not measured. */
static const bench_row *full_depth_row(const cli_session *s, const bench_row *rows,
                                       uint32_t count) {
    for (uint32_t i = 0; i < count; i++)
        if (rows[i].depth == s->info.blocks) return &rows[i];
    return NULL;
}

/* A level's share of the full depth's device time and of its MACs run (quantized path): the
 * issue-10 proportionality check, a level's time against its share of the work. */
static void depth_shares(const bench_row *full, const bench_row *row, double *time_share,
                         double *mac_share) {
    *time_share = ratio(row->quantized.gpu_ms, full->quantized.gpu_ms);
    *mac_share =
        full->quantized.macs ? (double)row->quantized.macs / (double)full->quantized.macs : 0.0;
}

static void json_measure(cli_json *j, const char *key, const bench_measure *m) {
    cli_json_object(j, key);
    cli_json_number(j, "total_ms", m->total_ms);
    cli_json_number(j, "gpu_ms", m->gpu_ms);
    cli_json_number(j, "gmac_per_s", m->gmac_per_s);
    cli_json_uint(j, "tiles", m->tiles);
    cli_json_uint(j, "tile", m->tile);
    cli_json_close(j);
}

static void print_json(const cli_session *s, const bench_options *o, const char *device,
                       const bench_row *rows, uint32_t count, const bench_memory *memory) {
    int fp32 = memory->fp32_unavailable[0] == '\0';
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_string(&j, "model", s->model_path);
    cli_json_string(&j, "arch", cli_arch_name(s->info.arch));
    cli_json_uint(&j, "scale", s->info.scale);
    cli_json_uint(&j, "bits_w", s->info.bits_w);
    cli_json_uint(&j, "bits_a", s->info.bits_a);
    cli_json_string(&j, "device", device);
    cli_json_uint(&j, "width", o->width);
    cli_json_uint(&j, "height", o->height);
    cli_json_uint(&j, "runs", o->runs);
    cli_json_uint(&j, "warmup", BENCH_WARMUP);
    cli_json_array(&j, "results", 0);
    const bench_row *full = full_depth_row(s, rows, count);
    for (uint32_t i = 0; i < count; i++) {
        cli_json_object(&j, NULL);
        cli_json_uint(&j, "depth", rows[i].depth);
        cli_json_uint(&j, "macs_per_pixel", rows[i].macs_per_pixel);
        json_measure(&j, "quantized", &rows[i].quantized);
        if (full) {
            double time_share, mac_share;
            depth_shares(full, &rows[i], &time_share, &mac_share);
            cli_json_number(&j, "time_share", time_share);
            cli_json_number(&j, "mac_share", mac_share);
        }
        if (fp32) {
            json_measure(&j, "fp32", &rows[i].fp32);
            cli_json_number(&j, "ratio_gpu_ms",
                            ratio(rows[i].quantized.gpu_ms, rows[i].fp32.gpu_ms));
            cli_json_number(&j, "ratio_total_ms",
                            ratio(rows[i].quantized.total_ms, rows[i].fp32.total_ms));
        }
        cli_json_close(&j);
    }
    cli_json_close(&j);
    if (!fp32) cli_json_string(&j, "fp32_unavailable", memory->fp32_unavailable);
    cli_json_object(&j, "body_weight_bytes");
    cli_json_uint(&j, "quantized", body_weight_bytes(&s->info, s->info.bits_w));
    cli_json_uint(&j, "fp32", body_weight_bytes(&s->info, 32));
    cli_json_close(&j);
    cli_json_object(&j, "device_bytes");
    cli_json_uint(&j, "quantized", memory->quantized);
    if (fp32) cli_json_uint(&j, "fp32", memory->fp32);
    cli_json_close(&j);
    cli_json_uint(&j, "host_peak_rss_bytes", peak_rss_bytes());
    cli_json_end(&j);
}

static void print_measure_row(uint32_t depth, const char *path, const bench_measure *m) {
    printf("%5u  %-9s %10.2f %10.2f %10.2f %6u\n", depth, path, m->total_ms, m->gpu_ms,
           m->gmac_per_s, m->tiles);
}

static void print_text(const cli_session *s, const bench_options *o, const char *device,
                       const bench_row *rows, uint32_t count, const bench_memory *memory) {
    printf("model  %s (%s x%u, C%u B%u, W%u A%u)\n", s->model_path, cli_arch_name(s->info.arch),
           s->info.scale, s->info.channels, s->info.blocks, s->info.bits_w, s->info.bits_a);
    printf("on     %s\n", device);
    printf("input  %ux%u -> %ux%u; medians of %u runs after %u warm-up\n\n", o->width, o->height,
           o->width * s->info.scale, o->height * s->info.scale, o->runs, BENCH_WARMUP);
    printf("depth  path        total ms     gpu ms     GMAC/s  tiles\n");
    for (uint32_t i = 0; i < count; i++) {
        print_measure_row(rows[i].depth, "quantized", &rows[i].quantized);
        if (memory->fp32_unavailable[0]) continue;
        print_measure_row(rows[i].depth, "fp32", &rows[i].fp32);
        printf("       quantized / fp32: %.3f device time, %.3f wall time\n",
               ratio(rows[i].quantized.gpu_ms, rows[i].fp32.gpu_ms),
               ratio(rows[i].quantized.total_ms, rows[i].fp32.total_ms));
    }
    if (memory->fp32_unavailable[0]) printf("(no fp32 path: %s)\n", memory->fp32_unavailable);
    const bench_row *full = full_depth_row(s, rows, count);
    if (full && count > 1) {
        printf("\nquantized path, each level against the full depth:\n");
        for (uint32_t i = 0; i < count; i++) {
            double time_share, mac_share;
            depth_shares(full, &rows[i], &time_share, &mac_share);
            printf("%5u  %5.1f %% of the device time for %5.1f %% of the MACs run (%.2fx)\n",
                   rows[i].depth, 100.0 * time_share, 100.0 * mac_share,
                   ratio(time_share, mac_share));
        }
    }
    printf("\nbody weights: %llu bytes at %u bits, %llu at fp32; host peak RSS %.1f MiB\n",
           (unsigned long long)body_weight_bytes(&s->info, s->info.bits_w), s->info.bits_w,
           (unsigned long long)body_weight_bytes(&s->info, 32),
           (double)peak_rss_bytes() / (1024.0 * 1024.0));
    printf("device memory per upscaler (weights + activations, full depth): quantized %.2f MiB",
           (double)memory->quantized / (1024.0 * 1024.0));
    if (!memory->fp32_unavailable[0])
        printf(", fp32 %.2f MiB", (double)memory->fp32 / (1024.0 * 1024.0));
    printf("\n");
}

/* The device bytes a fresh upscaler of `precision` holds after one full-depth run: the
 * context's allocations before its creation and after the run, subtracted. */
static qsr_status upscaler_device_bytes(const cli_session *s, const bench_options *o,
                                        qsr_precision precision, const qsr_image *in,
                                        uint64_t *out) {
    qsr_memory_stats before, after;
    qsr_upscaler *up = NULL;
    qsr_image result = {0};
    qsr_status st = qsr_context_get_memory_stats(s->ctx, &before);
    if (st == QSR_OK) st = create_upscaler(s, o, precision, &up);
    if (st == QSR_OK) st = qsr_upscaler_run(up, in, 0, &result, NULL);
    if (st == QSR_OK) st = qsr_context_get_memory_stats(s->ctx, &after);
    if (st == QSR_OK) *out = after.device_bytes - before.device_bytes;
    qsr_image_free(&result);
    qsr_upscaler_destroy(up);
    return st;
}

static qsr_status measure_memory(const cli_session *s, const bench_options *o, const qsr_image *in,
                                 bench_memory *m) {
    qsr_status st = upscaler_device_bytes(s, o, QSR_PRECISION_DEFAULT, in, &m->quantized);
    if (st != QSR_OK || m->fp32_unavailable[0]) return st;
    return upscaler_device_bytes(s, o, QSR_PRECISION_FP32, in, &m->fp32);
}

/* --ops: one warm-up, then --runs profiled runs of the model's own path per depth (default
 * 1), each just after a measurement of the device's limits. Each op's GMAC/s is set beside
 * the limit of its form: the integer quad-word loop for quantized convolutions of conv3x3_q2
 * (2-bit), the pair-word loop for the other quantized ops, the fp32 loop for the rest. On a
 * shared machine both move with its load, so a run's fraction of the limit takes the limit
 * measured next to it, and the reported fraction is the median of the runs'. */
#define BENCH_MAX_OPS 32u

/* The profiled runs of one depth. */
typedef struct ops_runs {
    uint32_t runs, kinds;   /* profiled runs; kinds of op (the same in every run) */
    qsr_op_profile *ops;    /* [runs][BENCH_MAX_OPS] */
    qsr_device_peak *peaks; /* [runs]: measured just before each run */
    double *gpu_ms;         /* [runs]: the whole run's device time */
} ops_runs;

/* One kind of op (or the quantized ops together) over the runs. */
typedef struct ops_summary {
    const char *name;
    uint32_t dispatches;
    uint64_t macs;
    double gpu_ms, gmac_per_s, fraction_of_limit; /* median time; MACs / median time; median of
                                                     the runs' fractions (0: no MACs) */
} ops_summary;

static double gmacs(uint64_t macs, double ms) {
    return ms > 0 ? (double)macs / (ms * 1e6) : 0.0;
}

static int is_quantized_op(const qsr_op_profile *op) {
    return strstr(op->name, "(q)") != NULL;
}

static double op_limit(const qsr_op_profile *op, const qsr_device_peak *peak, const char *kernel) {
    if (!op->macs) return 0.0;
    if (!is_quantized_op(op)) return peak->fp32_gmacs;
    return strcmp(kernel, "conv3x3_q2") == 0 ? peak->int_quad_gmacs : peak->int_pair_gmacs;
}

/* Op `kind` of every run (kind == kinds: the quantized ops summed) into a summary; scratch
 * holds r->runs doubles. */
static ops_summary summarize(const ops_runs *r, uint32_t kind, const char *kernel,
                             double *scratch) {
    ops_summary out = {.name = kind < r->kinds ? r->ops[kind].name : "all quantized ops"};
    double *fractions = scratch;
    double *times = scratch + r->runs;
    for (uint32_t run = 0; run < r->runs; run++) {
        const qsr_op_profile *ops = r->ops + (size_t)run * BENCH_MAX_OPS;
        qsr_op_profile sum = {.name = out.name};
        double limit = 0.0;
        for (uint32_t i = 0; i < r->kinds; i++) {
            if (kind < r->kinds ? i != kind : !is_quantized_op(&ops[i])) continue;
            sum.dispatches += ops[i].dispatches;
            sum.gpu_ms += ops[i].gpu_ms;
            sum.macs += ops[i].macs;
            limit = op_limit(&ops[i], &r->peaks[run], kernel);
        }
        out.dispatches = sum.dispatches;
        out.macs = sum.macs;
        times[run] = sum.gpu_ms;
        fractions[run] = limit > 0 ? gmacs(sum.macs, sum.gpu_ms) / limit : 0.0;
    }
    out.gpu_ms = median(times, r->runs);
    out.gmac_per_s = gmacs(out.macs, out.gpu_ms);
    out.fraction_of_limit = median(fractions, r->runs);
    return out;
}

/* Field-wise medians of n measurements of the limits; scratch holds n doubles. */
static qsr_device_peak median_peak(const qsr_device_peak *peaks, uint32_t n, double *scratch) {
    static const size_t fields[] = {
        offsetof(qsr_device_peak, int_pair_gmacs), offsetof(qsr_device_peak, fp32_gmacs),
        offsetof(qsr_device_peak, texel_gfetches), offsetof(qsr_device_peak, buffer_gloads),
        offsetof(qsr_device_peak, int_quad_gmacs)};
    qsr_device_peak out;
    memset(&out, 0, sizeof out);
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        for (uint32_t i = 0; i < n; i++)
            memcpy(&scratch[i], (const char *)&peaks[i] + fields[f], sizeof(double));
        double m = median(scratch, n);
        memcpy((char *)&out + fields[f], &m, sizeof m);
    }
    return out;
}

/* The limits; `measurements` > 1: they are medians of that many. */
static void print_peak_text(const qsr_device_peak *p, size_t measurements) {
    char medians[64] = "";
    if (measurements > 1)
        snprintf(medians, sizeof medians, "; medians of %zu measurements", measurements);
    printf("device limits (shaders/peak.comp): integer pair-word MACs %.1f GMAC/s, quad-word "
           "MACs %.1f GMAC/s,\n  fp32 MACs %.1f GMAC/s, texel fetches %.2f G/s, storage-buffer "
           "loads %.2f G/s%s\n",
           p->int_pair_gmacs, p->int_quad_gmacs, p->fp32_gmacs, p->texel_gfetches, p->buffer_gloads,
           medians);
}

static void json_peak(cli_json *j, const qsr_device_peak *p) {
    cli_json_object(j, "peak");
    cli_json_number(j, "int_pair_gmac_per_s", p->int_pair_gmacs);
    cli_json_number(j, "int_quad_gmac_per_s", p->int_quad_gmacs);
    cli_json_number(j, "fp32_gmac_per_s", p->fp32_gmacs);
    cli_json_number(j, "texel_gfetch_per_s", p->texel_gfetches);
    cli_json_number(j, "buffer_gload_per_s", p->buffer_gloads);
    cli_json_close(j);
}

static void print_summary_text(const ops_summary *op, double gpu_ms) {
    printf("  %-22s %6u %10.2f %6.1f%% %9.2f", op->name, op->dispatches, op->gpu_ms,
           gpu_ms > 0 ? 100.0 * op->gpu_ms / gpu_ms : 0.0, op->gmac_per_s);
    if (op->fraction_of_limit > 0)
        printf(" %8.1f%%\n", 100.0 * op->fraction_of_limit);
    else
        printf("\n");
}

static void json_summary(cli_json *j, const char *key, const ops_summary *op) {
    cli_json_object(j, key);
    if (!key) cli_json_string(j, "name", op->name);
    cli_json_uint(j, "dispatches", op->dispatches);
    cli_json_number(j, "gpu_ms", op->gpu_ms);
    cli_json_uint(j, "macs", op->macs);
    cli_json_number(j, "gmac_per_s", op->gmac_per_s);
    cli_json_number(j, "fraction_of_limit", op->fraction_of_limit);
    cli_json_close(j);
}

/* One depth's profile: the median of the runs' device times, each kind of op, then the quantized
 * ops together (where there are any). */
static void report_ops(cli_json *j, uint32_t depth, const ops_runs *r, const char *kernel,
                       double *scratch) {
    for (uint32_t run = 0; run < r->runs; run++)
        scratch[run] = r->gpu_ms[run];
    double gpu_ms = median(scratch, r->runs);
    int any_quantized = 0;
    for (uint32_t i = 0; i < r->kinds; i++)
        any_quantized |= is_quantized_op(&r->ops[i]);
    ops_summary quantized = summarize(r, r->kinds, kernel, scratch);
    if (j) {
        cli_json_object(j, NULL);
        cli_json_uint(j, "depth", depth);
        cli_json_uint(j, "runs", r->runs);
        cli_json_number(j, "gpu_ms", gpu_ms);
        cli_json_array(j, "ops", 0);
        for (uint32_t i = 0; i < r->kinds; i++) {
            ops_summary op = summarize(r, i, kernel, scratch);
            json_summary(j, NULL, &op);
        }
        cli_json_close(j);
        if (any_quantized) json_summary(j, "quantized", &quantized);
        qsr_device_peak peak = median_peak(r->peaks, r->runs, scratch);
        json_peak(j, &peak);
        cli_json_close(j);
        return;
    }
    printf("depth %u: device time %.2f ms%s\n", depth, gpu_ms, r->runs > 1 ? " (median)" : "");
    printf("  %-22s %6s %10s %7s %9s %9s\n", "op", "count", "ms", "share", "GMAC/s", "of limit");
    for (uint32_t i = 0; i < r->kinds; i++) {
        ops_summary op = summarize(r, i, kernel, scratch);
        print_summary_text(&op, gpu_ms);
    }
    if (any_quantized) print_summary_text(&quantized, gpu_ms);
}

/* A warm-up, then r->runs times: the limits, then a profiled run at `depth`. */
static qsr_status profile_depth(cli_session *s, const qsr_image *in, uint32_t depth, ops_runs *r) {
    qsr_image out;
    qsr_status st = qsr_upscaler_run(s->up, in, depth, &out, NULL);
    if (st != QSR_OK) return st;
    qsr_image_free(&out);
    for (uint32_t run = 0; run < r->runs && st == QSR_OK; run++) {
        qsr_run_stats stats;
        st = qsr_context_measure_peak(s->ctx, &r->peaks[run]);
        if (st == QSR_OK) st = qsr_upscaler_set_profiling(s->up, 1);
        if (st == QSR_OK) st = qsr_upscaler_run(s->up, in, depth, &out, &stats);
        if (st != QSR_OK) break;
        qsr_image_free(&out);
        qsr_op_profile *ops = r->ops + (size_t)run * BENCH_MAX_OPS;
        uint32_t kinds = qsr_upscaler_get_profile(s->up, ops, BENCH_MAX_OPS);
        r->kinds = kinds < BENCH_MAX_OPS ? kinds : BENCH_MAX_OPS;
        r->gpu_ms[run] = stats.gpu_ms;
        qsr_upscaler_set_profiling(s->up, 0);
    }
    return st;
}

static int run_ops(cli_session *s, const bench_options *o) {
    qsr_image in;
    uint32_t depths[QSR_MAX_DEPTH_LEVELS];
    uint32_t count = bench_depths(s, o, depths);
    if (synthetic_image(o->width, o->height, &in) != QSR_OK)
        return cli_fail("cannot make a %ux%u input", o->width, o->height);
    qsr_device_info info;
    const char *device =
        qsr_context_get_device_info(s->ctx, &info) == QSR_OK ? info.name : "unknown";
    const char *kernel = qsr_upscaler_kernel_name(s->up);
    size_t measurements = (size_t)count * o->runs;
    ops_runs r = {.runs = o->runs,
                  .ops = calloc((size_t)o->runs * BENCH_MAX_OPS, sizeof *r.ops),
                  .peaks = calloc(measurements, sizeof *r.peaks),
                  .gpu_ms = calloc(o->runs, sizeof *r.gpu_ms)};
    double *scratch = calloc(measurements + o->runs, 2 * sizeof *scratch);
    if (!r.ops || !r.peaks || !r.gpu_ms || !scratch) {
        free(r.ops);
        free(r.peaks);
        free(r.gpu_ms);
        free(scratch);
        qsr_image_free(&in);
        return cli_fail("out of memory");
    }
    qsr_device_peak *all_peaks = r.peaks;
    cli_json j;
    if (o->json) {
        cli_json_begin(&j, stdout);
        cli_json_string(&j, "model", s->model_path);
        cli_json_string(&j, "device", device);
        cli_json_string(&j, "kernel", kernel);
        cli_json_uint(&j, "width", o->width);
        cli_json_uint(&j, "height", o->height);
        cli_json_uint(&j, "runs", o->runs);
        cli_json_array(&j, "profiles", 0);
    } else {
        printf("model  %s (x%u, C%u B%u, W%u A%u) on %s, input %ux%u, body kernel %s\n",
               s->model_path, s->info.scale, s->info.channels, s->info.blocks, s->info.bits_w,
               s->info.bits_a, device, o->width, o->height, kernel);
        if (o->runs > 1)
            printf("%u profiled runs per depth: medians; of limit: the median of each run's "
                   "GMAC/s over the limits measured just before it\n",
                   o->runs);
    }
    int code = CLI_EXIT_OK;
    for (uint32_t i = 0; i < count; i++) {
        r.peaks = all_peaks + (size_t)i * o->runs;
        if (profile_depth(s, &in, depths[i], &r) != QSR_OK) {
            code = cli_fail("profiled run at depth %u", depths[i]);
            break;
        }
        report_ops(o->json ? &j : NULL, depths[i], &r, kernel, scratch);
    }
    qsr_device_peak peak;
    if (code == CLI_EXIT_OK) peak = median_peak(all_peaks, (uint32_t)measurements, scratch);
    if (o->json) {
        cli_json_close(&j);
        if (code == CLI_EXIT_OK) json_peak(&j, &peak);
        cli_json_end(&j);
    } else if (code == CLI_EXIT_OK) {
        print_peak_text(&peak, measurements);
    }
    free(r.ops);
    free(all_peaks);
    free(r.gpu_ms);
    free(scratch);
    qsr_image_free(&in);
    return code;
}

/* --peak: the device's limits only. */
static int run_peak(cli_session *s, const bench_options *o) {
    qsr_device_peak peak;
    if (qsr_context_measure_peak(s->ctx, &peak) != QSR_OK)
        return cli_fail("cannot measure the device's limits");
    qsr_device_info info;
    const char *device =
        qsr_context_get_device_info(s->ctx, &info) == QSR_OK ? info.name : "unknown";
    if (o->json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_string(&j, "device", device);
        json_peak(&j, &peak);
        cli_json_end(&j);
    } else {
        printf("on     %s\n", device);
        print_peak_text(&peak, 1);
    }
    return CLI_EXIT_OK;
}

/* Measures every depth on both paths; returns an exit code. */
static int run_bench(cli_session *s, const bench_options *o) {
    qsr_upscaler *fp32 = NULL;
    qsr_image in;
    bench_row rows[QSR_MAX_DEPTH_LEVELS];
    uint32_t depths[QSR_MAX_DEPTH_LEVELS];
    uint32_t count = bench_depths(s, o, depths);
    bench_memory memory;
    memset(&memory, 0, sizeof memory);
    qsr_status st = create_upscaler(s, o, QSR_PRECISION_FP32, &fp32);
    if (st == QSR_ERROR_UNSUPPORTED)
        snprintf(memory.fp32_unavailable, sizeof memory.fp32_unavailable, "%s", qsr_last_error());
    else if (st != QSR_OK)
        return cli_fail("cannot prepare the FP32 path of '%s'", s->model_path);
    if (synthetic_image(o->width, o->height, &in) != QSR_OK) {
        qsr_upscaler_destroy(fp32);
        return cli_fail("cannot make a %ux%u input", o->width, o->height);
    }
    int code = CLI_EXIT_OK;
    if (measure_memory(s, o, &in, &memory) != QSR_OK)
        code = cli_fail("cannot measure the device memory of '%s'", s->model_path);
    for (uint32_t i = 0; i < count && code == CLI_EXIT_OK; i++) {
        rows[i].depth = depths[i];
        rows[i].macs_per_pixel = qsr_model_macs_per_pixel(s->model, depths[i]);
        memset(&rows[i].fp32, 0, sizeof rows[i].fp32);
        if (measure(s->up, &in, depths[i], o->runs, &rows[i].quantized) != QSR_OK ||
            (fp32 && measure(fp32, &in, depths[i], o->runs, &rows[i].fp32) != QSR_OK))
            code = cli_fail("benchmark at depth %u", depths[i]);
    }
    if (code == CLI_EXIT_OK) {
        qsr_device_info info;
        const char *device =
            qsr_context_get_device_info(s->ctx, &info) == QSR_OK ? info.name : "unknown";
        if (o->json)
            print_json(s, o, device, rows, count, &memory);
        else
            print_text(s, o, device, rows, count, &memory);
    }
    qsr_image_free(&in);
    qsr_upscaler_destroy(fp32);
    return code;
}

/* Was --runs on the command line? (--batch has its own default.) */
static int runs_given(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--runs") == 0 || strncmp(argv[i], "--runs=", 7) == 0) return 1;
    return 0;
}

/* --batch, -j and --compare against the other modes. Returns an exit code. */
static int check_batch_options(bench_options *o, const cli_command_spec *spec) {
    if (!o->batch) {
        if (o->jobs_text || o->compare)
            return cli_usage_error(spec, "-j and --compare go with --batch DIR");
        return CLI_EXIT_OK;
    }
    if (o->ops || o->peak || o->size)
        return cli_usage_error(spec, "--batch DIR times its images; do not give --ops, --peak "
                                     "or --size");
    char why[256];
    if (!cli_pipeline_parse_jobs(o->jobs_text ? o->jobs_text : CLI_PIPELINE_DEFAULT_JOBS, &o->jobs,
                                 why, sizeof why))
        return cli_usage_error(spec, "%s", why);
    return CLI_EXIT_OK;
}

/* ---- --batch DIR ---- */

/* One image of a pass. */
typedef struct bench_job {
    qsr_image in, out;
    double gpu_ms;
    int failed;
    cli_text messages; /* why it failed */
} bench_job;

/* One pass over the folder. */
typedef struct batch_pass {
    const cli_session *s;
    const bench_options *o;
    const cli_file_list *list;
    const char *temp_dir;
    bench_job *jobs;
    int print_failures; /* the first pass says why images fail; the others only count them */
    size_t saved, failed;
    double gpu_ms;
} batch_pass;

/* Medians over the passes of one -j. */
typedef struct batch_result {
    cli_pipeline_jobs jobs;
    double images_per_s, wall_ms, load_ms, upscale_ms, save_ms, gpu_ms;
    size_t failed;
} batch_result;

static void bench_job_failed(batch_pass *b, size_t k, const char *what) {
    b->jobs[k].failed = 1;
    cli_text_fail(&b->jobs[k].messages, "%s: %s", b->list->names[k], what);
}

static int load_bench_job(void *user, size_t k) {
    batch_pass *b = (batch_pass *)user;
    char path[CLI_PATH_MAX];
    if (!cli_join_path(path, sizeof path, b->o->batch, b->list->names[k])) {
        b->jobs[k].failed = 1;
        cli_text_error(&b->jobs[k].messages, "%s: path too long", b->list->names[k]);
        return 0;
    }
    if (qsr_image_load_file(path, 0, &b->jobs[k].in) == QSR_OK) return 1;
    bench_job_failed(b, k, "cannot read");
    return 0;
}

static int upscale_bench_job(cli_pipeline *p, void *user, size_t k) {
    (void)p;
    batch_pass *b = (batch_pass *)user;
    bench_job *job = &b->jobs[k];
    qsr_run_stats stats = {.tiles = 0};
    qsr_status st = qsr_upscaler_run(b->s->up, &job->in, b->o->model.depth, &job->out, &stats);
    qsr_image_free(&job->in);
    if (st != QSR_OK) {
        bench_job_failed(b, k, "cannot upscale");
        return 0;
    }
    job->gpu_ms = stats.gpu_ms;
    return 1;
}

/* Encodes and writes <temp>/<k>.png as `upscale` would, then deletes it. */
static void save_bench_job(void *user, size_t k) {
    batch_pass *b = (batch_pass *)user;
    bench_job *job = &b->jobs[k];
    char name[32], path[CLI_PATH_MAX];
    snprintf(name, sizeof name, "%zu.png", k);
    if (!cli_join_path(path, sizeof path, b->temp_dir, name)) {
        job->failed = 1;
        cli_text_error(&job->messages, "%s: path too long", b->list->names[k]);
    } else if (qsr_image_save_file(path, &job->out, 0) != QSR_OK) {
        bench_job_failed(b, k, "cannot write");
    } else if (cli_remove_file(path) != 0) {
        job->failed = 1;
    }
    qsr_image_free(&job->out);
}

static void report_bench_job(void *user, size_t k) {
    batch_pass *b = (batch_pass *)user;
    bench_job *job = &b->jobs[k];
    if (job->failed) {
        b->failed++;
        if (b->print_failures) cli_text_flush(&job->messages);
    } else {
        b->saved++;
        b->gpu_ms += job->gpu_ms;
    }
    cli_text_free(&job->messages);
}

/* One pass with `jobs`; its figures go to r (per image). 0, or -1 if the pass could not run. */
static int run_batch_pass(batch_pass *b, const cli_pipeline_jobs *jobs, batch_result *r) {
    size_t count = b->list->count;
    memset(b->jobs, 0, count * sizeof *b->jobs);
    b->saved = b->failed = 0;
    b->gpu_ms = 0.0;
    const cli_pipeline_stages stages = {b, load_bench_job, upscale_bench_job, save_bench_job,
                                        report_bench_job};
    cli_pipeline_stats stats;
    int status = cli_pipeline_run(jobs, count, &stages, &stats);
    for (size_t k = 0; k < count; k++) { /* what a stopped pass left */
        qsr_image_free(&b->jobs[k].in);
        qsr_image_free(&b->jobs[k].out);
        cli_text_free(&b->jobs[k].messages);
    }
    if (status != 0) return -1;
    double per_image = stats.reported ? 1.0 / (double)stats.reported : 0.0;
    r->jobs = *jobs;
    r->wall_ms = stats.wall_ms;
    r->images_per_s = stats.wall_ms > 0.0 ? (double)b->saved * 1000.0 / stats.wall_ms : 0.0;
    r->load_ms = stats.load_ms * per_image;
    r->upscale_ms = stats.process_ms * per_image;
    r->save_ms = stats.save_ms * per_image;
    r->gpu_ms = b->saved ? b->gpu_ms / (double)b->saved : 0.0;
    r->failed = b->failed;
    return 0;
}

/* Field-wise medians of the passes into out (failed: the most of any pass). */
static void median_result(const batch_result *passes, uint32_t n, batch_result *out) {
    double *values = calloc(n, sizeof *values);
    *out = passes[0];
    for (uint32_t i = 1; i < n; i++)
        if (passes[i].failed > out->failed) out->failed = passes[i].failed;
    if (values == NULL) return; /* the first pass's times stand in */
    size_t offsets[] = {offsetof(batch_result, images_per_s), offsetof(batch_result, wall_ms),
                        offsetof(batch_result, load_ms),      offsetof(batch_result, upscale_ms),
                        offsetof(batch_result, save_ms),      offsetof(batch_result, gpu_ms)};
    for (size_t f = 0; f < sizeof offsets / sizeof offsets[0]; f++) {
        for (uint32_t i = 0; i < n; i++)
            memcpy(&values[i], (const char *)&passes[i] + offsets[f], sizeof values[i]);
        double m = median(values, n);
        memcpy((char *)out + offsets[f], &m, sizeof m);
    }
    free(values);
}

static void format_jobs(const cli_pipeline_jobs *jobs, char *buf, size_t cap) {
    snprintf(buf, cap, "%u:%u:%u", jobs->load, jobs->proc, jobs->save);
}

static void json_batch_result(cli_json *j, const char *key, const batch_result *r) {
    char jobs[48];
    format_jobs(&r->jobs, jobs, sizeof jobs);
    cli_json_object(j, key);
    cli_json_string(j, "jobs", jobs);
    cli_json_number(j, "images_per_s", r->images_per_s);
    cli_json_number(j, "wall_ms", r->wall_ms);
    cli_json_number(j, "load_ms", r->load_ms);
    cli_json_number(j, "upscale_ms", r->upscale_ms);
    cli_json_number(j, "save_ms", r->save_ms);
    cli_json_number(j, "gpu_ms", r->gpu_ms);
    cli_json_uint(j, "failed", r->failed);
    cli_json_close(j);
}

static void print_batch_row(const char *what, const batch_result *r) {
    char jobs[48];
    format_jobs(&r->jobs, jobs, sizeof jobs);
    printf("%-10s %-7s %9.3f %10.1f %10.1f %10.1f %10.1f %10.1f\n", what, jobs, r->images_per_s,
           r->wall_ms, r->load_ms, r->upscale_ms, r->save_ms, r->gpu_ms);
}

static void print_batch(const cli_session *s, const bench_options *o, const char *device,
                        size_t images, const batch_result *serial, const batch_result *pipelined) {
    if (o->json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_string(&j, "model", s->model_path);
        cli_json_string(&j, "device", device);
        cli_json_string(&j, "batch", o->batch);
        cli_json_uint(&j, "images", images);
        cli_json_uint(&j, "runs", o->runs);
        json_batch_result(&j, "pipelined", pipelined);
        if (serial) {
            json_batch_result(&j, "serial", serial);
            cli_json_number(&j, "speedup", ratio(pipelined->images_per_s, serial->images_per_s));
        }
        cli_json_end(&j);
        return;
    }
    printf("model  %s (%s x%u, C%u B%u, W%u A%u)\n", s->model_path, cli_arch_name(s->info.arch),
           s->info.scale, s->info.channels, s->info.blocks, s->info.bits_w, s->info.bits_a);
    printf("on     %s\n", device);
    printf("batch  %s: %zu images, decode + upscale + PNG encode and write; medians of %u "
           "pass%s\n\n",
           o->batch, images, o->runs, o->runs == 1 ? "" : "es");
    printf("%-10s %-7s %9s %10s %10s %10s %10s %10s\n", "", "-j", "images/s", "wall ms",
           "decode ms", "upscale ms", "encode ms", "gpu ms");
    if (serial) print_batch_row("serial", serial);
    print_batch_row("pipelined", pipelined);
    printf("(stage times are per image; overlapped stages add up to more than the wall time)\n");
    if (serial)
        printf("pipelined / serial: %.3f images/s in the same run\n",
               ratio(pipelined->images_per_s, serial->images_per_s));
    if (pipelined->failed)
        printf("%zu of %zu images failed in each pass (see above)\n", pipelined->failed, images);
}

/* One upscale of the first image that decodes: the driver compiles its pipelines on first use,
 * which no pass should pay. */
static int warm_up(const cli_session *s, const bench_options *o, const cli_file_list *list) {
    for (size_t k = 0; k < list->count; k++) {
        char path[CLI_PATH_MAX];
        qsr_image in, out;
        if (!cli_join_path(path, sizeof path, o->batch, list->names[k]) ||
            qsr_image_load_file(path, 0, &in) != QSR_OK)
            continue;
        qsr_status st = qsr_upscaler_run(s->up, &in, o->model.depth, &out, NULL);
        qsr_image_free(&in);
        if (st != QSR_OK) return cli_fail("warm-up upscale of '%s'", path);
        qsr_image_free(&out);
        return CLI_EXIT_OK;
    }
    cli_error("no image of '%s' decodes", o->batch);
    return CLI_EXIT_FAILURE;
}

/* The passes, serial and pipelined alternating, into the arrays (o->runs each). */
static int run_batch_passes(batch_pass *b, const bench_options *o, batch_result *serial,
                            batch_result *pipelined) {
    const cli_pipeline_jobs one_at_a_time = {0, 1, 0};
    for (uint32_t i = 0; i < o->runs; i++) {
        b->print_failures = i == 0;
        if (o->compare && run_batch_pass(b, &one_at_a_time, &serial[i]) != 0)
            return CLI_EXIT_FAILURE;
        b->print_failures = i == 0 && !o->compare;
        if (run_batch_pass(b, &o->jobs, &pipelined[i]) != 0) return CLI_EXIT_FAILURE;
        if (cli_interrupt_signal()) {
            cli_error("interrupted by %s; the temporary files are removed",
                      cli_interrupt_name(cli_interrupt_signal()));
            return cli_interrupt_exit_code(cli_interrupt_signal());
        }
    }
    return CLI_EXIT_OK;
}

/* The passes in a fresh temporary folder, removed afterwards. Returns an exit code. */
static int time_batch(const cli_session *s, const bench_options *o, const cli_file_list *list,
                      bench_job *jobs, batch_result *serial, batch_result *pipelined) {
    char temp_dir[CLI_PATH_MAX];
    if (cli_make_temp_directory("quantsr-bench", temp_dir, sizeof temp_dir) != 0)
        return CLI_EXIT_FAILURE;
    batch_pass b = {s, o, list, temp_dir, jobs, 0, 0, 0, 0.0};
    /* Ctrl-C ends a pass as it ends an upscale batch; the folder is removed all the same. */
    cli_interrupt_install();
    int code = run_batch_passes(&b, o, serial, pipelined);
    if (cli_remove_empty_directory(temp_dir) != 0 && code == CLI_EXIT_OK) code = CLI_EXIT_FAILURE;
    return code;
}

static int run_batch_bench(cli_session *s, const bench_options *o) {
    cli_file_list list;
    if (cli_list_images(o->batch, &list) != 0) return CLI_EXIT_FAILURE;
    if (list.count == 0) {
        cli_file_list_free(&list);
        cli_error("no images (.png, .jpg, .jpeg, .bmp, .tga) in '%s'", o->batch);
        return CLI_EXIT_FAILURE;
    }
    bench_job *jobs = calloc(list.count, sizeof *jobs);
    batch_result *results = calloc(2u * o->runs, sizeof *results);
    int code = CLI_EXIT_OK;
    if (jobs == NULL || results == NULL) {
        cli_error("out of memory for %zu images", list.count);
        code = CLI_EXIT_FAILURE;
    }
    if (code == CLI_EXIT_OK) code = warm_up(s, o, &list);
    if (code == CLI_EXIT_OK) code = time_batch(s, o, &list, jobs, results, results + o->runs);
    if (code == CLI_EXIT_OK) {
        batch_result serial, pipelined;
        if (o->compare) median_result(results, o->runs, &serial);
        median_result(results + o->runs, o->runs, &pipelined);
        qsr_device_info info;
        const char *device =
            qsr_context_get_device_info(s->ctx, &info) == QSR_OK ? info.name : "unknown";
        print_batch(s, o, device, list.count, o->compare ? &serial : NULL, &pipelined);
        if (pipelined.failed || (o->compare && serial.failed)) code = CLI_EXIT_FAILURE;
    }
    free(results);
    free(jobs);
    cli_file_list_free(&list);
    return code;
}

int cmd_bench(int argc, char **argv) {
    bench_options o;
    memset(&o, 0, sizeof o);
    o.runs = 5;
    const cli_option options[] = {
        {'m', "model", CLI_ARG_STRING, &o.model.path, "MODEL", "model file (.qsr)"},
        {'n', "model-name", CLI_ARG_STRING, &o.model.name, "NAME",
         "model file name under models/ (.qsr optional)"},
        {0, "size", CLI_ARG_STRING, &o.size, "WxH", "input size (default 256x256)"},
        {0, "runs", CLI_ARG_U32, &o.runs, "N",
         "timed runs per measurement (default 5; --ops, --batch: 1)"},
        {0, "depth", CLI_ARG_U32, &o.model.depth, "D", "only this depth (default: every level)"},
        {0, "depth-any", CLI_ARG_FLAG, &o.model.depth_any, NULL,
         "accept any --depth from 1 to the block count"},
        {0, "arch", CLI_ARG_STRING, &o.arch, "c|t",
         "no model file: a random-weight QuantSR-C or QuantSR-T of the shape below"},
        {0, "channels", CLI_ARG_U32, &o.channels, "C",
         "--arch: feature channels (default 64; t: 60)"},
        {0, "blocks", CLI_ARG_U32, &o.blocks, "B",
         "--arch: residual blocks (default 32; t: Swin layers, 24)"},
        {0, "scale", CLI_ARG_U32, &o.scale, "S", "--arch: 2, 3 or 4 (default 4)"},
        {0, "bits", CLI_ARG_U32, &o.bits, "N",
         "--arch: weight and activation bits, 2, 3 or 4, or 32 (default 4)"},
        {'t', "tile", CLI_ARG_U32, &o.tile, "N", "tile edge in input pixels (0 = automatic)"},
        {'g', "device", CLI_ARG_U32, &o.device, "N", "Vulkan device (0 = automatic)"},
        {0, "ops", CLI_ARG_FLAG, &o.ops, NULL,
         "per-op device time, GMAC/s and fraction of the device's limits of the model's own "
         "path (medians of --runs profiled runs)"},
        {0, "peak", CLI_ARG_FLAG, &o.peak, NULL,
         "the device's microkernel limits (integer and fp32 MACs, fetches) only"},
        {0, "batch", CLI_ARG_STRING, &o.batch, "DIR",
         "the upscale pipeline over the images of DIR (PNG outputs written, then deleted)"},
        {'j', "jobs", CLI_ARG_STRING, &o.jobs_text, "L:P:S",
         "--batch: threads that decode : upscale : encode (default " CLI_PIPELINE_DEFAULT_JOBS ")"},
        {0, "compare", CLI_ARG_FLAG, &o.compare, NULL,
         "--batch: also time -j 0:1:0 (one image at a time) in the same run"},
        {0, "json", CLI_ARG_FLAG, &o.json, NULL, "print one JSON object"},
    };
    const cli_command_spec spec = {
        "bench",
        "[-m MODEL | --arch c|t [--channels C] [--blocks B] [--scale S] [--bits N]] [--size WxH]\n"
        "              [--runs N] [--depth D] [--ops | --peak | --batch DIR [-j L:P:S] "
        "[--compare]] [--json]",
        "Upscales a synthetic image N times per depth level with the model's own (quantized)\n"
        "path and with the FP32 path, on the same device, and reports the median wall and\n"
        "device times, GMAC/s and the quantized/FP32 time ratio. With --batch, runs the\n"
        "`upscale` folder pipeline over DIR --runs times (default 1) and reports images/s and\n"
        "the time per image of each stage.",
        options,
        sizeof options / sizeof options[0],
        NULL,
    };
    cli_parse_result r = cli_parse_args(&spec, argc, argv);
    if (r != CLI_PARSE_OK) return r == CLI_PARSE_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    int code = CLI_EXIT_OK;
    o.width = o.height = 256;
    if (o.size && !parse_size(o.size, &o.width, &o.height))
        return cli_usage_error(&spec, "--size takes WxH (e.g. 256x256), not '%s'", o.size);
    if ((o.batch || o.ops) && !runs_given(argc, argv)) o.runs = 1;
    if (o.runs == 0 || o.runs > 10000)
        return cli_usage_error(&spec, "--runs takes 1 to 10000, not %u", o.runs);
    if (o.device > INT32_MAX) return cli_usage_error(&spec, "-g %u is too large", o.device);
    if (o.arch) {
        int t = strcmp(o.arch, "t") == 0;
        if (!t && strcmp(o.arch, "c") != 0)
            return cli_usage_error(&spec, "--arch takes c (QuantSR-C) or t (QuantSR-T), not '%s'",
                                   o.arch);
        if (o.model.path || o.model.name)
            return cli_usage_error(&spec, "--arch makes its own model; do not give -m or -n");
        /* Defaults: the paper's sizes (QuantSR-C: EDSR 64 x 32; QuantSR-T: SwinIR-light,
         * E 60 in 4 groups of 6 layers with 6 heads). */
        o.random = (qsr_random_model_desc){.scale = o.scale ? o.scale : 4,
                                           .channels = o.channels ? o.channels
                                                       : t        ? 60
                                                                  : 64,
                                           .blocks = o.blocks ? o.blocks
                                                     : t      ? 24
                                                              : 32,
                                           .bits_w = o.bits ? o.bits : 4,
                                           .bits_a = o.bits ? o.bits : 4,
                                           .seed = 1,
                                           .arch = t ? QSR_ARCH_QUANTSR_T : QSR_ARCH_QUANTSR_C};
        if (t) {
            o.random.heads = o.random.channels % 6 == 0 ? 6 : 0;
            o.random.group_count = o.random.blocks % 4 == 0 ? 4 : 0;
        }
        if (o.random.scale < 2 || o.random.scale > 4 || o.random.channels > 256 ||
            o.random.blocks > QSR_MAX_BLOCKS ||
            !(o.random.bits_w == 32 || (o.random.bits_w >= 2 && o.random.bits_w <= 4)))
            return cli_usage_error(&spec,
                                   "--arch: --scale 2..4, --channels 1..256, --blocks 1..%u, "
                                   "--bits 2..4 or 32",
                                   QSR_MAX_BLOCKS);
        o.model.random = &o.random;
    } else if (o.channels || o.blocks || o.scale || o.bits) {
        return cli_usage_error(&spec, "--channels, --blocks, --scale and --bits go with --arch");
    }
    code = check_batch_options(&o, &spec);
    if (code != CLI_EXIT_OK) return code;
    if (cli_parse_only) return CLI_EXIT_OK;
    cli_session s;
    code = cli_session_load_model(&s, &o.model);
    if (code != CLI_EXIT_OK) return code;
    code = cli_session_open_device(&s, (int32_t)o.device, o.tile, QSR_PRECISION_DEFAULT);
    if (code == CLI_EXIT_OK)
        code = o.peak    ? run_peak(&s, &o)
               : o.ops   ? run_ops(&s, &o)
               : o.batch ? run_batch_bench(&s, &o)
                         : run_bench(&s, &o);
    if (cli_session_check_validation(&s) != CLI_EXIT_OK) code = CLI_EXIT_FAILURE;
    cli_session_close(&s);
    return code;
}
