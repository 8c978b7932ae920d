/* test_image.c - image decoding/encoding, bicubic resize and the Y-channel metrics. */
#define _POSIX_C_SOURCE 200809L

#include "test_util.h"
#include "internal.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char temp_dir[4096];

/* ------------------------------------------------------------------------------------------
 * Helpers
 */

static void path_in_temp(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", temp_dir, name);
}

static int write_bytes(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* Reads a whole file; returns NULL if it cannot. */
static uint8_t *read_bytes(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = (uint8_t *)malloc(len > 0 ? (size_t)len : 1);
    if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return data;
}

/* Number of leftover temporary files (".tmp-" in the name) in a folder. */
static int count_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-")) n++;
    closedir(d);
    return n;
}

static int same_pixels(const qsr_image *a, const qsr_image *b) {
    return a->width == b->width && a->height == b->height && a->channels == b->channels &&
           memcmp(a->pixels, b->pixels, (size_t)a->width * a->height * a->channels) == 0;
}

static int max_abs_diff(const qsr_image *a, const qsr_image *b) {
    int worst = 0;
    size_t n = (size_t)a->width * a->height * a->channels;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a->pixels[i] - (int)b->pixels[i]);
        if (d > worst) worst = d;
    }
    return worst;
}

static qsr_image constant_image(uint32_t w, uint32_t h, uint32_t channels, uint8_t value) {
    qsr_image img = {0};
    if (qsr_image_create(w, h, channels, &img) == QSR_OK)
        memset(img.pixels, value, (size_t)w * h * channels);
    return img;
}

/* A smooth (band-limited) test image: low-frequency sinusoids only, no noise. */
static qsr_image smooth_image(uint32_t w, uint32_t h, uint32_t channels) {
    qsr_image img = {0};
    if (qsr_image_create(w, h, channels, &img) != QSR_OK) return img;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < channels; c++) {
                double v = 128.0 + 60.0 * sin(0.11 * x + 0.7 * c) + 50.0 * cos(0.08 * y - 0.3 * c);
                img.pixels[((size_t)y * w + x) * channels + c] = (uint8_t)lround(v);
            }
    return img;
}

/* ------------------------------------------------------------------------------------------
 * A minimal PNG writer (stored deflate blocks) to craft files stb_image_write cannot make:
 * 16-bit samples and headers claiming huge sizes.
 */

typedef struct byte_buffer {
    uint8_t *data;
    size_t size, cap;
} byte_buffer;

static void put_bytes(byte_buffer *b, const void *data, size_t n) {
    if (b->size + n > b->cap) {
        size_t cap = (b->size + n) * 2 + 64;
        uint8_t *p = (uint8_t *)realloc(b->data, cap);
        if (!p) abort();
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->size, data, n);
    b->size += n;
}

static void put_be32(byte_buffer *b, uint32_t v) {
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(b, p, 4);
}

static void put_chunk(byte_buffer *b, const char *type, const uint8_t *data, size_t n) {
    put_be32(b, (uint32_t)n);
    uint8_t *typed = (uint8_t *)malloc(n + 4);
    if (!typed) abort();
    memcpy(typed, type, 4);
    if (n) memcpy(typed + 4, data, n);
    put_bytes(b, typed, n + 4);
    put_be32(b, qsr__crc32(typed, n + 4));
    free(typed);
}

