/* cmd_eval.c - `quantsr eval`: super-resolution quality on a folder of HR images, measured the
 * way the SR literature does: HR mod-cropped to a multiple of the scale, LR made by MATLAB
 * bicubic downscaling, Y-channel PSNR / SSIM with `scale` border pixels ignored, averaged over
 * the images. A bicubic upscale of the same LR is measured alongside as the baseline.
 *
 * JSON keys (for docs/cli.md):
 *   model           string   the model file
 *   arch            string   "QuantSR-C"
 *   scale           int
 *   depth           int      blocks run (the block count when --depth is 0 or absent)
 *   bits_w, bits_a  int      32 = unquantized
 *   backend         string   "gpu" or "cpu-reference" (--cpu)
 *   device          string   Vulkan device name, or "cpu-reference"
 *   precision       string   "default" or "fp32" (--fp32)
 *   fp_math         string   "fast" or "reference" (--fp-math; "reference" with --cpu)
 *   ensemble        bool     -x
 *   hr_dir          string
 *   images          int      images measured
 *   failed          int      images that could not be measured (exit status 1 if any)
 *   psnr_y, ssim_y                   number  means over the images, super-resolved
 *   bicubic_psnr_y, bicubic_ssim_y   number  means over the images, bicubic baseline
 *   per_image       [{name, psnr_y, ssim_y, bicubic_psnr_y, bicubic_ssim_y}]
 *   gpu_ms          number   device time of every upscale summed (0 with --cpu)
 *   total_ms        number   wall time of every upscale summed
 * A PSNR of identical images is infinite and written as null.
 */
#include "args.h"
#include "cli.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

typedef struct eval_options {
    cli_model_options model;
    const char *hr_dir;
    uint32_t limit, tile, device;
    int json, ensemble, cpu, fp32;
    const char *fp_math_text; /* --fp-math */
    qsr_fp_math fp_math;
} eval_options;

typedef struct image_score {
    const char *name;
    double psnr, ssim, bicubic_psnr, bicubic_ssim;
} image_score;

typedef struct eval_totals {
    size_t measured, failed;
    double psnr, ssim, bicubic_psnr, bicubic_ssim; /* sums over the measured images */
    double gpu_ms, total_ms;
} eval_totals;

/* The top-left (w - w % s) x (h - h % s) of hr as RGB (alpha dropped), as BasicSR's mod_crop.
 * hr is at least scale x scale. */
static qsr_status mod_crop_rgb(const qsr_image *hr, uint32_t scale, qsr_image *out) {
    uint32_t w = hr->width - hr->width % scale, h = hr->height - hr->height % scale;
    qsr_status st = qsr_image_create(w, h, 3, out);
    if (st != QSR_OK) return st;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            memcpy(out->pixels + ((size_t)y * w + x) * 3,
                   hr->pixels + ((size_t)y * hr->width + x) * hr->channels, 3);
    return QSR_OK;
}

typedef struct eval_images {
    qsr_image hr, lr, sr, bicubic;
} eval_images;

static void free_eval_images(eval_images *im) {
    qsr_image_free(&im->hr);
    qsr_image_free(&im->lr);
    qsr_image_free(&im->sr);
    qsr_image_free(&im->bicubic);
}

/* Makes HR (cropped), LR, SR and the bicubic baseline. On failure *step names what failed. */
static qsr_status make_images(cli_session *s, const eval_options *o, const char *path,
                              eval_images *im, qsr_run_stats *stats, const char **step) {
    uint32_t scale = s->info.scale;
    qsr_image loaded;
    *step = "cannot read";
    qsr_status st = qsr_image_load_file(path, 0, &loaded);
    if (st != QSR_OK) return st;
    if (loaded.width < scale || loaded.height < scale) {
        qsr_image_free(&loaded);
        *step = "image smaller than the scale";
        return QSR_ERROR_INVALID_ARGUMENT;
    }
    *step = "cannot crop";
    st = mod_crop_rgb(&loaded, scale, &im->hr);
    qsr_image_free(&loaded);
    if (st != QSR_OK) return st;
    *step = "cannot downscale";
    st = qsr_image_resize_bicubic(&im->hr, im->hr.width / scale, im->hr.height / scale, &im->lr);
    if (st != QSR_OK) return st;
    *step = "cannot upscale";
    st = cli_session_upscale(s, &im->lr, o->model.depth, o->ensemble, &im->sr, stats);
    if (st != QSR_OK) return st;
    *step = "cannot make the bicubic baseline";
    return qsr_image_resize_bicubic(&im->lr, im->hr.width, im->hr.height, &im->bicubic);
}

