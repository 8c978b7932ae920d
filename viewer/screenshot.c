/* screenshot.c - frame read-back and PNG output. */
#include "screenshot.h"

#include "files.h"

#include <stdio.h>

int viewer_read_frame(SDL_Renderer *r, int w, int h, qsr_image *out, char *err, size_t err_cap) {
    qsr_image img;
    if (w <= 0 || h <= 0 || qsr_image_create((uint32_t)w, (uint32_t)h, 3, &img) != QSR_OK) {
        snprintf(err, err_cap, "cannot allocate a %dx%d screenshot", w, h);
        return -1;
    }
    SDL_Rect all = {0, 0, w, h};
    if (SDL_RenderReadPixels(r, &all, SDL_PIXELFORMAT_RGB24, img.pixels, w * 3) != 0) {
        snprintf(err, err_cap, "cannot read the frame back: %s", SDL_GetError());
        qsr_image_free(&img);
        return -1;
    }
    *out = img;
    return 0;
}

int viewer_save_png(const char *path, const qsr_image *image, char *err, size_t err_cap) {
    if (qsr_image_save_file(path, image, 0) != QSR_OK) {
        snprintf(err, err_cap, "cannot save '%s': %s", path, qsr_last_error());
        return -1;
    }
    return 0;
}

int viewer_next_screenshot_name(char *out, size_t cap) {
    for (int i = 1; i <= 999; i++) {
        snprintf(out, cap, "quantsr-view-%03d.png", i);
        if (!viewer_is_regular_file(out) && !viewer_is_directory(out)) return 0;
    }
    return -1;
}
