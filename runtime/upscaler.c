/* upscaler.c - the public upscaler: picks a tile size, walks the tiles, handles alpha. */
#include "arch.h"
#include "platform.h"
#include "reference.h"
#include "upsample_fold.h"

#include <stdlib.h>
#include <string.h>

struct qsr_upscaler {
    qsr__device_user device_user; /* first: the context's reset finds the upscaler by it */
    qsr_context *ctx;
    const qsr_model *model;
    const qsr__arch *arch; /* the model's entry: tile geometry, program */
    qsr_upscaler_desc desc;
    qsr__plan plan;
    int profiling;     /* survives plan rebuilds */
    double ns_per_mac; /* device time per MAC of the last run with timestamps; 0 = none yet */
    /* qsr_upscaler_prepare: the frame plan qsr_cmd_upscale records with, for inputs of
     * frame_width x frame_height (0 x 0 = never prepared) in body tiles of frame_tile. The
     * frame plan is gone (ctx NULL) after a device loss until prepared again. */
    qsr__plan frame;
    uint32_t frame_width, frame_height, frame_tile;
};

const char *qsr_upscaler_kernel_name(const qsr_upscaler *up) {
    if (!up) return "none";
    if (!up->plan.quantized) return "conv3x3_f32";
    return qsr__conv3x3_q_shader_name(up->plan.kernel);
}

qsr_status qsr_upscaler_set_profiling(qsr_upscaler *up, int enable) {
    if (!up) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscaler_set_profiling: NULL");
    memset(&up->plan.profile, 0, sizeof up->plan.profile);
    up->plan.profile.enabled = enable != 0;
    up->profiling = enable != 0;
    return QSR_OK;
}

uint32_t qsr_upscaler_get_profile(const qsr_upscaler *up, qsr_op_profile *ops, uint32_t max) {
    if (!up) return 0;
    const qsr__plan_profile *pr = &up->plan.profile;
    for (uint32_t k = 0; k < QSR__MAX_OPS; k++) {
        uint32_t rank = pr->order[k];
        if (!rank || rank > max || !ops) continue;
        ops[rank - 1] = (qsr_op_profile){qsr__plan_op_name(&up->plan, k), pr->dispatches[k],
                                         pr->ms[k], pr->macs[k]};
    }
    return pr->seen;
}

/* A run that measures the device time per MAC: a synthetic 64x64 image at the shallowest
 * level (the HR stages' share is largest there, so the estimate errs on the slow side). */
static qsr_status calibrate(qsr_upscaler *up) {
    qsr_model_info info;
    qsr_status st = qsr_model_get_info(up->model, &info);
    if (st != QSR_OK) return st;
    qsr_image in, out;
    st = qsr_image_create(64, 64, 3, &in);
    if (st != QSR_OK) return st;
    for (size_t i = 0; i < (size_t)64 * 64 * 3; i++)
        in.pixels[i] = (uint8_t)((i * 2654435761u) >> 24);
    st = qsr_upscaler_run(up, &in, info.depth_levels[info.depth_level_count - 1], &out, NULL);
    qsr_image_free(&in);
    if (st != QSR_OK) return st;
    qsr_image_free(&out);
    if (up->ns_per_mac <= 0)
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "the device reports no timestamps to budget by");
    return QSR_OK;
}

/* The multiply-adds per LR pixel a run of a width x height image executes: the model's, less
 * what the folded upsampler saves where it runs (qsr__plan_folds). Predictions scale the
 * calibrated time per MAC by these, so that a plan's cheap folded stages do not make the deeper
 * levels look cheaper than they run. */
static uint64_t run_macs_per_pixel(const qsr_upscaler *up, uint32_t depth, uint32_t width,
                                   uint32_t height) {
    uint64_t macs = qsr_model_macs_per_pixel(up->model, depth);
    qsr__tile_geometry image = {.image_w = width, .image_h = height};
    return qsr__plan_folds(&up->plan, &image) ? macs - qsr__fold_saved_macs_per_pixel(up->model)
                                              : macs;
}

static double predicted_ms(const qsr_upscaler *up, uint32_t depth, uint32_t width,
                           uint32_t height) {
    return (double)run_macs_per_pixel(up, depth, width, height) * width * height * up->ns_per_mac *
           1e-6;
}

