/* arch.c - the architecture table (arch.h): lookup, the gate, the depth rule and the halo. */
#include "arch.h"

static const qsr__arch *const table[] = {&qsr__arch_quantsr_c, &qsr__arch_quantsr_t};

const qsr__arch *qsr__arch_find(uint32_t arch) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i]->id == arch) return table[i];
    return NULL;
}

qsr_status qsr__arch_get(uint32_t arch, const qsr__arch **out) {
    const qsr__arch *a = qsr__arch_find(arch);
    if (!a)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "header field arch is %u, an unknown architecture (1 = QuantSR-C, "
                         "2 = QuantSR-T)",
                         arch);
    *out = a;
    return QSR_OK;
}

qsr_status qsr__arch_gpu_program(const qsr_model *model, const qsr__program **out) {
    const qsr__arch *a = NULL;
    qsr_status st = qsr__arch_get(model->info.arch, &a);
    if (st != QSR_OK) return st;
    if (!a->program)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "%s runs on the CPU reference only (no GPU program: its kernels are not "
                         "written yet)",
                         a->name);
    /* The upscaler cuts body tiles anywhere and grows them by the halo, or runs the whole image
     * as one tile: a program whose tiles must start on a grid needs that taught to it first. */
    if (!a->tile.whole_image && (a->tile.align != 1 || a->tile.hr_tile_max == 0))
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "internal error: %s's tiles (alignment %u, HR edge %u) are not "
                         "supported by the upscaler",
                         a->name, a->tile.align, a->tile.hr_tile_max);
    *out = a->program;
    return QSR_OK;
}

uint32_t qsr__arch_active_blocks(const qsr_model_info *info, uint32_t depth) {
    return depth == 0 || depth > info->blocks ? info->blocks : depth;
}

int qsr__arch_block_active(const qsr_model_info *info, uint32_t depth, uint32_t block) {
    if (block >= info->blocks) return 0;
    if (depth == 0 || depth >= info->blocks) return 1;
    for (uint32_t k = 0; k < depth; k++)
        if (info->block_rank[k] == block) return 1;
    return 0;
}

uint32_t qsr__arch_halo(const qsr__arch *arch, const qsr_model_info *info, uint32_t depth) {
    return arch->tile.halo_base + arch->tile.halo_per_block * qsr__arch_active_blocks(info, depth);
}
