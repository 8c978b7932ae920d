/* fuzz_image.c - libFuzzer target: image decoding (qsr_image_load_memory with a pixel cap) and
 * qsr_image_resize_bicubic of what decodes. Built and run by tests/fuzz/run.sh; the work per
 * input is qsr_fuzz_image (tests/support/fuzz_entries.c). */
#include "fuzz_entries.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qsr_fuzz_image(data, size);
    return 0;
}
