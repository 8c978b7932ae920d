/* commands.c - the `quantsr` command line as a whole: dispatches to one command per file
 * (cmd_*.c). main.c only calls cli_main, so the argument fuzzer can link everything else. */
#include "cli.h"

#include <string.h>

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"upscale", cmd_upscale, "upscale an image or a folder of images"},
    {"eval", cmd_eval, "measure Y-PSNR / SSIM on a folder of high-resolution images"},
    {"info", cmd_info, "show a model's header, size and cost per depth level"},
    {"devices", cmd_devices, "list the Vulkan devices and their features"},
    {"bench", cmd_bench, "time the quantized and FP32 paths on a synthetic image"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void print_usage(FILE *out) {
    fprintf(out, "usage: quantsr <command> [options]\n"
                 "       quantsr <command> --help\n"
                 "       quantsr --version\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nQuantSR-C super-resolution on Vulkan. Example:\n"
                 "  quantsr upscale -i photo.png -o photo_x4.png\n");
}

static const cli_command *find_command(const char *name) {
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

int cli_parse_only = 0;

int cli_main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "-V") == 0 || strcmp(first, "--version") == 0) {
        printf("quantsr %d.%d.%d\n", QSR_VERSION_MAJOR, QSR_VERSION_MINOR, QSR_VERSION_PATCH);
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "help") == 0 && argc == 2) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "help") == 0 && find_command(argv[2])) {
        char help_flag[] = "--help";
        char *help_argv[] = {argv[2], help_flag, NULL};
        return find_command(argv[2])->run(2, help_argv);
    }
    const cli_command *cmd = find_command(first);
    if (cmd == NULL) {
        cli_error("unknown command '%s'", first);
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
