/* tile.c - tile and halo geometry (tile.h; the halos are the architecture table's, arch.h). */
#include "tile.h"

qsr__rect qsr__rect_grow(qsr__rect r, uint32_t margin, uint32_t width, uint32_t height) {
    uint32_t x0 = r.x > margin ? r.x - margin : 0;
    uint32_t y0 = r.y > margin ? r.y - margin : 0;
    uint64_t x1 = (uint64_t)r.x + r.w + margin, y1 = (uint64_t)r.y + r.h + margin;
    if (x1 > width) x1 = width;
    if (y1 > height) y1 = height;
    return (qsr__rect){x0, y0, (uint32_t)x1 - x0, (uint32_t)y1 - y0};
}

uint32_t qsr__hr_tile_edge(uint32_t max, uint32_t margin, uint32_t lanes) {
    if (lanes <= 8) return max;
    return (max + 2u * margin) * (lanes / 8u) - 2u * margin;
}

uint32_t qsr__tile_count_wh(uint32_t width, uint32_t height, uint32_t tw, uint32_t th) {
    return ((width + tw - 1) / tw) * ((height + th - 1) / th);
}

qsr__rect qsr__tile_rect_wh(uint32_t width, uint32_t height, uint32_t tw, uint32_t th, uint32_t i) {
    uint32_t cols = (width + tw - 1) / tw;
    uint32_t x = (i % cols) * tw, y = (i / cols) * th;
    uint32_t w = width - x < tw ? width - x : tw;
    uint32_t h = height - y < th ? height - y : th;
    return (qsr__rect){x, y, w, h};
}

uint32_t qsr__tile_count(uint32_t width, uint32_t height, uint32_t tile) {
    return qsr__tile_count_wh(width, height, tile, tile);
}

qsr__rect qsr__tile_rect(uint32_t width, uint32_t height, uint32_t tile, uint32_t i) {
    return qsr__tile_rect_wh(width, height, tile, tile, i);
}
