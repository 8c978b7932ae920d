/* util.c - error messages and small helpers shared by the commands. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cli_error(const char *fmt, ...) {
    va_list ap;
    fputs("quantsr: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...) {
    va_list ap;
    fputs("quantsr: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    const char *detail = qsr_last_error();
    fprintf(stderr, ": %s\n", detail[0] ? detail : "unknown error");
    return CLI_EXIT_FAILURE;
}

const char *cli_arch_name(uint32_t arch) {
    return qsr_arch_name(arch); /* the library's architecture table */
}

int cli_env_flag(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') return 0;
    return strcmp(v, "0") != 0 && strcmp(v, "false") != 0 && strcmp(v, "off") != 0 &&
           strcmp(v, "no") != 0;
}

int cli_parse_fp_math(const char *text, qsr_fp_math *out) {
    if (text == NULL || strcmp(text, "fast") == 0) {
        *out = QSR_FP_MATH_FAST;
        return 1;
    }
    if (strcmp(text, "reference") != 0) return 0;
    *out = QSR_FP_MATH_REFERENCE;
    return 1;
}

double cli_now_ms(void) {
    /* timespec_get is the C11 clock; durations here are seconds long, so a wall clock
     * (rather than a monotonic one) is precise enough. */
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC) return 0.0;
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1.0e6;
}

/* Makes room for `extra` more bytes and the NUL; 0 if memory ran out. */
static int text_reserve(cli_text *t, size_t extra) {
    if (t->length + extra + 1 <= t->capacity) return 1;
    size_t capacity = t->capacity ? t->capacity : 128;
    while (capacity < t->length + extra + 1)
        capacity *= 2;
    char *grown = realloc(t->data, capacity);
    if (grown == NULL) return 0;
    t->data = grown;
    t->capacity = capacity;
    return 1;
}

static void text_append_va(cli_text *t, const char *fmt, va_list ap) {
    va_list measure;
    va_copy(measure, ap);
    int n = vsnprintf(NULL, 0, fmt, measure);
    va_end(measure);
    if (n < 0) return;
    if (!text_reserve(t, (size_t)n)) {
        vfprintf(stderr, fmt, ap);
        return;
    }
    vsnprintf(t->data + t->length, (size_t)n + 1, fmt, ap);
    t->length += (size_t)n;
}

void cli_text_append(cli_text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    text_append_va(t, fmt, ap);
    va_end(ap);
}

void cli_text_error(cli_text *t, const char *fmt, ...) {
    va_list ap;
    cli_text_append(t, "quantsr: ");
    va_start(ap, fmt);
    text_append_va(t, fmt, ap);
    va_end(ap);
    cli_text_append(t, "\n");
}

void cli_text_fail(cli_text *t, const char *fmt, ...) {
    va_list ap;
    cli_text_append(t, "quantsr: ");
    va_start(ap, fmt);
    text_append_va(t, fmt, ap);
    va_end(ap);
    const char *detail = qsr_last_error();
    cli_text_append(t, ": %s\n", detail[0] ? detail : "unknown error");
}

void cli_text_flush(cli_text *t) {
    if (t->length) fputs(t->data, stderr);
    cli_text_free(t);
}

void cli_text_free(cli_text *t) {
    free(t->data);
    t->data = NULL;
    t->length = t->capacity = 0;
}
