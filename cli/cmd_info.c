/* cmd_info.c - `quantsr info`: a model's header, sizes and cost per depth level.
 *
 * JSON keys (for docs/cli.md):
 *   path            string   the model file
 *   arch            string   "QuantSR-C" or "QuantSR-T"
 *   scale           int      2, 3 or 4
 *   in_channels     int      3
 *   channels        int      feature channels C
 *   blocks          int      residual blocks B
 *   bits_w, bits_a  int      body weight / activation bits (32 = unquantized)
 *   depth_levels    [int]    blocks kept at each depth level, descending (first = blocks)
 *   block_rank      [int]    block indices, most important first (B entries)
 *   rgb_mean        [number] input mean (0..1 scale), 3 entries
 *   img_range       number   input multiplier
 *   tensor_count    int
 *   parameters      int      weights and biases
 *   file_bytes      int
 *   macs_per_pixel  [int]    multiply-accumulates per input pixel, per depth level
 *   gmac_256x256    [number] GMAC for a 256x256 input, per depth level
 * QuantSR-T models only ("arch": "QuantSR-T"; "blocks" counts Swin layers):
 *   heads           int      attention heads
 *   window          int      window edge
 *   mlp_hidden      int      MLP hidden width
 *   group_depths    [int]    Swin layers per residual group (group_count entries)
 */
#include "args.h"
#include "cli.h"
#include "json.h"

#include <string.h>

#define BENCH_EDGE 256u

static double gmac_for_edge(uint64_t macs_per_pixel, uint32_t edge) {
    return (double)macs_per_pixel * (double)edge * (double)edge / 1.0e9;
}

static void print_info_json(const cli_session *s) {
    const qsr_model_info *in = &s->info;
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_string(&j, "path", s->model_path);
    cli_json_string(&j, "arch", cli_arch_name(in->arch));
    cli_json_uint(&j, "scale", in->scale);
    cli_json_uint(&j, "in_channels", in->in_channels);
    cli_json_uint(&j, "channels", in->channels);
    cli_json_uint(&j, "blocks", in->blocks);
    cli_json_uint(&j, "bits_w", in->bits_w);
    cli_json_uint(&j, "bits_a", in->bits_a);
    if (in->arch == QSR_ARCH_QUANTSR_T) {
        cli_json_uint(&j, "heads", in->heads);
        cli_json_uint(&j, "window", in->window);
        cli_json_uint(&j, "mlp_hidden", in->mlp_hidden);
        cli_json_array(&j, "group_depths", 1);
        for (uint32_t g = 0; g < in->group_count && g < QSR_MAX_GROUPS; g++)
            cli_json_uint(&j, NULL, in->group_depths[g]);
        cli_json_close(&j);
    }
    cli_json_array(&j, "depth_levels", 1);
    for (uint32_t i = 0; i < in->depth_level_count; i++)
        cli_json_uint(&j, NULL, in->depth_levels[i]);
    cli_json_close(&j);
    cli_json_array(&j, "block_rank", 1);
    for (uint32_t i = 0; i < in->blocks && i < QSR_MAX_BLOCKS; i++)
        cli_json_uint(&j, NULL, in->block_rank[i]);
    cli_json_close(&j);
    cli_json_array(&j, "rgb_mean", 1);
    for (int c = 0; c < 3; c++)
        cli_json_number(&j, NULL, in->rgb_mean[c]);
    cli_json_close(&j);
    cli_json_number(&j, "img_range", in->img_range);
    cli_json_uint(&j, "tensor_count", in->tensor_count);
    cli_json_uint(&j, "parameters", in->parameters);
    cli_json_uint(&j, "file_bytes", in->file_bytes);
    cli_json_array(&j, "macs_per_pixel", 1);
    for (uint32_t i = 0; i < in->depth_level_count; i++)
        cli_json_uint(&j, NULL, qsr_model_macs_per_pixel(s->model, in->depth_levels[i]));
    cli_json_close(&j);
    cli_json_array(&j, "gmac_256x256", 1);
    for (uint32_t i = 0; i < in->depth_level_count; i++)
        cli_json_number(
            &j, NULL,
            gmac_for_edge(qsr_model_macs_per_pixel(s->model, in->depth_levels[i]), BENCH_EDGE));
    cli_json_close(&j);
    cli_json_end(&j);
}

