/* json.h - a small streaming JSON writer for the --json outputs: values are written in order,
 * commas and indentation follow from the nesting. */
#ifndef QSR_CLI_JSON_H
#define QSR_CLI_JSON_H

#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_MAX_DEPTH 16

typedef struct cli_json {
    FILE *out;
    int depth;
    int count[CLI_JSON_MAX_DEPTH];    /* values written at each level */
    int is_array[CLI_JSON_MAX_DEPTH]; /* arrays take values without keys */
    int inline_[CLI_JSON_MAX_DEPTH];  /* arrays of numbers on one line */
} cli_json;

/* Starts the top-level object. */
void cli_json_begin(cli_json *j, FILE *out);
/* Closes everything still open and ends the line. */
void cli_json_end(cli_json *j);

/* `key` names the value inside an object and must be NULL inside an array. */
void cli_json_object(cli_json *j, const char *key);
void cli_json_array(cli_json *j, const char *key, int one_line);
void cli_json_close(cli_json *j);
/* Strings are escaped; bytes that are not valid UTF-8 become U+FFFD so the output always
 * parses. */
void cli_json_string(cli_json *j, const char *key, const char *value);
void cli_json_uint(cli_json *j, const char *key, uint64_t value);
/* Non-finite numbers (an infinite PSNR of identical images) are written as null. */
void cli_json_number(cli_json *j, const char *key, double value);
void cli_json_bool(cli_json *j, const char *key, int value);

#endif