qsr_status qsr_upscaler_depth_for_budget(qsr_upscaler *up, uint32_t width, uint32_t height,
                                         double budget_ms, uint32_t *depth, double *out_ms) {
    if (!up || !depth || width == 0 || height == 0 || !(budget_ms >= 0))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscaler_depth_for_budget: bad argument");
    qsr_model_info info;
    qsr_status st = qsr_model_get_info(up->model, &info);
    if (st == QSR_OK && up->ns_per_mac <= 0) st = calibrate(up);
    if (st != QSR_OK) return st;
    uint32_t n = info.depth_level_count;
    *depth = info.depth_levels[n - 1];
    for (uint32_t i = 0; i < n; i++) /* levels are in descending order */
        if (predicted_ms(up, info.depth_levels[i], width, height) <= budget_ms) {
            *depth = info.depth_levels[i];
            break;
        }
    if (out_ms) *out_ms = predicted_ms(up, *depth, width, height);
    return QSR_OK;
}

static double now_ms(void) {
    return (double)qsr__now_ns() * 1e-6;
}

/* What one run computes: the output of the LR rectangle `area` of a width x height input. */
typedef struct run_area {
    uint32_t width, height; /* the whole input */
    qsr__rect area;
} run_area;

/* HR tiles are at most the architecture's hr_tile_max LR pixels on a side: their buffers grow
 * with scale^2 and their halo is small (QuantSR-C: 62, tile.h says why). */
static uint32_t hr_edge(const qsr_upscaler *up, uint32_t body_edge) {
    if (up->arch->tile.whole_image) return body_edge;
    uint32_t max = qsr__hr_tile_edge(up->arch->tile.hr_tile_max, up->arch->tile.hr_margin,
                                     qsr__row_lanes(up->ctx));
    return body_edge < max ? body_edge : max;
}

/* Body tile i of the area, at edge `body`; its margin reaches into the whole image, so its r
 * matches a full run. */
static qsr__tile_geometry body_geometry(const qsr_upscaler *up, const run_area *a, uint32_t body,
                                        uint32_t depth, uint32_t i) {
    qsr__tile_geometry g;
    g.body = qsr__tile_rect(a->area.w, a->area.h, body, i);
    g.body.x += a->area.x;
    g.body.y += a->area.y;
    g.region = qsr__rect_grow(g.body, qsr__arch_halo(up->arch, &up->model->info, depth), a->width,
                              a->height);
    g.tile = g.ups = g.body;
    g.image_w = a->width;
    g.image_h = a->height;
    return g;
}

/* The HR tiles of body tile g: squares of hr_edge, or, where g is at most as wide as two
 * squares' grids (2 (edge + 2 margin) pixels), strips as wide as g of about a square's area. A
 * strip spans g, so at the image's sides its upsampler grids have no halo and fill whole workgroup
 * rows where the image's width does: 256 pixels at 16 lanes gives grids of 256, 512 and 1024,
 * where squares of 126 left a column 4 pixels wide that cost about two thirds of a full one
 * (a grid's last workgroup row costs as much as a full row). */
static void hr_shape(const qsr_upscaler *up, const qsr__tile_geometry *g, uint32_t body,
                     uint32_t *tw, uint32_t *th) {
    if (qsr__plan_folds(&up->plan, g)) {
        /* The folded upsampler keeps no intermediates and has no halo of its own: strips as
         * wide as g, of at most QSR__FOLD_STRIP_PIXELS, so its grids fill whole workgroup rows
         * (squares of 62 ran it at 8 pixels per invocation and left a column 8 wide at 256). */
        *tw = g->body.w;
        *th = QSR__FOLD_STRIP_PIXELS / g->body.w;
        *th = *th < 1 ? 1 : *th > g->body.h ? g->body.h : *th;
        return;
    }
    uint32_t edge = hr_edge(up, body);
    *tw = *th = edge;
    uint32_t grid = edge + 2 * up->arch->tile.hr_margin;
    if (up->arch->tile.whole_image || g->body.w <= edge || g->body.w > 2 * grid) return;
    *tw = g->body.w;
    *th = edge * edge / g->body.w;
}

/* HR tile j of body tile g. */
static void hr_geometry(const qsr_upscaler *up, qsr__tile_geometry *g, const run_area *a,
                        uint32_t body, uint32_t j) {
    uint32_t tw, th;
    hr_shape(up, g, body, &tw, &th);
    g->tile = qsr__tile_rect_wh(g->body.w, g->body.h, tw, th, j);
    g->tile.x += g->body.x;
    g->tile.y += g->body.y;
    g->ups = qsr__rect_grow(g->tile, up->arch->tile.hr_margin, a->width, a->height);
}

static uint32_t hr_count(const qsr_upscaler *up, const qsr__tile_geometry *g, uint32_t body) {
    uint32_t tw, th;
    hr_shape(up, g, body, &tw, &th);
    return qsr__tile_count_wh(g->body.w, g->body.h, tw, th);
}

