/* quantsr_t.c - QuantSR-T (arch 2), SwinIR-light with RLQ-quantized linear layers: the CPU
 * reference walk (reference_t.c) and its MACs. It has no GPU program yet, so the upscaler's
 * refusal comes from this entry; its program, when written, goes here. */
#include "arch.h"
#include "reference.h"

/* Per LR pixel (= per token): each active Swin layer runs qkv (3 E^2), proj (E^2), fc1 and fc2
 * (2 E H) and the two attention products Q K^T and P V (N E each, N = W^2 tokens per window);
 * every group runs its 3x3 conv. Window padding is not counted. */
static uint64_t macs_per_pixel(const qsr_model_info *info, uint64_t active) {
    const uint64_t e = info->channels, hid = info->mlp_hidden, s = info->scale;
    const uint64_t n = (uint64_t)info->window * info->window;
    uint64_t macs = 9 * 3 * e;                              /* conv_first */
    macs += active * (4 * e * e + 2 * e * hid + 2 * n * e); /* Swin layers */
    macs += (uint64_t)info->group_count * 9 * e * e;        /* group convs */
    macs += 9 * e * e;                                      /* conv_after_body */
    macs += 9 * e * 3 * s * s;                              /* upsample.0 */
    return macs;
}

/* Windows are laid on the padded whole image and shifted every other layer, so a pixel's
 * result depends on where the image's window grid falls: there is no exact halo, and a region
 * run would differ from the same pixels of a full run. */
const qsr__arch qsr__arch_quantsr_t = {
    .id = QSR_ARCH_QUANTSR_T,
    .name = "QuantSR-T",
    .schema = &qsr__model_schema_t,
    .program = NULL,
    .tile = {.align = 0, .halo_base = 0, .halo_per_block = 0, .hr_margin = 0, .hr_tile_max = 0},
    .region_exact = 0,
    .macs_per_pixel = macs_per_pixel,
    .reference = qsr__reference_upscale_t,
};
