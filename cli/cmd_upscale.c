/* cmd_upscale.c - `quantsr upscale`: one image, or every image of a folder.
 *
 * Safety rules: an input is never overwritten; an existing output only with --overwrite; an
 * output file appears only after its upscale succeeded (the runtime's save writes a temporary
 * file and renames it); --resume redoes only the outputs that do not decode at the expected
 * size; Ctrl-C finishes the image in flight and stops (interrupt.h). A folder goes through the
 * overlapped decode / upscale / encode stages of pipeline.h (-j); each image is reported in
 * input order, so what the user sees does not depend on -j. */
#include "args.h"
#include "cli.h"
#include "interrupt.h"
#include "pipeline.h"
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct upscale_options {
    const char *input, *output;
    cli_model_options model;
    const char *format; /* -f, for folder outputs */
    const char *shard;  /* "K/N" */
    uint32_t tile, device;
    uint32_t budget_ms;      /* --budget-ms: pick the depth per image (0 = --depth) */
    uint64_t max_pixels;     /* largest input accepted (0 = QSR_DEFAULT_MAX_PIXELS) */
    uint64_t max_memory_mib; /* device memory budget for activations (0 = runtime default) */
    int ensemble, overwrite, resume, fp32, quiet;
    int cpu;                           /* --cpu: the CPU reference instead of Vulkan */
    const char *fp_math_text;          /* --fp-math */
    qsr_fp_math fp_math;               /* parsed --fp-math */
    uint32_t shard_index, shard_count; /* parsed --shard: K - 1 and N */
    const char *jobs_text;             /* -j LOAD:PROC:SAVE */
    cli_pipeline_jobs jobs;            /* parsed -j */
} upscale_options;

static const char *const upscale_description =
    "Upscales IN into OUT with a QuantSR model. IN and OUT are both files, or IN is a folder:\n"
    "then every .png/.jpg/.jpeg/.bmp/.tga of IN (sorted by name) is written to\n"
    "OUT/<name>.<format>, failures are reported and the batch goes on. Existing outputs are\n"
    "kept unless --overwrite (or redone by --resume when broken); an input is never\n"
    "overwritten. With -j the next images are decoded and the finished ones encoded while one\n"
    "is upscaled; outputs, messages and their order are the same for every -j. Ctrl-C\n"
    "finishes the image being upscaled (and saves those already upscaled) and stops; run\n"
    "again with --resume.";

static const char *const upscale_epilog =
    "The default model is models/" CLI_DEFAULT_MODEL ", searched in <exe_dir>/../models,\n"
    "<exe_dir>/models, <exe_dir>/" QSR_INSTALLED_MODEL_DIR " (installed) and\n"
    "$QSR_MODEL_DIR (also where -n NAME is looked for).\n"
    "Exit status: 0 if every image was upscaled or skipped, 1 if any failed, 2 on a bad\n"
    "command line, 128 + N when stopped by signal N (130 after Ctrl-C).";

/* "K/N" with 1 <= K <= N. */
static int parse_shard(const char *text, uint32_t *index, uint32_t *count) {
    const char *slash = strchr(text, '/');
    char k_text[16];
    uint32_t k, n;
    if (slash == NULL || (size_t)(slash - text) >= sizeof k_text) return 0;
    memcpy(k_text, text, (size_t)(slash - text));
    k_text[slash - text] = '\0';
    if (!cli_parse_u32(k_text, &k) || !cli_parse_u32(slash + 1, &n)) return 0;
    if (n == 0 || k == 0 || k > n) return 0;
    *index = k - 1;
    *count = n;
    return 1;
}

static int is_known_format(const char *format) {
    char ext[16];
    return strlen(format) < sizeof ext - 1 && snprintf(ext, sizeof ext, ".%s", format) > 0 &&
           cli_is_image_extension(ext);
}

/* Format names, case-insensitive, with jpg = jpeg. */
static int same_format(const char *a, const char *b) {
    int a_jpeg = strcasecmp(a, "jpg") == 0 || strcasecmp(a, "jpeg") == 0;
    int b_jpeg = strcasecmp(b, "jpg") == 0 || strcasecmp(b, "jpeg") == 0;
    return (a_jpeg && b_jpeg) || strcasecmp(a, b) == 0;
}

