/* json.c - the streaming JSON writer (see json.h). */
#include "json.h"

#include <math.h>
#include <string.h>

static void indent(cli_json *j) {
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_sequence_length(const unsigned char *s) {
    size_t n;
    uint32_t min;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0)
        n = 2, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4, min = 0x10000;
    else
        return 0;
    uint32_t cp = s[0] & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static void write_escaped(FILE *out, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    fputc('"', out);
    while (*s) {
        size_t n = utf8_sequence_length(s);
        if (n == 0) {
            fputs("\\ufffd", out);
            s++;
        } else if (*s == '"' || *s == '\\') {
            fprintf(out, "\\%c", *s++);
        } else if (*s < 0x20) {
            fprintf(out, "\\u%04x", *s++);
        } else {
            fwrite(s, 1, n, out);
            s += n;
        }
    }
    fputc('"', out);
}

/* The comma, line break and key before a value. */
static void begin_value(cli_json *j, const char *key) {
    int level = j->depth;
    int one_line = level > 0 && j->is_array[level - 1] && j->inline_[level - 1];
    if (level > 0 && j->count[level - 1]++ > 0) fputc(',', j->out);
    if (one_line) {
        if (j->count[level - 1] > 1) fputc(' ', j->out);
    } else if (level > 0) {
        indent(j);
    }
    if (key && !(level > 0 && j->is_array[level - 1])) {
        write_escaped(j->out, key);
        fputs(": ", j->out);
    }
}

static void open_container(cli_json *j, const char *key, int array, int one_line) {
    begin_value(j, key);
    fputc(array ? '[' : '{', j->out);
    if (j->depth < CLI_JSON_MAX_DEPTH) {
        j->count[j->depth] = 0;
        j->is_array[j->depth] = array;
        j->inline_[j->depth] = one_line;
        j->depth++;
    }
}

void cli_json_begin(cli_json *j, FILE *out) {
    memset(j, 0, sizeof *j);
    j->out = out;
    open_container(j, NULL, 0, 0);
}

void cli_json_object(cli_json *j, const char *key) {
    open_container(j, key, 0, 0);
}

void cli_json_array(cli_json *j, const char *key, int one_line) {
    open_container(j, key, 1, one_line);
}

void cli_json_close(cli_json *j) {
    if (j->depth == 0) return;
    j->depth--;
    int had_values = j->count[j->depth] > 0;
    int array = j->is_array[j->depth];
    if (had_values && !(array && j->inline_[j->depth])) indent(j);
    fputc(array ? ']' : '}', j->out);
}

void cli_json_end(cli_json *j) {
    while (j->depth > 0)
        cli_json_close(j);
    fputc('\n', j->out);
    fflush(j->out);
}

void cli_json_string(cli_json *j, const char *key, const char *value) {
    begin_value(j, key);
    write_escaped(j->out, value);
}

void cli_json_uint(cli_json *j, const char *key, uint64_t value) {
    begin_value(j, key);
    fprintf(j->out, "%llu", (unsigned long long)value);
}

void cli_json_number(cli_json *j, const char *key, double value) {
    begin_value(j, key);
    if (isfinite(value))
        fprintf(j->out, "%.10g", value);
    else
        fputs("null", j->out);
}

void cli_json_bool(cli_json *j, const char *key, int value) {
    begin_value(j, key);
    fputs(value ? "true" : "false", j->out);
}
