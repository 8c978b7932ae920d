/* progress.c - batch progress on stderr (see progress.h). */
#include "progress.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define BAR_WIDTH 28

void cli_progress_begin(cli_progress *p, size_t total, int quiet) {
    memset(p, 0, sizeof *p);
    p->total = total;
    p->quiet = quiet;
    p->terminal = cli_stderr_is_terminal();
    p->start_ms = cli_now_ms();
}

void cli_progress_clear(cli_progress *p) {
    if (!p->bar_shown) return;
    fputs("\r\033[K", stderr);
    p->bar_shown = 0;
}

static void format_duration(double ms, char *buf, size_t cap) {
    unsigned long s = ms > 0 ? (unsigned long)(ms / 1000.0 + 0.5) : 0;
    snprintf(buf, cap, "%lu:%02lu", s / 60, s % 60);
}

static void draw_bar(cli_progress *p, const char *name) {
    size_t filled = p->total ? p->done * BAR_WIDTH / p->total : BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    double elapsed = cli_now_ms() - p->start_ms;
    double eta = p->done ? elapsed * (double)(p->total - p->done) / (double)p->done : 0.0;
    char elapsed_text[32], eta_text[32];
    format_duration(elapsed, elapsed_text, sizeof elapsed_text);
    format_duration(eta, eta_text, sizeof eta_text);
    /* Long names are cut so the bar stays on one line of a narrow terminal. */
    fprintf(stderr, "\r\033[K[%s] %zu/%zu %s eta %s  %.30s", bar, p->done, p->total, elapsed_text,
            eta_text, name);
    fflush(stderr);
    p->bar_shown = 1;
}

void cli_progress_step(cli_progress *p, const char *name, const char *note, int keep) {
    p->done++;
    if (p->quiet) return;
    if (p->terminal && keep) {
        cli_progress_clear(p);
        fprintf(stderr, "%s %s\n", name, note);
    }
    if (p->terminal)
        draw_bar(p, name);
    else
        fprintf(stderr, "[%zu/%zu] %s %s\n", p->done, p->total, name, note);
}

void cli_progress_end(cli_progress *p) {
    cli_progress_clear(p);
}