/* The largest buffer sizes any body tile and HR tile of the area needs. */
static void area_activation_bytes(const qsr_upscaler *up, const run_area *a, uint32_t body,
                                  uint32_t depth, VkDeviceSize bytes[QSR__MAX_ACTIVATIONS]) {
    memset(bytes, 0, sizeof(VkDeviceSize) * QSR__MAX_ACTIVATIONS);
    uint32_t n = qsr__tile_count(a->area.w, a->area.h, body);
    for (uint32_t i = 0; i < n; i++) {
        qsr__tile_geometry g = body_geometry(up, a, body, depth, i);
        uint32_t hr = hr_count(up, &g, body);
        for (uint32_t j = 0; j < hr; j++) {
            hr_geometry(up, &g, a, body, j);
            VkDeviceSize b[QSR__MAX_ACTIVATIONS];
            qsr__plan_activation_bytes(&up->plan, &g, b);
            for (int k = 0; k < QSR__MAX_ACTIVATIONS; k++)
                if (b[k] > bytes[k]) bytes[k] = b[k];
        }
    }
}

/* Do the activation buffers fit the budget, and each the device's buffer limits? Activations
 * are bound as storage buffers, and with texel fetches also as 4-byte texel views. */
static int fits(const qsr_upscaler *up, const VkDeviceSize bytes[QSR__MAX_ACTIVATIONS],
                uint64_t budget, int storage_fetch) {
    VkDeviceSize total = 0;
    VkDeviceSize texel_max = qsr__texel_buffer_max_bytes(up->ctx, 0);
    for (int k = 0; k < QSR__MAX_ACTIVATIONS; k++) {
        if (bytes[k] > up->ctx->info.max_storage_buffer_range) return 0;
        if (!storage_fetch && bytes[k] > texel_max) return 0;
        total += bytes[k];
    }
    return total <= budget;
}

static uint64_t memory_budget(const qsr_upscaler *up) {
    if (up->desc.max_memory) return up->desc.max_memory;
    uint64_t quarter = up->ctx->info.device_local_bytes / 4;
    uint64_t cap = 1ull << 30;
    /* A forced limits profile (mobile: 64 MiB) lowers the cap. */
    if (up->ctx->info.memory_budget_cap && up->ctx->info.memory_budget_cap < cap)
        cap = up->ctx->info.memory_budget_cap;
    return quarter && quarter < cap ? quarter : cap;
}

/* Architectures without an exact halo run the whole area as one tile (a requested tile edge
 * does not apply), or fail when its buffers exceed the memory budget. */
static qsr_status whole_image_tile(const qsr_upscaler *up, const run_area *a, uint32_t *out,
                                   int *storage) {
    uint32_t edge = a->area.w > a->area.h ? a->area.w : a->area.h;
    VkDeviceSize bytes[QSR__MAX_ACTIVATIONS];
    area_activation_bytes(up, a, edge, 0, bytes);
    uint64_t budget = memory_budget(up);
    if (!fits(up, bytes, budget, 1)) {
        VkDeviceSize total = 0;
        for (int k = 0; k < QSR__MAX_ACTIVATIONS; k++)
            total += bytes[k];
        return qsr__fail(QSR_ERROR_OUT_OF_DEVICE_MEMORY,
                         "%s runs a whole %ux%u image at once, whose buffers (%llu bytes) exceed "
                         "the memory budget of %llu bytes or a device buffer limit",
                         up->arch->name, a->area.w, a->area.h, (unsigned long long)total,
                         (unsigned long long)budget);
    }
    *out = edge;
    *storage = !fits(up, bytes, budget, 0);
    return QSR_OK;
}

/* The tile edge: the user's, or the largest candidate whose buffers fit the budget and the
 * device's maxStorageBufferRange for this image at full depth (so a depth change never needs
 * a smaller tile). *storage: the tile's activation buffers exceed maxTexelBufferElements, so
 * the kernels must read them through storage buffers; texel fetches (faster on lavapipe) are
 * kept wherever the largest tile allows them. */
