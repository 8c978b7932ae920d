/* fuzz_model.c - libFuzzer target: the .qsr model loader (qsr_model_load_memory, then
 * qsr_model_get_info and qsr_model_macs_per_pixel at each depth level). Built and run by
 * tests/fuzz/run.sh; the work per input is qsr_fuzz_model (tests/support/fuzz_entries.c). */
#include "fuzz_entries.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qsr_fuzz_model(data, size);
    return 0;
}
