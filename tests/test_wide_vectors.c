/* test_wide_vectors.c - qsr_prefer_wide_cpu_vectors sets LP_NATIVE_VECTOR_WIDTH=512, with a Mesa
 * shader cache of its own in the pipeline cache folder, exactly when the CPU has AVX-512 (read
 * here from /proc/cpuinfo, not through the runtime's check) and the user set neither variable;
 * it never overrides a user's setting and sets nothing without a cache folder it can make.
 * Needs no device. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv, unsetenv */
#include "test_util.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1 or 0 when /proc/cpuinfo lists the avx512f flag or not; -1 when it cannot be read. */
static int cpuinfo_has_avx512f(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    char line[8192];
    int found = 0, flags_seen = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        flags_seen = 1;
        found = strstr(line, " avx512f") != NULL;
    }
    fclose(f);
    return flags_seen ? found : -1;
}

static int is_folder(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *env_or_empty(const char *name) {
    const char *v = getenv(name);
    return v ? v : "";
}

/* Neither variable set, the pipeline cache folder at `cache`. */
static void clean_env(const char *cache) {
    unsetenv("LP_NATIVE_VECTOR_WIDTH");
    unsetenv("MESA_SHADER_CACHE_DIR");
    setenv("QSR_PIPELINE_CACHE_DIR", cache, 1);
}

int main(void) {
    int avx512 = cpuinfo_has_avx512f();
#if !defined(__x86_64__) && !defined(__i386__)
    avx512 = 0; /* an emulated CPU (qemu-user) may list the host's flags */
#endif
    if (avx512 < 0) {
        printf("test_wide_vectors: no /proc/cpuinfo flags; skipped\n");
        return 77;
    }
    char base[] = "/tmp/qsr-wide-vectors-XXXXXX";
    if (!mkdtemp(base)) {
        fprintf(stderr, "cannot make a temporary folder\n");
        return 1;
    }
    char cache[1024], wide[1100];
    snprintf(cache, sizeof cache, "%s/nested/cache", base); /* made as needed */
    snprintf(wide, sizeof wide, "%s/mesa-lp512", cache);
    printf("CPU %s AVX-512\n", avx512 ? "has" : "lacks");

    /* Nothing set: the width and the cache folder where the CPU has AVX-512, else nothing. */
    clean_env(cache);
    int applied = -1;
    CHECK_OK(qsr_prefer_wide_cpu_vectors(&applied));
    CHECK(applied == avx512, "applied %d on a CPU with%s AVX-512", applied, avx512 ? "" : "out");
    if (avx512) {
        CHECK(strcmp(env_or_empty("LP_NATIVE_VECTOR_WIDTH"), "512") == 0, "width '%s'",
              env_or_empty("LP_NATIVE_VECTOR_WIDTH"));
        CHECK(strcmp(env_or_empty("MESA_SHADER_CACHE_DIR"), wide) == 0, "cache '%s', expected '%s'",
              env_or_empty("MESA_SHADER_CACHE_DIR"), wide);
        CHECK(is_folder(wide), "'%s' was not made", wide);
    } else {
        CHECK(!getenv("LP_NATIVE_VECTOR_WIDTH") && !getenv("MESA_SHADER_CACHE_DIR"),
              "set something on a CPU without AVX-512");
    }

    /* The user's width wins, and then the cache folder is left alone too. */
    clean_env(cache);
    setenv("LP_NATIVE_VECTOR_WIDTH", "256", 1);
    applied = -1;
    CHECK_OK(qsr_prefer_wide_cpu_vectors(&applied));
    CHECK(applied == 0, "applied over the user's LP_NATIVE_VECTOR_WIDTH");
    CHECK(strcmp(env_or_empty("LP_NATIVE_VECTOR_WIDTH"), "256") == 0, "width became '%s'",
          env_or_empty("LP_NATIVE_VECTOR_WIDTH"));
    CHECK(!getenv("MESA_SHADER_CACHE_DIR"), "cache set to '%s'",
          env_or_empty("MESA_SHADER_CACHE_DIR"));

    /* The user's cache folder is kept; the width follows the CPU. */
    clean_env(cache);
    setenv("MESA_SHADER_CACHE_DIR", "/somewhere/of/the/users", 1);
    applied = -1;
    CHECK_OK(qsr_prefer_wide_cpu_vectors(&applied));
    CHECK(applied == avx512, "applied %d with the user's cache folder", applied);
    CHECK(strcmp(env_or_empty("MESA_SHADER_CACHE_DIR"), "/somewhere/of/the/users") == 0,
          "cache became '%s'", env_or_empty("MESA_SHADER_CACHE_DIR"));

    /* No cache folder can be made (its parent is a file): nothing is set, since a shared cache
     * could hold 256-bit code. */
    char file[1100], blocked[1200];
    snprintf(file, sizeof file, "%s/file", base);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL, "cannot make '%s'", file);
    if (f) fclose(f);
    snprintf(blocked, sizeof blocked, "%s/cache", file);
    clean_env(blocked);
    applied = -1;
    CHECK_OK(qsr_prefer_wide_cpu_vectors(&applied));
    CHECK(applied == 0, "applied without a cache folder");
    CHECK(!getenv("LP_NATIVE_VECTOR_WIDTH") && !getenv("MESA_SHADER_CACHE_DIR"),
          "set something without a cache folder");

    remove(file);
    rmdir(wide);
    rmdir(cache);
    snprintf(cache, sizeof cache, "%s/nested", base);
    rmdir(cache);
    rmdir(base);
    return qsr_test_finish("test_wide_vectors");
}
