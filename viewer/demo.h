/* demo.h - a procedural low-resolution scene with fine detail (scrolling text, thin lines,
 * a zone plate, a moving checker texture) for `quantsr-view --demo`. */
#ifndef QSR_VIEWER_DEMO_H
#define QSR_VIEWER_DEMO_H

#include "quantsr.h"

#define VIEWER_DEMO_WIDTH  256
#define VIEWER_DEMO_HEIGHT 144

/* Renders the scene at time `seconds` into a new width x height RGB image. The same time
 * always gives the same pixels. */
qsr_status viewer_demo_render(uint32_t width, uint32_t height, double seconds, qsr_image *out);

#endif