static qsr_status choose_tile(const qsr_upscaler *up, const run_area *a, uint32_t *out,
                              int *storage) {
    uint32_t width = a->area.w, height = a->area.h;
    if (up->arch->tile.whole_image) return whole_image_tile(up, a, out, storage);
    if (up->desc.tile) {
        *out = up->desc.tile;
        VkDeviceSize bytes[QSR__MAX_ACTIVATIONS];
        area_activation_bytes(up, a, *out, 0, bytes);
        *storage = !fits(up, bytes, UINT64_MAX, 0);
        return QSR_OK;
    }
    static const uint32_t candidates[] = {1024, 768, 512, 384, 256, 192, 128, 96, 64, 48, 32, 16};
    uint64_t budget = memory_budget(up);
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        uint32_t t = candidates[i];
        if (t > width && t > height && i + 1 < sizeof candidates / sizeof candidates[0] &&
            candidates[i + 1] >= width && candidates[i + 1] >= height)
            continue; /* a smaller candidate covers the image as well */
        VkDeviceSize bytes[QSR__MAX_ACTIVATIONS];
        area_activation_bytes(up, a, t, 0, bytes);
        if (fits(up, bytes, budget, 1)) {
            *out = t;
            *storage = !fits(up, bytes, budget, 0);
            return QSR_OK;
        }
    }
    return qsr__fail(QSR_ERROR_OUT_OF_DEVICE_MEMORY,
                     "even 16-pixel tiles of this %u-channel model exceed the memory budget of "
                     "%llu bytes",
                     up->model->info.channels, (unsigned long long)budget);
}

/* Both plans; the frame plan first, since it borrows the main plan's weights. */
static void destroy_plans(qsr_upscaler *up) {
    qsr__plan_destroy(&up->frame);
    qsr__plan_destroy(&up->plan);
}

/* Before the context recreates a lost device: the plans go, and the next run rebuilds the main
 * one (the frame plan waits for qsr_upscaler_prepare). */
static void release_device_objects(qsr__device_user *user) {
    destroy_plans((qsr_upscaler *)user);
}

qsr_status qsr_upscaler_create(qsr_context *ctx, const qsr_model *model,
                               const qsr_upscaler_desc *desc, qsr_upscaler **out) {
    if (!ctx || !model || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscaler_create: NULL argument");
    qsr_upscaler_desc d = desc ? *desc : (qsr_upscaler_desc){0};
    if (d.tile && (d.tile < 8 || d.tile > 4096))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "tile %u is outside 8..4096", d.tile);
    if ((unsigned)d.precision > QSR_PRECISION_FP32 || (unsigned)d.fp_math > QSR_FP_MATH_REFERENCE)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "unknown precision %d or fp_math %d",
                         (int)d.precision, (int)d.fp_math);
    const qsr__program *program = NULL;
    qsr_status gate = qsr__arch_gpu_program(model, &program);
    if (gate != QSR_OK) return gate;
    qsr_upscaler *up = calloc(1, sizeof *up);
    if (!up) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "upscaler");
    up->ctx = ctx;
    up->model = model;
    up->arch = qsr__arch_find(model->info.arch);
    up->desc = d;
    qsr_status st = qsr__plan_create(ctx, model, &d, &up->plan);
    if (st != QSR_OK) {
        free(up);
        return st;
    }
    up->device_user.release = release_device_objects;
    qsr__context_add_user(ctx, &up->device_user);
    *out = up;
    return QSR_OK;
}

int qsr__upscaler_storage_fetch(const qsr_upscaler *up) {
    return up ? up->plan.storage_fetch : 0;
}

void qsr_upscaler_destroy(qsr_upscaler *up) {
    if (!up) return;
    qsr__context_remove_user(up->ctx, &up->device_user);
    destroy_plans(up);
    free(up);
}

static qsr_status check_size(const qsr_upscaler *up, uint32_t width, uint32_t height) {
    if (width == 0 || height == 0 || width > QSR_MAX_IMAGE_DIMENSION ||
        height > QSR_MAX_IMAGE_DIMENSION)
        return qsr__fail(QSR_ERROR_LIMIT, "input of %ux%u pixels is outside 1..%u per side", width,
                         height, QSR_MAX_IMAGE_DIMENSION);
    uint64_t out_w = (uint64_t)width * up->model->info.scale;
    uint64_t out_h = (uint64_t)height * up->model->info.scale;
    if (out_w > QSR_MAX_IMAGE_DIMENSION * 4ull || out_h > QSR_MAX_IMAGE_DIMENSION * 4ull)
        return qsr__fail(QSR_ERROR_LIMIT, "output of %llux%llu pixels is too large",
                         (unsigned long long)out_w, (unsigned long long)out_h);
    return QSR_OK;
}

static qsr_status check_depth(const qsr_upscaler *up, uint32_t depth) {
    if (depth > up->model->info.blocks)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "depth %u exceeds the model's %u blocks",
                         depth, up->model->info.blocks);
    return QSR_OK;
}

