/* image.c - creating, decoding and encoding 8-bit images (stb_image / stb_image_write). */
#include "image_guard.h"
#include "internal.h"
#include "platform.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one stb_image / stb_image_write implementation of the project lives here. Only the
 * formats quantsr promises are compiled in: fewer decoders, less attack surface (the fuzzer
 * found overflows in stb's PNM decoder). */
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>

/* Largest encoded file we read into memory; stb takes the length as an int. */
#define QSR__MAX_IMAGE_FILE_BYTES ((size_t)INT_MAX)
#define QSR__DEFAULT_JPEG_QUALITY 95

static qsr_status check_image_shape(uint32_t width, uint32_t height, uint32_t channels,
                                    size_t *out_bytes) {
    if (width == 0 || height == 0)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "image size %ux%u: both must be >= 1", width,
                         height);
    if (channels < 1 || channels > 4)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "image channels %u: must be 1 to 4", channels);
    if (width > QSR_MAX_IMAGE_DIMENSION || height > QSR_MAX_IMAGE_DIMENSION)
        return qsr__fail(QSR_ERROR_LIMIT, "image size %ux%u exceeds the limit of %u per side",
                         width, height, QSR_MAX_IMAGE_DIMENSION);
    size_t pixels = 0, bytes = 0;
    if (!qsr__mul_size(width, height, &pixels) || !qsr__mul_size(pixels, channels, &bytes))
        return qsr__fail(QSR_ERROR_LIMIT, "image size %ux%ux%u overflows size_t", width, height,
                         channels);
    *out_bytes = bytes;
    return QSR_OK;
}

qsr_status qsr_image_create(uint32_t width, uint32_t height, uint32_t channels, qsr_image *out) {
    if (!out) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_image_create: out is NULL");
    size_t bytes = 0;
    qsr_status st = check_image_shape(width, height, channels, &bytes);
    if (st != QSR_OK) return st;
    uint8_t *pixels = (uint8_t *)calloc(bytes, 1);
    if (!pixels)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                         "cannot allocate a %ux%ux%u image (%zu bytes)", width, height, channels,
                         bytes);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->pixels = pixels;
    return QSR_OK;
}

void qsr_image_free(qsr_image *image) {
    if (!image) return;
    free(image->pixels);
    memset(image, 0, sizeof *image);
}

/* ------------------------------------------------------------------------------------------
 * Decoding
 */

static uint32_t read_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* stb refuses to even report the size of PNGs whose decoded size passes 1 GiB, so read the
 * IHDR ourselves to still say how big such an image claims to be. Returns 1 on success. */
static int peek_png_dimensions(const uint8_t *data, size_t size, uint32_t *w, uint32_t *h) {
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (size < 24 || memcmp(data, signature, 8) != 0 || memcmp(data + 12, "IHDR", 4) != 0) return 0;
    *w = read_be32(data + 16);
    *h = read_be32(data + 20);
    return 1;
}

static qsr_status check_decode_limits(uint32_t w, uint32_t h, uint64_t max_pixels) {
    if (w == 0 || h == 0)
        return qsr__fail(QSR_ERROR_LIMIT,
                         "image claims size %ux%u: zero-sized images are not allowed", w, h);
    if (w > QSR_MAX_IMAGE_DIMENSION || h > QSR_MAX_IMAGE_DIMENSION)
        return qsr__fail(QSR_ERROR_LIMIT, "image size %ux%u exceeds the limit of %u per side", w, h,
                         QSR_MAX_IMAGE_DIMENSION);
    if ((uint64_t)w * h > max_pixels)
        return qsr__fail(QSR_ERROR_LIMIT,
                         "image size %ux%u (%llu pixels) exceeds the limit of %llu pixels", w, h,
                         (unsigned long long)w * h, (unsigned long long)max_pixels);
    return QSR_OK;
}

