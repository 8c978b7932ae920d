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
    switch (arch) {
    case QSR_ARCH_QUANTSR_C:
        return "QuantSR-C";
    case QSR_ARCH_QUANTSR_T:
        return "QuantSR-T";
    default:
        return "unknown";
    }
}

int cli_env_flag(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') return 0;
    return strcmp(v, "0") != 0 && strcmp(v, "false") != 0 && strcmp(v, "off") != 0 &&
           strcmp(v, "no") != 0;
}

double cli_now_ms(void) {
    /* timespec_get is the C11 clock; durations here are seconds long, so a wall clock
     * (rather than a monotonic one) is precise enough. */
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC) return 0.0;
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1.0e6;
}