static qsr_status check_input(const qsr_upscaler *up, const qsr_image *in, uint32_t depth) {
    if (!in || !in->pixels || (in->channels != 3 && in->channels != 4))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "input must be an RGB or RGBA image");
    qsr_status st = check_size(up, in->width, in->height);
    return st == QSR_OK ? check_depth(up, depth) : st;
}

/* Every body tile of the area at one body tile size, and every HR tile of each. */
static qsr_status run_tiles(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                            const run_area *a, uint32_t tile, const qsr__tile_sink *sink,
                            qsr_run_stats *s) {
    VkDeviceSize bytes[QSR__MAX_ACTIVATIONS];
    area_activation_bytes(up, a, tile, depth, bytes);
    qsr_status st = qsr__plan_reserve(&up->plan, bytes);
    if (st != QSR_OK) return st;
    qsr__plan_take_nonfinite(&up->plan);
    *s = (qsr_run_stats){.tile = tile};
    up->plan.submissions = 0;
    uint32_t n = qsr__tile_count(a->area.w, a->area.h, tile);
    for (uint32_t i = 0; i < n && st == QSR_OK; i++) {
        qsr__tile_geometry g = body_geometry(up, a, tile, depth, i);
        st = qsr__plan_run_body(&up->plan, &g, depth, in, &s->gpu_ms);
        s->tiles++;
        s->macs += run_macs_per_pixel(up, depth, a->width, a->height) * g.region.w * g.region.h;
        uint32_t hr = hr_count(up, &g, tile);
        for (uint32_t j = 0; j < hr && st == QSR_OK; j++) {
            hr_geometry(up, &g, a, tile, j);
            st = qsr__plan_run_hr_tile(&up->plan, &g, sink, &s->gpu_ms);
        }
    }
    s->submissions = up->plan.submissions;
    return st;
}

/* The plan again (a new device, or another upscaler's recovery), profiling kept as it was. */
static qsr_status rebuild_plan(qsr_upscaler *up) {
    qsr_status st = qsr__plan_create(up->ctx, up->model, &up->desc, &up->plan);
    up->plan.profile.enabled = up->profiling;
    return st;
}

/* Another upscaler of this context recovered from a device loss: the plans of the old device
 * go (the frame plan waits for qsr_upscaler_prepare) and the main plan is made on the new one. */
static qsr_status refresh_plan(qsr_upscaler *up) {
    if (up->plan.generation == up->ctx->generation && up->plan.ctx) return QSR_OK;
    destroy_plans(up);
    return rebuild_plan(up);
}

/* After VK_ERROR_DEVICE_LOST: a new device, and this upscaler's objects made again on it. */
static qsr_status recover_device(qsr_upscaler *up) {
    destroy_plans(up);
    qsr_status st = qsr__context_reset_device(up->ctx);
    if (st == QSR_OK) st = rebuild_plan(up);
    return st;
}

static int is_constant(const qsr_image *img) {
    size_t n = (size_t)img->width * img->height;
    for (size_t i = 1; i < n; i++)
        for (uint32_t c = 0; c < 3; c++)
            if (img->pixels[i * img->channels + c] != img->pixels[c]) return 0;
    return 1;
}

/* A run whose result cannot be right is an error, never an output: a constant image from a
 * non-constant input (the "black image" of a failed device). Non-finite values were checked
 * by run_area_into. */
static qsr_status check_output(const qsr_image *in, const qsr_image *out) {
    if (is_constant(out) && !is_constant(in))
        return qsr__fail(QSR_ERROR_BAD_OUTPUT, "the output is a constant image although the input "
                                               "is not; the device returned no real result");
    return QSR_OK;
}

/* Runs the area into the sink at the chosen tile size, halving the tile when device memory
 * runs out and, for host sinks, recreating a lost device once. Checks non-finite results. */
static qsr_status run_area_into(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                                const run_area *a, const qsr__tile_sink *sink, qsr_run_stats *s) {
    qsr_status st = refresh_plan(up);
    if (st != QSR_OK) return st;
    uint32_t tile = 0;
    int storage = 0;
    st = choose_tile(up, a, &tile, &storage);
    if (st == QSR_OK) st = qsr__plan_set_fetch(&up->plan, storage);
    if (st != QSR_OK) return st;
    int recovered = 0;
    for (;;) {
        st = run_tiles(up, in, depth, a, tile, sink, s);
        if (st == QSR_ERROR_OUT_OF_DEVICE_MEMORY && tile > 16) {
            /* Smaller tiles need smaller buffers: halve until it fits. */
            qsr__plan_release_activations(&up->plan);
            tile /= 2;
            continue;
        }
        /* Once: a new device, and the image again at half the tile size (a watchdog or a
         * driver fault on a large tile is the usual cause). A device buffer of the
         * application died with the old device, so that sink cannot be retried. */
        if (st == QSR_ERROR_DEVICE_LOST && !recovered && sink->image) {
            recovered = 1;
            st = recover_device(up);
            if (st == QSR_OK) st = qsr__plan_set_fetch(&up->plan, storage);
            if (st != QSR_OK) return st; /* its message says why no new device came */
            tile = tile / 2 >= 16 ? tile / 2 : 16;
            continue;
        }
        break;
    }
    if (st == QSR_ERROR_DEVICE_LOST)
        return qsr__fail_context(st, recovered ? "the device was lost again after being recreated"
                                               : "the device was lost");
    if (st == QSR_OK && qsr__plan_take_nonfinite(&up->plan))
        return qsr__fail(QSR_ERROR_BAD_OUTPUT, "the network produced non-finite values (NaN or "
                                               "infinity); the model or the device is faulty");
    return st;
}

