/* ensemble.h - the 8-way self-ensemble (geometric test-time augmentation).
 *
 * The input is upscaled in the 8 orientations of the square's symmetry group; each output is
 * mapped back to the original orientation and the 8 are averaged. Because the average runs
 * over the whole group, the result is exactly equivariant: ensembling a flipped image gives the
 * flipped ensemble, bit for bit (tests/cli/ensemble.sh checks this). */
#ifndef QSR_CLI_ENSEMBLE_H
#define QSR_CLI_ENSEMBLE_H

#include "quantsr.h"

#define CLI_ENSEMBLE_TRANSFORMS 8u

/* One upscale: the upscaler, or the CPU reference. */
typedef qsr_status (*cli_upscale_fn)(void *user, const qsr_image *in, qsr_image *out,
                                     qsr_run_stats *stats);

/* Transform t (0..7): bit 2 transposes, then bit 0 mirrors left-right and bit 1 top-bottom.
 * 0 identity, 1 flipH, 2 flipV, 3 rot180, 4 transpose, 5 transpose+flipH (rot90),
 * 6 transpose+flipV (rot270), 7 anti-transpose. */
qsr_status cli_transform_image(const qsr_image *in, uint32_t t, qsr_image *out);

/* Upscales `in` in all 8 orientations with fn and writes the rounded average to out. stats
 * (may be NULL) receives the sums over the 8 runs. */
qsr_status cli_ensemble_upscale(cli_upscale_fn fn, void *user, const qsr_image *in, qsr_image *out,
                                qsr_run_stats *stats);

#endif
