/* platform.h - the runtime's only operating-system calls (runtime/platform.c).
 *
 * Everything else in runtime/ is ISO C11 plus Vulkan through volk; the file-system, clock and
 * process calls that differ between POSIX (Linux, Android, macOS) and Windows live here, so a
 * port touches one file. Paths are UTF-8 on every system (on Windows they are converted to
 * UTF-16 for the wide-character API, so any file name works). Functions that can fail return
 * 0 or an errno value (never set the last-error text): the callers word the message. */
#ifndef QSR_PLATFORM_H
#define QSR_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Monotonic time in nanoseconds from an unspecified start. */
uint64_t qsr__now_ns(void);

/* fopen() of a UTF-8 path; NULL with errno set on failure. */
FILE *qsr__fopen(const char *path, const char *mode);

/* The size of an open file when it is a regular file; ENOENT-free errors as errno values,
 * EISDIR (or EINVAL) when it is a directory, pipe or device. */
int qsr__regular_file_size(FILE *f, uint64_t *size);

/* Creates `path` for binary writing and fails with EEXIST if it exists (O_EXCL), so two
 * writers never share a temporary file. NULL with errno set on failure. */
FILE *qsr__create_exclusive(const char *path);

/* Flushes `f`'s stdio buffer and the file's data to the storage device. */
int qsr__sync_file(FILE *f);

/* Renames `from` to `to`, replacing `to` if it exists, atomically where the system can. */
int qsr__replace_file(const char *from, const char *to);

/* remove() of a UTF-8 path. */
int qsr__remove_file(const char *path);

/* 1 when something exists at `path`. */
int qsr__path_exists(const char *path);

/* mkdir -p of the folder part of `path` (everything before its last separator); new folders
 * are private to the user where the system has such permissions. */
int qsr__make_parent_dirs(const char *path);

/* 1 for '/' and, on Windows, '\\'. */
int qsr__is_separator(char c);
/* The file name part of `path` (after its last separator). */
const char *qsr__path_basename(const char *path);

/* This process's ID, and a counter unique within it: together they name temporary files. */
long qsr__process_id(void);
unsigned qsr__next_unique(void);

/* The user's cache folder for quantsr, malloc'd, or NULL when the system has no per-user
 * cache location (Android apps have none: they pass their Context.getCacheDir()):
 *   Linux and other Unix: $XDG_CACHE_HOME/quantsr (an absolute one), else $HOME/.cache/quantsr
 *   macOS:                $HOME/Library/Caches/quantsr
 *   Windows:              %LOCALAPPDATA%\quantsr */
char *qsr__user_cache_dir(void);

/* 1 when the CPU and the operating system support AVX-512 (the F subset), 0 elsewhere (and on
 * other architectures). */
int qsr__cpu_has_avx512(void);

/* setenv(name, value, 1) (POSIX) or _putenv_s (Windows): 0 or an errno value. */
int qsr__set_env(const char *name, const char *value);

/* Memory aligned to `alignment` (a power of two, at least sizeof(void *)), freed with
 * qsr__aligned_free. C11's aligned_alloc is missing from the Windows runtimes, from Android
 * before API 28 and from macOS before 10.15. */
void *qsr__aligned_alloc(size_t alignment, size_t size);
void qsr__aligned_free(void *p);

/* strdup (POSIX, not ISO C); NULL when out of memory. */
char *qsr__strdup(const char *s);
/* ASCII case-insensitive strcmp (strcasecmp is POSIX, _stricmp Windows). */
int qsr__ascii_casecmp(const char *a, const char *b);

#endif