static run_area whole_area(const qsr_image *in) {
    return (run_area){in->width, in->height, {0, 0, in->width, in->height}};
}

/* The area of a caller's region (NULL = whole image), checked against the image. */
static qsr_status region_area(const qsr_image *in, const qsr_rect *region, run_area *out) {
    *out = whole_area(in);
    if (!region) return QSR_OK;
    if (region->width == 0 || region->height == 0 || region->x >= in->width ||
        region->y >= in->height || region->width > in->width - region->x ||
        region->height > in->height - region->y)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "region %ux%u at (%u, %u) is empty or outside the %ux%u input",
                         region->width, region->height, region->x, region->y, in->width,
                         in->height);
    out->area = (qsr__rect){region->x, region->y, region->width, region->height};
    return QSR_OK;
}

qsr_status qsr_upscaler_run(qsr_upscaler *up, const qsr_image *in, uint32_t depth, qsr_image *out,
                            qsr_run_stats *stats) {
    if (!up || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscaler_run: NULL argument");
    qsr_status st = check_input(up, in, depth);
    if (st != QSR_OK) return st;
    double t0 = now_ms();
    const qsr_model *m = up->model;
    qsr_image result;
    st = qsr_image_create(in->width * m->info.scale, in->height * m->info.scale, in->channels,
                          &result);
    if (st != QSR_OK) return st;
    qsr_run_stats s = {0};
    run_area a = whole_area(in);
    qsr__tile_sink sink = {.image = &result};
    st = run_area_into(up, in, depth, &a, &sink, &s);
    if (st == QSR_OK) st = check_output(in, &result);
    if (st == QSR_OK && in->channels == 4) st = qsr__upscale_alpha(in, m->info.scale, &result);
    if (st != QSR_OK) {
        qsr_image_free(&result);
        return st;
    }
    s.total_ms = now_ms() - t0;
    if (s.gpu_ms > 0 && s.macs) up->ns_per_mac = s.gpu_ms * 1e6 / (double)s.macs;
    if (stats) *stats = s;
    *out = result;
    return QSR_OK;
}

/* The region (NULL = whole image) into a caller's sink, timed; the partial-run entry points
 * share it after checking their own outputs. */
static qsr_status run_partial(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                              const qsr_rect *region, const qsr__tile_sink *sink,
                              qsr_run_stats *stats) {
    run_area a;
    qsr_status st = region_area(in, region, &a);
    if (st != QSR_OK) return st;
    double t0 = now_ms();
    qsr_run_stats rs = {0};
    st = run_area_into(up, in, depth, &a, sink, &rs);
    if (st != QSR_OK) return st;
    rs.total_ms = now_ms() - t0;
    /* Region runs refine qsr_upscaler_depth_for_budget's estimate as whole runs do (a viewer
     * runs only regions). */
    if (rs.gpu_ms > 0 && rs.macs) up->ns_per_mac = rs.gpu_ms * 1e6 / (double)rs.macs;
    if (stats) *stats = rs;
    return QSR_OK;
}

qsr_status qsr_upscaler_run_region(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                                   const qsr_rect *region, qsr_image *out, qsr_run_stats *stats) {
    if (!up || !out || !out->pixels)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscaler_run_region: NULL argument");
    qsr_status st = check_input(up, in, depth);
    if (st != QSR_OK) return st;
    uint32_t s = up->model->info.scale;
    if (out->width != in->width * s || out->height != in->height * s ||
        (out->channels != 3 && out->channels != 4))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "region output must be the whole %ux%u RGB(A) output image, got "
                         "%ux%u with %u channels",
                         in->width * s, in->height * s, out->width, out->height, out->channels);
    qsr__tile_sink sink = {.image = out};
    return run_partial(up, in, depth, region, &sink, stats);
}

