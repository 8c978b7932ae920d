/* results.h - the measured quality of the shipped models, read from the results.csv beside
 * them (written by tools/eval_models.py; the README tables and docs/tradeoff.png come from the
 * same file), so the overlay shows the very numbers the README does. */
#ifndef QSR_VIEWER_RESULTS_H
#define QSR_VIEWER_RESULTS_H

#include <stdint.h>

typedef struct viewer_published {
    double set5_psnr, set14_psnr; /* Y-PSNR in dB; NAN when the file has no such row */
} viewer_published;

/* Looks up the row of the model file `model_path` at `depth` blocks in the results.csv of the
 * model's folder. Returns 0 and fills *out when found, -1 otherwise (no file, no row, or a
 * malformed file: the overlay then simply shows nothing). */
int viewer_published_lookup(const char *model_path, uint32_t depth, viewer_published *out);

#endif
