/* imageops.c - crops, nearest upscales and the per-model preparation of an input. */
#include "imageops.h"

#include <math.h>
#include <string.h>

qsr_status viewer_image_to_rgb(const qsr_image *in, qsr_image *out) {
    if (in->channels != 3 && in->channels != 4)
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "viewer: a %u-channel image",
                             in->channels);
    qsr_image rgb;
    qsr_status st = qsr_image_create(in->width, in->height, 3, &rgb);
    if (st != QSR_OK) return st;
    size_t pixels = (size_t)in->width * in->height;
    for (size_t i = 0; i < pixels; i++)
        memcpy(rgb.pixels + 3 * i, in->pixels + in->channels * i, 3);
    *out = rgb;
    return QSR_OK;
}

qsr_status viewer_image_crop(const qsr_image *in, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                             qsr_image *out) {
    if (w == 0 || h == 0 || x > in->width || y > in->height || w > in->width - x ||
        h > in->height - y)
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT,
                             "viewer: crop %ux%u at (%u, %u) outside a %ux%u image", w, h, x, y,
                             in->width, in->height);
    qsr_image c;
    qsr_status st = qsr_image_create(w, h, in->channels, &c);
    if (st != QSR_OK) return st;
    size_t row = (size_t)w * in->channels;
    for (uint32_t r = 0; r < h; r++)
        memcpy(c.pixels + r * row, in->pixels + ((size_t)(y + r) * in->width + x) * in->channels,
               row);
    *out = c;
    return QSR_OK;
}

qsr_status viewer_image_upscale_nearest(const qsr_image *in, uint32_t scale, qsr_image *out) {
    if (scale == 0 || in->width > QSR_MAX_IMAGE_DIMENSION / scale ||
        in->height > QSR_MAX_IMAGE_DIMENSION / scale)
        return qsr_set_error(QSR_ERROR_LIMIT, "viewer: %ux%u times %u is too large", in->width,
                             in->height, scale);
    qsr_image up;
    qsr_status st = qsr_image_create(in->width * scale, in->height * scale, in->channels, &up);
    if (st != QSR_OK) return st;
    uint32_t c = in->channels;
    for (uint32_t y = 0; y < up.height; y++) {
        const uint8_t *src = in->pixels + (size_t)(y / scale) * in->width * c;
        uint8_t *dst = up.pixels + (size_t)y * up.width * c;
        for (uint32_t x = 0; x < up.width; x++)
            memcpy(dst + (size_t)x * c, src + (size_t)(x / scale) * c, c);
    }
    *out = up;
    return QSR_OK;
}

qsr_status viewer_image_dim(const qsr_image *in, qsr_image *out) {
    qsr_image d;
    qsr_status st = qsr_image_create(in->width, in->height, in->channels, &d);
    if (st != QSR_OK) return st;
    size_t bytes = (size_t)in->width * in->height * in->channels;
    for (size_t i = 0; i < bytes; i++)
        d.pixels[i] = (uint8_t)(in->pixels[i] * 2 / 5 + 20);
    *out = d;
    return QSR_OK;
}

/* The network input: the image itself, or with `hr` its bicubic downscale after cropping the
 * ground truth to a multiple of the scale (the SR literature's "modcrop"). */
static qsr_status make_input(const qsr_image *image, uint32_t scale, int hr, viewer_frame *f) {
    if (!hr) return viewer_image_to_rgb(image, &f->lr);
    uint32_t w = image->width / scale * scale, h = image->height / scale * scale;
    if (w == 0 || h == 0)
        return qsr_set_error(QSR_ERROR_INVALID_ARGUMENT,
                             "--hr: a %ux%u image is smaller than the model's scale %u",
                             image->width, image->height, scale);
    qsr_image rgb = {0};
    qsr_status st = viewer_image_to_rgb(image, &rgb);
    if (st == QSR_OK) st = viewer_image_crop(&rgb, 0, 0, w, h, &f->gt);
    qsr_image_free(&rgb);
    if (st == QSR_OK) st = qsr_image_resize_bicubic(&f->gt, w / scale, h / scale, &f->lr);
    return st;
}

qsr_status viewer_frame_prepare(const qsr_image *image, uint32_t scale, int hr, viewer_frame *out) {
    viewer_frame f;
    memset(&f, 0, sizeof f);
    f.scale = scale;
    f.psnr_bicubic = f.psnr_nearest = NAN;
    qsr_status st = make_input(image, scale, hr, &f);
    if (st == QSR_OK && (f.lr.width > QSR_MAX_IMAGE_DIMENSION / scale ||
                         f.lr.height > QSR_MAX_IMAGE_DIMENSION / scale))
        st = qsr_set_error(QSR_ERROR_LIMIT, "a %ux%u input gives an output over %u pixels a side",
                           f.lr.width, f.lr.height, QSR_MAX_IMAGE_DIMENSION);
    if (st == QSR_OK)
        st = qsr_image_resize_bicubic(&f.lr, f.lr.width * scale, f.lr.height * scale, &f.bicubic);
    if (st == QSR_OK) st = viewer_image_upscale_nearest(&f.lr, scale, &f.nearest);
    if (st != QSR_OK) {
        viewer_frame_free(&f);
        return st;
    }
    f.psnr_bicubic = viewer_frame_psnr(&f, &f.bicubic);
    f.psnr_nearest = viewer_frame_psnr(&f, &f.nearest);
    *out = f;
    return QSR_OK;
}

double viewer_frame_psnr(const viewer_frame *frame, const qsr_image *output) {
    double psnr = NAN;
    if (!frame->gt.pixels || !output->pixels) return NAN;
    if (qsr_image_psnr_y(&frame->gt, output, frame->scale, &psnr) != QSR_OK) return NAN;
    return psnr;
}

void viewer_frame_free(viewer_frame *frame) {
    qsr_image_free(&frame->lr);
    qsr_image_free(&frame->gt);
    qsr_image_free(&frame->bicubic);
    qsr_image_free(&frame->nearest);
}
