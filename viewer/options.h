/* options.h - the command line of quantsr-view. */
#ifndef QSR_VIEWER_OPTIONS_H
#define QSR_VIEWER_OPTIONS_H

#include <stdint.h>

/* Exit codes, as the quantsr command line tool uses them. */
#define VIEWER_EXIT_OK      0
#define VIEWER_EXIT_FAILURE 1
#define VIEWER_EXIT_USAGE   2

/* How frames reach the screen (--present). */
typedef enum viewer_present_mode {
    VIEWER_PRESENT_AUTO = 0, /* Vulkan swapchain when it works, else SDL_Renderer */
    VIEWER_PRESENT_RENDERER, /* SDL_Renderer with texture uploads */
    VIEWER_PRESENT_VULKAN    /* Vulkan swapchain (falls back, saying why, if it fails) */
} viewer_present_mode;

/* --budget-ms accepts VIEWER_BUDGET_MIN_MS..VIEWER_BUDGET_MAX_MS (1 us to 1000 s). */
#define VIEWER_BUDGET_MIN_MS 0.001
#define VIEWER_BUDGET_MAX_MS 1000000.0

typedef struct viewer_options {
    const char *input;           /* IMAGE or FOLDER; NULL = none (drop a file on the window) */
    const char *model;           /* -m; NULL = the default model of the model folders */
    const char *frames;          /* --frames FOLDER */
    const char *screenshot;      /* --screenshot OUT.png: render one frame and exit */
    int demo;                    /* --demo */
    int hr;                      /* --hr: the input is ground truth */
    int nearest;                 /* --nearest: left side starts as nearest instead of bicubic */
    int no_overlay;              /* --no-overlay: images and divider only */
    int print_stats;             /* --print-stats: --screenshot prints what was computed */
    viewer_present_mode present; /* --present */
    int has_depth;
    uint32_t depth;   /* --depth: blocks, one of the model's levels, 0 = all */
    double budget_ms; /* --budget-ms: the depth follows a device-time budget; 0 = not given */
    int32_t device;   /* -g: Vulkan device as `quantsr devices` numbers it, 0 = automatic */
    double split;     /* --split: divider position, fraction of the width (default 0.5) */
    double zoom;      /* --zoom: screen pixels per output pixel, 0 = fit */
    uint32_t width;   /* --size: window or screenshot size, 0 = automatic */
    uint32_t height;
} viewer_options;

typedef enum viewer_parse_result {
    VIEWER_PARSE_OK,
    VIEWER_PARSE_HELP, /* help was printed on stdout */
    VIEWER_PARSE_ERROR /* an error and the usage line were printed on stderr */
} viewer_parse_result;

viewer_parse_result viewer_parse_options(int argc, char **argv, viewer_options *out);

/* The key and mouse help, one line per binding, NULL-terminated (shared with the `h` panel). */
extern const char *const viewer_key_help[];

#endif
