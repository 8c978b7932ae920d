/* fuzz_args.c - libFuzzer target: the command line of `quantsr` (every command's option
 * parsing and checks, cli/args.c and cli/cmd_*.c) in parse-only mode, so nothing runs. One
 * argument per line of the input (tests/support/fuzz_entries.h). A command line is either
 * accepted (exit 0, also --help) or a usage error (exit 2); anything else is a crash. */
#include "cli.h"
#include "fuzz_entries.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    cli_parse_only = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    char *args[QSR_FUZZ_MAX_ARGS + 2];
    if (text == NULL) return 0;
    int argc = qsr_fuzz_split_args(data, size, text, args, QSR_FUZZ_MAX_ARGS);
    int code = cli_main(argc, args);
    if (code != CLI_EXIT_OK && code != CLI_EXIT_USAGE) {
        fprintf(stderr, "fuzz_args: parse-only exit code %d\n", code);
        abort();
    }
    free(text);
    return 0;
}
