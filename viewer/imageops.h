/* imageops.h - the small image operations the viewer needs beyond the public API, and the
 * preparation of one input for a model (LR image, ground truth, classic upscales, PSNR). */
#ifndef QSR_VIEWER_IMAGEOPS_H
#define QSR_VIEWER_IMAGEOPS_H

#include "quantsr.h"

/* A copy of `in` with the alpha channel dropped (RGB stays RGB). */
qsr_status viewer_image_to_rgb(const qsr_image *in, qsr_image *out);
/* The rectangle (x, y, w, h) of `in`, which must lie inside it. */
qsr_status viewer_image_crop(const qsr_image *in, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                             qsr_image *out);
/* Each pixel repeated scale x scale times. */
qsr_status viewer_image_upscale_nearest(const qsr_image *in, uint32_t scale, qsr_image *out);

/* A darker copy of an RGB image: what the right side shows where the network output is not
 * computed yet, so a missing tile is never mistaken for a result. */
qsr_status viewer_image_dim(const qsr_image *in, qsr_image *out);

/* One input prepared for a model of a given scale. */
typedef struct viewer_frame {
    qsr_image lr;      /* the network input */
    qsr_image gt;      /* --hr: the ground truth (lr size x scale); else empty */
    qsr_image bicubic; /* lr upscaled to the output size */
    qsr_image nearest;
    uint32_t scale;
    double psnr_bicubic; /* Y-PSNR against gt (border = scale); NAN without gt */
    double psnr_nearest;
} viewer_frame;

/* From a decoded image: with `hr` the image is ground truth, cropped to a multiple of `scale`
 * and downscaled bicubically; otherwise it is the network input as it is. */
qsr_status viewer_frame_prepare(const qsr_image *image, uint32_t scale, int hr, viewer_frame *out);
/* Y-PSNR of an output against the frame's ground truth (NAN without one). */
double viewer_frame_psnr(const viewer_frame *frame, const qsr_image *output);
void viewer_frame_free(viewer_frame *frame);

#endif
