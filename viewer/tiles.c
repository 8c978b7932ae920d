/* tiles.c - tile layout, per-stop flags and the copy of computed regions into the cache. */
#include "tiles.h"

#include <stdlib.h>
#include <string.h>

void viewer_tile_grid_make(uint32_t lr_w, uint32_t lr_h, uint32_t scale, int whole,
                           viewer_tile_grid *out) {
    memset(out, 0, sizeof *out);
    out->lr_w = lr_w;
    out->lr_h = lr_h;
    out->scale = scale ? scale : 1;
    out->tile = VIEWER_CACHE_TILE_OUT / out->scale;
    if (whole) out->tile = lr_w > lr_h ? (lr_w ? lr_w : 1) : (lr_h ? lr_h : 1);
    out->cols = (lr_w + out->tile - 1) / out->tile;
    out->rows = (lr_h + out->tile - 1) / out->tile;
}

uint32_t viewer_tile_count(const viewer_tile_grid *grid) {
    return grid->cols * grid->rows;
}

qsr_rect viewer_tile_rect(const viewer_tile_grid *grid, uint32_t i) {
    qsr_rect r;
    r.x = (i % grid->cols) * grid->tile;
    r.y = (i / grid->cols) * grid->tile;
    r.width = grid->lr_w - r.x < grid->tile ? grid->lr_w - r.x : grid->tile;
    r.height = grid->lr_h - r.y < grid->tile ? grid->lr_h - r.y : grid->tile;
    return r;
}

/* Output coordinate v on an axis of `count` tiles -> tile index, clamped to [0, count]. */
static uint32_t tile_index(const viewer_tile_grid *grid, int v, uint32_t count) {
    if (v <= 0) return 0;
    uint32_t t = (uint32_t)v / (grid->tile * grid->scale);
    return t > count ? count : t;
}

viewer_tile_range viewer_tile_range_of(const viewer_tile_grid *grid, int x0, int y0, int x1,
                                       int y1) {
    viewer_tile_range r = {0, 0, 0, 0};
    if (x1 <= x0 || y1 <= y0 || grid->cols == 0 || grid->rows == 0) return r;
    r.c0 = tile_index(grid, x0, grid->cols);
    r.r0 = tile_index(grid, y0, grid->rows);
    /* Exclusive ends: the tile holding pixel x1 - 1, plus one. */
    r.c1 = tile_index(grid, x1 - 1, grid->cols - 1) + 1;
    r.r1 = tile_index(grid, y1 - 1, grid->rows - 1) + 1;
    if (r.c0 >= r.c1 || r.r0 >= r.r1) r.c1 = r.c0, r.r1 = r.r0;
    return r;
}

static void free_stop(viewer_stop_tiles *s) {
    qsr_image_free(&s->image);
    free(s->computed);
    memset(s, 0, sizeof *s);
}

void viewer_tile_cache_reset(viewer_tile_cache *cache, const viewer_tile_grid *grid) {
    viewer_tile_cache_free(cache);
    cache->grid = *grid;
}

void viewer_tile_cache_free(viewer_tile_cache *cache) {
    for (uint32_t i = 0; i < VIEWER_MAX_STOPS; i++)
        free_stop(&cache->stops[i]);
    memset(&cache->grid, 0, sizeof cache->grid);
}

qsr_status viewer_tile_cache_open_stop(viewer_tile_cache *cache, uint32_t stop,
                                       const qsr_image *placeholder) {
    const viewer_tile_grid *g = &cache->grid;
    if (stop >= VIEWER_MAX_STOPS)
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "viewer: depth stop %u", stop);
    viewer_stop_tiles *s = &cache->stops[stop];
    if (s->computed) return QSR_OK;
    if (placeholder && (placeholder->width != g->lr_w * g->scale ||
                        placeholder->height != g->lr_h * g->scale || placeholder->channels != 3))
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT,
                             "viewer: a %ux%ux%u placeholder for a %ux%u output",
                             placeholder->width, placeholder->height, placeholder->channels,
                             g->lr_w * g->scale, g->lr_h * g->scale);
    size_t tiles = viewer_tile_count(g);
    s->computed = calloc(tiles ? tiles : 1, 1);
    if (!s->computed)
        return qsr_set_error(QSR_ERROR_OUT_OF_HOST_MEMORY, "viewer: out of memory for %zu tiles",
                             tiles);
    if (!placeholder) return QSR_OK; /* the pixels live elsewhere (a device buffer) */
    qsr_status st = qsr_image_create(placeholder->width, placeholder->height, 3, &s->image);
    if (st != QSR_OK) {
        free_stop(s);
        return st;
    }
    memcpy(s->image.pixels, placeholder->pixels,
           (size_t)placeholder->width * placeholder->height * 3);
    return QSR_OK;
}