/* Checks the options that do not depend on the files. Returns an exit code. */
static int validate_options(upscale_options *o, const cli_command_spec *spec) {
    if (o->input == NULL) return cli_usage_error(spec, "missing -i INPUT");
    if (o->output == NULL) return cli_usage_error(spec, "missing -o OUTPUT");
    if (o->max_memory_mib > (UINT64_MAX >> 20))
        return cli_usage_error(spec, "--max-memory %llu MiB is too large",
                               (unsigned long long)o->max_memory_mib);
    if (o->shard && !parse_shard(o->shard, &o->shard_index, &o->shard_count))
        return cli_usage_error(spec, "--shard takes K/N with 1 <= K <= N, not '%s'", o->shard);
    if (o->format && !is_known_format(o->format))
        return cli_usage_error(spec, "-f takes png, jpg, jpeg, bmp or tga, not '%s'", o->format);
    if (o->device > INT32_MAX) return cli_usage_error(spec, "-g %u is too large", o->device);
    if (o->budget_ms && o->model.depth)
        return cli_usage_error(spec, "--budget-ms picks the depth; do not give --depth too");
    if (!cli_parse_fp_math(o->fp_math_text, &o->fp_math))
        return cli_usage_error(spec, "--fp-math takes fast or reference, not '%s'",
                               o->fp_math_text);
    if (o->cpu &&
        (o->fp32 || o->tile || o->device || o->budget_ms || o->max_memory_mib || o->fp_math_text))
        return cli_usage_error(spec, "--cpu runs the CPU reference: --fp32, -t, -g, --budget-ms, "
                                     "--max-memory and --fp-math do not apply");
    char why[256];
    const char *jobs = o->jobs_text ? o->jobs_text : CLI_PIPELINE_DEFAULT_JOBS;
    if (!cli_pipeline_parse_jobs(jobs, &o->jobs, why, sizeof why))
        return cli_usage_error(spec, "%s", why);
    return CLI_EXIT_OK;
}

/* The depth to run `in` at: --depth, or with --budget-ms the deepest level predicted to fit
 * the budget (the self-ensemble's 8 runs share it). What it says goes to `messages`. Returns 0
 * on failure. */
static int depth_for_image(cli_session *s, const upscale_options *o, const qsr_image *in,
                           uint32_t *depth, cli_text *messages) {
    *depth = o->model.depth;
    if (!o->budget_ms) return 1;
    double budget = (double)o->budget_ms / (o->ensemble ? 8.0 : 1.0);
    double ms = 0.0;
    if (qsr_upscaler_depth_for_budget(s->up, in->width, in->height, budget, depth, &ms) != QSR_OK) {
        cli_text_fail(messages, "cannot choose a depth for --budget-ms %u", o->budget_ms);
        return 0;
    }
    if (!o->quiet && ms <= budget)
        cli_text_append(messages,
                        "depth %u of %u fits the %u ms budget for %ux%u (%.1f ms predicted)\n",
                        *depth, s->info.blocks, o->budget_ms, in->width, in->height, ms);
    else if (!o->quiet)
        cli_text_append(messages,
                        "no depth level fits the %u ms budget for %ux%u; running the shallowest, "
                        "depth %u (%.1f ms predicted)\n",
                        o->budget_ms, in->width, in->height, *depth, ms);
    return 1;
}

/* <dir>/<stem of name>.<format>; 0 if it does not fit. */
static int output_path_for(char *out, size_t cap, const char *dir, const char *name,
                           const char *format) {
    char file[CLI_PATH_MAX];
    size_t stem = strlen(name) - strlen(cli_extension(name));
    int n = snprintf(file, sizeof file, "%.*s.%s", (int)stem, name, format);
    return n > 0 && (size_t)n < sizeof file && cli_join_path(out, cap, dir, file);
}

/* Saves with a second Ctrl-C held back until the file is complete and renamed. */
static qsr_status save_output(const char *out_path, const qsr_image *out) {
    cli_interrupt_begin_save();
    qsr_status st = qsr_image_save_file(out_path, out, 0);
    cli_interrupt_end_save();
    return st;
}

/* --resume: is out_path a finished output of `in`, i.e. does it decode at the model's scale?
 * Outputs are written whole or not at all, but a copy, a full disk or another program may
 * still have left a broken file. On 0, *why says what is wrong with it. */
static int output_is_finished(uint32_t scale, const qsr_image *in, const char *out_path, char *why,
                              size_t cap) {
    uint64_t width = (uint64_t)in->width * scale;
    uint64_t height = (uint64_t)in->height * scale;
    qsr_image out;
    /* A cap at the expected size: a bogus huge file is rejected from its header. */
    if (qsr_image_load_file(out_path, width * height, &out) != QSR_OK) {
        snprintf(why, cap, "%s", qsr_last_error());
        return 0;
    }
    int finished = out.width == width && out.height == height;
    if (!finished)
        snprintf(why, cap, "'%s' is %ux%u, expected %llux%llu", out_path, out.width, out.height,
                 (unsigned long long)width, (unsigned long long)height);
    qsr_image_free(&out);
    return finished;
}

static qsr_precision precision_of(const upscale_options *o) {
    return o->fp32 ? QSR_PRECISION_FP32 : QSR_PRECISION_DEFAULT;
}