/* Reads the dimensions from the header and enforces the limits before any pixel is decoded. */
static qsr_status probe_header(const uint8_t *data, int len, uint64_t max_pixels, int *channels) {
    int w = 0, h = 0, comp = 0;
    if (stbi_info_from_memory(data, len, &w, &h, &comp)) {
        *channels = comp;
        /* stb reports a top-down BMP's height as stored: negative (its decoder flips it). */
        uint32_t uh = h < 0 ? (h == INT_MIN ? UINT32_MAX : (uint32_t)-h) : (uint32_t)h;
        uint32_t uw = w < 0 ? UINT32_MAX : (uint32_t)w;
        return check_decode_limits(uw, uh, max_pixels);
    }
    const char *reason = stbi_failure_reason();
    uint32_t pw, ph;
    if (peek_png_dimensions(data, (size_t)len, &pw, &ph)) {
        qsr_status st = check_decode_limits(pw, ph, max_pixels);
        if (st != QSR_OK) return st;
    }
    if (reason && strcmp(reason, "too large") == 0)
        return qsr__fail(QSR_ERROR_LIMIT, "image too large to decode (its header claims more "
                                          "than 1 GiB of pixels)");
    return qsr__fail(QSR_ERROR_IMAGE_DECODE, "cannot decode image header: %s",
                     reason ? reason : "unknown format");
}

qsr_status qsr_image_load_memory(const void *data, size_t size, uint64_t max_pixels,
                                 qsr_image *out) {
    if (!data || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_image_load_memory: %s is NULL",
                         !data ? "data" : "out");
    if (size == 0) return qsr__fail(QSR_ERROR_IMAGE_DECODE, "image data is empty (0 bytes)");
    if (size > QSR__MAX_IMAGE_FILE_BYTES)
        return qsr__fail(QSR_ERROR_LIMIT, "encoded image of %zu bytes exceeds the limit of %zu",
                         size, QSR__MAX_IMAGE_FILE_BYTES);
    if (max_pixels == 0) max_pixels = QSR_DEFAULT_MAX_PIXELS;

    uint8_t *fixed = NULL;
    size_t fixed_size = 0;
    qsr_status st = qsr__image_guard((const uint8_t *)data, size, &fixed, &fixed_size);
    if (st != QSR_OK) return st;
    if (fixed) {
        st = qsr_image_load_memory(fixed, fixed_size, max_pixels, out);
        free(fixed);
        return st;
    }

    int file_channels = 0;
    st = probe_header((const uint8_t *)data, (int)size, max_pixels, &file_channels);
    if (st != QSR_OK) return st;

    /* Gray -> RGB, gray+alpha -> RGBA; stb converts 16-bit samples to 8 bits. */
    int wanted = (file_channels == 2 || file_channels == 4) ? 4 : 3;
    int w = 0, h = 0, comp = 0;
    stbi_uc *pixels =
        stbi_load_from_memory((const stbi_uc *)data, (int)size, &w, &h, &comp, wanted);
    if (!pixels) {
        const char *reason = stbi_failure_reason();
        return qsr__fail(QSR_ERROR_IMAGE_DECODE, "cannot decode image: %s",
                         reason ? reason : "unknown error");
    }
    /* The header was checked, but the decoder has the last word on the size. */
    st = check_decode_limits((uint32_t)w, (uint32_t)h, max_pixels);
    if (st != QSR_OK) {
        stbi_image_free(pixels);
        return st;
    }
    qsr_image img;
    st = qsr_image_create((uint32_t)w, (uint32_t)h, (uint32_t)wanted, &img);
    if (st == QSR_OK) {
        memcpy(img.pixels, pixels, (size_t)w * (size_t)h * (size_t)wanted);
        *out = img;
    }
    stbi_image_free(pixels);
    return st;
}

