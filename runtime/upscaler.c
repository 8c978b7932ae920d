/* upscaler.c - the public upscaler: picks a tile size, walks the tiles, handles alpha. */
#include "plan.h"
#include "platform.h"
#include "reference.h"

#include <stdlib.h>
#include <string.h>

struct qsr_upscaler {
    qsr__device_user device_user; /* first: the context's reset finds the upscaler by it */
    qsr_context *ctx;
    const qsr_model *model;
    qsr_upscaler_desc desc;
    qsr__plan plan;
    int profiling;     /* survives plan rebuilds */
    double ns_per_mac; /* device time per MAC of the last run with timestamps; 0 = none yet */
};

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
    for (int k = 0; k < QSR__OP_KIND_COUNT; k++) {
        uint32_t rank = pr->order[k];
        if (!rank || rank > max || !ops) continue;
        ops[rank - 1] = (qsr_op_profile){qsr__op_kind_name((qsr__op_kind)k, up->plan.quantized),
                                         pr->dispatches[k], pr->ms[k], pr->macs[k]};
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

static double predicted_ms(const qsr_upscaler *up, uint32_t depth, uint32_t width,
                           uint32_t height) {
    return (double)qsr_model_macs_per_pixel(up->model, depth) * width * height * up->ns_per_mac *
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

static uint32_t active_blocks(const qsr_model *m, uint32_t depth) {
    return depth == 0 || depth > m->info.blocks ? m->info.blocks : depth;
}

/* What one run computes: the output of the LR rectangle `area` of a width x height input. */
typedef struct run_area {
    uint32_t width, height; /* the whole input */
    qsr__rect area;
} run_area;

/* HR tiles are at most this many LR pixels on a side: their buffers grow with scale^2 and
 * their halo is one LR pixel, so small ones cost little (7% more upsampler work). 62 + 2
 * halo pixels make the upsampler's grids 64 and 128 wide, whole multiples of the 64-pixel
 * rows a convolution workgroup covers (a 64 tile would compute 192 of 132 columns). */
#define HR_TILE_MAX 62u

static uint32_t hr_edge(uint32_t body_edge) {
    return body_edge < HR_TILE_MAX ? body_edge : HR_TILE_MAX;
}

/* Body tile i of the area, at edge `body`; its margin reaches into the whole image, so its r
 * matches a full run. */
static qsr__tile_geometry body_geometry(const qsr_model *m, const run_area *a, uint32_t body,
                                        uint32_t depth, uint32_t i) {
    qsr__tile_geometry g;
    g.body = qsr__tile_rect(a->area.w, a->area.h, body, i);
    g.body.x += a->area.x;
    g.body.y += a->area.y;
    g.region =
        qsr__rect_grow(g.body, qsr__tile_margin(active_blocks(m, depth)), a->width, a->height);
    g.tile = g.ups = g.body;
    return g;
}

/* HR tile j of body tile g. */
static void hr_geometry(qsr__tile_geometry *g, const run_area *a, uint32_t body, uint32_t j) {
    g->tile = qsr__tile_rect(g->body.w, g->body.h, hr_edge(body), j);
    g->tile.x += g->body.x;
    g->tile.y += g->body.y;
    g->ups = qsr__rect_grow(g->tile, QSR__UPSAMPLE_MARGIN, a->width, a->height);
}

static uint32_t hr_count(const qsr__tile_geometry *g, uint32_t body) {
    return qsr__tile_count(g->body.w, g->body.h, hr_edge(body));
}

/* The largest buffer sizes any body tile and HR tile of the area needs. */
static void area_activation_bytes(const qsr_upscaler *up, const run_area *a, uint32_t body,
                                  uint32_t depth, VkDeviceSize bytes[QSR__ACT_COUNT]) {
    memset(bytes, 0, sizeof(VkDeviceSize) * QSR__ACT_COUNT);
    uint32_t n = qsr__tile_count(a->area.w, a->area.h, body);
    for (uint32_t i = 0; i < n; i++) {
        qsr__tile_geometry g = body_geometry(up->model, a, body, depth, i);
        uint32_t hr = hr_count(&g, body);
        for (uint32_t j = 0; j < hr; j++) {
            hr_geometry(&g, a, body, j);
            VkDeviceSize b[QSR__ACT_COUNT];
            qsr__plan_activation_bytes(&up->plan, &g, b);
            for (int k = 0; k < QSR__ACT_COUNT; k++)
                if (b[k] > bytes[k]) bytes[k] = b[k];
        }
    }
}

static int fits(const qsr_upscaler *up, const VkDeviceSize bytes[QSR__ACT_COUNT], uint64_t budget) {
    VkDeviceSize total = 0;
    /* Activations are bound as storage buffers and as 4-byte texel views. */
    VkDeviceSize texel_max = qsr__texel_buffer_max_bytes(up->ctx, 0);
    for (int k = 0; k < QSR__ACT_COUNT; k++) {
        if (bytes[k] > up->ctx->info.max_storage_buffer_range || bytes[k] > texel_max) return 0;
        total += bytes[k];
    }
    return total <= budget;
}

static uint64_t memory_budget(const qsr_upscaler *up) {
    if (up->desc.max_memory) return up->desc.max_memory;
    uint64_t quarter = up->ctx->info.device_local_bytes / 4;
    uint64_t cap = 1ull << 30;
    return quarter && quarter < cap ? quarter : cap;
}

/* The tile edge: the user's, or the largest candidate whose buffers fit the budget and the
 * device's maxStorageBufferRange for this image at full depth (so a depth change never needs
 * a smaller tile). */
static qsr_status choose_tile(const qsr_upscaler *up, const run_area *a, uint32_t *out) {
    uint32_t width = a->area.w, height = a->area.h;
    if (up->desc.tile) {
        *out = up->desc.tile;
        return QSR_OK;
    }
    static const uint32_t candidates[] = {1024, 768, 512, 384, 256, 192, 128, 96, 64, 48, 32, 16};
    uint64_t budget = memory_budget(up);
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        uint32_t t = candidates[i];
        if (t > width && t > height && i + 1 < sizeof candidates / sizeof candidates[0] &&
            candidates[i + 1] >= width && candidates[i + 1] >= height)
            continue; /* a smaller candidate covers the image as well */
        VkDeviceSize bytes[QSR__ACT_COUNT];
        area_activation_bytes(up, a, t, 0, bytes);
        if (fits(up, bytes, budget)) {
            *out = t;
            return QSR_OK;
        }
    }
    return qsr__fail(QSR_ERROR_OUT_OF_DEVICE_MEMORY,
                     "even 16-pixel tiles of this %u-channel model exceed the memory budget of "
                     "%llu bytes",
                     up->model->info.channels, (unsigned long long)budget);
}

/* Before the context recreates a lost device: the plan goes, and the next run rebuilds it. */
static void release_device_objects(qsr__device_user *user) {
    qsr_upscaler *up = (qsr_upscaler *)user;
    qsr__plan_destroy(&up->plan);
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
    if (model->info.arch != QSR_ARCH_QUANTSR_C)
        return qsr__fail(QSR_ERROR_UNSUPPORTED, "only QuantSR-C models run on the GPU so far");
    qsr_upscaler *up = calloc(1, sizeof *up);
    if (!up) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "upscaler");
    up->ctx = ctx;
    up->model = model;
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

void qsr_upscaler_destroy(qsr_upscaler *up) {
    if (!up) return;
    qsr__context_remove_user(up->ctx, &up->device_user);
    qsr__plan_destroy(&up->plan);
    free(up);
}

static qsr_status check_input(const qsr_upscaler *up, const qsr_image *in, uint32_t depth) {
    if (!in || !in->pixels || (in->channels != 3 && in->channels != 4))
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "input must be an RGB or RGBA image");
    if (in->width == 0 || in->height == 0 || in->width > QSR_MAX_IMAGE_DIMENSION ||
        in->height > QSR_MAX_IMAGE_DIMENSION)
        return qsr__fail(QSR_ERROR_LIMIT, "input of %ux%u pixels is outside 1..%u per side",
                         in->width, in->height, QSR_MAX_IMAGE_DIMENSION);
    uint64_t out_w = (uint64_t)in->width * up->model->info.scale;
    uint64_t out_h = (uint64_t)in->height * up->model->info.scale;
    if (out_w > QSR_MAX_IMAGE_DIMENSION * 4ull || out_h > QSR_MAX_IMAGE_DIMENSION * 4ull)
        return qsr__fail(QSR_ERROR_LIMIT, "output of %llux%llu pixels is too large",
                         (unsigned long long)out_w, (unsigned long long)out_h);
    if (depth > up->model->info.blocks)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "depth %u exceeds the model's %u blocks",
                         depth, up->model->info.blocks);
    return QSR_OK;
}

