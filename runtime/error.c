/* error.c - the thread-local last-error text and status names. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(_MSC_VER)
#define QSR__THREAD_LOCAL __declspec(thread)
#else
#define QSR__THREAD_LOCAL _Thread_local
#endif

static QSR__THREAD_LOCAL char qsr__error_text[1024];

const char *qsr_last_error(void) {
    return qsr__error_text;
}

qsr_status qsr__fail(qsr_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(qsr__error_text, sizeof qsr__error_text, fmt, ap);
    va_end(ap);
    return status;
}

qsr_status qsr_set_error(qsr_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(qsr__error_text, sizeof qsr__error_text, fmt ? fmt : "", ap);
    va_end(ap);
    return status;
}

qsr_status qsr__fail_context(qsr_status status, const char *fmt, ...) {
    char prefix[512], old[sizeof qsr__error_text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, qsr__error_text, sizeof old);
    /* Truncation is acceptable: the message is for people. */
    size_t n = strlen(prefix);
    if (n > sizeof qsr__error_text - 3) n = sizeof qsr__error_text - 3;
    memcpy(qsr__error_text, prefix, n);
    memcpy(qsr__error_text + n, ": ", 2);
    size_t rest = sizeof qsr__error_text - n - 3;
    size_t m = strlen(old);
    if (m > rest) m = rest;
    memcpy(qsr__error_text + n + 2, old, m);
    qsr__error_text[n + 2 + m] = '\0';
    return status;
}

const char *qsr_status_name(qsr_status status) {
    static const char *const names[QSR_STATUS_COUNT] = {
        "QSR_OK",
        "QSR_ERROR_INVALID_ARGUMENT",
        "QSR_ERROR_IO",
        "QSR_ERROR_MODEL_CORRUPT",
        "QSR_ERROR_IMAGE_DECODE",
        "QSR_ERROR_UNSUPPORTED",
        "QSR_ERROR_LIMIT",
        "QSR_ERROR_OUT_OF_HOST_MEMORY",
        "QSR_ERROR_OUT_OF_DEVICE_MEMORY",
        "QSR_ERROR_DEVICE_LOST",
        "QSR_ERROR_NO_DEVICE",
        "QSR_ERROR_VULKAN",
        "QSR_ERROR_BAD_OUTPUT",
    };
    if ((unsigned)status >= QSR_STATUS_COUNT) return "QSR_ERROR_UNKNOWN";
    return names[status];
}

int qsr__mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}

uint32_t qsr__crc32(const void *data, size_t size) {
    /* Bitwise-table-free CRC would be slow for 10 MB models; a 256-entry table is built on
     * the stack per call (1 KiB, negligible next to the payload) to keep no global state. */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const uint8_t *p = (const uint8_t *)data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++)
        crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}
