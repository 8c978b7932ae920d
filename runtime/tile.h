/* tile.h - how an image is cut into tiles whose results equal the untiled result exactly.
 *
 * Every 3x3 convolution widens the receptive field by one pixel at its own resolution. The
 * runtime cuts the image twice (upscaler.c):
 *   - body tiles B (LR pixels), as large as the memory budget allows (usually the whole
 *     image): the LR stages (conv_first, the active blocks, conv_after_body) run over B grown
 *     by the architecture's halo (qsr__arch_halo) pixels, clamped to the image, and leave r
 * (conv_after_body's output) exact over B grown by 2;
 *   - HR tiles T inside B: the upsampler over T grown by 1 LR pixel (QSR__UPSAMPLE_MARGIN),
 *     clamped, reading r; conv_last over T only.
 * Going backwards from the output: conv_last needs 1 HR pixel, which every upsampler stage
 * and its conv turn into 2 LR pixels of r (conv_after_body's output), conv_after_body 1 more,
 * each active block 2 (two convs), conv_first 1: margin = 4 + 2 * active blocks. Zero padding
 * happens only at the real image border, so each pixel sees the same arithmetic as untiled.
 */
#ifndef QSR_TILE_H
#define QSR_TILE_H

#include <stdint.h>

typedef struct qsr__rect {
    uint32_t x, y, w, h;
} qsr__rect;

/* QuantSR-C's HR halo and tile edge (its entry in runtime/arch/quantsr_c.c holds them). */
#define QSR__UPSAMPLE_MARGIN 1u
/* HR tiles are at most this many LR pixels on a side (upscaler.c says why) where workgroup
 * rows are 8 invocations wide, so the grid of the first upsampler conv is at most 64 wide:
 * one such row of conv3x3_f32 at 8 pixels per invocation (qsr__hr_tile_edge for wider rows). */
#define QSR__HR_TILE_MAX 62u

/* Where QuantSR-C's upsampler runs folded (plan.h qsr__plan_folds), HR tiles are strips of the
 * body tile's width and at most this many LR pixels (the output staging: 4 MiB at x4). */
#define QSR__FOLD_STRIP_PIXELS 65536u

/* The HR tile edge for an architecture's `max` and HR halo `margin` (QSR__HR_TILE_MAX and
 * QSR__UPSAMPLE_MARGIN for QuantSR-C, chosen for workgroup rows of 8 invocations) on a device
 * whose rows are `lanes` wide (qsr__row_lanes: 16 on lavapipe at 512 bits): the tile grows with
 * the rows, so that the upsampler's grids (tile + 2 margin) still fill them (126 at 16 lanes:
 * grids of 128, 254 and 504 pixels). */
uint32_t qsr__hr_tile_edge(uint32_t max, uint32_t margin, uint32_t lanes);

/* r grown by `margin` on each side, clamped to a width x height image. */
qsr__rect qsr__rect_grow(qsr__rect r, uint32_t margin, uint32_t width, uint32_t height);
/* The i-th tile of edge `tile` over a width x height image (row-major order). */
uint32_t qsr__tile_count(uint32_t width, uint32_t height, uint32_t tile);
qsr__rect qsr__tile_rect(uint32_t width, uint32_t height, uint32_t tile, uint32_t i);
/* The same for tiles of tw x th. */
uint32_t qsr__tile_count_wh(uint32_t width, uint32_t height, uint32_t tw, uint32_t th);
qsr__rect qsr__tile_rect_wh(uint32_t width, uint32_t height, uint32_t tw, uint32_t th, uint32_t i);

#endif
