/* model_path.c - finds the model file for -m / -n / the default model.
 *
 * The binary sits at the top of the build folder, one level below the repository root, so the
 * repository's models/ is <exe_dir>/../models; an installed layout may keep models/ beside the
 * binary; `cmake --install` puts them in share/quantsr/models (QSR_INSTALLED_MODEL_DIR, relative
 * to bin/); QSR_MODEL_DIR covers everything else. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define MAX_MODEL_DIRS 4

typedef struct model_dirs {
    char dirs[MAX_MODEL_DIRS][CLI_PATH_MAX];
    size_t count;
} model_dirs;

static void add_dir(model_dirs *md, const char *a, const char *b) {
    if (md->count < MAX_MODEL_DIRS && cli_join_path(md->dirs[md->count], CLI_PATH_MAX, a, b))
        md->count++;
}

/* The folders searched, in order. */
static void collect_model_dirs(model_dirs *md) {
    char exe_dir[CLI_PATH_MAX];
    md->count = 0;
    if (cli_executable_dir(exe_dir, sizeof exe_dir)) {
        add_dir(md, exe_dir, "../models");
        add_dir(md, exe_dir, "models");
        add_dir(md, exe_dir, QSR_INSTALLED_MODEL_DIR);
    }
    const char *env = getenv("QSR_MODEL_DIR");
    if (env && env[0] && md->count < MAX_MODEL_DIRS && strlen(env) < CLI_PATH_MAX) {
        memcpy(md->dirs[md->count], env, strlen(env) + 1);
        md->count++;
    }
}

static int find_in_dirs(const model_dirs *md, const char *file, char *out, size_t cap) {
    for (size_t i = 0; i < md->count; i++) {
        char path[CLI_PATH_MAX];
        if (cli_join_path(path, sizeof path, md->dirs[i], file) && cli_path_exists(path) &&
            !cli_is_directory(path) && strlen(path) < cap) {
            memcpy(out, path, strlen(path) + 1);
            return 1;
        }
    }
    return 0;
}

static void print_searched(const model_dirs *md, const char *file) {
    fprintf(stderr, "quantsr: looked for %s in:", file);
    for (size_t i = 0; i < md->count; i++)
        fprintf(stderr, " %s", md->dirs[i]);
    const char *env = getenv("QSR_MODEL_DIR");
    if (env == NULL || env[0] == '\0') fprintf(stderr, " (QSR_MODEL_DIR is not set)");
    fputc('\n', stderr);
}

int cli_resolve_model(const char *path, const char *name, char *out, size_t cap) {
    if (path && name) {
        cli_error("pass either -m MODEL or -n NAME, not both");
        return -1;
    }
    if (path) {
        if (strlen(path) >= cap) {
            cli_error("model path too long: '%s'", path);
            return -1;
        }
        memcpy(out, path, strlen(path) + 1);
        return 0;
    }
    char file[CLI_PATH_MAX];
    if (name) {
        /* -n takes "quantsr_c_x2_w4a4" as well as "quantsr_c_x2_w4a4.qsr". */
        const char *suffix = strcmp(cli_extension(name), ".qsr") == 0 ? "" : ".qsr";
        if (strchr(name, '/') ||
            snprintf(file, sizeof file, "%s%s", name, suffix) >= (int)sizeof file) {
            cli_error("bad model name '%s': -n takes a file name under models/ (use -m for a "
                      "path)",
                      name);
            return -1;
        }
    } else {
        snprintf(file, sizeof file, "%s", CLI_DEFAULT_MODEL);
    }
    model_dirs md;
    collect_model_dirs(&md);
    if (find_in_dirs(&md, file, out, cap)) return 0;
    if (name)
        cli_error("model '%s' not found; pass -m MODEL", name);
    else
        cli_error("no default model found; pass -m MODEL");
    print_searched(&md, file);
    return -1;
}