/* Opens the Vulkan device, or with --cpu selects the CPU reference (no device). */
static int open_backend(cli_session *s, const upscale_options *o) {
    if (o->cpu) {
        s->use_reference = 1;
        return CLI_EXIT_OK;
    }
    s->max_memory = o->max_memory_mib << 20;
    s->fp_math = o->fp_math;
    return cli_session_open_device(s, (int32_t)o->device, o->tile, precision_of(o));
}

/* ---- one file ---- */

/* Picks the output path of a single-file run and checks it may be written. */
static int single_output_path(const upscale_options *o, char *out, size_t cap) {
    if (cli_is_directory(o->output)) {
        if (!output_path_for(out, cap, o->output, cli_base_name(o->input),
                             o->format ? o->format : "png")) {
            cli_error("output path too long under '%s'", o->output);
            return -1;
        }
    } else {
        const char *ext = cli_extension(o->output);
        if (ext[0] == '\0') {
            cli_error("unsupported output extension: '%s' has none (use .png, .jpg, .jpeg, .bmp "
                      "or .tga, or an existing folder)",
                      o->output);
            return -1;
        }
        if (!cli_is_image_extension(ext)) {
            cli_error("unsupported output extension '%s' in '%s' (use .png, .jpg, .jpeg, .bmp "
                      "or .tga)",
                      ext, o->output);
            return -1;
        }
        if (o->format && !same_format(ext + 1, o->format)) {
            cli_error("-f %s conflicts with the output name '%s'", o->format, o->output);
            return -1;
        }
        snprintf(out, cap, "%s", o->output);
    }
    if (strcmp(out, o->input) == 0 || cli_same_file(out, o->input)) {
        cli_error("refusing to overwrite the input '%s'", o->input);
        return -1;
    }
    if (cli_path_exists(out) && !o->overwrite && !o->resume) {
        cli_error("output '%s' exists (pass --overwrite to replace it, or --resume to keep it "
                  "if it is complete)",
                  out);
        return -1;
    }
    return 0;
}

/* A stop signal before the work starts: nothing was written. Returns the exit code. */
static int stopped_before_start(void) {
    int sig = cli_interrupt_signal();
    cli_error("interrupted by %s before the upscale started; nothing was written",
              cli_interrupt_name(sig));
    return cli_interrupt_exit_code(sig);
}

/* --resume with an existing output: 1 if it is finished (reported), 0 if it is to be redone. */
static int single_already_finished(const upscale_options *o, const cli_session *s,
                                   const qsr_image *in, const char *out_path) {
    char why[CLI_PATH_MAX + 256];
    if (!o->resume || !cli_path_exists(out_path)) return 0;
    if (output_is_finished(s->info.scale, in, out_path, why, sizeof why)) {
        if (!o->quiet) fprintf(stderr, "quantsr: '%s' is already finished (--resume)\n", out_path);
        return 1;
    }
    if (!o->quiet) fprintf(stderr, "quantsr: redoing '%s': %s\n", out_path, why);
    return 0;
}

static int upscale_single(const upscale_options *o) {
    char out_path[CLI_PATH_MAX];
    if (o->shard) {
        cli_error("--shard needs a folder input; '%s' is a file", o->input);
        return CLI_EXIT_FAILURE;
    }
    if (single_output_path(o, out_path, sizeof out_path) != 0) return CLI_EXIT_FAILURE;
    cli_session s;
    int code = cli_session_load_model(&s, &o->model);
    if (code != CLI_EXIT_OK) return code;
    /* The image is decoded before the device is opened: a bad file fails fast. */
    qsr_image in, out;
    if (qsr_image_load_file(o->input, o->max_pixels, &in) != QSR_OK) {
        cli_session_close(&s);
        return cli_fail("cannot read the input");
    }
    if (single_already_finished(o, &s, &in, out_path)) {
        qsr_image_free(&in);
        cli_session_close(&s);
        return CLI_EXIT_OK;
    }
    qsr_run_stats stats = {.tiles = 0};
    code = open_backend(&s, o);
    if (code == CLI_EXIT_OK && cli_interrupt_signal()) code = stopped_before_start();
    uint32_t depth = 0;
    cli_text notes = {NULL, 0, 0};
    if (code == CLI_EXIT_OK && !depth_for_image(&s, o, &in, &depth, &notes))
        code = CLI_EXIT_FAILURE;
    cli_text_flush(&notes);
    if (code == CLI_EXIT_OK) {
        if (cli_session_upscale(&s, &in, depth, o->ensemble, &out, &stats) != QSR_OK) {
            code = cli_fail("cannot upscale '%s'", o->input);
        } else {
            /* A Ctrl-C during the upscale still saves its result: the work is not lost. */
            if (save_output(out_path, &out) != QSR_OK)
                code = cli_fail("cannot write the output");
            else if (!o->quiet)
                fprintf(stderr, "%s (%ux%u) -> %s (%ux%u), %.1f ms, %.1f ms on the device\n",
                        o->input, in.width, in.height, out_path, out.width, out.height,
                        stats.total_ms, stats.gpu_ms);
            qsr_image_free(&out);
        }
    }
    if (code == CLI_EXIT_OK) code = cli_session_check_validation(&s);
    if (code == CLI_EXIT_OK && cli_interrupt_signal()) {
        cli_error("interrupted by %s; '%s' was finished first",
                  cli_interrupt_name(cli_interrupt_signal()), out_path);
        code = cli_interrupt_exit_code(cli_interrupt_signal());
    }
    qsr_image_free(&in);
    cli_session_close(&s);
    return code;
}

