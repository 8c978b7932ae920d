/* results.c - a small reader of models/results.csv: a header line naming the columns, then
 * one comma-separated row per model and depth (no quoting; tools/results_csv.py writes it). */
#include "results.h"

#include "files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_CAP    512
#define MAX_COLUMNS 32

/* Splits `line` in place at commas (and the line end); returns the number of fields. */
static int split_fields(char *line, char **fields) {
    int n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < MAX_COLUMNS) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static int column_of(char **names, int count, const char *name) {
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

/* The results.csv in the folder of `model_path`. */
static void results_path(const char *model_path, char *out, size_t cap) {
    const char *base = viewer_basename(model_path);
    int dir_len = (int)(base - model_path);
    snprintf(out, cap, "%.*sresults.csv", dir_len, model_path);
}

static double number_or_nan(const char *text) {
    char *end = NULL;
    double v = strtod(text, &end);
    return (end && end != text && *end == '\0') ? v : NAN;
}

int viewer_published_lookup(const char *model_path, uint32_t depth, viewer_published *out) {
    char path[VIEWER_PATH_MAX + 16], header[LINE_CAP], line[LINE_CAP];
    char *names[MAX_COLUMNS], *fields[MAX_COLUMNS];
    results_path(model_path, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int found = -1;
    if (fgets(header, sizeof header, f)) {
        int columns = split_fields(header, names);
        int c_model = column_of(names, columns, "model");
        int c_depth = column_of(names, columns, "depth");
        int c_set5 = column_of(names, columns, "set5_psnr");
        int c_set14 = column_of(names, columns, "set14_psnr");
        const char *file = viewer_basename(model_path);
        while (found != 0 && c_model >= 0 && c_depth >= 0 && c_set5 >= 0 && c_set14 >= 0 &&
               fgets(line, sizeof line, f)) {
            if (split_fields(line, fields) != columns) continue;
            if (strcmp(fields[c_model], file) != 0 ||
                number_or_nan(fields[c_depth]) != (double)depth)
                continue;
            out->set5_psnr = number_or_nan(fields[c_set5]);
            out->set14_psnr = number_or_nan(fields[c_set14]);
            found = 0;
        }
    }
    fclose(f);
    return found;
}
