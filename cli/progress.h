/* progress.h - batch progress on stderr: a bar redrawn in place on a terminal, one line per
 * image otherwise (logs, CI). */
#ifndef QSR_CLI_PROGRESS_H
#define QSR_CLI_PROGRESS_H

#include <stddef.h>

typedef struct cli_progress {
    size_t total;
    size_t done;
    int terminal;  /* draw a bar instead of lines */
    int quiet;     /* draw nothing */
    int bar_shown; /* a bar is on the current line */
    double start_ms;
} cli_progress;

void cli_progress_begin(cli_progress *p, size_t total, int quiet);
/* Erases the bar so a message can be printed on a clean line; the next step redraws it. */
void cli_progress_clear(cli_progress *p);
/* One item finished: `name` is the input, `note` what happened ("-> out/a.png, 12 ms").
 * Without a terminal every step is a line; on a terminal only `keep` steps (skips) leave a
 * line above the bar. */
void cli_progress_step(cli_progress *p, const char *name, const char *note, int keep);
/* Removes the bar (the summary follows on a clean line). */
void cli_progress_end(cli_progress *p);

#endif
