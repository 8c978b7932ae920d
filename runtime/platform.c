/* platform.c - POSIX and Windows implementations of runtime/platform.h. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fileno, fsync, mkdir, open */
#endif
#include "platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <direct.h>
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <sys/types.h>
#else
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#endif

char *qsr__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = (char *)malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

int qsr__ascii_casecmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z') ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z') cb += 'a' - 'A';
        if (ca != cb || ca == 0) return ca - cb;
    }
}

int qsr__is_separator(char c) {
#if defined(_WIN32)
    return c == '/' || c == '\\';
#else
    return c == '/';
#endif
}

const char *qsr__path_basename(const char *path) {
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (qsr__is_separator(*p)) base = p + 1;
    return base;
}

int qsr__cpu_has_avx512(void) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0; /* checks the OS's XSAVE state too */
#else
    return 0;
#endif
}

int qsr__set_env(const char *name, const char *value) {
#if defined(_WIN32)
    return (int)_putenv_s(name, value);
#else
    return setenv(name, value, 1) == 0 ? 0 : errno;
#endif
}

/* Joins two strings into a malloc'd one. */
static char *concat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = (char *)malloc(na + nb + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

#if defined(_WIN32)
/* ---------------------------------------------------------------------------------------------
 * Windows: the wide-character CRT and Win32 calls, with UTF-8 paths converted to UTF-16 (the
 * narrow calls would read them in the ANSI code page and miss non-ASCII names).
 */
static wchar_t *widen(const char *s) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        errno = EINVAL;
        return NULL;
    }
    wchar_t *w = (wchar_t *)malloc((size_t)n * sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

static char *narrow(const wchar_t *w) {
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0) return NULL;
    char *s = (char *)malloc((size_t)n);
    if (s) WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}

uint64_t qsr__now_ns(void) {
    LARGE_INTEGER count, freq;
    QueryPerformanceCounter(&count);
    QueryPerformanceFrequency(&freq);
    /* Split so the multiplication cannot overflow for any realistic uptime. */
    uint64_t c = (uint64_t)count.QuadPart, f = (uint64_t)freq.QuadPart;
    return c / f * 1000000000u + c % f * 1000000000u / f;
}

FILE *qsr__fopen(const char *path, const char *mode) {
    wchar_t *wpath = widen(path), *wmode = widen(mode);
    FILE *f = wpath && wmode ? _wfopen(wpath, wmode) : NULL;
    free(wpath);
    free(wmode);
    return f;
}

int qsr__regular_file_size(FILE *f, uint64_t *size) {
    struct _stati64 st;
    if (_fstati64(_fileno(f), &st) != 0) return errno;
    if ((st.st_mode & _S_IFMT) != _S_IFREG) return EISDIR;
    *size = (uint64_t)st.st_size;
    return 0;
}

FILE *qsr__create_exclusive(const char *path) {
    wchar_t *wpath = widen(path);
    if (!wpath) return NULL;
    int fd = _wopen(wpath, _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY, _S_IREAD | _S_IWRITE);
    free(wpath);
    if (fd < 0) return NULL;
    FILE *f = _fdopen(fd, "wb");
    if (!f) _close(fd);
    return f;
}

int qsr__sync_file(FILE *f) {
    if (fflush(f) != 0) return errno ? errno : EIO;
    return _commit(_fileno(f)) == 0 ? 0 : errno;
}

