/* files.h - file-system helpers of the viewer: folder listings, the model folders. */
#ifndef QSR_VIEWER_FILES_H
#define QSR_VIEWER_FILES_H

#include <stddef.h>

#define VIEWER_PATH_MAX 4096

typedef struct viewer_file_list {
    char **paths; /* owned, sorted by name */
    size_t count;
} viewer_file_list;

int viewer_is_directory(const char *path);
int viewer_is_regular_file(const char *path);
/* .png .jpg .jpeg .bmp .tga (case-insensitive) */
int viewer_is_image_path(const char *path);
/* .qsr (case-insensitive) */
int viewer_is_model_path(const char *path);
/* The part after the last '/'. */
const char *viewer_basename(const char *path);

/* Lists the regular files of `dir` that `accept` takes, sorted by name, as "dir/name". On
 * failure writes a message naming the folder into err and returns -1. */
int viewer_list_files(const char *dir, int (*accept)(const char *path), viewer_file_list *out,
                      char *err, size_t err_cap);
/* Appends a copy of path unless the list already holds it; -1 when out of memory. */
int viewer_file_list_add(viewer_file_list *list, const char *path);
/* Index of path in list, or -1. */
long viewer_file_list_find(const viewer_file_list *list, const char *path);
void viewer_file_list_free(viewer_file_list *list);

/* The absolute path without links or "..", so one file has one name; a copy of path when
 * that fails (the file may not exist: the caller reports that). */
void viewer_canonical_path(const char *path, char *out, size_t cap);

/* Every .qsr file of the model folders (<exe_dir>/../models, <exe_dir>/models,
 * $QSR_MODEL_DIR, the same as the quantsr tool searches), in that order, each sorted, as
 * canonical paths. */
void viewer_list_models(viewer_file_list *out);
/* Writes the folders searched into out (for messages). */
void viewer_describe_model_dirs(char *out, size_t cap);

#endif
