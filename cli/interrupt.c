/* interrupt.c - stop signals during `quantsr upscale` (see interrupt.h). */
#define _POSIX_C_SOURCE 200809L

#include "interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* Atomics, not volatile flags: the handler may run on any thread, and a batch saves on several
 * (cli/pipeline.h). They are lock-free, so the handler may touch them. */
static atomic_int first_signal;      /* 0 until a stop signal arrives */
static atomic_int saves_in_progress; /* file writes between begin_save and end_save */
static atomic_int deferred_signal;   /* a second signal that came during a save */

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Dies by the signal itself, as a shell expects of a program stopped by Ctrl-C. Called from the
 * handler, the signal is blocked while it runs and is delivered when the handler returns. */
static void stop_now(int sig) {
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Only async-signal-safe calls here: write, signal, raise, lock-free atomics. */
static void on_stop_signal(int sig) {
    int none = 0;
    if (atomic_compare_exchange_strong(&first_signal, &none, sig)) {
        static const char note[] = "\nquantsr: stopping after the current image (press Ctrl-C "
                                   "again to stop at once)\n";
        ssize_t ignored = write(STDERR_FILENO, note, sizeof note - 1);
        (void)ignored;
        return;
    }
    /* The store comes before the count is read, and end_save does the opposite: whichever
     * runs second sees the other's write, so the last save to end (or this handler, if none is
     * running) stops the process. */
    atomic_store(&deferred_signal, sig);
    if (atomic_load(&saves_in_progress) == 0) stop_now(sig);
}

void cli_interrupt_install(void) {
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) {
        struct sigaction old;
        if (sigaction(stop_signals[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_stop_signal;
        sigemptyset(&action.sa_mask);
        /* Restart interrupted reads and writes: the image in flight is finished, not failed. */
        action.sa_flags = SA_RESTART;
        sigaction(stop_signals[i], &action, NULL);
    }
}

int cli_interrupt_signal(void) {
    return atomic_load(&first_signal);
}

void cli_interrupt_begin_save(void) {
    atomic_fetch_add(&saves_in_progress, 1);
    if (atomic_load(&deferred_signal) == 0) return;
    /* The process is stopping: start no file. The last save in flight stops it (this one, if
     * there is no other); until then this thread waits. */
    cli_interrupt_end_save();
    for (;;)
        pause();
}

void cli_interrupt_end_save(void) {
    if (atomic_fetch_sub(&saves_in_progress, 1) != 1) return;
    int sig = atomic_load(&deferred_signal);
    if (sig != 0) stop_now(sig);
}

int cli_interrupt_exit_code(int signal_number) {
    return 128 + signal_number;
}

const char *cli_interrupt_name(int signal_number) {
    switch (signal_number) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "a signal";
    }
}