qsr_status qsr_upscaler_run_to_buffer(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                                      const qsr_rect *region, const qsr_gpu_buffer *dst,
                                      qsr_run_stats *stats) {
    if (!up || !dst || !dst->buffer)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscaler_run_to_buffer: NULL argument");
    qsr_status st = check_input(up, in, depth);
    if (st != QSR_OK) return st;
    uint32_t s = up->model->info.scale;
    uint64_t need = (uint64_t)in->width * s * in->height * s * 4;
    if (dst->offset % 4 || dst->size < need)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "the device buffer holds %llu bytes at offset %llu; the %ux%u output "
                         "needs %llu bytes at a multiple of 4",
                         (unsigned long long)dst->size, (unsigned long long)dst->offset,
                         in->width * s, in->height * s, (unsigned long long)need);
    qsr__tile_sink sink = {
        .buffer = (VkBuffer)dst->buffer, .offset = dst->offset, .row_pixels = in->width * s};
    return run_partial(up, in, depth, region, &sink, stats);
}

/* ---------------------------------------------------------------------------------------------
 * Frames recorded into the application's command buffer
 */

/* The frame plan's buffers for the whole image at full depth (the largest margin, so every
 * depth fits) in body tiles of `tile`, and every row-copy region a recording needs. */
static qsr_status reserve_frame(qsr_upscaler *up, const run_area *a, uint32_t tile) {
    VkDeviceSize bytes[QSR__MAX_ACTIVATIONS];
    area_activation_bytes(up, a, tile, 0, bytes);
    qsr_status st = qsr__plan_reserve(&up->frame, bytes);
    if (st != QSR_OK) return st;
    /* Input copies are one region per LR row of a body tile's region, output copies one per HR
     * row of a tile: the image's height bounds both. */
    uint32_t rows = a->height > hr_edge(up, tile) * up->model->info.scale
                        ? a->height
                        : hr_edge(up, tile) * up->model->info.scale;
    return qsr__plan_reserve_rows(&up->frame, rows);
}

/* A frame plan for the size, its tile halved while device memory runs out (as runs do). */
static qsr_status build_frame(qsr_upscaler *up, const run_area *a) {
    uint32_t tile = 0;
    int storage = 0;
    qsr_status st = choose_tile(up, a, &tile, &storage);
    if (st == QSR_OK) st = qsr__plan_create_frame(&up->plan, &up->frame);
    if (st == QSR_OK) st = qsr__plan_set_fetch(&up->frame, storage);
    if (st == QSR_OK) st = qsr__plan_warm_pipelines(&up->frame);
    for (;;) {
        if (st == QSR_OK) st = reserve_frame(up, a, tile);
        if (st != QSR_ERROR_OUT_OF_DEVICE_MEMORY || tile <= 16 || !up->frame.ctx) break;
        qsr__plan_release_activations(&up->frame);
        tile /= 2;
        st = QSR_OK;
    }
    up->frame_tile = tile;
    return st;
}

qsr_status qsr_upscaler_prepare(qsr_upscaler *up, uint32_t width, uint32_t height) {
    if (!up) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscaler_prepare: NULL upscaler");
    qsr_status st = check_size(up, width, height);
    if (st != QSR_OK) return st;
    qsr__plan_destroy(&up->frame); /* waits for the queue: its buffers may be in use */
    up->frame_width = up->frame_height = 0;
    st = refresh_plan(up);
    if (st != QSR_OK) return st;
    run_area a = {width, height, {0, 0, width, height}};
    st = build_frame(up, &a);
    if (st != QSR_OK) {
        qsr__plan_destroy(&up->frame);
        return qsr__fail_context(st, "preparing %ux%u frames", width, height);
    }
    up->frame_width = width;
    up->frame_height = height;
    return QSR_OK;
}

/* A buffer range of `need` bytes: set, aligned, large enough. */
static qsr_status check_gpu_buffer(const qsr_gpu_buffer *b, const char *name, uint64_t need,
                                   uint32_t width, uint32_t height) {
    if (!b || !b->buffer)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_cmd_upscale: %s is NULL", name);
    if (b->offset % 4 || b->size < need)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "qsr_cmd_upscale: %s holds %llu bytes at offset %llu; %ux%u pixels need "
                         "%llu bytes at a multiple of 4",
                         name, (unsigned long long)b->size, (unsigned long long)b->offset, width,
                         height, (unsigned long long)need);
    return QSR_OK;
}

