/* metrics.c - Y-channel PSNR and SSIM as the SR literature reports them.
 *
 * Y is BT.601 luma in 16..235 computed in double from 0..255 values and not rounded (MATLAB's
 * rgb2ycbcr on double input, BasicSR's bgr2ycbcr(y_only=True) * 255). `border` pixels are
 * cropped on every side first, as papers crop `scale` pixels. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SSIM_WINDOW 11
#define SSIM_SIGMA  1.5

static qsr_status check_metric_args(const char *what, const qsr_image *a, const qsr_image *b,
                                    uint32_t border, uint32_t min_side, const void *out) {
    if (!a || !b || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", what,
                         !a ? "a" : (!b ? "b" : "out"));
    const qsr_image *imgs[2] = {a, b};
    for (int i = 0; i < 2; i++)
        if (!imgs[i]->pixels || imgs[i]->width == 0 || imgs[i]->height == 0 ||
            imgs[i]->channels == 0 || imgs[i]->channels > 4)
            return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                             "%s: image %c (%ux%ux%u) is empty or malformed", what, 'a' + i,
                             imgs[i]->width, imgs[i]->height, imgs[i]->channels);
    if (a->width != b->width || a->height != b->height)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "%s: image sizes differ (%ux%u vs %ux%u)",
                         what, a->width, a->height, b->width, b->height);
    uint64_t crop = 2ull * border;
    if (crop + min_side > a->width || crop + min_side > a->height)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "%s: border %u leaves less than %ux%u of the %ux%u images", what, border,
                         min_side, min_side, a->width, a->height);
    return QSR_OK;
}

/* Luma of the cropped region as doubles, [h - 2 border][w - 2 border]. Images with fewer
 * than 3 channels are gray: R = G = B = channel 0. */
static double *luma_crop(const qsr_image *img, uint32_t border) {
    uint32_t w = img->width - 2 * border, h = img->height - 2 * border, ch = img->channels;
    double *y = (double *)malloc((size_t)w * h * sizeof *y);
    if (!y) return NULL;
    for (uint32_t r = 0; r < h; r++) {
        const uint8_t *row = img->pixels + ((size_t)(r + border) * img->width + border) * ch;
        for (uint32_t c = 0; c < w; c++) {
            const uint8_t *p = row + (size_t)c * ch;
            double R = p[0], G = ch >= 3 ? p[1] : p[0], B = ch >= 3 ? p[2] : p[0];
            y[(size_t)r * w + c] = 16.0 + (65.481 * R + 128.553 * G + 24.966 * B) / 255.0;
        }
    }
    return y;
}

qsr_status qsr_image_psnr_y(const qsr_image *a, const qsr_image *b, uint32_t border,
                            double *out_psnr) {
    qsr_status st = check_metric_args("qsr_image_psnr_y", a, b, border, 1, out_psnr);
    if (st != QSR_OK) return st;
    uint32_t w = a->width - 2 * border, h = a->height - 2 * border;
    double *ya = luma_crop(a, border);
    double *yb = luma_crop(b, border);
    if (!ya || !yb) {
        free(ya);
        free(yb);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "psnr: cannot allocate %ux%u luma planes", w,
                         h);
    }
    double sum = 0.0;
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {
        double d = ya[i] - yb[i];
        sum += d * d;
    }
    free(ya);
    free(yb);
    double mse = sum / (double)n;
    *out_psnr = mse == 0.0 ? INFINITY : 10.0 * log10(255.0 * 255.0 / mse);
    return QSR_OK;
}

/* ------------------------------------------------------------------------------------------
 * SSIM (Wang et al. 2004): Gaussian 11x11 window, sigma 1.5, 'valid' filtering.
 */

static void gaussian_window(double *g) {
    double sum = 0.0;
    for (int i = 0; i < SSIM_WINDOW; i++) {
        double x = (double)(i - SSIM_WINDOW / 2);
        g[i] = exp(-x * x / (2.0 * SSIM_SIGMA * SSIM_SIGMA));
        sum += g[i];
    }
    for (int i = 0; i < SSIM_WINDOW; i++)
        g[i] /= sum;
}

/* The five local statistics SSIM needs, each filtered with the separable window. */
enum { STAT_A, STAT_B, STAT_AA, STAT_BB, STAT_AB, STAT_COUNT };

/* Mean of the SSIM map of two luma planes of size w x h (both >= SSIM_WINDOW). */
static qsr_status ssim_planes(const double *ya, const double *yb, uint32_t w, uint32_t h,
                              double *out) {
    const double c1 = (0.01 * 255.0) * (0.01 * 255.0), c2 = (0.03 * 255.0) * (0.03 * 255.0);
    const uint32_t vw = w - (SSIM_WINDOW - 1), vh = h - (SSIM_WINDOW - 1);
    double g[SSIM_WINDOW];
    gaussian_window(g);
    /* Horizontal pass results for all five statistics: [STAT_COUNT][h][vw]. */
    double *horiz = (double *)malloc((size_t)STAT_COUNT * h * vw * sizeof *horiz);
    if (!horiz)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "ssim: cannot allocate for %ux%u", w, h);
    const size_t plane = (size_t)h * vw;
    for (uint32_t r = 0; r < h; r++)
        for (uint32_t c = 0; c < vw; c++) {
            double s[STAT_COUNT] = {0};
            for (int k = 0; k < SSIM_WINDOW; k++) {
                double pa = ya[(size_t)r * w + c + k], pb = yb[(size_t)r * w + c + k];
                s[STAT_A] += g[k] * pa;
                s[STAT_B] += g[k] * pb;
                s[STAT_AA] += g[k] * pa * pa;
                s[STAT_BB] += g[k] * pb * pb;
                s[STAT_AB] += g[k] * pa * pb;
            }
            for (int i = 0; i < STAT_COUNT; i++)
                horiz[i * plane + (size_t)r * vw + c] = s[i];
        }
    double total = 0.0;
    for (uint32_t r = 0; r < vh; r++)
        for (uint32_t c = 0; c < vw; c++) {
            double s[STAT_COUNT] = {0};
            for (int k = 0; k < SSIM_WINDOW; k++)
                for (int i = 0; i < STAT_COUNT; i++)
                    s[i] += g[k] * horiz[i * plane + (size_t)(r + k) * vw + c];
            double mu_a = s[STAT_A], mu_b = s[STAT_B];
            double var_a = s[STAT_AA] - mu_a * mu_a, var_b = s[STAT_BB] - mu_b * mu_b;
            double cov = s[STAT_AB] - mu_a * mu_b;
            total += ((2.0 * mu_a * mu_b + c1) * (2.0 * cov + c2)) /
                     ((mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2));
        }
    free(horiz);
    *out = total / ((double)vw * vh);
    return QSR_OK;
}

qsr_status qsr_image_ssim_y(const qsr_image *a, const qsr_image *b, uint32_t border,
                            double *out_ssim) {
    qsr_status st = check_metric_args("qsr_image_ssim_y", a, b, border, SSIM_WINDOW, out_ssim);
    if (st != QSR_OK) return st;
    uint32_t w = a->width - 2 * border, h = a->height - 2 * border;
    double *ya = luma_crop(a, border);
    double *yb = luma_crop(b, border);
    if (!ya || !yb) {
        free(ya);
        free(yb);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "ssim: cannot allocate %ux%u luma planes", w,
                         h);
    }
    st = ssim_planes(ya, yb, w, h, out_ssim);
    free(ya);
    free(yb);
    return st;
}
