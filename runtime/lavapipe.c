/* lavapipe.c - qsr_prefer_wide_cpu_vectors: the environment that makes Mesa's lavapipe use the
 * CPU's 512-bit vectors, for programs that own their process (include/quantsr.h). */
#include "platform.h"
#include "vk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mesa's shader cache keys its entries without the vector width: code compiled at 256 bits is
 * what a 512-bit run would load from a shared cache (measured: the 4-bit convolution then runs
 * at its 256-bit speed). The 512-bit code gets a folder of its own. */
#define WIDE_CACHE_FOLDER "mesa-lp512"

static int env_set(const char *name) {
    const char *v = getenv(name);
    return v && *v;
}

/* Points MESA_SHADER_CACHE_DIR at WIDE_CACHE_FOLDER in the pipeline cache folder, made if
 * missing (Mesa makes only the last folder of the path). *usable = 0 when there is no such
 * folder (none on Android) or it cannot be made or named: then nothing is set. */
static qsr_status set_wide_cache_dir(int *usable) {
    *usable = 0;
    char *base = qsr__pipeline_cache_folder(NULL);
    if (!base) return QSR_OK;
    size_t n = strlen(base) + sizeof "/" WIDE_CACHE_FOLDER "/x";
    char *path = malloc(n);
    if (!path) {
        free(base);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "the shader cache folder's name");
    }
    snprintf(path, n, "%s/%s/x", base, WIDE_CACHE_FOLDER);
    free(base);
    int err = qsr__make_parent_dirs(path);
    path[strlen(path) - 2] = '\0'; /* the folder itself */
    if (!err) err = qsr__set_env("MESA_SHADER_CACHE_DIR", path);
    *usable = !err;
    free(path);
    return QSR_OK;
}

qsr_status qsr_prefer_wide_cpu_vectors(int *applied) {
    if (applied) *applied = 0;
    if (!qsr__cpu_has_avx512() || env_set("LP_NATIVE_VECTOR_WIDTH")) return QSR_OK;
    /* Without a cache of its own the width stays as it is: a shared cache may hold 256-bit
     * code, and no cache at all would compile every shader at every start. */
    if (!env_set("MESA_SHADER_CACHE_DIR")) {
        int usable;
        qsr_status st = set_wide_cache_dir(&usable);
        if (st != QSR_OK || !usable) return st;
    }
    if (qsr__set_env("LP_NATIVE_VECTOR_WIDTH", "512") != 0) return QSR_OK;
    if (applied) *applied = 1;
    return QSR_OK;
}