/* ---- a folder ---- */

typedef enum batch_action {
    ACTION_UPSCALE,
    ACTION_RESUME, /* the output exists: keep it if it is finished, redo it otherwise */
    ACTION_SKIP,
    ACTION_REFUSE
} batch_action;

typedef enum batch_reason {
    REASON_NONE,
    REASON_PATH_TOO_LONG,
    REASON_IS_INPUT,     /* the output would replace an input */
    REASON_SAME_OUTPUT,  /* an earlier input writes the same output */
    REASON_OUTPUT_EXISTS /* skipped without --overwrite */
} batch_reason;

/* What happens to one image of the shard. Paths are rebuilt when needed, so a plan of many
 * thousand images stays small. */
typedef struct batch_item {
    size_t index; /* in the sorted list */
    batch_action action;
    batch_reason reason;
    size_t other; /* the first input with the same stem (the image itself if none) */
} batch_item;

typedef struct batch_counts {
    size_t upscaled, skipped, failed;
} batch_counts;

/* The input and output paths of image i; 0 if one does not fit. */
static int item_paths(const upscale_options *o, const cli_file_list *list, size_t i, char *in_path,
                      char *out_path) {
    return cli_join_path(in_path, CLI_PATH_MAX, o->input, list->names[i]) &&
           output_path_for(out_path, CLI_PATH_MAX, o->output, list->names[i],
                           o->format ? o->format : "png");
}

static int search_name(const void *key, const void *element) {
    return strcmp((const char *)key, *(char *const *)element);
}

static size_t stem_length(const char *name) {
    return strlen(name) - strlen(cli_extension(name));
}

typedef struct stem_entry {
    const char *name;
    size_t stem; /* length of the name without its extension */
    size_t index;
} stem_entry;

/* By stem, then by list index. */
static int compare_stems(const void *a, const void *b) {
    const stem_entry *x = (const stem_entry *)a, *y = (const stem_entry *)b;
    int c = memcmp(x->name, y->name, x->stem < y->stem ? x->stem : y->stem);
    if (c == 0) c = (x->stem > y->stem) - (x->stem < y->stem);
    if (c == 0) c = (x->index > y->index) - (x->index < y->index);
    return c;
}

/* For each image, the first image with the same stem ("a.jpg" and "a.png" both write a.png);
 * itself when it is the first. Sorting keeps this fast for folders of video frames. */
static size_t *first_with_same_stem(const cli_file_list *list) {
    stem_entry *entries = calloc(list->count, sizeof *entries);
    size_t *first = calloc(list->count, sizeof *first);
    if (entries == NULL || first == NULL) {
        free(entries);
        free(first);
        return NULL;
    }
    for (size_t i = 0; i < list->count; i++) {
        entries[i].name = list->names[i];
        entries[i].stem = stem_length(list->names[i]);
        entries[i].index = i;
    }
    qsort(entries, list->count, sizeof *entries, compare_stems);
    size_t group = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (i > 0 && (entries[i].stem != entries[group].stem ||
                      memcmp(entries[i].name, entries[group].name, entries[i].stem) != 0))
            group = i;
        first[entries[i].index] = entries[group].index;
    }
    free(entries);
    return first;
}

/* Decides whether image i is upscaled, skipped or refused. */
static void plan_item(const upscale_options *o, const cli_file_list *list, int same_folder,
                      const size_t *first_stem, size_t i, batch_item *item) {
    char in_path[CLI_PATH_MAX], out_path[CLI_PATH_MAX];
    item->index = i;
    item->action = ACTION_REFUSE;
    item->other = first_stem[i];
    if (!item_paths(o, list, i, in_path, out_path)) {
        item->reason = REASON_PATH_TOO_LONG;
    } else if ((same_folder && bsearch(cli_base_name(out_path), list->names, list->count,
                                       sizeof *list->names, search_name) != NULL) ||
               cli_same_file(in_path, out_path)) {
        item->reason = REASON_IS_INPUT;
    } else if (item->other != i) {
        item->reason = REASON_SAME_OUTPUT;
    } else if (cli_path_exists(out_path) && o->resume) {
        item->action = ACTION_RESUME;
        item->reason = REASON_NONE;
    } else if (cli_path_exists(out_path) && !o->overwrite) {
        item->action = ACTION_SKIP;
        item->reason = REASON_OUTPUT_EXISTS;
    } else {
        item->action = ACTION_UPSCALE;
        item->reason = REASON_NONE;
    }
}

