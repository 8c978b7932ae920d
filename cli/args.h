/* args.h - a small table-driven option parser shared by the commands.
 *
 * Accepted forms: `-x`, `-t VALUE`, `--tile VALUE`, `--tile=VALUE`. There are no positional
 * arguments; `-h`/`--help` prints the command's help on stdout. Every other token is an error
 * that prints the usage on stderr (exit code 2). A repeated option keeps its last value. */
#ifndef QSR_CLI_ARGS_H
#define QSR_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_arg_kind {
    CLI_ARG_FLAG,   /* int *: set to 1 */
    CLI_ARG_STRING, /* const char **: points into argv */
    CLI_ARG_U32,    /* uint32_t *: a decimal number */
    CLI_ARG_U64     /* uint64_t *: a decimal number */
} cli_arg_kind;

typedef struct cli_option {
    char short_name;       /* 0 = none */
    const char *long_name; /* without the dashes; NULL = none */
    cli_arg_kind kind;
    void *value;
    const char *metavar; /* name of the value in the help ("N"); NULL for flags */
    const char *help;
} cli_option;

typedef struct cli_command_spec {
    const char *name;        /* "upscale" */
    const char *usage;       /* what follows "quantsr upscale " in the usage line */
    const char *description; /* a paragraph printed by --help */
    const cli_option *options;
    size_t option_count;
    const char *epilog; /* printed after the options by --help; may be NULL */
} cli_command_spec;

typedef enum cli_parse_result {
    CLI_PARSE_OK,
    CLI_PARSE_HELP, /* help was printed: exit 0 */
    CLI_PARSE_ERROR /* usage was printed on stderr: exit 2 */
} cli_parse_result;

/* argv[0] is the command name and is skipped. */
cli_parse_result cli_parse_args(const cli_command_spec *spec, int argc, char **argv);
void cli_print_help(const cli_command_spec *spec, FILE *out);
/* Prints "quantsr <cmd>: <message>" and the usage line on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_command_spec *spec, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Parses a whole decimal uint32 ("12"); 0 on junk, sign or overflow. */
int cli_parse_u32(const char *text, uint32_t *out);
/* The same for uint64. */
int cli_parse_u64(const char *text, uint64_t *out);

#endif