/* Reads a whole regular file into a malloc'd buffer. */
static qsr_status read_whole_file(const char *path, uint8_t **out_data, size_t *out_size) {
    FILE *f = qsr__fopen(path, "rb");
    if (!f) return qsr__fail(QSR_ERROR_IO, "cannot open '%s': %s", path, strerror(errno));
    uint64_t file_size = 0;
    int err = qsr__regular_file_size(f, &file_size);
    if (err) {
        fclose(f);
        if (err == EISDIR || err == EINVAL)
            return qsr__fail(QSR_ERROR_IO, "'%s' is not a regular file", path);
        return qsr__fail(QSR_ERROR_IO, "cannot stat '%s': %s", path, strerror(err));
    }
    if (file_size > (uint64_t)QSR__MAX_IMAGE_FILE_BYTES) {
        fclose(f);
        return qsr__fail(QSR_ERROR_LIMIT, "'%s' is %llu bytes, more than the %zu-byte limit", path,
                         (unsigned long long)file_size, QSR__MAX_IMAGE_FILE_BYTES);
    }
    size_t size = (size_t)file_size;
    uint8_t *data = (uint8_t *)malloc(size ? size : 1);
    if (!data) {
        fclose(f);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate %zu bytes to read '%s'",
                         size, path);
    }
    size_t got = fread(data, 1, size, f);
    int read_error = ferror(f) ? errno : 0;
    fclose(f);
    if (got != size) {
        free(data);
        if (read_error)
            return qsr__fail(QSR_ERROR_IO, "cannot read '%s': %s", path, strerror(read_error));
        return qsr__fail(QSR_ERROR_IO, "'%s' shrank while being read (%zu of %zu bytes)", path, got,
                         size);
    }
    *out_data = data;
    *out_size = size;
    return QSR_OK;
}

qsr_status qsr_image_load_file(const char *path, uint64_t max_pixels, qsr_image *out) {
    if (!path || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_image_load_file: %s is NULL",
                         !path ? "path" : "out");
    uint8_t *data = NULL;
    size_t size = 0;
    qsr_status st = read_whole_file(path, &data, &size);
    if (st != QSR_OK) return st;
    if (size == 0) {
        free(data);
        return qsr__fail(QSR_ERROR_IMAGE_DECODE, "'%s' is empty (0 bytes)", path);
    }
    st = qsr_image_load_memory(data, size, max_pixels, out);
    free(data);
    if (st != QSR_OK) return qsr__fail_context(st, "'%s'", path);
    return QSR_OK;
}

/* ------------------------------------------------------------------------------------------
 * Encoding
 */

typedef enum image_format {
    FORMAT_UNKNOWN,
    FORMAT_PNG,
    FORMAT_JPEG,
    FORMAT_BMP,
    FORMAT_TGA
} image_format;

static const char *path_extension(const char *path) {
    const char *base = qsr__path_basename(path);
    const char *dot = strrchr(base, '.');
    return (dot && dot != base) ? dot : "";
}

static image_format format_from_extension(const char *ext) {
    if (qsr__ascii_casecmp(ext, ".png") == 0) return FORMAT_PNG;
    if (qsr__ascii_casecmp(ext, ".jpg") == 0 || qsr__ascii_casecmp(ext, ".jpeg") == 0)
        return FORMAT_JPEG;
    if (qsr__ascii_casecmp(ext, ".bmp") == 0) return FORMAT_BMP;
    if (qsr__ascii_casecmp(ext, ".tga") == 0) return FORMAT_TGA;
    return FORMAT_UNKNOWN;
}

/* stb_image_write reports bytes through a callback; remember the first write error. */
typedef struct file_sink {
    FILE *file;
    int error; /* errno of the first failed write, or -1 if errno was 0 */
} file_sink;

static void sink_write(void *context, void *data, int size) {
    file_sink *sink = (file_sink *)context;
    if (sink->error || size <= 0) return;
    if (fwrite(data, 1, (size_t)size, sink->file) != (size_t)size) sink->error = errno ? errno : -1;
}

static int encode(image_format format, file_sink *sink, const qsr_image *image, int quality) {
    int w = (int)image->width, h = (int)image->height, c = (int)image->channels;
    switch (format) {
    case FORMAT_PNG:
        return stbi_write_png_to_func(sink_write, sink, w, h, c, image->pixels, w * c);
    case FORMAT_JPEG:
        /* JPEG holds no alpha: stb reads only the color channels of each pixel. */
        return stbi_write_jpg_to_func(sink_write, sink, w, h, c, image->pixels, quality);
    case FORMAT_BMP:
        return stbi_write_bmp_to_func(sink_write, sink, w, h, c, image->pixels);
    case FORMAT_TGA:
        return stbi_write_tga_to_func(sink_write, sink, w, h, c, image->pixels);
    default:
        return 0;
    }
}