int qsr__replace_file(const char *from, const char *to) {
    wchar_t *wfrom = widen(from), *wto = widen(to);
    int err = 0;
    /* rename() of the CRT refuses an existing target; MoveFileEx replaces it. */
    if (!wfrom || !wto)
        err = errno;
    else if (!MoveFileExW(wfrom, wto, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        err = GetLastError() == ERROR_ACCESS_DENIED ? EACCES : EIO;
    free(wfrom);
    free(wto);
    return err;
}

void *qsr__aligned_alloc(size_t alignment, size_t size) {
    return _aligned_malloc(size, alignment);
}

void qsr__aligned_free(void *p) {
    _aligned_free(p);
}

int qsr__remove_file(const char *path) {
    wchar_t *wpath = widen(path);
    int err = !wpath ? errno : _wremove(wpath) == 0 ? 0 : errno;
    free(wpath);
    return err;
}

int qsr__path_exists(const char *path) {
    wchar_t *wpath = widen(path);
    int exists = wpath && GetFileAttributesW(wpath) != INVALID_FILE_ATTRIBUTES;
    free(wpath);
    return exists;
}

static int make_dir(const char *dir) {
    wchar_t *wdir = widen(dir);
    if (!wdir) return errno;
    int err = _wmkdir(wdir) == 0 || errno == EEXIST ? 0 : errno;
    free(wdir);
    return err;
}

long qsr__process_id(void) {
    return (long)GetCurrentProcessId();
}

unsigned qsr__next_unique(void) {
    static volatile LONG counter;
    return (unsigned)InterlockedIncrement(&counter);
}

char *qsr__user_cache_dir(void) {
    const wchar_t *local = _wgetenv(L"LOCALAPPDATA");
    if (!local || !*local) return NULL;
    char *base = narrow(local);
    char *dir = base ? concat(base, "\\quantsr") : NULL;
    free(base);
    return dir;
}

#else
/* ---------------------------------------------------------------------------------------------
 * POSIX: Linux, Android, macOS and the BSDs.
 */
uint64_t qsr__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

FILE *qsr__fopen(const char *path, const char *mode) {
    return fopen(path, mode);
}

int qsr__regular_file_size(FILE *f, uint64_t *size) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0) return errno;
    /* fopen accepts a directory, and a pipe has no size to read ahead. */
    if (!S_ISREG(st.st_mode)) return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    *size = (uint64_t)st.st_size;
    return 0;
}

FILE *qsr__create_exclusive(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int err = errno;
        close(fd);
        errno = err;
    }
    return f;
}

int qsr__sync_file(FILE *f) {
    if (fflush(f) != 0) return errno ? errno : EIO;
    return fsync(fileno(f)) == 0 ? 0 : errno;
}

int qsr__replace_file(const char *from, const char *to) {
    return rename(from, to) == 0 ? 0 : errno;
}

void *qsr__aligned_alloc(size_t alignment, size_t size) {
    void *p = NULL;
    return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

void qsr__aligned_free(void *p) {
    free(p);
}

int qsr__remove_file(const char *path) {
    return remove(path) == 0 ? 0 : errno;
}

int qsr__path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int make_dir(const char *dir) {
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : errno;
}

long qsr__process_id(void) {
    return (long)getpid();
}

unsigned qsr__next_unique(void) {
    static atomic_uint counter;
    return atomic_fetch_add(&counter, 1u);
}

char *qsr__user_cache_dir(void) {
#if defined(__ANDROID__)
    /* An app's process has no meaningful $HOME; apps pass Context.getCacheDir(). */
    return NULL;
#elif defined(__APPLE__)
    const char *home = getenv("HOME");
    return home && *home ? concat(home, "/Library/Caches/quantsr") : NULL;
#else
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return concat(xdg, "/quantsr"); /* XDG: ignore a relative path */
    const char *home = getenv("HOME");
    return home && *home ? concat(home, "/.cache/quantsr") : NULL;
#endif
}
#endif

int qsr__make_parent_dirs(const char *path) {
    char *dir = qsr__strdup(path);
    if (!dir) return ENOMEM;
    char *last = (char *)qsr__path_basename(dir);
    int err = 0;
    if (last > dir + 1) {
        last[-1] = '\0';
        /* Each prefix ending before a separator, then the whole folder; the root (and, on
         * Windows, a drive such as "C:") is never created. */
        for (char *p = dir + 1; !err; p++) {
            if (*p != '\0' && !qsr__is_separator(*p)) continue;
            char c = *p;
            *p = '\0';
            if (!(p > dir && p[-1] == ':')) err = make_dir(dir);
            *p = c;
            if (c == '\0') break;
        }
    }
    free(dir);
    return err;
}
