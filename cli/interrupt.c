/* interrupt.c - stop signals during `quantsr upscale` (see interrupt.h). */
#define _POSIX_C_SOURCE 200809L

#include "interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t first_signal;    /* 0 until a stop signal arrives */
static volatile sig_atomic_t saving;          /* a file write is in progress */
static volatile sig_atomic_t deferred_signal; /* a second signal that came during a save */

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Only async-signal-safe calls here: write, signal, raise. */
static void on_stop_signal(int sig) {
    if (first_signal == 0) {
        static const char note[] = "\nquantsr: stopping after the current image (press Ctrl-C "
                                   "again to stop at once)\n";
        first_signal = sig;
        ssize_t ignored = write(STDERR_FILENO, note, sizeof note - 1);
        (void)ignored;
        return;
    }
    if (saving) {
        deferred_signal = sig;
        return;
    }
    /* Die by the signal itself, as a shell expects of a program stopped by Ctrl-C. It is
     * blocked while this handler runs and is delivered when the handler returns. */
    signal(sig, SIG_DFL);
    raise(sig);
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
    return first_signal;
}

void cli_interrupt_begin_save(void) {
    saving = 1;
}

void cli_interrupt_end_save(void) {
    saving = 0;
    int sig = deferred_signal;
    if (sig != 0) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
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