/* Everything qsr_cmd_upscale can refuse, checked before anything is recorded. */
static qsr_status check_frame_args(const qsr_upscaler *up, const void *cmd,
                                   const qsr_gpu_buffer *src, const qsr_gpu_buffer *dst,
                                   uint32_t depth) {
    if (!up) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_cmd_upscale: NULL upscaler");
    if (!cmd)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_cmd_upscale: command_buffer is NULL");
    if (!up->frame_width)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "qsr_cmd_upscale: call qsr_upscaler_prepare first (the input size)");
    if (!up->frame.ctx || up->frame.generation != up->ctx->generation)
        return qsr__fail(QSR_ERROR_DEVICE_LOST,
                         "qsr_cmd_upscale: the context's device was lost and recreated; make "
                         "command buffers and buffers on the new device and call "
                         "qsr_upscaler_prepare again");
    uint32_t w = up->frame_width, h = up->frame_height, s = up->model->info.scale;
    uint64_t src_bytes = (uint64_t)w * h * 4, dst_bytes = (uint64_t)w * s * h * s * 4;
    qsr_status st = check_gpu_buffer(src, "src", src_bytes, w, h);
    if (st == QSR_OK) st = check_gpu_buffer(dst, "dst", dst_bytes, w * s, h * s);
    if (st == QSR_OK && src->buffer == dst->buffer && src->offset < dst->offset + dst_bytes &&
        dst->offset < src->offset + src_bytes)
        st = qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_cmd_upscale: src and dst overlap");
    return st == QSR_OK ? check_depth(up, depth) : st;
}

qsr_status qsr_cmd_upscale(qsr_upscaler *up, void *command_buffer, const qsr_gpu_buffer *src,
                           const qsr_gpu_buffer *dst, uint32_t depth) {
    qsr_status st = check_frame_args(up, command_buffer, src, dst, depth);
    if (st != QSR_OK) return st;
    VkCommandBuffer cmd = (VkCommandBuffer)command_buffer;
    uint32_t w = up->frame_width, h = up->frame_height, tile = up->frame_tile;
    run_area a = {w, h, {0, 0, w, h}};
    qsr__tile_source source = {(VkBuffer)src->buffer, src->offset, w};
    qsr__tile_sink sink = {.buffer = (VkBuffer)dst->buffer,
                           .offset = dst->offset,
                           .row_pixels = w * up->model->info.scale};
    qsr__plan_record_frame_begin(&up->frame, cmd);
    /* Every tile goes into the one command buffer; the buffers they share are ordered by the
     * barriers each op records after itself. */
    uint32_t n = qsr__tile_count(w, h, tile);
    for (uint32_t i = 0; i < n && st == QSR_OK; i++) {
        qsr__tile_geometry g = body_geometry(up, &a, tile, depth, i);
        st = qsr__plan_record_body(&up->frame, cmd, &g, depth, &source);
        uint32_t hr = hr_count(up, &g, tile);
        for (uint32_t j = 0; j < hr && st == QSR_OK; j++) {
            hr_geometry(up, &g, &a, tile, j);
            st = qsr__plan_record_hr_tile(&up->frame, cmd, &g, &sink);
        }
    }
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * One call on CPU memory
 */
qsr_status qsr_upscale_rgba8(qsr_upscaler *up, const uint8_t *src, uint32_t width, uint32_t height,
                             size_t src_stride, uint8_t *dst, size_t dst_stride, uint32_t depth) {
    if (!up || !src || !dst)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_upscale_rgba8: NULL argument");
    qsr_status st = check_size(up, width, height);
    if (st != QSR_OK) return st;
    uint32_t s = up->model->info.scale;
    if (src_stride < (uint64_t)width * 4 || dst_stride < (uint64_t)width * s * 4)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "qsr_upscale_rgba8: strides %zu and %zu bytes are shorter than the rows "
                         "(%llu and %llu bytes)",
                         src_stride, dst_stride, (unsigned long long)width * 4,
                         (unsigned long long)width * s * 4);
    qsr_image in, out;
    st = qsr_image_create(width, height, 4, &in);
    if (st != QSR_OK) return st;
    for (uint32_t y = 0; y < height; y++)
        memcpy(in.pixels + (size_t)y * width * 4, src + y * src_stride, (size_t)width * 4);
    st = qsr_upscaler_run(up, &in, depth, &out, NULL);
    qsr_image_free(&in);
    if (st != QSR_OK) return st;
    for (uint32_t y = 0; y < out.height; y++)
        memcpy(dst + y * dst_stride, out.pixels + (size_t)y * out.width * 4, (size_t)out.width * 4);
    qsr_image_free(&out);
    return QSR_OK;
}