/* Makes `<dir>/.<name>.tmp-<pid>-<n>` and opens it exclusively, so concurrent saves (other
 * threads or processes) never share a temporary file. */
static qsr_status create_temp_file(const char *path, char **out_temp, FILE **out_file) {
    const char *base = qsr__path_basename(path);
    size_t dir_len = (size_t)(base - path);
    size_t cap = strlen(path) + 64;
    char *temp = (char *)malloc(cap);
    if (!temp) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate a temp path");
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = qsr__next_unique();
        snprintf(temp, cap, "%.*s.%s.tmp-%ld-%u", (int)dir_len, path, base, qsr__process_id(), n);
        errno = 0;
        FILE *f = qsr__create_exclusive(temp);
        if (!f && errno == EEXIST) continue;
        if (!f) {
            int err = errno;
            /* fdopen can fail after the file was made; a missing file makes this a no-op. */
            if (err != EEXIST) qsr__remove_file(temp);
            free(temp);
            return qsr__fail(QSR_ERROR_IO, "cannot create a temporary file beside '%s': %s", path,
                             strerror(err));
        }
        *out_temp = temp;
        *out_file = f;
        return QSR_OK;
    }
    free(temp);
    return qsr__fail(QSR_ERROR_IO, "cannot find a free temporary name beside '%s'", path);
}

/* Encodes into the open temp file, then flushes it to disk and closes it. */
static qsr_status write_and_close(FILE *f, image_format format, const qsr_image *image, int quality,
                                  const char *path) {
    file_sink sink = {f, 0};
    int encoded = encode(format, &sink, image, quality);
    int err = qsr__sync_file(f);
    if (fclose(f) != 0 && !err) err = errno ? errno : -1;
    if (!encoded)
        return qsr__fail(QSR_ERROR_IO, "cannot encode '%s' (%ux%ux%u)", path, image->width,
                         image->height, image->channels);
    if (sink.error || err) {
        int e = sink.error ? sink.error : err;
        return qsr__fail(QSR_ERROR_IO, "cannot write '%s': %s", path,
                         e > 0 ? strerror(e) : "write failed");
    }
    return QSR_OK;
}

static qsr_status check_save_args(const char *path, const qsr_image *image, int jpeg_quality,
                                  image_format *out_format) {
    if (!path || !image)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_image_save_file: %s is NULL",
                         !path ? "path" : "image");
    if (!image->pixels)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "cannot save '%s': the image has no pixels",
                         path);
    size_t bytes = 0;
    qsr_status st = check_image_shape(image->width, image->height, image->channels, &bytes);
    if (st != QSR_OK) return qsr__fail_context(st, "cannot save '%s'", path);
    if (jpeg_quality < 0 || jpeg_quality > 100)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "JPEG quality %d: must be 0 (default) to 100",
                         jpeg_quality);
    const char *ext = path_extension(path);
    *out_format = format_from_extension(ext);
    if (*out_format == FORMAT_UNKNOWN)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "cannot save '%s': unsupported extension '%s' (use .png, .jpg, .jpeg, "
                         ".bmp or .tga)",
                         path, ext);
    return QSR_OK;
}

qsr_status qsr_image_save_file(const char *path, const qsr_image *image, int jpeg_quality) {
    image_format format = FORMAT_UNKNOWN;
    qsr_status st = check_save_args(path, image, jpeg_quality, &format);
    if (st != QSR_OK) return st;
    int quality = jpeg_quality ? jpeg_quality : QSR__DEFAULT_JPEG_QUALITY;

    char *temp = NULL;
    FILE *f = NULL;
    st = create_temp_file(path, &temp, &f);
    if (st != QSR_OK) return st;
    st = write_and_close(f, format, image, quality, path);
    int err = st == QSR_OK ? qsr__replace_file(temp, path) : 0;
    if (err)
        st = qsr__fail(QSR_ERROR_IO, "cannot rename '%s' to '%s': %s", temp, path, strerror(err));
    if (st != QSR_OK) qsr__remove_file(temp);
    free(temp);
    return st;
}
