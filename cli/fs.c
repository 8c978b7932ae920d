/* fs.c - the file-system calls of the command line tool (POSIX), kept in one place. */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

int cli_is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int cli_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cli_ensure_directory(const char *path) {
    if (mkdir(path, 0777) == 0) return 0;
    /* Another process (a parallel shard) may have made it first. */
    if (errno == EEXIST && cli_is_directory(path)) return 0;
    cli_error("cannot create folder '%s': %s", path, strerror(errno));
    return -1;
}

int cli_executable_dir(char *out, size_t cap) {
    char exe[CLI_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL) return 0;
    *slash = '\0';
    if (strlen(exe) + 1 > cap) return 0;
    memcpy(out, exe, strlen(exe) + 1);
    return 1;
}

int cli_stderr_is_terminal(void) {
    return isatty(STDERR_FILENO);
}

int cli_join_path(char *out, size_t cap, const char *dir, const char *name) {
    size_t dl = strlen(dir);
    const char *sep = (dl > 0 && dir[dl - 1] == '/') ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s", dir, sep, name);
    return n >= 0 && (size_t)n < cap;
}

const char *cli_base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

const char *cli_extension(const char *path) {
    const char *base = cli_base_name(path);
    const char *dot = strrchr(base, '.');
    return (dot && dot != base) ? dot : base + strlen(base);
}

int cli_is_image_extension(const char *ext) {
    static const char *const known[] = {".png", ".jpg", ".jpeg", ".bmp", ".tga"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(ext, known[i]) == 0) return 1;
    return 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_regular_file_in(const char *dir, const char *name) {
    char path[CLI_PATH_MAX];
    struct stat st;
    return cli_join_path(path, sizeof path, dir, name) && stat(path, &st) == 0 &&
           S_ISREG(st.st_mode);
}

/* Appends a copy of name, growing the array geometrically. */
static int append_name(cli_file_list *list, size_t *cap, const char *name) {
    if (list->count == *cap) {
        size_t new_cap = *cap ? *cap * 2 : 64;
        char **grown = realloc(list->names, new_cap * sizeof *grown);
        if (grown == NULL) return 0;
        list->names = grown;
        *cap = new_cap;
    }
    char *copy = strdup(name);
    if (copy == NULL) return 0;
    list->names[list->count++] = copy;
    return 1;
}

int cli_list_images(const char *dir, cli_file_list *out) {
    cli_file_list list = {NULL, 0};
    size_t cap = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        cli_error("cannot open folder '%s': %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        /* Hidden files include the temporaries of a concurrent save (".x.png.tmp-..."). */
        if (name[0] == '.' || !cli_is_image_extension(cli_extension(name))) continue;
        if (!is_regular_file_in(dir, name)) continue;
        if (!append_name(&list, &cap, name)) {
            closedir(d);
            cli_file_list_free(&list);
            cli_error("out of memory listing '%s'", dir);
            return -1;
        }
    }
    closedir(d);
    if (list.count > 1) qsort(list.names, list.count, sizeof *list.names, compare_names);
    *out = list;
    return 0;
}

void cli_file_list_free(cli_file_list *list) {
    for (size_t i = 0; i < list->count; i++)
        free(list->names[i]);
    free(list->names);
    list->names = NULL;
    list->count = 0;
}

/* Does the text from p to the end read "<digits>-<digits>"? The first number goes to *pid. */
static int parse_pid_and_counter(const char *p, long *pid) {
    char *end = NULL;
    if (!isdigit((unsigned char)*p)) return 0;
    errno = 0;
    long value = strtol(p, &end, 10);
    if (errno != 0 || value <= 0 || *end != '-' || !isdigit((unsigned char)end[1])) return 0;
    for (const char *q = end + 1; *q; q++)
        if (!isdigit((unsigned char)*q)) return 0;
    *pid = value;
    return 1;
}

/* ".<image name>.tmp-<pid>-<n>" with an image extension on <image name>; *pid set. */
static int is_save_temporary(const char *name, long *pid) {
    static const char marker[] = ".tmp-";
    if (name[0] != '.') return 0;
    const char *tmp = strstr(name + 1, marker);
    if (tmp == NULL || !parse_pid_and_counter(tmp + sizeof marker - 1, pid)) return 0;
    char inner[CLI_PATH_MAX];
    size_t len = (size_t)(tmp - (name + 1));
    if (len == 0 || len >= sizeof inner) return 0;
    memcpy(inner, name + 1, len);
    inner[len] = '\0';
    return cli_is_image_extension(cli_extension(inner));
}

static int process_exists(long pid) {
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

size_t cli_remove_stale_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    size_t removed = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        long pid = 0;
        char path[CLI_PATH_MAX];
        if (!is_save_temporary(entry->d_name, &pid) || process_exists(pid)) continue;
        if (!is_regular_file_in(dir, entry->d_name) ||
            !cli_join_path(path, sizeof path, dir, entry->d_name))
            continue;
        if (unlink(path) == 0)
            removed++;
        else
            cli_error("cannot remove the stale temporary file '%s': %s", path, strerror(errno));
    }
    closedir(d);
    return removed;
}

int cli_make_temp_directory(const char *prefix, char *out, size_t cap) {
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') base = "/tmp";
    int n = snprintf(out, cap, "%s/%s-XXXXXX", base, prefix);
    if (n < 0 || (size_t)n >= cap) {
        cli_error("temporary folder name too long under '%s'", base);
        return -1;
    }
    if (mkdtemp(out) == NULL) {
        cli_error("cannot create a temporary folder in '%s': %s", base, strerror(errno));
        return -1;
    }
    return 0;
}

int cli_remove_file(const char *path) {
    if (unlink(path) == 0) return 0;
    cli_error("cannot remove '%s': %s", path, strerror(errno));
    return -1;
}

int cli_remove_empty_directory(const char *path) {
    if (rmdir(path) == 0) return 0;
    cli_error("cannot remove the folder '%s': %s", path, strerror(errno));
    return -1;
}