/* The images of this shard, planned. */
static batch_item *plan_batch(const upscale_options *o, const cli_file_list *list, size_t *count) {
    uint32_t n = o->shard ? o->shard_count : 1, k = o->shard ? o->shard_index : 0;
    int same_folder = cli_same_file(o->input, o->output);
    size_t selected = 0;
    for (size_t i = 0; i < list->count; i++)
        selected += (i % n == k);
    batch_item *items = calloc(selected ? selected : 1, sizeof *items);
    size_t *first_stem = first_with_same_stem(list);
    if (items == NULL || first_stem == NULL) {
        free(items);
        free(first_stem);
        return NULL;
    }
    size_t next = 0;
    for (size_t i = 0; i < list->count; i++)
        if (i % n == k) plan_item(o, list, same_folder, first_stem, i, &items[next++]);
    free(first_stem);
    *count = selected;
    return items;
}

static void describe_reason(const batch_item *item, const cli_file_list *list, const char *out_path,
                            char *buf, size_t cap) {
    switch (item->reason) {
    case REASON_PATH_TOO_LONG:
        snprintf(buf, cap, "path too long");
        break;
    case REASON_IS_INPUT:
        snprintf(buf, cap, "refusing to overwrite the input '%s'", out_path);
        break;
    case REASON_SAME_OUTPUT:
        snprintf(buf, cap, "'%s' is already the output of '%s'", out_path,
                 list->names[item->other]);
        break;
    case REASON_OUTPUT_EXISTS:
        snprintf(buf, cap, "skipped: '%s' exists (pass --overwrite)", out_path);
        break;
    case REASON_NONE:
        buf[0] = '\0';
        break;
    }
}

/* What became of an image, for its report. */
typedef enum job_outcome {
    OUTCOME_NOT_RUN,
    OUTCOME_UPSCALED,
    OUTCOME_KEPT,    /* --resume: its output was already finished */
    OUTCOME_SKIPPED, /* planned: the output exists */
    OUTCOME_REFUSED, /* planned: see the item's reason */
    OUTCOME_FAILED   /* the messages say why */
} job_outcome;

/* One image on its way through the pipeline (pipeline.h). Each stage touches only the job of
 * its own image; the messages wait for the report so that they come out in input order. */
typedef struct batch_job {
    qsr_image in, out;
    job_outcome outcome;
    cli_text messages;            /* printed before the image's progress line */
    uint32_t validation_messages; /* from a lost device's validation layer, printed after it */
    double work_ms;               /* decode + upscale + encode */
} batch_job;

/* A batch in progress. The session's device is opened when the first image needs it, and only
 * the upscaling thread opens, uses or closes it; the progress display and the counts belong to
 * the reports. */
typedef struct batch_run {
    const upscale_options *o;
    const cli_file_list *list;
    const batch_item *items;
    batch_job *jobs; /* one per item */
    cli_session session;
    cli_progress progress;
    batch_counts counts;
    int folder_ready;
    int validation_failed; /* a closed device's validation layer had reported something */
} batch_run;

static const char *job_name(const batch_run *b, size_t k) {
    return b->list->names[b->items[k].index];
}

/* Records a failed step of image k; qsr_last_error() is read on the failing thread. */
static void job_failed(batch_run *b, size_t k, const char *what) {
    b->jobs[k].outcome = OUTCOME_FAILED;
    cli_text_fail(&b->jobs[k].messages, "%s: %s", job_name(b, k), what);
}

/* Creates the output folder and opens the device on first use. Returns 0, or -1 to stop the
 * batch (the error is printed). */
static int prepare_to_write(batch_run *b, cli_pipeline *p, size_t k) {
    const upscale_options *o = b->o;
    const int backend_ready = b->session.up != NULL || b->session.use_reference;
    if (b->folder_ready && backend_ready) return 0;
    /* Errors are printed here, so after the earlier images' reports and this image's own
     * messages, where the serial loop printed them. */
    cli_pipeline_wait_reported(p, k);
    cli_progress_clear(&b->progress);
    cli_text_flush(&b->jobs[k].messages);
    if (!b->folder_ready) {
        if (cli_ensure_directory(o->output) != 0) return -1;
        b->folder_ready = 1;
    }
    if (!backend_ready) {
        if (open_backend(&b->session, o) != CLI_EXIT_OK) {
            cli_session_close_device(&b->session);
            return -1;
        }
    }
    return 0;
}

