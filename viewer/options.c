/* options.c - parses the quantsr-view command line. Forms: `-m VALUE`, `--model VALUE`,
 * `--model=VALUE`; one positional IMAGE or FOLDER. */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const viewer_key_help[] = {
    "mouse wheel       zoom around the cursor",
    "left drag         pan (drag the divider to move it)",
    "0 / 1             fit the window / 1:1 output pixels",
    "[ / ]             depth slider: fewer / more blocks",
    "Shift+1..9, KP1..9  depth level N (also click the slider)",
    "b                 depth by --budget-ms on / off (moving the slider: off)",
    "n                 left side: bicubic / nearest",
    "m / Shift+m       next / previous model of the models folder",
    "Left / Right      previous / next image of the folder",
    "space             pause / play frames and the demo",
    "s                 save a screenshot PNG (current folder)",
    "h                 show / hide this help",
    "q / Esc           quit",
    "drop a file       open an image, a folder or a .qsr model",
    NULL,
};

static const char usage_line[] =
    "usage: quantsr-view [IMAGE|FOLDER] [-m MODEL] [--hr] [--depth D | --budget-ms T] [options]\n";

static void print_help(FILE *out) {
    fputs(usage_line, out);
    fputs("\n"
          "Shows a bicubic upscale (left) and the QuantSR output (right) of the same image,\n"
          "split by a divider, with a slider over the model's depth levels.\n"
          "\n"
          "options:\n"
          "  -m, --model MODEL     model file (.qsr); default: models/quantsr_c_x4_w4a4.qsr or\n"
          "                        the first .qsr of <exe_dir>/../models, <exe_dir>/models,\n"
          "                        $QSR_MODEL_DIR\n"
          "      --hr              the input is ground truth: downscale it by the model's scale\n"
          "                        and show the Y-PSNR of both sides\n"
          "      --depth D         blocks to run, one of the model's depth levels (0 = all)\n"
          "      --budget-ms T     the depth is the deepest level predicted to take at most T ms\n"
          "                        of device time for the whole image (0.001..1000000; the\n"
          "                        shallowest when none fits), chosen again for each image\n"
          "                        and after each run; moving the depth slider by hand turns\n"
          "                        this off, b turns it back on\n"
          "  -g, --device N        Vulkan device as `quantsr devices` numbers it (0 = auto)\n"
          "      --frames FOLDER   play the images of FOLDER as video frames\n"
          "      --demo            animate a procedural low-resolution scene\n"
          "      --nearest         start with nearest instead of bicubic on the left\n"
          "      --split X         divider position, 0..1 of the width (default 0.5)\n"
          "      --zoom Z          screen pixels per output pixel (default: fit)\n"
          "      --size WxH        window (or screenshot) size in pixels\n"
          "      --screenshot OUT  render one frame to OUT (.png) and exit\n"
          "      --no-overlay      draw only the two images and the divider\n"
          "      --present MODE    auto (default), vulkan (swapchain) or renderer\n"
          "                        (SDL_Renderer texture uploads)\n"
          "      --print-stats     with --screenshot: print the tiles and LR pixels computed\n"
          "  -h, --help            show this help\n"
          "\n"
          "keys:\n",
          out);
    for (const char *const *line = viewer_key_help; *line; line++)
        fprintf(out, "  %s\n", *line);
    fputs("\nExit status: 0 on success, 1 on a failure, 2 on a bad command line.\n", out);
}

static viewer_parse_result usage_error(const char *fmt, const char *a, const char *b) {
    fputs("quantsr-view: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    fputs(usage_line, stderr);
    fputs("run 'quantsr-view --help' for the options\n", stderr);
    return VIEWER_PARSE_ERROR;
}

static int parse_u32(const char *text, uint32_t max, uint32_t *out) {
    if (!text || *text < '0' || *text > '9') return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v > max) return 0;
    *out = (uint32_t)v;
    return 1;
}

