/* make_random_model - writes a random but realistic .qsr model for the shell tests and the
 * benchmark:
 *     make_random_model OUT.qsr [--arch c|t] [--scale S] [--channels C] [--blocks B]
 *                       [--bits-w N] [--bits-a N] [--seed N] [--per-channel-step]
 *                       [--heads N] [--window N] [--mlp-hidden N] [--groups N]   (--arch t) */
#include "support/model_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *to) {
    fprintf(to, "usage: make_random_model OUT.qsr [--arch c|t] [--scale S] [--channels C] "
                "[--blocks B]\n"
                "                         [--bits-w N] [--bits-a N] [--seed N] "
                "[--per-channel-step]\n"
                "                         [--heads N] [--window N] [--mlp-hidden N] [--groups N]\n"
                "defaults: QuantSR-C, x2, 8 channels, 4 blocks, w4a4 (bits 32 = float model), "
                "seed 0;\n"
                "--arch t: blocks are Swin layers; heads 4, 2 or 1 (dividing channels), window 8,\n"
                "mlp-hidden 2 C, min(2, B) groups\n");
}

/* Parses a whole decimal number in [0, max]; returns 0 on anything else. */
static int parse_number(const char *text, unsigned long long max, unsigned long long *out) {
    if (!text || !*text || *text == '-') return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v > max) return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv) {
    qsr_test_model_params p;
    memset(&p, 0, sizeof p);
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(arg, "--per-channel-step") == 0) {
            p.per_channel_weight_step = 1;
            continue;
        }
        if (strcmp(arg, "--arch") == 0 && i + 1 < argc &&
            (strcmp(argv[i + 1], "c") == 0 || strcmp(argv[i + 1], "t") == 0)) {
            p.arch = argv[++i][0] == 't' ? QSR_ARCH_QUANTSR_T : QSR_ARCH_QUANTSR_C;
            continue;
        }
        if (arg[0] != '-') {
            if (out) {
                fprintf(stderr, "make_random_model: more than one output path ('%s')\n", arg);
                return 2;
            }
            out = arg;
            continue;
        }
        unsigned long long v = 0;
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int is_seed = strcmp(arg, "--seed") == 0;
        /* 0 would mean "default" to the writer, so only the seed may be 0. */
        if (!parse_number(value, is_seed ? ~0ull : 1024, &v) || (!is_seed && v == 0)) {
            fprintf(stderr, "make_random_model: %s needs a %s number, got '%s'\n", arg,
                    is_seed ? "whole" : "positive", value ? value : "(nothing)");
            return 2;
        }
        i++;
        if (strcmp(arg, "--scale") == 0)
            p.scale = (uint32_t)v;
        else if (strcmp(arg, "--channels") == 0)
            p.channels = (uint32_t)v;
        else if (strcmp(arg, "--blocks") == 0)
            p.blocks = (uint32_t)v;
        else if (strcmp(arg, "--bits-w") == 0)
            p.bits_w = (uint32_t)v;
        else if (strcmp(arg, "--bits-a") == 0)
            p.bits_a = (uint32_t)v;
        else if (strcmp(arg, "--heads") == 0)
            p.heads = (uint32_t)v;
        else if (strcmp(arg, "--window") == 0)
            p.window = (uint32_t)v;
        else if (strcmp(arg, "--mlp-hidden") == 0)
            p.mlp_hidden = (uint32_t)v;
        else if (strcmp(arg, "--groups") == 0)
            p.group_count = (uint32_t)v;
        else if (is_seed)
            p.seed = v;
        else {
            fprintf(stderr, "make_random_model: unknown option '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    if (!out) {
        usage(stderr);
        return 2;
    }
    qsr_status st = qsr_test_model_write_file(&p, out);
    if (st != QSR_OK) {
        fprintf(stderr, "make_random_model: %s: %s\n", qsr_status_name(st), qsr_last_error());
        return 1;
    }
    return 0;
}
