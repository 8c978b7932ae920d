/* main.c - the `quantsr` command line tool (the commands are dispatched by commands.c). */
#include "cli.h"

int main(int argc, char **argv) {
    /* lavapipe at 512-bit vectors where the CPU has them (the tool owns its process; an error
     * here is only out of memory, which the commands will meet again and report). */
    (void)qsr_prefer_wide_cpu_vectors(NULL);
    /* Test hook: the fuzz regression replay checks command lines without running them. */
    cli_parse_only = cli_env_flag("QSR_CLI_PARSE_ONLY");
    return cli_main(argc, argv);
}