/* zlib stream of stored blocks holding `raw`. */
static byte_buffer zlib_stored(const uint8_t *raw, size_t n) {
    byte_buffer z = {0};
    const uint8_t header[2] = {0x78, 0x01};
    put_bytes(&z, header, 2);
    size_t pos = 0;
    do {
        size_t len = n - pos > 65535 ? 65535 : n - pos;
        uint8_t block[5] = {(uint8_t)(pos + len == n), (uint8_t)len, (uint8_t)(len >> 8),
                            (uint8_t)~len, (uint8_t)(~len >> 8)};
        put_bytes(&z, block, 5);
        put_bytes(&z, raw + pos, len);
        pos += len;
    } while (pos < n);
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + raw[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    put_be32(&z, (b << 16) | a);
    return z;
}

/* PNG with the given header; `rows` (filter bytes included) may be NULL for a header-only
 * file with no IDAT, which no decoder can decode. */
static byte_buffer make_png(uint32_t w, uint32_t h, uint8_t depth, uint8_t color_type,
                            const uint8_t *rows, size_t rows_size) {
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    byte_buffer png = {0};
    put_bytes(&png, signature, 8);
    uint8_t ihdr[13] = {(uint8_t)(w >> 24),
                        (uint8_t)(w >> 16),
                        (uint8_t)(w >> 8),
                        (uint8_t)w,
                        (uint8_t)(h >> 24),
                        (uint8_t)(h >> 16),
                        (uint8_t)(h >> 8),
                        (uint8_t)h,
                        depth,
                        color_type,
                        0,
                        0,
                        0};
    put_chunk(&png, "IHDR", ihdr, sizeof ihdr);
    if (rows) {
        byte_buffer z = zlib_stored(rows, rows_size);
        put_chunk(&png, "IDAT", z.data, z.size);
        free(z.data);
    }
    put_chunk(&png, "IEND", NULL, 0);
    return png;
}

/* ------------------------------------------------------------------------------------------
 * Round trips
 */

static void test_round_trip(const char *name, uint32_t channels, int exact) {
    qsr_rng rng = {0x1234u + channels};
    qsr_image img = qsr_test_random_image(&rng, 37, 23, channels), back = {0};
    char path[4200];
    path_in_temp(path, sizeof path, name);
    CHECK_OK(qsr_image_save_file(path, &img, 0));
    CHECK_OK(qsr_image_load_file(path, 0, &back));
    if (exact) {
        CHECK(same_pixels(&img, &back), "%s: pixels differ after a lossless round trip", name);
    } else {
        /* JPEG: lossy, no alpha; on a photo-like image quality 95 stays close. */
        CHECK(back.width == 37 && back.height == 23 && back.channels == 3, "%s: got %ux%ux%u", name,
              back.width, back.height, back.channels);
        qsr_image rgb = {0};
        CHECK_OK(qsr_image_create(37, 23, 3, &rgb));
        for (size_t i = 0; rgb.pixels && i < (size_t)37 * 23; i++)
            memcpy(rgb.pixels + i * 3, img.pixels + i * channels, 3);
        double psnr = 0;
        if (back.channels == 3) CHECK_OK(qsr_image_psnr_y(&rgb, &back, 0, &psnr));
        CHECK(psnr > 30.0, "%s: JPEG round trip Y-PSNR %.2f dB", name, psnr);
        qsr_image_free(&rgb);
    }
    remove(path);
    qsr_image_free(&img);
    qsr_image_free(&back);
}

static void test_round_trips(void) {
    test_round_trip("rgb.png", 3, 1);
    test_round_trip("rgba.png", 4, 1);
    test_round_trip("upper.PNG", 3, 1);
    test_round_trip("rgb.bmp", 3, 1);
    test_round_trip("rgb.tga", 3, 1);
    test_round_trip("rgba.tga", 4, 1);
    test_round_trip("rgb.jpg", 3, 0);
    test_round_trip("rgba.jpeg", 4, 0); /* alpha dropped */

    /* Memory decoding gives the same pixels as file decoding. */
    qsr_rng rng = {7};
    qsr_image img = qsr_test_random_image(&rng, 16, 9, 3), back = {0};
    char path[4200];
    path_in_temp(path, sizeof path, "mem.png");
    CHECK_OK(qsr_image_save_file(path, &img, 0));
    size_t size = 0;
    uint8_t *bytes = read_bytes(path, &size);
    CHECK(bytes != NULL, "cannot read back %s", path);
    if (bytes) CHECK_OK(qsr_image_load_memory(bytes, size, 0, &back));
    CHECK(same_pixels(&img, &back), "memory decode differs");
    free(bytes);
    remove(path);
    qsr_image_free(&img);
    qsr_image_free(&back);
}

static void test_gray_and_16_bit(void) {
    /* 8-bit gray (type 0) -> RGB with R = G = B. */
    const uint8_t gray_rows[] = {0, 10, 200, 0, 77, 255};
    byte_buffer png = make_png(2, 2, 8, 0, gray_rows, sizeof gray_rows);
    qsr_image img = {0};
    CHECK_OK(qsr_image_load_memory(png.data, png.size, 0, &img));
    CHECK(img.channels == 3 && img.width == 2 && img.height == 2, "gray: got %ux%ux%u", img.width,
          img.height, img.channels);
    const uint8_t gray_expected[4] = {10, 200, 77, 255};
    for (int i = 0; img.channels == 3 && i < 4; i++)
        CHECK(img.pixels[i * 3] == gray_expected[i] && img.pixels[i * 3 + 1] == gray_expected[i] &&
                  img.pixels[i * 3 + 2] == gray_expected[i],
              "gray pixel %d: %u %u %u, expected %u", i, img.pixels[i * 3], img.pixels[i * 3 + 1],
              img.pixels[i * 3 + 2], gray_expected[i]);
    qsr_image_free(&img);
    free(png.data);

    /* Gray + alpha (type 4) -> RGBA. */
    const uint8_t ga_rows[] = {0, 50, 128, 60, 255};
    png = make_png(2, 1, 8, 4, ga_rows, sizeof ga_rows);
    CHECK_OK(qsr_image_load_memory(png.data, png.size, 0, &img));
    CHECK(img.channels == 4 && img.pixels && img.pixels[0] == 50 && img.pixels[2] == 50 &&
              img.pixels[3] == 128 && img.pixels[4] == 60 && img.pixels[7] == 255,
          "gray+alpha: got %u channels", img.channels);
    qsr_image_free(&img);
    free(png.data);

    /* 16-bit RGB (type 2) -> 8-bit RGB, each sample about v / 257. */
    const uint16_t samples[6] = {0x0000, 0x1234, 0x8000, 0xABCD, 0xFFFF, 0x7F7F};
    uint8_t rows16[1 + 12] = {0};
    for (int i = 0; i < 6; i++) {
        rows16[1 + 2 * i] = (uint8_t)(samples[i] >> 8);
        rows16[2 + 2 * i] = (uint8_t)samples[i];
    }
    png = make_png(2, 1, 16, 2, rows16, sizeof rows16);
    CHECK_OK(qsr_image_load_memory(png.data, png.size, 0, &img));
    CHECK(img.channels == 3 && img.width == 2, "16-bit: got %ux%ux%u", img.width, img.height,
          img.channels);
    for (int i = 0; img.pixels && img.channels == 3 && i < 6; i++) {
        long expected = lround(samples[i] / 257.0);
        CHECK(labs((long)img.pixels[i] - expected) <= 1, "16-bit sample %d: %u, expected ~%ld", i,
              img.pixels[i], expected);
    }
    qsr_image_free(&img);
    free(png.data);
}

/* ------------------------------------------------------------------------------------------
 * Bad inputs
 */

static void test_bad_inputs(void) {
    qsr_image img = {0};
    char path[4200];

    path_in_temp(path, sizeof path, "does-not-exist.png");
    CHECK_STATUS(qsr_image_load_file(path, 0, &img), QSR_ERROR_IO);
    CHECK(strstr(qsr_last_error(), "does-not-exist.png") != NULL, "message: %s", qsr_last_error());
    CHECK_STATUS(qsr_image_load_file(temp_dir, 0, &img), QSR_ERROR_IO); /* a folder */

    path_in_temp(path, sizeof path, "empty.png");
    CHECK(write_bytes(path, "", 0), "cannot write %s", path);
    CHECK_STATUS(qsr_image_load_file(path, 0, &img), QSR_ERROR_IMAGE_DECODE);
    remove(path);

    path_in_temp(path, sizeof path, "garbage.png");
    const char garbage[] = "this is not an image, just some bytes that go on for a while";
    CHECK(write_bytes(path, garbage, sizeof garbage), "cannot write %s", path);
    CHECK_STATUS(qsr_image_load_file(path, 0, &img), QSR_ERROR_IMAGE_DECODE);
    CHECK(strstr(qsr_last_error(), "garbage.png") != NULL, "message: %s", qsr_last_error());
    remove(path);
    CHECK_STATUS(qsr_image_load_memory(garbage, 0, 0, &img), QSR_ERROR_IMAGE_DECODE);

    /* A valid PNG cut in half. */
    qsr_rng rng = {99};
    qsr_image src = qsr_test_random_image(&rng, 40, 40, 3);
    path_in_temp(path, sizeof path, "whole.png");
    CHECK_OK(qsr_image_save_file(path, &src, 0));
    size_t size = 0;
    uint8_t *bytes = read_bytes(path, &size);
    CHECK(bytes && size > 100, "cannot read %s", path);
    if (bytes)
        CHECK_STATUS(qsr_image_load_memory(bytes, size / 2, 0, &img), QSR_ERROR_IMAGE_DECODE);
    if (bytes) CHECK_STATUS(qsr_image_load_memory(bytes, 30, 0, &img), QSR_ERROR_IMAGE_DECODE);
    /* max_pixels below the image's 1600 pixels. */
    if (bytes) CHECK_STATUS(qsr_image_load_memory(bytes, size, 1599, &img), QSR_ERROR_LIMIT);
    if (bytes) CHECK_OK(qsr_image_load_memory(bytes, size, 1600, &img));
    qsr_image_free(&img);
    free(bytes);
    remove(path);
    qsr_image_free(&src);

    /* Headers claiming huge or empty images are refused before decoding: these files have
     * no pixel data, so reaching the decoder would give IMAGE_DECODE instead of LIMIT. */
    byte_buffer png = make_png(100000, 100000, 8, 2, NULL, 0);
    CHECK_STATUS(qsr_image_load_memory(png.data, png.size, 0, &img), QSR_ERROR_LIMIT);
    CHECK(strstr(qsr_last_error(), "100000x100000") != NULL, "message: %s", qsr_last_error());
    free(png.data);
    png = make_png(70000, 1, 8, 2, NULL, 0); /* over QSR_MAX_IMAGE_DIMENSION */
    CHECK_STATUS(qsr_image_load_memory(png.data, png.size, 0, &img), QSR_ERROR_LIMIT);
    CHECK(strstr(qsr_last_error(), "70000x1") != NULL, "message: %s", qsr_last_error());
    free(png.data);
    png = make_png(5000, 5000, 8, 2, NULL, 0); /* over a caller's max_pixels */
    CHECK_STATUS(qsr_image_load_memory(png.data, png.size, 1000000, &img), QSR_ERROR_LIMIT);
    CHECK(strstr(qsr_last_error(), "5000x5000") != NULL, "message: %s", qsr_last_error());
    CHECK_STATUS(qsr_image_load_memory(png.data, png.size, 0, &img), QSR_ERROR_IMAGE_DECODE);
    free(png.data);
    png = make_png(0, 10, 8, 2, NULL, 0);
    CHECK_STATUS(qsr_image_load_memory(png.data, png.size, 0, &img), QSR_ERROR_LIMIT);
    free(png.data);
    CHECK(img.pixels == NULL, "a failed load wrote its output");
}

static void test_null_and_invalid_args(void) {
    qsr_image img = {0};
    CHECK_STATUS(qsr_image_load_file(NULL, 0, &img), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_load_file("x.png", 0, NULL), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_load_memory(NULL, 10, 0, &img), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_load_memory("abc", 3, 0, NULL), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_create(0, 5, 3, &img), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_create(5, 5, 5, &img), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_create(5, 5, 3, NULL), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_create(QSR_MAX_IMAGE_DIMENSION + 1, 1, 3, &img), QSR_ERROR_LIMIT);
    CHECK_OK(qsr_image_create(3, 2, 4, &img));
    CHECK(img.pixels && img.pixels[0] == 0 && img.pixels[23] == 0, "create is not zeroed");
    qsr_image_free(&img);
    CHECK(img.pixels == NULL && img.width == 0, "free does not zero the struct");
    qsr_image_free(&img); /* twice is harmless */
    qsr_image_free(NULL);

    qsr_image good = constant_image(4, 4, 3, 9);
    qsr_image no_pixels = {4, 4, 3, NULL};
    CHECK_STATUS(qsr_image_save_file(NULL, &good, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_save_file("a.png", NULL, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_save_file("a.png", &no_pixels, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_save_file("a.jpg", &good, 101), QSR_ERROR_INVALID_ARGUMENT);

    double v = 0;
    CHECK_STATUS(qsr_image_resize_bicubic(NULL, 2, 2, &img), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_resize_bicubic(&good, 2, 2, NULL), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_resize_bicubic(&good, 0, 2, &img), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_resize_bicubic(&no_pixels, 2, 2, &img), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_resize_bicubic(&good, QSR_MAX_IMAGE_DIMENSION + 1, 2, &img),
                 QSR_ERROR_LIMIT);
    CHECK_STATUS(qsr_image_psnr_y(NULL, &good, 0, &v), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_psnr_y(&good, &good, 0, NULL), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_ssim_y(&good, NULL, 0, &v), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_psnr_y(&no_pixels, &good, 0, &v), QSR_ERROR_INVALID_ARGUMENT);
    qsr_image_free(&good);
}

/* ------------------------------------------------------------------------------------------
 * Saving safely
 */

static void test_save_failures(void) {
    qsr_image img = constant_image(8, 8, 3, 50);
    char path[4200];

    path_in_temp(path, sizeof path, "out.gif");
    CHECK_STATUS(qsr_image_save_file(path, &img, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(qsr_last_error(), ".gif") != NULL, "message: %s", qsr_last_error());
    path_in_temp(path, sizeof path, "no-extension");
    CHECK_STATUS(qsr_image_save_file(path, &img, 0), QSR_ERROR_INVALID_ARGUMENT);
    CHECK(access(path, F_OK) != 0, "%s was created", path);

    /* Into a folder that does not exist. */
    path_in_temp(path, sizeof path, "missing-dir/out.png");
    CHECK_STATUS(qsr_image_save_file(path, &img, 0), QSR_ERROR_IO);
    CHECK(strstr(qsr_last_error(), "missing-dir") != NULL, "message: %s", qsr_last_error());

    /* Over a folder: the temp file is written, the final rename fails; the folder stays and
     * the temp file is removed. */
    path_in_temp(path, sizeof path, "a-folder.png");
    CHECK(mkdir(path, 0755) == 0, "cannot make %s", path);
    CHECK_STATUS(qsr_image_save_file(path, &img, 0), QSR_ERROR_IO);
    struct stat info;
    CHECK(stat(path, &info) == 0 && S_ISDIR(info.st_mode), "%s is no longer a folder", path);
    CHECK(count_temp_files(temp_dir) == 0, "temporary files left in %s", temp_dir);
    rmdir(path);

    /* A successful save replaces an existing file; a failed one leaves it untouched. */
    path_in_temp(path, sizeof path, "keep.png");
    CHECK(write_bytes(path, "old contents", 12), "cannot write %s", path);
    CHECK_STATUS(qsr_image_save_file(path, &img, -1), QSR_ERROR_INVALID_ARGUMENT);
    size_t size = 0;
    uint8_t *bytes = read_bytes(path, &size);
    CHECK(bytes && size == 12 && memcmp(bytes, "old contents", 12) == 0, "%s was changed", path);
    free(bytes);
    CHECK_OK(qsr_image_save_file(path, &img, 0));
    qsr_image back = {0};
    CHECK_OK(qsr_image_load_file(path, 0, &back));
    CHECK(same_pixels(&img, &back), "the replaced file holds other pixels");
    qsr_image_free(&back);
    remove(path);

    /* A read-only folder: meaningless as root, who may write anyway. */
    if (geteuid() != 0) {
        char ro_dir[4200], ro_path[4300];
        path_in_temp(ro_dir, sizeof ro_dir, "read-only");
        snprintf(ro_path, sizeof ro_path, "%s/keep.png", ro_dir);
        CHECK(mkdir(ro_dir, 0755) == 0, "cannot make %s", ro_dir);
        CHECK(write_bytes(ro_path, "old contents", 12), "cannot write %s", ro_path);
        chmod(ro_dir, 0555);
        CHECK_STATUS(qsr_image_save_file(ro_path, &img, 0), QSR_ERROR_IO);
        bytes = read_bytes(ro_path, &size);
        CHECK(bytes && size == 12 && memcmp(bytes, "old contents", 12) == 0, "%s was changed",
              ro_path);
        free(bytes);
        CHECK(count_temp_files(ro_dir) == 0, "temporary files left in %s", ro_dir);
        chmod(ro_dir, 0755);
        remove(ro_path);
        rmdir(ro_dir);
    } else {
        printf("running as root: read-only folder case skipped\n");
    }
    CHECK(count_temp_files(temp_dir) == 0, "temporary files left in %s", temp_dir);
    qsr_image_free(&img);
}

/* ------------------------------------------------------------------------------------------
 * Resize
 */

static void test_resize_constant(void) {
    const uint32_t sizes[][2] = {{40, 29}, {5, 3}, {1, 1}, {13, 70}, {100, 2}};
    for (uint32_t ch = 1; ch <= 4; ch++) {
        qsr_image img = constant_image(13, 7, ch, 137), out = {0};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            CHECK_OK(qsr_image_resize_bicubic(&img, sizes[i][0], sizes[i][1], &out));
            CHECK(out.width == sizes[i][0] && out.height == sizes[i][1] && out.channels == ch,
                  "resize to %ux%u gave %ux%ux%u", sizes[i][0], sizes[i][1], out.width, out.height,
                  out.channels);
            qsr_image expected = constant_image(sizes[i][0], sizes[i][1], ch, 137);
            CHECK(same_pixels(&out, &expected), "constant 137 not kept at %ux%u x%u", sizes[i][0],
                  sizes[i][1], ch);
            qsr_image_free(&expected);
            qsr_image_free(&out);
        }
        qsr_image_free(&img);
    }
}

static void test_resize_identity_and_round_trip(void) {
    qsr_rng rng = {5};
    qsr_image noisy = qsr_test_random_image(&rng, 31, 17, 3), out = {0};
    CHECK_OK(qsr_image_resize_bicubic(&noisy, 31, 17, &out));
    CHECK(same_pixels(&noisy, &out), "same-size resize changed pixels");
    qsr_image_free(&out);
    qsr_image_free(&noisy);

    for (uint32_t ch = 3; ch <= 4; ch++) {
        qsr_image img = smooth_image(64, 48, ch), up = {0}, down = {0};
        CHECK_OK(qsr_image_resize_bicubic(&img, 128, 96, &up));
        CHECK_OK(qsr_image_resize_bicubic(&up, 64, 48, &down));
        CHECK(down.channels == ch, "channels %u -> %u", ch, down.channels);
        double psnr = 0;
        CHECK_OK(qsr_image_psnr_y(&img, &down, 4, &psnr));
        int worst = max_abs_diff(&img, &down);
        CHECK(psnr > 40.0 && worst <= 8, "x2 up then down: PSNR %.2f dB, max diff %d", psnr, worst);
        qsr_image_free(&img);
        qsr_image_free(&up);
        qsr_image_free(&down);
    }
}

/* A value worked by hand from MATLAB's contributions(): [100 200] widened to 4 samples
 * (scale 2, symmetric padding) has weights (1.09375, -0.09375) and (0.796875, 0.203125)
 * and their mirror images: 90.625 120.3125 179.6875 209.375 -> 91 120 180 209. */
static void test_resize_known_values(void) {
    qsr_image img = {0}, out = {0};
    CHECK_OK(qsr_image_create(2, 1, 1, &img));
    img.pixels[0] = 100;
    img.pixels[1] = 200;
    CHECK_OK(qsr_image_resize_bicubic(&img, 4, 1, &out));
    const uint8_t expected[4] = {91, 120, 180, 209};
    CHECK(out.pixels && memcmp(out.pixels, expected, 4) == 0, "got %u %u %u %u",
          out.pixels ? out.pixels[0] : 0, out.pixels ? out.pixels[1] : 0,
          out.pixels ? out.pixels[2] : 0, out.pixels ? out.pixels[3] : 0);
    qsr_image_free(&out);

    /* The same along the other axis (a 1x2 column to 1x4). */
    img.width = 1;
    img.height = 2;
    CHECK_OK(qsr_image_resize_bicubic(&img, 1, 4, &out));
    CHECK(out.pixels && memcmp(out.pixels, expected, 4) == 0, "column resize differs");
    qsr_image_free(&out);

    /* Overshoot saturates: [0 255] widened undershoots below 0 and over 255. */
    img.width = 2;
    img.height = 1;
    img.pixels[0] = 0;
    img.pixels[1] = 255;
    CHECK_OK(qsr_image_resize_bicubic(&img, 4, 1, &out));
    CHECK(out.pixels && out.pixels[0] == 0 && out.pixels[3] == 255, "no saturation: %u %u",
          out.pixels ? out.pixels[0] : 0, out.pixels ? out.pixels[3] : 0);
    qsr_image_free(&out);
    qsr_image_free(&img);
}

static void test_resize_shapes(void) {
    qsr_rng rng = {11};
    qsr_image img = qsr_test_random_image(&rng, 50, 30, 4), out = {0};
    /* Up in one direction, down in the other, to single rows/columns and extreme ratios. */
    const uint32_t sizes[][2] = {{120, 7}, {3, 90}, {1, 30}, {50, 1}, {997, 2}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        CHECK_OK(qsr_image_resize_bicubic(&img, sizes[i][0], sizes[i][1], &out));
        CHECK(out.width == sizes[i][0] && out.height == sizes[i][1] && out.channels == 4,
              "got %ux%ux%u", out.width, out.height, out.channels);
        qsr_image_free(&out);
    }
    /* Channels are independent: resizing an RGBA image equals resizing each plane. */
    CHECK_OK(qsr_image_resize_bicubic(&img, 23, 41, &out));
    for (uint32_t c = 0; out.pixels && c < 4; c++) {
        qsr_image plane = {0}, plane_out = {0};
        CHECK_OK(qsr_image_create(50, 30, 1, &plane));
        for (size_t i = 0; plane.pixels && i < (size_t)50 * 30; i++)
            plane.pixels[i] = img.pixels[i * 4 + c];
        CHECK_OK(qsr_image_resize_bicubic(&plane, 23, 41, &plane_out));
        int same = plane_out.pixels != NULL;
        for (size_t i = 0; same && i < (size_t)23 * 41; i++)
            same = plane_out.pixels[i] == out.pixels[i * 4 + c];
        CHECK(same, "channel %u differs from resizing it alone", c);
        qsr_image_free(&plane);
        qsr_image_free(&plane_out);
    }
    qsr_image_free(&out);
    qsr_image_free(&img);
}

/* ------------------------------------------------------------------------------------------
 * Metrics
 */

static void test_metrics(void) {
    qsr_rng rng = {21};
    qsr_image a = qsr_test_random_image(&rng, 40, 32, 3);
    double v = 0;
    CHECK_OK(qsr_image_psnr_y(&a, &a, 0, &v));
    CHECK(isinf(v) && v > 0, "PSNR of identical images: %f", v);
    CHECK_OK(qsr_image_ssim_y(&a, &a, 0, &v));
    CHECK(fabs(v - 1.0) < 1e-12, "SSIM of identical images: %.15f", v);

    /* Gray 100 vs gray 110: every Y differs by 10 * 219 / 255. */
    qsr_image g100 = constant_image(20, 20, 3, 100), g110 = constant_image(20, 20, 3, 110);
    double dy = 10.0 * (65.481 + 128.553 + 24.966) / 255.0;
    double expected = 10.0 * log10(255.0 * 255.0 / (dy * dy));
    CHECK_OK(qsr_image_psnr_y(&g100, &g110, 2, &v));
    CHECK(fabs(v - expected) < 1e-9, "PSNR %.12f, expected %.12f", v, expected);
    /* Luma weights: a pure-green difference counts 128.553 / 255 per level. */
    memset(g110.pixels, 100, 20 * 20 * 3);
    for (size_t i = 0; i < 400; i++)
        g110.pixels[i * 3 + 1] = 110;
    dy = 10.0 * 128.553 / 255.0;
    expected = 10.0 * log10(255.0 * 255.0 / (dy * dy));
    CHECK_OK(qsr_image_psnr_y(&g100, &g110, 0, &v));
    CHECK(fabs(v - expected) < 1e-9, "green PSNR %.12f, expected %.12f", v, expected);

    /* Differences only inside the border are not counted. */
    qsr_image b = constant_image(20, 20, 3, 100);
    for (uint32_t x = 0; x < 20; x++)
        b.pixels[x * 3] = 0; /* first row */
    CHECK_OK(qsr_image_psnr_y(&g100, &b, 1, &v));
    CHECK(isinf(v), "border not cropped: %f", v);
    CHECK_OK(qsr_image_psnr_y(&g100, &b, 0, &v));
    CHECK(isfinite(v), "row difference not seen: %f", v);

    /* SSIM of a distorted image: below 1, symmetric, and worse for stronger noise. */
    qsr_image light = qsr_test_random_image(&rng, 40, 32, 3);
    memcpy(light.pixels, a.pixels, 40 * 32 * 3);
    qsr_image heavy = qsr_test_random_image(&rng, 40, 32, 3);
    memcpy(heavy.pixels, a.pixels, 40 * 32 * 3);
    for (size_t i = 0; i < 40 * 32 * 3; i++) {
        int n = qsr_rng_int(&rng, -6, 6);
        light.pixels[i] = (uint8_t)fmin(255, fmax(0, light.pixels[i] + n));
        heavy.pixels[i] = (uint8_t)fmin(255, fmax(0, heavy.pixels[i] + 5 * n));
    }
    double s_light = 0, s_heavy = 0, s_swapped = 0;
    CHECK_OK(qsr_image_ssim_y(&a, &light, 4, &s_light));
    CHECK_OK(qsr_image_ssim_y(&light, &a, 4, &s_swapped));
    CHECK_OK(qsr_image_ssim_y(&a, &heavy, 4, &s_heavy));
    CHECK(s_light < 1.0 && s_light > 0.5, "SSIM light noise %.4f", s_light);
    CHECK(s_heavy < s_light && s_heavy > 0.0, "SSIM heavy %.4f vs light %.4f", s_heavy, s_light);
    CHECK(fabs(s_light - s_swapped) < 1e-12, "SSIM not symmetric: %.15f vs %.15f", s_light,
          s_swapped);

    /* Invalid: different sizes, a border that eats the image, too small for the window. */
    qsr_image small = constant_image(20, 19, 3, 100);
    CHECK_STATUS(qsr_image_psnr_y(&g100, &small, 0, &v), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_ssim_y(&g100, &small, 0, &v), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(qsr_image_psnr_y(&g100, &g100, 10, &v), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_OK(qsr_image_psnr_y(&g100, &g100, 9, &v));
    CHECK_STATUS(qsr_image_ssim_y(&g100, &g100, 5, &v), QSR_ERROR_INVALID_ARGUMENT);
    CHECK_OK(qsr_image_ssim_y(&g100, &g100, 4, &v));

    qsr_image *all[] = {&a, &g100, &g110, &b, &light, &heavy, &small};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        qsr_image_free(all[i]);
}

/* The shipped sample decodes as the RGB image the assets README describes. */
static void test_sample_asset(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/assets/sample.png", qsr_test_env("QSR_SOURCE_DIR", "."));
    qsr_image img = {0};
    CHECK_OK(qsr_image_load_file(path, 0, &img));
    CHECK(img.width >= 128 && img.width <= 192 && img.height >= 128 && img.height <= 192 &&
              img.channels == 3,
          "%s: %ux%ux%u", path, img.width, img.height, img.channels);
    qsr_image_free(&img);
}

/* Code built on the library reports its errors through the same thread-local text. */
static void test_set_error(void) {
    CHECK(qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "tile %u of %s", 5u, "x") ==
              QSR_ERROR_INVALID_ARGUMENT,
          "qsr_set_error returns its status");
    CHECK(strcmp(qsr_last_error(), "tile 5 of x") == 0, "last error is '%s'", qsr_last_error());
    qsr_image img;
    CHECK(qsr_image_create(0, 0, 3, &img) != QSR_OK && strcmp(qsr_last_error(), "tile 5 of x"),
          "a library failure replaces the text");
}

int main(void) {
    test_set_error();
    snprintf(temp_dir, sizeof temp_dir, "%s/qsr-test-image-XXXXXX",
             qsr_test_env("QSR_BINARY_DIR", "/tmp"));
    if (!mkdtemp(temp_dir)) {
        fprintf(stderr, "cannot create a temporary folder %s\n", temp_dir);
        return 1;
    }
    test_round_trips();
    test_gray_and_16_bit();
    test_bad_inputs();
    test_null_and_invalid_args();
    test_save_failures();
    test_resize_constant();
    test_resize_identity_and_round_trip();
    test_resize_known_values();
    test_resize_shapes();
    test_metrics();
    test_sample_asset();
    if (rmdir(temp_dir) != 0) {
        qsr_test_failures++;
        fprintf(stderr, "FAIL: %s not empty at the end (leftover files)\n", temp_dir);
    }
    return qsr_test_finish("test_image");
}