/* Every body tile of the area at one body tile size, and every HR tile of each. */
static qsr_status run_tiles(qsr_upscaler *up, const qsr_image *in, uint32_t depth,
                            const run_area *a, uint32_t tile, const qsr__tile_sink *sink,
                            qsr_run_stats *s) {
    const qsr_model *m = up->model;
    VkDeviceSize bytes[QSR__ACT_COUNT];
    area_activation_bytes(up, a, tile, depth, bytes);
    qsr_status st = qsr__plan_reserve(&up->plan, bytes);
    if (st != QSR_OK) return st;
    qsr__plan_take_nonfinite(&up->plan);
    *s = (qsr_run_stats){.tile = tile};
    up->plan.submissions = 0;
    uint32_t n = qsr__tile_count(a->area.w, a->area.h, tile);
    for (uint32_t i = 0; i < n && st == QSR_OK; i++) {
        qsr__tile_geometry g = body_geometry(m, a, tile, depth, i);
        st = qsr__plan_run_body(&up->plan, &g, depth, in, &s->gpu_ms);
        s->tiles++;
        s->macs += qsr_model_macs_per_pixel(m, depth) * g.region.w * g.region.h;
        uint32_t hr = hr_count(&g, tile);
        for (uint32_t j = 0; j < hr && st == QSR_OK; j++) {
            hr_geometry(&g, a, tile, j);
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

/* After VK_ERROR_DEVICE_LOST: a new device, and this upscaler's objects made again on it. */
static qsr_status recover_device(qsr_upscaler *up) {
    qsr__plan_destroy(&up->plan);
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
    /* Another upscaler of this context recovered from a device loss: rebuild on the new one. */
    if (up->plan.generation != up->ctx->generation || !up->plan.ctx) {
        qsr__plan_destroy(&up->plan);
        qsr_status st = rebuild_plan(up);
        if (st != QSR_OK) return st;
    }
    uint32_t tile = 0;
    qsr_status st = choose_tile(up, a, &tile);
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
            if (st != QSR_OK) break;
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