/* --resume: 1 if the existing output of image k is finished (it is then kept), 0 to redo it. */
static int resume_keeps(batch_run *b, size_t k, const char *out_path) {
    char why[CLI_PATH_MAX + 256];
    batch_job *job = &b->jobs[k];
    if (output_is_finished(b->session.info.scale, &job->in, out_path, why, sizeof why)) {
        job->outcome = OUTCOME_KEPT;
        return 1;
    }
    if (!b->o->quiet) cli_text_append(&job->messages, "quantsr: redoing '%s': %s\n", out_path, why);
    return 0;
}

/* Load stage: decodes image k (the planned skips and refusals need nothing) and under --resume
 * keeps a finished output. 1 if the image is to be upscaled. */
static int load_job(void *user, size_t k) {
    batch_run *b = (batch_run *)user;
    const batch_item *item = &b->items[k];
    batch_job *job = &b->jobs[k];
    char in_path[CLI_PATH_MAX], out_path[CLI_PATH_MAX];
    if (item->action == ACTION_SKIP || item->action == ACTION_REFUSE) {
        job->outcome = item->action == ACTION_SKIP ? OUTCOME_SKIPPED : OUTCOME_REFUSED;
        return 0;
    }
    double start = cli_now_ms();
    item_paths(b->o, b->list, item->index, in_path, out_path); /* planned: they fit */
    int go_on = 0;
    if (qsr_image_load_file(in_path, b->o->max_pixels, &job->in) != QSR_OK)
        job_failed(b, k, "cannot read");
    else
        go_on = item->action != ACTION_RESUME || !resume_keeps(b, k, out_path);
    if (!go_on) qsr_image_free(&job->in);
    job->work_ms += cli_now_ms() - start;
    return go_on;
}

/* Process stage: upscales image k. 1 to save it, 0 if it failed, -1 to stop the batch (no
 * device, or no output folder). */
static int process_job(cli_pipeline *p, void *user, size_t k) {
    batch_run *b = (batch_run *)user;
    batch_job *job = &b->jobs[k];
    if (prepare_to_write(b, p, k) != 0) {
        qsr_image_free(&job->in);
        return -1;
    }
    double start = cli_now_ms();
    const char *step = "cannot choose a depth for";
    qsr_status st = QSR_ERROR_UNSUPPORTED;
    uint32_t depth = 0;
    if (depth_for_image(&b->session, b->o, &job->in, &depth, &job->messages)) {
        step = "cannot upscale";
        st = cli_session_upscale(&b->session, &job->in, depth, b->o->ensemble, &job->out, NULL);
    }
    qsr_image_free(&job->in);
    job->work_ms += cli_now_ms() - start;
    if (st == QSR_OK) return 1;
    job_failed(b, k, step);
    /* The runtime already retried on a fresh device; the next image gets a new one too. */
    if (st == QSR_ERROR_DEVICE_LOST) {
        job->validation_messages = cli_session_validation_messages(&b->session);
        cli_session_close_device(&b->session);
    }
    return 0;
}

/* Save stage: writes image k (a temporary file renamed when complete). */
static void save_job(void *user, size_t k) {
    batch_run *b = (batch_run *)user;
    batch_job *job = &b->jobs[k];
    char in_path[CLI_PATH_MAX], out_path[CLI_PATH_MAX];
    double start = cli_now_ms();
    item_paths(b->o, b->list, b->items[k].index, in_path, out_path);
    if (save_output(out_path, &job->out) != QSR_OK)
        job_failed(b, k, "cannot write");
    else
        job->outcome = OUTCOME_UPSCALED;
    qsr_image_free(&job->out);
    job->work_ms += cli_now_ms() - start;
}

/* Report: counts image k and prints its messages and progress line (in input order). */
static void report_job(void *user, size_t k) {
    batch_run *b = (batch_run *)user;
    const batch_item *item = &b->items[k];
    batch_job *job = &b->jobs[k];
    const char *name = job_name(b, k);
    char in_path[CLI_PATH_MAX], out_path[CLI_PATH_MAX], note[CLI_PATH_MAX + 128];
    if (!item_paths(b->o, b->list, item->index, in_path, out_path)) out_path[0] = '\0';
    if (job->messages.length) {
        cli_progress_clear(&b->progress);
        cli_text_flush(&job->messages);
    }
    switch (job->outcome) {
    case OUTCOME_UPSCALED:
        b->counts.upscaled++;
        snprintf(note, sizeof note, "-> %s (%.0f ms)", out_path, job->work_ms);
        cli_progress_step(&b->progress, name, note, 0);
        break;
    case OUTCOME_KEPT:
        b->counts.skipped++;
        snprintf(note, sizeof note, "already finished: '%s' (--resume)", out_path);
        cli_progress_step(&b->progress, name, note, 1);
        break;
    case OUTCOME_SKIPPED:
        b->counts.skipped++;
        describe_reason(item, b->list, out_path, note, sizeof note);
        cli_progress_step(&b->progress, name, note, 1);
        break;
    case OUTCOME_REFUSED:
        describe_reason(item, b->list, out_path, note, sizeof note);
        cli_progress_clear(&b->progress);
        cli_error("%s: %s", name, note);
        /* fall through */
    case OUTCOME_FAILED:
    case OUTCOME_NOT_RUN: /* not reached: every finished image has an outcome */
        b->counts.failed++;
        cli_progress_step(&b->progress, name, "failed", 0);
        break;
    }
    if (job->validation_messages) {
        cli_progress_clear(&b->progress);
        cli_report_validation_messages(job->validation_messages);
        b->validation_failed = 1;
    }
    cli_text_free(&job->messages);
}

