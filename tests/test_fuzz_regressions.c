/* test_fuzz_regressions.c - replays every input under tests/data/fuzz/seeds/<kind>/ and
 * tests/data/fuzz/regressions/<kind>/ through the work of the matching fuzz target
 * (tests/support/fuzz_entries.c), so an input that once crashed a target stays a test:
 *   model  qsr_fuzz_model    image  qsr_fuzz_image
 *   args   the `quantsr` binary in parse-only mode (QSR_CLI_PARSE_ONLY=1), one argument per
 *          line, which must exit 0 (accepted or help) or 2 (usage error).
 * Each input runs in a child process, so one crash names its file and the others still run.
 * The seeds must also be what they claim: every model seed loads and every seed in a
 * documented image format (.png .jpg .bmp .tga) decodes. In a -DQSR_SANITIZE=ON build any
 * sanitizer report fails the input. */
#define _POSIX_C_SOURCE 200809L

#include "fuzz_entries.h"
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_INPUT_BYTES (16u << 20)

typedef struct input_file {
    char path[4096];
    uint8_t *data;
    size_t size;
} input_file;

static int read_input(const char *path, input_file *in) {
    snprintf(in->path, sizeof in->path, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    in->data = malloc(MAX_INPUT_BYTES);
    in->size = in->data ? fread(in->data, 1, MAX_INPUT_BYTES, f) : 0;
    fclose(f);
    return in->data != NULL;
}

/* Describes how a child ended; "" when it exited with one of the allowed codes. */
static void describe_status(int status, const int *allowed, size_t allowed_count, char *buf,
                            size_t cap) {
    buf[0] = '\0';
    if (WIFSIGNALED(status)) {
        snprintf(buf, cap, "killed by signal %d", WTERMSIG(status));
        return;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    for (size_t i = 0; i < allowed_count; i++)
        if (code == allowed[i]) return;
    snprintf(buf, cap, "exit code %d", code);
}

static void run_entry_in_child(const char *kind, const input_file *in) {
    fflush(NULL); /* or the child would print the parent's buffered output again */
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid < 0) return;
    if (pid == 0) {
        if (strcmp(kind, "model") == 0)
            qsr_fuzz_model(in->data, in->size);
        else
            qsr_fuzz_image(in->data, in->size);
        fflush(NULL);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    static const int ok[] = {0};
    char why[64];
    describe_status(status, ok, 1, why, sizeof why);
    CHECK(why[0] == '\0', "%s input %s: %s", kind, in->path, why);
}

/* Runs the CLI on the argv lines of the input, without running the command. */
static void run_args_input(const input_file *in) {
    const char *cli = getenv("QSR_CLI");
    if (cli == NULL) return;
    char *text = malloc(in->size + 1);
    char *argv[QSR_FUZZ_MAX_ARGS + 2];
    if (text == NULL) return;
    qsr_fuzz_split_args(in->data, in->size, text, argv, QSR_FUZZ_MAX_ARGS);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int null_fd = open("/dev/null", O_WRONLY);
        if (null_fd >= 0) {
            dup2(null_fd, STDOUT_FILENO);
            dup2(null_fd, STDERR_FILENO);
        }
        setenv("QSR_CLI_PARSE_ONLY", "1", 1);
        execv(cli, argv);
        _exit(127);
    }
    if (pid > 0) {
        int status = 0;
        waitpid(pid, &status, 0);
        static const int ok[] = {0, 2};
        char why[64];
        describe_status(status, ok, 2, why, sizeof why);
        CHECK(why[0] == '\0', "args input %s: %s", in->path, why);
    }
    free(text);
}

static int has_documented_image_extension(const char *name) {
    const char *dot = strrchr(name, '.');
    static const char *const known[] = {".png", ".jpg", ".jpeg", ".bmp", ".tga"};
    for (size_t i = 0; dot && i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(dot, known[i]) == 0) return 1;
    return 0;
}

/* A seed is a valid file of its kind: it must load (models) or decode (documented formats). */
static void check_seed_is_valid(const char *kind, const char *name, const input_file *in) {
    if (strcmp(kind, "model") == 0) {
        qsr_model *model = NULL;
        CHECK_OK(qsr_model_load_memory(in->data, in->size, &model));
        qsr_model_destroy(model);
    } else if (strcmp(kind, "image") == 0 && has_documented_image_extension(name)) {
        qsr_image image;
        qsr_status st = qsr_image_load_memory(in->data, in->size, 0, &image);
        CHECK(st == QSR_OK, "seed %s does not decode: %s", in->path, qsr_last_error());
        if (st == QSR_OK) qsr_image_free(&image);
    }
}

/* Replays every regular file of dir; returns how many. */
static size_t replay_folder(const char *dir, const char *kind, int seeds) {
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.' || strcmp(entry->d_name, "README.md") == 0) continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        input_file in;
        if (!read_input(path, &in)) {
            CHECK(0, "cannot read %s", path);
            continue;
        }
        if (strcmp(kind, "args") == 0)
            run_args_input(&in);
        else
            run_entry_in_child(kind, &in);
        if (seeds) check_seed_is_valid(kind, entry->d_name, &in);
        free(in.data);
        count++;
    }
    closedir(d);
    return count;
}

int main(void) {
    const char *src = qsr_test_env("QSR_SOURCE_DIR", NULL);
    if (src == NULL) {
        fprintf(stderr, "skip: QSR_SOURCE_DIR is not set\n");
        return 77;
    }
    CHECK(getenv("QSR_CLI") != NULL, "QSR_CLI is not set: the args inputs cannot run");
    static const char *const kinds[] = {"model", "image", "args"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/tests/data/fuzz/seeds/%s", src, kinds[k]);
        size_t seeds = replay_folder(dir, kinds[k], 1);
        snprintf(dir, sizeof dir, "%s/tests/data/fuzz/regressions/%s", src, kinds[k]);
        size_t regressions = replay_folder(dir, kinds[k], 0);
        printf("%-5s %zu seeds, %zu regressions replayed\n", kinds[k], seeds, regressions);
        CHECK(seeds > 0, "no seeds in tests/data/fuzz/seeds/%s", kinds[k]);
    }
    return qsr_test_finish("test_fuzz_regressions");
}
