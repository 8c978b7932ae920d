/* ensemble.c - the 8-way self-ensemble (see ensemble.h). */
#include "ensemble.h"

#include <stdlib.h>
#include <string.h>

/* Where pixel (x, y) of an image transformed by t, of size tw x th, comes from in the
 * untransformed image. The same map sends an upscaled transformed pixel back to its place
 * in the upscaled original, because upscaling commutes with the transform. */
static void source_of(uint32_t t, uint32_t tw, uint32_t th, uint32_t x, uint32_t y, uint32_t *sx,
                      uint32_t *sy) {
    uint32_t fx = (t & 1u) ? tw - 1 - x : x;
    uint32_t fy = (t & 2u) ? th - 1 - y : y;
    *sx = (t & 4u) ? fy : fx;
    *sy = (t & 4u) ? fx : fy;
}

static void transformed_size(uint32_t t, uint32_t w, uint32_t h, uint32_t *tw, uint32_t *th) {
    *tw = (t & 4u) ? h : w;
    *th = (t & 4u) ? w : h;
}

qsr_status cli_transform_image(const qsr_image *in, uint32_t t, qsr_image *out) {
    if (t >= CLI_ENSEMBLE_TRANSFORMS)
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "ensemble transform %u is not 0..7", t);
    uint32_t tw, th, c = in->channels;
    transformed_size(t, in->width, in->height, &tw, &th);
    qsr_image img;
    qsr_status st = qsr_image_create(tw, th, c, &img);
    if (st != QSR_OK) return st;
    for (uint32_t y = 0; y < th; y++) {
        for (uint32_t x = 0; x < tw; x++) {
            uint32_t sx, sy;
            source_of(t, tw, th, x, y, &sx, &sy);
            memcpy(img.pixels + ((size_t)y * tw + x) * c,
                   in->pixels + ((size_t)sy * in->width + sx) * c, c);
        }
    }
    *out = img;
    return QSR_OK;
}

/* Adds the upscaled transformed image `up` back in the original orientation. sums has the
 * size of the upscaled original (w x h x c). */
static void accumulate(const qsr_image *up, uint32_t t, uint32_t w, uint16_t *sums) {
    uint32_t c = up->channels;
    for (uint32_t y = 0; y < up->height; y++) {
        for (uint32_t x = 0; x < up->width; x++) {
            uint32_t sx, sy;
            source_of(t, up->width, up->height, x, y, &sx, &sy);
            const uint8_t *p = up->pixels + ((size_t)y * up->width + x) * c;
            uint16_t *s = sums + ((size_t)sy * w + sx) * c;
            for (uint32_t k = 0; k < c; k++)
                s[k] = (uint16_t)(s[k] + p[k]);
        }
    }
}

static void add_stats(qsr_run_stats *total, const qsr_run_stats *one) {
    total->tiles += one->tiles;
    total->tile = one->tile;
    total->gpu_ms += one->gpu_ms;
    total->total_ms += one->total_ms;
    total->macs += one->macs;
}

/* Runs transform t through fn and checks the output has the transformed upscaled size. */
static qsr_status upscale_transformed(cli_upscale_fn fn, void *user, const qsr_image *in,
                                      uint32_t t, uint32_t out_w, uint32_t out_h, qsr_image *up,
                                      qsr_run_stats *stats) {
    qsr_image moved;
    qsr_status st = cli_transform_image(in, t, &moved);
    if (st != QSR_OK) return st;
    st = fn(user, &moved, up, stats);
    qsr_image_free(&moved);
    if (st != QSR_OK) return st;
    uint32_t tw, th;
    transformed_size(t, out_w, out_h, &tw, &th);
    if (up->width != tw || up->height != th || up->channels != in->channels) {
        qsr_image_free(up);
        return qsr_set_error(
            QSR_ERROR_BAD_OUTPUT,
            "self-ensemble: transform %u gave a %ux%ux%u output, expected %ux%ux%u", t, up->width,
            up->height, up->channels, tw, th, in->channels);
    }
    return QSR_OK;
}

qsr_status cli_ensemble_upscale(cli_upscale_fn fn, void *user, const qsr_image *in, qsr_image *out,
                                qsr_run_stats *stats) {
    qsr_run_stats total = {.tiles = 0};
    qsr_image result;
    /* The identity run fixes the output size the seven others must match. */
    qsr_status st = fn(user, in, &result, &total);
    if (st != QSR_OK) return st;
    /* The sums of 8 bytes fit 16 bits and are exact, so the average is the float mean
     * rounded once, at the end (half up), whatever order the runs come in. */
    size_t count = (size_t)result.width * result.height * result.channels;
    uint16_t *sums = calloc(count, sizeof *sums);
    if (sums == NULL) {
        qsr_image_free(&result);
        return qsr_set_error(QSR_ERROR_OUT_OF_HOST_MEMORY, "self-ensemble: no memory for %zu sums",
                             count);
    }
    accumulate(&result, 0, result.width, sums);
    for (uint32_t t = 1; t < CLI_ENSEMBLE_TRANSFORMS && st == QSR_OK; t++) {
        qsr_image up;
        qsr_run_stats one = {.tiles = 0};
        st = upscale_transformed(fn, user, in, t, result.width, result.height, &up, &one);
        if (st != QSR_OK) break;
        accumulate(&up, t, result.width, sums);
        add_stats(&total, &one);
        qsr_image_free(&up);
    }
    if (st == QSR_OK) {
        for (size_t i = 0; i < count; i++)
            result.pixels[i] =
                (uint8_t)((sums[i] + CLI_ENSEMBLE_TRANSFORMS / 2) / CLI_ENSEMBLE_TRANSFORMS);
        *out = result;
        if (stats) *stats = total;
    } else {
        qsr_image_free(&result);
    }
    free(sums);
    return st;
}
