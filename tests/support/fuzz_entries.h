/* fuzz_entries.h - what the libFuzzer targets (tests/fuzz/fuzz_*.c) do with one input, shared
 * with the replay of their seeds and regressions in the normal test suite
 * (tests/test_fuzz_regressions.c), so a crash found by fuzzing stays a failing test until it is
 * fixed. Each entry aborts (a crash to the fuzzer, a failure to the replay) when the API breaks
 * one of its documented promises; a sanitizer report is a crash too. */
#ifndef QSR_TEST_FUZZ_ENTRIES_H
#define QSR_TEST_FUZZ_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

/* Image inputs larger than this are rejected from their header. */
#define QSR_FUZZ_MAX_PIXELS (1u << 20)
/* argv lines beyond this are ignored. */
#define QSR_FUZZ_MAX_ARGS 64u

/* qsr_model_load_memory on the bytes as they are and, if the payload CRC-32 does not match, once
 * more with it fixed (so mutations reach the checks behind the CRC); a loaded model must report
 * a consistent qsr_model_get_info and a cost at each of its depth levels. */
void qsr_fuzz_model(const uint8_t *data, size_t size);

/* qsr_image_load_memory with a QSR_FUZZ_MAX_PIXELS cap; a decoded image must respect the cap
 * and is then resized with qsr_image_resize_bicubic to a small size taken from its own. */
void qsr_fuzz_image(const uint8_t *data, size_t size);

/* An argument-fuzzer input as a command line: argv[0] = "quantsr", then one argument per line
 * (lines end at '\n' or at the end; an argument ends at its first NUL, as exec would cut it,
 * and "a\n" is one argument, "a\n\n" two). `text` must hold
 * size + 1 bytes, argv max_args + 2 pointers (it is NULL-terminated). Returns argc. */
int qsr_fuzz_split_args(const uint8_t *data, size_t size, char *text, char **argv, size_t max_args);

#endif
