/* headless.h - `quantsr-view ... --screenshot OUT.png`: renders one frame with the same code
 * as the window (into a target texture of a hidden window, or a software surface when there
 * is no display), writes OUT.png and exits. */
#ifndef QSR_VIEWER_HEADLESS_H
#define QSR_VIEWER_HEADLESS_H

#include "options.h"

/* Returns the process exit code; on any failure no file is written. */
int viewer_run_headless(const viewer_options *opt);

#endif