static int parse_double(const char *text, double lo, double hi, double *out) {
    if (!text || !*text) return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

/* "WxH" with both sides in 64..16384. */
static int parse_size(const char *text, uint32_t *w, uint32_t *h) {
    const char *x = text ? strchr(text, 'x') : NULL;
    char left[16];
    if (!x || (size_t)(x - text) >= sizeof left) return 0;
    memcpy(left, text, (size_t)(x - text));
    left[x - text] = '\0';
    return parse_u32(left, 16384, w) && parse_u32(x + 1, 16384, h) && *w >= 64 && *h >= 64;
}

/* Matches `arg` against -s / --long / --long=VALUE. *inline_value gets the text after '='. */
static int matches(const char *arg, char short_name, const char *long_name,
                   const char **inline_value) {
    *inline_value = NULL;
    if (short_name && arg[0] == '-' && arg[1] == short_name && arg[2] == '\0') return 1;
    if (arg[0] != '-' || arg[1] != '-') return 0;
    size_t n = strlen(long_name);
    if (strncmp(arg + 2, long_name, n) != 0) return 0;
    if (arg[2 + n] == '\0') return 1;
    if (arg[2 + n] == '=') {
        *inline_value = arg + 3 + n;
        return 1;
    }
    return 0;
}

typedef enum option_id {
    OPT_MODEL,
    OPT_HR,
    OPT_DEPTH,
    OPT_BUDGET,
    OPT_DEVICE,
    OPT_FRAMES,
    OPT_DEMO,
    OPT_NEAREST,
    OPT_SPLIT,
    OPT_ZOOM,
    OPT_SIZE,
    OPT_SCREENSHOT,
    OPT_NO_OVERLAY,
    OPT_PRESENT,
    OPT_PRINT_STATS,
    OPT_HELP,
    OPT_COUNT
} option_id;

typedef struct option_spec {
    char short_name;
    const char *long_name;
    int takes_value;
} option_spec;

static const option_spec option_specs[OPT_COUNT] = {
    [OPT_MODEL] = {'m', "model", 1},
    [OPT_HR] = {0, "hr", 0},
    [OPT_DEPTH] = {0, "depth", 1},
    [OPT_BUDGET] = {0, "budget-ms", 1},
    [OPT_DEVICE] = {'g', "device", 1},
    [OPT_FRAMES] = {0, "frames", 1},
    [OPT_DEMO] = {0, "demo", 0},
    [OPT_NEAREST] = {0, "nearest", 0},
    [OPT_SPLIT] = {0, "split", 1},
    [OPT_ZOOM] = {0, "zoom", 1},
    [OPT_SIZE] = {0, "size", 1},
    [OPT_SCREENSHOT] = {0, "screenshot", 1},
    [OPT_NO_OVERLAY] = {0, "no-overlay", 0},
    [OPT_PRESENT] = {0, "present", 1},
    [OPT_PRINT_STATS] = {0, "print-stats", 0},
    [OPT_HELP] = {'h', "help", 0},
};

/* Stores one option's value; returns 0 and prints nothing on success. */
static viewer_parse_result apply_option(option_id id, const char *name, const char *value,
                                        viewer_options *o) {
    uint32_t u = 0;
    switch (id) {
    case OPT_MODEL:
        o->model = value;
        break;
    case OPT_HR:
        o->hr = 1;
        break;
    case OPT_DEPTH:
        if (!parse_u32(value, 64, &o->depth))
            return usage_error("%s needs a block count 0..64, got '%s'", name, value);
        o->has_depth = 1;
        break;
    case OPT_BUDGET:
        if (!parse_double(value, VIEWER_BUDGET_MIN_MS, VIEWER_BUDGET_MAX_MS, &o->budget_ms))
            return usage_error("%s needs a device time in ms, 0.001..1000000, got '%s'", name,
                               value);
        break;
    case OPT_DEVICE:
        if (!parse_u32(value, 1024, &u))
            return usage_error("%s needs a device number (0 = automatic), got '%s'", name, value);
        o->device = (int32_t)u;
        break;
    case OPT_FRAMES:
        o->frames = value;
        break;
    case OPT_DEMO:
        o->demo = 1;
        break;
    case OPT_NEAREST:
        o->nearest = 1;
        break;
    case OPT_SPLIT:
        if (!parse_double(value, 0.0, 1.0, &o->split))
            return usage_error("%s needs a fraction 0..1 of the width, got '%s'", name, value);
        break;
    case OPT_ZOOM:
        if (!parse_double(value, 1.0 / 64, 64.0, &o->zoom))
            return usage_error("%s needs a zoom factor 1/64..64, got '%s'", name, value);
        break;
    case OPT_SIZE:
        if (!parse_size(value, &o->width, &o->height))
            return usage_error("%s needs WxH with both sides in 64..16384, got '%s'", name, value);
        break;
    case OPT_SCREENSHOT:
        o->screenshot = value;
        break;
    case OPT_NO_OVERLAY:
        o->no_overlay = 1;
        break;
    case OPT_PRESENT:
        if (strcmp(value, "auto") == 0)
            o->present = VIEWER_PRESENT_AUTO;
        else if (strcmp(value, "renderer") == 0)
            o->present = VIEWER_PRESENT_RENDERER;
        else if (strcmp(value, "vulkan") == 0)
            o->present = VIEWER_PRESENT_VULKAN;
        else
            return usage_error("%s needs auto, vulkan or renderer, got '%s'", name, value);
        break;
    case OPT_PRINT_STATS:
        o->print_stats = 1;
        break;
    case OPT_HELP:
    case OPT_COUNT:
        break;
    }
    return VIEWER_PARSE_OK;
}

/* Checks the combinations that make no sense together. */
static viewer_parse_result check_options(const viewer_options *o) {
    int sources = (o->input != NULL) + (o->frames != NULL) + (o->demo != 0);
    if (sources > 1)
        return usage_error("give one of IMAGE|FOLDER, --frames FOLDER and --demo%s%s", "", "");
    if (o->screenshot && sources == 0)
        return usage_error("--screenshot needs an IMAGE, --frames FOLDER or --demo%s%s", "", "");
    if (o->screenshot && o->screenshot[0] == '\0')
        return usage_error("--screenshot needs a file name%s%s", "", "");
    if (o->model && o->model[0] == '\0') return usage_error("-m needs a file name%s%s", "", "");
    if (o->budget_ms > 0 && o->has_depth)
        return usage_error("--budget-ms chooses the depth; do not give --depth too%s%s", "", "");
    return VIEWER_PARSE_OK;
}

viewer_parse_result viewer_parse_options(int argc, char **argv, viewer_options *out) {
    viewer_options o;
    memset(&o, 0, sizeof o);
    o.split = 0.5;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            if (o.input) return usage_error("more than one input ('%s' and '%s')", o.input, arg);
            o.input = arg;
            continue;
        }
        option_id id = OPT_COUNT;
        const char *inline_value = NULL;
        for (int k = 0; k < OPT_COUNT && id == OPT_COUNT; k++)
            if (matches(arg, option_specs[k].short_name, option_specs[k].long_name, &inline_value))
                id = (option_id)k;
        if (id == OPT_COUNT) return usage_error("unknown option '%s'%s", arg, "");
        if (id == OPT_HELP) {
            print_help(stdout);
            return VIEWER_PARSE_HELP;
        }
        const char *value = inline_value;
        if (option_specs[id].takes_value && !value) {
            if (i + 1 >= argc) return usage_error("%s needs a value%s", arg, "");
            value = argv[++i];
        } else if (!option_specs[id].takes_value && value) {
            return usage_error("%s takes no value%s", arg, "");
        }
        if (apply_option(id, arg, value, &o) != VIEWER_PARSE_OK) return VIEWER_PARSE_ERROR;
    }
    if (check_options(&o) != VIEWER_PARSE_OK) return VIEWER_PARSE_ERROR;
    *out = o;
    return VIEWER_PARSE_OK;
}