static void print_bits(const qsr_model_info *in) {
    if (in->bits_w == 32 && in->bits_a == 32)
        printf("bits          fp32 (not quantized)\n");
    else
        printf("bits          W%u A%u (%s)\n", in->bits_w, in->bits_a,
               in->arch == QSR_ARCH_QUANTSR_T
                   ? "linear layers, attention products, group convolutions"
                   : "body convolutions");
}

/* QuantSR-T: the transformer's shape; its "blocks" are Swin layers. */
static void print_t_fields(const qsr_model_info *in) {
    printf("embedding     %u channels, %u heads, window %u, MLP hidden %u\n", in->channels,
           in->heads, in->window, in->mlp_hidden);
    printf("layers        %u Swin layers in %u groups (", in->blocks, in->group_count);
    for (uint32_t g = 0; g < in->group_count && g < QSR_MAX_GROUPS; g++)
        printf(g ? " + %u" : "%u", in->group_depths[g]);
    printf(")\n");
    printf("runs on       the GPU (quantized models; whole images, no tiles) and the CPU "
           "reference (--cpu)\n");
}

static void print_info_text(const cli_session *s) {
    const qsr_model_info *in = &s->info;
    printf("model         %s\n", s->model_path);
    printf("architecture  %s x%u\n", cli_arch_name(in->arch), in->scale);
    if (in->arch == QSR_ARCH_QUANTSR_T) {
        print_t_fields(in);
    } else {
        printf("channels      %u features, %u input\n", in->channels, in->in_channels);
        printf("blocks        %u\n", in->blocks);
    }
    print_bits(in);
    printf("parameters    %llu\n", (unsigned long long)in->parameters);
    printf("file          %llu bytes (%.2f MiB), %u tensors\n", (unsigned long long)in->file_bytes,
           (double)in->file_bytes / (1024.0 * 1024.0), in->tensor_count);
    printf("input         (rgb - (%.4f, %.4f, %.4f)) * %g\n", in->rgb_mean[0], in->rgb_mean[1],
           in->rgb_mean[2], in->img_range);
    printf("block rank   ");
    for (uint32_t i = 0; i < in->blocks && i < QSR_MAX_BLOCKS; i++)
        printf(" %u", in->block_rank[i]);
    printf("\n\ndepth level  blocks  MACs/LR pixel  GMAC @ %ux%u\n", BENCH_EDGE, BENCH_EDGE);
    for (uint32_t i = 0; i < in->depth_level_count; i++) {
        uint64_t macs = qsr_model_macs_per_pixel(s->model, in->depth_levels[i]);
        printf("%11u  %6u  %13llu  %14.2f\n", i, in->depth_levels[i], (unsigned long long)macs,
               gmac_for_edge(macs, BENCH_EDGE));
    }
}

int cmd_info(int argc, char **argv) {
    cli_model_options model;
    int json = 0;
    memset(&model, 0, sizeof model);
    const cli_option options[] = {
        {'m', "model", CLI_ARG_STRING, &model.path, "MODEL", "model file (.qsr)"},
        {'n', "model-name", CLI_ARG_STRING, &model.name, "NAME",
         "model file name under models/ (.qsr optional)"},
        {0, "json", CLI_ARG_FLAG, &json, NULL, "print one JSON object"},
    };
    const cli_command_spec spec = {
        "info",
        "[-m MODEL] [--json]",
        "Shows a model's header (architecture, scale, channels, blocks, bits), its size and\n"
        "the multiply-accumulates per input pixel at each depth level. Without -m, the\n"
        "default model (models/" CLI_DEFAULT_MODEL ").",
        options,
        sizeof options / sizeof options[0],
        NULL,
    };
    cli_parse_result r = cli_parse_args(&spec, argc, argv);
    if (r != CLI_PARSE_OK) return r == CLI_PARSE_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (cli_parse_only) return CLI_EXIT_OK;
    cli_session s;
    int code = cli_session_load_model(&s, &model);
    if (code != CLI_EXIT_OK) return code;
    if (json)
        print_info_json(&s);
    else
        print_info_text(&s);
    cli_session_close(&s);
    return CLI_EXIT_OK;
}