/* What the images that were not run (after a stop) still hold. */
static void free_jobs(batch_job *jobs, size_t count) {
    for (size_t k = 0; k < count; k++) {
        qsr_image_free(&jobs[k].in);
        qsr_image_free(&jobs[k].out);
        cli_text_free(&jobs[k].messages);
    }
    free(jobs);
}

static void print_summary(const upscale_options *o, const batch_counts *c, size_t planned,
                          size_t listed, double ms, int signal_number) {
    if (o->quiet && c->failed == 0 && signal_number == 0) return;
    size_t not_run = planned - c->upscaled - c->skipped - c->failed;
    char shard[48] = "";
    if (o->shard)
        snprintf(shard, sizeof shard, ", shard %u/%u", o->shard_index + 1, o->shard_count);
    if (signal_number)
        fprintf(stderr, "quantsr: interrupted by %s; no file is left half-written\n",
                cli_interrupt_name(signal_number));
    fprintf(stderr, "quantsr: %zu upscaled, %zu skipped, %zu failed", c->upscaled, c->skipped,
            c->failed);
    if (not_run) fprintf(stderr, ", %zu not run", not_run);
    fprintf(stderr, " (%zu of %zu images%s) in %.1f s\n", planned, listed, shard, ms / 1000.0);
    if (signal_number && not_run)
        fprintf(stderr, "quantsr: run the same command with --resume to finish the rest\n");
}

static int run_batch(const upscale_options *o, const cli_file_list *list) {
    size_t count = 0;
    batch_item *items = plan_batch(o, list, &count);
    batch_job *jobs = items ? calloc(count ? count : 1, sizeof *jobs) : NULL;
    if (jobs == NULL) {
        free(items);
        cli_error("out of memory planning %zu images", list->count);
        return CLI_EXIT_FAILURE;
    }
    batch_run b;
    memset(&b, 0, sizeof b);
    b.o = o;
    b.list = list;
    b.items = items;
    b.jobs = jobs;
    int code = cli_session_load_model(&b.session, &o->model);
    if (code != CLI_EXIT_OK) {
        free_jobs(jobs, count);
        free(items);
        return code;
    }
    /* Temporaries of a run that was killed while saving are litter, never outputs. */
    size_t removed = cli_is_directory(o->output) ? cli_remove_stale_temporaries(o->output) : 0;
    if (removed && !o->quiet)
        fprintf(stderr, "quantsr: removed %zu stale temporary file%s from '%s'\n", removed,
                removed == 1 ? "" : "s", o->output);
    double start = cli_now_ms();
    cli_progress_begin(&b.progress, count, o->quiet);
    const cli_pipeline_stages stages = {&b, load_job, process_job, save_job, report_job};
    int pipeline_failed = cli_pipeline_run(&o->jobs, count, &stages, NULL) != 0;
    cli_progress_end(&b.progress);
    int signal_number = cli_interrupt_signal();
    print_summary(o, &b.counts, count, list->count, cli_now_ms() - start, signal_number);
    code = b.counts.failed || b.counts.upscaled + b.counts.skipped < count || pipeline_failed
               ? CLI_EXIT_FAILURE
               : CLI_EXIT_OK;
    if (cli_session_check_validation(&b.session) != CLI_EXIT_OK || b.validation_failed)
        code = CLI_EXIT_FAILURE;
    if (signal_number) code = cli_interrupt_exit_code(signal_number);
    cli_session_close(&b.session);
    free_jobs(jobs, count);
    free(items);
    return code;
}

