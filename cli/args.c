/* args.c - the option parser of the command line tool (see args.h). */
#include "args.h"
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_u64(const char *text, uint64_t *out) {
    /* strtoull accepts leading blanks and a '-' (which wraps around): only digits are wanted. */
    if (text == NULL || !isdigit((unsigned char)text[0])) return 0;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') return 0;
    *out = (uint64_t)v;
    return 1;
}

int cli_parse_u32(const char *text, uint32_t *out) {
    uint64_t v = 0;
    if (!cli_parse_u64(text, &v) || v > UINT32_MAX) return 0;
    *out = (uint32_t)v;
    return 1;
}

static void print_usage_line(const cli_command_spec *spec, FILE *out) {
    fprintf(out, "usage: quantsr %s %s\n", spec->name, spec->usage);
}

int cli_usage_error(const cli_command_spec *spec, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "quantsr %s: ", spec->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_usage_line(spec, stderr);
    fprintf(stderr, "run 'quantsr %s --help' for the options\n", spec->name);
    return CLI_EXIT_USAGE;
}

/* "-t, --tile N" as the help's left column. */
static void format_option_names(const cli_option *opt, char *buf, size_t cap) {
    char shortpart[8] = "    ";
    if (opt->short_name)
        snprintf(shortpart, sizeof shortpart, "-%c%s", opt->short_name,
                 opt->long_name ? ", " : "  ");
    const char *metavar = opt->metavar ? opt->metavar : "";
    const char *sep = opt->metavar ? " " : "";
    if (opt->long_name)
        snprintf(buf, cap, "%s--%s%s%s", shortpart, opt->long_name, sep, metavar);
    else
        snprintf(buf, cap, "-%c%s%s", opt->short_name, sep, metavar);
}

void cli_print_help(const cli_command_spec *spec, FILE *out) {
    print_usage_line(spec, out);
    fprintf(out, "\n%s\n\noptions:\n", spec->description);
    for (size_t i = 0; i < spec->option_count; i++) {
        char names[96];
        format_option_names(&spec->options[i], names, sizeof names);
        if (strlen(names) <= 22)
            fprintf(out, "  %-22s  %s\n", names, spec->options[i].help);
        else
            fprintf(out, "  %s\n  %-22s  %s\n", names, "", spec->options[i].help);
    }
    fprintf(out, "  %-22s  %s\n", "-h, --help", "show this help");
    if (spec->epilog) fprintf(out, "\n%s\n", spec->epilog);
}

static const cli_option *find_long(const cli_command_spec *spec, const char *name, size_t len) {
    for (size_t i = 0; i < spec->option_count; i++) {
        const char *long_name = spec->options[i].long_name;
        if (long_name && strlen(long_name) == len && strncmp(long_name, name, len) == 0)
            return &spec->options[i];
    }
    return NULL;
}

static const cli_option *find_short(const cli_command_spec *spec, char name) {
    for (size_t i = 0; i < spec->option_count; i++)
        if (spec->options[i].short_name == name) return &spec->options[i];
    return NULL;
}

static int is_known_option(const cli_command_spec *spec, const char *arg) {
    if (arg[0] != '-') return 0;
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return 1;
    if (arg[1] == '-') {
        const char *eq = strchr(arg + 2, '=');
        return find_long(spec, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)) != NULL;
    }
    return arg[1] != '\0' && arg[2] == '\0' && find_short(spec, arg[1]) != NULL;
}

/* Stores `value` (NULL for a flag) into the option's target. `shown` is the option as the
 * user wrote it, for messages. */
static cli_parse_result store_value(const cli_command_spec *spec, const cli_option *opt,
                                    const char *shown, const char *value) {
    switch (opt->kind) {
    case CLI_ARG_FLAG:
        *(int *)opt->value = 1;
        return CLI_PARSE_OK;
    case CLI_ARG_STRING:
        if (value[0] == '\0') {
            cli_usage_error(spec, "option %s needs a non-empty value", shown);
            return CLI_PARSE_ERROR;
        }
        *(const char **)opt->value = value;
        return CLI_PARSE_OK;
    case CLI_ARG_U32:
        if (!cli_parse_u32(value, (uint32_t *)opt->value)) {
            cli_usage_error(spec, "option %s needs a whole number from 0 to %u, not '%s'", shown,
                            UINT32_MAX, value);
            return CLI_PARSE_ERROR;
        }
        return CLI_PARSE_OK;
    case CLI_ARG_U64:
        if (!cli_parse_u64(value, (uint64_t *)opt->value)) {
            cli_usage_error(spec, "option %s needs a whole number from 0 to %llu, not '%s'", shown,
                            (unsigned long long)UINT64_MAX, value);
            return CLI_PARSE_ERROR;
        }
        return CLI_PARSE_OK;
    }
    return CLI_PARSE_ERROR;
}

/* Parses argv[*index] (and its value, advancing *index past it). */
static cli_parse_result parse_one(const cli_command_spec *spec, int argc, char **argv, int *index) {
    const char *arg = argv[*index];
    const cli_option *opt = NULL;
    const char *inline_value = NULL;
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        cli_print_help(spec, stdout);
        return CLI_PARSE_HELP;
    }
    if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        opt = find_long(spec, name, len);
        if (eq) inline_value = eq + 1;
    } else if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
        opt = find_short(spec, arg[1]);
    } else {
        cli_usage_error(spec, "unexpected argument '%s'", arg);
        return CLI_PARSE_ERROR;
    }
    if (opt == NULL) {
        cli_usage_error(spec, "unknown option '%s'", arg);
        return CLI_PARSE_ERROR;
    }
    char shown[64];
    snprintf(shown, sizeof shown, "%s%s", inline_value ? "--" : "",
             inline_value ? opt->long_name : arg);
    if (opt->kind == CLI_ARG_FLAG) {
        if (inline_value) {
            cli_usage_error(spec, "option %s takes no value", shown);
            return CLI_PARSE_ERROR;
        }
        return store_value(spec, opt, shown, NULL);
    }
    if (inline_value) return store_value(spec, opt, shown, inline_value);
    /* `-i -o out.png` is a forgotten value, not an input named "-o". */
    if (*index + 1 >= argc || is_known_option(spec, argv[*index + 1])) {
        cli_usage_error(spec, "option %s needs a value (%s)", shown, opt->metavar);
        return CLI_PARSE_ERROR;
    }
    *index += 1;
    return store_value(spec, opt, shown, argv[*index]);
}

cli_parse_result cli_parse_args(const cli_command_spec *spec, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        cli_parse_result r = parse_one(spec, argc, argv, &i);
        if (r != CLI_PARSE_OK) return r;
    }
    return CLI_PARSE_OK;
}