static qsr_status measure(const eval_images *im, uint32_t border, image_score *score,
                          const char **step) {
    *step = "cannot measure";
    qsr_status st = qsr_image_psnr_y(&im->sr, &im->hr, border, &score->psnr);
    if (st == QSR_OK) st = qsr_image_ssim_y(&im->sr, &im->hr, border, &score->ssim);
    if (st == QSR_OK) st = qsr_image_psnr_y(&im->bicubic, &im->hr, border, &score->bicubic_psnr);
    if (st == QSR_OK) st = qsr_image_ssim_y(&im->bicubic, &im->hr, border, &score->bicubic_ssim);
    return st;
}

/* Measures one image into score; returns 0 on success (the failure is printed). */
static int evaluate_image(cli_session *s, const eval_options *o, const char *path,
                          image_score *score, eval_totals *totals) {
    eval_images im;
    memset(&im, 0, sizeof im);
    qsr_run_stats stats = {.tiles = 0};
    const char *step = "";
    qsr_status st = make_images(s, o, path, &im, &stats, &step);
    if (st == QSR_OK) st = measure(&im, s->info.scale, score, &step);
    free_eval_images(&im);
    if (st != QSR_OK) {
        if (strcmp(step, "image smaller than the scale") == 0)
            cli_error("%s: %s (x%u)", path, step, s->info.scale);
        else
            cli_fail("%s: %s", path, step);
        return -1;
    }
    totals->gpu_ms += stats.gpu_ms;
    totals->total_ms += stats.total_ms;
    return 0;
}

static uint32_t effective_depth(const cli_session *s, uint32_t depth) {
    return depth ? depth : s->info.blocks;
}

static void device_name(const cli_session *s, char *buf, size_t cap) {
    qsr_device_info info;
    if (s->ctx && qsr_context_get_device_info(s->ctx, &info) == QSR_OK)
        snprintf(buf, cap, "%s", info.name);
    else
        snprintf(buf, cap, "%s", s->use_reference ? "cpu-reference" : "unknown");
}

static double mean(double sum, size_t n) {
    return n ? sum / (double)n : 0.0;
}

static void print_json(const cli_session *s, const eval_options *o, const image_score *scores,
                       const eval_totals *t) {
    char device[256];
    device_name(s, device, sizeof device);
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_string(&j, "model", s->model_path);
    cli_json_string(&j, "arch", cli_arch_name(s->info.arch));
    cli_json_uint(&j, "scale", s->info.scale);
    cli_json_uint(&j, "depth", effective_depth(s, o->model.depth));
    cli_json_uint(&j, "bits_w", s->info.bits_w);
    cli_json_uint(&j, "bits_a", s->info.bits_a);
    cli_json_string(&j, "backend", o->cpu ? "cpu-reference" : "gpu");
    cli_json_string(&j, "device", device);
    cli_json_string(&j, "precision", o->fp32 ? "fp32" : "default");
    cli_json_string(&j, "fp_math",
                    o->cpu || o->fp_math == QSR_FP_MATH_REFERENCE ? "reference" : "fast");
    cli_json_bool(&j, "ensemble", o->ensemble);
    cli_json_string(&j, "hr_dir", o->hr_dir);
    cli_json_uint(&j, "images", t->measured);
    cli_json_uint(&j, "failed", t->failed);
    cli_json_number(&j, "psnr_y", mean(t->psnr, t->measured));
    cli_json_number(&j, "ssim_y", mean(t->ssim, t->measured));
    cli_json_number(&j, "bicubic_psnr_y", mean(t->bicubic_psnr, t->measured));
    cli_json_number(&j, "bicubic_ssim_y", mean(t->bicubic_ssim, t->measured));
    cli_json_array(&j, "per_image", 0);
    for (size_t i = 0; i < t->measured; i++) {
        cli_json_object(&j, NULL);
        cli_json_string(&j, "name", scores[i].name);
        cli_json_number(&j, "psnr_y", scores[i].psnr);
        cli_json_number(&j, "ssim_y", scores[i].ssim);
        cli_json_number(&j, "bicubic_psnr_y", scores[i].bicubic_psnr);
        cli_json_number(&j, "bicubic_ssim_y", scores[i].bicubic_ssim);
        cli_json_close(&j);
    }
    cli_json_close(&j);
    cli_json_number(&j, "gpu_ms", t->gpu_ms);
    cli_json_number(&j, "total_ms", t->total_ms);
    cli_json_end(&j);
}

