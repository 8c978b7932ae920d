/* tiles.h - the per-depth output cache of a still image, split into fixed tiles so that only
 * the tiles on screen are computed.
 *
 * The output is cut into square cache tiles of VIEWER_CACHE_TILE_OUT output pixels (a whole
 * number of LR pixels). Each depth stop keeps a full-size output image and a flag per tile:
 * tiles not computed yet hold a placeholder (the dimmed bicubic upscale), so the right side
 * can always be drawn while the visible tiles fill in. Plain memory, no SDL, no threads: the
 * UI thread owns it. */
#ifndef QSR_VIEWER_TILES_H
#define QSR_VIEWER_TILES_H

#include "overlay.h"
#include "quantsr.h"

#include <stdint.h>

/* Cache tile edge in output pixels (rounded down to a multiple of the scale). Large enough
 * that the halo the network needs around a region (4 + 2 x blocks LR pixels a side) stays a
 * fraction of the work, small enough that zooming into a 4K output computes a few tiles. */
#define VIEWER_CACHE_TILE_OUT 512u

/* The tile layout of one input for one model scale. */
typedef struct viewer_tile_grid {
    uint32_t lr_w, lr_h; /* input size */
    uint32_t scale;
    uint32_t tile; /* tile edge in LR pixels */
    uint32_t cols, rows;
} viewer_tile_grid;

/* The output of one depth stop. */
typedef struct viewer_stop_tiles {
    qsr_image image;         /* full output; placeholder where not computed */
    uint8_t *computed;       /* cols x rows flags; NULL until the stop is first shown */
    uint32_t computed_count; /* tiles computed */
    uint64_t lr_pixels;      /* LR pixels computed (tile areas, halos not counted) */
    qsr_run_stats stats;     /* summed over the runs that computed them */
    uint32_t runs;           /* qsr_upscaler_run_region calls */
} viewer_stop_tiles;

typedef struct viewer_tile_cache {
    viewer_tile_grid grid;
    viewer_stop_tiles stops[VIEWER_MAX_STOPS];
} viewer_tile_cache;

/* whole: one tile over the whole image (models whose regions are not exact). */
void viewer_tile_grid_make(uint32_t lr_w, uint32_t lr_h, uint32_t scale, int whole,
                           viewer_tile_grid *out);
uint32_t viewer_tile_count(const viewer_tile_grid *grid);
/* Tile i (row-major) as an LR rectangle, cut at the image's right and bottom edges. */
qsr_rect viewer_tile_rect(const viewer_tile_grid *grid, uint32_t i);
/* The tiles covering output pixels [x0, x1) x [y0, y1), as tile columns [c0, c1) and rows
 * [r0, r1); an empty range when the rectangle is empty. */
typedef struct viewer_tile_range {
    uint32_t c0, r0, c1, r1;
} viewer_tile_range;
viewer_tile_range viewer_tile_range_of(const viewer_tile_grid *grid, int x0, int y0, int x1,
                                       int y1);

/* Empties every stop and takes the layout of a new input. */
void viewer_tile_cache_reset(viewer_tile_cache *cache, const viewer_tile_grid *grid);
void viewer_tile_cache_free(viewer_tile_cache *cache);
/* Makes stop `stop` ready to show: its image starts as a copy of `placeholder` (the output
 * size). No-op when it already is. placeholder NULL: flags only, the pixels are kept
 * elsewhere (the Vulkan presenter's device buffers). */
qsr_status viewer_tile_cache_open_stop(viewer_tile_cache *cache, uint32_t stop,
                                       const qsr_image *placeholder);
int viewer_tile_cache_is_complete(const viewer_tile_cache *cache, uint32_t stop);

/* The work still missing for stop `stop` within `range`: one LR region per horizontal run of
 * tiles not computed yet (a run shares one halo), rows nearest to the range's centre first,
 * so the middle of the screen fills in first. Writes at most cap regions; returns how many. */
uint32_t viewer_tile_cache_missing(const viewer_tile_cache *cache, uint32_t stop,
                                   viewer_tile_range range, qsr_rect *regions, uint32_t cap);

/* Stores the output of the LR rectangle `region` (region * scale pixels, RGB; NULL when the
 * output went to a device buffer) into stop `stop` and marks every tile that lies wholly
 * inside region as computed. */
qsr_status viewer_tile_cache_store(viewer_tile_cache *cache, uint32_t stop, qsr_rect region,
                                   const qsr_image *pixels, const qsr_run_stats *stats);

#endif
