/* session.c - a loaded model and, when a command needs one, a device to run it. */
#include "cli.h"
#include "ensemble.h"

#include <string.h>

/* Device from -g (0 = automatic), validation from $QSR_VALIDATION. */
static qsr_status create_context(int32_t device, qsr_context **out) {
    qsr_context_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.device = device;
    desc.validation = cli_env_flag("QSR_VALIDATION");
    return qsr_context_create(&desc, out);
}

static int check_scale(const cli_session *s, uint32_t scale) {
    if (scale == 0 || scale == s->info.scale) return 0;
    cli_error("%s: model scales x%u, -s %u asked", s->model_path, s->info.scale, scale);
    return -1;
}

int cli_session_load_model(cli_session *s, const cli_model_options *opt) {
    memset(s, 0, sizeof *s);
    if (opt->random) {
        const qsr_random_model_desc *r = opt->random;
        snprintf(s->model_path, sizeof s->model_path, "random %s x%u C%u B%u W%u A%u",
                 r->arch == QSR_ARCH_QUANTSR_T ? "QuantSR-T" : "QuantSR-C", r->scale, r->channels,
                 r->blocks, r->bits_w, r->bits_a);
        if (qsr_model_create_random(r, &s->model) != QSR_OK)
            return cli_fail("cannot make a %s model", s->model_path);
    } else {
        if (cli_resolve_model(opt->path, opt->name, s->model_path, sizeof s->model_path) != 0)
            return CLI_EXIT_FAILURE;
        if (qsr_model_load_file(s->model_path, &s->model) != QSR_OK)
            return cli_fail("cannot load the model");
    }
    int code = CLI_EXIT_OK;
    if (qsr_model_get_info(s->model, &s->info) != QSR_OK)
        code = cli_fail("cannot read model '%s'", s->model_path);
    else if (check_scale(s, opt->scale) != 0)
        code = CLI_EXIT_FAILURE;
    else if (qsr_model_check_depth(s->model, opt->depth, opt->depth_any) != QSR_OK)
        code = cli_fail("--depth %u", opt->depth);
    if (code != CLI_EXIT_OK) cli_session_close(s);
    return code;
}

int cli_session_open_device(cli_session *s, int32_t device, uint32_t tile,
                            qsr_precision precision) {
    if (create_context(device, &s->ctx) != QSR_OK)
        return cli_fail("cannot open Vulkan device%s", device ? " (-g)" : "");
    qsr_upscaler_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.tile = tile;
    desc.precision = precision;
    desc.max_memory = s->max_memory;
    desc.fp_math = s->fp_math;
    if (qsr_upscaler_create(s->ctx, s->model, &desc, &s->up) != QSR_OK)
        return cli_fail("cannot prepare '%s' on the device", s->model_path);
    return CLI_EXIT_OK;
}

typedef struct run_target {
    cli_session *session;
    uint32_t depth;
} run_target;

/* One plain upscale, in the signature the self-ensemble takes. */
static qsr_status upscale_once(void *user, const qsr_image *in, qsr_image *out,
                               qsr_run_stats *stats) {
    run_target *target = (run_target *)user;
    cli_session *s = target->session;
    if (!s->use_reference) return qsr_upscaler_run(s->up, in, target->depth, out, stats);
    double start = cli_now_ms();
    qsr_status st = qsr_reference_upscale(s->model, in, target->depth, out);
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->total_ms = cli_now_ms() - start;
        stats->macs = qsr_model_macs_per_pixel(s->model, target->depth) * in->width * in->height;
    }
    return st;
}

qsr_status cli_session_upscale(cli_session *s, const qsr_image *in, uint32_t depth, int ensemble,
                               qsr_image *out, qsr_run_stats *stats) {
    run_target target = {s, depth};
    if (ensemble) return cli_ensemble_upscale(upscale_once, &target, in, out, stats);
    return upscale_once(&target, in, out, stats);
}

uint32_t cli_session_validation_messages(const cli_session *s) {
    return s->ctx ? qsr_context_validation_messages(s->ctx) : 0;
}

int cli_session_check_validation(const cli_session *s) {
    return cli_report_validation_messages(cli_session_validation_messages(s));
}

int cli_report_validation_messages(uint32_t messages) {
    if (messages == 0) return CLI_EXIT_OK;
    cli_error("the Vulkan validation layer reported %u message%s (see above)", messages,
              messages == 1 ? "" : "s");
    return CLI_EXIT_FAILURE;
}

void cli_session_close_device(cli_session *s) {
    qsr_upscaler_destroy(s->up);
    qsr_context_destroy(s->ctx);
    s->up = NULL;
    s->ctx = NULL;
}

void cli_session_close(cli_session *s) {
    cli_session_close_device(s);
    qsr_model_destroy(s->model);
    s->model = NULL;
}
