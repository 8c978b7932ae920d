/* fault.h - fault injection for tests: QSR_FAULT=alloc:N,submit:N,lost:N makes the Nth device
 * allocation fail with VK_ERROR_OUT_OF_DEVICE_MEMORY, the Nth queue submission fail, or the
 * Nth submission report VK_ERROR_DEVICE_LOST ("N+" fails the Nth and every later one). Counts
 * start when the context is created. Without QSR_FAULT nothing is ever injected. */
#ifndef QSR_FAULT_H
#define QSR_FAULT_H

#include <stdint.h>

typedef enum qsr__fault_kind {
    QSR__FAULT_ALLOC,
    QSR__FAULT_SUBMIT,
    QSR__FAULT_LOST,
    QSR__FAULT_KIND_COUNT
} qsr__fault_kind;

typedef struct qsr__faults {
    uint32_t at[QSR__FAULT_KIND_COUNT];    /* 0 = never */
    int repeat[QSR__FAULT_KIND_COUNT];     /* fail every event from `at` on */
    uint32_t count[QSR__FAULT_KIND_COUNT]; /* events seen */
} qsr__faults;

/* Parses a spec such as "alloc:4,lost:1+"; unknown parts are ignored. */
void qsr__faults_parse(qsr__faults *faults, const char *spec);
/* Counts one event of `kind`; returns 1 if it must fail. */
int qsr__fault_hit(qsr__faults *faults, qsr__fault_kind kind);

#endif