static void print_table_header(const cli_session *s, const eval_options *o) {
    char device[256];
    device_name(s, device, sizeof device);
    printf("model  %s (%s x%u, C%u B%u, W%u A%u, depth %u of %u%s%s)\n", s->model_path,
           cli_arch_name(s->info.arch), s->info.scale, s->info.channels, s->info.blocks,
           s->info.bits_w, s->info.bits_a, effective_depth(s, o->model.depth), s->info.blocks,
           o->ensemble ? ", self-ensemble" : "", o->fp32 ? ", fp32" : "");
    printf("on     %s\n\n", device);
    printf("%-28s %8s %8s %15s %15s\n", "image", "PSNR-Y", "SSIM-Y", "bicubic PSNR-Y",
           "bicubic SSIM-Y");
}

static void print_table_row(const char *name, double psnr, double ssim, double bpsnr,
                            double bssim) {
    printf("%-28.28s %8.4f %8.4f %15.4f %15.4f\n", name, psnr, ssim, bpsnr, bssim);
    fflush(stdout);
}

static void print_table_footer(const eval_totals *t) {
    char label[64];
    snprintf(label, sizeof label, "mean of %zu", t->measured);
    print_table_row(label, mean(t->psnr, t->measured), mean(t->ssim, t->measured),
                    mean(t->bicubic_psnr, t->measured), mean(t->bicubic_ssim, t->measured));
    printf("\nupscale time: %.1f ms on the device, %.1f ms in all\n", t->gpu_ms, t->total_ms);
    if (t->failed) printf("%zu image%s failed\n", t->failed, t->failed == 1 ? "" : "s");
}

static void add_score(eval_totals *t, const image_score *score) {
    t->measured++;
    t->psnr += score->psnr;
    t->ssim += score->ssim;
    t->bicubic_psnr += score->bicubic_psnr;
    t->bicubic_ssim += score->bicubic_ssim;
}

