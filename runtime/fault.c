/* fault.c - the QSR_FAULT parser and counters (see fault.h). */
#include "fault.h"

#include <stdlib.h>
#include <string.h>

void qsr__faults_parse(qsr__faults *faults, const char *spec) {
    static const char *const names[QSR__FAULT_KIND_COUNT] = {"alloc", "submit", "lost"};
    memset(faults, 0, sizeof *faults);
    while (spec && *spec) {
        for (int k = 0; k < QSR__FAULT_KIND_COUNT; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(spec, names[k], n) == 0 && spec[n] == ':') {
                char *end = NULL;
                unsigned long at = strtoul(spec + n + 1, &end, 10);
                faults->at[k] = (uint32_t)at;
                faults->repeat[k] = end && *end == '+';
            }
        }
        spec = strchr(spec, ',');
        if (spec) spec++;
    }
}

int qsr__fault_hit(qsr__faults *faults, qsr__fault_kind kind) {
    uint32_t n = ++faults->count[kind];
    uint32_t at = faults->at[kind];
    return at != 0 && (n == at || (faults->repeat[kind] && n > at));
}
