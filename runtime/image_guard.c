/* image_guard.c - checks on encoded images before they reach stb_image, for inputs that crash
 * or trip undefined behaviour in Debian's stb_image 2.27 (found by tests/fuzz, replayed by
 * test_fuzz_regressions):
 *   - JPEG: a Huffman table whose code counts add up to more than 256 overflows stb's table;
 *     such a file is invalid (at most 256 symbols), so it is rejected.
 *   - PNG: a zero-length IDAT chunk makes stb add an offset to a null pointer; such chunks
 *     carry no data, so a copy of the file without them is decoded instead. */
#include "image_guard.h"

#include <stdlib.h>
#include <string.h>

static uint32_t be16(const uint8_t *p) {
    return (uint32_t)p[0] << 8 | p[1];
}
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every DHT segment's tables: 1 byte class/id, 16 counts, sum(counts) <= 256 symbols. */
static qsr_status check_dht(const uint8_t *seg, size_t len) {
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 17)
            return qsr__fail(QSR_ERROR_IMAGE_DECODE, "JPEG: truncated Huffman table");
        uint32_t symbols = 0;
        for (int i = 1; i <= 16; i++)
            symbols += seg[pos + (size_t)i];
        if (symbols > 256)
            return qsr__fail(QSR_ERROR_IMAGE_DECODE,
                             "JPEG: a Huffman table declares %u codes (at most 256)", symbols);
        pos += 17 + symbols;
    }
    return QSR_OK;
}

static qsr_status check_jpeg(const uint8_t *d, size_t n) {
    size_t pos = 2;
    while (pos + 4 <= n) {
        if (d[pos] != 0xFF) { /* entropy-coded data: find the next marker */
            pos++;
            continue;
        }
        uint8_t marker = d[pos + 1];
        /* Fill bytes, stuffed zeros, restart markers and standalone markers have no length. */
        if (marker == 0xFF || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD8) ||
            marker == 0x01) {
            pos += marker == 0xFF ? 1 : 2;
            continue;
        }
        if (marker == 0xD9) break; /* end of image */
        uint32_t len = be16(d + pos + 2);
        if (len < 2) break; /* stb reports it */
        if (marker == 0xC4) {
            /* A table cut off by the end of the file is checked as far as it goes: stb reads
             * the counts of a truncated table too. */
            size_t avail = n - pos - 4 < (size_t)len - 2 ? n - pos - 4 : (size_t)len - 2;
            qsr_status st = check_dht(d + pos + 4, avail);
            if (st != QSR_OK) return st;
        }
        if (pos + 2 + len > n) break;
        pos += 2 + len;
    }
    return QSR_OK;
}

/* Is the chunk at `pos` a zero-length IDAT (its CRC may be cut off)? */
static int is_empty_idat(const uint8_t *d, size_t n, size_t pos) {
    return pos + 8 <= n && be32(d + pos) == 0 && memcmp(d + pos + 4, "IDAT", 4) == 0;
}

/* Offset of the chunk after the one at `pos` (n when the chunk runs past the end). */
static size_t next_chunk(const uint8_t *d, size_t n, size_t pos) {
    if (pos + 8 > n) return n;
    uint32_t len = be32(d + pos);
    return len > n - pos - 8 || n - pos - 8 - len < 4 ? n : pos + 12 + len;
}

/* A copy of a PNG without its zero-length IDAT chunks (complete or cut off), or NULL if it has
 * none. */
static qsr_status strip_empty_idat(const uint8_t *d, size_t n, uint8_t **out, size_t *out_n) {
    *out = NULL;
    int found = 0;
    for (size_t pos = 8; pos < n; pos = next_chunk(d, n, pos))
        found |= is_empty_idat(d, n, pos);
    if (!found) return QSR_OK;
    uint8_t *copy = malloc(n);
    if (!copy) return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "copying a PNG of %zu bytes", n);
    memcpy(copy, d, 8);
    size_t w = 8;
    for (size_t pos = 8; pos < n;) {
        size_t next = next_chunk(d, n, pos);
        if (!is_empty_idat(d, n, pos)) {
            memcpy(copy + w, d + pos, next - pos);
            w += next - pos;
        }
        pos = next;
    }
    *out = copy;
    *out_n = w;
    return QSR_OK;
}

qsr_status qsr__image_guard(const uint8_t *data, size_t size, uint8_t **fixed, size_t *fixed_size) {
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    *fixed = NULL;
    /* stb accepts fill bytes (0xFF) before the JPEG start-of-image marker; so does the check. */
    size_t fill = 0;
    while (fill < size && data[fill] == 0xFF)
        fill++;
    if (fill >= 1 && fill < size && data[fill] == 0xD8)
        return check_jpeg(data + fill - 1, size - (fill - 1));
    if (size >= 8 && memcmp(data, png_signature, 8) == 0)
        return strip_empty_idat(data, size, fixed, fixed_size);
    return QSR_OK;
}
