/* files.c - POSIX folder listings and the model folders (kept in one place). */
#define _XOPEN_SOURCE 700 /* realpath */

#include "files.h"

#include <SDL.h>

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int viewer_is_directory(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int viewer_is_regular_file(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *extension(const char *path) {
    const char *base = viewer_basename(path);
    const char *dot = strrchr(base, '.');
    return dot ? dot : "";
}

int viewer_is_image_path(const char *path) {
    static const char *const known[] = {".png", ".jpg", ".jpeg", ".bmp", ".tga"};
    const char *ext = extension(path);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(ext, known[i]) == 0) return 1;
    return 0;
}

int viewer_is_model_path(const char *path) {
    return strcasecmp(extension(path), ".qsr") == 0;
}

const char *viewer_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int viewer_file_list_add(viewer_file_list *list, const char *path) {
    if (viewer_file_list_find(list, path) >= 0) return 0;
    char **grown = realloc(list->paths, (list->count + 1) * sizeof *grown);
    if (!grown) return -1;
    list->paths = grown;
    size_t n = strlen(path) + 1;
    list->paths[list->count] = malloc(n);
    if (!list->paths[list->count]) return -1;
    memcpy(list->paths[list->count], path, n);
    list->count++;
    return 0;
}

long viewer_file_list_find(const viewer_file_list *list, const char *path) {
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->paths[i], path) == 0) return (long)i;
    return -1;
}

void viewer_file_list_free(viewer_file_list *list) {
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    list->paths = NULL;
    list->count = 0;
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int viewer_list_files(const char *dir, int (*accept)(const char *path), viewer_file_list *out,
                      char *err, size_t err_cap) {
    viewer_file_list list = {NULL, 0};
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_cap, "cannot open folder '%s': %s", dir, strerror(errno));
        return -1;
    }
    size_t dir_len = strlen(dir);
    const char *sep = dir_len && dir[dir_len - 1] == '/' ? "" : "/";
    struct dirent *entry;
    int failed = 0;
    while (!failed && (entry = readdir(d)) != NULL) {
        char path[VIEWER_PATH_MAX];
        if (entry->d_name[0] == '.') continue;
        if (snprintf(path, sizeof path, "%s%s%s", dir, sep, entry->d_name) >= (int)sizeof path)
            continue;
        if (!accept(path) || !viewer_is_regular_file(path)) continue;
        failed = viewer_file_list_add(&list, path) != 0;
    }
    closedir(d);
    if (failed) {
        viewer_file_list_free(&list);
        snprintf(err, err_cap, "out of memory listing folder '%s'", dir);
        return -1;
    }
    if (list.count) qsort(list.paths, list.count, sizeof *list.paths, compare_paths);
    *out = list;
    return 0;
}

void viewer_canonical_path(const char *path, char *out, size_t cap) {
    char resolved[PATH_MAX];
    const char *use = realpath(path, resolved) ? resolved : path;
    snprintf(out, cap, "%s", use);
}

#ifndef QSR_INSTALLED_MODEL_DIR
#define QSR_INSTALLED_MODEL_DIR "../share/quantsr/models"
#endif

#define MAX_MODEL_DIRS 4

/* The model folders in search order (those of cli/model_path.c, the installed one relative to
 * the binary's folder); returns how many were written. */
static size_t model_dirs(char dirs[MAX_MODEL_DIRS][VIEWER_PATH_MAX]) {
    size_t n = 0;
    char *base = SDL_GetBasePath(); /* ends with '/' */
    if (base) {
        if (snprintf(dirs[n], VIEWER_PATH_MAX, "%s../models", base) < VIEWER_PATH_MAX) n++;
        if (snprintf(dirs[n], VIEWER_PATH_MAX, "%smodels", base) < VIEWER_PATH_MAX) n++;
        if (snprintf(dirs[n], VIEWER_PATH_MAX, "%s%s", base, QSR_INSTALLED_MODEL_DIR) <
            VIEWER_PATH_MAX)
            n++;
        SDL_free(base);
    }
    const char *env = getenv("QSR_MODEL_DIR");
    if (env && env[0] && strlen(env) < VIEWER_PATH_MAX) {
        memcpy(dirs[n], env, strlen(env) + 1);
        n++;
    }
    return n;
}

void viewer_list_models(viewer_file_list *out) {
    char dirs[MAX_MODEL_DIRS][VIEWER_PATH_MAX];
    size_t n = model_dirs(dirs);
    out->paths = NULL;
    out->count = 0;
    for (size_t i = 0; i < n; i++) {
        viewer_file_list found;
        char err[256];
        if (!viewer_is_directory(dirs[i])) continue;
        if (viewer_list_files(dirs[i], viewer_is_model_path, &found, err, sizeof err) != 0)
            continue;
        for (size_t k = 0; k < found.count; k++) {
            char canonical[VIEWER_PATH_MAX];
            viewer_canonical_path(found.paths[k], canonical, sizeof canonical);
            viewer_file_list_add(out, canonical);
        }
        viewer_file_list_free(&found);
    }
}

void viewer_describe_model_dirs(char *out, size_t cap) {
    char dirs[MAX_MODEL_DIRS][VIEWER_PATH_MAX];
    size_t n = model_dirs(dirs), used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", dirs[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (!getenv("QSR_MODEL_DIR") && used < cap)
        snprintf(out + used, cap - used, " (QSR_MODEL_DIR is not set)");
}
