/* cli.h - pieces shared by the commands of the `quantsr` command line tool.
 *
 * The tool is written against the public API (quantsr.h). Each command lives in its own
 * cli/cmd_<name>.c and returns the process exit code. Errors are printed as
 * "quantsr: <what>: <detail>" on stderr. */
#ifndef QSR_CLI_H
#define QSR_CLI_H

#include "quantsr.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define CLI_PRINTF(fmt_index, first_arg)
#endif

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1, /* something failed at run time */
    CLI_EXIT_USAGE = 2    /* bad command line */
};

#define CLI_PATH_MAX      4096
#define CLI_DEFAULT_MODEL "quantsr_c_x4_w4a4.qsr"
/* Where `cmake --install` puts the models, relative to the folder of the installed binary
 * (CMakeLists.txt defines it from GNUInstallDirs). */
#ifndef QSR_INSTALLED_MODEL_DIR
#define QSR_INSTALLED_MODEL_DIR "../share/quantsr/models"
#endif

/* ---- the command line as a whole (commands.c) ---- */
/* `quantsr argv[1] ...` (argv[0] is the program): dispatches to a command and returns the
 * exit code. main() is this call. */
int cli_main(int argc, char **argv);
/* Parse-only mode: each command returns CLI_EXIT_OK as soon as its command line is parsed and
 * checked, before it touches a file or a device. Set by the argument fuzzer
 * (tests/fuzz/fuzz_args.c) and, for its regression replay, by $QSR_CLI_PARSE_ONLY. */
extern int cli_parse_only;