static int run_eval(cli_session *s, const eval_options *o, const cli_file_list *list) {
    size_t count = (o->limit && o->limit < list->count) ? o->limit : list->count;
    image_score *scores = calloc(count, sizeof *scores);
    if (scores == NULL) {
        cli_error("out of memory for %zu scores", count);
        return CLI_EXIT_FAILURE;
    }
    eval_totals totals;
    memset(&totals, 0, sizeof totals);
    if (!o->json) print_table_header(s, o);
    for (size_t i = 0; i < count; i++) {
        char path[CLI_PATH_MAX];
        image_score *score = &scores[totals.measured];
        score->name = list->names[i];
        if (!cli_join_path(path, sizeof path, o->hr_dir, list->names[i]) ||
            evaluate_image(s, o, path, score, &totals) != 0) {
            totals.failed++;
            continue;
        }
        add_score(&totals, score);
        if (!o->json)
            print_table_row(score->name, score->psnr, score->ssim, score->bicubic_psnr,
                            score->bicubic_ssim);
    }
    if (o->json)
        print_json(s, o, scores, &totals);
    else
        print_table_footer(&totals);
    free(scores);
    return totals.failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static int eval_folder(const eval_options *o) {
    cli_file_list list;
    if (cli_list_images(o->hr_dir, &list) != 0) return CLI_EXIT_FAILURE;
    if (list.count == 0) {
        cli_error("no images (.png, .jpg, .jpeg, .bmp, .tga) in '%s'", o->hr_dir);
        cli_file_list_free(&list);
        return CLI_EXIT_FAILURE;
    }
    cli_session s;
    int code = cli_session_load_model(&s, &o->model);
    if (code == CLI_EXIT_OK) {
        s.use_reference = o->cpu;
        s.fp_math = o->fp_math;
        if (!o->cpu)
            code = cli_session_open_device(&s, (int32_t)o->device, o->tile,
                                           o->fp32 ? QSR_PRECISION_FP32 : QSR_PRECISION_DEFAULT);
        if (code == CLI_EXIT_OK) code = run_eval(&s, o, &list);
        if (cli_session_check_validation(&s) != CLI_EXIT_OK) code = CLI_EXIT_FAILURE;
        cli_session_close(&s);
    }
    cli_file_list_free(&list);
    return code;
}

int cmd_eval(int argc, char **argv) {
    eval_options o;
    memset(&o, 0, sizeof o);
    const cli_option options[] = {
        {'m', "model", CLI_ARG_STRING, &o.model.path, "MODEL", "model file (.qsr)"},
        {'n', "model-name", CLI_ARG_STRING, &o.model.name, "NAME",
         "model file name under models/ (.qsr optional)"},
        {0, "hr", CLI_ARG_STRING, &o.hr_dir, "DIR", "folder of high-resolution images"},
        {0, "depth", CLI_ARG_U32, &o.model.depth, "D",
         "blocks to run, one of the model's depth levels (0 = all)"},
        {0, "depth-any", CLI_ARG_FLAG, &o.model.depth_any, NULL,
         "accept any --depth from 1 to the block count"},
        {0, "limit", CLI_ARG_U32, &o.limit, "N", "measure only the first N images (0 = all)"},
        {'x', "tta", CLI_ARG_FLAG, &o.ensemble, NULL, "self-ensemble (8 flips/rotations)"},
        {0, "cpu", CLI_ARG_FLAG, &o.cpu, NULL, "run the CPU reference instead of Vulkan (slow)"},
        {0, "fp32", CLI_ARG_FLAG, &o.fp32, NULL, "run every convolution in fp32 on the device"},
        {0, "fp-math", CLI_ARG_STRING, &o.fp_math_text, "MODE",
         "fast (default) or reference: how the FP convolutions after the body round"},
        {'t', "tile", CLI_ARG_U32, &o.tile, "N", "tile edge in input pixels (0 = automatic)"},
        {'g', "device", CLI_ARG_U32, &o.device, "N", "Vulkan device (0 = automatic)"},
        {0, "json", CLI_ARG_FLAG, &o.json, NULL, "print one JSON object instead of a table"},
    };
    const cli_command_spec spec = {
        "eval",
        "--hr DIR [-m MODEL] [options]",
        "Measures Y-PSNR and SSIM on every image of DIR (sorted by name): the image is\n"
        "cropped to a multiple of the scale, downscaled with MATLAB bicubic, upscaled, and\n"
        "compared with the original, ignoring `scale` border pixels. A bicubic upscale is\n"
        "measured as the baseline.",
        options,
        sizeof options / sizeof options[0],
        "Exit status: 0 if every image was measured, 1 if any failed, 2 on a bad command line.",
    };
    cli_parse_result r = cli_parse_args(&spec, argc, argv);
    if (r != CLI_PARSE_OK) return r == CLI_PARSE_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (o.hr_dir == NULL) return cli_usage_error(&spec, "missing --hr DIR");
    if (!cli_parse_fp_math(o.fp_math_text, &o.fp_math))
        return cli_usage_error(&spec, "--fp-math takes fast or reference, not '%s'",
                               o.fp_math_text);
    if (o.cpu && (o.fp32 || o.tile || o.device || o.fp_math_text))
        return cli_usage_error(&spec, "--cpu runs the CPU reference: --fp32, -t, -g and "
                                      "--fp-math do not apply");
    if (o.device > INT32_MAX) return cli_usage_error(&spec, "-g %u is too large", o.device);
    if (cli_parse_only) return CLI_EXIT_OK;
    if (!cli_is_directory(o.hr_dir)) {
        cli_error("--hr '%s' is not a folder", o.hr_dir);
        return CLI_EXIT_FAILURE;
    }
    return eval_folder(&o);
}