static int upscale_folder(const upscale_options *o) {
    if (cli_path_exists(o->output) && !cli_is_directory(o->output)) {
        cli_error("output '%s' is not a folder (the input '%s' is one)", o->output, o->input);
        return CLI_EXIT_FAILURE;
    }
    /* `-i photos -o out.png` is almost surely a mistake, not a folder named out.png. */
    if (!cli_path_exists(o->output) && cli_is_image_extension(cli_extension(o->output))) {
        cli_error("the input '%s' is a folder but the output '%s' looks like an image file",
                  o->input, o->output);
        return CLI_EXIT_FAILURE;
    }
    cli_file_list list;
    if (cli_list_images(o->input, &list) != 0) return CLI_EXIT_FAILURE;
    int code;
    if (list.count == 0) {
        cli_error("no images (.png, .jpg, .jpeg, .bmp, .tga) in '%s'", o->input);
        code = CLI_EXIT_FAILURE;
    } else {
        code = run_batch(o, &list);
    }
    cli_file_list_free(&list);
    return code;
}

int cmd_upscale(int argc, char **argv) {
    upscale_options o;
    memset(&o, 0, sizeof o);
    const cli_option options[] = {
        {'i', "input", CLI_ARG_STRING, &o.input, "IN", "input image or folder"},
        {'o', "output", CLI_ARG_STRING, &o.output, "OUT", "output image or folder"},
        {'m', "model", CLI_ARG_STRING, &o.model.path, "MODEL", "model file (.qsr)"},
        {'n', "model-name", CLI_ARG_STRING, &o.model.name, "NAME",
         "model file name under models/ (.qsr optional)"},
        {'s', "scale", CLI_ARG_U32, &o.model.scale, "S",
         "expected scale: fail if the model's differs"},
        {0, "depth", CLI_ARG_U32, &o.model.depth, "D",
         "blocks to run, one of the model's depth levels (0 = all)"},
        {0, "depth-any", CLI_ARG_FLAG, &o.model.depth_any, NULL,
         "accept any --depth from 1 to the block count"},
        {0, "budget-ms", CLI_ARG_U32, &o.budget_ms, "T",
         "per image, the deepest level predicted to take at most T ms of device time"},
        {'t', "tile", CLI_ARG_U32, &o.tile, "N", "tile edge in input pixels (0 = automatic)"},
        {'g', "device", CLI_ARG_U32, &o.device, "N",
         "Vulkan device as `quantsr devices` numbers it (0 = automatic)"},
        {'f', "format", CLI_ARG_STRING, &o.format, "FMT",
         "output format for folders: png (default), jpg, bmp, tga"},
        {'x', "tta", CLI_ARG_FLAG, &o.ensemble, NULL,
         "self-ensemble: average the 8 flips/rotations (8x slower)"},
        {'j', "jobs", CLI_ARG_STRING, &o.jobs_text, "L:P:S",
         "folders: threads that decode : upscale : encode (default " CLI_PIPELINE_DEFAULT_JOBS
         "; P is 1; 0 = on the upscaling thread, 0:1:0 = one image at a time)"},
        {0, "shard", CLI_ARG_STRING, &o.shard, "K/N",
         "process only the images whose sorted index i has i % N == K - 1"},
        {0, "overwrite", CLI_ARG_FLAG, &o.overwrite, NULL, "replace existing outputs"},
        {0, "resume", CLI_ARG_FLAG, &o.resume, NULL,
         "keep outputs that decode at the expected size, redo the others"},
        {0, "max-pixels", CLI_ARG_U64, &o.max_pixels, "N",
         "reject larger inputs before decoding them (0 = 16384 x 16384)"},
        {0, "max-memory", CLI_ARG_U64, &o.max_memory_mib, "MIB",
         "device memory for activations; tiles shrink to fit (0 = 1/4 of the heap, <= 1 GiB)"},
        {0, "fp32", CLI_ARG_FLAG, &o.fp32, NULL,
         "run every convolution in fp32 (dequantized weights)"},
        {0, "fp-math", CLI_ARG_STRING, &o.fp_math_text, "MODE",
         "fast (default): FP convolutions after the quantized body may fuse into FMAs; "
         "reference: round them in the CPU reference's order (equal to --cpu on IEEE devices)"},
        {0, "cpu", CLI_ARG_FLAG, &o.cpu, NULL, "run the CPU reference instead of Vulkan (slow)"},
        {'q', "quiet", CLI_ARG_FLAG, &o.quiet, NULL, "print only errors"},
    };
    const cli_command_spec spec = {
        "upscale", "-i IN -o OUT [options]",           upscale_description,
        options,   sizeof options / sizeof options[0], upscale_epilog,
    };
    cli_parse_result r = cli_parse_args(&spec, argc, argv);
    if (r != CLI_PARSE_OK) return r == CLI_PARSE_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    int code = validate_options(&o, &spec);
    if (code != CLI_EXIT_OK) return code;
    if (cli_parse_only) return CLI_EXIT_OK;
    if (!cli_path_exists(o.input)) {
        cli_error("input '%s' does not exist", o.input);
        return CLI_EXIT_FAILURE;
    }
    cli_interrupt_install();
    return cli_is_directory(o.input) ? upscale_folder(&o) : upscale_single(&o);
}