/* ---- commands (argv[0] is the command's name) ---- */
int cmd_upscale(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* ---- messages and small helpers (util.c) ---- */
/* "quantsr: <formatted>" on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "quantsr: <formatted>: <qsr_last_error()>" on stderr; returns CLI_EXIT_FAILURE. */
int cli_fail(const char *fmt, ...) CLI_PRINTF(1, 2);
/* A short name for an architecture id ("QuantSR-C"). */
const char *cli_arch_name(uint32_t arch);
/* The environment variable as a boolean: set and not "", "0", "false", "off" or "no". */
int cli_env_flag(const char *name);
/* --fp-math's "fast" or "reference" (NULL: fast). 0 if the text is neither. */
int cli_parse_fp_math(const char *text, qsr_fp_math *out);
/* Monotonic-enough wall clock in milliseconds (for durations only). */
double cli_now_ms(void);

/* Messages held back to be printed later, in order (a batch prints each image's messages when
 * the image is reported, whichever thread produced them). */
typedef struct cli_text {
    char *data; /* NUL-terminated; NULL while empty */
    size_t length, capacity;
} cli_text;
/* Appends formatted text. If the text cannot grow (out of memory) the piece goes straight to
 * stderr: out of order, but not lost. */
void cli_text_append(cli_text *t, const char *fmt, ...) CLI_PRINTF(2, 3);
/* cli_error and cli_fail into t: "quantsr: <formatted>\n" and
 * "quantsr: <formatted>: <qsr_last_error()>\n" (read on the calling thread). */
void cli_text_error(cli_text *t, const char *fmt, ...) CLI_PRINTF(2, 3);
void cli_text_fail(cli_text *t, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Writes the text to stderr and empties it. */
void cli_text_flush(cli_text *t);
void cli_text_free(cli_text *t);

/* ---- file system (fs.c) ---- */
int cli_is_directory(const char *path);
int cli_path_exists(const char *path);
/* Do both paths exist and name the same file (device and inode)? */
int cli_same_file(const char *a, const char *b);
/* Creates the directory if it does not exist yet; 0 on success (an error is printed). */
int cli_ensure_directory(const char *path);
/* The folder that holds the running executable, without a trailing slash; 0 if unknown. */
int cli_executable_dir(char *out, size_t cap);
/* Is stderr a terminal? */
int cli_stderr_is_terminal(void);
/* Joins dir and name with one '/'; 0 if the result does not fit. */
int cli_join_path(char *out, size_t cap, const char *dir, const char *name);
/* Pointer to the last path component. */
const char *cli_base_name(const char *path);
/* The extension of the last path component including the dot ("" if none). */
const char *cli_extension(const char *path);
/* Is ext (with its dot) one the image codecs read and write (.png .jpg .jpeg .bmp .tga)? */
int cli_is_image_extension(const char *ext);

/* Image files of a folder: regular files with an image extension (any case), hidden files
 * skipped, sorted by name (bytewise). */
typedef struct cli_file_list {
    char **names; /* file names without the folder */
    size_t count;
} cli_file_list;
/* 0 on success (an error is printed otherwise). */
int cli_list_images(const char *dir, cli_file_list *out);
void cli_file_list_free(cli_file_list *list);
/* Removes the temporary files that a killed quantsr left in dir: qsr_image_save_file writes
 * "<dir>/.<name>.tmp-<pid>-<n>" and renames it; one whose process no longer exists is litter.
 * Temporaries of running processes (parallel shards) are kept. Returns how many were removed;
 * a file that cannot be removed is reported. */
size_t cli_remove_stale_temporaries(const char *dir);

/* Creates a new folder "$TMPDIR/<prefix>-XXXXXX" (/tmp without $TMPDIR) and writes its path to
 * out. 0 on success (an error is printed otherwise). */
int cli_make_temp_directory(const char *prefix, char *out, size_t cap);
/* unlink and rmdir; 0 on success (an error is printed otherwise). */
int cli_remove_file(const char *path);
int cli_remove_empty_directory(const char *path);

/* ---- models (model_path.c) ---- */
/* Finds the model file for `-m PATH`, `-n NAME` or, with neither, the default model, and
 * writes its path to out. Named and default models are searched in <exe_dir>/../models,
 * <exe_dir>/models and $QSR_MODEL_DIR. 0 on success; otherwise an error is printed. */
int cli_resolve_model(const char *path, const char *name, char *out, size_t cap);

/* ---- a loaded model and, when needed, a device to run it (session.c) ---- */
typedef struct cli_session {
    char model_path[CLI_PATH_MAX];
    qsr_model *model;
    qsr_model_info info;
    qsr_context *ctx;    /* NULL until cli_session_open_device */
    qsr_upscaler *up;    /* NULL until cli_session_open_device */
    int use_reference;   /* run on the CPU reference instead of the upscaler */
    uint64_t max_memory; /* device memory budget for activations in bytes; 0 = the runtime's */
    qsr_fp_math fp_math; /* how the upscaler's FP convolutions round (--fp-math) */
} cli_session;

typedef struct cli_model_options {
    const char *path; /* -m */
    const char *name; /* -n */
    uint32_t scale;   /* -s; 0 = any */
    uint32_t depth;   /* --depth; 0 = all blocks */
    int depth_any;    /* --depth-any */
    /* bench --arch c: a random-weight model of this shape instead of a file */
    const qsr_random_model_desc *random;
} cli_model_options;

/* Resolves and loads the model, and checks -s and --depth against it. Returns an exit code;
 * on failure the message is printed and the session holds nothing. */
int cli_session_load_model(cli_session *s, const cli_model_options *opt);
/* Creates the Vulkan context and an upscaler. Returns an exit code. */
int cli_session_open_device(cli_session *s, int32_t device, uint32_t tile, qsr_precision precision);
/* Upscales with the upscaler (or the CPU reference), with the 8-way self-ensemble when
 * `ensemble` is set. stats may be NULL. */
qsr_status cli_session_upscale(cli_session *s, const qsr_image *in, uint32_t depth, int ensemble,
                               qsr_image *out, qsr_run_stats *stats);
/* Fails (printing why) if the Vulkan validation layer reported anything. Returns an exit code. */
int cli_session_check_validation(const cli_session *s);
/* The validation layer's message count (0 without a device). */
uint32_t cli_session_validation_messages(const cli_session *s);
/* Fails (printing why) if `messages` is not 0. Returns an exit code. */
int cli_report_validation_messages(uint32_t messages);
/* Destroys the upscaler and the context but keeps the model (after a lost device, the next
 * cli_session_open_device starts afresh). */
void cli_session_close_device(cli_session *s);
void cli_session_close(cli_session *s);

#endif