int viewer_tile_cache_is_complete(const viewer_tile_cache *cache, uint32_t stop) {
    const viewer_stop_tiles *s = &cache->stops[stop];
    return s->computed && s->computed_count == viewer_tile_count(&cache->grid);
}

/* Rows of `range` ordered by distance from its middle (twice the distance, to stay integer). */
static uint32_t rows_centre_first(viewer_tile_range range, uint32_t *rows) {
    uint32_t count = 0;
    long twice_middle = (long)range.r0 + (long)range.r1 - 1;
    for (uint32_t r = range.r0; r < range.r1; r++) {
        long d = labs(2 * (long)r - twice_middle);
        uint32_t k = count++;
        while (k > 0 && labs(2 * (long)rows[k - 1] - twice_middle) > d) {
            rows[k] = rows[k - 1];
            k--;
        }
        rows[k] = r;
    }
    return count;
}

uint32_t viewer_tile_cache_missing(const viewer_tile_cache *cache, uint32_t stop,
                                   viewer_tile_range range, qsr_rect *regions, uint32_t cap) {
    const viewer_tile_grid *g = &cache->grid;
    const viewer_stop_tiles *s = &cache->stops[stop];
    uint32_t rows[1024], count = 0;
    if (!s->computed || range.r1 - range.r0 > 1024) return 0;
    uint32_t row_count = rows_centre_first(range, rows);
    for (uint32_t k = 0; k < row_count && count < cap; k++) {
        uint32_t row = rows[k];
        for (uint32_t c = range.c0; c < range.c1 && count < cap; c++) {
            if (s->computed[row * g->cols + c]) continue;
            uint32_t end = c;
            while (end + 1 < range.c1 && !s->computed[row * g->cols + end + 1])
                end++;
            qsr_rect first = viewer_tile_rect(g, row * g->cols + c);
            qsr_rect last = viewer_tile_rect(g, row * g->cols + end);
            regions[count++] =
                (qsr_rect){first.x, first.y, last.x + last.width - first.x, first.height};
            c = end;
        }
    }
    return count;
}

static int tile_inside(qsr_rect tile, qsr_rect region) {
    return tile.x >= region.x && tile.y >= region.y &&
           tile.x + tile.width <= region.x + region.width &&
           tile.y + tile.height <= region.y + region.height;
}

static void add_stats(qsr_run_stats *sum, const qsr_run_stats *run) {
    sum->tiles += run->tiles;
    sum->tile = run->tile;
    sum->submissions += run->submissions;
    sum->gpu_ms += run->gpu_ms;
    sum->total_ms += run->total_ms;
    sum->macs += run->macs;
}

static void copy_region(viewer_stop_tiles *s, const viewer_tile_grid *g, qsr_rect region,
                        const qsr_image *pixels) {
    size_t row = (size_t)pixels->width * 3, stride = (size_t)s->image.width * 3;
    uint8_t *dst =
        s->image.pixels + (size_t)region.y * g->scale * stride + (size_t)region.x * g->scale * 3;
    for (uint32_t y = 0; y < pixels->height; y++)
        memcpy(dst + y * stride, pixels->pixels + y * row, row);
}

static int region_fits(const viewer_tile_grid *g, qsr_rect region, const qsr_image *pixels) {
    if (region.width == 0 || region.height == 0 || region.x > g->lr_w ||
        region.width > g->lr_w - region.x || region.y > g->lr_h ||
        region.height > g->lr_h - region.y)
        return 0;
    return !pixels || (pixels->width == region.width * g->scale &&
                       pixels->height == region.height * g->scale && pixels->channels == 3);
}

qsr_status viewer_tile_cache_store(viewer_tile_cache *cache, uint32_t stop, qsr_rect region,
                                   const qsr_image *pixels, const qsr_run_stats *stats) {
    const viewer_tile_grid *g = &cache->grid;
    viewer_stop_tiles *s = stop < VIEWER_MAX_STOPS ? &cache->stops[stop] : NULL;
    if (!s || !s->computed)
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "viewer: depth stop %u is not open", stop);
    if (!region_fits(g, region, pixels))
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT,
                             "viewer: %ux%u pixels for region %ux%u at (%u, %u) of a %ux%u input",
                             pixels ? pixels->width : 0, pixels ? pixels->height : 0, region.width,
                             region.height, region.x, region.y, g->lr_w, g->lr_h);
    if (pixels && s->image.pixels) copy_region(s, g, region, pixels);
    for (uint32_t i = 0; i < viewer_tile_count(g); i++) {
        qsr_rect tile = viewer_tile_rect(g, i);
        if (s->computed[i] || !tile_inside(tile, region)) continue;
        s->computed[i] = 1;
        s->computed_count++;
        s->lr_pixels += (uint64_t)tile.width * tile.height;
    }
    if (stats) add_stats(&s->stats, stats);
    s->runs++;
    return QSR_OK;
}
