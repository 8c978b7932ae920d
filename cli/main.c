/* main.c - the `quantsr` command line tool (the commands are dispatched by commands.c). */
#include "cli.h"

int main(int argc, char **argv) {
    /* Test hook: the fuzz regression replay checks command lines without running them. */
    cli_parse_only = cli_env_flag("QSR_CLI_PARSE_ONLY");
    return cli_main(argc, argv);
}
