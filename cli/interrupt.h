/* interrupt.h - Ctrl-C (SIGINT), SIGTERM and SIGHUP during `quantsr upscale`.
 *
 * The first signal asks the command to stop: the image in flight is finished and saved (its
 * work is not lost, and --resume skips it), no new image starts, the summary counts the rest
 * as not run and the exit code is 128 + the signal (130 after Ctrl-C); pipeline.h says what
 * "in flight" means when stages overlap. A second signal while an image is being computed
 * stops the process at once; nothing of that image is on disk yet. A second signal during a
 * save waits for the saves in progress (milliseconds; a batch may save on several threads), so
 * no temporary or partial file is ever left behind. Signals that were ignored when the process
 * started (nohup, a background job of a script) stay ignored. */
#ifndef QSR_CLI_INTERRUPT_H
#define QSR_CLI_INTERRUPT_H

/* Installs the handlers. */
void cli_interrupt_install(void);
/* The first stop signal received, or 0. */
int cli_interrupt_signal(void);
/* Brackets a file write: a second signal inside it is deferred until the last write in
 * progress (on any thread) ends. After a second signal, begin_save does not return: the
 * process stops without starting the file. */
void cli_interrupt_begin_save(void);
void cli_interrupt_end_save(void);
/* The exit code after the signal: 128 + its number. */
int cli_interrupt_exit_code(int signal_number);
/* "SIGINT", "SIGTERM", "SIGHUP" or "a signal". */
const char *cli_interrupt_name(int signal_number);

#endif
