/* test_eval_protocol.c - the SR evaluation protocol reproduces the literature's bicubic
 * baseline: mod-crop HR to a multiple of the scale, LR = bicubic(HR) rounded to 8 bits,
 * upscale LR bicubically, Y-channel PSNR with `scale` border pixels cropped. If resize or
 * the metrics drift from MATLAB's, these published numbers move. */
#define _POSIX_C_SOURCE 200809L

#include "test_util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define MAX_IMAGES   32
#define TOLERANCE_DB 0.02

typedef struct expected_baseline {
    const char *set;
    uint32_t scale;
    double psnr;
} expected_baseline;

/* Bicubic PSNR (Y, border = scale) as reported for Set5/Set14 with MATLAB imresize. */
static const expected_baseline baselines[] = {
    {"Set5", 2, 33.68},
    {"Set5", 4, 28.43},
    {"Set14", 2, 30.33},
    {"Set14", 4, 26.09},
};

static int compare_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted *.png paths of a folder; returns the count (0 if the folder is missing). */
static size_t list_pngs(const char *dir, char **paths, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".png") != 0) continue;
        size_t size = strlen(dir) + len + 2;
        paths[n] = (char *)malloc(size);
        if (!paths[n]) break;
        snprintf(paths[n], size, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(paths, n, sizeof *paths, compare_names);
    return n;
}

/* Top-left crop to a multiple of `scale` on both sides (the literature's modcrop). */
static qsr_status mod_crop(const qsr_image *in, uint32_t scale, qsr_image *out) {
    uint32_t w = in->width - in->width % scale, h = in->height - in->height % scale;
    qsr_status st = qsr_image_create(w, h, in->channels, out);
    if (st != QSR_OK) return st;
    for (uint32_t y = 0; y < h; y++)
        memcpy(out->pixels + (size_t)y * w * in->channels,
               in->pixels + (size_t)y * in->width * in->channels, (size_t)w * in->channels);
    return QSR_OK;
}

/* PSNR and SSIM of bicubic down-then-up for one HR image. */
static int bicubic_baseline(const qsr_image *hr_full, uint32_t scale, double *psnr, double *ssim) {
    qsr_image hr = {0}, lr = {0}, up = {0};
    int ok = 0;
    if (mod_crop(hr_full, scale, &hr) == QSR_OK &&
        qsr_image_resize_bicubic(&hr, hr.width / scale, hr.height / scale, &lr) == QSR_OK &&
        qsr_image_resize_bicubic(&lr, hr.width, hr.height, &up) == QSR_OK &&
        qsr_image_psnr_y(&hr, &up, scale, psnr) == QSR_OK &&
        qsr_image_ssim_y(&hr, &up, scale, ssim) == QSR_OK)
        ok = 1;
    qsr_image_free(&hr);
    qsr_image_free(&lr);
    qsr_image_free(&up);
    return ok;
}

/* Returns 1 if the set was found and measured. */
static int check_set(const char *root, const expected_baseline *expect) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/datasets/eval/%s", root, expect->set);
    char *paths[MAX_IMAGES];
    size_t n = list_pngs(dir, paths, MAX_IMAGES);
    if (n == 0) return 0;
    double psnr_sum = 0.0, ssim_sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        qsr_image hr = {0};
        double psnr = 0.0, ssim = 0.0;
        CHECK_OK(qsr_image_load_file(paths[i], 0, &hr));
        CHECK(bicubic_baseline(&hr, expect->scale, &psnr, &ssim), "%s x%u: %s", paths[i],
              expect->scale, qsr_last_error());
        psnr_sum += psnr;
        ssim_sum += ssim;
        qsr_image_free(&hr);
        free(paths[i]);
    }
    double psnr = psnr_sum / (double)n, ssim = ssim_sum / (double)n;
    printf("%-6s x%u bicubic: PSNR %.4f dB (expected %.2f), SSIM %.4f over %zu images\n",
           expect->set, expect->scale, psnr, expect->psnr, ssim, n);
    CHECK(fabs(psnr - expect->psnr) <= TOLERANCE_DB, "%s x%u: %.4f dB, expected %.2f +- %.2f",
          expect->set, expect->scale, psnr, expect->psnr, TOLERANCE_DB);
    CHECK(ssim > 0.5 && ssim < 1.0, "%s x%u: SSIM %.4f out of the plausible range", expect->set,
          expect->scale, ssim);
    return 1;
}

int main(void) {
    const char *root = qsr_test_env("QSR_SHARED_DIR", "../shared");
    size_t count = sizeof baselines / sizeof baselines[0];
    for (size_t i = 0; i < count; i++) {
        if (!check_set(root, &baselines[i])) {
            fprintf(stderr, "skip: %s/datasets/eval/%s has no PNG images\n", root,
                    baselines[i].set);
            return 77;
        }
    }
    return qsr_test_finish("test_eval_protocol");
}
