/* screenshot.h - reads a rendered frame back and saves it as a PNG. */
#ifndef QSR_VIEWER_SCREENSHOT_H
#define QSR_VIEWER_SCREENSHOT_H

#include "quantsr.h"

#include <SDL.h>

/* Reads the renderer's current target (w x h pixels) into a new RGB image. On failure writes
 * a message into err and returns -1. */
int viewer_read_frame(SDL_Renderer *r, int w, int h, qsr_image *out, char *err, size_t err_cap);
/* Saves through qsr_image_save_file (a temporary name renamed on success, so a failure never
 * leaves a file under `path`). */
int viewer_save_png(const char *path, const qsr_image *image, char *err, size_t err_cap);
/* The first of quantsr-view-001.png, -002.png, ... that does not exist in the current
 * folder; returns -1 if all 999 do. */
int viewer_next_screenshot_name(char *out, size_t cap);

#endif
